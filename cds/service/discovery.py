"""The services this CDS service offers, read from ``cards/services.json``.

One id may be registered on several hooks (``hcc-order-check`` on order-select and order-sign):
CDS Hooks 2.0 "update stale guidance" lets a client replace the order-select cards with the
order-sign ones of the same id. Clients that key services by URL (the CDS Hooks Sandbox) keep only
one of such entries; for them ``distinct_ids`` gives each hook of a shared id its own id,
``<id>-<hook>`` (``CDS_DISTINCT_SERVICE_IDS=true``).

Prefetch templates there may use ``{{codes.labs}}`` and ``{{codes.findings}}``: they are expanded
here from :mod:`cds.fhir.codes`, so the codes the service reads and the codes it asks for are one
list. What clients see at ``GET /cds-services`` is the expanded template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cds.fhir import codes
from cds.paths import data_dir


def code_list(pairs: frozenset[codes.Code]) -> str:
    return ",".join(f"{system}|{code}" for system, code in sorted(pairs))


def code_tokens() -> dict[str, str]:
    labs = frozenset().union(*codes.LAB_CODES.values())
    findings = (
        codes.ECOG
        | codes.TUMOUR_SIZE
        | codes.AJCC_T
        | codes.AJCC_N
        | codes.AJCC_M
        | frozenset(codes.PROJECT_OBSERVATIONS)
    )
    return {"{{codes.labs}}": code_list(labs), "{{codes.findings}}": code_list(findings)}


def expand(template: str, tokens: dict[str, str]) -> str:
    for token, value in tokens.items():
        template = template.replace(token, value)
    return template


@dataclass(frozen=True)
class ServiceDefinition:
    """One service id with every hook it answers and its (expanded) prefetch templates."""

    id: str
    hooks: tuple[str, ...]
    prefetch: dict[str, str]


def load_discovery(one_id_per_hook: bool = False) -> dict[str, Any]:
    """The discovery document, prefetch templates expanded (ids made distinct if asked)."""
    raw = json.loads((data_dir("cards") / "services.json").read_text(encoding="utf-8"))
    tokens = code_tokens()
    for service in raw["services"]:
        service["prefetch"] = {k: expand(v, tokens) for k, v in service["prefetch"].items()}
    return distinct_ids(raw) if one_id_per_hook else raw


def distinct_ids(discovery: dict[str, Any]) -> dict[str, Any]:
    """The discovery document with one id per hook: a shared id becomes ``<id>-<hook>``."""
    hooks_of: dict[str, int] = {}
    for entry in discovery["services"]:
        hooks_of[entry["id"]] = hooks_of.get(entry["id"], 0) + 1
    services = [
        {**entry, "id": f"{entry['id']}-{entry['hook']}"} if hooks_of[entry["id"]] > 1 else entry
        for entry in discovery["services"]
    ]
    return {**discovery, "services": services}


def service_definitions(discovery: dict[str, Any]) -> dict[str, ServiceDefinition]:
    """Service id → its hooks and templates (an id may be registered on several hooks)."""
    found: dict[str, ServiceDefinition] = {}
    for entry in discovery["services"]:
        known = found.get(entry["id"])
        hooks = (*known.hooks, entry["hook"]) if known else (entry["hook"],)
        found[entry["id"]] = ServiceDefinition(entry["id"], hooks, entry["prefetch"])
    return found
