"""``cds serve`` (the Dockerfile's start command) runs gunicorn and answers hook calls."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.api.requests_from_fixtures import hook_request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {
        **os.environ,
        "CDS_AUTH_DISABLED": "true",
        "CDS_AS_OF": '"2026-11-15"',
        "CDS_DATABASE": str(tmp_path_factory.mktemp("db") / "cds.sqlite3"),
        "CDS_WORKERS": "2",
        "CDS_APP_DEMO": "true",  # as scripts/demo runs it
    }
    cds = Path(sys.executable).with_name("cds")
    log = tmp_path_factory.mktemp("log") / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(cds), "serve", "--bind", f"127.0.0.1:{port}"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):  # up to 30 s for gunicorn and the workers to start
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except requests.RequestException:  # not listening, or workers still starting
            time.sleep(0.1)
    else:
        process.kill()
        process.wait()
        pytest.fail("cds serve did not start: " + log.read_text()[-2000:])
    yield base
    process.terminate()
    process.wait(timeout=20)


def test_serve_answers_health_and_discovery(server):
    """The gunicorn server answers /healthz and discovery."""
    assert requests.get(server + "/healthz", timeout=5).json() == {"status": "ok"}
    assert len(requests.get(server + "/cds-services", timeout=5).json()["services"]) == 3


def test_serve_returns_cards_for_a_fixture_request(server):
    """A patient-view call over real HTTP returns the expected card."""
    response = requests.post(
        server + "/cds-services/hcc-assessment",
        json=hook_request("peng_2024_recurrence"),
        timeout=10,
    )
    assert response.status_code == 200
    card = response.json()["cards"][0]
    assert card["extension"]["org.example.hcc-cds.card-kind"] == "tace_plus_sorafenib"


def test_demo_work_up_page_opens_in_a_browser(server):
    """scripts/demo's second address: the work-up page of the demo patient, with its CSS."""
    page = requests.get(server + "/app/demo", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Patient/p30" in page.text and 'data-series="child_pugh"' in page.text
    css = requests.get(server + "/app/static/app.css", timeout=10)
    assert css.status_code == 200 and "grid-template-columns" in css.text
