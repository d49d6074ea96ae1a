"""Load fixtures into any FHIR R4 server: one transaction of ``PUT Type/id`` per file.

Ids are kept (a hook request for ``patientId`` p04 finds Patient/p04 on the server), and
``urn:uuid:`` references are rewritten to ``Type/id`` first, so no server-side rewriting is needed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from cds.errors import InputError
from cds.fhir.record import entries_of
from cds.integration.fixtures import fixture_resources
from cds.jsonfile import read_json_file

Resource = dict[str, Any]
TIMEOUT_S = 60


@dataclass(frozen=True)
class Loaded:
    """What one file put on the server."""

    path: Path
    resources: int
    patient_ids: tuple[str, ...]


def transaction(resources: list[Resource]) -> Resource:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in resources
        ],
    }


def failed_entries(answer: Any) -> list[str]:
    if not isinstance(answer, dict) or answer.get("resourceType") != "Bundle":
        return ["the server did not answer with a Bundle"]
    statuses = [str((e.get("response") or {}).get("status", "")) for e in entries_of(answer)]
    return [f"entry {i}: {s or 'no status'}" for i, s in enumerate(statuses) if s[:1] != "2"]


def load_file(
    path: Path, base_url: str, session: requests.Session, headers: dict[str, str]
) -> Loaded:
    """POST one file's resources as a transaction.

    :raise InputError: when the file is not a fixture, or the server refuses any of it.
    """
    resources = fixture_resources(read_json_file(path))
    try:
        response = session.post(
            base_url.rstrip("/"),
            data=json.dumps(transaction(resources)),
            headers=headers,
            timeout=TIMEOUT_S,
        )
    except requests.RequestException as exc:
        raise InputError(f"{path}: the FHIR server could not be reached ({exc})") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    problems = failed_entries(answer)
    if response.status_code >= 300 or problems:
        raise InputError(f"{path}: HTTP {response.status_code}; {'; '.join(problems[:3])}")
    patients = tuple(r["id"] for r in resources if r["resourceType"] == "Patient")
    return Loaded(path, len(resources), patients)


def load_files(
    paths: list[Path],
    base_url: str,
    token: str | None = None,
    report: Callable[[Loaded], None] = lambda loaded: None,
) -> list[Loaded]:
    """Load every file; stops at the first the server refuses (:class:`InputError`)."""
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    loaded = []
    with requests.Session() as session:
        for path in paths:
            loaded.append(load_file(path, base_url, session, headers))
            report(loaded[-1])
    return loaded
