"""Order cards through the HTTP API: the dose, "with TACE", the TACE warnings, the draft named.

Assertions are on codes and values (card kind, indicator, the reason-code and order extensions,
the suggestions' actions); the rendered text is checked against the catalogue's texts
(``messages("en")``), never against English written in the test.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from cds.fhir import codes
from cds.render.messages import messages
from cds.service.app import create_app
from tests.api.conftest import AS_OF, CheckingClient, app_config
from tests.api.requests_from_fixtures import prefetch_of, searchset
from tests.api.test_orders import (
    CODES,
    KIND,
    ORDER,
    card_for,
    cards,
    order_request,
    sorafenib,
    tace,
)

TODAY = date.fromisoformat(AS_OF)
ELIGIBLE = "nct00919009_eligible"  # TACE alone supported; TACE + sorafenib the protocol option
MED = "MedicationRequest/med-1"
LOINC_OF = {"creatinine": "2160-0", "bilirubin": "1975-2", "albumin": "1751-7", "inr": "6301-6"}


def dosed(mg=None, frequency=None, period=1, unit="mg", period_unit="d"):
    order = {
        "resourceType": "MedicationRequest",
        "id": "med-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": codes.RXNORM, "code": "597747"}]},
        "subject": {"reference": "Patient/x"},
    }
    if mg is not None:
        order["dosageInstruction"] = [
            {
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": mg,
                            "unit": unit,
                            "system": codes.UCUM,
                            "code": unit,
                        }
                    }
                ],
                "timing": {
                    "repeat": {"frequency": frequency, "period": period, "periodUnit": period_unit}
                },
            }
        ]
    return order


@pytest.mark.parametrize(
    ("dose", "code", "mg_per_day", "indicator"),
    [
        (dict(mg=400, frequency=2), "dose-protocol", 800, "info"),
        (dict(mg=2, frequency=2, unit="{tbl}"), "dose-protocol", 800, "info"),  # 2 × 200 mg
        (dict(mg=400, frequency=1), "dose-reduction-once-daily", 400, "info"),
        (dict(mg=400, frequency=1, period=2), "dose-reduction-every-other-day", 200, "info"),
        (dict(mg=200, frequency=2), "dose-other-schedule", 400, "warning"),
        (dict(mg=600, frequency=1), "dose-other-schedule", 600, "warning"),
        (dict(mg=800, frequency=2), "dose-above-maximum", 1600, "critical"),
        (dict(mg=400, frequency=3), "dose-above-maximum", 1200, "critical"),
        (dict(), "dose-not-structured", None, "info"),
        (dict(mg=5, frequency=2, unit="mL"), "dose-not-read", None, "warning"),
    ],
)
@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_the_dose_finding_is_on_every_sorafenib_card(
    client, hook, dose, code, mg_per_day, indicator
):
    """A supported sorafenib with TACE: the dose alone sets the card's indicator."""
    request = order_request(ELIGIBLE, hook, tace(), dosed(**dose), selections=[MED])
    card = card_for(cards(client, request), MED)
    facts = card["extension"][ORDER]
    assert facts["dose"]["code"] == code
    assert facts["dose"]["mgPerDay"] == mg_per_day
    assert code in card["extension"][CODES]
    assert card["indicator"] == indicator
    deletes = [
        a for s in card.get("suggestions", []) for a in s["actions"] if a["type"] == "delete"
    ]
    assert deletes == ([{**deletes[0], "resourceId": MED}] if indicator == "critical" else [])


def test_the_dose_finding_is_on_a_sorafenib_card_without_tace(client):
    """Sorafenib alone at BCLC C is an info card, raised to critical by a dose above 800 mg/day."""
    card = cards(
        client, order_request("bclc_c_branch_pvi", "order-sign", dosed(mg=800, frequency=2))
    )[0]
    assert card["extension"][KIND] == "order-sorafenib-systemic"
    assert card["extension"][ORDER]["dose"]["code"] == "dose-above-maximum"
    assert card["indicator"] == "critical"
    assert card["extension"][ORDER]["withTace"] is None


