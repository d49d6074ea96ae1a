"""Is the ordered sorafenib dose the protocol's, a labelled reduction, or something else?

When a sorafenib order carries a structured dose (clinical.md §4 "Sorafenib dose"):
- above 800 mg/day → critical (above the labelled maximum: 400 mg twice daily);
- 400 mg twice daily → info, the protocol regimen (NCT00919009 registry; Peng 2024);
- 400 mg once daily, or 400 mg every other day → info, a labelled dose reduction (⚠️ Nexavar label);
- any other dose or schedule → warning naming the ordered and the protocol dose.
When it carries none → info with the protocol dose; when it carries only a dose in words
(``dosageInstruction.text``) → warning quoting it: nobody has checked it (review 2, B1; a decision
of this service), or critical when its words leave one reading and that is above 800 mg/day
(:mod:`cds.clinical.dose_words`; review 4; a decision of this service: words can make a card more
severe, never milder). A structured dose that could not be read
(a unit that is not a mass, tablets of unknown strength, a period in months …) → warning: a dose
nobody can check is not a dose to let pass (a decision of this service).

The result is a code with typed parameters; the words are the message catalogue's (cards/).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Literal

from cds.clinical.dose_words import daily_mg_in_words

Level = Literal["info", "warning", "critical"]

# NCT00919009 registry record: "sorafenib 400 mg twice daily"; Peng 2024: 400 mg twice daily.
PROTOCOL_MG_PER_ADMINISTRATION = 400.0
PROTOCOL_ADMINISTRATIONS_PER_DAY = 2
# Nexavar label: 400 mg twice daily is the recommended and the highest dose.
MAXIMUM_MG_PER_DAY = 800.0


@dataclass(frozen=True)
class DosePart:
    """``mg`` given ``times`` times every ``period_days`` days (one line of a schedule)."""

    mg: float
    times: float
    period_days: float

    @property
    def times_per_day(self) -> float:
        return self.times / self.period_days

    @property
    def mg_per_day(self) -> float:
        return self.mg * self.times_per_day


@dataclass(frozen=True)
class WrittenPart:
    """One dosage instruction as the order writes it, for the card to word: ``value`` ``unit``
    (a UCUM mass unit such as ``mg``, or ``{tbl}`` for tablets), ``times`` every ``period``
    ``period_unit`` (UCUM: ``h``, ``d``, ``wk`` …; a timing code such as BID is read as 2 every
    1 d)."""

    value: float
    unit: str
    times: int
    period: float
    period_unit: str


@dataclass(frozen=True)
class OrderedDose:
    """One regimen as ordered: its parts given together (e.g. 400 mg morning + 400 mg evening).

    ``source`` names where it was read (``MedicationRequest/x dosageInstruction[0]``);
    ``as_written`` is the order's own dose and timing, one per part, for the card.
    """

    parts: tuple[DosePart, ...]
    source: str
    as_written: tuple[WrittenPart, ...]

    @property
    def mg_per_day(self) -> float:
        return sum(part.mg_per_day for part in self.parts)

    def merged(self) -> DosePart | None:
        """The schedule as one daily part when every part gives the same dose, else None."""
        first = self.parts[0]
        if all(same(p.mg, first.mg) for p in self.parts):
            return DosePart(first.mg, sum(p.times_per_day for p in self.parts), 1)
        return None


class DoseProblem(enum.Enum):
    """Why a structured dose could not be read."""

    UNIT_NOT_MASS = "unit-not-mass"  # e.g. mL, or a unit that is not UCUM
    TABLET_STRENGTH_UNKNOWN = "tablet-strength-unknown"  # dose in tablets, strength not coded
    NO_TIMING = "no-timing"  # a dose without frequency or period
    PERIOD_UNIT_UNSUPPORTED = "period-unit-unsupported"  # months, years: not a daily drug's timing
    DOSE_RANGE = "dose-range"  # doseRange: which end is meant is not the service's to guess


@dataclass(frozen=True)
class UnreadDose:
    """A structured dose the service could not turn into mg per day, and why."""

    problem: DoseProblem
    source: str


@dataclass(frozen=True)
class TextDose:
    """No structured dose, but a dose in words (``dosageInstruction.text``), quoted on the card."""

    text: str
    source: str


# What an order's dosage says: the regimens in order of ``sequence`` (one for most orders; none
# when the order has no structured dose), why they could not be read, or only the words.
DoseReading = tuple[OrderedDose, ...] | UnreadDose | TextDose


class DoseCode(enum.Enum):
    """The dose finding's code; each names one message of the catalogue."""

    ABOVE_MAXIMUM = "dose-above-maximum"
    PROTOCOL = "dose-protocol"
    REDUCTION_ONCE_DAILY = "dose-reduction-once-daily"
    REDUCTION_EVERY_OTHER_DAY = "dose-reduction-every-other-day"
    OTHER_SCHEDULE = "dose-other-schedule"
    NOT_STRUCTURED = "dose-not-structured"
    TEXT_ONLY = "dose-text-only"
    TEXT_ABOVE_MAXIMUM = "dose-text-above-maximum"
    NOT_READ = "dose-not-read"


