"""Availability of ``cds serve`` while slow and idle clients hold connections (loopback only).

For ``SECONDS`` seconds, 40 connections drip header bytes, 40 drip a request body and 40 sit
idle; meanwhile a probe calls ``/healthz`` and a patient-view hook (full prefetch) every 0.5 s.
The figure is how many probes answered 200 within 1 s, and the slowest probe.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import requests

from bench.http_load import free_port, start_server
from bench.requests import patient_view_request

SECONDS = 30
CONNECTIONS_EACH = 40
IN_TIME = 1.0
URL = "/cds-services/hcc-assessment"


def drip(port: int, opening: bytes, stop: threading.Event) -> None:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 5) as sock:
        sock.sendall(opening)
        while not stop.wait(0.5):
            if opening:
                sock.sendall(b"a")


def probe(call: Any) -> float:
    started = time.monotonic()
    try:
        ok = call().status_code == 200
    except requests.RequestException:
        ok = False
    elapsed = time.monotonic() - started
    return elapsed if ok else float("inf")


def measure(seconds: int = SECONDS) -> dict[str, Any]:
    body = orjson.dumps(patient_view_request(100))
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(port, Path(tmp))
        base = f"http://127.0.0.1:{port}"
        stop = threading.Event()
        openings = [b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Drip: "] * CONNECTIONS_EACH
        openings += [
            f"POST {URL} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{{".encode()
        ] * CONNECTIONS_EACH
        openings += [b""] * CONNECTIONS_EACH
        threads = [threading.Thread(target=drip, args=(port, o, stop)) for o in openings]
        health: list[float] = []
        hook: list[float] = []
        try:
            for t in threads:
                t.start()
            time.sleep(1.0)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                health.append(probe(lambda: requests.get(base + "/healthz", timeout=5)))
                hook.append(
                    probe(
                        lambda: requests.post(
                            base + URL,
                            data=body,
                            headers={"Content-Type": "application/json"},
                            timeout=5,
                        )
                    )
                )
                time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=10)
            server.terminate()
            server.wait(timeout=30)
    return {
        "seconds": seconds,
        "connections": 3 * CONNECTIONS_EACH,
        "healthz": summary(health),
        "hook": summary(hook),
    }


def summary(times: list[float]) -> dict[str, Any]:
    answered = [t for t in times if t != float("inf")]
    return {
        "probes": len(times),
        "in_time": sum(t <= IN_TIME for t in times),
        "slowest_ms": max(answered) * 1000 if answered else None,
    }


if __name__ == "__main__":
    print(measure())
