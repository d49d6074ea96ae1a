"""Run every benchmark and write BENCHMARKS.md (``scripts/bench``).

Figures are printed and written; nothing here is a test and nothing fails on machine speed.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cli, fallback, http_load, pipeline, replicas, slow_clients, workup

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"ratio": 3.0, "p99_1000": 50.0, "http_share": 0.5, "fallback_ms": 300.0}


def machine() -> str:
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    arch = platform.processor() or platform.machine()
    return f"{arch}, {cpu} cores, Python {sys.version.split()[0]}"


def pipeline_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| observations | request | runs | pipeline p50 | pipeline p99 | floor p50 | ratio p50 "
        "| per 1,000 obs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['observations']:,} | {r['kib']:,} KiB | {r['runs']} | {r['p50']:.2f} ms "
            f"| {r['p99']:.2f} ms | {r['floor_p50']:.2f} ms | "
            f"{r['p50'] / r['floor_p50']:.2f}× | {r['p50'] / r['observations'] * 1000:.1f} ms |"
        )
    return lines


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(
    warm: list[dict[str, Any]],
    cold: list[dict[str, Any]],
    http: dict[str, Any],
    slow: dict[str, Any],
    clients: dict[str, Any],
    command_line: dict[str, Any],
) -> str:
    at = {r["observations"]: r for r in warm}[1000]
    at_cold = {r["observations"]: r for r in cold}[1000]
    ratio, ratio_cold = at["p50"] / at["floor_p50"], at_cold["p50"] / at_cold["floor_p50"]
    hook, health = http["patient_view"], http["healthz"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()} with `scripts/bench` "
        "(which runs `.venv/bin/python -m bench.run`). Each figure is one run on a shared "
        "2-core machine: expect ±20 % between runs.",
        "",
        "## Targets",
        "",
        "| target | figure | verdict |",
        "|---|---|---|",
        f"| pipeline p50 ≤ 3× parsing floor at 1,000 Observations | warm {ratio:.2f}×, cold "
        f"{ratio_cold:.2f}× | {verdict(ratio <= 3)} warm, {verdict(ratio_cold <= 3)} cold |",
        f"| pipeline p99 ≤ 50 ms at 1,000 Observations | warm {at['p99']:.1f} ms, cold "
        f"{at_cold['p99']:.1f} ms | {verdict(max(at['p99'], at_cold['p99']) <= 50)} |",
        "| cost linear in bundle size | per-1,000-observation cost in the tables | see below |",
        f"| HTTP throughput ≥ 50 % of `/healthz` | {hook['rps']:.0f} vs {health['rps']:.0f} req/s "
        f"= {http['throughput_ratio']:.0%} | {verdict(http['throughput_ratio'] >= 0.5)} |",
        f"| FHIR fallback with a 100 ms server < 300 ms end to end | p50 {slow['p50']:.0f} ms, "
        f"p99 {slow['p99']:.0f} ms | {verdict(slow['p99'] < 300)} |",
        f"| `cds assess` start-up < {command_line['target_s']} s | "
        f"{command_line['startup_s']:.2f} s wall, {command_line['startup_cpu_s']:.2f} s CPU | "
        f"{verdict(command_line['startup_s'] < command_line['target_s'])} |",
        "",
        "## In-process pipeline against the parsing floor",
        "",
        "Pipeline: request bytes → hook checks → prefetch → extraction (with FHIR validation of "
        "the selected resources) → assessment → cards → response bytes. Floor: `orjson.loads` of "
        "the "
        "same bytes plus `orjson.dumps` of the response. *Warm*: the same resources were seen "
        "before (validation verdicts cached by content digest, as on a chart opened again); "
        "*cold*: the cache is cleared before every call.",
        "",
        "Warm:",
        "",
        *pipeline_table(warm),
        "",
        "Cold:",
        "",
        *pipeline_table(cold),
        "",
        "## HTTP on loopback",
        "",
        f"`cds serve` (waitress, 2 processes × 16 threads) and wrk with {http['connections']} "
        f"connections for {http['seconds']} s a route, three alternating rounds (the median round "
        f"is shown), on the same 2 cores; request: patient-view "
        f"with {http['observations']} Observations ({http['body_kib']} KiB).",
        "",
        "| route | req/s | p50 | p99 |",
        "|---|---|---|---|",
        f"| `GET /healthz` (framework floor) | {health['rps']:.0f} | {health['p50']:.2f} ms | "
        f"{health['p99']:.2f} ms |",
        f"| `POST /cds-services/hcc-assessment` | {hook['rps']:.0f} | {hook['p50']:.2f} ms | "
        f"{hook['p99']:.2f} ms |",
        "",
        *slow_clients_section(clients),
        "## FHIR fallback",
        "",
        f"No prefetch; a FHIR server on loopback answers each of the {slow['queries_per_call']} "
        f"queries after {slow['server_delay_ms']:.0f} ms. p50 {slow['p50']:.0f} ms, p99 "
        f"{slow['p99']:.0f} ms over {slow['calls']} calls; all queries of a call overlapped in "
        f"time: {slow['all_queries_overlapped']}.",
        "",
        *command_line_section(command_line),
    ]
    return "\n".join(lines)


def probes(p: dict[str, Any]) -> str:
    slowest = "none answered" if p["slowest_ms"] is None else f"slowest {p['slowest_ms']:.0f} ms"
    return f"{p['in_time']} of {p['probes']} within 1 s ({slowest})"


def slow_clients_section(c: dict[str, Any]) -> list[str]:
    return [
        "## Slow clients",
        "",
        f"`cds serve` as above while {c['connections']} connections are held for "
        f"{c['seconds']} s (40 drip header bytes, 40 drip a request body, 40 sit idle), a probe "
        "every 0.5 s (`bench/slow_clients.py`):",
        "",
        "| probe | answered 200 |",
        "|---|---|",
        f"| `GET /healthz` | {probes(c['healthz'])} |",
        f"| `POST /cds-services/hcc-assessment` (100 Observations) | {probes(c['hook'])} |",
        "",
        *SERVER_CHOICE,
        "",
    ]


def command_line_section(c: dict[str, Any]) -> list[str]:
    return [
        "## Command line",
        "",
        "`bench/cli.py`: wall time of `python -m cds.cli assess` (fastest of 7 runs, the batch "
        "of 3: on a shared machine slower runs measure the neighbours), "
        "next to the in-process pipeline (`assess_document` in a warm process, validation cache "
        "cleared before each patient). Start-up is the one-patient call less that patient's "
        "in-process time: interpreter, imports and FHIR models.",
        "",
        "| figure | wall | CPU |",
        "|---|---|---|",
        f"| interpreter alone (`python -c pass`) | {c['interpreter_s'] * 1000:.0f} ms | "
        f"{c['interpreter_cpu_s'] * 1000:.0f} ms |",
        f"| `cds assess` one patient, `--json` | {c['single_s'] * 1000:.0f} ms | "
        f"{c['single_cpu_s'] * 1000:.0f} ms |",
        f"| start-up (that, less the patient's pipeline time) | {c['startup_s'] * 1000:.0f} ms | "
        f"{c['startup_cpu_s'] * 1000:.0f} ms |",
        f"| `cds assess fhir_fixtures/` ({c['patients']} patients, one process) | "
        f"{c['batch_s'] * 1000:.0f} ms | {c['batch_cpu_s'] * 1000:.0f} ms |",
        f"| each further patient in the batch | {c['batch_per_patient_ms']:.1f} ms | "
        f"{c['batch_per_patient_cpu_ms']:.1f} ms |",
        f"| in-process pipeline per patient | {c['pipeline_per_patient_ms']:.1f} ms | – |",
        "",
    ]


# Measured once, when `cds serve` moved from gunicorn to waitress (issue 8); the commands to
# measure again are given. Both servers were run alternately on the same machine and hour.
SERVER_CHOICE = [
    "**Server choice.** gunicorn gthread (2 workers × 4 threads) hands a connection to a thread "
    "before its request is read, so 8 dripping clients stall it; waitress reads each request "
    "whole in its event loop first. Waitress is one process, so `cds serve` runs one per core "
    "(`CDS_WORKERS`, default `os.cpu_count()`), each listening on the address with "
    "`SO_REUSEPORT` (the kernel spreads connections), under a small supervisor that restarts a "
    "worker that dies (`cds/service/server.py`). Measured on 2026-12-01 23:12–23:24 UTC, four "
    "alternating rounds of `python -m bench.http_load` with the previous commit's `cds serve` "
    "(gunicorn) and this one, then one round each of `python -m bench.slow_clients`, on the "
    "shared 2-core machine at load average 7–11 (other engineers' test suites): the absolute "
    "figures are low and noisy, the comparison is what counts.",
    "",
    "| server | `/healthz` req/s (4 rounds) | hook req/s (4 rounds) | median hook | "
    "slow-client probes within 1 s (`/healthz`, hook) |",
    "|---|---|---|---|---|",
    "| gunicorn 2 × 4 (before) | 1156, 1182, 1654, 1234 | 55.8, 73.7, 75.2, 44.8 | 64.8 | "
    "5 of 6, 0 of 6 (each other probe timed out at 5 s) |",
    "| waitress 2 × 16 (after) | 1301, 1331, 1192, 1248 | 57.8, 42.3, 55.3, 65.4 | 56.6 (−13 %) "
    "| 48 of 48, 46 of 48 (slowest 1.47 s) |",
]


def main() -> int:
    if sys.argv[1:] == ["replicas"]:  # scripts/bench replicas: only that section, rewritten
        lines = replicas.measure()
        replicas.write_section(lines)
        print("\n".join(lines))
        return 0
    warm = pipeline.measure()
    cold = pipeline.measure(cold=True)
    http = http_load.measure()
    slow = fallback.measure()
    clients = slow_clients.measure()
    command_line = cli.measure()
    text = report(warm, cold, http, slow, clients, command_line)
    text += "\n" + "\n".join(replicas.measure())
    text += "\n" + "\n".join(workup.report(workup.measure()))
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        text += "\n" + notes.read_text(encoding="utf-8")
    (ROOT / "BENCHMARKS.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