LEVELS: dict[DoseCode, Level] = {
    DoseCode.ABOVE_MAXIMUM: "critical",
    DoseCode.PROTOCOL: "info",
    DoseCode.REDUCTION_ONCE_DAILY: "info",
    DoseCode.REDUCTION_EVERY_OTHER_DAY: "info",
    DoseCode.OTHER_SCHEDULE: "warning",
    DoseCode.NOT_STRUCTURED: "info",
    DoseCode.TEXT_ONLY: "warning",
    DoseCode.TEXT_ABOVE_MAXIMUM: "critical",
    DoseCode.NOT_READ: "warning",
}
RANK: dict[Level, int] = {"info": 0, "warning": 1, "critical": 2}

# Labelled schedules by (mg per administration, administrations, period in days).
LABELLED: tuple[tuple[DosePart, DoseCode], ...] = (
    (
        DosePart(PROTOCOL_MG_PER_ADMINISTRATION, PROTOCOL_ADMINISTRATIONS_PER_DAY, 1),
        DoseCode.PROTOCOL,
    ),
    (DosePart(400, 1, 1), DoseCode.REDUCTION_ONCE_DAILY),  # ⚠️ Nexavar label, first reduction
    (DosePart(400, 1, 2), DoseCode.REDUCTION_EVERY_OTHER_DAY),  # ⚠️ Nexavar label, second
)


@dataclass(frozen=True)
class DoseFinding:
    """The verdict on an ordered dose: code, level and the values the message names.

    ``ordered`` is the regimen judged (``None`` when none could be read); ``mg_per_day`` its
    daily dose; ``problem`` why a structured dose could not be read; ``text`` the dose in words
    when the order has no structured one.
    """

    code: DoseCode
    level: Level
    ordered: OrderedDose | None = None
    mg_per_day: float | None = None
    problem: DoseProblem | None = None
    text: str | None = None
    protocol_mg: float = PROTOCOL_MG_PER_ADMINISTRATION
    protocol_times_per_day: int = PROTOCOL_ADMINISTRATIONS_PER_DAY


def same(a: float, b: float) -> bool:
    """Equal up to float noise (0.4 g read as mg is 400.00000000000006)."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def judge_regimen(dose: OrderedDose) -> DoseFinding:
    """The finding on one regimen."""
    per_day = dose.mg_per_day
    if above_maximum(per_day):
        code = DoseCode.ABOVE_MAXIMUM
    else:
        schedule = dose.merged()
        code = next(
            (
                labelled_code
                for labelled, labelled_code in LABELLED
                if schedule is not None
                and same(schedule.mg, labelled.mg)
                and same(schedule.times_per_day, labelled.times_per_day)
            ),
            DoseCode.OTHER_SCHEDULE,
        )
    return DoseFinding(code, LEVELS[code], dose, per_day)


def above_maximum(mg_per_day: float) -> bool:
    return mg_per_day > MAXIMUM_MG_PER_DAY and not same(mg_per_day, MAXIMUM_MG_PER_DAY)


def judge_words(dose: TextDose) -> DoseFinding:
    """A dose only in words: not checked (a warning quoting it), unless the words read, one way
    only, above the maximum (critical). A reading at or below it is not called a protocol dose."""
    per_day = daily_mg_in_words(dose.text)
    if per_day is not None and above_maximum(per_day):
        code = DoseCode.TEXT_ABOVE_MAXIMUM
        return DoseFinding(code, LEVELS[code], mg_per_day=per_day, text=dose.text)
    return DoseFinding(DoseCode.TEXT_ONLY, LEVELS[DoseCode.TEXT_ONLY], text=dose.text)


def judge_dose(reading: DoseReading) -> DoseFinding:
    """The finding on an order's dose: for several sequential regimens, the most severe one.

    :param reading: what :mod:`cds.fhir.dosage` read from the order.
    """
    if isinstance(reading, UnreadDose):
        return DoseFinding(DoseCode.NOT_READ, LEVELS[DoseCode.NOT_READ], problem=reading.problem)
    if isinstance(reading, TextDose):
        return judge_words(reading)
    if not reading:
        return DoseFinding(DoseCode.NOT_STRUCTURED, LEVELS[DoseCode.NOT_STRUCTURED])
    findings = [judge_regimen(dose) for dose in reading]
    return max(findings, key=lambda f: RANK[f.level])  # first of the most severe
