"""A lab value is shown as the EHR reported it, with the converted value beside it.

A centre that reports bilirubin and creatinine in µmol/L and albumin and haemoglobin in g/L sees
its own numbers on the cards next to the canonical ones the rules use (mg/dL, g/dL); a lab
reported in the canonical unit is shown once. Limits stay in the rule's unit.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cds.clinical.order_check import check_order
from cds.clinical.order_context import OrderContext
from cds.fhir.record import load_record
from cds.pipeline import assess_record
from cds.render.cards import patient_view_cards
from cds.render.messages import messages
from cds.render.order_cards import order_cards
from cds.report.assessment_json import to_json
from cds.report.text import to_text
from tests.render.cases import TACE_DRAFT, assessment, case

MSGS = messages("en")
SI_PATIENT = "ineligible_bilirubin"  # bilirubin 56 µmol/L, albumin 38 g/L, creatinine 86 µmol/L


def criterion(a: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in a["eligibility"]["NCT00919009"]["criteria"] if c["id"] == cid)


def reported(item: dict[str, Any]) -> tuple[Any, ...]:
    p = item["params"]
    return p["value"], p["unit"], p["reported_value"], p["reported_unit"]


@pytest.fixture(scope="module")
def si() -> dict[str, Any]:
    return to_json(assessment(SI_PATIENT), MSGS)


@pytest.mark.parametrize(
    ("cid", "code", "values", "text"),
    [
        (
            "inc-bilirubin",
            "lab-limit",
            (3.27, "mg/dL", 56.0, "umol/L"),
            "Bilirubin 56 µmol/L (3.27 mg/dL) (2026-11-12); needs ≤ 3 mg/dL",
        ),
        (
            "inc-haemoglobin",
            "lab-limit",
            (12.5, "g/dL", 125.0, "g/L"),
            "Haemoglobin 125 g/L (12.5 g/dL) (2026-11-12); needs ≥ 9 g/dL",
        ),
        (
            "inc-creatinine",
            "lab-uln-multiple",
            (0.97, "mg/dL", 86.0, "umol/L"),
            "Creatinine 86 µmol/L (0.97 mg/dL) = ",
        ),
        # reported in the canonical unit: shown once, the text as before
        (
            "inc-platelets",
            "lab-limit",
            (102.0, "10*9/L", None, None),
            "Platelets 102 × 10⁹/L (2026-11-12); needs ≥ 60 × 10⁹/L",
        ),
    ],
)
def test_trial_criteria_show_the_reported_value_beside_the_converted(si, cid, code, values, text):
    reason = criterion(si, cid)["reason"]
    assert reason["code"] == code
    assert reported(reason) == values
    assert reason["text"].startswith(text)


def test_a_canonical_unit_is_not_shown_twice(si):
    """Platelets 102 × 10⁹/L, INR 1.2, AST 77 U/L: each value and unit appears once."""
    for cid, once in (("inc-platelets", "102 × 10⁹/L"), ("inc-inr", "INR 1.2 ")):
        text = criterion(si, cid)["reason"]["text"]
        assert text.count(once) == 1
        assert criterion(si, cid)["reason"]["params"]["reported_value"] is None
    ast = criterion(si, "inc-transaminases")["reason"]["text"]
    assert ast.count("77 U/L") == 1 and "(77" not in ast


def test_the_card_shows_the_chart_s_numbers(si):
    """The no-TACE reason and the trial's decisive criterion on the card, in µmol/L and mg/dL."""
    (reason,) = [r for r in si["recommendation"]["reasons"] if r["code"] == "bilirubin-above-3"]
    assert reported(reason) == (3.27, "mg/dL", 56.0, "umol/L")
    (card,) = patient_view_cards(si, "p11", MSGS)
    assert "bilirubin 56 µmol/L (3.27 mg/dL) above 3 mg/dL (2026-11-12)" in card["detail"]
    assert "Bilirubin 56 µmol/L (3.27 mg/dL) (2026-11-12); needs ≤ 3 mg/dL" in card["detail"]


