"""Fault injection on the FHIR fallback against a real misbehaving server on loopback.

Each fault ends in a 412, an empty card list within the deadline, or a card that says which data
could not be obtained: never a 500, never a hang.
"""

from __future__ import annotations

import socket
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
    config = app_config(tmp_path, DEADLINE_SECONDS=DEADLINE, FHIR_TIMEOUT_SECONDS=1.0)
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


def test_slow_server_beyond_the_deadline_gives_no_cards(tmp_path, fhir):
    """A per-request timeout longer than the call's deadline: 200 with an empty card list."""
    config = app_config(tmp_path, DEADLINE_SECONDS=0.5, FHIR_TIMEOUT_SECONDS=10.0)
    slow_client = CheckingClient(create_app(config).test_client())
    response = call(slow_client, fhir.base("slow"))
    assert response.status_code == 200
    assert response.json == {"cards": []}


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
