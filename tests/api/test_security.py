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
    return secured_client(tmp_path)


def secured_client(tmp_path, **config):
    keys = tmp_path / "ehr-jwks.json"
    keys.write_text(json.dumps(jwks(public_jwk(KEY, KID))))
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks_file": "ehr-jwks.json"}]}))
    config = app_config(
        tmp_path,
        AUTH_DISABLED=False,
        TRUSTED_ISSUERS_FILE=str(issuers),
        PUBLIC_BASE_URL=BASE,
        **config,
    )
    return CheckingClient(create_app(config).test_client())


def token(aud, **overrides):
    now = int(time.time())
    return mint(KEY, KID, {"iss": ISS, "aud": aud, "iat": now, "exp": now + 300, **overrides})


def auth(aud, **overrides):
    return {"Authorization": f"Bearer {token(aud, **overrides)}"}


URL = "/cds-services/hcc-assessment"


def test_auth_is_on_by_default(tmp_path):
    """Without CDS_AUTH_DISABLED, a call with no JWT is refused."""
    config = app_config(tmp_path, PUBLIC_BASE_URL=BASE)
    config.pop("AUTH_DISABLED")
    client = create_app(config).test_client()
    response = client.post(URL, json=hook_request("child_pugh_a5"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_jwt_check_without_a_public_base_url_refuses_to_start(tmp_path):
    """The audience cannot fall back to the request's Host: no public URL, no app."""
    from cds.errors import ConfigError

    config = app_config(tmp_path)
    config.pop("AUTH_DISABLED")
    with pytest.raises(ConfigError, match="CDS_PUBLIC_BASE_URL"):
        create_app(config)


@pytest.mark.parametrize(
    ("aud", "headers"),
    [
        # The issue's case: a token minted for another hospital's URL, sent with its Host.
        ("http://cds.other-hospital.example" + URL, {"Host": "cds.other-hospital.example"}),
        (
            "https://cds.other-hospital.example" + URL,
            {
                "Host": "cds.other-hospital.example",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "cds.other-hospital.example",
            },
        ),
    ],
)
def test_the_caller_cannot_choose_the_audience(secured, aud, headers):
    """aud is the configured public URL: Host and forwarded headers do not change it."""
    response = secured.post(
        URL, json=hook_request("child_pugh_a5"), headers={**headers, **auth(aud)}
    )
    assert response.status_code == 401


def test_a_trusted_proxys_forwarded_headers_do_not_choose_the_audience_either(tmp_path):
    """Behind a trusted proxy (the test client's 127.0.0.1), its forwarded scheme and host are
    believed for the request, yet aud must still be the configured public URL."""
    behind_proxy = secured_client(tmp_path, TRUSTED_PROXY="127.0.0.1")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cds.other-hospital.example"}
    other = auth("https://cds.other-hospital.example" + URL)
    request = hook_request("child_pugh_a5")
    assert behind_proxy.post(URL, json=request, headers={**forwarded, **other}).status_code == 401
    ours = auth(BASE + URL)
    assert behind_proxy.post(URL, json=request, headers={**forwarded, **ours}).status_code == 200


def test_a_refusal_is_generic_for_the_caller_and_explained_in_the_log(secured, caplog):
    """The 401 names no issuer, key or reason; the access log line does, for the integrator."""
    caplog.set_level("INFO", logger="cds.access")
    wrong = {"Authorization": "Bearer " + token(BASE + URL, iss="https://unknown.example")}
    response = secured.post(URL, json=hook_request("child_pugh_a5"), headers=wrong)
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "issuer" not in text and "unknown.example" not in text and KID not in text
    line = next(r.getMessage() for r in caplog.records if r.name == "cds.access")
    assert "status=401" in line and "issuer is not trusted" in line
    assert "issuer='https://unknown.example (claimed)'" in line


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

    off = create_app(app_config(tmp_path, AUTH_DISABLED=False, PUBLIC_BASE_URL=BASE))
    on = create_app(
        app_config(tmp_path, AUTH_DISABLED=False, PUBLIC_BASE_URL=BASE, TRUST_SANDBOX=True)
    )
    verifier_off = off.extensions["hcc_cds"].verifier
    verifier_on = on.extensions["hcc_cds"].verifier
    assert SANDBOX_ISSUER not in verifier_off._issuers
    assert SANDBOX_ISSUER in verifier_on._issuers
