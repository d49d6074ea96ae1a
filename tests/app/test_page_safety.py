"""Text from the EHR is data on the page, never markup."""

from __future__ import annotations

import json
from datetime import date

from cds.app.settings import AppSettings
from cds.app.workup import Loaded, page
from cds.fhir.record import load_record
from tests.app.test_trends import FIXTURE

INJECTED = '<script>alert("x")</script>'


def test_values_from_the_record_are_escaped():
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for entry in data["entry"]:
        resource = entry["resource"]
        if resource["id"] == "p40-bili-2026-11-12":
            resource["valueQuantity"]["unit"] = INJECTED  # an unknown unit: shown as written
            resource["valueQuantity"]["code"] = INJECTED
    html = page(Loaded(load_record(data)), date(2026, 11, 15), AppSettings.from_config({}))
    assert "<script" not in html
    assert "&lt;script&gt;" in html
