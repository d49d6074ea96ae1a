"""Real parts of the app's tests: the Medplum FHIR server publishing a SMART configuration, and
the test EHR's Authlib authorization server, both on loopback ports chosen by the OS."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from cds.app.sessions import SessionStore
from cds.service.app import create_app
from cds.storage import open_storage
from tests.app.ehr_auth_server import AuthServer
from tests.integration.fhir_server import FhirServer, require_fhir_server, start_fhir_server

ROOT = Path(__file__).resolve().parents[2]
TREND_FIXTURE = ROOT / "fhir_fixtures" / "trend_12_months.json"
CLIENT_ID = "hcc-workup"
AS_OF = "2026-11-15"


@pytest.fixture(scope="session")
def ehr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuthServer, FhirServer]]:
    """The test EHR: its authorization server and its FHIR server (loaded with the fixtures)."""
    require_fhir_server()
    auth = AuthServer("pending")
    config = tmp_path_factory.mktemp("smart") / "smart-configuration.json"
    config.write_text(json.dumps(auth.smart_configuration()))
    with start_fhir_server(smart_config=config) as fhir:
        auth.state.fhir_base = fhir.base_url
        fhir.load(TREND_FIXTURE)
        fhir.load(ROOT / "fhir_fixtures" / "nct00919009_eligible.json")
        yield auth, fhir
    auth.stop()


def app_store(tmp_path: Path, lifetime: int, clock: Any = time.time) -> SessionStore:
    """The app's session store on the database make_app's app uses (SQLite in tmp_path)."""
    return SessionStore(open_storage(None, str(tmp_path / "app.sqlite3")), lifetime, clock)


def make_app(tmp_path: Path, **config: Any) -> Any:
    settings = {
        "AUTH_DISABLED": True,
        "AS_OF": AS_OF,
        "DATABASE": str(tmp_path / "app.sqlite3"),
        "APP_CLIENT_ID": CLIENT_ID,
        "APP_FRAME_ANCESTORS": ["https://ehr.example.org"],
        "FHIR_TIMEOUT_SECONDS": 8.0,  # generous: the machine is shared by parallel test runs
        "APP_FETCH_SECONDS": 20.0,
        "FHIR_ALLOW_LOOPBACK_HTTP": True,  # the test EHR's servers are http on loopback
    }
    settings.update(config)
    return create_app(settings)


def sign_in(authorize_url: str) -> str:
    """The user's part at the EHR: open the sign-in form, submit it; returns the redirect."""
    form = requests.get(authorize_url, timeout=10)
    assert form.status_code == 200, form.text
    answer = requests.post(
        authorize_url, data={"username": "dr-lee"}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def path_of(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.path}?{parts.query}"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
