"""Recognising TACE and sorafenib drafts however they are coded (clinical.md §2.4)."""

from __future__ import annotations

import pytest

from cds.clinical.draft_orders import Recognition
from cds.fhir import codes
from cds.fhir.orders import draft_orders


def medication_request(rid="med-1", **fields):
    return {"resourceType": "MedicationRequest", "id": rid, "status": "draft", **fields}


def coded(system, code, text=None):
    concept = {"coding": [{"system": system, "code": code}]}
    if text:
        concept["text"] = text
    return concept


def context(*resources, selections=None, full_urls=None):
    entries = [{"resource": r} for r in resources]
    for entry, url in zip(entries, full_urls or [], strict=False):
        entry["fullUrl"] = url
    found = {"draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": entries}}
    if selections is not None:
        found["selections"] = selections
    return found


def only_order(resource, **kwargs):
    orders = draft_orders(context(resource), "order-sign", **kwargs)
    assert len(orders) == 1
    return orders[0]


SORAFENIB_CODES = [
    (codes.RXNORM, "597747"),  # SCD
    (codes.RXNORM, "597745"),  # SCDC
    (codes.RXNORM, "615979"),  # SBD, Nexavar
    (codes.RXNORM, "615977"),  # SBDC, Nexavar
    (codes.RXNORM, "1159692"),  # sorafenib Pill
    (codes.RXNORM, "1182863"),  # Nexavar Pill
    (codes.ATC, "L01EX02"),
    (codes.ATC, "L01XE05"),  # before 2022
]


@pytest.mark.parametrize(("system", "code"), SORAFENIB_CODES)
def test_every_sorafenib_concept_is_recognised_by_code(system, code):
    """Generic and branded RxNorm forms and both ATC codes: sorafenib, by code."""
    order = only_order(medication_request(medicationCodeableConcept=coded(system, code)))
    assert (order.kind, order.recognised_by) == ("sorafenib", Recognition.CODE)
    assert (order.resource_id, order.matched) == ("MedicationRequest/med-1", f"{system}|{code}")


@pytest.mark.parametrize("text", ["Sorafenib 200 mg tablet", "NEXAVAR 200MG", "sorafenib tosylate"])
def test_text_only_sorafenib_is_recognised_from_text(text):
    """No coding at all, text naming sorafenib or Nexavar: checked, marked as from text."""
    order = only_order(medication_request(medicationCodeableConcept={"text": text}))
    assert (order.kind, order.recognised_by) == ("sorafenib", Recognition.TEXT)


def test_an_unknown_coding_with_a_sorafenib_display_is_recognised_from_text():
    """A local code the service does not know, displayed as Nexavar: from text."""
    concept = {"coding": [{"system": "urn:local", "code": "X1", "display": "Nexavar 200 mg"}]}
    order = only_order(medication_request(medicationCodeableConcept=concept))
    assert order.recognised_by is Recognition.TEXT
    assert order.matched == "Nexavar"


def test_words_inside_other_words_do_not_count():
    """'Regorafenib' is not sorafenib; an unrelated drug gives no order."""
    for text in ("regorafenib 40 mg", "lenvatinib"):
        resource = medication_request(medicationCodeableConcept={"text": text})
        assert draft_orders(context(resource), "order-sign") == []


def medication(mid="m", code=("597747",)):
    return {
        "resourceType": "Medication",
        "id": mid,
        "code": {"coding": [{"system": codes.RXNORM, "code": c} for c in code]},
    }


def test_medication_reference_to_a_contained_medication():
    """#m resolves to the contained Medication."""
    resource = medication_request(contained=[medication()], medicationReference={"reference": "#m"})
    assert only_order(resource).recognised_by is Recognition.CODE


def test_medication_reference_into_the_draft_orders_bundle():
    """Medication/m resolves to a Medication sent beside the draft in draftOrders."""
    resource = medication_request(medicationReference={"reference": "Medication/m"})
    orders = draft_orders(context(resource, medication()), "order-sign")
    assert [o.kind for o in orders] == ["sorafenib"]


def test_medication_reference_among_the_prefetched_resources():
    """Medication/m resolves to a Medication the service already holds (prefetch)."""
    resource = medication_request(medicationReference={"reference": "Medication/m"})
    assert only_order(resource, known=[medication()]).kind == "sorafenib"


