"""The command line's validation worker gives the verdicts in-process validation gives.

Forking is tried in a fresh interpreter, never in pytest's own process (its threads could hold a
lock the child would then wait for).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.fhir.factories import lab

ROOT = Path(__file__).resolve().parents[2]
ELIGIBLE = ROOT / "fhir_fixtures" / "nct00919009_eligible.json"


def invalid_observation(when: str = "2026-11-12") -> dict:
    obs = lab("bad", "1975-2", 1.0, "mg/dL", when=when)
    obs["referenceRange"] = [{"high": {"value": "high"}}]
    return obs


RESOURCES = [
    lab("good", "1975-2", 1.0, "mg/dL"),
    invalid_observation(),
    {"resourceType": "Patient", "id": "p", "birthDate": "1960-02-30"},
    {"resourceType": "Condition", "id": "c"},  # no subject
    {"resourceType": "Unheard", "id": "u"},
]

COMPARE = """
import json, os, sys
from cds.fhir import validate, validation_worker
resources = json.load(sys.stdin)
worker = validation_worker.start()
if sys.argv[1] == "kill":
    os.kill(worker.pid, 9)
    os.waitpid(worker.pid, 0)
from_worker = [validate.problem(r) for r in resources]
validate.delegate(None)
validate.clear_cache()
here = [validate.problem(r) for r in resources]
print(json.dumps({"worker": from_worker, "here": here, "pid": worker.pid}))
"""


def compare(mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", COMPARE, mode],
        input=json.dumps(RESOURCES),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_worker_gives_the_in_process_verdicts():
    """Valid, invalid (naming the field), unknown type: the same text from either process."""
    result = compare("keep")
    assert result["worker"] == result["here"]
    assert result["here"][0] is None
    assert "Observation/bad" in result["here"][1] and "referenceRange" in result["here"][1]
    assert all(verdict for verdict in result["here"][1:])


def test_a_lost_worker_costs_no_verdict():
    """A worker killed before the first request: the verdicts are computed in-process."""
    result = compare("kill")
    assert result["worker"] == result["here"]
    assert result["here"][1] is not None


def test_the_worker_ends_with_the_main_process():
    """No worker is left behind once the command has exited."""
    result = compare("keep")
    deadline = time.monotonic() + 10  # the worker sees the pipe close at once; 10 s is slack
    while time.monotonic() < deadline:
        try:
            os.kill(result["pid"], 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"worker {result['pid']} still running")


def test_console_output_equals_main_output(tmp_path, capsys):
    """``cds assess`` (worker, fast exit) prints what ``main`` prints, invalid resource included."""
    from cds.cli import main

    document = json.loads(ELIGIBLE.read_text())
    patient = next(
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    bad = invalid_observation(when="2026-11-14")  # the newest bilirubin: selected, so validated
    bad["subject"] = {"reference": f"Patient/{patient['id']}"}
    document["entry"].append({"resource": bad})
    path = tmp_path / "with_invalid.json"
    path.write_text(json.dumps(document))
    args = ["assess", str(path), "--json", "--as-of", "2026-11-15"]
    console = subprocess.run(
        [sys.executable, "-m", "cds.cli", *args], capture_output=True, text=True, cwd=ROOT
    )
    assert main(args) == console.returncode == 0
    assert console.stdout == capsys.readouterr().out
    assert any("Observation/bad" in p["text"] for p in json.loads(console.stdout)["data_problems"])
