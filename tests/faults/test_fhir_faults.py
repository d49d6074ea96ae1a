"""Fault injection on the FHIR fallback against a real misbehaving server on loopback.

Each fault ends in a 412 or a card that says which data could not be obtained: never a 500,
never a hang, never a silent empty card list.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from cds import create_app
from cds.render.messages import messages
from tests.api.conftest import CheckingClient, app_config
from tests.api.requests_from_fixtures import hook_request, prefetch_of
from tests.faults.misbehaving_fhir import MisbehavingFhirServer

NAME = "nct00919009_eligible"
URL = "/cds-services/hcc-assessment"
DEADLINE = 1.5
HANG_GUARD = 15.0  # seconds: far beyond the deadline, only to catch a hang


@pytest.fixture(scope="module")
def fhir():
    with MisbehavingFhirServer(prefetch_of(NAME)["patient"]) as server:
        yield server


@pytest.fixture
def client(tmp_path):
    config = app_config(
        tmp_path, DEADLINE_SECONDS=DEADLINE, FHIR_TIMEOUT_SECONDS=1.0, FHIR_ALLOW_LOOPBACK_HTTP=True
    )
    return CheckingClient(create_app(config).test_client())


def call(client, fhir_server, keep=("patient",)):
    prefetch = {k: v for k, v in prefetch_of(NAME).items() if k in keep}
    started = time.monotonic()
    response = client.post(URL, json=hook_request(NAME, prefetch=prefetch, fhirServer=fhir_server))
    assert time.monotonic() - started < HANG_GUARD
    assert response.status_code != 500
    return response


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("unauthorized", "unauthorized"),
        ("server-error", "server-error"),
        ("html", "not-fhir"),
        ("truncated", "not-fhir"),
        ("operation-outcome", "operation-outcome"),
        ("loop", "bad-paging"),
        ("huge", "too-large"),
        ("redirect", "redirect"),
    ],
)
def test_search_faults_give_a_card_naming_the_missing_data(client, fhir, mode, reason):
    """Searches fail, the Patient is prefetched: a card saying which data could not be had."""
    response = call(client, fhir.base(mode))
    assert response.status_code == 200
    card = response.json["cards"][0]
    assert card["indicator"] == "warning"
    assert f"could not obtain 'labs': {reason}" in card["detail"]
    assert messages("en").text("note.hcc-unknown") in card["detail"]


def test_slow_server_times_out_each_request_and_says_so(client, fhir):
    """Each search slower than the per-request timeout: a card naming the timed-out data."""
    response = call(client, fhir.base("slow"))
    assert response.status_code == 200
    assert "could not obtain 'labs': timeout" in response.json["cards"][0]["detail"]


def test_redirect_is_not_followed(client, fhir):
    """A 302 to another origin is a failed fetch: its target is never asked (token or not)."""
    call(client, fhir.base("redirect"))
    assert not any(path.startswith("/fine/") for path in fhir.requested)


def fetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fhir-fetch")]


@pytest.mark.parametrize("mode", ["slow", "drip", "drip-headers"])
def test_slow_server_beyond_the_deadline_is_named_and_frees_the_threads(
    tmp_path, fhir, mode, caplog
):
    """Past the call's deadline (per-read timeout far longer, bytes dripping): a card naming
    the late data, within a bound, and no fetch thread left waiting on the server; the cut
    answers log no URL (no patient id), the HTTP client's warnings included."""
    caplog.set_level(logging.DEBUG)
    config = app_config(
        tmp_path, DEADLINE_SECONDS=1.0, FHIR_TIMEOUT_SECONDS=10.0, FHIR_ALLOW_LOOPBACK_HTTP=True
    )
    slow_client = CheckingClient(create_app(config).test_client())
    started = time.monotonic()
    response = call(slow_client, fhir.base(mode))
    assert time.monotonic() - started < 5.0  # generous: the deadline is 1 s, a drip lasts 60 s
    assert response.status_code == 200
    assert "could not obtain 'labs': timeout" in response.json["cards"][0]["detail"]
    for _ in range(50):  # up to 5 s for the shut sockets to end the fetch threads
        if not fetch_threads():
            break
        time.sleep(0.1)
    assert fetch_threads() == []
    patient_id = prefetch_of(NAME)["patient"]["id"]
    assert patient_id not in "\n".join(r.getMessage() for r in caplog.records)


def test_patient_dripping_past_the_deadline_is_412(tmp_path, fhir):
    """The Patient read dripping past the deadline: 412 within a bound, not an empty list."""
    config = app_config(
        tmp_path, DEADLINE_SECONDS=1.0, FHIR_TIMEOUT_SECONDS=10.0, FHIR_ALLOW_LOOPBACK_HTTP=True
    )
    slow_client = CheckingClient(create_app(config).test_client())
    started = time.monotonic()
    response = call(slow_client, fhir.base("patient-drip"), keep=())
    assert time.monotonic() - started < 5.0
    assert response.status_code == 412
    assert "timeout" in response.json["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    "mode",
    [
        "patient-unauthorized",
        "patient-server-error",
        "patient-html",
        "patient-truncated",
        "patient-operation-outcome",
        "patient-huge",
    ],
)
def test_patient_faults_give_412(client, fhir, mode):
    """The Patient cannot be read: 412 with an OperationOutcome saying why."""
    response = call(client, fhir.base(mode), keep=())
    assert response.status_code == 412
    assert response.json["resourceType"] == "OperationOutcome"


def test_connection_refused(client):
    """Nothing listens on the port: the Patient cannot be had, 412."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    response = call(client, f"http://127.0.0.1:{port}/fhir", keep=())
    assert response.status_code == 412
    assert "unreachable" in response.json["issue"][0]["diagnostics"]


def test_no_patient_id_or_token_in_any_log_at_debug(tmp_path, fhir, caplog):
    """At DEBUG, fetching from a real server logs neither the patient id (in every FHIR URL)
    nor the access token: the HTTP client's own loggers included."""
    config = app_config(tmp_path, FHIR_ALLOW_LOOPBACK_HTTP=True, LOG_LEVEL="DEBUG")
    debug_client = CheckingClient(create_app(config).test_client())
    caplog.set_level(logging.DEBUG)
    request = hook_request(
        NAME,
        prefetch={},
        fhirServer=fhir.base("fine"),
        fhirAuthorization={
            "access_token": "secret-token-42",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "hcc-cds",
        },
    )
    assert debug_client.post(URL, json=request).status_code == 200
    assert any(path.startswith("/fine/Patient/") for path in fhir.requested)
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "cds.access" in text  # the call was logged at all
    patient_id = prefetch_of(NAME)["patient"]["id"]
    assert patient_id not in text
    assert "secret-token-42" not in text
