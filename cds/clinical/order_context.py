"""What an order check knows besides the assessment: TACE around the order, biliary access.

"With TACE" (clinical.md §4 "Critical order-check findings"): a TACE drafted in the same request,
ordered or documented as planned (an active ServiceRequest), or performed within the last
``recent_days`` days (default 90: the protocol starts sorafenib 3 days *after* TACE; the 90 days are
this service's decision, configurable). The FHIR layer finds the candidates
(:mod:`cds.fhir.order_context`); the rule that decides which count lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

TACE_RECENT_DAYS = 90  # a service decision (clinical.md §4), overridden by CDS_TACE_RECENT_DAYS

TaceKind = Literal["drafted", "ordered", "performed"]


@dataclass(frozen=True)
class TaceEvidence:
    """One TACE found around the order: drafted now, ordered/planned, or performed on a date.

    :param resource: ``ServiceRequest/x`` or ``Procedure/y``; ``None`` for a draft without id.
    :param performed: the procedure's date (``performed`` only; ``None`` when undated).
    """

    kind: TaceKind
    resource: str | None
    performed: date | None = None


@dataclass(frozen=True)
class OrderContext:
    """The TACE candidates and biliary findings of the patient, as the FHIR layer read them.

    :param biliary_access: resources documenting a biliary-enteric anastomosis or a biliary stent.
    """

    tace: tuple[TaceEvidence, ...] = ()
    biliary_access: tuple[str, ...] = ()


def counting_tace(
    found: tuple[TaceEvidence, ...], as_of: date, recent_days: int = TACE_RECENT_DAYS
) -> TaceEvidence | None:
    """The TACE that makes a sorafenib order "with TACE", or ``None``.

    A drafted or ordered TACE counts; a performed one counts when dated within ``recent_days``
    before ``as_of`` (the boundary day included). An undated or future-dated procedure does not
    count: the service does not guess when it took place.
    """
    for kind in ("drafted", "ordered"):
        for evidence in found:
            if evidence.kind == kind:
                return evidence
    performed = [
        e
        for e in found
        if e.kind == "performed"
        and e.performed is not None
        and 0 <= (as_of - e.performed).days <= recent_days
    ]
    return max(performed, key=lambda e: e.performed or as_of, default=None)
