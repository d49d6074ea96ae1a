"""Prefetch semantics (CDS Hooks 2.0) and the FHIR-server fallback, with ``responses``."""

from __future__ import annotations

import re
import threading
import time

import pytest
import requests
import responses

from cds.render.messages import messages
from tests.api.requests_from_fixtures import hook_request, prefetch_of, searchset

FHIR = "https://fhir.example.org/r4"
NAME = "nct00919009_eligible"
URL = "/cds-services/hcc-assessment"


def kind(response):
    return response.json["cards"][0]["extension"]["org.example.hcc-cds.card-kind"]


def serve(rsps, key, payload, status=200, **kwargs):
    """Register the FHIR query the service makes for one prefetch key (``payload`` as JSON, or
    ``body=`` for raw text or an exception)."""
    patterns = {
        "patient": r"/Patient/[^?]+$",
        "labs": r"/Observation\?.*1975-2",
        "findings": r"/Observation\?.*nodule-count",
        "conditions": r"/Condition\?",
        "procedures": r"/Procedure\?",
    }
    if payload is not None:
        kwargs["json"] = payload
    rsps.add(responses.GET, re.compile(re.escape(FHIR) + patterns[key]), status=status, **kwargs)


def without(prefetch, *keys):
    return {k: v for k, v in prefetch.items() if k not in keys}


@responses.activate
def test_full_prefetch_makes_no_fhir_call(client):
    """With every key prefetched the FHIR server is not called."""
    response = client.post(URL, json=hook_request(NAME, fhirServer=FHIR))
    assert response.status_code == 200
    assert kind(response) == "tace_protocol"
    assert len(responses.calls) == 0


@responses.activate
def test_absent_keys_are_fetched_with_the_token(client):
    """Absent keys are fetched from fhirServer with fhirAuthorization's bearer token."""
    full = prefetch_of(NAME)
    for key in ("labs", "conditions"):
        serve(responses, key, full[key])
    request = hook_request(
        NAME,
        prefetch=without(full, "labs", "conditions"),
        fhirServer=FHIR,
        fhirAuthorization={
            "access_token": "tok-123",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "hcc-cds",
        },
    )
    response = client.post(URL, json=request)
    assert kind(response) == "tace_protocol"
    assert len(responses.calls) == 2
    assert all(c.request.headers["Authorization"] == "Bearer tok-123" for c in responses.calls)
    assert all("subject=Patient/" in c.request.url for c in responses.calls)


@responses.activate
def test_no_prefetch_at_all_fetches_everything(client):
    """Like the public sandbox without templates: no prefetch key, all fetched."""
    full = prefetch_of(NAME)
    for key, value in full.items():
        serve(responses, key, value)
    request = hook_request(NAME, fhirServer=FHIR)
    del request["prefetch"]
    assert kind(client.post(URL, json=request)) == "tace_protocol"
    assert len(responses.calls) == 5


@responses.activate
def test_null_means_no_data_and_is_not_requeried(client):
    """A null prefetch value is 'no data': the server is not asked again."""
    prefetch = {**prefetch_of(NAME), "procedures": None}
    response = client.post(URL, json=hook_request(NAME, prefetch=prefetch, fhirServer=FHIR))
    assert response.status_code == 200
    assert len(responses.calls) == 0


@responses.activate
def test_operation_outcome_in_prefetch_is_refetched(client):
    """An OperationOutcome in prefetch means the EHR failed: the service fetches it itself."""
    full = prefetch_of(NAME)
    serve(responses, "labs", full["labs"])
    prefetch = {
        **full,
        "labs": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "timeout"}],
        },
    }
    response = client.post(URL, json=hook_request(NAME, prefetch=prefetch, fhirServer=FHIR))
    assert kind(response) == "tace_protocol"
    assert len(responses.calls) == 1