def test_inputs_and_the_summary_carry_the_reported_value(si):
    labs = {lab["name"]: lab for lab in si["inputs"]["labs"]}
    assert (labs["albumin"]["reported_value"], labs["albumin"]["reported_unit"]) == (38.0, "g/L")
    assert (labs["platelets"]["reported_value"], labs["platelets"]["reported_unit"]) == (None, None)
    summary = to_text(si, MSGS)
    assert "Albumin      38 g/L (3.8 g/dL)  2026-11-12" in summary
    assert "Platelets    102 × 10⁹/L  2026-11-12" in summary


def test_stale_labs_name_the_value_as_reported():
    a = to_json(assessment("stale_labs"), MSGS)
    stale = {m["params"]["analyte"]: m for m in a["missing"] if m["code"] == "lab-stale"}
    assert reported(stale["albumin"]) == (3.9, "g/dL", 39.0, "g/L")
    (card,) = patient_view_cards(a, "p17", MSGS)
    assert "Albumin 39 g/L (3.9 g/dL), 2026-10-01: older than 30 days" in card["detail"]
    assert "INR 1.1, 2026-10-01: older than 30 days" in card["detail"]


def test_a_result_not_used_is_named_as_reported():
    """The preliminary bilirubin 60 µmol/L newer than the final one, and the criterion it would
    change."""
    a = to_json(assessment("preliminary_bilirubin_above_3"), MSGS)
    (not_used,) = a["not_used"]
    assert reported(not_used) == (3.51, "mg/dL", 60.0, "umol/L")
    assert not_used["text"].startswith("Bilirubin 60 µmol/L (3.51 mg/dL) dated 2026-11-14")
    undecided = criterion(a, "inc-bilirubin")["reason"]
    assert undecided["code"] == "criterion-not-used-could-change"
    assert "Bilirubin 60 µmol/L (3.51 mg/dL) dated 2026-11-14" in undecided["text"]


@pytest.mark.parametrize(
    ("quantity", "values", "shown"),
    [
        (
            {"value": 200, "unit": "µmol/L", "code": "umol/L"},
            (2.26, "mg/dL", 200.0, "umol/L"),
            "creatinine 200 µmol/L (2.26 mg/dL) (2026-11-12), ≥ 2 mg/dL",
        ),
        (
            {"value": 2.1, "unit": "mg/dL", "code": "mg/dL"},
            (2.1, "mg/dL", None, None),
            "creatinine 2.1 mg/dL (2026-11-12), ≥ 2 mg/dL",
        ),
    ],
)
def test_the_tace_order_card_names_creatinine_as_reported(quantity, values, shown):
    """The renal warning of a TACE order, for creatinine in µmol/L and in mg/dL."""
    c = case(SI_PATIENT)
    document = copy.deepcopy(c.document)
    for entry in document["entry"]:
        if entry["resource"]["id"] == "p11-creat":
            entry["resource"]["valueQuantity"].update(quantity)
    assessed = assess_record(load_record(document), c.as_of)
    verdict = check_order(TACE_DRAFT, assessed, OrderContext())
    assert verdict is not None
    (warning,) = [r for r in verdict.reasons if r.code == "order-renal-creatinine"]
    p = warning.params
    assert (p["value"], p["unit"], p["reported_value"], p["reported_unit"]) == values
    (card,) = order_cards([verdict], to_json(assessed, MSGS), "p11", MSGS)
    assert shown in card["detail"]


@pytest.mark.parametrize(
    ("reported_value", "reported_unit", "text"),
    [
        (0.086, "mmol/L", "Creatinine 0.086 mmol/L (0.97 mg/dL)"),  # not rounded to 0.09
        (2.3, "10*3/uL", "Creatinine 2.3 × 10³/µL (0.97 mg/dL)"),  # the catalogue's display
        (86, "umol/L{total}", "Creatinine 86 umol/L{total} (0.97 mg/dL)"),  # no entry: as written
        (None, None, "Creatinine 0.97 mg/dL ("),
    ],
)
def test_a_reported_unit_is_shown_by_the_catalogue_or_as_written(
    reported_value, reported_unit, text
):
    note = {
        "code": "lab-limit",
        "params": {
            "analyte": "creatinine",
            "value": 0.97,
            "unit": "mg/dL",
            "reported_value": reported_value,
            "reported_unit": reported_unit,
            "op": "<",
            "limit": 1.5,
            "date": "2026-11-12",
        },
    }
    assert MSGS.note(note).startswith(text)
