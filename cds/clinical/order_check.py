"""Is a draft TACE or sorafenib order supported by the assessment?

Critical: a known contraindication (Child-Pugh C or ≥ 8, bilirubin > 3 mg/dL, main portal vein
invasion, extrahepatic spread, BCLC C/D). Warning: data that matters is missing, or the order is
not what the evidence supports for this patient (early stage, infiltrative B3; sorafenib outside the
Peng population and outside the NCT00919009 protocol). Info: supported, with the protocol schedule.
No verdict for a patient without HCC (TACE is used for other liver tumours too).
The verdict carries coded reasons; the order card's words come from the message catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cds.clinical.notes import Note, note
from cds.clinical.recommendation import (
    INSUFFICIENT_DATA,
    NO_TACE,
    NOT_APPLICABLE,
    TACE,
    TACE_PLUS_SORAFENIB,
    Recommendation,
)

TACE_ORDER = "tace"
SORAFENIB_ORDER = "sorafenib"

Outcome = Literal["contraindicated", "missing-data", "not-supported", "supported"]
Indicator = Literal["info", "warning", "critical"]


@dataclass(frozen=True)
class OrderVerdict:
    """``outcome`` names the card to show; ``indicator`` is the CDS Hooks indicator."""

    order: str
    outcome: Outcome
    indicator: Indicator
    reasons: tuple[Note, ...]


SYSTEMIC_NOTE = note("order-sorafenib-systemic-not-assessed")


def check_order(order: str, rec: Recommendation) -> OrderVerdict | None:
    """The verdict on one draft order, from the patient's recommendation.

    A sorafenib order is checked as part of TACE plus sorafenib: a contraindication to TACE that
    says nothing against the liver (portal invasion, spread, B3) makes it unsupported, not
    contraindicated, since systemic sorafenib may be exactly what such a patient needs.
    """
    if rec.option == NOT_APPLICABLE:
        return None
    if rec.option == INSUFFICIENT_DATA:
        return OrderVerdict(order, "missing-data", "warning", rec.missing)
    if rec.option == NO_TACE:
        if rec.contraindicated and (order == TACE_ORDER or rec.liver_contraindicated):
            return OrderVerdict(order, "contraindicated", "critical", rec.reasons)
        extra = (SYSTEMIC_NOTE,) if order == SORAFENIB_ORDER else ()
        return OrderVerdict(order, "not-supported", "warning", (*rec.reasons, *extra))
    if order == TACE_ORDER or rec.option == TACE_PLUS_SORAFENIB or rec.protocol_option:
        return OrderVerdict(order, "supported", "info", rec.reasons)
    assert rec.option == TACE
    return OrderVerdict(
        order,
        "not-supported",
        "warning",
        (note("order-sorafenib-not-supported"), SYSTEMIC_NOTE),
    )
