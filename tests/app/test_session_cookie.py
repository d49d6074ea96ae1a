"""The session cookie and the headers that let an EHR frame the app, and no one else."""

from __future__ import annotations

import pytest

from cds.app.iss_policy import IssNotAllowed, allowed_iss
from cds.fhir.url_policy import UrlPolicy
from tests.app.conftest import make_app


@pytest.fixture
def launched(ehr, tmp_path):
    """A launch answered for an app reached over https (as behind a TLS proxy)."""
    auth, fhir = ehr
    app = make_app(tmp_path, PUBLIC_BASE_URL="https://cds.hospital.example")
    client = app.test_client()
    return client.get(
        "/app/launch",
        query_string={"iss": fhir.base_url, "launch": auth.mint_launch("Patient/p40")},
        base_url="https://cds.hospital.example",
    )


def cookie_attributes(response) -> set[str]:
    header = response.headers["Set-Cookie"]
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def test_cookie_off_loopback_is_secure_httponly_samesite_none_partitioned(launched):
    assert launched.status_code == 302
    header = launched.headers["Set-Cookie"]
    assert header.startswith("hcc_app_session=")
    assert {"secure", "httponly", "partitioned", "path", "samesite"} <= cookie_attributes(launched)
    assert "SameSite=None" in header and "Path=/app" in header


def test_cookie_on_loopback_is_not_secure_and_lax(ehr, tmp_path):
    auth, fhir = ehr
    client = make_app(tmp_path).test_client()
    response = client.get(
        "/app/launch",
        query_string={"iss": fhir.base_url, "launch": auth.mint_launch("Patient/p40")},
        base_url="http://127.0.0.1:8080",
    )
    attributes = cookie_attributes(response)
    assert "secure" not in attributes and "partitioned" not in attributes
    assert "httponly" in attributes and "SameSite=Lax" in response.headers["Set-Cookie"]


def test_no_launch_off_loopback_without_a_public_base_url(ehr, tmp_path):
    """The redirect URI never comes from a Host header: off loopback it needs the base URL."""
    auth, fhir = ehr
    response = (
        make_app(tmp_path)
        .test_client()
        .get(
            "/app/launch",
            query_string={"iss": fhir.base_url, "launch": auth.mint_launch("Patient/p40")},
            base_url="https://evil.example",
        )
    )
    assert response.status_code == 503 and "Set-Cookie" not in response.headers
    assert "evil.example" not in response.get_data(as_text=True)


def test_cookie_forced_secure_even_on_loopback(ehr, tmp_path):
    auth, fhir = ehr
    client = make_app(tmp_path, APP_COOKIE_SECURE="true").test_client()
    response = client.get(
        "/app/launch",
        query_string={"iss": fhir.base_url, "launch": auth.mint_launch("Patient/p40")},
    )
    assert "secure" in cookie_attributes(response)


def test_frame_ancestors_name_the_configured_ehr_origins(launched, tmp_path):
    policy = launched.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://ehr.example.org" in policy
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert launched.headers["Referrer-Policy"] == "no-referrer"
    error = make_app(tmp_path).test_client().get("/app/workup")
    assert (
        "frame-ancestors 'self' https://ehr.example.org" in error.headers["Content-Security-Policy"]
    )


def test_frame_ancestors_from_an_environment_value(tmp_path):
    app = make_app(tmp_path, APP_FRAME_ANCESTORS="https://a.example https://b.example")
    response = app.test_client().get("/app/workup")
    assert (
        "frame-ancestors 'self' https://a.example https://b.example"
        in response.headers["Content-Security-Policy"]
    )


@pytest.mark.parametrize(
    ("iss", "loopback_http", "allowlist", "ok"),
    [
        ("https://fhir.example.org/r4/", False, (), True),
        ("http://fhir.example.org/r4", False, (), False),
        ("http://fhir.example.org/r4", True, (), False),  # plain http off loopback: never
        ("http://127.0.0.1:9/fhir", True, (), True),
        ("http://127.0.0.1:9/fhir", False, (), False),
        ("https://user@fhir.example.org/r4", False, (), False),  # user information
        ("https://fhir.example.org/r4", False, ("https://other.example/",), False),
        ("https://fhir.example.org/r4", False, ("https://fhir.example.org/",), True),
        ("https://fhir.example.org.evil.example/r4", False, ("https://fhir.example.org/",), False),
        ("not a url", False, (), False),
    ],
)
def test_iss_policy(iss, loopback_http, allowlist, ok):
    """The iss passes the service's URL policy (the same as fhirServer's), unchanged."""
    policy = UrlPolicy.build(allowlist, allow_loopback_http=loopback_http)
    if ok:
        assert allowed_iss(iss, policy) == iss  # unchanged: it is the aud
    else:
        with pytest.raises(IssNotAllowed):
            allowed_iss(iss, policy)
