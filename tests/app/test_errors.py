"""Every bad input of the launch and the work-up is a clear page with the right status."""

from __future__ import annotations

import time

import pytest
import requests

from tests.app.conftest import CLIENT_ID, app_store, make_app, path_of, query, sign_in
from tests.app.faulty_fhir import FaultyFhir

CALLBACK = "http://localhost/app/callback"


@pytest.fixture
def app(ehr, tmp_path):
    auth, _ = ehr
    auth.register_client(CLIENT_ID, [CALLBACK])
    auth.state.token_error = None
    return make_app(tmp_path)


def assert_page(response, status: int, words: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert response.mimetype == "text/html"
    assert words in html
    assert "Traceback" not in html


def start(client, ehr, **params):
    _, fhir = ehr
    return client.get("/app/launch", query_string={"iss": fhir.base_url, **params})


def test_no_iss_and_no_default_server(app):
    assert_page(app.test_client().get("/app/launch"), 400, "No EHR named")


def test_app_without_a_client_id_says_it_is_not_registered(ehr, tmp_path):
    app = make_app(tmp_path, APP_CLIENT_ID=None)
    assert_page(start(app.test_client(), ehr), 503, "not registered")


@pytest.mark.parametrize(
    "iss",
    [
        "http://ehr.example.org/fhir",  # http off loopback
        "javascript:alert(1)",
        "https://",
        "ftp://127.0.0.1/fhir",
    ],
)
def test_iss_refused_by_the_url_policy(app, iss):
    response = app.test_client().get("/app/launch", query_string={"iss": iss, "launch": "x"})
    assert_page(response, 403, "not on this service")


def test_iss_not_on_the_allow_list(ehr, tmp_path):
    app = make_app(tmp_path, FHIR_SERVER_ALLOWLIST=["https://fhir.hospital.example/"])
    assert_page(start(app.test_client(), ehr, launch="x"), 403, "not on this service")


def test_iss_without_a_smart_configuration(app):
    # The faulty server answers the discovery document with an error.
    server = FaultyFhir("p1", "searches-fail")
    try:
        response = app.test_client().get("/app/launch", query_string={"iss": server.base_url})
    finally:
        server.stop()
    assert_page(response, 502, "SMART configuration")


def test_state_mismatch(app, ehr):
    auth, _ = ehr
    client = app.test_client()
    started = start(client, ehr, launch=auth.mint_launch("Patient/p40"))
    callback = sign_in(started.headers["Location"])
    forged = path_of(callback).replace(f"state={query(callback)['state']}", "state=forged")
    assert_page(client.get(forged), 400, "does not belong to this browser")
    # The launch is spent: even the right state does not finish it now.
    assert client.get(path_of(callback)).status_code == 401


def test_callback_without_a_session(app):
    assert_page(app.test_client().get("/app/callback?code=x&state=y"), 401, "session")


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [("access_denied", 403, "not grant"), ("server_error", 502, "reported an error")],
)
def test_authorize_endpoint_error(app, ehr, error, status, words):
    auth, _ = ehr
    client = app.test_client()
    started = start(client, ehr, launch=auth.mint_launch("Patient/p40"))
    state = query(started.headers["Location"])["state"]
    response = client.get(f"/app/callback?error={error}&state={state}")
    assert_page(response, status, words)


def test_token_endpoint_error(app, ehr):
    auth, _ = ehr
    client = app.test_client()
    started = start(client, ehr, launch=auth.mint_launch("Patient/p40"))
    callback = sign_in(started.headers["Location"])
    auth.state.token_error = "invalid_grant"
    try:
        assert_page(client.get(path_of(callback)), 502, "refused")
    finally:
        auth.state.token_error = None


def test_unknown_launch_is_refused_by_the_ehr(app, ehr):
    client = app.test_client()
    started = start(client, ehr, launch="never-minted")
    # The EHR's server refuses the request; its error comes back to the callback.
    answer = requests.get(started.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert query(answer.headers["Location"])["error"] == "invalid_request"
    assert_page(client.get(path_of(answer.headers["Location"])), 502, "reported an error")


def test_work_up_without_a_session(app):
    assert_page(app.test_client().get("/app/workup"), 401, "session has ended")


def signed_in(app, tmp_path, iss: str, patient: str, lifetime: int = 3600, clock=None):
    """A session as the callback leaves it, written straight into the app's store."""
    store = app_store(tmp_path, lifetime, clock or time.time)
    session_id = store.create(
        {"iss": iss, "patient": patient, "access_token": "t0k3n", "expires_at": None, "scope": ""}
    )
    client = app.test_client()
    client.set_cookie("hcc_app_session", session_id, path="/app")
    return client


def test_expired_session(app, ehr, tmp_path):
    _, fhir = ehr
    now = [1_000_000.0]
    client = signed_in(app, tmp_path, fhir.base_url, "p40", lifetime=60, clock=lambda: now[0])
    # The app's own store reads the real clock: a session saved 61 s "ago" by this clock has
    # expired by the time it is read.
    store = app_store(tmp_path, 60)
    assert store.load(client.get_cookie("hcc_app_session", path="/app").value) is None
    assert_page(client.get("/app/workup"), 401, "session has ended")


def test_expired_access_token(app, ehr, tmp_path):
    _, fhir = ehr
    store = app_store(tmp_path, 3600)
    session_id = store.create(
        {"iss": fhir.base_url, "patient": "p40", "access_token": "t", "expires_at": 1.0}
    )
    client = app.test_client()
    client.set_cookie("hcc_app_session", session_id, path="/app")
    assert_page(client.get("/app/workup"), 401, "session has ended")


def test_patient_not_on_the_fhir_server(app, ehr, tmp_path):
    _, fhir = ehr
    client = signed_in(app, tmp_path, fhir.base_url, "no-such-patient")
    assert_page(client.get("/app/workup"), 404, "Patient not found")


def test_fhir_server_too_slow(ehr, tmp_path):
    app = make_app(tmp_path, FHIR_TIMEOUT_SECONDS=0.5, APP_FETCH_SECONDS=1.0)
    server = FaultyFhir("p1", "slow")
    try:
        client = signed_in(app, tmp_path, server.base_url, "p1")
        assert_page(client.get("/app/workup"), 504, "too slow")
    finally:
        server.stop()


def test_partial_record_says_what_could_not_be_loaded(app, tmp_path):
    server = FaultyFhir("p1", "searches-fail")
    try:
        client = signed_in(app, tmp_path, server.base_url, "p1")
        response = client.get("/app/workup")
    finally:
        server.stop()
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "could not be loaded" in html
    for what in ("laboratory results", "diagnoses", "procedures", "tumour findings and ECOG"):
        assert f"<li>{what}: server-error: HTTP 500</li>" in html


@pytest.mark.parametrize(
    ("mode", "status", "words"),
    [("unauthorized", 401, "no longer accepts"), ("forbidden", 403, "Not allowed to read")],
)
def test_fhir_server_refuses_the_token(app, tmp_path, mode, status, words):
    server = FaultyFhir("p1", mode)
    try:
        client = signed_in(app, tmp_path, server.base_url, "p1")
        assert_page(client.get("/app/workup"), status, words)
    finally:
        server.stop()
