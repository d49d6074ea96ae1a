"""The trends a hepatologist reads: labs over the window, Child-Pugh and ALBI at each date,
tumour findings on a timeline.

Scores are not recomputed here: at each date the record is read as it stood then
(:func:`cds.fhir.extract.liver_inputs_over_time`) and scored by the same pure functions as the
assessment, so a point on the plot is exactly what the service would have said that day.
Cut-offs come from the clinical modules' own constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cds.clinical import albi as albi_rules
from cds.clinical import child_pugh as cp_rules
from cds.clinical.albi import score_albi
from cds.clinical.assessment import DEFAULT_ULN
from cds.clinical.child_pugh import score_child_pugh
from cds.clinical.eligibility import LabLimit, MaximumTumourSize
from cds.clinical.evidence import Lab, shown
from cds.clinical.protocols.nct00919009 import CRITERIA
from cds.clinical.tumour import documented_findings
from cds.fhir import codes
from cds.fhir.extract import (
    ObservationIndex,
    concept_in,
    condition_date,
    lab_histories,
    liver_inputs_over_time,
    tumour_findings_by_date,
)
from cds.fhir.record import PatientRecord
from cds.render.messages import messages

TREND_LABS = ("bilirubin", "albumin", "inr", "platelets", "creatinine", "afp")
SCORE_LABS = ("bilirubin", "albumin", "inr")


@dataclass(frozen=True)
class Cutoff:
    value: float
    key: str  # its label in the catalogue, app.trends.cutoffs.*
    uln: float | None = None  # for the creatinine label


@dataclass(frozen=True)
class Point:
    day: date
    value: float
    shown: str
    source: str  # the resource(s) behind the point
    original: str = ""  # the value as written in the EHR (before unit conversion)


@dataclass(frozen=True)
class Gap:
    """A date at which the score could not be computed, and why."""

    day: date
    low: int
    high: int
    why: str


@dataclass
class Series:
    key: str
    points: list[Point] = field(default_factory=list)
    cutoffs: list[Cutoff] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)  # results in the window not plotted


@dataclass
class Trends:
    start: date
    end: date
    months: int
    labs: list[Series]
    child_pugh: Series
    albi: Series
    tumour_size: Series
    timeline: list[tuple[date, list[tuple[str, str]]]]  # (date, [(finding, value)])


def months_before(day: date, months: int) -> date:
    month0 = day.year * 12 + day.month - 1 - months
    year, month = divmod(month0, 12)
    for last in (day.day, 30, 29, 28):  # 31 March − 1 month → 28/29 February
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def trial_limit(analyte: str) -> float | None:
    for c in CRITERIA:
        if isinstance(c.rule, LabLimit) and c.rule.analyte == analyte:
            return c.rule.limit
    return None


def trial_rule(kind: type) -> object | None:
    return next((c.rule for c in CRITERIA if isinstance(c.rule, kind)), None)


def lab_cutoffs(analyte: str, cholestatic: bool, labs: list[Lab]) -> list[Cutoff]:
    if analyte == "bilirubin":
        if cholestatic:
            low, high = cp_rules.CHOLESTATIC_BILIRUBIN_MG_DL
            return [
                Cutoff(low, "cp_bilirubin_cholestatic_4"),
                Cutoff(high, "cp_bilirubin_cholestatic_10"),
            ]
        low, high = cp_rules.BILIRUBIN_MG_DL
        return [Cutoff(low, "cp_bilirubin_2"), Cutoff(high, "cp_bilirubin_3")]
    if analyte == "albumin":
        return [
            Cutoff(cp_rules.ALBUMIN_G_DL_ONE_POINT_ABOVE, "cp_albumin_3_5"),
            Cutoff(cp_rules.ALBUMIN_G_DL_THREE_POINTS_BELOW, "cp_albumin_2_8"),
        ]
    if analyte == "inr":
        low, high = cp_rules.INR_BANDS
        return [
            Cutoff(trial_limit("inr") or 0, "trial_inr"),
            Cutoff(low, "cp_inr_1_7"),
            Cutoff(high, "cp_inr_2_3"),
        ]
    if analyte == "platelets":
        return [Cutoff(trial_limit("platelets") or 0, "trial_platelets")]
    if analyte == "creatinine":
        # The latest result's own upper limit of normal, else the assessment's default.
        uln = (
            next((lab.uln for lab in reversed(labs) if lab.uln), None) or DEFAULT_ULN["creatinine"]
        )
        return [Cutoff(round(1.5 * uln, 2), "trial_creatinine", uln)]
    return []  # AFP: no rule of this service reads a cut-off


def lab_series(analyte: str, labs: list[Lab], cholestatic: bool) -> Series:
    series = Series(analyte, cutoffs=lab_cutoffs(analyte, cholestatic, labs))
    for lab in labs:
        if lab.value is None or lab.source.date is None:
            series.unusable.append(f"{lab.source.resource}: {lab.problem}")
            continue
        series.points.append(
            Point(
                lab.source.date,
                lab.value,
                shown(lab.value),
                lab.source.resource,
                lab.source.original,
            )
        )
    return series


def score_days(
    record: PatientRecord, labs: dict[str, list[Lab]], start: date, end: date
) -> list[date]:
    """Where a score may change: a score lab's result, or an ascites or encephalopathy
    diagnosis dated in the window."""
    days = {lab.source.date for name in SCORE_LABS for lab in labs[name] if lab.source.date}
    graded = codes.ASCITES | codes.ENCEPHALOPATHY
    for cond in record.of_type("Condition"):
        when = condition_date(cond)
        if when and start <= when <= end and concept_in(cond.get("code"), graded):
            days.add(when)
    return sorted(days)


def score_series(
    record: PatientRecord,
    labs: dict[str, list[Lab]],
    start: date,
    end: date,
    index: ObservationIndex,
) -> tuple[Series, Series]:
    cp = Series(
        "child_pugh",
        cutoffs=[
            Cutoff(low, f"cp_class_{name.lower()}") for name, low, _ in cp_rules.CLASS_BOUNDS[1:]
        ],
    )
    albi = Series(
        "albi",
        cutoffs=[
            Cutoff(albi_rules.GRADE_1_AT_MOST, "albi_grade_2"),
            Cutoff(albi_rules.GRADE_2_AT_MOST, "albi_grade_3"),
        ],
    )
    albi_days = {lab.source.date for name in ("bilirubin", "albumin") for lab in labs[name]}
    days = score_days(record, labs, start, end)
    for day, inputs in zip(days, liver_inputs_over_time(record, days, index), strict=True):
        score = score_child_pugh(inputs, day)
        sources = ", ".join(c.source.resource for c in score.components if c.source)
        if score.score is not None:
            cp.points.append(Point(day, score.score, f"{score.score} {score.cls}", sources))
        else:
            low, high = score.score_range
            cp.gaps.append(Gap(day, low, high, "; ".join(map(messages().note, score.missing))))
        if day not in albi_days:
            continue  # a new INR or diagnosis does not change ALBI
        result = score_albi(inputs.labs, day)
        if result.score is not None and result.grade is not None:
            albi_sources = ", ".join(s.resource for s in result.sources)
            albi.points.append(
                Point(day, result.score, f"{result.score:.2f} ({result.grade})", albi_sources)
            )
    return cp, albi


def tumour_series(
    record: PatientRecord, start: date, end: date, index: ObservationIndex
) -> tuple[Series, list[tuple[date, list[tuple[str, str]]]]]:
    size_limit = trial_rule(MaximumTumourSize)
    size = Series(
        "tumour_size",
        cutoffs=[Cutoff(size_limit.cm, "trial_size")]
        if isinstance(size_limit, MaximumTumourSize)
        else [],
    )
    timeline = []
    for day, tumour in tumour_findings_by_date(record, end, index):
        if day < start:
            continue
        findings = [(label, f.source.original) for label, f in documented_findings(tumour)]
        timeline.append((day, findings))
        if tumour.largest_cm is not None:
            cm = tumour.largest_cm
            size.points.append(
                Point(day, cm.value, shown(cm.value), cm.source.resource, cm.source.original)
            )
    return size, timeline


def build_trends(record: PatientRecord, as_of: date, months: int) -> Trends:
    start = months_before(as_of, months)
    index = ObservationIndex(record.of_type("Observation"), as_of)  # built once, read by all
    labs = lab_histories(record, TREND_LABS, start, as_of, index)
    cp, albi = score_series(record, labs, start, as_of, index)
    now = liver_inputs_over_time(record, [as_of], index)[0]
    size, timeline = tumour_series(record, start, as_of, index)
    return Trends(
        start,
        as_of,
        months,
        [lab_series(name, labs[name], now.cholestatic_disease is not None) for name in TREND_LABS],
        cp,
        albi,
        size,
        timeline,
    )
