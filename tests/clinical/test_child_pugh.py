"""Child-Pugh at every cut-off (clinical-rules §1; Pugh 1973; MDCalc albumin bands)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cds.clinical.child_pugh import class_of, score_child_pugh
from cds.clinical.evidence import Source
from cds.clinical.inputs import GradedFinding, Severity
from tests.clinical.builders import AS_OF, labs, mentions, patient

CONDITION = Source("Condition/c", None, "coded")


def score(**lab_values):
    return score_child_pugh(patient(labs=labs(**lab_values)), AS_OF)


@pytest.mark.parametrize(("bilirubin", "points"), [(1.99, 1), (2.0, 2), (3.0, 2), (3.01, 3)])
def test_bilirubin_bands(bilirubin, points):
    """Bilirubin < 2 mg/dL scores 1, 2–3 scores 2 (both limits), > 3 scores 3."""
    assert score(bilirubin=bilirubin).points()["bilirubin"] == points


@pytest.mark.parametrize(("albumin", "points"), [(2.79, 3), (2.8, 2), (3.5, 2), (3.51, 1)])
def test_albumin_bands(albumin, points):
    """Albumin > 3.5 g/dL scores 1, 2.8–3.5 scores 2 (both limits), < 2.8 scores 3."""
    assert score(albumin=albumin).points()["albumin"] == points


@pytest.mark.parametrize(("inr", "points"), [(1.69, 1), (1.7, 2), (2.3, 2), (2.31, 3)])
def test_inr_bands(inr, points):
    """INR < 1.7 scores 1, 1.7–2.3 scores 2 (both limits), > 2.3 scores 3."""
    assert score(inr=inr).points()["inr"] == points


@pytest.mark.parametrize(("bilirubin", "points"), [(3.99, 1), (4.0, 2), (10.0, 2), (10.01, 3)])
def test_cholestatic_bilirubin_bands(bilirubin, points):
    """With PBC/PSC coded, bilirubin bands are 1–4, 4–10 and > 10 mg/dL."""
    p = patient(labs=labs(bilirubin=bilirubin), cholestatic_disease=CONDITION)
    result = score_child_pugh(p, AS_OF)
    assert result.cholestatic
    assert result.points()["bilirubin"] == points


@pytest.mark.parametrize(
    ("total", "cls"), [(5, "A"), (6, "A"), (7, "B"), (9, "B"), (10, "C"), (15, "C")]
)
def test_class_boundaries(total, cls):
    """Class A is 5–6, B 7–9, C 10–15."""
    assert class_of(total) == cls


def test_all_known_gives_score_and_class():
    """Every component known: a single score and its class."""
    result = score(bilirubin=2.5, albumin=3.0, inr=1.1)
    assert (result.score, result.score_range, result.cls) == (7, (7, 7), "B")


def test_missing_lab_gives_range_without_class_across_a_boundary():
    """A missing albumin adds 1–3 points: 5–7 spans A and B, so no class."""
    result = score(albumin=None)
    assert result.score is None
    assert result.score_range == (5, 7)
    assert result.cls is None
    assert result.points()["albumin"] is None
    assert mentions(result.missing, "albumin")


def test_missing_lab_class_given_when_range_is_one_class():
    """Known points 10 plus a missing INR (11–13) is class C whatever INR is."""
    p = patient(
        labs=labs(bilirubin=3.5, albumin=2.5, inr=None),
        ascites=GradedFinding(Severity.MODERATE_OR_SEVERE, CONDITION),
    )
    result = score_child_pugh(p, AS_OF)
    assert result.score is None
    assert result.score_range == (11, 13)
    assert result.cls == "C"


@pytest.mark.parametrize(("days_ago", "known"), [(30, True), (31, False)])
def test_lab_lookback_is_30_days(days_ago, known):
    """A lab 30 days old counts; 31 days old is stale (unknown), never filled in."""
    result = score_child_pugh(patient(labs=labs(days_ago=days_ago)), AS_OF)
    assert (result.score is not None) is known
    if not known:
        assert mentions(result.missing, "lab-stale")


def test_unconvertible_lab_is_unknown_with_its_reason():
    """A result whose unit could not be converted is unknown, and the reason says why."""
    from tests.clinical.builders import lab

    base = labs()
    bad = replace(lab("bilirubin", None, problem="unit-invalid"), problem_detail="mg per dL")
    bad = replace(bad, source=replace(bad.source, original="1.2 mg per dL"))
    result = score_child_pugh(patient(labs=replace(base, bilirubin=bad)), AS_OF)
    assert result.points()["bilirubin"] is None
    assert result.missing[0].params["problem"] == "unit-invalid"
    assert result.missing[0].params["found"] == "1.2 mg per dL"  # the value with its unit


@pytest.mark.parametrize(
    ("severity", "points", "flagged"),
    [
        (Severity.NOT_DOCUMENTED, 1, True),
        (Severity.ABSENT, 1, False),
        (Severity.MILD, 2, False),
        (Severity.SEVERITY_NOT_RECORDED, 2, True),
        (Severity.MODERATE_OR_SEVERE, 3, False),
    ],
)
@pytest.mark.parametrize("finding", ["ascites", "encephalopathy"])
def test_graded_findings(finding, severity, points, flagged):
    """Undocumented → 1 point flagged; mild → 2; no severity → 2 flagged; moderate/severe → 3."""
    source = None if severity is Severity.NOT_DOCUMENTED else CONDITION
    p = patient(**{finding: GradedFinding(severity, source)})
    component = {c.name: c for c in score_child_pugh(p, AS_OF).components}[finding]
    assert component.points == points
    assert (component.flag is not None) is flagged
