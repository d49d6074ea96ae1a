"""Server time of the SMART app's work-up page for a patient with 1,000 Observations, with the
FHIR data already fetched, beside the patient-view card for the same record and beside the
fetch itself (from the Medplum FHIR server on loopback, when Node is installed).

    .venv/bin/python -m bench.workup
"""

from __future__ import annotations

import copy
import json
import random
import statistics
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.pipeline import percentile, timed
from bench.requests import LAB_SHAPES
from cds.app.errors import AppError
from cds.app.settings import AppSettings
from cds.app.workup import Loaded, load_from_fhir, page
from cds.fhir.record import load_record
from cds.pipeline import assess_record
from cds.render.cards import patient_view_cards
from cds.report.assessment_json import to_json

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fhir_fixtures" / "trend_12_months.json"
AS_OF = date(2026, 11, 15)
OBSERVATIONS = 1000
RUNS = 30


def bundle(n: int = OBSERVATIONS) -> dict[str, Any]:
    """The trends fixture with ``n`` extra lab results over the two years before the
    assessment (half of them in the 12-month window, so the plots are dense)."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    rng = random.Random(10)
    for i in range(n):
        code, unit, low, high = rng.choice(LAB_SHAPES)
        when = AS_OF - timedelta(days=rng.randint(1, 730))
        obs = {
            "resourceType": "Observation",
            "id": f"bench-{i}",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": "Patient/p40"},
            "effectiveDateTime": when.isoformat(),
            "valueQuantity": {
                "value": round(rng.uniform(low, high), 2),
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            },
        }
        data["entry"].append({"fullUrl": f"Observation/bench-{i}", "resource": obs})
    return data


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(samples), "p99": percentile(samples, 99)}


def measure_fetch(data: dict[str, Any], settings: AppSettings) -> dict[str, Any] | None:
    """The app's FHIR read of a patient from the Medplum server, or None without Node.

    Medplum's in-memory repository searches without an index: one page of the labs query (25
    LOINC codes, sorted by date) over 1,051 Observations took 53 s here, so the read is timed on
    the trends fixture itself (51 Observations); at 1,000 an EHR's search time is what counts.
    """
    from tests.integration.fhir_server import skip_reason, start_fhir_server

    if skip_reason():
        return None
    from cds import create_app

    app = create_app(
        {
            "AUTH_DISABLED": True,
            "DATABASE": ":memory:",
            "LOG_LEVEL": "WARNING",
            "FHIR_TIMEOUT_SECONDS": 20.0,
            "FHIR_MAX_PAGES": 50,
            "FHIR_ALLOW_LOOPBACK_HTTP": True,  # the Medplum server on loopback
        }
    )
    services = app.extensions["hcc_cds"]
    with start_fhir_server(page_size=200) as server:
        server.load(copy.deepcopy(data))
        try:
            samples = timed(
                lambda: load_from_fhir(services, settings, server.base_url, "none", "p40"), 5
            )
        except AppError as exc:
            return {"failed": str(exc)}
    return summary(samples)


def measure() -> dict[str, Any]:
    data = bundle()
    record = load_record(copy.deepcopy(data))
    settings = AppSettings.from_config({"APP_FETCH_SECONDS": 60.0})
    loaded = Loaded(record)
    page(loaded, AS_OF, settings)  # warm: imports, templates, validation cache

    def card() -> None:
        patient_view_cards(
            to_json(assess_record(record, AS_OF)), "p40", app_launch_url="https://x/app/launch"
        )

    card()
    return {
        "observations": sum(
            1 for e in data["entry"] if e["resource"]["resourceType"] == "Observation"
        ),
        "runs": RUNS,
        "workup": summary(timed(lambda: page(loaded, AS_OF, settings), RUNS)),
        "card": summary(timed(card, RUNS)),
        "fetch": measure_fetch(json.loads(FIXTURE.read_text(encoding="utf-8")), settings),
    }


def report(m: dict[str, Any]) -> list[str]:
    fetch = m["fetch"]
    fetched = (
        f"failed: {fetch['failed']}"
        if fetch and "failed" in fetch
        else f"p50 {fetch['p50']:.0f} ms, p99 {fetch['p99']:.0f} ms (5 reads of the "
        "51-Observation trends fixture from the Medplum in-memory server, whose unindexed "
        "search of 1,051 Observations takes about 53 s a page: at 1,000 the EHR's search time "
        "is what counts)"
        if fetch
        else "not measured (Node is not installed)"
    )
    return [
        "## SMART app: the work-up page",
        "",
        f"A patient with {m['observations']:,} Observations (the trends fixture plus synthetic "
        f"labs over two years), data already fetched; {m['runs']} runs each.",
        "",
        "| work | p50 | p99 |",
        "|---|---|---|",
        f"| work-up page (assess, trends at every date, SVG, HTML) | {m['workup']['p50']:.1f} ms | "
        f"{m['workup']['p99']:.1f} ms |",
        f"| patient-view card for the same record (assess, render) | {m['card']['p50']:.1f} ms | "
        f"{m['card']['p99']:.1f} ms |",
        "",
        f"Target: work-up ≤ 300 ms at p50: {'met' if m['workup']['p50'] <= 300 else 'NOT met'}. "
        f"The app's FHIR read (5 queries, concurrent, through cds/fhir/client.py): {fetched}.",
        "",
    ]


if __name__ == "__main__":
    print("\n".join(report(measure())))
