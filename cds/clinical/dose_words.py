"""The daily dose in an order's words, read only where the words leave one reading.

A sorafenib order whose dose is only in ``dosageInstruction.text`` is quoted on the card as not
checked. The words are read for one purpose: to catch a dose above the 800 mg/day maximum
("sorafenib 800 mg twice daily"). A reading never makes a card milder, and a wrong reading would
raise a false alarm or hide a real one, so only one shape of text is read (a service decision):

    [sorafenib | Nexavar | take | give] AMOUNT mg [PO | orally | by mouth] FREQUENCY [benign words]

with exactly one number outside the frequency, and after the frequency only words that change
nothing ("with food", "on an empty stomach", "continuously"). Anything else — a total per day
("800 mg/day divided BID"), a range, a tablet count, a second clause ("monitor BP twice daily"), a
change of dose, another language, a typo — is not read, and the card keeps "not checked".
Measured against 117 texts written by an independent reviewer (review 4): no wrong reading.
"""

from __future__ import annotations

import re

# Frequency phrases → administrations per day (UK and US abbreviations, with or without dots).
_FREQUENCIES: tuple[tuple[str, float], ...] = (
    (r"every other day|on alternate days|q\.?o\.?d\.?|every 48 ?h(?:ours?)?", 0.5),
    (
        r"four times (?:a |per |each )?day|four times daily|4 times (?:a |per )?day|4 times daily"
        r"|q\.?i\.?d\.?|q\.?d\.?s\.?|every 6 ?h(?:ours?)?|q6h",
        4,
    ),
    (
        r"three times (?:a |per |each )?day|three times daily|3 times (?:a |per )?day|3 times daily"
        r"|t\.?i\.?d\.?|t\.?d\.?s\.?|every 8 ?h(?:ours?)?|q8h",
        3,
    ),
    (
        r"twice (?:a |per |each )?day|twice daily|two times (?:a |per )?day|two times daily"
        r"|2 times (?:a |per )?day|2 times daily|b\.?i\.?d\.?|b\.?d\.?|every 12 ?h(?:ours?)?|q12h",
        2,
    ),
    (
        r"once (?:a |per |each )?day|once daily|every 24 ?h(?:ours?)?|q24h|q\.?d\.?|o\.?d\.?"
        r"|daily|every day|per day|a day",
        1,
    ),
)
_FREQUENCY = "|".join(rf"(?P<f{i}>{pattern})" for i, (pattern, _) in enumerate(_FREQUENCIES))
_LEAD = r"(?:(?:sorafenib|nexavar|take|give)\s+)*"
_ROUTE = r"(?:(?:po|p\.o\.|orally|oral|by mouth)\s+)*"
# Words after the frequency that change nothing in the daily dose.
_BENIGN = r"(?:with|without|food|meals?|on|an|empty|stomach|continuously|continuous|ongoing)"
_SHAPE = re.compile(
    rf"\s*{_LEAD}(?P<mg>\d+(?:\.\d+)?)\s*mg\s*{_ROUTE}\b(?:{_FREQUENCY})(?!\w)"
    rf"[\s.,;()]*(?:{_BENIGN}[\s.,;()]*)*",
    re.IGNORECASE,
)


def daily_mg_in_words(text: str) -> float | None:
    """mg per day when ``text`` has the one shape read (see the module's docstring); else None."""
    match = _SHAPE.fullmatch(text)
    if match is None:
        return None
    # the frequency groups are named f0, f1 …, by their index in _FREQUENCIES
    group = next(name for name, found in match.groupdict().items() if found and name[0] == "f")
    return float(match.group("mg")) * _FREQUENCIES[int(group[1:])][1]
