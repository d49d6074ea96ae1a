"""order-select / order-sign: a TACE or sorafenib draft order is checked against the assessment."""

from __future__ import annotations

import pytest

from cds.fhir import codes
from cds.render.messages import messages
from tests.api.requests_from_fixtures import hook_request, patient_id_of

URL = "/cds-services/hcc-order-check"


def sorafenib(rid="med-1"):
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": codes.RXNORM, "code": "597747"}]},
        "subject": {"reference": "Patient/x"},
    }


def tace(rid="sr-1"):
    return {
        "resourceType": "ServiceRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": codes.SNOMED, "code": "441525007"}]},
        "subject": {"reference": "Patient/x"},
    }


def unrelated(rid="sr-9"):
    return {
        "resourceType": "ServiceRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "code": {"coding": [{"system": codes.LOINC, "code": "24627-2"}]},
        "subject": {"reference": "Patient/x"},
    }


def order_request(name, hook, *orders, selections=None):
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": o} for o in orders],
    }
    context = {"draftOrders": bundle}
    if hook == "order-select":
        context["selections"] = (
            selections
            if selections is not None
            else [f"{o['resourceType']}/{o['id']}" for o in orders]
        )
    request = hook_request(name, hook=hook, context=context)
    request["context"]["patientId"] = patient_id_of(name)
    return request


def cards(client, request):
    response = client.post(URL, json=request)
    assert response.status_code == 200
    return response.json["cards"]


KIND = "org.example.hcc-cds.card-kind"
CODES = "org.example.hcc-cds.reason-codes"
SCHEDULE = messages("en").text("order.schedule-sorafenib")


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
@pytest.mark.parametrize(
    ("name", "order", "indicator", "outcome", "code"),
    [
        ("child_pugh_c", sorafenib, "critical", "contraindicated", "end-stage-liver"),
        ("child_pugh_b8", tace, "critical", "contraindicated", "child-pugh-8-or-more"),
        ("ineligible_bilirubin", tace, "critical", "contraindicated", "bilirubin-above-3"),
        ("ineligible_main_portal_vein", tace, "critical", "contraindicated", "main-vessel-invaded"),
        (
            "ineligible_extrahepatic_metastasis",
            tace,
            "critical",
            "contraindicated",
            "extrahepatic-spread",
        ),
        (
            "ineligible_extrahepatic_metastasis",
            sorafenib,
            "warning",
            "not-supported",
            "order-sorafenib-systemic-not-assessed",
        ),
        (
            "bclc_c_branch_pvi",
            sorafenib,
            "warning",
            "not-supported",
            "order-sorafenib-systemic-not-assessed",
        ),
        ("stale_labs", tace, "warning", "missing-data", "lab-stale"),
        ("bclc_0", tace, "warning", "not-supported", "bclc-early"),
        (
            "bclc_b_large_tumour",
            sorafenib,
            "warning",
            "not-supported",
            "order-sorafenib-not-supported",
        ),
        ("nct00919009_eligible", tace, "info", "supported", "tace-standard"),
        ("nct00919009_eligible", sorafenib, "info", "supported", "protocol-option"),
        ("peng_2024_recurrence", sorafenib, "info", "supported", "peng-population"),
    ],
)
def test_order_checks(client, hook, name, order, indicator, outcome, code):
    """Contraindicated → critical; unsupported or undecidable → warning; supported → info."""
    found = cards(client, order_request(name, hook, order()))
    assert len(found) == 1
    card = found[0]
    assert card["indicator"] == indicator
    assert card["extension"][KIND].endswith(f"-{outcome}")
    assert code in card["extension"][CODES]
    assert (SCHEDULE in card["detail"]) is (
        outcome == "supported" and name != "bclc_b_large_tumour"
    )


def test_order_select_checks_only_the_selected_orders(client):
    """order-select: an unselected sorafenib order is not checked."""
    request = order_request(
        "child_pugh_c", "order-select", sorafenib(), unrelated(), selections=["ServiceRequest/sr-9"]
    )
    assert cards(client, request) == []


def test_order_sign_checks_each_kind_once(client):
    """order-sign with TACE and sorafenib: one card for each."""
    found = cards(
        client, order_request("child_pugh_c", "order-sign", tace(), sorafenib(), sorafenib("med-2"))
    )
    kinds = sorted(c["extension"]["org.example.hcc-cds.card-kind"] for c in found)
    assert kinds == ["order-sorafenib-contraindicated", "order-tace-contraindicated"]


def test_unrelated_order_gives_no_card(client):
    """An order that is neither TACE nor sorafenib is not this service's business."""
    assert cards(client, order_request("child_pugh_c", "order-sign", unrelated())) == []


def test_no_hcc_gives_no_card(client):
    """A TACE order for a patient without HCC (other liver tumours) gets no card."""
    assert cards(client, order_request("no_hcc", "order-sign", tace())) == []


