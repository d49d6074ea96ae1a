"""Every project fixture assessed once, with its cards: shared by the card and locale tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from cds.clinical.assessment import Assessment
from cds.clinical.order_check import SORAFENIB_ORDER, TACE_ORDER, check_order
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


def verdicts(a: Assessment) -> list[Any]:
    found = (check_order(o, a.recommendation) for o in (TACE_ORDER, SORAFENIB_ORDER))
    return [v for v in found if v is not None]
