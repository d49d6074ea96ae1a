"""patient-view with full prefetch: every fixture gives the card its recommendation calls for."""

from __future__ import annotations

import json

import pytest

from cds.clinical.notes import note
from cds.render.messages import messages
from tests.api.requests_from_fixtures import FIXTURES, hook_request

M = messages("en")
T = M.text

CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))
KIND_FOR_OPTION = {
    "tace_plus_sorafenib": {"tace_plus_sorafenib"},
    "tace": {"tace", "tace_protocol"},
    "no_tace": {"no_tace_contraindicated", "no_tace_not_indicated", "no_tace_advanced"},
    "insufficient_data": {"insufficient_data", "tace_combination_open"},
}


def expected_option(name):
    spec = json.loads((FIXTURES / f"{name}.expected.json").read_text())
    return spec["expected"]["recommendation.option"]


def kind(card):
    return card["extension"]["org.example.hcc-cds.card-kind"]


def assert_expected_card(name, response):
    """One card of the kind the fixture's hand-worked recommendation calls for (none without
    HCC), built from complete data."""
    assert response.status_code == 200
    cards = response.json["cards"]
    option = expected_option(name)
    if option == "not_applicable":
        assert cards == []
        return
    assert len(cards) == 1
    assert kind(cards[0]) in KIND_FOR_OPTION[option]
    spec = json.loads((FIXTURES / f"{name}.expected.json").read_text())["expected"]
    tace_indicated = spec.get("recommendation.tace_indicated", False)
    assert (kind(cards[0]) == "tace_combination_open") is tace_indicated
    assert "could not obtain" not in cards[0]["detail"]


@pytest.mark.parametrize("name", CASES)
def test_fixture_card_matches_its_recommendation(client, name):
    """One card of the expected kind per HCC patient; none for a patient without HCC."""
    assert_expected_card(name, client.post("/cds-services/hcc-assessment", json=hook_request(name)))


def test_peng_card_recommends_the_combination_with_tace_alternative(client):
    """Peng population: TACE + sorafenib recommended, TACE alone offered, one choice at most."""
    card = client.post(
        "/cds-services/hcc-assessment", json=hook_request("peng_2024_recurrence")
    ).json["cards"][0]
    assert card["indicator"] == "info"
    assert card["selectionBehavior"] == "at-most-one"
    first, second = card["suggestions"]
    assert first["isRecommended"] and not second["isRecommended"]
    med = [
        a["resource"]
        for a in first["actions"]
        if a["resource"]["resourceType"] == "MedicationRequest"
    ][0]
    dose = med["dosageInstruction"][0]
    assert dose["doseAndRate"][0]["doseQuantity"]["value"] == 400
    assert dose["timing"]["repeat"] == {"frequency": 2, "period": 1, "periodUnit": "d"}
    assert "3 days after the first TACE" in dose["text"]
    assert "doi.org/10.1001/jamaoncol.2024.1831" in card["source"]["url"]
    peng = next(link for link in card["links"] if "jamaoncol" in link["url"])
    assert peng["type"] == "absolute"
    assert T("evidence.PENG-2024.line") in card["detail"]
    assert "](http" not in card["detail"]  # sources go into links, never into the detail


def test_trial_eligible_card_offers_protocol_option_not_recommended(client):
    """NCT00919009-eligible: TACE recommended, the combination offered as protocol option."""
    card = client.post(
        "/cds-services/hcc-assessment", json=hook_request("nct00919009_eligible")
    ).json["cards"][0]
    labels = [(s["label"], s["isRecommended"]) for s in card["suggestions"]]
    assert labels == [
        (T("suggestion.tace_guideline"), True),
        (T("suggestion.protocol_option"), False),
    ]
    assert T("evidence.NO-OS-BENEFIT.line") in card["detail"]
    assert T("evidence.NCT00919009.line") in card["detail"]
    assert card["extension"]["org.example.hcc-cds.reason-codes"] == [
        "tace-standard",
        "protocol-option",
    ]


def test_detail_has_the_key_results_flags_and_what_to_confirm(client):
    """The card gives the key results in one line, what was scored by convention, what a
    clinician must confirm, and that the trial is completed."""
    detail = client.post("/cds-services/hcc-assessment", json=hook_request("child_pugh_b7")).json[
        "cards"
    ][0]["detail"]
    assert T("key.child-pugh", score=7, cls="B") in detail
    assert M.note(note("cp-not-documented-scored-absent", component="ascites")) in detail
    assert M.note(note("cp-class-b-possible", low=7, high=7)) in detail
    assert T("criterion.inc-consent") in detail and T("criterion.exc-hiv") in detail
    assert T("trial.completed", trial="NCT00919009", years="2009–2011") in detail


