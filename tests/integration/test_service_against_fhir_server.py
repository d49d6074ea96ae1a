"""The service against a real FHIR R4 server (Medplum, in memory): no prefetch, only fhirServer.

Every project fixture is loaded into one server; each patient-view call must give the card its
hand-worked recommendation calls for, with every query answered by the real server.
"""

from __future__ import annotations

import json

import pytest

from cds import create_app
from tests.api.conftest import CheckingClient, app_config
from tests.api.requests_from_fixtures import FIXTURES, hook_request, resources_of
from tests.api.test_patient_view import assert_expected_card
from tests.integration.fhir_server import require_fhir_server, start_fhir_server

CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))


@pytest.fixture(scope="module")
def fhir_server():
    require_fhir_server()
    server = start_fhir_server()
    try:
        for name in CASES:
            document = json.loads((FIXTURES / f"{name}.json").read_text())
            server.load(resources_of(document))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(tmp_path_factory, fhir_server):
    config = app_config(
        tmp_path_factory.mktemp("db"),
        DEADLINE_SECONDS=10.0,
        FHIR_TIMEOUT_SECONDS=8.0,
        FHIR_ALLOW_LOOPBACK_HTTP=True,  # the in-memory server listens on plain http, loopback
    )
    return CheckingClient(create_app(config).test_client())


def no_prefetch(name, server, **extra):
    request = hook_request(name, fhirServer=server.base_url, **extra)
    del request["prefetch"]
    return request


def order_sign(name, server, order):
    """An order-sign call without prefetch whose draftOrders Bundle holds ``order``."""
    drafts = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}
    return no_prefetch(name, server, hook="order-sign", context={"draftOrders": drafts})


@pytest.mark.parametrize("name", CASES)
def test_patient_view_fetches_everything_from_the_server(client, fhir_server, name):
    """No prefetch: the service queries the real server and gives the expected card."""
    response = client.post("/cds-services/hcc-assessment", json=no_prefetch(name, fhir_server))
    assert_expected_card(name, response)


def test_order_sign_against_the_server(client, fhir_server):
    """order-sign, sorafenib for a Child-Pugh C patient with a TACE ordered on the server: the
    ServiceRequest search finds the TACE, so the sorafenib is judged with it (critical)."""
    patient = hook_request("child_pugh_c")["context"]["patientId"]
    fhir_server.load(
        [
            {
                "resourceType": "ServiceRequest",
                "id": "tace-ordered",
                "status": "active",
                "intent": "order",
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "441525007"}]},
                "subject": {"reference": f"Patient/{patient}"},
            }
        ]
    )
    order = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/x"},
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "597747"}]
        },
    }
    request = order_sign("child_pugh_c", fhir_server, order)
    [card] = client.post("/cds-services/hcc-order-check", json=request).json["cards"]
    assert card["indicator"] == "critical"
    assert card["extension"]["org.example.hcc-cds.order"]["withTace"] == {
        "kind": "ordered",
        "resource": "ServiceRequest/tace-ordered",
    }


def test_medication_reference_is_read_from_the_server(client, fhir_server):
    """A draft naming Medication/nexavar-200 (only on the server): read, recognised, judged."""
    fhir_server.load(
        [
            {
                "resourceType": "Medication",
                "id": "nexavar-200",
                "code": {
                    "coding": [
                        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "615979"}
                    ]
                },
            }
        ]
    )
    order = {
        "resourceType": "MedicationRequest",
        "id": "draft-2",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/x"},
        "medicationReference": {"reference": "Medication/nexavar-200"},
    }
    request = order_sign("child_pugh_c", fhir_server, order)
    cards = client.post("/cds-services/hcc-order-check", json=request).json["cards"]
    # judged, recognised by the code of the server's Medication (the verdict depends on whether
    # the server holds a TACE for the patient, which another test adds)
    [card] = cards
    assert card["extension"]["org.example.hcc-cds.order"]["kind"] == "sorafenib"
    assert card["extension"]["org.example.hcc-cds.order"]["recognised"] == "code"
    assert card["extension"]["org.example.hcc-cds.order"]["draft"] == "MedicationRequest/draft-2"


def test_unknown_patient_on_the_server_is_412(client, fhir_server):
    """A patient id the server does not know: the Patient read is 404, the answer 412."""
    request = no_prefetch("child_pugh_a5", fhir_server)
    request["context"]["patientId"] = "no-such-patient"
    response = client.post("/cds-services/hcc-assessment", json=request)
    assert response.status_code == 412
    assert "not-found" in response.json["issue"][0]["diagnostics"]
