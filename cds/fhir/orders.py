"""Which draft orders in an order-select / order-sign context are TACE or sorafenib.

A sorafenib MedicationRequest is recognised by any RxNorm concept or ATC code of
:data:`codes.SORAFENIB`, on ``medicationCodeableConcept`` or on the Medication its
``medicationReference`` points to — contained (``#id``), in the ``draftOrders`` Bundle, among the
prefetched resources, or read from the FHIR server. A TACE ServiceRequest by :data:`codes.TACE`.
An order whose codings name neither, but whose text (``text``, a coding's ``display``, the
reference's ``display``) names sorafenib, Nexavar or TACE, is recognised *from text*: it is checked
and the card says so, never skipped. Anything else is not this service's business (no card).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from cds.clinical.draft_orders import DraftOrder, OrderKind, Recognition
from cds.fhir import codes
from cds.fhir.client import FhirClient, FhirFetchError
from cds.fhir.dosage import read_dose
from cds.fhir.extract import codings
from cds.fhir.record import iter_bundle

Resource = dict[str, Any]
# Reads ``Medication/<id>`` from the EHR's FHIR server; ``None`` when it cannot.
MedicationReader = Callable[[str], Resource | None]

SORAFENIB_TEXT = re.compile(codes.SORAFENIB_WORDS, re.IGNORECASE)
TACE_TEXT = re.compile(codes.TACE_WORDS, re.IGNORECASE)


def texts(concept: Any) -> list[str]:
    """The words of a CodeableConcept: its ``text`` and its codings' ``display``."""
    if not isinstance(concept, dict):
        return []
    found = [concept["text"]] if isinstance(concept.get("text"), str) else []
    coding = concept.get("coding")
    for c in coding if isinstance(coding, list) else []:
        if isinstance(c, dict) and isinstance(c.get("display"), str):
            found.append(c["display"])
    return found


def recognise(
    concepts: Iterable[Any], extra_text: Iterable[str], wanted: frozenset[codes.Code], words: Any
) -> tuple[Recognition, str] | None:
    """How concepts name the wanted thing: by a coding first, else by their words."""
    concepts = list(concepts)
    for system, code in (pair for concept in concepts for pair in codings(concept)):
        if (system, code) in wanted:
            return Recognition.CODE, f"{system}|{code}"
    for text in [*(t for concept in concepts for t in texts(concept)), *extra_text]:
        match = words.search(text)
        if match:
            return Recognition.TEXT, match.group(0)
    return None


class MedicationResolver:
    """Finds the Medication a ``medicationReference`` points to, nearest source first."""

    def __init__(
        self, draft_orders: list[Resource], known: list[Resource], read: MedicationReader | None
    ) -> None:
        self.by_ref = {
            f"Medication/{r.get('id')}": r
            for r in (*known, *draft_orders)
            if r.get("resourceType") == "Medication"
        }
        self.read = read

    def resolve(self, request: Resource, aliases: dict[str, str]) -> Resource | None:
        reference = request.get("medicationReference")
        ref = reference.get("reference") if isinstance(reference, dict) else None
        if not isinstance(ref, str):
            return None
        if ref.startswith("#"):
            contained = request.get("contained")
            for resource in contained if isinstance(contained, list) else []:
                if isinstance(resource, dict) and f"#{resource.get('id')}" == ref:
                    return resource
            return None
        ref = aliases.get(ref, ref)
        ref = "Medication/" + ref.rsplit("/Medication/", 1)[-1] if "/Medication/" in ref else ref
        if ref in self.by_ref:
            return self.by_ref[ref]
        if self.read is not None and re.fullmatch(r"Medication/[A-Za-z0-9\-.]{1,64}", ref):
            found = self.read(ref)
            if isinstance(found, dict) and found.get("resourceType") == "Medication":
                self.by_ref[ref] = found
                return found
        return None


def server_reader(client: FhirClient | None) -> MedicationReader | None:
    """Reads Medications from the request's FHIR server; a failed read resolves nothing."""
    if client is None:
        return None

    def read(ref: str) -> Resource | None:
        try:
            return client.read(ref)
        except FhirFetchError:
            return None

    return read


def describe(
    resource: Resource, resolver: MedicationResolver, aliases: dict[str, str]
) -> DraftOrder | None:
    """The draft order a resource is, or ``None`` when it is neither TACE nor sorafenib."""
    kind: OrderKind
    rid = f"{resource.get('resourceType')}/{resource['id']}" if resource.get("id") else None
    if resource.get("resourceType") == "MedicationRequest":
        medication = resolver.resolve(resource, aliases)
        reference = resource.get("medicationReference")
        display = reference.get("display") if isinstance(reference, dict) else None
        found = recognise(
            [resource.get("medicationCodeableConcept"), (medication or {}).get("code")],
            [display] if isinstance(display, str) else [],
            codes.SORAFENIB,
            SORAFENIB_TEXT,
        )
        if found is None:
            return None
        kind = "sorafenib"
        return DraftOrder(kind, found[0], rid, found[1], read_dose(resource, medication))
    if resource.get("resourceType") == "ServiceRequest":
        found = recognise([resource.get("code")], [], codes.TACE, TACE_TEXT)
        if found is None:
            return None
        kind = "tace"
        return DraftOrder(kind, found[0], rid, found[1])
    return None


def draft_orders(
    context: dict[str, Any],
    hook: str,
    known: list[Resource] | None = None,
    read_medication: MedicationReader | None = None,
) -> list[DraftOrder]:
    """The TACE and sorafenib drafts to judge: order-select's ``selections``, order-sign's all.

    :param known: resources already obtained (prefetch, fetched), where a Medication may be.
    :param read_medication: reads a Medication from the FHIR server when no copy is at hand.
    """
    aliases: dict[str, str] = {}
    resources = list(iter_bundle(context["draftOrders"], aliases))
    resolver = MedicationResolver(resources, known or [], read_medication)
    if hook == "order-select":
        chosen = {aliases.get(s, s) for s in context.get("selections") or []}
        resources = [r for r in resources if f"{r.get('resourceType')}/{r.get('id')}" in chosen]
    described = (describe(r, resolver, aliases) for r in resources)
    return [order for order in described if order is not None]