def test_medication_reference_read_from_the_fhir_server():
    """Medication/m not at hand: read from the FHIR server, once."""
    asked = []

    def read(ref):
        asked.append(ref)
        return medication(code=("615979",))

    resource = medication_request(medicationReference={"reference": "Medication/m"})
    assert only_order(resource, read_medication=read).matched.endswith("|615979")
    assert asked == ["Medication/m"]


def test_an_unresolvable_reference_falls_back_to_its_display():
    """Nothing to resolve, but the reference's display names sorafenib: from text."""
    resource = medication_request(
        medicationReference={"reference": "Medication/gone", "display": "Sorafenib 200 mg"}
    )
    assert only_order(resource, read_medication=lambda ref: None).recognised_by is Recognition.TEXT


def test_an_unresolvable_reference_without_words_is_not_classified():
    """Cannot be classified: no order (the service does not guess)."""
    resource = medication_request(medicationReference={"reference": "Medication/gone"})
    assert draft_orders(context(resource), "order-sign") == []


def service_request(rid="sr-1", code=None):
    return {"resourceType": "ServiceRequest", "id": rid, "status": "draft", "code": code}


@pytest.mark.parametrize(
    ("code", "recognised_by"),
    [
        (coded(codes.SNOMED, "441525007"), Recognition.CODE),
        (coded(codes.HCC_CDS, "tace"), Recognition.CODE),
        ({"text": "TACE right lobe"}, Recognition.TEXT),
        ({"text": "DEB-TACE"}, Recognition.TEXT),
        ({"text": "Transarterial chemoembolization"}, Recognition.TEXT),
        ({"text": "hepatic artery chemo-embolisation"}, Recognition.TEXT),
    ],
)
def test_tace_service_requests(code, recognised_by):
    """TACE by SNOMED, the project code, or text."""
    order = only_order(service_request(code=code))
    assert (order.kind, order.recognised_by, order.resource_id) == (
        "tace",
        recognised_by,
        "ServiceRequest/sr-1",
    )


def test_order_select_judges_only_the_selections():
    """order-select: only the selected drafts; an empty selection: nothing."""
    tace = service_request(code=coded(codes.SNOMED, "441525007"))
    sorafenib = medication_request(medicationCodeableConcept=coded(codes.RXNORM, "615979"))
    both = context(tace, sorafenib, selections=["MedicationRequest/med-1"])
    assert [o.kind for o in draft_orders(both, "order-select")] == ["sorafenib"]
    both["selections"] = []
    assert draft_orders(both, "order-select") == []
    assert [o.kind for o in draft_orders(both, "order-sign")] == ["tace", "sorafenib"]


def test_selections_may_name_a_draft_by_its_urn_uuid():
    """A selection of the draft's fullUrl (urn:uuid) selects it."""
    sorafenib = medication_request(medicationCodeableConcept=coded(codes.RXNORM, "597747"))
    ctx = context(sorafenib, selections=["urn:uuid:abc"], full_urls=["urn:uuid:abc"])
    del sorafenib["id"]
    assert [o.kind for o in draft_orders(ctx, "order-select")] == ["sorafenib"]


def test_the_ordered_dose_is_read():
    """The order description carries the dose as ordered (800 mg twice daily: 1600 mg/day)."""
    resource = medication_request(
        medicationCodeableConcept=coded(codes.RXNORM, "597747"),
        dosageInstruction=[
            {
                "doseAndRate": [
                    {"doseQuantity": {"value": 800, "code": "mg", "system": codes.UCUM}}
                ],
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
            }
        ],
    )
    (regimen,) = only_order(resource).dose
    assert regimen.mg_per_day == 1600


def test_a_draft_without_a_resource_type_is_skipped():
    """A malformed draft (no resourceType) is not an order and does not break the others."""
    broken = {"id": "x", "medicationCodeableConcept": {"text": "sorafenib"}}
    tace = service_request(code=coded(codes.SNOMED, "441525007"))
    assert [o.kind for o in draft_orders(context(broken, tace), "order-sign")] == ["tace"]
