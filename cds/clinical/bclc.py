"""BCLC stage, 2022 update (Reig M et al., J Hepatol 2022;76:681–693).

When ECOG PS is 3–4 or liver function is end-stage → D. Otherwise, with preserved liver function:
portal (macrovascular) invasion or extrahepatic spread, or ECOG PS 1–2 → C; with ECOG 0, a single
nodule ≤ 2 cm → 0; a single nodule, or ≤ 3 nodules each ≤ 3 cm → A; multinodular beyond A → B.

"Preserved" replaced "Child-Pugh A" in 2022 and the paper gives no score cut-off (the research note
could not read its footnote). This service reads a Child-Pugh range that lies wholly in A or B
(5–9) as preserved and wholly in C (10–15) as end-stage, shows Child-Pugh and ALBI as the evidence,
and flags Child-Pugh B for clinical review. A missing value is never read as preserved.

Stage B sub-groups (Ann Surg Oncol commentary on BCLC 2022): B1 within extended transplant criteria;
B2 well-defined nodules suited to TACE; B3 diffuse, infiltrative, bilobar → systemic therapy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cds.clinical.child_pugh import ChildPugh
from cds.clinical.evidence import Fact
from cds.clinical.inputs import Tumour, TumourPattern
from cds.clinical.notes import Note, note
from cds.clinical.tumour import extrahepatic_spread, macroscopic_invasion, tri_or, undocumented

STAGE_0_MAX_CM = 2.0
STAGE_A_MAX_NODULES = 3
STAGE_A_MULTI_MAX_CM = 3.0
ECOG_C_MAX = 2  # PS 1–2 → C; 3–4 → D
PRESERVED_MAX_SCORE = 9  # Child-Pugh A or B
END_STAGE_MIN_SCORE = 10  # Child-Pugh C

LiverFunction = Literal["preserved", "end-stage"]


@dataclass(frozen=True)
class Bclc:
    """The stage (``None`` when undetermined), the B sub-group, and the reasoning."""

    stage: str | None
    substage: str | None
    liver_function: LiverFunction | None
    reasons: tuple[Note, ...]
    missing: tuple[Note, ...]


def liver_function(cp: ChildPugh) -> LiverFunction | None:
    """Preserved, end-stage, or unknown from the Child-Pugh range."""
    low, high = cp.score_range
    if high <= PRESERVED_MAX_SCORE:
        return "preserved"
    if low >= END_STAGE_MIN_SCORE:
        return "end-stage"
    return None


def early_stage(t: Tumour) -> tuple[str | None, list[Note]]:
    """0, A or B from the number and size of nodules (ECOG 0, preserved, no invasion/spread)."""
    missing = undocumented(t, ("nodule_count", "largest_cm"))
    if t.nodule_count is None or t.largest_cm is None:
        return None, missing
    count, size = t.nodule_count.value, t.largest_cm.value
    if count == 1:
        return ("0" if size <= STAGE_0_MAX_CM else "A"), []
    if count <= STAGE_A_MAX_NODULES and size <= STAGE_A_MULTI_MAX_CM:
        return "A", []
    return "B", []


def b_subgroup(t: Tumour) -> str | None:
    """B1/B2/B3 where the documentation allows it, else ``None``."""
    pattern: Fact[TumourPattern] | None = t.pattern
    if pattern is not None and pattern.value is TumourPattern.INFILTRATIVE:
        return "B3"
    transplant = t.within_transplant_criteria
    if transplant is not None and transplant.value:
        return "B1"
    if pattern is not None and transplant is not None:
        return "B2"
    return None


def stage_bclc(
    t: Tumour, ecog: Fact[int] | None, cp: ChildPugh, ecog_missing: Note | None = None
) -> Bclc:
    """BCLC 2022 stage from tumour burden, liver function (Child-Pugh range) and ECOG PS.

    :param ecog: the ECOG PS within its lookback window, or ``None``.
    :param ecog_missing: why ECOG is ``None`` (not documented, or its date when stale).
    """
    liver = liver_function(cp)
    ps = None if ecog is None else ecog.value
    missing = []
    if ps is None:
        missing.append(ecog_missing or note("ecog-missing"))
    if liver is None:
        missing.append(
            note("liver-function-undetermined", low=cp.score_range[0], high=cp.score_range[1])
        )
    terminal = tri_or(
        [None if ps is None else ps > ECOG_C_MAX, None if liver is None else liver == "end-stage"]
    )
    if terminal:
        ecog_d = ps is not None and ps > ECOG_C_MAX
        why = note("bclc-ecog-3-4", ecog=ps) if ecog_d else note("bclc-end-stage-liver")
        return Bclc("D", None, liver, (why,), ())
    if terminal is None:
        return Bclc(None, None, liver, (), tuple(missing))
    assert ps is not None  # not terminal and not unknown: ECOG is documented (0–2)
    invasion, spread = macroscopic_invasion(t), extrahepatic_spread(t)
    advanced = tri_or([invasion, spread, ps >= 1])
    if advanced:
        reasons = [
            r
            for r, on in (
                (note("bclc-macrovascular-invasion"), invasion),
                (note("bclc-extrahepatic-spread"), spread),
                (note("bclc-ecog-1-2", ecog=ps), ps >= 1),
            )
            if on
        ]
        return Bclc("C", None, liver, tuple(reasons), ())
    if advanced is None:
        absent = [
            note("finding-missing", finding=name)
            for name, v in (("vascular_invasion", invasion), ("extrahepatic_spread", spread))
            if v is None
        ]
        return Bclc(None, None, liver, (), tuple(absent))
    stage, missing = early_stage(t)
    substage = b_subgroup(t) if stage == "B" else None
    return Bclc(
        stage, substage, liver, (note("bclc-ecog-0"), note("bclc-liver-preserved")), tuple(missing)
    )


# The causes of BCLC C that leave TACE to a tumour-board decision (not a contraindication).
STAGE_ONLY_CAUSES = frozenset({"bclc-ecog-1", "bclc-ecog-2", "bclc-macrovascular-invasion"})


def stage_c_causes(bclc: Bclc) -> tuple[str, ...]:
    """Why the stage is C, as cause codes a card names: the patient's own ECOG ("bclc-ecog-2"),
    never the band "ECOG 1–2" as if it were the patient's value."""
    return tuple(
        f"bclc-ecog-{r.params['ecog']}" if r.code == "bclc-ecog-1-2" else r.code
        for r in bclc.reasons
    )