def with_prefetch(request, **resources_by_key):
    """The request with these prefetch keys replaced, each resource the request's patient's."""
    patient = {"reference": f"Patient/{request['context']['patientId']}"}
    for key, resources in resources_by_key.items():
        for resource in resources:
            resource.setdefault("subject", patient)
            if resource["subject"]["reference"] == "Patient/x":
                resource["subject"] = patient
        request["prefetch"][key] = searchset(resources)
    return request


def tace_procedure(days_ago, status="completed"):
    return {
        "resourceType": "Procedure",
        "id": f"tace-{days_ago}",
        "status": status,
        "code": {"coding": [{"system": codes.SNOMED, "code": "441525007"}]},
        "subject": {"reference": "Patient/x"},
        "performedDateTime": (TODAY - timedelta(days=days_ago)).isoformat(),
    }


def tace_ordered(status="active"):
    return {**tace("sr-old"), "status": status}


def procedures_with(name, *extra):
    found = prefetch_of(name)["procedures"]
    return [e["resource"] for e in found.get("entry", [])] + list(extra)


@pytest.mark.parametrize(
    ("days_ago", "with_tace"), [(0, True), (30, True), (90, True), (91, False), (-1, False)]
)
def test_a_tace_performed_in_the_last_90_days_makes_sorafenib_with_tace(
    client, days_ago, with_tace
):
    """Child-Pugh C: sorafenib after a recent TACE is critical; after an old one, systemic."""
    request = order_request("child_pugh_c", "order-sign", dosed())
    with_prefetch(request, procedures=procedures_with("child_pugh_c", tace_procedure(days_ago)))
    card = cards(client, request)[0]
    facts = card["extension"][ORDER]
    if with_tace:
        assert facts["withTace"] == {"kind": "performed", "resource": f"Procedure/tace-{days_ago}"}
        assert card["extension"][KIND] == "order-sorafenib-contraindicated"
        assert card["indicator"] == "critical"
    else:
        assert facts["withTace"] is None
        assert card["extension"][KIND] == "order-sorafenib-systemic-end-stage"
        assert card["indicator"] == "warning"


@pytest.mark.parametrize(("status", "with_tace"), [("active", True), ("completed", False)])
def test_an_active_tace_service_request_makes_sorafenib_with_tace(client, status, with_tace):
    request = order_request("child_pugh_c", "order-sign", dosed())
    with_prefetch(request, serviceRequests=[tace_ordered(status)])
    facts = cards(client, request)[0]["extension"][ORDER]
    expected = {"kind": "ordered", "resource": "ServiceRequest/sr-old"} if with_tace else None
    assert facts["withTace"] == expected


def test_the_tace_recent_days_setting_is_read(tmp_path):
    """CDS_TACE_RECENT_DAYS=30: a TACE 31 days ago no longer counts."""
    client = CheckingClient(create_app(app_config(tmp_path, TACE_RECENT_DAYS=30)).test_client())
    request = order_request("child_pugh_c", "order-sign", dosed())
    with_prefetch(request, procedures=procedures_with("child_pugh_c", tace_procedure(31)))
    assert cards(client, request)[0]["extension"][ORDER]["withTace"] is None


def condition(rid, system, code):
    return {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/x"},
    }


def conditions_with(name, *extra):
    found = prefetch_of(name)["conditions"]
    return [e["resource"] for e in found.get("entry", [])] + list(extra)


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (condition("dia", codes.SNOMED, "105502003"), "order-renal-dialysis"),
        (condition("bil", codes.HCC_CDS, "biliary-stent"), "order-biliary-access"),
        (condition("bea", codes.HCC_CDS, "biliary-enteric-anastomosis"), "order-biliary-access"),
        (condition("hj", codes.SNOMED, "87231001"), "order-biliary-access"),
    ],
)
def test_tace_warnings_for_dialysis_and_biliary_access(client, extra, code):
    """A supported TACE order becomes a warning naming the finding, not a critical card."""
    request = order_request(ELIGIBLE, "order-sign", tace())
    with_prefetch(request, conditions=conditions_with(ELIGIBLE, extra))
    card = cards(client, request)[0]
    assert card["indicator"] == "warning"
    assert card["extension"][KIND] == "order-tace-caution"
    assert code in card["extension"][CODES]
    assert "suggestions" not in card


