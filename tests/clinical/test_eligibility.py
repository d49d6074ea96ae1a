"""NCT00919009 criteria at every cut-off (clinical-rules §6)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from cds.clinical.assessment import assess
from cds.clinical.eligibility import ExclusionStatus
from cds.clinical.evidence import Source, Status
from cds.clinical.inputs import ConditionState, GradedFinding, Severity, TumourPattern
from cds.clinical.protocols.nct00919009 import CRITERIA
from tests.clinical.builders import AS_OF, condition, fact, lab, labs, patient, tumour

CLINICIAN_CRITERIA = {
    "inc-consent",
    "inc-measurable-lesion",
    "inc-unresectable-for-tace",
    "inc-life-expectancy",
}


def criterion(p, criterion_id):
    results = {r.criterion.id: r.judgement for r in assess(p, AS_OF).eligibility.results}
    return results[criterion_id]


def with_lab(name, value, days_ago=2, uln=None):
    return patient(labs=replace(labs(), **{name: lab(name, value, days_ago, uln)}))


def test_default_patient_is_eligible_with_what_to_confirm():
    """The builder's default patient meets every data criterion; eligible always comes with the
    four clinician criteria and every undocumented exclusion to confirm."""
    result = assess(patient(), AS_OF).eligibility
    assert result.status == "eligible"
    assert not result.with_status(Status.NOT_MET)
    confirm = {r.criterion.id for r in result.to_confirm}
    exclusions = {c.id for c in CRITERIA if c.kind == "exclusion"}
    assert confirm == CLINICIAN_CRITERIA | (exclusions - {"exc-infiltrative"})


def test_the_protocol_holds_every_registry_criterion():
    """Every inclusion bullet of the record (the seven labs apart) and all twelve exclusions,
    each marked from data or clinician confirms, with its source text."""
    ids = [c.id for c in CRITERIA]
    assert len(ids) == len(set(ids))
    assert sum(c.kind == "exclusion" for c in CRITERIA) == 12
    assert {c.id for c in CRITERIA if c.judged_by == "clinician"} == CLINICIAN_CRITERIA
    assert all(c.source_text and c.kind in ("inclusion", "exclusion") for c in CRITERIA)
    assert (
        sum(c.kind == "inclusion" for c in CRITERIA) == 19
    )  # 10 bullets, stage split in 4, 7 labs


def test_lost_comparators_are_shown_with_the_source_text_kept():
    """'Child-Pugh score 7' is ≤ 7, 'size of largest tumor 10cm' ≤ 10 cm (clinical-rules §6)."""
    by_id = {c.id: c for c in CRITERIA}
    assert by_id["inc-child-pugh"].label.params["score"] == 7
    assert "(Child-Pugh score 7)" in by_id["inc-child-pugh"].source_text
    assert by_id["inc-tumour-size"].label.params["cm"] == 10
    assert "size of largest tumor 10cm" in by_id["inc-tumour-size"].source_text
    assert by_id["inc-transaminases"].label.params["both"] is True


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
    if judgement.reason.params["analyte"] == name:
        assert judgement.reason.params["uln_assumed"] is (uln is None)


@pytest.mark.parametrize(
    ("stale", "expected"), [(("ast",), {"ast"}), (("ast", "alt"), {"ast", "alt"})]
)
def test_every_stale_transaminase_is_named_to_repeat(stale, expected):
    """AST and ALT both 8 days old: both are listed as stale, not only the first."""
    old = {name: lab(name, 30.0, 8, 40.0) for name in stale}
    p = patient(labs=replace(labs(), **old))
    a = assess(p, AS_OF)
    named = {g.params.get("analyte") for g in a.gaps if g.code == "lab-stale"}
    assert named & {"ast", "alt"} == expected
    assert criterion(p, "inc-transaminases").status is Status.UNKNOWN


@pytest.mark.parametrize(("days_ago", "status"), [(7, Status.MET), (8, Status.UNKNOWN)])
def test_trial_lab_window_is_7_days(days_ago, status):
    """A trial lab 7 days old counts; 8 days old is unknown (repeat lab), never met."""
    judgement = criterion(with_lab("platelets", 150.0, days_ago=days_ago), "inc-platelets")
    assert judgement.status is status
    if status is Status.UNKNOWN:
        assert judgement.reason.code == "lab-stale"
        assert judgement.reason.params["max_days"] == 7


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


def test_documented_exclusion_is_present_and_names_its_source():
    """A coded HIV infection makes the HIV exclusion present and cites the Condition."""
    judgement = criterion(patient(condition_findings=(condition("hiv"),)), "exc-hiv")
    assert judgement.status is ExclusionStatus.PRESENT
    assert judgement.reason.params["source"] == "Condition/hiv"


def test_undocumented_exclusion_is_not_documented_and_listed_to_confirm():
    """An exclusion with no Condition is not documented (never 'met'), and to confirm."""
    result = assess(patient(), AS_OF).eligibility
    dialysis = next(r for r in result.results if r.criterion.id == "exc-dialysis")
    assert dialysis.judgement.status is ExclusionStatus.NOT_DOCUMENTED
    assert dialysis in result.to_confirm


@pytest.mark.parametrize(
    ("criterion_id", "concept", "state", "status"),
    [
        # history-of criteria count a Condition whatever its clinical status
        ("exc-variceal-bleeding", "variceal-bleeding", ConditionState.RESOLVED, "present"),
        ("exc-hiv", "hiv", ConditionState.RESOLVED, "present"),
        ("exc-allograft", "allograft", ConditionState.RESOLVED, "present"),
        ("exc-bleeding-diathesis", "bleeding-diathesis", ConditionState.RESOLVED, "present"),
        # current-state criteria count only active ones
        ("exc-dialysis", "dialysis", ConditionState.RESOLVED, "not_documented"),
        ("exc-dialysis", "dialysis", ConditionState.ACTIVE, "present"),
        ("exc-transplant-list", "transplant-list", ConditionState.RESOLVED, "not_documented"),
        ("exc-infection", "sbp", ConditionState.ACTIVE, "present"),
        ("exc-infection", "sepsis", ConditionState.ACTIVE, "present"),
        ("exc-infection", "sbp", ConditionState.RESOLVED, "not_documented"),
        ("exc-infection", "infection", ConditionState.ACTIVE, "to_review"),
        ("exc-cardiac", "hypertension", ConditionState.ACTIVE, "to_review"),
        ("exc-cardiac", "diabetes", ConditionState.ACTIVE, "to_review"),
        ("exc-cardiac", "heart-failure", ConditionState.ACTIVE, "to_review"),
        ("exc-cardiac", "coronary-disease", ConditionState.ACTIVE, "present"),
        ("exc-cardiac", "heart-failure", ConditionState.RESOLVED, "not_documented"),
        ("exc-seizure-disorder", "seizure-disorder", ConditionState.ACTIVE, "to_review"),
        ("exc-other-cancer", "other-cancer", ConditionState.ACTIVE, "present"),
        ("exc-other-cancer", "other-cancer", ConditionState.RESOLVED, "to_review"),
        # a refuted Condition documents the absence
        ("exc-hiv", "hiv", ConditionState.REFUTED, "absent"),
    ],
)
def test_history_and_current_state_exclusions(criterion_id, concept, state, status):
    """clinical-rules §6: "history of" criteria count resolved Conditions; current-state ones only
    active; a diagnosis that cannot decide the criterion is to review."""
    p = patient(condition_findings=(condition(concept, state),))
    assert criterion(p, criterion_id).status.value == status


def test_an_exception_cancer_is_only_to_review():
    """A cancer the registry's exceptions may cover (treated basal cell…) is to review."""
    p = patient(condition_findings=(condition("other-cancer", decides=False),))
    assert criterion(p, "exc-other-cancer").status is ExclusionStatus.TO_REVIEW


