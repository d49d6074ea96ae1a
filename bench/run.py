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

from bench import fallback, http_load, pipeline, workup

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
        f"`cds serve` (gunicorn, 2 workers × 4 threads) and wrk with {http['connections']} "
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
        "## FHIR fallback",
        "",
        f"No prefetch; a FHIR server on loopback answers each of the {slow['queries_per_call']} "
        f"queries after {slow['server_delay_ms']:.0f} ms. p50 {slow['p50']:.0f} ms, p99 "
        f"{slow['p99']:.0f} ms over {slow['calls']} calls; all queries of a call overlapped in "
        f"time: {slow['all_queries_overlapped']}.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    warm = pipeline.measure()
    cold = pipeline.measure(cold=True)
    http = http_load.measure()
    slow = fallback.measure()
    text = report(warm, cold, http, slow) + "\n" + "\n".join(workup.report(workup.measure()))
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        text += "\n" + notes.read_text(encoding="utf-8")
    (ROOT / "BENCHMARKS.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
