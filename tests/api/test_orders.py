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


ORDER = "org.example.hcc-cds.order"


def card_for(found, rid):
    """The card that judges the draft ``rid`` (each card names its draft)."""
    matching = [c for c in found if c["extension"][ORDER]["draft"] == rid]
    assert len(matching) == 1, [c["extension"][ORDER] for c in found]
    return matching[0]


# (fixture, drafts sent, the draft judged, indicator, outcome, a reason code on the card)
CASES = [
    # TACE orders: critical only for the listed findings
    ("child_pugh_c", "tace", "critical", "contraindicated", "end-stage-liver"),
    ("child_pugh_b8", "tace", "critical", "contraindicated", "child-pugh-8-or-more"),
    ("ineligible_bilirubin", "tace", "critical", "contraindicated", "bilirubin-above-3"),
    ("ineligible_main_portal_vein", "tace", "critical", "contraindicated", "main-vessel-invaded"),
    (
        "ineligible_extrahepatic_metastasis",
        "tace",
        "critical",
        "contraindicated",
        "extrahepatic-spread",
    ),
    ("bclc_d_ecog3", "tace", "critical", "contraindicated", "bclc-d"),
    # BCLC C by branch invasion or ECOG 1–2 only: a warning, never "contraindicated"
    ("bclc_c_branch_pvi", "tace", "warning", "advanced-stage", "order-advanced-stage"),
    ("ineligible_ecog2", "tace", "warning", "advanced-stage", "order-advanced-stage"),
    ("stale_labs", "tace", "warning", "missing-data", "lab-stale"),
    ("bclc_0", "tace", "warning", "not-supported", "bclc-early"),
    ("nct00919009_eligible", "tace", "info", "supported", "tace-standard"),
    # sorafenib drafted with TACE: judged with the TACE decision
    ("child_pugh_c", "sorafenib+tace", "critical", "contraindicated", "end-stage-liver"),
    ("bclc_c_branch_pvi", "sorafenib+tace", "warning", "advanced-stage", "bclc-c"),
    (
        "bclc_b_large_tumour",
        "sorafenib+tace",
        "warning",
        "not-supported",
        "order-sorafenib-not-supported",
    ),
    # outside Peng 2024 with the trial's data criteria met: the protocol's regimen, never
    # "supported" (TACE alone is the guideline standard)
    (
        "nct00919009_eligible",
        "sorafenib+tace",
        "info",
        "protocol-option",
        "order-sorafenib-protocol-option",
    ),
    ("peng_2024_recurrence", "sorafenib+tace", "info", "supported", "peng-population"),
    # sorafenib without any TACE: systemic therapy
    ("child_pugh_c", "sorafenib", "warning", "systemic-end-stage", "order-systemic-end-stage"),
    ("bclc_d_ecog3", "sorafenib", "warning", "systemic-end-stage", "order-systemic-end-stage"),
    ("bclc_c_branch_pvi", "sorafenib", "info", "systemic", "order-systemic-bclc-c"),
    (
        "ineligible_extrahepatic_metastasis",
        "sorafenib",
        "info",
        "systemic",
        "order-systemic-bclc-c",
    ),
    (
        "nct00919009_eligible",
        "sorafenib",
        "info",
        "systemic",
        "order-sorafenib-without-tace",  # BCLC B2: order or document the TACE first
    ),
]
DRAFTS = {
    "tace": (lambda: [tace()], "ServiceRequest/sr-1"),
    "sorafenib+tace": (lambda: [tace(), sorafenib()], "MedicationRequest/med-1"),
    "sorafenib": (lambda: [sorafenib()], "MedicationRequest/med-1"),
}


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
@pytest.mark.parametrize(("name", "drafts", "indicator", "outcome", "code"), CASES)
def test_order_checks(client, hook, name, drafts, indicator, outcome, code):
    """Each verdict level of clinical.md §4, on the card of the draft it judges."""
    build, judged = DRAFTS[drafts]
    orders = build()
    request = order_request(name, hook, *orders, selections=[judged])
    card = card_for(cards(client, request), judged)
    assert card["indicator"] == indicator
    assert card["extension"][KIND].endswith(f"-{outcome}")
    assert code in card["extension"][CODES]
    facts = card["extension"][ORDER]
    assert (facts["withTace"] is not None) is (drafts == "sorafenib+tace")
    if drafts == "sorafenib+tace":
        assert facts["withTace"] == {"kind": "drafted", "resource": "ServiceRequest/sr-1"}
    removal = [
        a for s in card.get("suggestions", []) for a in s["actions"] if a["type"] == "delete"
    ]
    assert (removal != []) is (indicator == "critical")
    if removal:
        assert removal == [
            {"type": "delete", "description": removal[0]["description"], "resourceId": judged}
        ]
    assert (SCHEDULE in card["detail"]) is (
        outcome in ("supported", "protocol-option") and drafts != "tace"
    )


def test_order_select_checks_only_the_selected_orders(client):
    """order-select: an unselected sorafenib order is not checked."""
    request = order_request(
        "child_pugh_c", "order-select", sorafenib(), unrelated(), selections=["ServiceRequest/sr-9"]
    )
    assert cards(client, request) == []


def test_order_sign_gives_one_card_per_draft(client):
    """order-sign with one TACE and two sorafenib drafts: three cards, each naming its draft."""
    found = cards(
        client, order_request("child_pugh_c", "order-sign", tace(), sorafenib(), sorafenib("med-2"))
    )
    drafts = sorted(c["extension"][ORDER]["draft"] for c in found)
    assert drafts == ["MedicationRequest/med-1", "MedicationRequest/med-2", "ServiceRequest/sr-1"]
    assert {c["indicator"] for c in found} == {"critical"}


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
        cards(client, order_request("child_pugh_c", "order-sign", med))[0]["indicator"] == "warning"
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
    assert kinds_of(found) == ["order-sorafenib-systemic-end-stage"]


def test_medication_reference_into_draft_orders_gets_the_order_card(client):
    """medicationReference Medication/nexavar, the Medication sent in draftOrders."""
    order = sorafenib_coded(medicationReference={"reference": "Medication/nexavar"})
    request = order_request("child_pugh_c", "order-sign", order, NEXAVAR_MEDICATION)
    assert kinds_of(cards(client, request)) == ["order-sorafenib-systemic-end-stage"]


def test_medication_reference_into_the_prefetch_gets_the_order_card(client):
    """medicationReference resolved from a Medication the EHR prefetched under its own key."""
    order = sorafenib_coded(medicationReference={"reference": "Medication/nexavar"})
    request = order_request("child_pugh_c", "order-sign", order)
    request["prefetch"]["medications"] = NEXAVAR_MEDICATION
    assert kinds_of(cards(client, request)) == ["order-sorafenib-systemic-end-stage"]


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
    """The same drafts: order-select judges the selected sorafenib; order-sign both orders.

    The TACE drafted beside it makes the sorafenib "with TACE" even when it is not selected."""
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
