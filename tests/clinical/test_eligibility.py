"""NCT00919009 criteria at every cut-off (clinical.md §1.1, §1.5, §2.2, §4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cds.clinical.assessment import assess
from cds.clinical.evidence import Source, Status
from cds.clinical.nct00919009 import CRITERIA
from tests.clinical.builders import AS_OF, fact, lab, labs, patient, tumour


def criterion(p, criterion_id):
    results = {r.criterion.id: r.judgement for r in assess(p, AS_OF).eligibility.results}
    return results[criterion_id]


def with_lab(name, value, days_ago=2, uln=None):
    return patient(labs=replace(labs(), **{name: lab(name, value, days_ago, uln)}))


def test_default_patient_is_eligible():
    """The builder's default patient meets every criterion."""
    result = assess(patient(), AS_OF).eligibility
    assert result.status == "eligible"
    assert not result.with_status(Status.NOT_MET)


def test_criteria_ids_are_unique_and_each_has_text():
    """Each criterion is data with a unique id and its protocol text."""
    ids = [c.id for c in CRITERIA]
    assert len(ids) == len(set(ids))
    assert all(c.text and c.kind in ("inclusion", "exclusion") for c in CRITERIA)


@pytest.mark.parametrize(
    ("name", "criterion_id", "value", "status"),
    [
        ("platelets", "inc-platelets", 59.0, Status.NOT_MET),
        ("platelets", "inc-platelets", 60.0, Status.MET),
        ("anc", "inc-anc", 1.0, Status.NOT_MET),  # 1000/mm³ is not > 1000
        ("anc", "inc-anc", 1.001, Status.MET),  # 1001/mm³
        ("haemoglobin", "inc-haemoglobin", 8.9, Status.NOT_MET),
        ("haemoglobin", "inc-haemoglobin", 9.0, Status.MET),
        ("inr", "inc-inr", 1.49, Status.MET),
        ("inr", "inc-inr", 1.5, Status.NOT_MET),
        ("bilirubin", "inc-bilirubin", 3.0, Status.MET),
        ("bilirubin", "inc-bilirubin", 3.01, Status.NOT_MET),
    ],
)
def test_fixed_lab_limits(name, criterion_id, value, status):
    """Platelets ≥ 60; ANC > 1.0 × 10⁹/L; Hb ≥ 9.0; INR < 1.5; bilirubin ≤ 3 mg/dL."""
    assert criterion(with_lab(name, value), criterion_id).status is status


@pytest.mark.parametrize(
    ("name", "criterion_id", "multiple", "status"),
    [
        ("creatinine", "inc-creatinine", 1.49, Status.MET),
        ("creatinine", "inc-creatinine", 1.5, Status.NOT_MET),
        ("ast", "inc-transaminases", 4.99, Status.MET),
        ("ast", "inc-transaminases", 5.0, Status.NOT_MET),
        ("alt", "inc-transaminases", 4.99, Status.MET),
        ("alt", "inc-transaminases", 5.0, Status.NOT_MET),
    ],
)
@pytest.mark.parametrize("uln", [None, 50.0])
def test_uln_multiples(name, criterion_id, multiple, status, uln):
    """Creatinine < 1.5 × ULN; AST and ALT < 5 × ULN; the result's own ULN or the default."""
    default = {"creatinine": 1.2, "ast": 40.0, "alt": 40.0}[name]
    limit = uln if uln is not None else default
    judgement = criterion(with_lab(name, round(multiple * limit, 6), uln=uln), criterion_id)
    assert judgement.status is status
    own_part = next(p for p in judgement.reason.split("; ") if p.startswith(name))
    assert ("ULN assumed" in own_part) is (uln is None)


@pytest.mark.parametrize(("days_ago", "status"), [(7, Status.MET), (8, Status.UNKNOWN)])
def test_trial_lab_window_is_7_days(days_ago, status):
    """A trial lab 7 days old counts; 8 days old is unknown (repeat lab), never met."""
    judgement = criterion(with_lab("platelets", 150.0, days_ago=days_ago), "inc-platelets")
    assert judgement.status is status
    if status is Status.UNKNOWN:
        assert "repeat lab" in judgement.reason


@pytest.mark.parametrize(
    ("born", "status"),
    [
        (date(2006, 11, 16), Status.NOT_MET),  # 19 the day before the 20th birthday
        (date(2006, 11, 15), Status.MET),  # 20 on the day
        (None, Status.UNKNOWN),
    ],
)
def test_age_20(born, status):
    """Age ≥ 20 on the assessment date; no birth date → unknown."""
    assert criterion(patient(birth_date=born), "inc-age").status is status


@pytest.mark.parametrize(
    ("ecog", "status"),
    [(0, Status.MET), (1, Status.MET), (2, Status.NOT_MET), (None, Status.UNKNOWN)],
)
def test_ecog_0_1(ecog, status):
    """ECOG 0–1 only."""
    p = patient(ecog=None if ecog is None else fact(ecog, days_ago=3))
    assert criterion(p, "inc-ecog").status is status


