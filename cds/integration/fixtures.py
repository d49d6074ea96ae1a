"""The patients of ``fhir_fixtures/`` (or any Bundle or hook request) as plain resources.

A fixture is a FHIR Bundle (``collection`` or ``transaction``) or a CDS Hooks request whose
prefetch holds the resources; both give the same list of resources.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cds.errors import InputError
from cds.fhir.record import flatten, is_hook_request

Resource = dict[str, Any]


def with_references(value: Any, aliases: dict[str, str]) -> Any:
    """A copy of ``value`` whose ``reference`` strings that are aliases are replaced."""
    if isinstance(value, dict):
        return {
            k: aliases.get(v, v)
            if k == "reference" and isinstance(v, str)
            else with_references(v, aliases)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [with_references(v, aliases) for v in value]
    return value


def fixture_resources(document: Any) -> list[Resource]:
    """Every resource of a Bundle or of a hook request's prefetch (nested Bundles opened), each
    with an id (urn:uuid entries take their uuid) and urn:uuid references rewritten to Type/id.

    :raise InputError: when the document is neither, or a resource has no id.
    """
    if not isinstance(document, dict):
        raise InputError("not a JSON object")
    aliases: dict[str, str] = {}
    if is_hook_request(document):
        prefetch = document.get("prefetch") or {}
        resources = flatten(prefetch.values() if isinstance(prefetch, dict) else [], aliases, [])
    elif isinstance(document.get("resourceType"), str):
        resources = flatten([document], aliases, [])
    else:
        raise InputError("neither a FHIR Bundle or resource nor a CDS Hooks request")
    missing = [r.get("resourceType") for r in resources if not r.get("id")]
    if missing:
        raise InputError(f"resources without an id cannot keep their identity: {missing[:3]}")
    return [with_references(r, aliases) for r in resources]


def fixture_files(paths: list[Path]) -> list[Path]:
    """The files given; for a directory its patient files (``*.json`` but ``*.expected.json``)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += [
                p for p in sorted(path.glob("*.json")) if not p.name.endswith(".expected.json")
            ]
        else:
            found.append(path)
    return found
