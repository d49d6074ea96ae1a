"""The patient-view card links to the work-up app (type smart), without patient data."""

from __future__ import annotations

import json
from pathlib import Path

from tests.app.conftest import make_app

HOOK = Path(__file__).resolve().parents[2] / "fhir_fixtures" / "peng_2024_recurrence.json"


def card(app, **kwargs):
    body = json.loads(HOOK.read_text(encoding="utf-8"))
    response = app.test_client().post("/cds-services/hcc-assessment", json=body, **kwargs)
    assert response.status_code == 200
    (only,) = response.get_json()["cards"]
    return only, body


def test_registered_app_gives_the_card_a_smart_link(tmp_path):
    app = make_app(tmp_path, DEADLINE_SECONDS=30.0, PUBLIC_BASE_URL="https://cds.hospital.org/")
    got, body = card(app)
    assert [link["type"] for link in got["links"]][-1] == "smart"  # after the evidence links
    (smart,) = [link for link in got["links"] if link["type"] == "smart"]
    assert smart == {
        "label": "Open the full work-up: trends, every score and criterion",
        "url": "https://cds.hospital.org/app/launch",
        "type": "smart",
    }
    patient = body["context"]["patientId"]
    assert patient not in json.dumps(smart)
    assert "appContext" not in smart


def test_link_uses_the_host_called_without_a_public_base_url(tmp_path):
    app = make_app(tmp_path, DEADLINE_SECONDS=30.0)
    got, _ = card(app, base_url="http://127.0.0.1:8080")
    assert got["links"][-1]["url"] == "http://127.0.0.1:8080/app/launch"


def test_no_link_from_a_host_header_off_loopback(tmp_path):
    """Without a public base URL the Host header never names the link: off loopback, no link."""
    app = make_app(tmp_path, DEADLINE_SECONDS=30.0)
    got, _ = card(app, base_url="http://evil.example")
    assert "links" not in got or all(link["type"] != "smart" for link in got["links"])
    got, _ = card(app, base_url="http://127.0.0.1:8080", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert "links" not in got or all(link["type"] != "smart" for link in got["links"])


def test_no_link_while_the_app_is_not_registered(tmp_path):
    app = make_app(tmp_path, DEADLINE_SECONDS=30.0, APP_CLIENT_ID=None)
    got, _ = card(app)
    assert all(link["type"] != "smart" for link in got.get("links", []))
