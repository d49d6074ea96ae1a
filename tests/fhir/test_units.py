"""UCUM conversion: SI and conventional units give the same points at every cut-off."""

from __future__ import annotations

import pytest

from cds.clinical.child_pugh import albumin_points, banded_points
from cds.fhir.units import UnitError, is_canonical, to_canonical, ucum_code


@pytest.mark.parametrize(("umol_l", "points"), [(34.03, 1), (34.2, 2), (51.3, 2), (51.47, 3)])
def test_bilirubin_si_cut_offs(umol_l, points):
    """34.2 and 51.3 µmol/L (= 2.0 and 3.0 mg/dL ÷ 17.1) score 2; just outside scores 1 or 3."""
    assert banded_points(to_canonical(umol_l, "umol/L", "bilirubin"), 2.0, 3.0) == points


@pytest.mark.parametrize(("g_l", "points"), [(27.9, 3), (28.0, 2), (35.0, 2), (35.1, 1)])
def test_albumin_si_cut_offs(g_l, points):
    """28 and 35 g/L score 2; 27.9 scores 3; 35.1 scores 1."""
    assert albumin_points(to_canonical(g_l, "g/L", "albumin")) == points


@pytest.mark.parametrize(
    ("value", "unit", "analyte", "expected"),
    [
        (1.0, "mg/dL", "bilirubin", 1.0),
        (17.1, "umol/L", "bilirubin", 1.0),
        (0.0171, "mmol/L", "bilirubin", 1.0),
        (10.0, "mg/L", "bilirubin", 1.0),
        (35.0, "g/L", "albumin", 3.5),
        (88.4, "umol/L", "creatinine", 1.0),
        (132.6, "umol/L", "creatinine", 1.5),
        (60.0, "10*3/uL", "platelets", 60.0),
        (60.0, "10*9/L", "platelets", 60.0),
        (60000.0, "/mm3", "platelets", 60.0),
        (1000.0, "/mm3", "anc", 1.0),
        (1001.0, "/uL", "anc", 1.001),
        (90.0, "g/L", "haemoglobin", 9.0),
        (1.3, "{INR}", "inr", 1.3),
        (1.3, "1", "inr", 1.3),
        (45.0, "mm", "size", 4.5),
    ],
)
def test_conversions(value, unit, analyte, expected):
    """Values convert by UCUM to the canonical unit without float noise."""
    assert to_canonical(value, unit, analyte) == expected


def test_unitless_inr_is_accepted():
    """INR has no unit, so a missing unit is not an error."""
    assert to_canonical(1.2, None, "inr") == 1.2


@pytest.mark.parametrize(
    ("unit", "analyte", "message"),
    [
        (None, "bilirubin", "no unit"),
        ("mg per dL", "bilirubin", "not a valid UCUM unit"),
        ("mg%", "bilirubin", "cannot be converted"),  # valid UCUM (mg·%), wrong dimension
        ("mg/dL", "platelets", "cannot be converted"),
        ("U/L", "albumin", "cannot be converted"),
    ],
)
def test_unknown_or_wrong_units_are_refused(unit, analyte, message):
    """A missing, invalid or wrong-dimension unit is refused, never assumed."""
    with pytest.raises(UnitError, match=message):
        to_canonical(1.0, unit, analyte)


@pytest.mark.parametrize(
    ("code", "system", "text", "expected"),
    [
        ("umol/L", "http://unitsofmeasure.org", "µmol/L", "umol/L"),
        (None, None, "µmol/L", "umol/L"),
        (None, None, "x10^9/L", "10*9/L"),
        ("MG/DL", "http://local.example/units", "mg/dL", "mg/dL"),
        (None, None, "milligrams", None),
    ],
)
def test_unit_from_code_or_unambiguous_text(code, system, text, expected):
    """The UCUM code is used when its system is UCUM; otherwise only unambiguous unit text."""
    assert ucum_code(code, system, text) == expected


def test_first_conversions_from_many_threads_agree():
    """The UCUM registry is built once even when many threads convert at the same moment."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from cds.fhir import units

    units._REGISTRY.clear()
    units.factor.cache_clear()
    start = threading.Barrier(8)

    def convert(_: int) -> float:
        start.wait()
        return to_canonical(3.42, "umol/dL", "bilirubin")  # not precomputed: needs the registry

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(convert, range(8)))
    assert results == [2.0] * 8
    assert len(units._REGISTRY) == 1


def test_precomputed_factors_are_the_registrys():
    """Every precomputed factor is what the UCUM registry computes now (no table of ours)."""
    from cds.fhir.units import compute_table, precomputed

    assert precomputed() == compute_table()


def test_a_unit_outside_the_table_is_converted_by_the_registry():
    """A rarer UCUM unit (ng/dL) still converts, by the registry."""
    from cds.fhir.units import precomputed, to_canonical

    assert "ng/dL" not in precomputed()["afp"]
    assert to_canonical(100, "ng/dL", "afp") == 1.0


@pytest.mark.parametrize(
    ("unit", "analyte", "canonical"),
    [
        ("mg/dL", "bilirubin", True),
        ("umol/L", "bilirubin", False),
        ("g/L", "albumin", False),
        ("g/dL", "albumin", True),
        ("10*9/L", "platelets", True),
        ("10*9/L{cells}", "platelets", True),  # an annotation is unity in UCUM
        ("10*3/uL", "platelets", False),  # the same number, but not the unit on the card
        ("{INR}", "inr", True),
        (None, "inr", True),
        ("umol/L", "creatinine", False),
    ],
)
def test_is_canonical_compares_the_unit_as_written(unit, analyte, canonical):
    """A result needs its reported value shown beside the converted one only when its unit is not
    the canonical one."""
    assert is_canonical(unit, analyte) is canonical