def labs_with_creatinine(name, value):
    entries = json.loads(json.dumps(prefetch_of(name)["labs"]["entry"]))
    labs = [e["resource"] for e in entries]
    for obs in labs:
        if any(c.get("code") in ("2160-0", "14682-9") for c in obs["code"]["coding"]):
            obs["code"] = {"coding": [{"system": codes.LOINC, "code": "2160-0"}]}
            obs["valueQuantity"] = {
                "value": value,
                "unit": "mg/dL",
                "system": codes.UCUM,
                "code": "mg/dL",
            }
            obs.pop("referenceRange", None)
    return labs


@pytest.mark.parametrize(("value", "renal"), [(1.99, False), (2.0, True), (2.5, True)])
def test_tace_warning_from_creatinine_2_mg_dl(client, value, renal):
    request = order_request(ELIGIBLE, "order-sign", tace())
    with_prefetch(request, labs=labs_with_creatinine(ELIGIBLE, value))
    card = cards(client, request)[0]
    assert ("order-renal-creatinine" in card["extension"][CODES]) is renal
    assert card["indicator"] == ("warning" if renal else "info")


def labs_with_egfr(name, value, unit):
    """The fixture's labs plus an eGFR (CKD-EPI 2021) dated as its creatinine."""
    labs = [e["resource"] for e in json.loads(json.dumps(prefetch_of(name)["labs"]["entry"]))]
    creatinine = next(
        obs
        for obs in labs
        if any(c.get("code") in ("2160-0", "14682-9") for c in obs["code"]["coding"])
    )
    egfr = {
        **creatinine,
        "id": "egfr",
        "code": {"coding": [{"system": codes.LOINC, "code": "98979-8"}]},
        "valueQuantity": {"value": value, "unit": unit, "system": codes.UCUM, "code": unit},
    }
    egfr.pop("referenceRange", None)
    return [*labs, egfr]


@pytest.mark.parametrize(
    ("value", "unit", "outcome"),
    [
        (24.0, "mL/min/{1.73_m2}", "renal"),
        (29.9, "mL/min", "renal"),  # the annotation is unity in UCUM: the same quantity
        (0.45, "mL/s", "renal"),  # 27 mL/min
        (30.0, "mL/min/{1.73_m2}", "none"),
        # UCUM reads this as multiplied by m²: not convertible, so never read as 24, and named
        (24.0, "mL/min/1.73.m2", "unreadable"),
    ],
)
def test_tace_warning_from_egfr_below_30(client, value, unit, outcome):
    """The creatinine is normal; an eGFR below 30 makes the supported TACE order a warning, and
    one that cannot be read is named on a warning card (it could be below 30)."""
    request = order_request(ELIGIBLE, "order-sign", tace())
    with_prefetch(request, labs=labs_with_egfr(ELIGIBLE, value, unit))
    card = cards(client, request)[0]
    reasons = card["extension"][CODES]
    assert ("order-renal-filtration" in reasons) is (outcome == "renal")
    assert card["indicator"] == ("info" if outcome == "none" else "warning")
    if outcome == "renal":
        assert messages("en").text("analyte.egfr") in card["detail"]
    if outcome == "unreadable":
        assert card["extension"][KIND] == "order-tace-missing-data"
        assert reasons[0] == "lab-unusable"  # it leads the card and its summary
        assert "eGFR" in card["summary"]
        # the value as written, under "to check in the record" (it is there, but unreadable)
        assert f"**{messages('en').text('h.to-check')}:**" in card["detail"]
        assert f"{value} {unit}" in card["detail"]


