"""Load a FHIR Bundle or a CDS Hooks request into one patient's resources.

Accepted: a Bundle of type collection, searchset, transaction, batch, document or history (entries
with ``urn:uuid:`` full URLs are given their ``Type/id`` name, so references resolve), a single
resource, or a CDS Hooks request (its ``prefetch`` values: resources, searchset Bundles, ``null``;
an OperationOutcome in prefetch is noted and skipped). Resources that belong to another patient are
dropped. Only plain JSON is read here: validation with the FHIR models happens after selection
(see :mod:`cds.fhir.validate`), so that a large Bundle costs little more than its JSON parse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cds.errors import InputError

Resource = dict[str, Any]


@dataclass
class PatientRecord:
    """One patient's resources by type, with references normalised to ``Type/id``."""

    patient: Resource
    by_type: dict[str, list[Resource]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Resource types that could not be obtained at all (so their absence means "unknown").
    unavailable: set[str] = field(default_factory=set)

    @property
    def patient_ref(self) -> str:
        return f"Patient/{self.patient.get('id')}"

    def of_type(self, resource_type: str) -> list[Resource]:
        return self.by_type.get(resource_type, [])


def is_hook_request(data: dict[str, Any]) -> bool:
    return "hook" in data and "context" in data


MAX_BUNDLE_NESTING = 3  # a Bundle in a Bundle in a Bundle; deeper ones are not read


def entries_of(bundle: Resource) -> list[Any]:
    """``Bundle.entry`` when it is a list (this is read before validation), else nothing."""
    entries = bundle.get("entry")
    return entries if isinstance(entries, list) else []


def iter_bundle(bundle: Resource, aliases: dict[str, str], depth: int = 0) -> Iterator[Resource]:
    """The resources of a Bundle (nested Bundles included), recording urn:uuid aliases."""
    for entry in entries_of(bundle):
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        if resource.get("resourceType") == "Bundle":
            if depth < MAX_BUNDLE_NESTING:
                yield from iter_bundle(resource, aliases, depth + 1)
            continue
        full_url = entry.get("fullUrl")
        # Only urn:uuid names need an alias: absolute URLs end in Type/id already.
        if (
            isinstance(full_url, str)
            and full_url.startswith("urn:uuid:")
            and isinstance(resource.get("resourceType"), str)
        ):
            resource.setdefault("id", full_url.removeprefix("urn:uuid:"))
            aliases[full_url] = f"{resource['resourceType']}/{resource['id']}"
        yield resource


def flatten(items: Iterable[Any], aliases: dict[str, str], notes: list[str]) -> list[Resource]:
    """Resources from a mix of Bundles, single resources and ``None``."""
    resources: list[Resource] = []
    for item in items:
        if item is None:
            continue
        if not isinstance(item, dict) or not isinstance(item.get("resourceType"), str):
            notes.append("a prefetch value that is not a FHIR resource was skipped")
            continue
        if item["resourceType"] == "Bundle":
            resources.extend(iter_bundle(item, aliases))
        elif item["resourceType"] == "OperationOutcome":
            notes.append("a prefetch value was an OperationOutcome (the EHR could not fetch it)")
        else:
            resources.append(item)
    return resources


def normalise_ref(raw: str, aliases: dict[str, str]) -> str:
    """``urn:uuid:…`` → its alias; an absolute or versioned URL → ``Type/id``."""
    if raw in aliases:
        return aliases[raw]
    if raw.count("/") == 1:  # already "Type/id", by far the most common form
        return raw
    parts = raw.split("/_history")[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else raw


def subject_ref(resource: Resource, aliases: dict[str, str]) -> str | None:
    """The resource's patient reference as ``Patient/id`` (or ``None`` when it has none)."""
    for key in ("subject", "patient"):
        ref = resource.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return normalise_ref(ref["reference"], aliases)
    return None


def choose_patient(patients: list[Resource], wanted: str | None) -> Resource:
    if wanted:
        wanted = wanted.removeprefix("Patient/")
        for p in patients:
            if p.get("id") == wanted:
                return p
        raise InputError(f"no Patient with id '{wanted}' in the input")
    if not patients:
        raise InputError("the input has no Patient resource")
    if len({p.get("id") for p in patients}) > 1:
        raise InputError("the input holds more than one Patient; name one with its id")
    return patients[0]


def record_from_resources(
    resources: list[Resource],
    patient_id: str | None = None,
    aliases: dict[str, str] | None = None,
    notes: list[str] | None = None,
) -> PatientRecord:
    """Group the resources of one patient by type."""
    aliases = aliases or {}
    patient = choose_patient(
        [r for r in resources if r.get("resourceType") == "Patient"], patient_id
    )
    record = PatientRecord(patient=patient, notes=list(notes or []))
    own = record.patient_ref
    grouped: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        kind = resource.get("resourceType")
        if kind == "Patient":
            continue
        ref = subject_ref(resource, aliases)
        if ref is not None and ref != own:
            continue  # another patient's resource
        grouped[str(kind)].append(resource)
    record.by_type = dict(grouped)
    return record


def load_record(data: Any) -> PatientRecord:
    """Read a parsed JSON document (Bundle, resource or CDS Hooks request) into a record.

    :raise InputError: when it is none of these, or holds no (single) Patient.
    """
    if not isinstance(data, dict):
        raise InputError("the input is not a JSON object")
    aliases: dict[str, str] = {}
    notes: list[str] = []
    if is_hook_request(data):
        prefetch = data.get("prefetch") or {}
        if not isinstance(prefetch, dict):
            raise InputError("the hook request's prefetch is not an object")
        context = data.get("context")
        patient_id = context.get("patientId") if isinstance(context, dict) else None
        resources = flatten(prefetch.values(), aliases, notes)
        return record_from_resources(
            resources, patient_id if isinstance(patient_id, str) else None, aliases, notes
        )
    if not isinstance(data.get("resourceType"), str):
        raise InputError("the input is neither a FHIR Bundle or resource nor a CDS Hooks request")
    resources = flatten([data], aliases, notes)
    return record_from_resources(resources, None, aliases, notes)
