"""Child-Pugh score and class (Pugh et al., Br J Surg 1973;60:646).

When every component is known, the score is the sum of the points and the class is
A (5–6), B (7–9) or C (10–15). When a laboratory value is missing or stale, no single score is
given: the possible range is reported (each missing lab adds 1–3 points), with a class only if the
whole range falls in one class. Ascites and encephalopathy that are not documented at all are scored
as absent and flagged (clinical-rules §1, §5, the one documented exception). When primary biliary
cholangitis or primary sclerosing cholangitis is coded, the cholestatic bilirubin bands apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from cds.clinical.evidence import Source, Usable, usable
from cds.clinical.inputs import GradedFinding, PatientInputs, Severity
from cds.clinical.notes import Note, note

SCORE_LOOKBACK_DAYS = 30  # clinical-rules §1, §5: default lookback for scores

# Bands are (upper limit of 1 point, upper limit of 2 points); both limits score 2 points.
BILIRUBIN_MG_DL = (2.0, 3.0)  # < 2 = 1, 2–3 = 2, > 3 = 3 (ccjm.org; Harrison's)
CHOLESTATIC_BILIRUBIN_MG_DL = (4.0, 10.0)  # PBC/PSC: 1–4 = 1, 4–10 = 2, > 10 = 3 (Pugh 1973)
INR_BANDS = (1.7, 2.3)  # < 1.7 = 1, 1.7–2.3 = 2, > 2.3 = 3
# Albumin: Pugh 1973 and MDCalc use 2.8 g/dL (28 g/L); Harrison's 3.0 g/dL is not followed (§4).
ALBUMIN_G_DL_ONE_POINT_ABOVE = 3.5  # > 3.5 = 1 point
ALBUMIN_G_DL_THREE_POINTS_BELOW = 2.8  # < 2.8 = 3 points; 2.8–3.5 = 2 points

CLASS_BOUNDS = (("A", 5, 6), ("B", 7, 9), ("C", 10, 15))


@dataclass(frozen=True)
class Component:
    """One component's points (``None`` when unknown), what they rest on, and any flag.

    ``value``/``unit`` for a laboratory component, ``severity`` for ascites and encephalopathy;
    ``missing`` says why the points are unknown; ``flag`` what was scored by convention.
    """

    name: str
    points: int | None
    value: float | None = None
    unit: str = ""
    severity: Severity | None = None
    source: Source | None = None
    flag: Note | None = None
    missing: Note | None = None


@dataclass(frozen=True)
class ChildPugh:
    """The score (``None`` unless all components are known), its possible range and class."""

    components: tuple[Component, ...]
    score: int | None
    score_range: tuple[int, int]
    cls: str | None
    cholestatic: bool
    missing: tuple[Note, ...]

    def points(self) -> dict[str, int | None]:
        """Component name → points."""
        return {c.name: c.points for c in self.components}


def banded_points(value: float, one_point_below: float, three_points_above: float) -> int:
    """Points for a value where higher is worse; both limits score 2."""
    if value < one_point_below:
        return 1
    if value > three_points_above:
        return 3
    return 2


def albumin_points(g_dl: float) -> int:
    """Points for albumin, where lower is worse; 2.8 and 3.5 g/dL score 2."""
    if g_dl > ALBUMIN_G_DL_ONE_POINT_ABOVE:
        return 1
    if g_dl < ALBUMIN_G_DL_THREE_POINTS_BELOW:
        return 3
    return 2


def class_of(score: int) -> str:
    """Child-Pugh class of a total score."""
    for name, low, high in CLASS_BOUNDS:
        if low <= score <= high:
            return name
    raise ValueError(f"Child-Pugh score out of range: {score}")


def finding_points(name: str, finding: GradedFinding) -> Component:
    """Points for ascites or encephalopathy, with the flags the card must show."""
    severity = finding.severity
    points = {
        Severity.NOT_DOCUMENTED: 1,
        Severity.ABSENT: 1,
        Severity.MILD: 2,
        Severity.MODERATE_OR_SEVERE: 3,
        Severity.SEVERITY_NOT_RECORDED: 2,
    }[severity]
    flag = None
    if severity is Severity.NOT_DOCUMENTED:
        flag = note("cp-not-documented-scored-absent", component=name)
    elif severity is Severity.SEVERITY_NOT_RECORDED:
        flag = note(
            "cp-severity-not-recorded",
            component=name,
            source=finding.source.resource if finding.source else None,
        )
    return Component(name, points, severity=severity, source=finding.source, flag=flag)


def lab_component(name: str, lab: Usable, points: Callable[[float], int], unit: str) -> Component:
    """A laboratory component: its points, or unknown with the reason."""
    if lab.value is None or lab.lab is None:
        return Component(name, None, missing=lab.reason or note("lab-missing", analyte=name))
    return Component(
        name, points(lab.value), value=round(lab.value, 2), unit=unit, source=lab.lab.source
    )


def score_child_pugh(
    inputs: PatientInputs, as_of: date, lookback_days: int = SCORE_LOOKBACK_DAYS
) -> ChildPugh:
    """Score Child-Pugh from the latest labs within the lookback window and the coded findings.

    :param as_of: the assessment date.
    :param lookback_days: labs older than this are unknown (stale); 30 days by default.
    """
    labs = inputs.labs
    cholestatic = inputs.cholestatic_disease is not None
    bili = usable(labs.bilirubin, "bilirubin", as_of, lookback_days)
    alb = usable(labs.albumin, "albumin", as_of, lookback_days)
    inr = usable(labs.inr, "inr", as_of, lookback_days)
    bili_bands = CHOLESTATIC_BILIRUBIN_MG_DL if cholestatic else BILIRUBIN_MG_DL
    components = (
        lab_component("bilirubin", bili, lambda v: banded_points(v, *bili_bands), "mg/dL"),
        lab_component("albumin", alb, albumin_points, "g/dL"),
        lab_component("inr", inr, lambda v: banded_points(v, *INR_BANDS), "1"),
        finding_points("ascites", inputs.ascites),
        finding_points("encephalopathy", inputs.encephalopathy),
    )
    known = sum(c.points for c in components if c.points is not None)
    missing = tuple(c.name for c in components if c.points is None)
    low, high = known + len(missing), known + 3 * len(missing)
    classes = {class_of(s) for s in range(low, high + 1)}
    return ChildPugh(
        components=components,
        score=known if not missing else None,
        score_range=(low, high),
        cls=classes.pop() if len(classes) == 1 else None,
        cholestatic=cholestatic,
        missing=tuple(c.missing for c in components if c.missing is not None),
    )
