"""The treatment recommendation of clinical.md §4, one test per branch."""

from __future__ import annotations

from datetime import date

import pytest

from cds.clinical.assessment import assess
from cds.clinical.evidence import Fact, Source
from cds.clinical.inputs import GradedFinding, Resection, Severity, TumourPattern
from tests.clinical.builders import AS_OF, fact, labs, patient, tumour

SURGERY = date(2024, 3, 1)


def resection(margin="R0", recurrence=True, mvi=True):
    src = Source("Procedure/hx", SURGERY, "hepatectomy")

    def f(v):
        return None if v is None else Fact(v, src)

    return Resection(src, SURGERY, f(margin), f(recurrence), f(mvi))


def option(p):
    return assess(p, AS_OF).recommendation


def test_no_hcc_is_not_applicable():
    """Without an HCC diagnosis, no treatment suggestion applies."""
    assert option(patient(hcc=None)).option == "not_applicable"


@pytest.mark.parametrize(
    ("changes", "reason_word"),
    [
        ({"tumour": tumour(vp=4)}, "main portal vein"),
        ({"tumour": tumour(mets=True)}, "extrahepatic"),
        ({"ecog": fact(2)}, "BCLC stage C"),
        ({"ecog": fact(3)}, "BCLC stage D"),
        ({"labs": labs(bilirubin=2.5, albumin=3.0, inr=1.8)}, "Child-Pugh score 8"),
        ({"labs": labs(bilirubin=3.01)}, "bilirubin 3.01 mg/dL"),
    ],
)
def test_contraindication_gives_no_tace_with_reason(changes, reason_word):
    """BCLC C/D, Child-Pugh ≥ 8, main portal vein invasion or spread: no TACE, and why."""
    rec = option(patient(**changes))
    assert rec.option == "no_tace"
    assert rec.contraindicated
    assert any(reason_word in r for r in rec.reasons)


def test_bilirubin_at_3_still_allows_tace():
    """Bilirubin exactly 3.0 mg/dL is not above the limit."""
    assert option(patient(labs=labs(bilirubin=3.0))).option == "tace"


def test_contraindication_decides_despite_unknowns():
    """A known contraindication decides even when other data are missing."""
    rec = option(patient(tumour=tumour(mets=True, count=None), labs=labs(albumin=None)))
    assert rec.option == "no_tace"


@pytest.mark.parametrize(
    "changes",
    [
        {"ecog": None},
        {"labs": labs(bilirubin=None)},
        {"tumour": tumour(vp=None)},
        {"labs": labs(albumin=None, bilirubin=2.5)},  # Child-Pugh 6–8 straddles 7/8
        {"tumour": tumour(mets=None)},
    ],
)
def test_unknown_that_could_change_it_gives_insufficient_data(changes):
    """An unknown that could change the suggestion: no suggestion, and what to obtain."""
    rec = option(patient(**changes))
    assert rec.option == "insufficient_data"
    assert rec.missing


@pytest.mark.parametrize(
    ("changes", "stage"),
    [
        ({"tumour": tumour(count=1, size=1.5, mvi=False)}, "0"),
        ({"tumour": tumour(count=2, size=2.5)}, "A"),
    ],
)
def test_early_stage_gives_no_tace(changes, stage):
    """BCLC 0/A: ablation, resection or transplant come first."""
    rec = option(patient(**changes))
    assert rec.option == "no_tace"
    assert f"BCLC stage {stage}" in rec.reasons[0]


def test_b3_gives_no_tace():
    """BCLC B3 (infiltrative) goes to systemic therapy, not TACE."""
    rec = option(patient(tumour=tumour(pattern=TumourPattern.INFILTRATIVE)))
    assert rec.option == "no_tace"


def test_peng_population_gets_tace_plus_sorafenib():
    """Recurrence after R0 hepatectomy with MVI, BCLC B: TACE + sorafenib, TACE the alternative."""
    rec = option(patient(resection=resection()))
    assert rec.option == "tace_plus_sorafenib"
    assert rec.alternatives == ("tace",)
    assert "PENG-2024" in rec.evidence


@pytest.mark.parametrize(("margin", "recurrence", "mvi"), [("R1", True, True), ("R0", True, False)])
def test_outside_peng_population_gets_tace(margin, recurrence, mvi):
    """R1 margin or no MVI: not the Peng population, so TACE alone."""
    rec = option(patient(resection=resection(margin, recurrence, mvi)))
    assert rec.option == "tace"


