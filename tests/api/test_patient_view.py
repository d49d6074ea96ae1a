"""patient-view with full prefetch: every fixture gives the card its recommendation calls for."""

from __future__ import annotations

import json

import pytest

from tests.api.requests_from_fixtures import FIXTURES, hook_request

CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))
KIND_FOR_OPTION = {
    "tace_plus_sorafenib": {"tace_plus_sorafenib"},
    "tace": {"tace", "tace_protocol"},
    "no_tace": {"no_tace_contraindicated", "no_tace_not_indicated"},
    "insufficient_data": {"insufficient_data"},
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
    assert "| r0 margin | met | Observation/p16-resection-margin, 2025-03-14" in card["detail"]
    assert "not yet checked against the paper" in card["detail"]


def test_trial_eligible_card_offers_protocol_option_not_recommended(client):
    """NCT00919009-eligible: TACE recommended, the combination offered as protocol option."""
    card = client.post(
        "/cds-services/hcc-assessment", json=hook_request("nct00919009_eligible")
    ).json["cards"][0]
    labels = [(s["label"], s["isRecommended"]) for s in card["suggestions"]]
    assert labels[0][1] is True and "TACE alone" in labels[0][0]
    assert labels[1][1] is False and "protocol option" in labels[1][0]
    assert "SPACE" in card["detail"] and "TACE-2" in card["detail"]
    assert "single-arm phase 2" in card["detail"]


def test_detail_has_the_values_dates_and_criteria(client):
    """The detail table shows each score, the values and dates behind it, and every criterion."""
    detail = client.post("/cds-services/hcc-assessment", json=hook_request("child_pugh_b7")).json[
        "cards"
    ][0]["detail"]
    assert "| Child-Pugh | 7 (class B) |" in detail
    assert "| bilirubin |" in detail and "2026-11-" in detail
    assert "Platelets ≥ 60" in detail
    assert "not documented, scored as absent" in detail


def test_contraindicated_card_is_a_warning_without_suggestions(client):
    """Main portal vein invasion: a warning card saying why, and no TACE suggestion."""
    card = client.post(
        "/cds-services/hcc-assessment", json=hook_request("ineligible_main_portal_vein")
    ).json["cards"][0]
    assert card["indicator"] == "warning"
    assert "suggestions" not in card
    assert "main portal vein" in card["summary"] + card["detail"]


def test_missing_data_card_lists_what_to_obtain_and_offers_lab_orders(client):
    """Stale labs: a warning listing what is missing, with lab orders as a suggestion."""
    card = client.post("/cds-services/hcc-assessment", json=hook_request("stale_labs")).json[
        "cards"
    ][0]
    assert card["indicator"] == "warning"
    assert "To obtain before deciding" in card["detail"]
    codes = {a["resource"]["code"]["coding"][0]["code"] for a in card["suggestions"][0]["actions"]}
    assert {"1975-2", "1751-7", "6301-6"} <= codes


def test_fhir_strings_cannot_inject_markup(client):
    """A unit text with HTML or a pipe is escaped in the Markdown table."""
    request = hook_request("child_pugh_a5")
    lab = request["prefetch"]["labs"]["entry"][0]["resource"]
    lab["id"] = "x<script>|y"
    detail = client.post("/cds-services/hcc-assessment", json=request).json["cards"][0]["detail"]
    assert "<script>" not in detail
    assert "x&lt;script&gt;\\|y" in detail


def test_lab_orders_are_only_for_missing_or_old_labs(client):
    """Missing albumin (range 6–8): albumin is ordered, and nothing that is present and recent."""
    card = client.post(
        "/cds-services/hcc-assessment", json=hook_request("missing_albumin_straddle")
    ).json["cards"][0]
    ordered = {
        a["resource"]["code"]["coding"][0]["code"] for a in card["suggestions"][0]["actions"]
    }
    assert ordered == {"1751-7"}
