"""Tri-state status and provenance: every value the core uses says where it came from."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

T = TypeVar("T")


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

    def describe(self) -> str:
        """``'34.2 umol/L (Observation/bili-1, 2026-11-12)'``."""
        when = self.date.isoformat() if self.date else "undated"
        return f"{self.original} ({self.resource}, {when})"


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A documented finding (a count, a grade, a yes/no) with its source."""

    value: T
    source: Source


@dataclass(frozen=True)
class Lab:
    """A laboratory result converted to its canonical unit.

    ``value`` is ``None`` when the result exists but cannot be used (``problem`` says why,
    e.g. an unknown unit). ``uln`` is the upper limit of normal in the canonical unit, from the
    result's own reference range when it has one (``uln_assumed`` is then ``False``).
    """

    value: float | None
    unit: str
    source: Source
    problem: str | None = None
    uln: float | None = None
    uln_assumed: bool = False


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
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.value is not None


def usable(lab: Lab | None, name: str, as_of: date, max_age_days: int) -> Usable:
    """Return the lab's value if it is present, convertible and recent enough.

    :param name: the analyte's name for the reason text ("bilirubin").
    :param max_age_days: the lookback window; an older value is *stale*.
    """
    if lab is None:
        return Usable(None, None, f"{name}: no result")
    if lab.value is None:
        return Usable(lab, None, f"{name}: {lab.problem}")
    age = age_in_days(lab.source.date, as_of)
    if age is None or age > max_age_days:
        when = lab.source.date.isoformat() if lab.source.date else "undated"
        return Usable(lab, None, f"{name}: latest result {when} is older than {max_age_days} days")
    return Usable(lab, lab.value, None)


def recent_fact(fact: Fact[T] | None, as_of: date, max_age_days: int) -> tuple[Fact[T] | None, str]:
    """The fact if it is dated within the window, and what to call it when it is not.

    :return: ``(fact or None, description of the gap)``; the description names the date of a
        stale fact.
    """
    if fact is None:
        return None, "not documented"
    age = age_in_days(fact.source.date, as_of)
    if age is None or age > max_age_days:
        when = fact.source.date.isoformat() if fact.source.date else "undated"
        return None, f"latest {when} is older than {max_age_days} days"
    return fact, ""
