"""Where the patient's data comes from: the request's prefetch first, then the EHR's FHIR server.

CDS Hooks 2.0 prefetch semantics: a key that is **absent**, or holds an **OperationOutcome**, is
fetched from ``fhirServer`` with ``fhirAuthorization``'s bearer token; a key that is **null** means
"no data" and is not re-queried; a prefetched searchset with a ``next`` link is completed from the
server. Fetches run concurrently, each bounded by the call's deadline. The Patient is required:
without it (not obtained in time, or sent as ``null`` or as another resource type) the call ends
in 412 (spec: "SHALL respond with 412"). Any other key that cannot be obtained, in time or at
all, is reported by key and reason, so the card can say which data is missing; a search whose
later pages were lost counts as not obtained for its resource type.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from cds.errors import MissingData
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

        # A search whose later pages were not read is incomplete: what it did not find may
        # be on those pages (an HCC diagnosis among the Conditions), so its type counts as lost.
        incomplete = {k.removesuffix(NEXT_PAGES) for k in self.unobtainable}
        lost = {kind(templates[k]) for k in incomplete if k in templates}
        kept = {kind(t) for k, t in templates.items() if k not in incomplete}
        return lost - kept


def gathered_record(
    gathered: Gathered, patient_id: str, templates: dict[str, str]
) -> PatientRecord:
    """The patient's record from what was gathered, knowing which resource types were lost."""
    return record_and_resources(gathered, patient_id, templates)[0]


def record_and_resources(
    gathered: Gathered, patient_id: str, templates: dict[str, str]
) -> tuple[PatientRecord, list[Resource]]:
    """The patient's record, and every resource gathered (flattened out of their Bundles; the
    order checks look for a Medication among them)."""
    aliases: dict[str, str] = {}
    notes = gathered.notes()
    resources = flatten(gathered.resources, aliases, notes)
    record = record_from_resources(resources, patient_id, aliases, notes)
    record.unavailable = gathered.unavailable_types(templates)
    return record, resources


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


Job = Callable[[], list[Resource]]
NEXT_PAGES = " (next pages)"
# How long past the deadline a fetch may take to notice that its socket was shut.
GRACE_SECONDS = 0.25


class DataSource:
    """Resolves a hook request's prefetch, fetching what is missing.

    Each call fetches on threads of its own (one per query, at most ``max_threads``), so a call
    naming a slow server never waits for threads held by another call; every fetch ends by the
    call's deadline (:func:`cds.fhir.client.get_bytes`), so those threads are bounded in time too.

    :param make_client: builds a :class:`FhirClient` for the request's server, or ``None`` when
        the request names no FHIR server.
    """

    def __init__(
        self,
        templates: dict[str, str],
        make_client: Callable[[], FhirClient | None],
        max_threads: int = 8,
    ) -> None:
        self.templates = templates
        self.make_client = make_client
        self.max_threads = max_threads

    def gather(self, prefetch: dict[str, Any], context: dict[str, Any]) -> Gathered:
        """Collect every template's data; raise :class:`MissingData` without a Patient.

        Data not obtained in time is reported like any other fetch failure (the card names
        it); the Patient not obtained, or sent as ``null`` or as another resource, is 412.
        """
        gathered = Gathered()
        client = self.make_client()
        try:
            jobs = self.plan(prefetch, context, client, gathered)
            if jobs:
                assert client is not None  # only a client's queries are planned
                self.run(jobs, client, gathered)
        finally:
            if client is not None:
                client.close()
        for key in gathered.partial:
            gathered.unobtainable[key + NEXT_PAGES] = "no FHIR server to follow the next link"
        for key in REQUIRED_KEYS:
            if key in gathered.unobtainable:
                raise MissingData(
                    f"the Patient could not be obtained: {gathered.unobtainable[key]}"
                )
        return gathered

    def plan(
        self,
        prefetch: dict[str, Any],
        context: dict[str, Any],
        client: FhirClient | None,
        gathered: Gathered,
    ) -> dict[str, Job]:
        """Take what was prefetched; return the fetches still needed, by key."""
        jobs: dict[str, Job] = {}
        for key, template in self.templates.items():
            value = prefetch.get(key, ...)
            if key in REQUIRED_KEYS and not_a_patient(value):
                gathered.unobtainable[key] = "the EHR sent " + describe(value)
                continue
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
            jobs[key] = functools.partial(fetch, client, query)
        for key, value in prefetch.items():
            # Data the EHR sent under a key of its own is used too: nothing sent is dropped.
            if key not in self.templates and value is not None and not is_operation_outcome(value):
                self.prefetched(key, value, client, jobs, gathered)
        return jobs

    def prefetched(
        self,
        key: str,
        value: Any,
        client: FhirClient | None,
        jobs: dict[str, Job],
        gathered: Gathered,
    ) -> None:
        """Take a prefetched value; a searchset with more pages is completed from the server."""
        if not isinstance(value, dict):
            return
        gathered.resources.append(value)
        more = next_link(value) if value.get("resourceType") == "Bundle" else None
        if more and client is not None:
            jobs[key + NEXT_PAGES] = functools.partial(client.follow, more)
        elif more:
            gathered.partial.append(key)

    def run(self, jobs: dict[str, Job], client: FhirClient, gathered: Gathered) -> None:
        pool = ThreadPoolExecutor(min(len(jobs), self.max_threads), "fhir-fetch")
        try:
            futures = {key: pool.submit(job) for key, job in jobs.items()}
            for key, future in futures.items():
                timeout = max(client.deadline.remaining(), 0) + GRACE_SECONDS
                try:
                    resources = future.result(timeout=timeout)
                    if key in REQUIRED_KEYS and not all(map(is_usable_patient, resources)):
                        raise FhirFetchError("not-fhir", "the Patient read gave another resource")
                    gathered.resources.extend(resources)
                except FutureTimeout:
                    future.cancel()
                    gathered.unobtainable[key] = "timeout: not obtained within the call's deadline"
                except FhirFetchError as exc:
                    gathered.unobtainable[key] = str(exc)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def not_a_patient(value: Any) -> bool:
    """The Patient key holds something else (an OperationOutcome is not: it is fetched)."""
    return value is not ... and not is_usable_patient(value) and not is_operation_outcome(value)


def is_usable_patient(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "Patient"


def describe(value: Any) -> str:
    """What the EHR sent in place of the Patient, in words that quote none of it."""
    if value is None:
        return "null for the Patient"
    if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
        return f"a {value['resourceType'][:40]} instead of the Patient"
    return "something that is not a FHIR resource instead of the Patient"


def fetch(client: FhirClient, query: str) -> list[Resource]:
    """Run one prefetch query: a read (``Type/id``) or a search (``Type?…``)."""
    if "?" in query:
        return client.search(query)
    return [client.read(query)]