@responses.activate
def test_paginated_prefetch_is_completed_from_the_server(client):
    """A prefetched searchset with a next link: the remaining pages are fetched."""
    full = prefetch_of(NAME)
    labs = full["labs"]["entry"]
    page1 = searchset([e["resource"] for e in labs[:3]])
    page1["link"] = [{"relation": "next", "url": f"{FHIR}/Observation?page=2"}]
    page2 = searchset([e["resource"] for e in labs[3:]])
    responses.add(responses.GET, f"{FHIR}/Observation?page=2", json=page2)
    response = client.post(
        URL, json=hook_request(NAME, prefetch={**full, "labs": page1}, fhirServer=FHIR)
    )
    assert kind(response) == "tace_protocol"
    assert len(responses.calls) == 1


@responses.activate
def test_fetched_search_follows_next_links(client):
    """A fetched search follows next links across pages."""
    full = prefetch_of(NAME)
    labs = [e["resource"] for e in full["labs"]["entry"]]
    first = searchset(labs[:4])
    first["link"] = [{"relation": "next", "url": f"{FHIR}/Observation?_page=2"}]
    serve(responses, "labs", first)
    responses.add(responses.GET, f"{FHIR}/Observation?_page=2", json=searchset(labs[4:]))
    request = hook_request(NAME, prefetch=without(full, "labs"), fhirServer=FHIR)
    assert kind(client.post(URL, json=request)) == "tace_protocol"


@responses.activate
def test_looping_next_link_is_a_data_problem_not_a_hang(client):
    """A next link pointing back to itself is refused; the card says labs could not be had."""
    full = prefetch_of(NAME)
    page = searchset([e["resource"] for e in full["labs"]["entry"]])
    serve(
        responses,
        "labs",
        {**page, "link": [{"relation": "next", "url": f"{FHIR}/Observation?loop=1"}]},
    )
    responses.add(
        responses.GET,
        f"{FHIR}/Observation?loop=1",
        json={**page, "link": [{"relation": "next", "url": f"{FHIR}/Observation?loop=1"}]},
    )
    request = hook_request(NAME, prefetch=without(full, "labs"), fhirServer=FHIR)
    card = client.post(URL, json=request).json["cards"][0]
    assert "could not obtain 'labs': bad-paging" in card["detail"]


def test_missing_patient_without_server_is_412(client):
    """Nothing obtainable (no Patient, no FHIR server): 412 with an OperationOutcome."""
    request = hook_request(NAME, prefetch=without(prefetch_of(NAME), "patient"))
    response = client.post(URL, json=request)
    assert response.status_code == 412
    assert response.json["resourceType"] == "OperationOutcome"
    assert "Patient could not be obtained" in response.json["issue"][0]["diagnostics"]


def test_partial_prefetch_without_server_says_what_is_missing(client):
    """Labs not prefetched and no server: a card that names the data it could not obtain."""
    request = hook_request(NAME, prefetch=without(prefetch_of(NAME), "labs"))
    card = client.post(URL, json=request).json["cards"][0]
    assert card["indicator"] == "warning"
    assert "could not obtain 'labs': no FHIR server given" in card["detail"]


@pytest.mark.parametrize(
    ("status", "body", "kind_word"),
    [
        (401, {"resourceType": "OperationOutcome"}, "unauthorized"),
        (403, {"resourceType": "OperationOutcome"}, "forbidden"),
        (404, {"resourceType": "OperationOutcome"}, "not-found"),
        (500, {"resourceType": "OperationOutcome"}, "server-error"),
        (200, {"resourceType": "OperationOutcome", "issue": []}, "operation-outcome"),
        (200, {"hello": "world"}, "not-fhir"),
    ],
)
@responses.activate
def test_fhir_errors_on_the_patient_give_412(client, status, body, kind_word):
    """401/403/404/5xx/non-FHIR answers for the Patient end in 412 with the reason."""
    serve(responses, "patient", body, status=status)
    request = hook_request(NAME, prefetch=without(prefetch_of(NAME), "patient"), fhirServer=FHIR)
    response = client.post(URL, json=request)
    assert response.status_code == 412
    assert kind_word in response.json["issue"][0]["diagnostics"]