def labs_with_unit_text(name, loinc, value, text):
    """The fixture's labs plus a renal result whose unit is only text (no UCUM code)."""
    labs = labs_with_egfr(name, value, "mL/min")
    labs[-1]["code"] = {"coding": [{"system": codes.LOINC, "code": loinc}]}
    labs[-1]["valueQuantity"] = {"value": value, "unit": text}
    return labs


@pytest.mark.parametrize(
    ("loinc", "text"),
    [
        ("98979-8", "mL/min/1.73m2"),
        ("98979-8", "ml/min/1.73 m²"),
        ("33914-3", "mL/min/1,73m2"),
        ("2164-2", "mL/min"),
        ("2164-2", "ml/min"),
    ],
)
def test_a_renal_value_with_a_unit_text_is_read(client, loinc, text):
    """Laboratory systems often send the unit as text only: the usual spellings are read."""
    request = order_request(ELIGIBLE, "order-sign", tace())
    with_prefetch(request, labs=labs_with_unit_text(ELIGIBLE, loinc, 24.0, text))
    card = cards(client, request)[0]
    assert "order-renal-filtration" in card["extension"][CODES]
    assert card["indicator"] == "warning"


def test_missing_data_offers_the_lab_orders_that_settle_it(client):
    """stale_labs: a warning whose suggestion creates the LOINC-coded lab ServiceRequests."""
    card = cards(client, order_request("stale_labs", "order-sign", tace()))[0]
    assert card["extension"][KIND] == "order-tace-missing-data"
    stale = [c for c in card["extension"][CODES] if c == "lab-stale"]
    assert stale
    [labs] = card["suggestions"]
    ordered = {a["resource"]["code"]["coding"][0]["code"] for a in labs["actions"]}
    assert ordered and ordered <= set(LOINC_OF.values()) | {
        "777-3",
        "751-8",
        "718-7",
        "1920-8",
        "1742-6",
    }
    assert all(a["type"] == "create" for a in labs["actions"])


def test_a_text_only_order_says_it_was_recognised_from_text(client):
    order = {**dosed(), "medicationCodeableConcept": {"text": "Nexavar 200 mg tablets"}}
    card = cards(client, order_request("bclc_c_branch_pvi", "order-sign", order))[0]
    facts = card["extension"][ORDER]
    assert facts["recognised"] == "text"
    assert facts["draft"] == MED
    assert MED in card["detail"]
    assert "Nexavar" in card["detail"]  # the order's own words, echoed


def test_a_coded_order_names_its_draft_and_its_dose(client):
    card = cards(client, order_request(ELIGIBLE, "order-sign", tace(), dosed(400, 2)))
    sorafenib = card_for(card, MED)
    assert sorafenib["extension"][ORDER]["recognised"] == "code"
    assert MED in sorafenib["detail"]
    assert "400 mg" in sorafenib["detail"]  # the ordered dose, as written on the order


def test_peng_open_tace_order_is_supported_and_sorafenib_waits(client):
    """peng_unknown_margin: TACE is indicated either way, so a TACE order is supported (info);
    sorafenib drafted with it cannot be judged until the R0 margin is documented."""
    request = order_request("peng_unknown_margin", "order-sign", tace(), sorafenib())
    found = {c["extension"][ORDER]["kind"]: c for c in cards(client, request)}
    assert found["tace"]["indicator"] == "info"
    assert found["tace"]["extension"][KIND] == "order-tace-supported"
    assert found["tace"]["extension"][CODES][0] == "tace-either-way"
    assert found["sorafenib"]["indicator"] == "warning"
    assert found["sorafenib"]["extension"][KIND] == "order-sorafenib-missing-data"
    assert found["sorafenib"]["extension"][CODES][0] == "peng-unknown"  # why sorafenib waits


