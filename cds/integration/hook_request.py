"""Turn a fixture into the CDS Hooks request a client would send, prefetch keyed as declared.

Each prefetch template the service declares in discovery is answered from the fixture's
resources the way a FHIR server would answer it: ``Type/id`` is a read (``null`` when absent),
``Type?…`` a search on ``subject``/``patient``, ``code`` (``system|code`` or a bare code, comma
= or) and ``status``; ``_sort`` and ``_count`` do not change which resources match. A template
this cannot answer (another search parameter) is left out, as the spec asks of a client that
cannot fill a key: the service then fetches it from ``fhirServer``. With ``prefetch=False`` no
prefetch is sent at all and the service reads everything from ``fhirServer``.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote

from cds.fhir.extract import codings
from cds.fhir.source import render_template

Resource = dict[str, Any]
IGNORED_PARAMETERS = {"_sort", "_count"}


class UnsupportedTemplate(Exception):
    """A prefetch template with a search parameter this evaluator does not answer."""


def subject_of(resource: Resource) -> str | None:
    for field in ("subject", "patient"):
        value = resource.get(field)
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            return str(value["reference"])
    return None


def matches(resource: Resource, name: str, value: str) -> bool:
    wanted = value.split(",")
    if name in ("subject", "patient"):
        refs = {w if "/" in w else f"Patient/{w}" for w in wanted}
        return subject_of(resource) in refs
    if name == "code":
        pairs = set(codings(resource.get("code")))
        bare = {code for _, code in pairs}
        return any(tuple(w.split("|", 1)) in pairs if "|" in w else w in bare for w in wanted)
    if name == "status":
        return resource.get("status") in wanted
    raise UnsupportedTemplate(name)


def searchset(resources: list[Resource], base: str) -> Resource:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"{base.rstrip('/')}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def answer(query: str, resources: list[Resource], base: str) -> Resource | None:
    """What a FHIR server holding ``resources`` would answer to ``query``.

    :raise UnsupportedTemplate: for a search parameter not answered here.
    """
    if "?" not in query:
        kind, _, rid = unquote(query).partition("/")
        return next(
            (r for r in resources if r["resourceType"] == kind and r.get("id") == rid), None
        )
    kind, _, params = query.partition("?")
    found = [r for r in resources if r["resourceType"] == kind]
    for name, value in parse_qsl(params, keep_blank_values=True):
        if name not in IGNORED_PARAMETERS:
            found = [r for r in found if matches(r, name, value)]
    return searchset(found, base)


def hook_request(
    resources: list[Resource],
    service: dict[str, Any],
    context: dict[str, Any],
    fhir_server: str | None = None,
    prefetch: bool = True,
) -> Resource:
    """The request for ``service`` (a discovery entry) with ``context`` (patientId, …)."""
    request: Resource = {
        "hookInstance": str(uuid.uuid4()),
        "hook": service["hook"],
        "context": context,
    }
    if fhir_server:
        request["fhirServer"] = fhir_server
    if prefetch:
        base = fhir_server or "https://ehr.example/fhir"
        filled: dict[str, Any] = {}
        for key, template in service.get("prefetch", {}).items():
            query = render_template(template, context)
            if query is None:
                continue
            try:
                filled[key] = answer(query, resources, base)
            except UnsupportedTemplate:
                continue  # omitted: the service fetches it from fhirServer
        request["prefetch"] = filled
    return request


def draft_orders(patient_id: str, kinds: list[str]) -> Resource:
    """A draftOrders Bundle of the TACE / sorafenib orders this service would suggest."""
    from cds.render.messages import messages
    from cds.render.orders import sorafenib_request, tace_request

    msgs = messages()
    drafts = []
    for kind in kinds:
        if kind == "tace":
            draft = tace_request(patient_id, None, msgs)
        else:
            draft = sorafenib_request(patient_id, msgs)
        drafts.append({**draft, "id": f"draft-{kind}", "status": "draft", "intent": "order"})
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": d} for d in drafts],
    }