def test_sorafenib_in_a_contained_medication_is_found(client):
    """A MedicationRequest pointing to a contained Medication with the RxNorm code counts."""
    med = sorafenib()
    del med["medicationCodeableConcept"]
    med["contained"] = [
        {
            "resourceType": "Medication",
            "id": "m",
            "code": {"coding": [{"system": codes.RXNORM, "code": "597747"}]},
        }
    ]
    med["medicationReference"] = {"reference": "#m"}
    assert (
        cards(client, order_request("child_pugh_c", "order-sign", med))[0]["indicator"]
        == "critical"
    )


def test_draft_orders_must_be_a_bundle(client):
    """order-sign without a draftOrders Bundle is a 400."""
    request = order_request("child_pugh_c", "order-sign", tace())
    request["context"]["draftOrders"] = [tace()]
    assert client.post(URL, json=request).status_code == 400


def test_tace_order_card_shows_no_sorafenib_schedule_when_the_combination_is_not_offered(client):
    """A supported TACE order for a non-Peng, non-eligible patient: no sorafenib schedule."""
    card = cards(client, order_request("bclc_b_large_tumour", "order-sign", tace()))[0]
    assert card["indicator"] == "info"
    assert SCHEDULE not in card["detail"]
    assert "combination-not-suggested" in card["extension"][CODES]


def kinds_of(found):
    return [c["extension"]["org.example.hcc-cds.card-kind"] for c in found]


def sorafenib_coded(concept=None, **fields):
    order = sorafenib()
    del order["medicationCodeableConcept"]
    if concept is not None:
        order["medicationCodeableConcept"] = concept
    return {**order, **fields}


NEXAVAR_MEDICATION = {
    "resourceType": "Medication",
    "id": "nexavar",
    "code": {"coding": [{"system": codes.RXNORM, "code": "615979"}]},
}


@pytest.mark.parametrize(
    "order",
    [
        sorafenib_coded({"coding": [{"system": codes.RXNORM, "code": "615979"}]}),  # Nexavar SBD
        sorafenib_coded({"coding": [{"system": codes.RXNORM, "code": "1182863"}]}),  # Nexavar Pill
        sorafenib_coded({"coding": [{"system": codes.ATC, "code": "L01EX02"}]}),
        sorafenib_coded({"text": "Nexavar 200 mg tablets"}),  # text only
        sorafenib_coded(
            contained=[{**NEXAVAR_MEDICATION, "id": "m"}], medicationReference={"reference": "#m"}
        ),
    ],
    ids=["nexavar-615979", "nexavar-pill", "atc", "text-only", "contained-medication"],
)
def test_any_coding_of_sorafenib_gets_the_order_card(client, order):
    """Child-Pugh C12: a branded, ATC-coded, text-only or referenced sorafenib order is judged."""
    found = cards(client, order_request("child_pugh_c", "order-sign", order))
    assert kinds_of(found) == ["order-sorafenib-contraindicated"]


def test_medication_reference_into_draft_orders_gets_the_order_card(client):
    """medicationReference Medication/nexavar, the Medication sent in draftOrders."""
    order = sorafenib_coded(medicationReference={"reference": "Medication/nexavar"})
    request = order_request("child_pugh_c", "order-sign", order, NEXAVAR_MEDICATION)
    assert kinds_of(cards(client, request)) == ["order-sorafenib-contraindicated"]


def test_medication_reference_into_the_prefetch_gets_the_order_card(client):
    """medicationReference resolved from a Medication the EHR prefetched under its own key."""
    order = sorafenib_coded(medicationReference={"reference": "Medication/nexavar"})
    request = order_request("child_pugh_c", "order-sign", order)
    request["prefetch"]["medications"] = NEXAVAR_MEDICATION
    assert kinds_of(cards(client, request)) == ["order-sorafenib-contraindicated"]


def test_a_text_only_tace_order_gets_the_order_card(client):
    """A ServiceRequest coded only as text 'DEB-TACE' is judged like a coded TACE order."""
    order = {**tace(), "code": {"text": "DEB-TACE segment 8"}}
    found = cards(client, order_request("child_pugh_c", "order-sign", order))
    assert kinds_of(found) == ["order-tace-contraindicated"]


def test_an_unclassifiable_reference_gets_no_card(client):
    """A medicationReference that resolves to nothing and names nothing: no card, no guess."""
    order = sorafenib_coded(medicationReference={"reference": "Medication/unknown"})
    assert cards(client, order_request("child_pugh_c", "order-sign", order)) == []


def test_order_select_with_nothing_selected_gives_no_card(client):
    """order-select with an empty selections list: nothing was selected, nothing is judged."""
    request = order_request("child_pugh_c", "order-select", tace(), sorafenib(), selections=[])
    assert cards(client, request) == []


def test_order_select_judges_the_selection_and_order_sign_all_drafts(client):
    """The same drafts: order-select judges the selected sorafenib; order-sign both orders."""
    drafts = (tace(), sorafenib())
    select = order_request(
        "child_pugh_c", "order-select", *drafts, selections=["MedicationRequest/med-1"]
    )
    assert kinds_of(cards(client, select)) == ["order-sorafenib-contraindicated"]
    sign = order_request("child_pugh_c", "order-sign", *drafts)
    assert sorted(kinds_of(cards(client, sign))) == [
        "order-sorafenib-contraindicated",
        "order-tace-contraindicated",
    ]
