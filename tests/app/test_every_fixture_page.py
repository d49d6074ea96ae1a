"""Every project fixture's work-up page renders, with the recommendation the assessment gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app.conftest import make_app

FIXTURES = Path(__file__).resolve().parents[2] / "fhir_fixtures"
CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("pages"), APP_DEMO=True).test_client()


@pytest.mark.parametrize("name", CASES)
def test_page_renders_with_the_fixture_recommendation(client, name):
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    response = client.get(f"/app/demo?patient={name}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[-500:]
    option = expected["expected"].get("recommendation.option")
    if option:
        assert f'data-option="{option}"' in html


@pytest.mark.parametrize("name", ["../pyproject", "no-such-patient", "README"])
def test_demo_serves_only_fixtures(client, name):
    assert client.get(f"/app/demo?patient={name}").status_code == 404


def test_demo_is_off_unless_switched_on(tmp_path):
    assert make_app(tmp_path).test_client().get("/app/demo").status_code == 404
