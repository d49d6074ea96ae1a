"""ALBI score and grade (Johnson et al., J Clin Oncol 2015;33:550).

ALBI = 0.66 × log10(bilirubin, µmol/L) − 0.085 × (albumin, g/L).
Grade 1: ≤ −2.60; grade 2: > −2.60 and ≤ −1.39; grade 3: > −1.39.
Both labs must be present and within the 30-day lookback, otherwise ALBI is unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from cds.clinical.child_pugh import SCORE_LOOKBACK_DAYS
from cds.clinical.evidence import Source, usable
from cds.clinical.inputs import LiverLabs
from cds.clinical.notes import Note, note

BILIRUBIN_UMOL_L_PER_MG_DL = 17.1  # clinical-rules §5 (molar mass ≈ 584.66 g/mol)
ALBUMIN_G_L_PER_G_DL = 10.0
GRADE_1_AT_MOST = -2.60
GRADE_2_AT_MOST = -1.39


@dataclass(frozen=True)
class Albi:
    """ALBI score (``None`` when unknown), grade and the values behind it."""

    score: float | None
    grade: int | None
    bilirubin_umol_l: float | None
    albumin_g_l: float | None
    sources: tuple[Source, ...]
    missing: tuple[Note, ...]


def albi_grade(score: float) -> int:
    """Grade of an ALBI score; the limits belong to the better grade."""
    if score <= GRADE_1_AT_MOST:
        return 1
    if score <= GRADE_2_AT_MOST:
        return 2
    return 3


def albi_score(bilirubin_umol_l: float, albumin_g_l: float) -> float:
    """The linear predictor, unrounded."""
    return 0.66 * math.log10(bilirubin_umol_l) - 0.085 * albumin_g_l


def score_albi(labs: LiverLabs, as_of: date) -> Albi:
    """ALBI from the latest bilirubin and albumin within the lookback window."""
    bili = usable(labs.bilirubin, "bilirubin", as_of, SCORE_LOOKBACK_DAYS)
    alb = usable(labs.albumin, "albumin", as_of, SCORE_LOOKBACK_DAYS)
    missing = tuple(u.reason for u in (bili, alb) if u.reason)
    sources = tuple(u.lab.source for u in (bili, alb) if u.ok and u.lab)
    if bili.value is None or alb.value is None or bili.value <= 0:
        return Albi(
            None, None, None, None, sources, missing or (note("albi-bilirubin-not-positive"),)
        )
    bili_si = bili.value * BILIRUBIN_UMOL_L_PER_MG_DL
    alb_si = alb.value * ALBUMIN_G_L_PER_G_DL
    # Graded on the exact score (> −2.60 is grade 2, as published); shown to 2 decimals.
    score = albi_score(bili_si, alb_si)
    return Albi(
        round(score, 2), albi_grade(score), round(bili_si, 2), round(alb_si, 2), sources, ()
    )
