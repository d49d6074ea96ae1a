"""The order-check rules at their cut-offs: creatinine 2.0 mg/dL, clearance or eGFR 30 mL/min,
90 days, Child-Pugh 7/8, bilirubin 3.0 mg/dL; and the sorafenib-without-TACE rules. Codes and
values, never words."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from cds.clinical.assessment import assess
from cds.clinical.draft_orders import DraftOrder, Recognition
from cds.clinical.inputs import ConditionState
from cds.clinical.order_check import check_order
from cds.clinical.order_context import OrderContext, TaceEvidence, counting_tace
from cds.clinical.sorafenib_dose import DosePart, OrderedDose
from tests.clinical.builders import (
    AS_OF,
    condition,
    fact,
    lab,
    labs,
    patient,
    resection,
    tumour,
)

TACE = DraftOrder("tace", Recognition.CODE, "ServiceRequest/t", "x")
SORAFENIB = DraftOrder("sorafenib", Recognition.CODE, "MedicationRequest/s", "x", ())


def codes(verdict):
    return [r.code for r in verdict.reasons]


def performed(days_ago):
    return TaceEvidence("performed", "Procedure/p", AS_OF - timedelta(days=days_ago))


@pytest.mark.parametrize(
    ("found", "recent_days", "counts"),
    [
        ((performed(0),), 90, True),
        ((performed(89),), 90, True),
        ((performed(90),), 90, True),  # the boundary day counts
        ((performed(91),), 90, False),
        ((performed(-1),), 90, False),  # future-dated: not performed yet
        ((TaceEvidence("performed", "Procedure/p", None),), 90, False),  # undated: no guess
        ((performed(31),), 30, False),
        ((performed(30),), 30, True),
        ((TaceEvidence("ordered", "ServiceRequest/o"),), 90, True),
        ((TaceEvidence("drafted", None),), 90, True),
        ((), 90, False),
    ],
)
def test_which_tace_counts(found, recent_days, counts):
    assert (counting_tace(found, AS_OF, recent_days) is not None) is counts


def test_a_drafted_tace_is_named_before_an_older_procedure():
    found = (performed(10), TaceEvidence("drafted", "ServiceRequest/d"))
    assert counting_tace(found, AS_OF) == TaceEvidence("drafted", "ServiceRequest/d")


def test_the_most_recent_procedure_is_named():
    found = (performed(60), performed(5))
    assert counting_tace(found, AS_OF) == performed(5)


@pytest.mark.parametrize(
    ("creatinine", "renal"),
    [(1.5, False), (1.99, False), (2.0, True), (2.01, True), (4.0, True)],
)
def test_renal_warning_from_creatinine_2_mg_dl(creatinine, renal):
    a = assess(patient(labs=labs(creatinine=creatinine)), AS_OF)
    verdict = check_order(TACE, a, OrderContext())
    assert verdict is not None
    assert ("order-renal-creatinine" in codes(verdict)) is renal
    assert verdict.level != "critical"  # renal insufficiency is a warning, never critical
    if renal:
        found = next(r for r in verdict.reasons if r.code == "order-renal-creatinine")
        assert found.params["value"] == creatinine
        assert found.params["limit"] == 2.0


@pytest.mark.parametrize("analyte", ["creatinine_clearance", "egfr"])
@pytest.mark.parametrize(
    ("value", "renal"),
    [(10.0, True), (29.9, True), (30.0, False), (30.1, False), (90.0, False)],
)
def test_renal_warning_from_clearance_or_egfr_below_30(analyte, value, renal):
    """Clearance or eGFR < 30 mL/min warns even when the creatinine is below 2 mg/dL."""
    a = assess(patient(labs=labs(creatinine=1.4, **{analyte: value})), AS_OF)
    verdict = check_order(TACE, a, OrderContext())
    assert verdict is not None
    assert ("order-renal-filtration" in codes(verdict)) is renal
    assert verdict.level == ("warning" if renal else "info")
    if renal:
        found = next(r for r in verdict.reasons if r.code == "order-renal-filtration")
        assert (found.params["analyte"], found.params["value"]) == (analyte, value)
        assert found.params["limit"] == 30.0


@pytest.mark.parametrize(
    ("creatinine", "egfr", "missing"),
    [
        (None, None, True),  # nothing to judge renal function by
        (None, 60.0, False),  # an eGFR judges it without the creatinine
        (1.0, None, False),
    ],
)
def test_renal_function_is_missing_only_without_any_result(creatinine, egfr, missing):
    a = assess(patient(labs=labs(creatinine=creatinine, egfr=egfr)), AS_OF)
    verdict = check_order(TACE, a, OrderContext())
    assert verdict is not None
    gaps = [m for m in verdict.to_obtain if m.params.get("analyte") == "creatinine"]
    assert bool(gaps) is missing


def test_a_stale_egfr_does_not_judge_renal_function():
    """An eGFR older than 30 days is not used: with no creatinine either, renal is missing."""
    stale = labs(creatinine=None)
    stale = replace(stale, egfr=lab("egfr", 20.0, days_ago=31))
    verdict = check_order(TACE, assess(patient(labs=stale), AS_OF), OrderContext())
    assert verdict is not None
    assert "order-renal-filtration" not in codes(verdict)
    assert any(m.params.get("analyte") == "creatinine" for m in verdict.to_obtain)


def test_dialysis_is_a_renal_warning():
    inputs = patient(condition_findings=(condition("dialysis", ConditionState.ACTIVE),))
    verdict = check_order(TACE, assess(inputs, AS_OF), OrderContext())
    assert verdict is not None
    assert verdict.level == "warning"
    assert "order-renal-dialysis" in codes(verdict)


def test_biliary_access_is_a_tace_warning_only():
    a = assess(patient(), AS_OF)
    ctx = OrderContext(biliary_access=("Condition/stent",))
    tace = check_order(TACE, a, ctx)
    assert tace is not None and tace.outcome == "caution" and tace.level == "warning"
    assert "order-biliary-access" in codes(tace)
    sorafenib = check_order(SORAFENIB, a, ctx, (TACE,))
    assert sorafenib is not None and "order-biliary-access" not in codes(sorafenib)


def test_a_missing_creatinine_is_named_with_its_lab_order():
    verdict = check_order(TACE, assess(patient(labs=labs(creatinine=None)), AS_OF), OrderContext())
    assert verdict is not None
    assert verdict.level == "warning"
    assert "creatinine" in verdict.labs_to_order


@pytest.mark.parametrize(
    ("bilirubin", "albumin", "inr", "score", "critical"),
    [
        (2.5, 3.0, 1.1, 7, False),  # Child-Pugh 7: TACE can go ahead
        (2.5, 3.0, 1.8, 8, True),  # Child-Pugh 8: critical
    ],
)
def test_child_pugh_7_and_8(bilirubin, albumin, inr, score, critical):
    a = assess(patient(labs=labs(bilirubin=bilirubin, albumin=albumin, inr=inr)), AS_OF)
    assert a.child_pugh.score == score
    for order, drafted in ((TACE, ()), (SORAFENIB, (TACE,))):
        verdict = check_order(order, a, OrderContext(), drafted)
        assert verdict is not None
        assert (verdict.level == "critical") is critical
        assert ("child-pugh-8-or-more" in codes(verdict)) is critical
        assert verdict.remove is critical


@pytest.mark.parametrize(("bilirubin", "critical"), [(2.99, False), (3.0, False), (3.01, True)])
def test_bilirubin_3_mg_dl(bilirubin, critical):
    a = assess(patient(labs=labs(bilirubin=bilirubin)), AS_OF)
    verdict = check_order(TACE, a, OrderContext())
    assert verdict is not None
    assert ("bilirubin-above-3" in codes(verdict)) is critical
    assert (verdict.level == "critical") is critical


def test_bclc_c_by_ecog_is_a_warning_not_critical():
    a = assess(patient(ecog=fact(1, days_ago=3)), AS_OF)
    assert a.bclc.stage == "C"
    verdict = check_order(TACE, a, OrderContext())
    assert verdict is not None
    assert (verdict.outcome, verdict.level) == ("advanced-stage", "warning")
    assert "order-advanced-stage" in codes(verdict)


def test_peng_open_supports_a_tace_order_and_waits_for_sorafenib():
    """The R0 margin undocumented: a TACE order is supported (TACE either way); sorafenib with
    TACE cannot be judged yet and names the margin."""
    a = assess(patient(resection=resection(margin=None)), AS_OF)
    tace = check_order(TACE, a, OrderContext())
    assert tace is not None
    assert (tace.outcome, tace.level, tace.to_obtain) == ("supported", "info", ())
    assert codes(tace)[0] == "tace-either-way"
    sorafenib = check_order(SORAFENIB, a, OrderContext(), (TACE,))
    assert sorafenib is not None
    assert (sorafenib.outcome, sorafenib.level) == ("missing-data", "warning")
    assert any(m.params.get("part") == "r0_margin" for m in sorafenib.to_obtain)


@pytest.mark.parametrize("infection", ["sbp", "sepsis"])
def test_an_active_serious_infection_is_a_warning_naming_it_not_an_advanced_stage(infection):
    """§4 keeps critical for its listed findings: an active SBP or sepsis withholds TACE (a
    warning naming the infection), and is not called a BCLC C tumour-board decision."""
    inputs = patient(condition_findings=(condition(infection, ConditionState.ACTIVE),))
    a = assess(inputs, AS_OF)
    assert a.bclc.stage == "B"
    for order, drafted in ((TACE, ()), (SORAFENIB, (TACE,))):
        verdict = check_order(order, a, OrderContext(), drafted)
        assert verdict is not None
        assert (verdict.outcome, verdict.level) == ("not-supported", "warning")
        assert codes(verdict)[0] == "active-infection"
        assert "order-advanced-stage" not in codes(verdict)
        assert not verdict.remove


@pytest.mark.parametrize(
    ("changes", "outcome", "level", "code"),
    [
        (dict(ecog=1), "systemic", "info", "order-systemic-bclc-c"),
        (dict(ecog=3), "systemic-end-stage", "warning", "order-systemic-end-stage"),
        (dict(bilirubin=4.0, albumin=2.5, inr=2.5), "systemic-end-stage", "warning", None),
        (dict(), "systemic", "info", "order-sorafenib-without-tace"),
    ],
)
def test_sorafenib_without_tace_is_systemic_therapy(changes, outcome, level, code):
    lab_changes = {k: v for k, v in changes.items() if k != "ecog"}
    inputs = patient(labs=labs(**lab_changes), ecog=fact(changes.get("ecog", 0), days_ago=3))
    verdict = check_order(SORAFENIB, assess(inputs, AS_OF), OrderContext())
    assert verdict is not None
    assert (verdict.outcome, verdict.level) == (outcome, level)
    assert verdict.with_tace is None
    assert "order-sorafenib-not-supported" not in codes(verdict)
    if code:
        assert code in codes(verdict)
    if outcome == "systemic-end-stage":  # one answer, not also "a decision left open"
        assert codes(verdict) == ["order-systemic-end-stage"]


def test_the_dose_sets_the_indicator_but_not_the_verdict():
    above = OrderedDose((DosePart(600, 2, 1),), "MedicationRequest/s dosageInstruction[0]", ())
    order = DraftOrder("sorafenib", Recognition.CODE, "MedicationRequest/s", "x", (above,))
    verdict = check_order(order, assess(patient(), AS_OF), OrderContext(), (TACE,))
    assert verdict is not None
    assert verdict.level == "info" and verdict.outcome == "protocol-option"
    assert verdict.dose is not None and verdict.dose.mg_per_day == 1200
    assert verdict.indicator == "critical" and verdict.remove and verdict.dose_decides


def test_no_card_without_hcc():
    a = assess(patient(hcc=None), AS_OF)
    assert check_order(TACE, a, OrderContext()) is None
    assert check_order(SORAFENIB, a, OrderContext()) is None


@pytest.mark.parametrize(
    ("inputs", "first"),
    [
        (dict(labs=labs(bilirubin=2.5, albumin=3.0, inr=1.8)), "child-pugh-8-or-more"),
        (dict(labs=labs(bilirubin=3.5)), "bilirubin-above-3"),
        (dict(tumour=tumour(count=1, size=1.5)), "bclc-early"),
        (dict(condition_findings=(condition("sbp", ConditionState.ACTIVE),)), "active-infection"),
    ],
)
def test_sorafenib_alone_where_tace_is_not_supported_says_why_not(inputs, first):
    """BCLC 0–B without TACE: "order or document the TACE first" only where a TACE order would
    be supported; elsewhere a warning with the TACE card's reason (review 3, A1)."""
    verdict = check_order(SORAFENIB, assess(patient(**inputs), AS_OF), OrderContext())
    assert verdict is not None
    assert (verdict.outcome, verdict.level) == ("systemic", "warning")
    assert codes(verdict)[0] == first
    assert "order-no-tace" in codes(verdict)
    assert "order-sorafenib-without-tace" not in codes(verdict)