@responses.activate
def test_html_error_page_and_truncated_json_are_data_problems(client):
    """An HTML page or truncated JSON for labs: named on the card, never a 500."""
    full = prefetch_of(NAME)
    serve(responses, "labs", None, body="<html>Bad gateway</html>")
    serve(responses, "conditions", None, body='{"resourceType": "Bundle", "entry": [')
    request = hook_request(NAME, prefetch=without(full, "labs", "conditions"), fhirServer=FHIR)
    response = client.post(URL, json=request)
    assert response.status_code == 200
    detail = response.json["cards"][0]["detail"]
    assert "could not obtain 'labs': not-fhir" in detail
    assert "could not obtain 'conditions': not-fhir" in detail
    assert messages("en").text("note.hcc-unknown") in detail  # no silent "no HCC"


@responses.activate
def test_connection_error_and_timeout(client):
    """A refused connection or a timeout is reported by key."""
    full = prefetch_of(NAME)
    serve(responses, "labs", None, body=requests.ConnectionError("refused"))
    serve(responses, "findings", None, body=requests.ReadTimeout("slow"))
    request = hook_request(NAME, prefetch=without(full, "labs", "findings"), fhirServer=FHIR)
    detail = client.post(URL, json=request).json["cards"][0]["detail"]
    assert "could not obtain 'labs': unreachable" in detail
    assert "could not obtain 'findings': timeout" in detail


def slow_client(tmp_path, seconds=0.3):
    from cds import create_app
    from tests.api.conftest import CheckingClient, app_config

    return CheckingClient(create_app(app_config(tmp_path, DEADLINE_SECONDS=seconds)).test_client())


def wait_for_fetch_threads():
    """A mocked slow answer cannot be cut at the deadline (no socket): wait for its thread
    while the mock is active, so that its late call is not recorded in the next test's mock."""
    for _ in range(50):  # bounded: up to 5 s
        if not any(t.name.startswith("fhir-fetch") for t in threading.enumerate()):
            return
        time.sleep(0.1)


def serve_slowly(rsps, path_pattern, body):
    def slow(request):
        time.sleep(1.0)
        return 200, {}, body

    rsps.add_callback(responses.GET, re.compile(re.escape(FHIR) + path_pattern), callback=slow)


@responses.activate
def test_data_late_past_the_deadline_is_named_on_the_card(tmp_path):
    """Labs slower than the call's deadline: the card names them as not obtained in time."""
    serve_slowly(responses, r"/Observation.*", "{}")
    request = hook_request(NAME, prefetch=without(prefetch_of(NAME), "labs"), fhirServer=FHIR)
    response = slow_client(tmp_path).post(URL, json=request)
    assert response.status_code == 200
    card = response.json["cards"][0]
    assert card["extension"]["org.example.hcc-cds.card-kind"] == "insufficient_data"
    assert "could not obtain 'labs': timeout" in card["detail"]
    wait_for_fetch_threads()


@responses.activate
def test_patient_late_past_the_deadline_is_412(tmp_path):
    """The Patient not obtained within the deadline: 412, never an empty card list."""
    serve_slowly(responses, r"/Patient/.*", '{"resourceType": "Patient", "id": "x"}')
    request = hook_request(NAME, prefetch=without(prefetch_of(NAME), "patient"), fhirServer=FHIR)
    response = slow_client(tmp_path).post(URL, json=request)
    assert response.status_code == 412
    assert "timeout" in response.json["issue"][0]["diagnostics"]
    wait_for_fetch_threads()


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (None, "null for the Patient"),
        ({"resourceType": "Practitioner", "id": "x"}, "a Practitioner instead of the Patient"),
        ([1, 2], "not a FHIR resource"),
    ],
)
@responses.activate
def test_prefetched_patient_null_or_another_resource_is_412(client, value, said):
    """prefetch.patient null or not a Patient: 412 naming what came (spec: SHALL 412)."""
    request = hook_request(NAME, prefetch={**prefetch_of(NAME), "patient": value}, fhirServer=FHIR)
    response = client.post(URL, json=request)
    assert response.status_code == 412
    assert said in response.json["issue"][0]["diagnostics"]
    assert len(responses.calls) == 0  # null means "no data": not re-queried


