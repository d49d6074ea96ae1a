"""HTTP load on loopback against ``cds serve`` with wrk, beside the same server's /healthz.

wrk (Debian package ``wrk``) runs at a fixed concurrency for a bounded time against
127.0.0.1 only; the server is stopped at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import requests

from bench.requests import patient_view_request

HERE = Path(__file__).resolve().parent
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CDS_AUTH_DISABLED": "true",
        "CDS_AS_OF": "2026-11-15",
        "CDS_DATABASE": str(workdir / "bench.sqlite3"),
        "CDS_WORKERS": "2",
    }
    cds = Path(sys.executable).with_name("cds")
    with (workdir / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [str(cds), "serve", "--bind", f"127.0.0.1:{port}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.RequestException:  # not listening, or workers still starting
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("cds serve did not start")


def parse_wrk(output: str) -> dict[str, float]:
    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * UNITS_MS[unit]

    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"wrk printed no latency distribution:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rps,
        "p50": ms(latency["50"]),
        "p99": ms(latency["99"]),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def wrk(
    url: str, seconds: int, connections: int, body: Path | None, timeout_s: int = 2
) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s"]
    command += ["--latency", url]
    env = dict(os.environ)
    if body is not None:
        command[1:1] = ["-s", str(HERE / "post.lua")]
        env["BODY_FILE"] = str(body)
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, check=True, timeout=seconds + 30
    )
    return parse_wrk(done.stdout)


ROUNDS = 3


def median_round(rounds: list[dict[str, float]]) -> dict[str, float]:
    """The round with the median throughput."""
    return sorted(rounds, key=lambda r: r["rps"])[len(rounds) // 2]


def measure(seconds: int = 8, connections: int = 8, observations: int = 100) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        body = workdir / "request.json"
        body.write_bytes(orjson.dumps(patient_view_request(observations)))
        port = free_port()
        server = start_server(port, workdir)
        try:
            base = f"http://127.0.0.1:{port}"
            requests.post(
                base + "/cds-services/hcc-assessment",
                data=body.read_bytes(),
                headers={"Content-Type": "application/json"},
                timeout=30,
            )  # warm-up
            # Alternating rounds, each figure the median round: one noisy round on a shared
            # machine does not decide the result.
            healths, hooks = [], []
            for _ in range(ROUNDS):
                healths.append(wrk(base + "/healthz", seconds, connections, None))
                hooks.append(wrk(base + "/cds-services/hcc-assessment", seconds, connections, body))
            health, hook = median_round(healths), median_round(hooks)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {
        "connections": connections,
        "seconds": seconds,
        "observations": observations,
        "body_kib": body_size_kib(observations),
        "healthz": health,
        "patient_view": hook,
        "throughput_ratio": hook["rps"] / health["rps"],
    }


def body_size_kib(observations: int) -> int:
    return len(orjson.dumps(patient_view_request(observations))) // 1024


if __name__ == "__main__":
    print(measure())
