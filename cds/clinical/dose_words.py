"""The daily dose in an order's words, read only where the words leave one reading.

A sorafenib order whose dose is only in ``dosageInstruction.text`` is quoted on the card as not
checked. The words are read for one purpose: to catch a dose above the 800 mg/day maximum
("sorafenib 800 mg twice daily"). A reading never makes a card milder, so whatever could be read
two ways is not read at all (a service decision): the text must hold exactly one amount in mg and
exactly one frequency, and nothing that multiplies the amount (tablets, "2 x"). English only; words
in another language are not read and stay "not checked".
"""

from __future__ import annotations

import re

# A comma in a number is not read: "1,600 mg" (thousands) and "1,5 mg" (a decimal comma) look alike.
_AMOUNT = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)\s*(?:mg|milligrams?)\b", re.IGNORECASE)
_COMMA_NUMBER = re.compile(r"\d,\d")
# Anything that multiplies or restates the amount: "2 x 400 mg", "2 tablets", "(200 mg tab)".
_MULTIPLIER = re.compile(
    r"\d\s*[x×*]|[x×*]\s*\d|\b(?:tab|tabs|tablets?|caps?|capsules?|pills?)\b", re.IGNORECASE
)

# Frequency phrases → administrations per day; the longer phrase first, so that "twice daily"
# is one phrase, not "twice" and "daily".
_FREQUENCIES: tuple[tuple[str, float], ...] = (
    (r"every other day|on alternate days|alternate days|q\.?o\.?d\.?|every 48 ?h(?:ours?)?", 0.5),
    (
        r"four times (?:a |per |each )?day|four times daily|4 times (?:a |per )?day|4 times daily"
        r"|q\.?i\.?d\.?|every 6 ?h(?:ours?)?|q6h",
        4,
    ),
    (
        r"three times (?:a |per |each )?day|three times daily|3 times (?:a |per )?day|3 times daily"
        r"|t\.?i\.?d\.?|every 8 ?h(?:ours?)?|q8h",
        3,
    ),
    (
        r"twice (?:a |per |each )?day|twice daily|two times (?:a |per )?day|two times daily"
        r"|2 times (?:a |per )?day|2 times daily|b\.?i\.?d\.?|every 12 ?h(?:ours?)?|q12h",
        2,
    ),
    (
        r"once (?:a |per |each )?day|once daily|one time (?:a |per )?day|1 time (?:a |per )?day"
        r"|every 24 ?h(?:ours?)?|q24h|q\.?d\.?|o\.?d\.?|daily|every day|per day|a day",
        1,
    ),
)
_FREQUENCY = re.compile(
    "|".join(rf"(?P<f{i}>\b(?:{pattern})(?!\w))" for i, (pattern, _) in enumerate(_FREQUENCIES)),
    re.IGNORECASE,
)


# Timing words left over once the one frequency phrase is taken out: "400 mg daily twice", "in the
# morning and at night" say more than the phrase read, so the text is not read.
_MORE_TIMING = re.compile(
    r"\b(?:twice|thrice|times|every|hourly|daily|morning|evening|noon|night|nightly|bedtime"
    r"|am|pm|q\d+\w*|bid|tid|qid|qd|od)\b",
    re.IGNORECASE,
)


def daily_mg_in_words(text: str) -> float | None:
    """mg per day, when ``text`` gives exactly one amount in mg and one frequency; else None."""
    amounts = [float(m.group(1)) for m in _AMOUNT.finditer(text)]
    frequencies = list(_FREQUENCY.finditer(text))
    if len(amounts) != 1 or len(frequencies) != 1:
        return None
    (frequency,) = frequencies
    rest = text[: frequency.start()] + " " + text[frequency.end() :]
    if _MULTIPLIER.search(text) or _COMMA_NUMBER.search(text) or _MORE_TIMING.search(rest):
        return None
    index = int(next(name for name, found in frequency.groupdict().items() if found)[1:])
    return amounts[0] * _FREQUENCIES[index][1]