@pytest.mark.parametrize(
    ("lab_values", "status"),
    [
        ({"bilirubin": 2.5, "albumin": 3.0}, Status.MET),  # 7
        ({"bilirubin": 2.5, "albumin": 3.0, "inr": 1.8}, Status.NOT_MET),  # 8
        ({"albumin": None}, Status.MET),  # 5–7
        ({"albumin": None, "bilirubin": 2.5}, Status.UNKNOWN),  # 6–8
    ],
)
def test_child_pugh_at_most_7(lab_values, status):
    """Child-Pugh ≤ 7 (A5, A6, B7); a range straddling 7/8 is unknown."""
    assert criterion(patient(labs=labs(**lab_values)), "inc-child-pugh").status is status


@pytest.mark.parametrize(
    ("size", "status"), [(10.0, Status.MET), (10.01, Status.NOT_MET), (None, Status.UNKNOWN)]
)
def test_largest_tumour_10_cm(size, status):
    """Largest tumour ≤ 10 cm."""
    assert criterion(patient(tumour=tumour(size=size)), "inc-tumour-size").status is status


@pytest.mark.parametrize(
    ("args", "status"),
    [
        ({}, Status.MET),  # T3 N0 M0 = III
        ({"vp": 2}, Status.MET),  # branch invasion: T4 N0 M0 = IVA
        ({"count": 1, "size": 1.5}, Status.NOT_MET),  # I
        ({"nodes": True}, Status.UNKNOWN),  # IVA through N1: needs review
        ({"bile": None}, Status.UNKNOWN),
    ],
)
def test_muicc_stage_iii_or_iva(args, status):
    """mUICC III or IVA; IVA through N1 is unknown (needs review), never met."""
    assert criterion(patient(tumour=tumour(**args)), "inc-muicc-stage").status is status


@pytest.mark.parametrize(
    ("args", "status"),
    [
        ({"vp": 3}, Status.MET),
        ({"vp": 4}, Status.NOT_MET),
        ({"vv": 2}, Status.MET),
        ({"vv": 3}, Status.NOT_MET),
        ({"vp": None}, Status.UNKNOWN),
    ],
)
def test_main_portal_vein_or_ivc(args, status):
    """Only main portal vein (Vp4) or IVC (Vv3) invasion excludes; branches do not."""
    assert criterion(patient(tumour=tumour(**args)), "inc-no-main-vessel").status is status


@pytest.mark.parametrize(
    ("mets", "status"), [(False, Status.MET), (True, Status.NOT_MET), (None, Status.UNKNOWN)]
)
def test_extrahepatic_metastasis(mets, status):
    """M1 excludes; undocumented M is unknown."""
    assert criterion(patient(tumour=tumour(mets=mets)), "inc-no-extrahepatic").status is status


def test_documented_exclusion_is_not_met_and_names_its_source():
    """A coded HIV infection makes the HIV exclusion not met and cites the Condition."""
    hiv = Source("Condition/hiv-1", AS_OF, "sct 86406008")
    judgement = criterion(patient(exclusions={"hiv": hiv}), "exc-hiv")
    assert judgement.status is Status.NOT_MET
    assert "Condition/hiv-1" in judgement.reason


def test_undocumented_exclusion_asks_for_confirmation():
    """An exclusion with no Condition counts as absent and says to confirm it."""
    assert "confirm" in criterion(patient(), "exc-dialysis").reason


def test_overall_unknown_when_only_unknowns_remain():
    """One unknown and no not-met gives overall unknown, never eligible."""
    result = assess(patient(labs=labs(platelets=None)), AS_OF).eligibility
    assert result.status == "unknown"


def test_overall_ineligible_wins_over_unknown():
    """A not-met criterion makes the patient ineligible even with unknowns."""
    result = assess(patient(labs=labs(platelets=None, haemoglobin=8.0)), AS_OF).eligibility
    assert result.status == "ineligible"


def test_regional_nodes_leave_extrahepatic_criterion_for_review():
    """M0 with N1 is extrahepatic disease to review: unknown, never met."""
    judgement = criterion(patient(tumour=tumour(nodes=True)), "inc-no-extrahepatic")
    assert judgement.status is Status.UNKNOWN
    assert "review" in judgement.reason


@pytest.mark.parametrize(("days_ago", "status"), [(7, Status.MET), (8, Status.UNKNOWN)])
def test_child_pugh_criterion_uses_the_trial_lab_window(days_ago, status):
    """The trial's Child-Pugh is scored on labs within 7 days, not the 30-day score lookback."""
    p = patient(labs=labs(days_ago=days_ago, bilirubin=2.5))  # 6, or 6–8 when the labs are stale
    assert criterion(p, "inc-child-pugh").status is status


def test_undocumented_nodes_never_make_the_trial_stage_or_spread_met():
    """mUICC T4 M0 with N undocumented could be IVA through N1: unknown, not met."""
    p = patient(tumour=tumour(count=3, size=6.0, vp=2, nodes=None))
    assert criterion(p, "inc-muicc-stage").status is Status.UNKNOWN
    assert criterion(p, "inc-no-extrahepatic").status is Status.UNKNOWN
    assert assess(p, AS_OF).eligibility.status != "eligible"


def test_exclusion_that_needs_review_is_unknown():
    """A documented arrhythmia (therapy not stated) makes that exclusion unknown, to review."""
    af = Source("Condition/af", AS_OF, "icd-10-cm I48.0")
    judgement = criterion(patient(exclusions_to_review={"arrhythmia": af}), "exc-arrhythmia")
    assert judgement.status is Status.UNKNOWN
    assert "review" in judgement.reason
