"""Turn fixture Bundles into CDS Hooks requests, with prefetch keyed as the service asks."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from cds.fhir import codes
from cds.fhir.extract import codings

FIXTURES = Path(__file__).resolve().parents[2] / "fhir_fixtures"
LAB_CODES = frozenset().union(*codes.LAB_CODES.values())


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def resources_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    if document.get("resourceType") == "Bundle":
        return [e["resource"] for e in document["entry"]]
    found = []
    for value in document["prefetch"].values():
        if value and value.get("resourceType") == "Bundle":
            found += [e["resource"] for e in value.get("entry", [])]
        elif value:
            found.append(value)
    return found


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {"fullUrl": f"https://ehr.example/fhir/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }


def prefetch_of(name: str) -> dict[str, Any]:
    """The five prefetch keys of the services, filled from a fixture."""
    resources = copy.deepcopy(resources_of(fixture(name)))
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    is_lab = [any(c in LAB_CODES for c in codings(o.get("code"))) for o in observations]
    return {
        "patient": next(r for r in resources if r["resourceType"] == "Patient"),
        "labs": searchset([o for o, lab in zip(observations, is_lab, strict=True) if lab]),
        "findings": searchset([o for o, lab in zip(observations, is_lab, strict=True) if not lab]),
        "conditions": searchset([r for r in resources if r["resourceType"] == "Condition"]),
        "procedures": searchset([r for r in resources if r["resourceType"] == "Procedure"]),
    }


def patient_id_of(name: str) -> str:
    return prefetch_of(name)["patient"]["id"]


def hook_request(name: str, hook: str = "patient-view", **extra: Any) -> dict[str, Any]:
    """A hook request for a fixture with full prefetch (keys can be replaced via ``prefetch``)."""
    return {
        "hookInstance": str(uuid.uuid4()),
        "hook": hook,
        "context": {
            "userId": "Practitioner/example",
            "patientId": patient_id_of(name),
            **extra.pop("context", {}),
        },
        "prefetch": extra.pop("prefetch", prefetch_of(name)),
        **extra,
    }
