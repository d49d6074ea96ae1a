"""At the default log level no patient name, identifier, birth date or lab value reaches the log."""

from __future__ import annotations

import logging
import re

import pytest

from tests.api.requests_from_fixtures import FIXTURES, hook_request, prefetch_of

CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))


def sensitive_strings(name: str) -> list[str]:
    """Everything identifying or clinical in a fixture that must never be logged."""
    prefetch = prefetch_of(name)
    patient = prefetch["patient"]
    found = [patient["id"], patient.get("birthDate", "")]
    for human in patient.get("name", []):
        found += [human.get("family", ""), *human.get("given", [])]
    found += [i.get("value", "") for i in patient.get("identifier", [])]
    for key in ("labs", "findings", "conditions", "procedures"):
        for entry in prefetch[key]["entry"]:
            resource = entry["resource"]
            found.append(resource["id"])
            q = resource.get("valueQuantity")
            if q:  # the value with its unit, as written ("21 umol/L")
                found.append(f"{q['value']} {q.get('code') or q.get('unit', '')}".strip())
    return [s for s in found if s]


@pytest.mark.parametrize("name", CASES)
def test_no_patient_data_in_logs(client, caplog, name):
    """Hook calls, order checks, feedback and errors log no patient data at INFO."""
    caplog.set_level(logging.INFO)
    client.post("/cds-services/hcc-assessment", json=hook_request(name))
    client.post(
        "/cds-services/hcc-assessment", json=hook_request(name, prefetch={})
    )  # 412: Patient not obtainable
    client.post(
        "/cds-services/hcc-assessment/feedback",
        json={
            "feedback": [
                {
                    "card": "x",
                    "outcome": "overridden",
                    "overrideReason": {"userComment": "n/a"},
                    "outcomeTimestamp": "2026-11-15T10:00:00Z",
                }
            ]
        },
    )
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "hcc-assessment" in text  # the calls were logged at all
    for secret in sensitive_strings(name):
        assert not re.search(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", text), secret