def test_peng_unknown_gives_insufficient_data():
    """A hepatectomy with the margin undocumented leaves the Peng question open."""
    rec = option(patient(resection=resection(margin=None)))
    assert rec.option == "insufficient_data"
    assert any("margin" in m for m in rec.missing)


def test_trial_eligible_gets_tace_with_protocol_option():
    """All NCT00919009 criteria met: TACE recommended, TACE + sorafenib as the protocol option."""
    rec = option(patient())
    assert rec.option == "tace"
    assert rec.protocol_option
    assert rec.alternatives == ("tace_plus_sorafenib",)


def test_intermediate_not_eligible_gets_tace_and_negative_trials():
    """BCLC B not trial-eligible (platelets 50): TACE alone, citing the negative trials."""
    rec = option(patient(labs=labs(platelets=50.0)))
    assert rec.option == "tace"
    assert not rec.protocol_option
    assert {"SPACE", "TACE-2", "POST-TACE", "TACTICS"} <= set(rec.evidence)


def test_unobtainable_diagnoses_are_unknown_not_absent():
    """When the diagnoses could not be obtained, 'no HCC' is unknown: insufficient data."""
    rec = option(patient(hcc=None, diagnoses_available=False))
    assert rec.option == "insufficient_data"
    assert "diagnoses" in rec.missing[0]


@pytest.mark.parametrize(
    ("finding", "severity", "word"),
    [
        ("encephalopathy", Severity.MILD, "encephalopathy"),
        ("encephalopathy", Severity.MODERATE_OR_SEVERE, "encephalopathy"),
        ("ascites", Severity.MODERATE_OR_SEVERE, "ascites"),
    ],
)
def test_decompensation_is_a_contraindication_to_tace(finding, severity, word):
    """Hepatic encephalopathy or moderate/severe ascites: no TACE, even at Child-Pugh 7."""
    p = patient(**{finding: GradedFinding(severity, Source("Condition/d", None, "coded"))})
    rec = option(p)
    assert rec.option == "no_tace"
    assert rec.liver_contraindicated
    assert any(word in r for r in rec.reasons)


def test_mild_ascites_alone_is_not_a_contraindication():
    """Mild ascites at Child-Pugh 6: TACE is still suggested."""
    p = patient(ascites=GradedFinding(Severity.MILD, Source("Condition/a", None, "coded")))
    assert option(p).option == "tace"


def test_b1_goes_to_transplant_evaluation():
    """BCLC B1 (within extended transplant criteria): transplant evaluation first."""
    rec = option(patient(tumour=tumour(within_transplant_criteria=True)))
    assert rec.option == "no_tace"
    assert "transplant" in rec.reasons[0]


def test_tumour_only_contraindication_does_not_count_against_the_liver():
    """Main portal vein invasion stops TACE but says nothing against sorafenib itself."""
    rec = option(patient(tumour=tumour(vp=4)))
    assert rec.contraindicated and not rec.liver_contraindicated


def test_stale_ecog_is_not_used_for_bclc():
    """An ECOG older than 30 days leaves the stage undetermined, saying why."""
    result = assess(patient(ecog=fact(0, days_ago=40)), AS_OF)
    assert result.bclc.stage is None
    assert any("older than 30 days" in m for m in result.bclc.missing)
    assert result.recommendation.option == "insufficient_data"


def test_resection_hints_without_a_hepatectomy_leave_peng_open():
    """A documented recurrence but no recognised hepatectomy: Peng unknown, not 'not met'."""
    rec = option(patient(resection_hints=(Source("Condition/r", SURGERY, "recurrence"),)))
    assert rec.option == "insufficient_data"
    assert any("hepatectomy" in m for m in rec.missing)


def test_unknown_trial_status_is_said_on_the_tace_card():
    """TACE with the trial status unknown says the protocol option may still apply."""
    rec = option(patient(labs=labs(platelets=None)))
    assert rec.option == "tace"
    assert any("eligibility is unknown" in r for r in rec.reasons)


def test_trial_eligible_bclc_c_is_flagged_for_the_tumour_board():
    """Branch portal invasion (BCLC C) but all trial criteria met: the card says so."""
    rec = option(patient(tumour=tumour(vp=2)))
    assert rec.option == "no_tace"
    assert any("tumour board" in r for r in rec.reasons)
