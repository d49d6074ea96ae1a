"""Smoke tests of the loopback FHIR R4 test server (tools/fhir-server) and its Python helper."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.integration.fhir_server import (
    REPO_ROOT,
    FhirServer,
    require_fhir_server,
    start_fhir_server,
)

EXTERNAL = REPO_ROOT / "tests" / "external_fixtures"  # public files, copied with their licences
LIVER_SUBSET = "synthea-r4-Murray_Hane-liver-subset.json"
US_CORE_BILIRUBIN = "us-core-Observation-serum-total-bilirubin.json"
SYNTHEA_PATIENT_URN = "urn:uuid:0d1d30da-56ac-46ab-887e-5f0699593059"
FHIR_JSON = {"Accept": "application/fhir+json"}


@pytest.fixture(scope="module")
def fhir_server():
    require_fhir_server()
    with start_fhir_server() as server:
        yield server


@pytest.fixture(scope="module")
def patient_ref(fhir_server: FhirServer) -> str:
    identities = fhir_server.load(external_fixture(LIVER_SUBSET))
    return identities[SYNTHEA_PATIENT_URN]


def external_fixture(name: str) -> Path:
    return EXTERNAL / name


def get(server: FhirServer, path: str, **params) -> requests.Response:
    return requests.get(server.url(path), params=params, headers=FHIR_JSON, timeout=10)


def test_read_patient(fhir_server, patient_ref):
    """The Synthea Patient loaded from the transaction Bundle can be read back by id."""
    response = get(fhir_server, patient_ref)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    patient = response.json()
    assert f"Patient/{patient['id']}" == patient_ref
    assert patient["name"][0]["family"] == "Hane"


def test_search_bilirubin_by_subject_and_code(fhir_server, patient_ref):
    """A subject + LOINC code search finds the one bilirubin, its urn:uuid subject rewritten."""
    bundle = get(
        fhir_server, "Observation", subject=patient_ref, code="http://loinc.org|1975-2"
    ).json()
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    [entry] = bundle["entry"]
    observation = entry["resource"]
    assert observation["code"]["coding"][0]["code"] == "1975-2"
    assert observation["subject"]["reference"] == patient_ref
    assert entry["fullUrl"] == fhir_server.url(f"Observation/{observation['id']}")


def test_count_gives_next_link_that_can_be_followed(fhir_server, patient_ref):
    """With _count=2 each page has a next link until all six Observations have been seen."""
    url = fhir_server.url("Observation")
    params: dict | None = {"subject": patient_ref, "_count": "2"}
    seen, pages = [], 0
    while url:
        bundle = requests.get(url, params=params, headers=FHIR_JSON, timeout=10).json()
        pages, params = pages + 1, None
        assert len(bundle["entry"]) <= 2
        seen += [entry["resource"]["id"] for entry in bundle["entry"]]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    assert pages == 3
    assert len(seen) == len(set(seen)) == 6


def test_sort_by_date_descending(fhir_server, patient_ref):
    """_sort=-date returns the Observations newest first."""
    bundle = get(fhir_server, "Observation", subject=patient_ref, _sort="-date").json()
    dates = [entry["resource"]["effectiveDateTime"] for entry in bundle["entry"]]
    assert len(dates) == 6
    assert dates == sorted(dates, reverse=True)
    assert dates[0].startswith("2005-11-04") and dates[-1].startswith("1998-07-18")


def test_missing_resource_is_404_operation_outcome(fhir_server):
    """Reading an id that does not exist answers 404 with an OperationOutcome."""
    response = get(fhir_server, "Patient/does-not-exist")
    assert response.status_code == 404
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"


def test_metadata_is_r4(fhir_server):
    """GET /metadata returns a CapabilityStatement for FHIR 4.0.1."""
    response = get(fhir_server, "metadata")
    assert response.status_code == 200
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"


def test_options_preflight_has_cors_headers(fhir_server):
    """A browser's OPTIONS preflight is answered with CORS headers allowing authorization."""
    response = requests.options(
        fhir_server.url("Observation"),
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        timeout=10,
    )
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://sandbox.cds-hooks.org")
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_load_plain_resource_keeps_its_id(fhir_server):
    """A resource loaded outside a transaction Bundle is PUT by Type/id, so its id is kept."""
    observation = json.loads(external_fixture(US_CORE_BILIRUBIN).read_text(encoding="utf-8"))
    collection = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": observation}],
    }
    identities = fhir_server.load(collection)
    assert identities["Observation/serum-total-bilirubin"] == "Observation/serum-total-bilirubin"
    bundle = get(fhir_server, "Observation", subject="Patient/example").json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == ["serum-total-bilirubin"]


def test_patient_search_accepts_a_bare_id_as_real_servers_do(fhir_server):
    """`patient=<id>` finds what `patient=Patient/<id>` finds, by GET and by POST _search."""
    fhir_server.load(
        [
            {"resourceType": "Patient", "id": "bare-1"},
            {
                "resourceType": "Condition",
                "id": "bare-c1",
                "subject": {"reference": "Patient/bare-1"},
                "code": {"text": "x"},
            },
        ]
    )
    typed = get(fhir_server, "Condition", patient="Patient/bare-1").json()
    bare = get(fhir_server, "Condition", patient="bare-1").json()
    posted = requests.post(
        fhir_server.url("Condition/_search"),
        data={"patient": "bare-1"},
        headers=FHIR_JSON,
        timeout=10,
    ).json()
    ids = [[e["resource"]["id"] for e in b.get("entry", [])] for b in (typed, bare, posted)]
    assert ids == [["bare-c1"]] * 3
