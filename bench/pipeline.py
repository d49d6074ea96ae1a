"""In-process cost of the whole pipeline against the parsing floor of the same run.

The pipeline is what the service does with a request body: parse → check the hook request →
gather the prefetch → extract → assess → render the cards → serialise the response. The floor is
the least any service must do with the same bytes: ``orjson.loads`` of the request and
``orjson.dumps`` of the response.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson

from bench.requests import patient_view_request
from cds import create_app
from cds.fhir.validate import clear_cache


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Milliseconds per call; the garbage collector runs between calls, not inside them."""
    samples = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def make_pipeline(app: Any) -> Callable[[bytes], bytes]:
    """The service's work on a body, without the WSGI/HTTP layer."""
    from cds.fhir.client import Deadline
    from cds.service.api import assess_hook
    from cds.service.hooks import parse_hook_request

    services = app.extensions["hcc_cds"]
    definition = services.definitions["hcc-assessment"]

    def run(body: bytes) -> bytes:
        hook = parse_hook_request(app.json.loads(body), definition.hooks)
        cards = assess_hook(services, "hcc-assessment", hook, Deadline.after(3.0))
        return app.json.dumps({"cards": cards}).encode()

    return run


RUNS = {100: 300, 1000: 150, 5000: 40}


def measure(sizes: tuple[int, ...] = (100, 1000, 5000), cold: bool = False) -> list[dict[str, Any]]:
    """p50/p99 of the pipeline and of the floor per request size.

    :param cold: clear the FHIR validation cache before every call (a patient seen for the first
        time); warm is a chart opened again with the same resources.
    """
    app = create_app(
        {
            "AUTH_DISABLED": True,
            "DATABASE": ":memory:",
            "AS_OF": "2026-11-15",
            "LOG_LEVEL": "WARNING",
        }
    )
    pipeline = make_pipeline(app)
    rows = []
    for n in sizes:
        body = orjson.dumps(patient_view_request(n))
        response = orjson.loads(pipeline(body))
        assert response["cards"], "the benchmark request must produce a card"
        runs = RUNS.get(n, 50)
        for _ in range(5):
            pipeline(body)  # warm-up
        if cold:
            whole = timed(lambda body=body: (clear_cache(), pipeline(body)), runs)
        else:
            whole = timed(lambda body=body: pipeline(body), runs)
        floor = timed(
            lambda body=body, response=response: (orjson.loads(body), orjson.dumps(response)), runs
        )
        rows.append(
            {
                "observations": n,
                "kib": len(body) // 1024,
                "runs": runs,
                "p50": statistics.median(whole),
                "p99": percentile(whole, 99),
                "floor_p50": statistics.median(floor),
                "floor_p99": percentile(floor, 99),
            }
        )
    return rows


if __name__ == "__main__":
    for mode in (False, True):
        for row in measure(cold=mode):
            print("cold" if mode else "warm", row, "ratio %.2f" % (row["p50"] / row["floor_p50"]))
