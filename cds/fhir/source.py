"""Where the patient's data comes from: the request's prefetch first, then the EHR's FHIR server.

CDS Hooks 2.0 prefetch semantics: a key that is **absent**, or holds an **OperationOutcome**, is
fetched from ``fhirServer`` with ``fhirAuthorization``'s bearer token; a key that is **null** means
"no data" and is not re-queried; a prefetched searchset with a ``next`` link is completed from the
server. Fetches run concurrently, each bounded by the call's deadline. The Patient is required:
without it the call ends in 412 (spec: "SHALL respond with 412"). Any other key that cannot be
obtained is reported, by key and reason, so the card can say which data is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from cds.errors import DeadlineExceeded, MissingData
from cds.fhir.client import FhirClient, FhirFetchError, next_link
from cds.fhir.record import PatientRecord, flatten, record_from_resources

Resource = dict[str, Any]
TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")
REQUIRED_KEYS = ("patient",)


@dataclass
class Gathered:
    """The resources obtained, and for each prefetch key that could not be obtained, why."""

    resources: list[Resource] = field(default_factory=list)
    unobtainable: dict[str, str] = field(default_factory=dict)
    partial: list[str] = field(default_factory=list)  # prefetched keys with unread next pages

    def notes(self) -> list[str]:
        return [f"could not obtain '{key}': {why}" for key, why in self.unobtainable.items()]

    def unavailable_types(self, templates: dict[str, str]) -> set[str]:
        """Resource types none of whose data could be obtained (``Condition?…`` → Condition)."""

        def kind(template: str) -> str:
            return re.split(r"[/?]", template, maxsplit=1)[0]

        lost = {kind(templates[k]) for k in self.unobtainable if k in templates}
        kept = {kind(t) for k, t in templates.items() if k not in self.unobtainable}
        return lost - kept


def gathered_record(
    gathered: Gathered, patient_id: str, templates: dict[str, str]
) -> PatientRecord:
    """The patient's record from what was gathered, knowing which resource types were lost."""
    aliases: dict[str, str] = {}
    notes = gathered.notes()
    resources = flatten(gathered.resources, aliases, notes)
    record = record_from_resources(resources, patient_id, aliases, notes)
    record.unavailable = gathered.unavailable_types(templates)
    return record


def render_template(template: str, context: dict[str, Any]) -> str | None:
    """Fill ``{{context.x}}`` tokens with first-level primitive context values (URL-quoted).

    :return: ``None`` when a token cannot be filled (the spec's "unresolved token").
    """
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        value = context.get(name.removeprefix("context.")) if name.startswith("context.") else None
        if not isinstance(value, str | int) or isinstance(value, bool):
            missing = True
            return ""
        return quote(str(value), safe="/")

    rendered = TOKEN.sub(fill, template)
    return None if missing else rendered


def is_operation_outcome(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"


class DataSource:
    """Resolves a hook request's prefetch, fetching what is missing.

    :param make_client: builds a :class:`FhirClient` for the request's server, or ``None`` when
        the request names no FHIR server.
    """

    def __init__(
        self,
        templates: dict[str, str],
        executor: Executor,
        make_client: Callable[[], FhirClient | None],
    ) -> None:
        self.templates = templates
        self.executor = executor
        self.make_client = make_client

    def gather(self, prefetch: dict[str, Any], context: dict[str, Any]) -> Gathered:
        """Collect every template's data; raise :class:`MissingData` without a Patient.

        :raise DeadlineExceeded: when fetching outlasts the call's deadline.
        """
        gathered = Gathered()
        client = self.make_client()
        jobs: dict[str, Future[list[Resource]]] = {}
        for key, template in self.templates.items():
            value = prefetch.get(key, ...)
            if value is None:
                continue  # null: the EHR has no data for this key
            if value is not ... and not is_operation_outcome(value):
                self.prefetched(key, value, client, jobs, gathered)
                continue
            query = render_template(template, context)
            if client is None or query is None:
                why = "no FHIR server given" if client is None else "template token not filled"
                gathered.unobtainable[key] = (
                    "the EHR sent an OperationOutcome and " + why if value is not ... else why
                )
                continue
            jobs[key] = self.executor.submit(fetch, client, query)
        for key, value in prefetch.items():
            # Data the EHR sent under a key of its own is used too: nothing sent is dropped.
            if key not in self.templates and value is not None and not is_operation_outcome(value):
                self.prefetched(key, value, client, jobs, gathered)
        self.collect(jobs, gathered, client)
        for key in gathered.partial:
            gathered.unobtainable[f"{key} (next pages)"] = "no FHIR server to follow the next link"
        for key in REQUIRED_KEYS:
            if key in gathered.unobtainable:
                raise MissingData(
                    f"the Patient could not be obtained: {gathered.unobtainable[key]}"
                )
        return gathered

    def prefetched(
        self,
        key: str,
        value: Any,
        client: FhirClient | None,
        jobs: dict[str, Future[list[Resource]]],
        gathered: Gathered,
    ) -> None:
        """Take a prefetched value; a searchset with more pages is completed from the server."""
        if not isinstance(value, dict):
            return
        gathered.resources.append(value)
        more = next_link(value) if value.get("resourceType") == "Bundle" else None
        if more and client is not None:
            jobs[f"{key} (next pages)"] = self.executor.submit(client.search, more)
        elif more:
            gathered.partial.append(key)

    def collect(
        self, jobs: dict[str, Future[list[Resource]]], gathered: Gathered, client: FhirClient | None
    ) -> None:
        for key, job in jobs.items():
            timeout = max(client.deadline.remaining(), 0) if client else 0
            try:
                gathered.resources.extend(job.result(timeout=timeout))
            except FutureTimeout as exc:
                for other in jobs.values():
                    other.cancel()
                raise DeadlineExceeded(f"FHIR fetch of '{key}' outlasted the deadline") from exc
            except FhirFetchError as exc:
                gathered.unobtainable[key] = str(exc)


def fetch(client: FhirClient, query: str) -> list[Resource]:
    """Run one prefetch query: a read (``Type/id``) or a search (``Type?…``)."""
    if "?" in query:
        return client.search(query)
    return [client.read(query)]
