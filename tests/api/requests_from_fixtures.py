"""Turn fixture Bundles into CDS Hooks requests, with prefetch keyed as the service asks."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from cds.integration.fixtures import fixture_resources
from cds.integration.hook_request import hook_request as request_for
from cds.integration.hook_request import searchset as integration_searchset
from cds.service.discovery import load_discovery

FIXTURES = Path(__file__).resolve().parents[2] / "fhir_fixtures"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def resources_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    return fixture_resources(document)


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return integration_searchset(resources, "https://ehr.example/fhir")


def prefetch_of(name: str) -> dict[str, Any]:
    """The five prefetch keys of the services, filled from a fixture as a FHIR server would
    answer the declared templates (``cds hook-request``, cds/integration/hook_request.py)."""
    resources = fixture_resources(copy.deepcopy(fixture(name)))
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    service = next(s for s in load_discovery()["services"] if s["hook"] == "patient-view")
    context = {"patientId": patient["id"], "userId": "Practitioner/example"}
    return request_for(resources, service, context)["prefetch"]


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
