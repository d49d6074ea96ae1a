"""The main job, end to end: parsed JSON → patient record → inputs → assessment → JSON."""

from __future__ import annotations

from datetime import date
from typing import Any

from cds.clinical.assessment import Assessment, Settings, assess
from cds.fhir.extract import extract
from cds.fhir.record import PatientRecord, load_record
from cds.report.assessment_json import to_json


def assess_record(
    record: PatientRecord, as_of: date, settings: Settings | None = None
) -> Assessment:
    return assess(extract(record, as_of), as_of, settings)


def assess_document(data: Any, as_of: date, settings: Settings | None = None) -> dict[str, Any]:
    """Assess a Bundle or CDS Hooks request; raises :class:`cds.errors.InputError` if unreadable."""
    return to_json(assess_record(load_record(data), as_of, settings))
