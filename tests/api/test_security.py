"""JWT verification at the API: on by default, aud is the invoked URL, replay refused."""

from __future__ import annotations

import json
import time

import pytest

from cds import create_app
from tests.api.conftest import CheckingClient, app_config
from tests.api.requests_from_fixtures import hook_request
from tests.service.jwt_helpers import ec_key, jwks, mint, public_jwk

ISS = "https://ehr.example.org"
KID = "ehr-key-1"
BASE = "http://localhost"
KEY = ec_key()


@pytest.fixture
def secured(tmp_path):
    keys = tmp_path / "ehr-jwks.json"
    keys.write_text(json.dumps(jwks(public_jwk(KEY, KID))))
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks_file": "ehr-jwks.json"}]}))
    config = app_config(tmp_path, AUTH_DISABLED=False, TRUSTED_ISSUERS_FILE=str(issuers))
    return CheckingClient(create_app(config).test_client())


def token(aud, **overrides):
    now = int(time.time())
    return mint(KEY, KID, {"iss": ISS, "aud": aud, "iat": now, "exp": now + 300, **overrides})


def auth(aud, **overrides):
    return {"Authorization": f"Bearer {token(aud, **overrides)}"}


URL = "/cds-services/hcc-assessment"


def test_auth_is_on_by_default(tmp_path):
    """Without configuration, a call with no JWT is refused."""
    config = app_config(tmp_path)
    config.pop("AUTH_DISABLED")
    client = create_app(config).test_client()
    response = client.post(URL, json=hook_request("child_pugh_a5"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_valid_token_is_accepted(secured):
    """A token from an allow-listed issuer, for this exact URL, is accepted."""
    response = secured.post(URL, json=hook_request("child_pugh_a5"), headers=auth(BASE + URL))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not.a.jwt"},
    ],
)
def test_missing_or_malformed_token_is_401(secured, headers):
    """No bearer JWT: 401 with an OperationOutcome."""
    response = secured.post(URL, json=hook_request("child_pugh_a5"), headers=headers)
    assert response.status_code == 401
    assert response.json["resourceType"] == "OperationOutcome"


def test_token_for_another_url_is_refused(secured):
    """aud must be the invoked URL: a token for discovery cannot call the service."""
    response = secured.post(
        URL, json=hook_request("child_pugh_a5"), headers=auth(BASE + "/cds-services")
    )
    assert response.status_code == 401


def test_replayed_token_is_refused(secured):
    """The same jti twice: the second call is refused."""
    headers = auth(BASE + URL)
    assert secured.post(URL, json=hook_request("child_pugh_a5"), headers=headers).status_code == 200
    assert secured.post(URL, json=hook_request("child_pugh_a5"), headers=headers).status_code == 401


def test_expired_token_is_refused(secured):
    """An expired token (beyond the leeway) is refused."""
    now = int(time.time())
    headers = auth(BASE + URL, iat=now - 900, exp=now - 600)
    assert secured.post(URL, json=hook_request("child_pugh_a5"), headers=headers).status_code == 401


def test_public_base_url_sets_the_audience(tmp_path):
    """Behind a proxy, aud is the public URL of the service."""
    keys = tmp_path / "k.json"
    keys.write_text(json.dumps(jwks(public_jwk(KEY, KID))))
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks_file": "k.json"}]}))
    client = create_app(
        app_config(
            tmp_path,
            AUTH_DISABLED=False,
            TRUSTED_ISSUERS_FILE=str(issuers),
            PUBLIC_BASE_URL="https://cds.hospital.example",
        )
    ).test_client()
    public = "https://cds.hospital.example" + URL
    assert (
        client.post(URL, json=hook_request("child_pugh_a5"), headers=auth(public)).status_code
        == 200
    )


def test_feedback_needs_a_token_for_the_feedback_url(secured):
    """Feedback is authenticated too, with aud = the feedback URL."""
    feedback_url = URL + "/feedback"
    body = {
        "feedback": [
            {
                "card": "c1",
                "outcome": "overridden",
                "overrideReason": {"userComment": "tumour board"},
                "outcomeTimestamp": "2026-11-15T10:00:00Z",
            }
        ]
    }
    assert secured.post(feedback_url, json=body).status_code == 401
    assert (
        secured.post(feedback_url, json=body, headers=auth(BASE + feedback_url)).status_code == 200
    )


def test_discovery_needs_no_token(secured):
    """Discovery holds no patient data and is open."""
    assert secured.get("/cds-services").status_code == 200


def test_sandbox_issuer_is_opt_in(tmp_path):
    """The pinned public sandbox key is trusted only when CDS_TRUST_SANDBOX is set."""
    from cds.service.wiring import SANDBOX_ISSUER

    off = create_app(app_config(tmp_path, AUTH_DISABLED=False))
    on = create_app(app_config(tmp_path, AUTH_DISABLED=False, TRUST_SANDBOX=True))
    verifier_off = off.extensions["hcc_cds"].verifier
    verifier_on = on.extensions["hcc_cds"].verifier
    assert SANDBOX_ISSUER not in verifier_off._issuers
    assert SANDBOX_ISSUER in verifier_on._issuers
