"""Discovery, CORS and health."""

from __future__ import annotations

import pytest

from tests.api.requests_from_fixtures import hook_request
from tests.api.test_orders import order_request, sorafenib

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


def test_default_discovery_keeps_one_id_for_both_order_hooks(client):
    """By default order-select and order-sign share one id (CDS Hooks 2.0 stale guidance)."""
    services = client.get("/cds-services").json["services"]
    order_hooks = {s["hook"]: s["id"] for s in services if s["hook"].startswith("order-")}
    assert order_hooks == {"order-select": "hcc-order-check", "order-sign": "hcc-order-check"}


@pytest.fixture
def distinct_client(tmp_path):
    from cds import create_app
    from tests.api.conftest import CheckingClient, app_config

    return CheckingClient(create_app(app_config(tmp_path, DISTINCT_SERVICE_IDS=True)).test_client())


def test_distinct_ids_list_one_id_per_hook(distinct_client):
    """CDS_DISTINCT_SERVICE_IDS=true: every discovery entry has an id of its own."""
    services = distinct_client.get("/cds-services").json["services"]
    assert {(s["id"], s["hook"]) for s in services} == {
        ("hcc-assessment", "patient-view"),
        ("hcc-order-check-order-select", "order-select"),
        ("hcc-order-check-order-sign", "order-sign"),
    }


def test_distinct_id_answers_only_its_own_hook(distinct_client):
    """The order-select URL refuses an order-sign call (400 naming the hook it answers)."""
    request = order_request("child_pugh_c", "order-sign", sorafenib())
    response = distinct_client.post("/cds-services/hcc-order-check-order-select", json=request)
    assert response.status_code == 400
    assert "order-select" in response.get_data(as_text=True)
    shared = distinct_client.post("/cds-services/hcc-order-check", json=request)
    assert shared.status_code == 404


def hook_call(hook):
    """The call a client makes for ``hook``: a Child-Pugh C patient, sorafenib drafted."""
    if hook == "patient-view":
        return hook_request("child_pugh_c")
    return order_request("child_pugh_c", hook, sorafenib())


def services_keyed_by_url(client):
    """Discovery read as the CDS Hooks Sandbox reads it: one service per URL, the last wins."""
    return {f"/cds-services/{s['id']}": s for s in client.get("/cds-services").json["services"]}


def test_a_client_keying_services_by_url_reaches_all_three_hooks(distinct_client):
    """With distinct ids, a client that keys services by URL calls each hook and gets its card."""
    by_url = services_keyed_by_url(distinct_client)
    reached = {}
    for url, service in by_url.items():
        response = distinct_client.post(url, json=hook_call(service["hook"]))
        assert response.status_code == 200
        reached[service["hook"]] = [
            c["extension"]["org.example.hcc-cds.card-kind"] for c in response.json["cards"]
        ]
    assert set(reached) == {"patient-view", "order-select", "order-sign"}
    assert all(kinds for kinds in reached.values())
    assert reached["order-select"] == reached["order-sign"]


def test_default_discovery_loses_order_select_for_a_client_keying_by_url(client):
    """Why the switch exists: keyed by URL, the shared id keeps only one of the order hooks."""
    hooks = {s["hook"] for s in services_keyed_by_url(client).values()}
    assert hooks == {"patient-view", "order-sign"}


def test_feedback_reaches_a_distinct_id(distinct_client):
    """Feedback on a card from hcc-order-check-order-select is stored under that id."""
    response = distinct_client.post(
        "/cds-services/hcc-order-check-order-select", json=hook_call("order-select")
    )
    card = response.json["cards"][0]
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {"userComment": "discussed at tumour board"},
                "outcomeTimestamp": "2026-11-15T10:00:00Z",
            }
        ]
    }
    answer = distinct_client.post(
        "/cds-services/hcc-order-check-order-select/feedback", json=feedback
    )
    assert answer.status_code == 200
    assert answer.json == {"stored": 1, "duplicates": 0}
