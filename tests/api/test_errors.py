"""Bad input gets a 4xx with an OperationOutcome naming the problem; never a stack trace."""

from __future__ import annotations

import pytest

from tests.api.conftest import CheckingClient, app_config
from tests.api.requests_from_fixtures import hook_request

URL = "/cds-services/hcc-assessment"
NAME = "child_pugh_a5"


def diagnostics(response):
    assert response.json["resourceType"] == "OperationOutcome"
    text = response.json["issue"][0]["diagnostics"]
    assert "Traceback" not in response.get_data(as_text=True)
    return text


def test_malformed_json_is_400(client):
    """A body that is not JSON: 400 saying so."""
    response = client.post(URL, data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert "must be JSON" in diagnostics(response)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.pop("hook"), "hook"),
        (lambda r: r.pop("hookInstance"), "hookInstance"),
        (lambda r: r.pop("context"), "context"),
        (lambda r: r["context"].pop("patientId"), "context.patientId"),
        (lambda r: r["context"].pop("userId"), "context.userId"),
        (lambda r: r.update(hook="order-sign"), "hook"),
        (lambda r: r.update(prefetch=[1]), "prefetch"),
        (
            lambda r: r.update(fhirAuthorization={"access_token": "x", "token_type": "Bearer"}),
            "cds-r-1",
        ),
        (lambda r: r.update(fhirServer="http://ehr.example.org/fhir"), "https"),
        (lambda r: r.update(fhirServer="not a url"), "fhirServer"),
    ],
)
def test_missing_or_wrong_fields_are_400_naming_the_field(client, change, field):
    """Each required field, the hook, cds-r-1 and https are checked with a clear message."""
    request = hook_request(NAME)
    change(request)
    response = client.post(URL, json=request)
    assert response.status_code == 400
    assert field in diagnostics(response)


def test_loopback_http_needs_the_development_setting(client, tmp_path):
    """Plain http, even to loopback, is refused unless development explicitly allows it."""
    from cds import create_app

    request = hook_request(NAME, fhirServer="http://127.0.0.1:8080/fhir")
    response = client.post(URL, json=request)
    assert response.status_code == 400
    assert "https" in diagnostics(response)
    app = create_app(app_config(tmp_path, FHIR_ALLOW_LOOPBACK_HTTP=True))
    assert CheckingClient(app.test_client()).post(URL, json=request).status_code == 200


def test_fhir_server_allowlist(tmp_path):
    """With an allow-list, a FHIR server outside it is refused."""
    from cds import create_app

    app = create_app(app_config(tmp_path, FHIR_SERVER_ALLOWLIST=["https://ehr.example.org/"]))
    client = CheckingClient(app.test_client())
    request = hook_request(NAME, fhirServer="https://evil.example.com/fhir")
    response = client.post(URL, json=request)
    assert response.status_code == 400
    assert "not on the allow-list" in diagnostics(response)


def test_unknown_service_is_404(client):
    """A service id that does not exist: 404."""
    response = client.post("/cds-services/nope", json=hook_request(NAME))
    assert response.status_code == 404
    assert "nope" in diagnostics(response)


def test_wrong_method_is_405(client):
    """GET on a service URL: 405 as an OperationOutcome."""
    response = client.get(URL)
    assert response.status_code == 405
    diagnostics(response)


def test_oversized_body_is_413(tmp_path):
    """A body over the configured limit: 413."""
    from cds import create_app

    client = create_app(app_config(tmp_path, MAX_REQUEST_BYTES=1000)).test_client()
    response = client.post(URL, json=hook_request(NAME))
    assert response.status_code == 413
    assert "too large" in diagnostics(response)


def test_unexpected_error_is_500_without_trace(client, monkeypatch):
    """An internal error answers a generic 500 OperationOutcome; the trace stays in the log."""
    import cds.service.api as api

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api, "assess_hook", boom)
    response = client.post(URL, json=hook_request(NAME))
    assert response.status_code == 500
    text = diagnostics(response)
    assert "secret internals" not in response.get_data(as_text=True)
    assert "internal error" in text


@pytest.mark.parametrize(
    ("server", "reason"),
    [
        # The security review's cases: each once passed the check and was fetched.
        ("http://2130706433:8412\\@127.0.0.1/fhir", "backslash"),
        ("http://127.0.0.1:8411@localhost:8412/fhir", "user information"),
        ("https://fhir.hospital.org.evil.example/", "allow-list"),
        ("http://127.0.0.1:8412/fhir", "allow-list"),
    ],
)
def test_tricky_fhir_server_urls_are_refused(tmp_path, server, reason):
    """fhirServer goes through the one URL parser: tricks and near-misses are 400."""
    from cds import create_app

    allowed = ["https://fhir.hospital.org", "http://127.0.0.1:8411"]
    config = app_config(tmp_path, FHIR_SERVER_ALLOWLIST=allowed, FHIR_ALLOW_LOOPBACK_HTTP=True)
    client = CheckingClient(create_app(config).test_client())
    response = client.post(URL, json=hook_request(NAME, fhirServer=server))
    assert response.status_code == 400
    assert reason in diagnostics(response)


def test_answers_are_not_to_be_cached(client):
    """Hook, feedback and error answers carry Cache-Control: no-store (they hold patient data)."""
    feedback = {
        "feedback": [
            {
                "card": "c1",
                "outcome": "overridden",
                "overrideReason": {"userComment": "n/a"},
                "outcomeTimestamp": "2026-11-15T10:00:00Z",
            }
        ]
    }
    answers = [
        client.post(URL, json=hook_request(NAME)),
        client.post(URL + "/feedback", json=feedback),
        client.post(URL, json=hook_request(NAME, prefetch={})),  # 412
    ]
    assert [a.status_code for a in answers] == [200, 200, 412]
    assert all(a.headers["Cache-Control"] == "no-store" for a in answers)