def test_contraindicated_card_is_a_warning_without_suggestions(client):
    """Main portal vein invasion: a warning card saying why, and no TACE suggestion."""
    card = client.post(
        "/cds-services/hcc-assessment", json=hook_request("ineligible_main_portal_vein")
    ).json["cards"][0]
    assert card["indicator"] == "warning"
    assert "suggestions" not in card
    assert card["extension"]["org.example.hcc-cds.reason-codes"][0] == "main-vessel-invaded"
    assert T("vessel.vp4") in card["summary"]


def test_missing_data_card_lists_what_to_obtain_and_offers_lab_orders(client):
    """Stale labs: a warning listing what is missing, with lab orders as a suggestion."""
    card = client.post("/cds-services/hcc-assessment", json=hook_request("stale_labs")).json[
        "cards"
    ][0]
    assert card["indicator"] == "warning"
    assert T("h.to-obtain") in card["detail"]
    codes = {a["resource"]["code"]["coding"][0]["code"] for a in card["suggestions"][0]["actions"]}
    assert {"1975-2", "1751-7", "6301-6"} <= codes


def test_fhir_strings_cannot_inject_markup(client):
    """A unit text with HTML or a pipe is escaped in the Markdown table."""
    request = hook_request("child_pugh_a5")
    lab = request["prefetch"]["labs"]["entry"][0]["resource"]
    lab["id"] = "x<script>|y"
    detail = client.post("/cds-services/hcc-assessment", json=request).json["cards"][0]["detail"]
    assert "<script>" not in detail
    assert "x&lt;script>\\|y" in detail


def test_lab_orders_are_only_for_missing_or_old_labs(client):
    """Missing albumin (range 6–8): albumin is ordered, and nothing that is present and recent."""
    card = client.post(
        "/cds-services/hcc-assessment", json=hook_request("missing_albumin_straddle")
    ).json["cards"][0]
    ordered = {
        a["resource"]["code"]["coding"][0]["code"] for a in card["suggestions"][0]["actions"]
    }
    assert ordered == {"1751-7"}


@pytest.mark.parametrize(
    ("name", "ordered"), [("missing_albumin", {"1751-7"}), ("nct00919009_eligible", None)]
)
def test_a_tace_card_with_a_lab_missing_offers_its_order_too(client, name, ordered):
    """TACE suggested although albumin was never measured (the Child-Pugh range stays within
    preserved function): the card also offers the albumin order, not recommended; a card whose
    labs are all present and recent offers no lab order."""
    card = client.post("/cds-services/hcc-assessment", json=hook_request(name)).json["cards"][0]
    lab_orders = [
        s
        for s in card.get("suggestions", [])
        if all(a["resource"]["resourceType"] == "ServiceRequest" for a in s["actions"])
        and s["actions"][0]["resource"]["code"]["coding"][0]["system"] == "http://loinc.org"
    ]
    if ordered is None:
        assert lab_orders == []
        return
    assert kind(card) in KIND_FOR_OPTION["tace"]
    [suggestion] = lab_orders
    assert suggestion["isRecommended"] is False
    assert suggestion["label"] == T("suggestion.repeat_labs", count=1, first=T("analyte.albumin"))
    assert {a["resource"]["code"]["coding"][0]["code"] for a in suggestion["actions"]} == ordered


def test_peng_open_card_says_tace_either_way_and_names_the_margin(client):
    """The R0 margin undocumented: a warning that TACE is indicated either way, naming the margin
    to obtain, offering TACE alone (only adding sorafenib is undecided: not offered)."""
    card = client.post(
        "/cds-services/hcc-assessment", json=hook_request("peng_unknown_margin")
    ).json["cards"][0]
    assert card["indicator"] == "warning"
    assert card["summary"].startswith(T("decision.tace_combination_open"))
    assert card["extension"]["org.example.hcc-cds.reason-codes"][:2] == [
        "tace-either-way",
        "peng-unknown",
    ]
    assert T("peng-part.r0_margin") in card["detail"]
    first, *_ = card["suggestions"]  # TACE alone, recommended; no sorafenib order offered
    assert first["isRecommended"] and first["label"] == T("suggestion.tace")
    resources = [a["resource"]["resourceType"] for s in card["suggestions"] for a in s["actions"]]
    assert "MedicationRequest" not in resources


def test_a_tace_card_names_renal_insufficiency_as_the_order_card_does(client):
    """eGFR 24 (creatinine normal): the patient-view card that suggests TACE is a warning naming
    it, as the TACE order card warns (review 3, B5)."""
    from tests.api.test_order_verdicts import labs_with_egfr, with_prefetch

    request = hook_request("nct00919009_eligible")
    with_prefetch(request, labs=labs_with_egfr("nct00919009_eligible", 24.0, "mL/min/{1.73_m2}"))
    card = client.post("/cds-services/hcc-assessment", json=request).json["cards"][0]
    assert card["indicator"] == "warning"
    assert card["extension"]["org.example.hcc-cds.reason-codes"][:2] == [
        "tace-standard",
        "order-renal-filtration",
    ]
    assert T("analyte.egfr") in card["detail"]
    assert card["suggestions"][0]["isRecommended"]  # TACE still suggested: a caution to weigh