def heading(key):
    return f"**{messages('en').text(key)}:**"


def section(detail, key):
    """The list under a heading of the detail (its "- " lines)."""
    found = []
    for line in detail.split(heading(key), 1)[1].lstrip("\n").split("\n"):
        if not line.startswith("- "):
            break
        found.append(line)
    return found


@pytest.mark.parametrize("drafts", [(tace(),), (tace(), sorafenib())])
def test_a_result_not_used_is_to_check_in_the_record_not_to_obtain(client, drafts):
    """future_dated_vp4: the Vp4 report dated after the assessment withholds the verdict; the
    card sends the reader to the record ("to check"), not to re-imaging ("to obtain")."""
    found = cards(client, order_request("future_dated_vp4", "order-sign", *drafts))
    for card in found:
        assert card["extension"][KIND].endswith("-missing-data")
        assert "not-used" in card["extension"][CODES]
        checked = section(card["detail"], "h.to-check")
        assert len(checked) == 1 and "2026-11-19" in checked[0]
        assert heading("h.to-obtain") not in card["detail"]


def test_missing_labs_stay_to_obtain(client):
    card = cards(client, order_request("stale_labs", "order-sign", tace()))[0]
    assert section(card["detail"], "h.to-obtain")
    assert heading("h.to-check") not in card["detail"]


EN = messages("en")
SUPPORTED = EN.text("order-outcome.supported")
SORAFENIB = EN.text("order-name.sorafenib")


def dose_card(client, order, name=ELIGIBLE):
    """The card of a sorafenib draft beside a TACE draft (a supported, info verdict)."""
    return card_for(cards(client, order_request(name, "order-sign", tace(), order)), MED)


def paragraphs(detail):
    return [p for p in detail.split("\n\n") if p.strip()]


@pytest.mark.parametrize(
    ("dose", "code", "indicator", "lead"),
    [
        (
            dict(mg=800, frequency=2),
            "dose-above-maximum",
            "critical",
            f"{SORAFENIB} {EN.text('dose.mg-per-day', mg=1600)} (800 mg "
            f"{EN.text('timing.twice-daily')})",
        ),
        (
            dict(mg=4, frequency=2, unit="{tbl}"),
            "dose-above-maximum",
            "critical",
            f"{SORAFENIB} {EN.text('dose.mg-per-day', mg=1600)} "
            f"({EN.text('dose-amount.tablets', value='4', one=False)} "
            f"{EN.text('timing.twice-daily')})",
        ),
        (
            dict(mg=200, frequency=2),
            "dose-other-schedule",
            "warning",
            f"{SORAFENIB} 200 mg {EN.text('timing.twice-daily')} "
            f"({EN.text('dose.mg-per-day', mg=400)})",
        ),
    ],
)
def test_a_dose_that_decides_the_card_leads_it(client, dose, code, indicator, lead):
    """Peng 2024 patient, TACE + sorafenib (supported): the dose finding is the summary and the
    detail's first line; the indication verdict is the second; never "supported" in the summary."""
    card = dose_card(client, dosed(**dose), "peng_2024_recurrence")
    assert card["indicator"] == indicator
    assert card["extension"][ORDER]["dose"]["code"] == code
    finding = EN.text(f"dose-finding.{code}")
    assert card["summary"] == f"{lead}: {finding}"
    assert SUPPORTED not in card["summary"]
    first, second = paragraphs(card["detail"])[:2]
    assert first == f"**{lead}:** {finding}"
    # the verdict below the dose is about the indication only (review 3, B4)
    indication = EN.text("order.decision-indication", order=SORAFENIB, outcome=SUPPORTED)
    assert second.startswith(f"**{indication}:**")
    assert "peng-population" in card["extension"][CODES]
    assert card["detail"].count(finding) == 1  # not repeated as a dose line further down