@responses.activate
def test_patient_operation_outcome_is_fetched_then_412_if_still_missing(client):
    """An OperationOutcome for the Patient is fetched; a failed fetch is then 412."""
    outcome = {"resourceType": "OperationOutcome", "issue": []}
    serve(responses, "patient", outcome, status=404)
    request = hook_request(
        NAME, prefetch={**prefetch_of(NAME), "patient": outcome}, fhirServer=FHIR
    )
    response = client.post(URL, json=request)
    assert response.status_code == 412
    assert "not-found" in response.json["issue"][0]["diagnostics"]
    assert len(responses.calls) == 1


@responses.activate
def test_patient_read_giving_another_resource_is_412(client):
    """A Patient read answered with another resource type: 412, not a card about nobody."""
    serve(responses, "patient", {"resourceType": "Practitioner", "id": "x"})
    request = hook_request(NAME, prefetch=without(prefetch_of(NAME), "patient"), fhirServer=FHIR)
    assert client.post(URL, json=request).status_code == 412


@responses.activate
def test_conditions_late_say_the_diagnosis_could_not_be_checked(tmp_path):
    """Conditions not obtained in time: the card says the HCC diagnosis is unknown."""
    serve_slowly(responses, r"/Condition.*", "{}")
    request = hook_request(NAME, prefetch=without(prefetch_of(NAME), "conditions"), fhirServer=FHIR)
    card = slow_client(tmp_path).post(URL, json=request).json["cards"][0]
    assert card["extension"]["org.example.hcc-cds.card-kind"] == "insufficient_data"
    assert "hcc-unknown" in card["extension"]["org.example.hcc-cds.reason-codes"]
    wait_for_fetch_threads()


def test_conditions_with_unread_pages_are_not_taken_as_no_hcc(client):
    """HCC on an unread page: 'no HCC' is unknown, so a card rather than a silent empty list."""
    first_page = searchset([])
    first_page["link"] = [{"relation": "next", "url": FHIR + "/Condition?page=2"}]
    request = hook_request(NAME, prefetch={**prefetch_of(NAME), "conditions": first_page})
    card = client.post(URL, json=request).json["cards"][0]
    assert card["extension"]["org.example.hcc-cds.card-kind"] == "insufficient_data"
    assert "hcc-unknown" in card["extension"]["org.example.hcc-cds.reason-codes"]


@pytest.mark.parametrize(
    "next_url",
    [
        "https://fhir.example.org/r4@evil.example/Observation?page=2",
        "https://fhir.example.org.evil.example/r4/Observation?page=2",
        "https://fhir.example.org:8443/r4/Observation?page=2",
        "http://fhir.example.org/r4/Observation?page=2",
        "https://fhir.example.org/r4x/Observation?page=2",
        "https://fhir.example.org/r4/..%2F/Observation?page=2",
    ],
)
@responses.activate
def test_next_links_away_from_the_fhir_server_are_not_followed(client, next_url):
    """A next link is parsed like fhirServer and must lie under it: no request, token or not."""
    full = prefetch_of(NAME)
    labs = dict(full["labs"], link=[{"relation": "next", "url": next_url}])
    request = hook_request(NAME, prefetch={**full, "labs": labs}, fhirServer=FHIR)
    card = client.post(URL, json=request).json["cards"][0]
    assert "could not obtain 'labs (next pages)': bad-paging" in card["detail"]
    assert len(responses.calls) == 0
