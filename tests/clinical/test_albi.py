"""ALBI score and grade (Johnson 2015; clinical-rules §2)."""

from __future__ import annotations

import pytest

from cds.clinical.albi import albi_grade, score_albi
from tests.clinical.builders import AS_OF, labs


def test_worked_example():
    """Albumin 35 g/L and bilirubin 20.52 µmol/L give ALBI −2.11, grade 2 (clinical-rules §2)."""
    result = score_albi(labs(bilirubin=1.2, albumin=3.5), AS_OF)
    assert result.score == pytest.approx(-2.11, abs=0.005)
    assert result.grade == 2
    assert result.bilirubin_umol_l == pytest.approx(20.52)
    assert result.albumin_g_l == pytest.approx(35.0)


@pytest.mark.parametrize(
    ("score", "grade"), [(-2.61, 1), (-2.60, 1), (-2.59, 2), (-1.40, 2), (-1.39, 2), (-1.38, 3)]
)
def test_grade_cut_offs(score, grade):
    """Grade 1 ≤ −2.60 < grade 2 ≤ −1.39 < grade 3."""
    assert albi_grade(score) == grade


@pytest.mark.parametrize("missing", ["bilirubin", "albumin"])
def test_missing_lab_gives_no_score(missing):
    """Without bilirubin or albumin, ALBI is unknown and says which is missing."""
    result = score_albi(labs(**{missing: None}), AS_OF)
    assert (result.score, result.grade) == (None, None)
    assert result.missing[0].params["analyte"] == missing


def test_stale_lab_gives_no_score():
    """Labs older than 30 days do not give a score."""
    assert score_albi(labs(days_ago=31), AS_OF).grade is None