def test_a_dose_no_more_severe_than_the_verdict_stays_in_the_body(client):
    """The protocol dose on a supported card: the verdict leads, the dose is a body line."""
    card = dose_card(client, dosed(mg=400, frequency=2), "peng_2024_recurrence")
    assert card["indicator"] == "info"
    assert card["summary"].startswith(f"{SORAFENIB}: {SUPPORTED}: ")
    assert paragraphs(card["detail"])[0].startswith(f"**{SORAFENIB}: {SUPPORTED}:**")


def timing(key, **params):
    return EN.text(f"timing.{key}", **params)


@pytest.mark.parametrize(
    ("frequency", "period", "period_unit", "words"),
    [
        (1, 1, "d", timing("once-daily")),
        (2, 1, "d", timing("twice-daily")),
        (3, 1, "d", timing("three-times-daily")),
        (4, 1, "d", timing("four-times-daily")),
        (1, 2, "d", timing("every-other-day")),
        (1, 12, "h", timing("every", times=1, period="12", one=False, unit="hours")),
        (2, 3, "d", timing("every", times=2, period="3", one=False, unit="days")),
        (5, 1, "wk", timing("every", times=5, period="1", one=True, unit="week")),
    ],
)
def test_the_ordered_dose_is_in_words(client, frequency, period, period_unit, words):
    """400 mg, frequency/period: named timings by their name, others "N times every P unit";
    never the FHIR notation "2/1 d"."""
    card = dose_card(client, dosed(400, frequency, period, period_unit=period_unit))
    assert f"400 mg {words}" in card["detail"]
    assert f"{frequency}/{period} {period_unit}" not in card["detail"] + card["summary"]


def test_the_timing_words_read_as_intended():
    """The catalogue's "N times every P unit" (the other tests take its words from it)."""
    assert timing("every", times=1, period="12", one=False, unit="hours") == "once every 12 hours"
    assert timing("every", times=5, period="1", one=True, unit="week") == "5 times every week"
    assert EN.text("period-unit.h", one=False) == "hours"
    assert EN.text("dose-amount.tablets", value="1", one=True) == "1 tablet"


def written(*texts):
    order = dosed()
    order["dosageInstruction"] = [{"text": t} for t in texts]
    return order


def test_a_dose_only_in_words_is_quoted_and_a_warning(client):
    """Free text "sorafenib 400 mg twice daily", no structured dose: a warning quoting it, the
    protocol dose and the maximum beside it (words never make it 'the protocol dose'); the
    verdict (supported) moves to the body."""
    text = "sorafenib 400 mg twice daily"
    card = dose_card(client, written(text), "peng_2024_recurrence")
    assert card["indicator"] == "warning"
    assert card["extension"][ORDER]["dose"]["code"] == "dose-text-only"
    lead = EN.text("dose-lead.dose-text-only", name=SORAFENIB, text=text)
    finding = EN.text("dose-finding.dose-text-only")
    assert card["summary"] == f"{lead}: {finding}"
    assert SUPPORTED not in card["summary"]
    assert paragraphs(card["detail"])[0] == f"**{lead}:** {finding}"
    assert "suggestions" not in card  # a warning: nothing to delete


def test_words_above_the_maximum_make_the_card_critical(client):
    """Free text "sorafenib 800 mg twice daily" reads 1,600 mg/day one way only: critical, led by
    the dose with the words quoted, a delete offered; the verdict (supported) moves to the body."""
    text = "sorafenib 800 mg twice daily"
    card = dose_card(client, written(text), "peng_2024_recurrence")
    assert card["indicator"] == "critical"
    dose = card["extension"][ORDER]["dose"]
    assert (dose["code"], dose["mgPerDay"]) == ("dose-text-above-maximum", 1600)
    daily = EN.text("dose.mg-per-day", mg=1600)
    lead = EN.text("dose-lead.dose-text-above-maximum", name=SORAFENIB, text=text, daily=daily)
    finding = EN.text("dose-finding.dose-text-above-maximum")
    assert card["summary"] == f"{lead}: {finding}"
    assert SUPPORTED not in card["summary"]
    assert paragraphs(card["detail"])[0] == f"**{lead}:** {finding}"
    (delete,) = [a for s in card["suggestions"] for a in s["actions"] if a["type"] == "delete"]
    assert delete["resourceId"] == MED


