"""The FHIR-fallback path: no prefetch, a FHIR server that answers each query after 100 ms.

The service asks for the Patient and four searches at once; with the queries running
concurrently the call costs about one server delay, not five.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.pipeline import percentile
from cds import create_app
from tests.api.requests_from_fixtures import hook_request, prefetch_of

DELAY_SECONDS = 0.100
NAME = "nct00919009_eligible"


def slow_fhir_server(prefetch: dict[str, Any]) -> ThreadingHTTPServer:
    log: list[tuple[float, float]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802
            started = time.perf_counter()
            time.sleep(DELAY_SECONDS)
            path = self.path.split("/fhir/", 1)[1]
            key = (
                "patient"
                if path.startswith("Patient/")
                else "labs"
                if "1975-2" in path
                else "findings"
                if "Observation" in path
                else "conditions"
                if path.startswith("Condition")
                else "procedures"
            )
            body = json.dumps(prefetch[key]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            log.append((started, time.perf_counter()))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_log = log  # type: ignore[attr-defined]
    return server


def measure(calls: int = 20, host: str = "127.0.0.1") -> dict[str, Any]:
    """:param host: ``localhost`` makes each call resolve the name (cds/fhir/resolve.py)."""
    server = slow_fhir_server(prefetch_of(NAME))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app = create_app(
            {
                "AUTH_DISABLED": True,
                "FHIR_ALLOW_LOOPBACK_HTTP": True,
                "DATABASE": ":memory:",
                "AS_OF": "2026-11-15",
                "LOG_LEVEL": "WARNING",
            }
        )
        client = app.test_client()
        base = f"http://{host}:{server.server_port}/fhir"
        samples, overlaps = [], []
        for i in range(calls + 2):
            request = hook_request(NAME, fhirServer=base)
            del request["prefetch"]
            server.request_log.clear()  # type: ignore[attr-defined]
            started = time.perf_counter()
            response = client.post("/cds-services/hcc-assessment", json=request)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200 and response.json["cards"], response.json
            if i >= 2:  # the first calls pay one-off imports and connection set-up
                samples.append(elapsed)
                spans = server.request_log  # type: ignore[attr-defined]
                overlaps.append(max(s for s, _ in spans) < min(e for _, e in spans))
        return {
            "queries_per_call": 5,
            "server_delay_ms": DELAY_SECONDS * 1000,
            "p50": statistics.median(samples),
            "p99": percentile(samples, 99),
            "all_queries_overlapped": all(overlaps),
            "calls": calls,
        }
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    for name in ("127.0.0.1", "localhost"):  # an address, then a name resolved once per call
        print(name, measure(host=name))
