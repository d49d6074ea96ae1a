"""Realistic patient-view requests with a prefetch of N laboratory Observations.

The patient is the trial-eligible fixture (so every rule runs to the end) with N extra lab
results of the analytes the service reads, dated over the years before the assessment, in the
units real EHRs send (a mix of SI and conventional), plus Conditions and Procedures.
"""

from __future__ import annotations

import copy
import random
from datetime import date, timedelta
from typing import Any

from tests.api.requests_from_fixtures import hook_request, searchset

AS_OF = date(2026, 11, 15)
LAB_SHAPES = [  # (LOINC, unit, low, high)
    ("14631-6", "umol/L", 8, 60),
    ("1975-2", "mg/dL", 0.4, 3.5),
    ("1751-7", "g/L", 25, 45),
    ("6301-6", "{INR}", 0.9, 2.0),
    ("777-3", "10*9/L", 40, 300),
    ("751-8", "10*9/L", 0.8, 6),
    ("718-7", "g/L", 80, 160),
    ("1920-8", "U/L", 15, 200),
    ("1742-6", "U/L", 10, 200),
    ("14682-9", "umol/L", 50, 140),
    ("1834-1", "ng/mL", 2, 2000),
    ("2951-2", "mmol/L", 130, 145),
]


def lab(i: int, rng: random.Random) -> dict[str, Any]:
    code, unit, low, high = rng.choice(LAB_SHAPES)
    when = AS_OF - timedelta(days=rng.randint(8, 3650))
    return {
        "resourceType": "Observation",
        "id": f"bench-lab-{i}",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "Patient/p10"},
        "effectiveDateTime": when.isoformat(),
        "issued": f"{when.isoformat()}T12:00:00Z",
        "valueQuantity": {
            "value": round(rng.uniform(low, high), 2),
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
        "referenceRange": [{"low": {"value": low}, "high": {"value": high}}],
    }


def condition(i: int) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": f"bench-cond-{i}",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "resolved",
                }
            ]
        },
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": str(10000 + i)}]},
        "subject": {"reference": "Patient/p10"},
        "recordedDate": "2015-01-01",
    }


def procedure(i: int) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": f"bench-proc-{i}",
        "status": "completed",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": str(20000 + i)}]},
        "subject": {"reference": "Patient/p10"},
        "performedDateTime": "2016-01-01",
    }


def patient_view_request(n_labs: int, seed: int = 7) -> dict[str, Any]:
    """The eligible patient's request with ``n_labs`` extra labs, 30 Conditions, 20 Procedures."""
    rng = random.Random(seed)
    request = copy.deepcopy(hook_request("nct00919009_eligible"))
    request["hookInstance"] = "bench"
    prefetch = request["prefetch"]
    labs = [e["resource"] for e in prefetch["labs"]["entry"]]
    prefetch["labs"] = searchset(labs + [lab(i, rng) for i in range(n_labs)])
    conditions = [e["resource"] for e in prefetch["conditions"]["entry"]]
    prefetch["conditions"] = searchset(conditions + [condition(i) for i in range(30)])
    procedures = [e["resource"] for e in prefetch["procedures"]["entry"]]
    prefetch["procedures"] = searchset(procedures + [procedure(i) for i in range(20)])
    return request