def test_a_dose_in_words_as_the_second_finding_is_a_body_line(client):
    """Child-Pugh C with TACE: critical verdict; the quoted dose is a body line under it."""
    card = dose_card(client, written("400 mg bid"), "child_pugh_c")
    assert card["indicator"] == "critical"
    assert EN.text("dose.dose-text-only", text="400 mg bid") in paragraphs(card["detail"])


def test_a_dose_in_words_is_escaped_and_the_summary_stays_short(client):
    """The order's words are escaped like any FHIR string; a long text is cut inside the quote,
    so the summary keeps its finding and stays under 140 characters."""
    text = "<b>400 mg</b> twice daily | " + "then as tolerated " * 10
    card = dose_card(client, written(text), "peng_2024_recurrence")
    assert "<b>" not in card["detail"] and "&lt;b>400 mg&lt;/b>" in card["detail"]
    assert "\\|" in card["detail"]
    assert len(card["summary"]) < 140
    assert card["summary"].endswith(EN.text("dose-finding.dose-text-only"))
    assert "…" in card["summary"]


def test_an_invalid_resource_is_named_on_the_order_card(client):
    """An eGFR whose resource is not valid FHIR (an id with an underscore) is not used, and the
    TACE order card names it under "Data that could not be read", as the patient-view card does."""
    labs = labs_with_egfr(ELIGIBLE, 15.0, "mL/min/{1.73_m2}")
    labs[-1]["id"] = "egfr_15"
    request = order_request(ELIGIBLE, "order-sign", tace())
    with_prefetch(request, labs=labs)
    card = cards(client, request)[0]
    assert "order-renal-filtration" not in card["extension"][CODES]
    assert f"**{messages('en').text('h.data-problems')}:**" in card["detail"]
    assert "Observation/egfr_15" in card["detail"]


def test_the_critical_card_comes_first_with_its_delete(client):
    """TACE drafted first (info), sorafenib 800 mg twice daily (critical): the critical card is
    first in the response. Its delete is offered but not the recommended choice: the drug is
    indicated (Peng 2024), only the dose is wrong."""
    request = order_request("peng_2024_recurrence", "order-sign", tace(), dosed(800, 2))
    first, second = cards(client, request)
    assert (first["indicator"], second["indicator"]) == ("critical", "info")
    (remove,) = first["suggestions"]
    assert not remove["isRecommended"] and remove["actions"][0] == {
        "type": "delete",
        "description": remove["actions"][0]["description"],
        "resourceId": MED,
    }


def test_a_critical_tace_card_recommends_removing_its_draft(client):
    card = cards(client, order_request("ineligible_main_portal_vein", "order-sign", tace()))[0]
    assert card["indicator"] == "critical"
    (remove,) = card["suggestions"]
    assert remove["isRecommended"] and remove["actions"][0]["type"] == "delete"


@pytest.mark.parametrize(
    ("name", "cls", "stage"), [("bclc_d_ecog3", "A", "D"), ("child_pugh_c", "C", "D")]
)
def test_transplant_assessment_is_named_only_for_end_stage_liver_function(client, name, cls, stage):
    """BCLC D by ECOG 3 is not a liver-transplant question; Child-Pugh C is (review 3, B3)."""
    card = cards(client, order_request(name, "order-sign", sorafenib()))[0]
    expected = messages("en").text("note.order-systemic-end-stage", cls=cls, stage=stage)
    assert expected in card["detail"]
    other = messages("en").text(
        "note.order-systemic-end-stage", cls="A" if cls == "C" else "C", stage=stage
    )
    assert other not in card["detail"]
