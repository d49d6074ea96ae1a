"""Feedback endpoint: validated per cds-fb-1..3, stored durably, reported by the command line."""

from __future__ import annotations

from cds import create_app
from cds.cli import main
from tests.api.conftest import CheckingClient, app_config
from tests.api.requests_from_fixtures import hook_request

URL = "/cds-services/hcc-assessment"


def accepted(card, suggestion):
    return {
        "card": card,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": suggestion}],
        "outcomeTimestamp": "2026-11-15T10:00:00Z",
    }


def overridden(card, code="tumour-board"):
    return {
        "card": card,
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-15T10:05:00Z",
        "overrideReason": {
            "reason": {
                "system": "https://hcc-cds.example/fhir/CodeSystem/override-reason",
                "code": code,
                "display": "Tumour board decided otherwise",
            }
        },
    }


def test_feedback_round_trip_survives_a_restart(tmp_path, capsys):
    """Cards issued, feedback sent (with a duplicate), app restarted: the report counts it once."""
    config = app_config(tmp_path)
    client = CheckingClient(create_app(config).test_client())
    card = client.post(URL, json=hook_request("peng_2024_recurrence")).json["cards"][0]
    other = client.post(URL, json=hook_request("ineligible_main_portal_vein")).json["cards"][0]
    body = {
        "feedback": [
            accepted(card["uuid"], card["suggestions"][0]["uuid"]),
            overridden(other["uuid"]),
        ]
    }
    first = client.post(URL + "/feedback", json=body)
    assert first.json == {"stored": 2, "duplicates": 0}
    again = client.post(URL + "/feedback", json=body)  # the EHR retries the same delivery
    assert again.json == {"stored": 0, "duplicates": 2}

    restarted = create_app(config).extensions["hcc_cds"].feedback
    rows = {row.kind: row for row in restarted.report()}
    assert rows["tace_plus_sorafenib"].accepted == 1
    assert rows["no_tace_contraindicated"].overridden == 1

    assert main(["feedback-report", "--database", config["DATABASE"]]) == 0
    out = capsys.readouterr().out
    assert "tace_plus_sorafenib" in out and "Tumour board decided otherwise" in out


def test_invalid_feedback_is_400_naming_the_field(client):
    """An accepted outcome without acceptedSuggestions breaks cds-fb-2: 400 naming it."""
    body = {
        "feedback": [
            {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-11-15T10:00:00Z"}
        ]
    }
    response = client.post(URL + "/feedback", json=body)
    assert response.status_code == 400
    assert "acceptedSuggestions" in response.json["issue"][0]["diagnostics"]


def test_feedback_for_unknown_service_is_404(client):
    """Feedback for a service that does not exist: 404."""
    response = client.post("/cds-services/nope/feedback", json={"feedback": []})
    assert response.status_code == 404
