"""BCLC 2022 staging (Reig 2022; clinical-rules §3), including undetermined cases."""

from __future__ import annotations

import pytest

from cds.clinical.bclc import stage_bclc
from cds.clinical.child_pugh import score_child_pugh
from cds.clinical.evidence import Source
from cds.clinical.inputs import GradedFinding, Severity, TumourPattern
from tests.clinical.builders import AS_OF, fact, labs, mentions, patient, tumour

C_LABS = labs(bilirubin=3.5, albumin=2.5, inr=2.5)  # 3+3+3 +1+1 = 11, class C


def stage(ecog=0, lab_set=None, **tumour_args):
    p = patient(
        ecog=None if ecog is None else fact(ecog),
        labs=lab_set or labs(),
        tumour=tumour(**tumour_args),
    )
    return stage_bclc(p.tumour, p.ecog, score_child_pugh(p, AS_OF))


@pytest.mark.parametrize(
    ("count", "size", "expected"),
    [
        (1, 2.0, "0"),  # single ≤ 2 cm
        (1, 2.1, "A"),  # single, any size
        (1, 12.0, "A"),
        (3, 3.0, "A"),  # ≤ 3 nodules each ≤ 3 cm
        (2, 3.1, "B"),  # beyond A
        (4, 2.0, "B"),
    ],
)
def test_tumour_burden_with_ecog_0_and_preserved_liver(count, size, expected):
    """With ECOG 0 and preserved liver function, size and number decide 0, A or B."""
    assert stage(count=count, size=size).stage == expected


@pytest.mark.parametrize(("ecog", "expected"), [(0, "B"), (1, "C"), (2, "C"), (3, "D"), (4, "D")])
def test_ecog(ecog, expected):
    """ECOG 1–2 is C; 3–4 is D."""
    assert stage(ecog=ecog).stage == expected


@pytest.mark.parametrize("args", [{"vp": 1}, {"vp": 4}, {"vv": 1}, {"nodes": True}, {"mets": True}])
def test_portal_invasion_or_spread_is_c(args):
    """Any macroscopic portal/hepatic-vein invasion or extrahepatic spread is stage C."""
    assert stage(**args).stage == "C"


def test_microvascular_invasion_alone_is_not_c():
    """Microscopic vascular invasion (pathology) does not make stage C."""
    assert stage(mvi=True).stage == "B"


def test_end_stage_liver_is_d():
    """Child-Pugh C (end-stage liver function) is stage D whatever the tumour."""
    result = stage(lab_set=C_LABS, count=1, size=1.5)
    assert result.stage == "D"
    assert result.liver_function == "end-stage"


def test_child_pugh_b_counts_as_preserved():
    """Child-Pugh B (7–9) is read as preserved, so tumour burden decides."""
    result = stage(lab_set=labs(bilirubin=2.5, albumin=3.0))
    assert result.liver_function == "preserved"
    assert result.stage == "B"


@pytest.mark.parametrize(
    ("changes", "missing_word"),
    [
        ({"ecog": None}, "ecog-missing"),
        ({"vp": None}, "vascular_invasion"),
        ({"mets": None}, "extrahepatic_spread"),
        ({"count": None}, "nodule_count"),
        (
            {"lab_set": labs(albumin=None, bilirubin=3.5, inr=2.5)},
            "liver-function-undetermined",
        ),  # 9–11
    ],
)
def test_undetermined_when_a_deciding_input_is_missing(changes, missing_word):
    """A missing input that could change the stage leaves it undetermined, saying what."""
    result = stage(**changes)
    assert result.stage is None
    assert mentions(result.missing, missing_word)


def test_ecog_3_is_d_even_with_unknown_liver_function():
    """ECOG 3 decides D without the labs."""
    assert stage(ecog=3, lab_set=labs(bilirubin=None, albumin=None, inr=None)).stage == "D"


def test_invasion_decides_c_even_with_unknown_size():
    """Portal invasion decides C even when the size is unknown."""
    assert stage(vp=2, size=None).stage == "C"


@pytest.mark.parametrize(
    ("pattern", "transplant", "sub"),
    [
        (TumourPattern.INFILTRATIVE, None, "B3"),
        (TumourPattern.WELL_DEFINED, True, "B1"),
        (TumourPattern.WELL_DEFINED, False, "B2"),
        (TumourPattern.WELL_DEFINED, None, None),
        (None, None, None),
    ],
)
def test_b_subgroups(pattern, transplant, sub):
    """B3 infiltrative; B1 within extended transplant criteria; B2 well-defined otherwise."""
    result = stage(pattern=pattern, within_transplant_criteria=transplant)
    assert (result.stage, result.substage) == ("B", sub)


def test_ascites_documented_raises_child_pugh_but_stays_preserved():
    """Moderate ascites (3 points) on good labs: Child-Pugh 7, still preserved."""
    p = patient(
        ascites=GradedFinding(Severity.MODERATE_OR_SEVERE, Source("Condition/a", None, "x"))
    )
    assert stage_bclc(p.tumour, p.ecog, score_child_pugh(p, AS_OF)).liver_function == "preserved"
