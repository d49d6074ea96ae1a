"""A draft order the service judges, as the FHIR layer recognised it (order-select / order-sign).

The order checks work on these descriptions, never on FHIR resources: what was ordered (TACE or
sorafenib), how it was recognised (from a code, or only from its text — then the card must say
so), which draft it is (its ``Type/id``, for the card and for a ``delete`` suggestion) and, for
sorafenib, the dose as ordered.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

from cds.clinical.sorafenib_dose import DoseFinding, DoseReading, judge_dose

OrderKind = Literal["tace", "sorafenib"]


class Recognition(enum.Enum):
    """How an order was recognised."""

    CODE = "code"  # a coding of cds/fhir/codes.py (RxNorm, ATC, SNOMED, the project's)
    TEXT = "text"  # only the text names it (sorafenib, Nexavar, TACE …): checked, and said so


@dataclass(frozen=True)
class DraftOrder:
    """One draft order to judge.

    :param resource_id: ``MedicationRequest/med-1``; ``None`` when the draft has no id.
    :param matched: the coding (``system|code``) or the words that identified it.
    :param dose: sorafenib only: the structured dose read from the order.
    """

    kind: OrderKind
    recognised_by: Recognition
    resource_id: str | None
    matched: str
    dose: DoseReading | None = None


def dose_finding(order: DraftOrder) -> DoseFinding | None:
    """The dose finding of a sorafenib draft (``None`` for TACE, which has no dose to judge)."""
    if order.kind != "sorafenib":
        return None
    return judge_dose(order.dose if order.dose is not None else ())
