"""The verdict on one draft TACE or sorafenib order (clinical.md §4).

A TACE order, and a sorafenib order *with TACE* (:mod:`cds.clinical.order_context`), are judged
against the TACE decision of the assessment:

- **critical** only for the listed findings: main portal vein (Vp4) or IVC invasion, extrahepatic
  spread, Child-Pugh ≥ 8 (score or whole range), bilirubin > 3 mg/dL, decompensation (hepatic
  encephalopathy, moderate/severe ascites), BCLC D / end-stage liver function; the card then offers
  to remove the draft;
- **warning** for BCLC C by ECOG 1–2 or branch portal invasion only (systemic therapy first line,
  TACE only by tumour-board decision: the trial enrolled such patients), for data that matters
  being missing (with the labs that would settle it), for an order the evidence does not support
  (early stage, B1, B3; TACE plus sorafenib outside the Peng population and the protocol), and on a
  TACE order for renal insufficiency (creatinine ≥ 2 mg/dL or dialysis) or a biliary-enteric
  anastomosis / biliary stent (EASL 2018 TACE contraindications ⚠️);
- **info** when supported.

A sorafenib order without TACE is systemic therapy, which this service does not judge: info at
BCLC C (naming the first-line systemic options), warning at Child-Pugh C or BCLC D, info otherwise;
never "not supported by the evidence". Every sorafenib verdict carries its dose finding; the card's
indicator is the more severe of the two. No verdict for a patient without HCC.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from cds.clinical.assessment import REPEATABLE_LABS, Assessment
from cds.clinical.bclc import stage_c_causes
from cds.clinical.draft_orders import DraftOrder, dose_finding
from cds.clinical.notes import Note, note
from cds.clinical.order_context import (
    TACE_RECENT_DAYS,
    OrderContext,
    TaceEvidence,
    counting_tace,
)
from cds.clinical.recommendation import (
    INSUFFICIENT_DATA,
    NO_TACE,
    NOT_APPLICABLE,
    TACE_PLUS_SORAFENIB,
)
from cds.clinical.renal import renal_insufficiency
from cds.clinical.sorafenib_dose import RANK, DoseFinding

Outcome = Literal[
    "contraindicated",  # a critical finding: remove the draft, or override with a reason
    "advanced-stage",  # BCLC C by ECOG 1–2 / branch invasion only: tumour-board decision
    "missing-data",
    "not-supported",
    "caution",  # supported, but a TACE warning (renal, biliary) applies
    "protocol-option",  # sorafenib with TACE outside Peng 2024: the NCT00919009 regimen only
    "supported",
    "systemic",  # sorafenib without TACE: systemic therapy, not judged here
    "systemic-end-stage",  # sorafenib without TACE at Child-Pugh C / BCLC D
]
Indicator = Literal["info", "warning", "critical"]

# The recommendation's reason codes that make a TACE (or sorafenib with TACE) order critical.
CRITICAL_CODES = frozenset(
    {
        "end-stage-liver",
        "bclc-d",
        "child-pugh-8-or-more",
        "child-pugh-range-8-or-more",
        "main-vessel-invaded",
        "extrahepatic-spread",
        "bilirubin-above-3",
        "encephalopathy",
        "ascites-moderate-severe",
    }
)
LAB_GAPS = ("lab-missing", "lab-stale", "lab-unusable")
MAX_TACE_REASONS = 2  # why TACE is not supported, on a sorafenib-without-TACE card
SYSTEMIC_NOTE = note("order-sorafenib-systemic-not-assessed")


def most_severe(first: Indicator, second: Indicator) -> Indicator:
    return first if RANK[first] >= RANK[second] else second


@dataclass(frozen=True)
class OrderVerdict:
    """What the card about one draft says.

    :param outcome: names the card; ``level`` the verdict's own severity (the card's
        ``indicator`` is the more severe of it and the dose finding).
    :param to_obtain: what is missing and matters; ``labs_to_order`` the analytes to order for it.
    :param with_tace: the TACE that makes a sorafenib order "with TACE" (``None``: without).
    :param remove: offer to delete the draft (every critical card).
    """

    order: DraftOrder
    outcome: Outcome
    level: Indicator
    reasons: tuple[Note, ...]
    to_obtain: tuple[Note, ...] = ()
    labs_to_order: tuple[str, ...] = ()
    with_tace: TaceEvidence | None = None
    dose: DoseFinding | None = None

    @property
    def indicator(self) -> Indicator:
        return self.level if self.dose is None else most_severe(self.level, self.dose.level)

    @property
    def dose_decides(self) -> bool:
        """The dose finding is more severe than the verdict (it heads the card)."""
        return self.dose is not None and RANK[self.dose.level] > RANK[self.level]

    @property
    def remove(self) -> bool:
        return self.indicator == "critical"


def labs_settling(missing: tuple[Note, ...], orderable: tuple[str, ...]) -> tuple[str, ...]:
    """The laboratory tests that would settle the missing items, each once."""
    found = [
        str(m.params["analyte"])
        for m in missing
        if m.code in LAB_GAPS and m.params.get("analyte") in orderable
    ]
    return tuple(dict.fromkeys(found))


def tace_verdict(kind: str, a: Assessment) -> tuple[Outcome, Indicator, tuple[Note, ...]]:
    """The TACE decision as a verdict on a TACE order (or sorafenib with TACE)."""
    rec = a.recommendation
    if rec.option == INSUFFICIENT_DATA:
        if rec.tace_indicated:  # only adding sorafenib waits for the data
            if kind == "tace":
                return "supported", "info", rec.reasons
            return (
                "missing-data",
                "warning",
                tuple(r for r in rec.reasons if r.code != "tace-either-way"),
            )
        return "missing-data", "warning", rec.reasons
    if rec.option == NO_TACE and rec.contraindicated:
        if any(r.code in CRITICAL_CODES for r in rec.reasons):
            return "contraindicated", "critical", rec.reasons
        if rec.advanced_stage_only:
            return "advanced-stage", "warning", (*rec.reasons, note("order-advanced-stage"))
    if rec.option == NO_TACE:  # e.g. an active SBP or sepsis: not in the critical list (§4)
        return "not-supported", "warning", rec.reasons
    if kind == "tace" or rec.option == TACE_PLUS_SORAFENIB:
        return "supported", "info", rec.reasons
    if rec.protocol_option:  # the trial's regimen, not the guideline standard (clinical.md §3)
        trial = next(r.params["trial"] for r in rec.reasons if r.code == "protocol-option")
        return "protocol-option", "info", (note("order-sorafenib-protocol-option", trial=trial),)
    return "not-supported", "warning", (note("order-sorafenib-not-supported"), SYSTEMIC_NOTE)


def renal_and_biliary(a: Assessment, ctx: OrderContext) -> tuple[list[Note], list[Note]]:
    """The TACE warnings (renal insufficiency, biliary access) and what is missing to judge them."""
    renal, missing = renal_insufficiency(a.inputs, a.as_of)
    warnings = [] if renal is None else [renal]
    if ctx.biliary_access:
        warnings.append(note("order-biliary-access", sources=ctx.biliary_access))
    return warnings, list(missing)


def check_tace_scope(
    order: DraftOrder, a: Assessment, ctx: OrderContext, with_tace: TaceEvidence | None
) -> OrderVerdict:
    outcome, indicator, reasons = tace_verdict(order.kind, a)
    rec = a.recommendation
    missing = rec.missing if outcome == "missing-data" else ()
    if order.kind == "tace":
        warnings, renal_missing = renal_and_biliary(a, ctx)
        if warnings and indicator == "info":
            outcome, indicator = "caution", "warning"
        renal_decides = bool(renal_missing) and indicator == "info"
        if renal_decides:
            outcome, indicator = "missing-data", "warning"
        # the warning heads a card that is otherwise supported; after the decisive reasons else
        reasons = (*warnings, *reasons) if outcome == "caution" else (*reasons, *warnings)
        if renal_decides:  # what keeps a supported TACE from going ahead comes first
            reasons = (renal_missing[0], *reasons)
        missing = (*missing, *(m for m in renal_missing if m not in missing))
    return OrderVerdict(
        order,
        outcome,
        indicator,
        tuple(reasons),
        tuple(missing),
        labs_settling(tuple(missing), REPEATABLE_LABS),
        with_tace,
    )


def check_systemic(order: DraftOrder, a: Assessment, recent_days: int) -> OrderVerdict:
    """Sorafenib without TACE: systemic therapy, which this service does not judge."""
    cls, stage = a.child_pugh.cls, a.bclc.stage
    if cls == "C" or stage == "D":  # one answer: not also "a decision this service leaves open"
        reason = note("order-systemic-end-stage", cls=cls, stage=stage)
        return OrderVerdict(order, "systemic-end-stage", "warning", (reason,))
    if cls is None or stage is None:
        rec = a.recommendation
        missing = rec.missing if rec.option == INSUFFICIENT_DATA else (*a.child_pugh.missing,)
        reasons = (note("order-systemic-liver-unknown"), SYSTEMIC_NOTE)
        labs = labs_settling(missing, REPEATABLE_LABS)
        return OrderVerdict(order, "missing-data", "warning", reasons, missing, labs)
    no_tace = note("order-no-tace", days=recent_days)
    if stage == "C":
        first_line = note("order-systemic-bclc-c", causes=stage_c_causes(a.bclc))
        return OrderVerdict(order, "systemic", "info", (first_line, no_tace, SYSTEMIC_NOTE))
    # BCLC 0–B: not advanced HCC. Sorafenib is most likely meant with a TACE not yet recorded,
    # but "order the TACE first" only where a TACE order would be supported; elsewhere the card
    # says why TACE is not (the same reasons as the TACE card), as a warning.
    tace_outcome, _, tace_reasons = tace_verdict("tace", a)
    if tace_outcome != "supported":
        why_not = (*tace_reasons[:MAX_TACE_REASONS], no_tace)
        return OrderVerdict(order, "systemic", "warning", why_not, a.recommendation.missing)
    stage_shown = a.bclc.substage or stage
    reason = note("order-sorafenib-without-tace", stage=stage_shown, days=recent_days)
    return OrderVerdict(order, "systemic", "info", (reason,))


def check_order(
    order: DraftOrder,
    a: Assessment,
    ctx: OrderContext,
    drafted: tuple[DraftOrder, ...] = (),
    recent_days: int = TACE_RECENT_DAYS,
) -> OrderVerdict | None:
    """The verdict on one draft order.

    :param drafted: every TACE or sorafenib draft of the request (a TACE among them is "with
        TACE" for a sorafenib draft).
    :param recent_days: how long ago a performed TACE still counts (CDS_TACE_RECENT_DAYS).
    """
    if a.recommendation.option == NOT_APPLICABLE:
        return None
    if order.kind == "tace":
        return check_tace_scope(order, a, ctx, None)
    drafts = tuple(TaceEvidence("drafted", d.resource_id) for d in drafted if d.kind == "tace")
    with_tace = counting_tace((*drafts, *ctx.tace), a.as_of, recent_days)
    verdict = (
        check_tace_scope(order, a, ctx, with_tace)
        if with_tace is not None
        else check_systemic(order, a, recent_days)
    )
    return replace(verdict, with_tace=with_tace, dose=dose_finding(order))
