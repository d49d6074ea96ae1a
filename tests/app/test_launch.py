"""SMART App Launch against a real authorization server (Authlib) and FHIR server (Medplum):
EHR and standalone launch, public and confidential client, what stays server-side."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.app.conftest import CLIENT_ID, make_app, path_of, query, sign_in

CALLBACK = "http://localhost/app/callback"


@pytest.fixture
def public_app(ehr, tmp_path):
    auth, _ = ehr
    auth.register_client(CLIENT_ID, [CALLBACK])
    return make_app(tmp_path)


def launch_to_workup(app, ehr, **params):
    """The whole launch as the browser goes through it; returns (authorize URL, work-up)."""
    auth, fhir = ehr
    client = app.test_client()
    started = client.get("/app/launch", query_string={"iss": fhir.base_url, **params})
    assert started.status_code == 302, started.data
    authorize = started.headers["Location"]
    callback = sign_in(authorize)
    assert callback.startswith(CALLBACK)
    finished = client.get(path_of(callback))
    assert finished.status_code == 303, finished.data
    assert finished.headers["Location"].endswith("workup")
    return authorize, client, client.get("/app/workup")


def test_ehr_launch_reaches_the_work_up_of_the_patient_in_context(public_app, ehr):
    auth, fhir = ehr
    authorize, client, page = launch_to_workup(
        public_app, ehr, launch=auth.mint_launch("Patient/p40")
    )
    sent = query(authorize)
    assert sent["aud"] == fhir.base_url
    assert sent["client_id"] == CLIENT_ID and sent["response_type"] == "code"
    assert sent["scope"] == "launch openid fhirUser patient/*.rs"
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert len(sent["state"]) >= 24
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Patient/p40" in html
    assert '<dd data-field="child_pugh.score">11</dd>' in html
    assert '<dd data-field="albi.score">-1.15</dd>' in html


def test_the_token_never_reaches_the_browser(public_app, ehr):
    auth, _ = ehr
    _, client, page = launch_to_workup(public_app, ehr, launch=auth.mint_launch("Patient/p40"))
    token = auth.state.tokens[-1]["access_token"]
    assert token not in page.get_data(as_text=True)
    cookie = client.get_cookie("hcc_app_session", path="/app")
    assert cookie is not None and token not in cookie.value
    assert all(token not in value for value in page.headers.values())


def test_pkce_verifier_matches_the_challenge_the_server_checked(public_app, ehr):
    """The authorization server refuses a code without the right verifier: a finished launch
    proves the S256 pair; here the challenge is also checked to be the S256 of 43+ chars."""
    auth, _ = ehr
    authorize, _, page = launch_to_workup(public_app, ehr, launch=auth.mint_launch("Patient/p40"))
    challenge = query(authorize)["code_challenge"]
    assert page.status_code == 200
    assert base64.urlsafe_b64decode(challenge + "=") and len(challenge) == len(
        base64.urlsafe_b64encode(hashlib.sha256(b"x").digest()).rstrip(b"=")
    )


def test_standalone_launch_asks_for_a_patient(public_app, ehr):
    auth, _ = ehr
    auth.state.standalone_patient = "Patient/p10"
    authorize, _, page = launch_to_workup(public_app, ehr)
    scopes = query(authorize)["scope"].split()
    assert "launch/patient" in scopes and "launch" not in scopes
    assert "launch" not in query(authorize)
    assert page.status_code == 200 and "Patient/p10" in page.get_data(as_text=True)


def test_standalone_launch_with_the_configured_default_server(ehr, tmp_path):
    auth, fhir = ehr
    auth.register_client(CLIENT_ID, [CALLBACK])
    auth.state.standalone_patient = "Patient/p40"
    app = make_app(tmp_path, APP_DEFAULT_ISS=fhir.base_url)
    client = app.test_client()
    started = client.get("/app/launch")
    assert started.status_code == 302
    assert query(started.headers["Location"])["aud"] == fhir.base_url


def test_confidential_client_authenticates_with_its_secret(ehr, tmp_path):
    auth, _ = ehr
    auth.register_client("hcc-confidential", [CALLBACK], secret="s3cret-value")
    app = make_app(tmp_path, APP_CLIENT_ID="hcc-confidential", APP_CLIENT_SECRET="s3cret-value")
    _, _, page = launch_to_workup(app, ehr, launch=auth.mint_launch("Patient/p40"))
    assert page.status_code == 200


def test_confidential_client_with_a_wrong_secret_is_refused(ehr, tmp_path):
    auth, _ = ehr
    auth.register_client("hcc-confidential-2", [CALLBACK], secret="right")
    app = make_app(tmp_path, APP_CLIENT_ID="hcc-confidential-2", APP_CLIENT_SECRET="wrong")
    _, fhir = ehr
    client = app.test_client()
    started = client.get(
        "/app/launch",
        query_string={"iss": fhir.base_url, "launch": auth.mint_launch("Patient/p40")},
    )
    finished = client.get(path_of(sign_in(started.headers["Location"])))
    assert finished.status_code == 502
    assert "refused" in finished.get_data(as_text=True)


def test_the_session_id_changes_at_sign_in(public_app, ehr):
    auth, fhir = ehr
    client = public_app.test_client()
    started = client.get(
        "/app/launch",
        query_string={"iss": fhir.base_url, "launch": auth.mint_launch("Patient/p40")},
    )
    before = client.get_cookie("hcc_app_session", path="/app").value
    client.get(path_of(sign_in(started.headers["Location"])))
    after = client.get_cookie("hcc_app_session", path="/app").value
    assert before != after
    client.set_cookie("hcc_app_session", before, path="/app")
    assert client.get("/app/workup").status_code == 401


def test_aud_is_the_iss_exactly_as_the_ehr_sent_it(public_app, ehr):
    auth, fhir = ehr
    response = public_app.test_client().get(
        "/app/launch",
        query_string={"iss": fhir.base_url + "/", "launch": auth.mint_launch("Patient/p40")},
    )
    assert response.status_code == 302
    assert query(response.headers["Location"])["aud"] == fhir.base_url + "/"


def test_smart_v1_scopes_are_accepted(ehr, tmp_path):
    auth, _ = ehr
    auth.register_client(CLIENT_ID, [CALLBACK])
    app = make_app(tmp_path, APP_SCOPES="launch openid fhirUser patient/*.read")
    authorize, _, page = launch_to_workup(app, ehr, launch=auth.mint_launch("Patient/p40"))
    assert query(authorize)["scope"] == "launch openid fhirUser patient/*.read"
    assert page.status_code == 200
    assert auth.state.tokens[-1]["scope"] == "launch openid fhirUser patient/*.read"
