"""The command line's cost: start-up of ``cds assess`` and per-patient cost in a batch.

Start-up is a one-patient ``cds assess --json`` call's wall time less that patient's in-process
pipeline time (what the process pays before and besides the work: interpreter, imports, FHIR
models). The batch figure is ``cds assess`` over the fixture directory: (batch − one) / (n − 1)
per further patient, next to the in-process pipeline per patient (``assess_document`` in a warm
process, validation cache cleared, as a new patient would be).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fhir_fixtures"
ONE = FIXTURES / "nct00919009_eligible.json"
AS_OF = "2026-11-15"
ROUNDS = 7
STARTUP_TARGET_S = 0.5


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``command``."""
    cpu, started = children_cpu(), time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started, children_cpu() - cpu


def best(command: list[str], rounds: int = ROUNDS) -> tuple[float, float, float]:
    """The fastest and the median wall time, and the least CPU time, of several runs: on a
    shared machine the slower runs measure the neighbours. CPU time (the command's and its
    validation worker's, which it reaps) is the steadier figure under contention."""
    runs = [run(command) for _ in range(rounds)]
    walls = [w for w, _ in runs]
    return min(walls), statistics.median(walls), min(c for _, c in runs)


def patients() -> list[Path]:
    return [p for p in sorted(FIXTURES.glob("*.json")) if not p.name.endswith(".expected.json")]


def in_process_per_patient() -> dict[str, float]:
    """Median in-process cost of one patient, and of the one-patient call's patient."""
    from cds.fhir.validate import clear_cache
    from cds.pipeline import assess_document

    as_of = date.fromisoformat(AS_OF)
    documents = {p: json.loads(p.read_bytes()) for p in patients()}
    assess_document(documents[ONE], as_of)  # imports and FHIR models loaded once
    per_patient, one = [], []
    for _ in range(3):
        for path, document in documents.items():
            clear_cache()
            started = time.perf_counter()
            assess_document(document, as_of)
            elapsed = time.perf_counter() - started
            per_patient.append(elapsed)
            if path == ONE:
                one.append(elapsed)
    return {"per_patient": statistics.median(per_patient), "one": statistics.median(one)}


def measure() -> dict[str, Any]:
    cds = [sys.executable, "-m", "cds.cli", "assess"]
    interpreter, _, interpreter_cpu = best([sys.executable, "-c", "pass"])
    single, single_median, single_cpu = best([*cds, str(ONE), "--json", "--as-of", AS_OF])
    count = len(patients())
    batch, _, batch_cpu = best([*cds, str(FIXTURES), "--json", "--as-of", AS_OF], rounds=3)
    in_process = in_process_per_patient()
    return {
        "interpreter_s": interpreter,
        "interpreter_cpu_s": interpreter_cpu,
        "single_s": single,
        "single_cpu_s": single_cpu,
        "single_median_s": single_median,
        "startup_s": single - in_process["one"],
        "startup_median_s": single_median - in_process["one"],
        "startup_cpu_s": single_cpu - in_process["one"],
        "patients": count,
        "batch_s": batch,
        "batch_cpu_s": batch_cpu,
        "batch_per_patient_ms": (batch - single) / (count - 1) * 1000,
        "batch_per_patient_cpu_ms": (batch_cpu - single_cpu) / (count - 1) * 1000,
        "pipeline_per_patient_ms": in_process["per_patient"] * 1000,
        "target_s": STARTUP_TARGET_S,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
