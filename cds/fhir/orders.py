"""Which draft orders in an order-select / order-sign context are TACE or sorafenib."""

from __future__ import annotations

from typing import Any

from cds.clinical.order_check import SORAFENIB_ORDER, TACE_ORDER
from cds.fhir import codes
from cds.fhir.extract import concept_in
from cds.fhir.record import iter_bundle

Resource = dict[str, Any]


def medication_concepts(request: Resource) -> list[Any]:
    """The medication's CodeableConcept, inline or in a contained Medication."""
    concepts = [request.get("medicationCodeableConcept")]
    reference = request.get("medicationReference")
    ref = reference.get("reference") if isinstance(reference, dict) else None
    contained = request.get("contained")
    for resource in contained if isinstance(contained, list) else []:
        if isinstance(resource, dict) and isinstance(ref, str) and ref == f"#{resource.get('id')}":
            concepts.append(resource.get("code"))
    return concepts


def order_kind(resource: Resource) -> str | None:
    kind = resource.get("resourceType")
    if kind == "MedicationRequest" and any(
        concept_in(c, codes.SORAFENIB) for c in medication_concepts(resource)
    ):
        return SORAFENIB_ORDER
    if kind == "ServiceRequest" and concept_in(resource.get("code"), codes.TACE):
        return TACE_ORDER
    return None


def checked_orders(context: dict[str, Any], hook: str) -> list[str]:
    """TACE / sorafenib orders to check, once each; order-select checks only the selections."""
    resources = list(iter_bundle(context["draftOrders"], {}))
    if hook == "order-select":
        chosen = set(context.get("selections") or [])
        resources = [r for r in resources if f"{r.get('resourceType')}/{r.get('id')}" in chosen]
    found: list[str] = []
    for resource in resources:
        kind = order_kind(resource)
        if kind and kind not in found:
            found.append(kind)
    return found
