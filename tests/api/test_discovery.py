"""Discovery, CORS and health."""

from __future__ import annotations

import pytest

SERVICE_URLS = [
    "/cds-services",
    "/cds-services/hcc-assessment",
    "/cds-services/hcc-assessment/feedback",
    "/cds-services/hcc-order-check",
    "/cds-services/hcc-order-check/feedback",
]


def test_discovery_lists_the_services(client):
    """GET /cds-services lists patient-view and both order hooks with the required fields."""
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = response.json["services"]
    assert {(s["id"], s["hook"]) for s in services} == {
        ("hcc-assessment", "patient-view"),
        ("hcc-order-check", "order-select"),
        ("hcc-order-check", "order-sign"),
    }
    for service in services:
        assert service["description"] and service["title"]


def test_prefetch_templates_are_expanded_and_use_patient_references(client):
    """Templates name the patient as Patient/{{context.patientId}} and carry the real codes."""
    for service in client.get("/cds-services").json["services"]:
        for template in service["prefetch"].values():
            assert "{{codes." not in template
            assert "{{context.patientId}}" in template
            assert "patient={{" not in template  # reference style, not a bare id
        assert "http://loinc.org|1975-2" in service["prefetch"]["labs"]
        assert "nodule-count" in service["prefetch"]["findings"]


@pytest.mark.parametrize("url", SERVICE_URLS)
def test_preflight_on_every_route(client, url):
    """OPTIONS answers with the CORS headers a browser client needs."""
    response = client.options(
        url,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_cors_headers_on_post_and_errors(client):
    """Error responses carry CORS headers too (a browser must be able to read them)."""
    response = client.post(
        "/cds-services/hcc-assessment", data="nope", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_healthz(client):
    """GET /healthz says ok."""
    assert client.get("/healthz").json == {"status": "ok"}
