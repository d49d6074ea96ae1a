"""The treatment recommendation of clinical.md §4, one test per branch."""

from __future__ import annotations

from datetime import date

import pytest

from cds.clinical.assessment import assess
from cds.clinical.evidence import Fact, Source
from cds.clinical.inputs import Resection, TumourPattern
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
