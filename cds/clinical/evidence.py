"""Tri-state status and provenance: every value the core uses says where it came from."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Generic, Literal, TypeVar

from cds.clinical.notes import Note, Param, note

T = TypeVar("T")

# Why a laboratory result that exists cannot be used (the value as written is in ``Source``).
LabProblem = Literal[
    "invalid-resource",
    "no-numeric-value",
    "bound",
    "implausible",
    "unit-missing",
    "unit-invalid",
    "unit-not-ratio",
    "unit-not-convertible",
    "unit-too-long",
]


class Status(enum.Enum):
    """The outcome of a criterion: unknown is never read as met."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, value: bool | None) -> Status:
        """Map ``True``/``False``/``None`` to met/not met/unknown."""
        if value is None:
            return cls.UNKNOWN
        return cls.MET if value else cls.NOT_MET


def all_of(statuses: list[Status]) -> Status:
    """Three-valued AND: not met wins, then unknown, else met."""
    if Status.NOT_MET in statuses:
        return Status.NOT_MET
    if Status.UNKNOWN in statuses:
        return Status.UNKNOWN
    return Status.MET


@dataclass(frozen=True)
class Source:
    """Where a value came from: the resource, its clinical date and the value as written there."""

    resource: str
    date: date | None
    original: str


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A documented finding (a count, a grade, a yes/no) with its source."""

    value: T
    source: Source


@dataclass(frozen=True)
class Lab:
    """A laboratory result converted to its canonical unit.

    ``value`` is ``None`` when the result exists but cannot be used (``problem`` says why,
    e.g. an unknown unit; ``problem_detail`` is what was found, as written).
    ``uln`` is the upper limit of normal in the canonical unit, from the
    result's own reference range when it has one (``uln_assumed`` is then ``False``).
    ``reported_value`` and ``reported_unit`` are the value and unit (UCUM, or as written) the
    result was reported in, when that unit is not the canonical one; both ``None`` when it is
    (the clinician's chart then shows ``value`` itself).
    """

    value: float | None
    unit: str
    source: Source
    problem: LabProblem | None = None
    uln: float | None = None
    uln_assumed: bool = False
    problem_detail: str = ""
    reported_value: float | None = None
    reported_unit: str | None = None


def reported(lab: Lab) -> dict[str, Param]:
    """The parameters of a note that shows a lab's value: the value as reported beside the
    converted one (both ``None`` when reported in the canonical unit)."""
    return {"reported_value": lab.reported_value, "reported_unit": lab.reported_unit}


def shown(value: float) -> str:
    """A converted value as a clinician reads it: at most 2 decimals, no float noise."""
    return f"{round(value, 2):g}"


def age_in_days(when: date | None, as_of: date) -> int | None:
    """Days between a value's date and the assessment date."""
    return None if when is None else (as_of - when).days


@dataclass(frozen=True)
class Usable:
    """A lab judged against a lookback window: the value, or why it cannot be used."""

    lab: Lab | None
    value: float | None
    reason: Note | None

    @property
    def ok(self) -> bool:
        return self.value is not None

    @property
    def stale(self) -> bool:
        return self.reason is not None and self.reason.code == "lab-stale"


def usable(lab: Lab | None, name: str, as_of: date, max_age_days: int) -> Usable:
    """Return the lab's value if it is present, convertible and recent enough.

    :param name: the analyte ("bilirubin"), a parameter of the reason.
    :param max_age_days: the lookback window; an older value is *stale*.
    """
    if lab is None:
        return Usable(None, None, note("lab-missing", analyte=name))
    if lab.value is None:
        reason = note(
            "lab-unusable",
            analyte=name,
            problem=lab.problem,
            found=lab.source.original or lab.problem_detail,  # the value with its unit, as written
            date=lab.source.date,
            source=lab.source.resource,
        )
        return Usable(lab, None, reason)
    age = age_in_days(lab.source.date, as_of)
    if age is None or age > max_age_days:
        reason = note(
            "lab-stale",
            analyte=name,
            date=lab.source.date,
            max_days=max_age_days,
            value=round(lab.value, 2),
            unit=lab.unit,
            **reported(lab),
            source=lab.source.resource,
        )
        return Usable(lab, None, reason)
    return Usable(lab, lab.value, None)


def recent_fact(
    fact: Fact[T] | None, as_of: date, max_age_days: int
) -> tuple[Fact[T] | None, bool]:
    """The fact if it is dated within the window, and whether a documented one was too old.

    :return: ``(fact or None, stale)``.
    """
    if fact is None:
        return None, False
    age = age_in_days(fact.source.date, as_of)
    if age is None or age > max_age_days:
        return None, True
    return fact, False
