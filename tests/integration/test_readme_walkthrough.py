"""The README's integrator walkthrough, run word for word (only its two ports replaced).

It starts the test FHIR server and ``cds serve``, loads the fixtures with ``cds load-fixtures``,
and calls the service through the FHIR fallback with ``cds hook-request | curl``: the cards it
prints must be the fixtures' expected ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess

import pytest

from tests.integration.fhir_server import REPO_ROOT, require_fhir_server

README = REPO_ROOT / "README.md"
BLOCK = re.compile(r"<!-- walkthrough:start -->\n```sh\n(.*?)```\n<!-- walkthrough:end -->", re.S)
README_PORTS = ("8090", "8080")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def script_with_free_ports() -> str:
    script = BLOCK.search(README.read_text(encoding="utf-8")).group(1)
    for port in README_PORTS:
        assert port in script
        script = script.replace(port, str(free_port()))
    return script


def json_documents(text: str) -> list[dict]:
    """Every JSON object printed on a line of its own (curl's answers)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def card_kinds(answer: dict) -> list[str]:
    return [c["extension"]["org.example.hcc-cds.card-kind"] for c in answer["cards"]]


def test_the_readme_walkthrough_gives_the_expected_cards(tmp_path):
    """Fixtures into the FHIR server, then patient-view and order-sign through the fallback."""
    require_fhir_server()
    if shutil.which("curl") is None:
        pytest.skip("curl is not on PATH")
    # Stop what the block started in the background, whatever happens.
    script = "set -e\ntrap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n" + script_with_free_ports()
    env = {"PATH": f"{REPO_ROOT / '.venv' / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    env["CDS_DATABASE"] = str(tmp_path / "cds.sqlite3")  # not in the checkout
    # CI shares 2 cores with other suites: a generous deadline, so that a slow moment does not
    # turn the cards into the deadline's empty answer (that path has tests of its own).
    env["CDS_DEADLINE_SECONDS"] = "30"
    env["CDS_FHIR_TIMEOUT_SECONDS"] = "20"
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("loaded ") >= 20
    discovery, patient_view, order_sign = json_documents(done.stdout)
    assert {s["id"] for s in discovery["services"]} == {"hcc-assessment", "hcc-order-check"}
    [card] = patient_view["cards"]
    assert "could not obtain" not in card["detail"], card["detail"][-1500:]
    assert card_kinds(patient_view) == ["tace_protocol"]  # TACE alone, the protocol option named
    assert sorted(card_kinds(order_sign)) == [
        "order-sorafenib-contraindicated",
        "order-tace-contraindicated",
    ]
    for card in order_sign["cards"]:
        assert card["indicator"] == "critical"
        [remove] = [s["actions"][0] for s in card["suggestions"]]
        assert remove["type"] == "delete"
        assert remove["resourceId"] == card["extension"]["org.example.hcc-cds.order"]["draft"]