@pytest.mark.parametrize(
    ("days_before", "status"),
    [(183, "present"), (184, "not_documented"), (None, "to_review")],
)
def test_myocardial_infarction_is_judged_by_its_onset(days_before, status):
    """An infarction more than 6 months before entry is allowed; an undated one is to review."""
    onset = None if days_before is None else AS_OF - timedelta(days=days_before)
    p = patient(condition_findings=(condition("myocardial-infarction", onset=onset),))
    assert criterion(p, "exc-cardiac").status.value == status


@pytest.mark.parametrize(
    ("pattern", "status"),
    [
        (TumourPattern.INFILTRATIVE, "present"),
        (TumourPattern.WELL_DEFINED, "absent"),
        (None, "not_documented"),
    ],
)
def test_diffuse_infiltrative_hcc(pattern, status):
    """The tumour pattern decides the infiltrative exclusion."""
    assert (
        criterion(patient(tumour=tumour(pattern=pattern)), "exc-infiltrative").status.value
        == status
    )


SRC = Source("Condition/x", AS_OF, "coded")


@pytest.mark.parametrize(
    ("encephalopathy", "ascites", "refractory", "status"),
    [
        (Severity.MILD, Severity.ABSENT, False, "present"),  # any encephalopathy
        (Severity.ABSENT, Severity.MODERATE_OR_SEVERE, False, "to_review"),
        (Severity.ABSENT, Severity.MILD, False, "absent"),  # mild ascites does not exclude
        (Severity.ABSENT, Severity.MILD, True, "present"),  # refractory ascites
        (Severity.NOT_DOCUMENTED, Severity.ABSENT, False, "not_documented"),
        (Severity.ABSENT, Severity.ABSENT, False, "absent"),
    ],
)
def test_encephalopathy_or_intractable_ascites(encephalopathy, ascites, refractory, status):
    """Any encephalopathy or refractory ascites excludes; moderate/severe ascites is to review."""
    findings = (condition("refractory-ascites"),) if refractory else ()
    p = patient(
        encephalopathy=GradedFinding(encephalopathy, SRC),
        ascites=GradedFinding(ascites, SRC),
        condition_findings=findings,
    )
    assert criterion(p, "exc-encephalopathy-ascites").status.value == status


def test_clinician_criteria_never_come_from_data_nor_decide_the_status():
    """Consent, measurable lesion, unresectable for TACE, life expectancy: unknown, to confirm."""
    result = assess(patient(), AS_OF).eligibility
    for r in result.results:
        if r.criterion.id in CLINICIAN_CRITERIA:
            assert r.criterion.judged_by == "clinician"
            assert r.judgement.status is Status.UNKNOWN
    assert result.status == "eligible"


def test_exclusion_to_review_makes_the_trial_unknown():
    """An exclusion to review and nothing not met → unknown, never eligible."""
    p = patient(condition_findings=(condition("hypertension", decides=False),))
    assert assess(p, AS_OF).eligibility.status == "unknown"


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
    assert judgement.reason.code == "m0-n1"


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


def test_exclusion_that_needs_review_is_to_review():
    """A documented arrhythmia (therapy not stated) makes the cardiac exclusion to review."""
    p = patient(condition_findings=(condition("arrhythmia", decides=False),))
    judgement = criterion(p, "exc-cardiac")
    assert judgement.status is ExclusionStatus.TO_REVIEW
    assert judgement.reason.params["source"] == "Condition/arrhythmia"
