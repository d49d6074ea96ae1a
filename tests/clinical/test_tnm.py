"""AJCC 8th and modified UICC staging at each size cut-off (clinical-rules §4)."""

from __future__ import annotations

import pytest

from cds.clinical.evidence import Status
from cds.clinical.tnm import stage_ajcc8, stage_muicc
from tests.clinical.builders import mentions, tumour

SOLITARY = {"count": 1, "mvi": False}


@pytest.mark.parametrize(
    ("args", "t"),
    [
        ({**SOLITARY, "size": 2.0}, "T1a"),
        ({**SOLITARY, "size": 2.0, "mvi": True}, "T1a"),  # with or without vascular invasion
        ({**SOLITARY, "size": 2.01}, "T1b"),
        ({**SOLITARY, "size": 3.0}, "T1b"),
        ({**SOLITARY, "size": 3.0, "mvi": True}, "T2"),
        ({**SOLITARY, "size": 10.0, "vp": 2}, "T2"),
        ({"count": 2, "size": 5.0}, "T2"),
        ({"count": 2, "size": 5.01}, "T3"),
        ({"count": 4, "size": 10.0}, "T3"),
        ({"count": 1, "size": 1.0, "vp": 3}, "T4"),
        ({"count": 3, "size": 3.0, "vv": 2}, "T4"),
        ({"count": 1, "size": 1.0, "adjacent": True}, "T4"),
    ],
)
def test_ajcc_t(args, t):
    """AJCC T1a ≤ 2 cm; T1b > 2 cm no VI; T2 VI or multiple ≤ 5 cm; T3 > 5 cm; T4 major vein."""
    assert stage_ajcc8(tumour(**args)).t == t


@pytest.mark.parametrize(
    ("args", "stage"),
    [
        ({**SOLITARY, "size": 1.5}, "IA"),
        ({**SOLITARY, "size": 3.0}, "IB"),
        ({"count": 2, "size": 4.0}, "II"),
        ({"count": 2, "size": 6.0}, "IIIA"),
        ({"count": 2, "size": 6.0, "vp": 4}, "IIIB"),
        ({"count": 2, "size": 6.0, "nodes": True}, "IVA"),
        ({"count": 2, "size": 6.0, "nodes": True, "mets": True}, "IVB"),
    ],
)
def test_ajcc_stage_groups(args, stage):
    """Stage groups IA–IVB from T, N and M."""
    assert stage_ajcc8(tumour(**args)).stage == stage


@pytest.mark.parametrize(
    ("args", "missing_word"),
    [
        ({"count": 1, "size": 3.0, "mvi": None}, "ajcc-t1b-or-t2-needs-mvi"),
        ({"count": None}, "nodule_count"),
        ({"adjacent": None}, "adjacent_organ_invasion"),
        ({"vp": None}, "portal_invasion"),
    ],
)
def test_ajcc_t_unknown_says_why(args, missing_word):
    """An undocumented finding that could change T leaves T unknown and names it."""
    result = stage_ajcc8(tumour(**args))
    assert result.t is None
    assert mentions(result.missing, missing_word)


def test_ajcc_m1_decides_stage_without_t():
    """M1 is IVB even when T is unknown."""
    assert stage_ajcc8(tumour(count=None, mets=True)).stage == "IVB"


def test_ajcc_n_unknown_leaves_stage_unknown():
    """NX with M0 gives no stage group."""
    result = stage_ajcc8(tumour(nodes=None))
    assert (result.n, result.stage) == (None, None)


@pytest.mark.parametrize(
    ("args", "t", "stage"),
    [
        ({"count": 1, "size": 2.0}, "T1", "I"),
        ({"count": 1, "size": 2.01}, "T2", "II"),
        ({"count": 3, "size": 2.0}, "T2", "II"),
        ({"count": 1, "size": 1.5, "vp": 1}, "T2", "II"),
        ({"count": 3, "size": 5.0}, "T3", "III"),
        ({"count": 1, "size": 5.0, "bile": True}, "T3", "III"),
        ({"count": 3, "size": 10.0, "vp": 2}, "T4", "IVA"),
        ({"count": 3, "size": 10.0, "nodes": True}, "T3", "IVA"),
        ({"count": 3, "size": 10.0, "mets": True}, "T3", "IVB"),
    ],
)
def test_muicc(args, t, stage):
    """mUICC T counts solitary, ≤ 2 cm and no invasion; stages I–IVB."""
    result = stage_muicc(tumour(**args))
    assert (result.t, result.stage) == (t, stage)


def test_muicc_microvascular_invasion_fails_criterion_3():
    """Microvascular invasion counts as vascular invasion for mUICC criterion 3."""
    result = stage_muicc(tumour(count=1, size=1.5, mvi=True))
    assert result.criteria["no_vascular_or_bile_duct_invasion"] is Status.NOT_MET
    assert result.t == "T2"


def test_muicc_unknown_criterion_leaves_t_unknown():
    """An undocumented bile-duct invasion leaves T undetermined."""
    result = stage_muicc(tumour(count=3, size=4.0, bile=None))
    assert result.t is None
    assert result.criteria["no_vascular_or_bile_duct_invasion"] is Status.UNKNOWN


def test_muicc_iva_through_n1_is_flagged():
    """Stage IVA reached through N1 is marked so the trial criterion can ask for review."""
    assert stage_muicc(tumour(count=3, size=4.0, nodes=True)).reached_via_n1
    assert not stage_muicc(tumour(count=3, size=4.0, vp=2)).reached_via_n1
