"""Loading Bundles and CDS Hooks requests into one patient's record."""

from __future__ import annotations

import pytest

from cds.errors import InputError
from cds.fhir.record import load_record
from tests.fhir.factories import HCC_CONDITION, PATIENT, bundle, lab


@pytest.mark.parametrize("kind", ["collection", "searchset", "transaction", "batch"])
def test_bundle_types(kind):
    """Collection, searchset, transaction and batch Bundles all load."""
    record = load_record(bundle(HCC_CONDITION, kind=kind))
    assert record.patient["id"] == "p1"
    assert len(record.of_type("Condition")) == 1


def test_urn_uuid_references_resolve():
    """Transaction entries named by urn:uuid are matched to their patient."""
    data = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:aaa",
                "resource": {"resourceType": "Patient", "birthDate": "1950-01-01"},
            },
            {
                "fullUrl": "urn:uuid:bbb",
                "resource": {**HCC_CONDITION, "id": None, "subject": {"reference": "urn:uuid:aaa"}},
            },
        ],
    }
    data["entry"][1]["resource"].pop("id")
    record = load_record(data)
    assert record.patient_ref == "Patient/aaa"
    assert [c["id"] for c in record.of_type("Condition")] == ["bbb"]


def test_other_patients_resources_are_dropped():
    """A resource whose subject is another patient is not read."""
    other = {**HCC_CONDITION, "id": "x", "subject": {"reference": "Patient/someone-else"}}
    assert load_record(bundle(other)).of_type("Condition") == []


def test_hook_request_prefetch_with_null_and_operation_outcome():
    """A hook request's prefetch: resources and searchsets are read, null is no data, an
    OperationOutcome is noted."""
    request = {
        "hook": "patient-view",
        "hookInstance": "1",
        "context": {"patientId": "p1", "userId": "x"},
        "prefetch": {
            "patient": PATIENT,
            "conditions": bundle(HCC_CONDITION, kind="searchset"),
            "observations": None,
            "procedures": {"resourceType": "OperationOutcome", "issue": []},
        },
    }
    record = load_record(request)
    assert record.patient["id"] == "p1"
    assert len(record.of_type("Condition")) == 1
    assert any("OperationOutcome" in n for n in record.notes)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "not a JSON object"),
        ({"foo": 1}, "neither a FHIR Bundle"),
        (bundle(lab("x", "1975-2", 1.0, "mg/dL"))["entry"][1]["resource"], "no Patient"),
        (
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    {"resource": {"resourceType": "Patient", "id": "a"}},
                    {"resource": {"resourceType": "Patient", "id": "b"}},
                ],
            },
            "more than one Patient",
        ),
        (
            {"hook": "patient-view", "context": {"patientId": "zz"}, "prefetch": {"p": PATIENT}},
            "no Patient with id 'zz'",
        ),
    ],
)
def test_unreadable_input_raises_input_error(data, message):
    """Inputs that are not a Bundle or hook request, or name no single Patient, are refused."""
    with pytest.raises(InputError, match=message):
        load_record(data)
