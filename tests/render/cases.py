"""Every project fixture assessed once, with its cards: shared by the card and locale tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from cds.clinical.assessment import Assessment
from cds.clinical.draft_orders import DraftOrder, Recognition
from cds.clinical.order_check import check_order
from cds.clinical.order_context import OrderContext
from cds.clinical.sorafenib_dose import DosePart, OrderedDose, TextDose, WrittenPart
from cds.fhir.record import load_record
from cds.pipeline import assess_record

FIXTURES = Path(__file__).resolve().parents[2] / "fhir_fixtures"
NAMES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))


@dataclass(frozen=True)
class Case:
    name: str
    document: dict[str, Any]
    as_of: date


@cache
def case(name: str) -> Case:
    spec = json.loads((FIXTURES / f"{name}.expected.json").read_text())
    document = json.loads((FIXTURES / f"{name}.json").read_text())
    return Case(name, document, date.fromisoformat(spec["as_of"]))


def assessment(name: str) -> Assessment:
    c = case(name)
    return assess_record(load_record(c.document), c.as_of)


TACE_DRAFT = DraftOrder("tace", Recognition.CODE, "ServiceRequest/t", "snomed")
SORAFENIB_DRAFT = DraftOrder("sorafenib", Recognition.CODE, "MedicationRequest/m", "rxnorm", ())
ABOVE_MAXIMUM = OrderedDose(
    (DosePart(800, 2, 1),),
    "MedicationRequest/n dosageInstruction[0]",
    (WrittenPart(800, "mg", 2, 1, "d"),),
)
WRITTEN_ONLY = TextDose(
    "sorafenib 800 mg twice daily", "MedicationRequest/w dosageInstruction[0].text"
)


def verdicts(a: Assessment) -> list[Any]:
    """Each fixture's cards for a TACE draft, a sorafenib draft with it, one with a dose only in
    words beside them, and two without TACE: one above the maximum dose (the dose leads its
    summary) and one without a dose (the indication leads it)."""
    written = DraftOrder(
        "sorafenib", Recognition.CODE, "MedicationRequest/w", "rxnorm", WRITTEN_ONLY
    )
    with_tace = (TACE_DRAFT, SORAFENIB_DRAFT, written)
    without = DraftOrder(
        "sorafenib", Recognition.CODE, "MedicationRequest/n", "rxnorm", (ABOVE_MAXIMUM,)
    )
    found = [check_order(o, a, OrderContext(), with_tace) for o in with_tace]
    found.append(check_order(without, a, OrderContext()))
    alone = DraftOrder("sorafenib", Recognition.CODE, "MedicationRequest/a", "rxnorm", ())
    found.append(check_order(alone, a, OrderContext()))
    return [v for v in found if v is not None]
