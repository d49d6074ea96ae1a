"""``cds hook-request``: a fixture becomes the request a client sends, keyed as declared."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cds.cli import main
from cds.integration.fixtures import fixture_files
from cds.pipeline import assess_document
from cds.service.discovery import load_discovery

FIXTURES = Path(__file__).resolve().parents[1] / "fhir_fixtures"
AS_OF = date(2026, 11, 15)
PATIENTS = [p.name for p in fixture_files([FIXTURES])]


def request_for(capsys, name, *args):
    assert main(["hook-request", str(FIXTURES / name), *args]) == 0
    return json.loads(capsys.readouterr().out)


def declared(hook):
    return {k for s in load_discovery()["services"] if s["hook"] == hook for k in s["prefetch"]}


@pytest.mark.parametrize("name", PATIENTS)
def test_the_request_assesses_like_the_fixture(capsys, name):
    """Only declared prefetch keys, and the same assessment as the fixture itself gives."""
    request = request_for(capsys, name)
    assert set(request["prefetch"]) == declared("patient-view")
    from_request = assess_document(request, AS_OF)
    from_fixture = assess_document(json.loads((FIXTURES / name).read_text()), AS_OF)
    for result in (from_request, from_fixture):
        result.pop("data_problems")  # names the prefetch key a note came from
    assert from_request == from_fixture


def test_order_sign_request_carries_the_drafts(capsys):
    """--hook order-sign --draft sorafenib: a draftOrders Bundle with the sorafenib draft."""
    request = request_for(
        capsys, "child_pugh_c.json", "--hook", "order-sign", "--draft", "sorafenib"
    )
    assert request["hook"] == "order-sign"
    [entry] = request["context"]["draftOrders"]["entry"]
    assert entry["resource"]["id"] == "draft-sorafenib"
    assert set(request["prefetch"]) == declared("order-sign")


def test_order_select_selects_every_draft(capsys):
    """order-select: every draft is in selections."""
    request = request_for(
        capsys,
        "child_pugh_c.json",
        "--hook",
        "order-select",
        "--draft",
        "tace",
        "--draft",
        "sorafenib",
    )
    assert request["context"]["selections"] == [
        "ServiceRequest/draft-tace",
        "MedicationRequest/draft-sorafenib",
    ]


def test_no_prefetch_names_the_fhir_server_only(capsys):
    """--no-prefetch --fhir-server URL: the service must read everything from the server."""
    request = request_for(
        capsys, "child_pugh_c.json", "--no-prefetch", "--fhir-server", "http://127.0.0.1:9/fhir"
    )
    assert "prefetch" not in request
    assert request["fhirServer"] == "http://127.0.0.1:9/fhir"


def test_the_readme_example_gets_a_card_without_missing_keys(capsys, tmp_path):
    """The README's curl example (peng_2024_recurrence) now obtains every declared key."""
    from cds import create_app
    from tests.api.conftest import app_config

    request = request_for(capsys, "peng_2024_recurrence.json")
    client = create_app(app_config(tmp_path)).test_client()
    [card] = client.post("/cds-services/hcc-assessment", json=request).json["cards"]
    assert "could not obtain" not in card["detail"]
    assert card["extension"]["org.example.hcc-cds.card-kind"].startswith("tace_plus_sorafenib")
