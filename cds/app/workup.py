"""The work-up of the patient in context: read the record, assess it, render the page.

The record is read with the same prefetch queries as the patient-view card (the service's
``hcc-assessment`` definition), through the service's one FHIR client and data source, and
assessed by the same pipeline, so the page and the card cannot disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from cds.app.errors import AppError
from cds.app.pages import render
from cds.app.settings import AppSettings
from cds.app.trends import build_trends
from cds.app.view import workup_view
from cds.errors import InputError, MissingData
from cds.fhir.client import Deadline, FhirClient, FhirLimits
from cds.fhir.record import PatientRecord, load_record
from cds.fhir.source import DataSource, gathered_record
from cds.fhir.url_policy import parse_allowed
from cds.paths import data_dir
from cds.pipeline import assess_record
from cds.report.assessment_json import to_json

if TYPE_CHECKING:
    from cds.service.wiring import Services

SERVICE_ID = "hcc-assessment"  # the card's service: the page reads what the card reads
DEMO_FIXTURE = "trend_12_months.json"  # a fixture with a year of labs (fhir_fixtures/README.md)

# The reason of a failed Patient read (cds.fhir.client kinds) → the page and its status.
PATIENT_FAILURES = {
    "unauthorized": ("fhir_unauthorized", 401),
    "forbidden": ("fhir_forbidden", 403),
    "not-found": ("patient_not_found", 404),
    "timeout": ("fhir_timeout", 504),
}


@dataclass
class Loaded:
    """A patient's record and, by prefetch key, what could not be loaded."""

    record: PatientRecord
    unobtainable: dict[str, str] = field(default_factory=dict)


def load_from_fhir(
    services: Services, settings: AppSettings, iss: str, token: str, patient_id: str
) -> Loaded:
    """Read the record from the EHR with the session's token.

    :raise AppError: when the Patient itself cannot be read (status by reason).
    """
    templates = services.definitions[SERVICE_ID].prefetch
    service = services.settings
    limits = FhirLimits(
        service.fhir_timeout_seconds, service.fhir_max_pages, service.fhir_max_bytes
    )
    deadline = Deadline.after(settings.fetch_seconds)
    base = parse_allowed(iss, services.url_policy)  # checked at launch; checked again here

    def make_client() -> FhirClient:
        session = services.session_factory()
        return FhirClient(base, token, session, limits, deadline, services.url_policy)

    source = DataSource(templates, make_client, service.fetch_workers)
    try:
        gathered = source.gather({}, {"patientId": patient_id})
    except MissingData as exc:  # the Patient itself: its reason decides the page
        reason = str(exc).split("obtained: ", 1)[-1]
        key, status = PATIENT_FAILURES.get(reason.split(":", 1)[0], ("fhir_failed", 502))
        raise AppError(key, status, reason) from None
    return Loaded(gathered_record(gathered, patient_id, templates), dict(gathered.unobtainable))


def page(loaded: Loaded, as_of: date, settings: AppSettings) -> str:
    """The work-up page of a record already read (what the benchmark times)."""
    assessment = assess_record(loaded.record, as_of)
    trends = build_trends(loaded.record, as_of, settings.trend_months)
    view = workup_view(to_json(assessment), trends, loaded.unobtainable)
    return render("workup.html.j2", v=view)


def workup_page(
    services: Services, settings: AppSettings, iss: str, token: str, patient_id: str
) -> str:
    loaded = load_from_fhir(services, settings, iss, token, patient_id)
    return page(loaded, services.as_of(), settings)


def demo_page(services: Services, settings: AppSettings, fixture: str | None) -> str:
    """Development only: the work-up of a built-in fixture (no EHR, no sign-in)."""
    name = f"{fixture}.json" if fixture else DEMO_FIXTURE
    path = data_dir("fhir_fixtures") / name
    if "/" in name or not path.is_file():
        raise AppError("patient_not_found", 404, "no such fixture")
    try:
        record = load_record(json.loads(path.read_text(encoding="utf-8")))
    except InputError as exc:
        raise AppError("fhir_failed", 422, str(exc)) from None
    return page(Loaded(record), services.as_of(), settings)
