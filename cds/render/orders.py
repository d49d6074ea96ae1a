"""The FHIR resources a card's suggestion asks the EHR to create (draft orders)."""

from __future__ import annotations

from typing import Any

from cds.fhir import codes
from cds.render.messages import Messages

Resource = dict[str, Any]

LAB_NAMES = {
    "bilirubin": ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma"),
    "albumin": ("1751-7", "Albumin [Mass/volume] in Serum or Plasma"),
    "inr": ("6301-6", "INR in Platelet poor plasma by Coagulation assay"),
    "platelets": ("777-3", "Platelets [#/volume] in Blood by Automated count"),
    "anc": ("751-8", "Neutrophils [#/volume] in Blood by Automated count"),
    "haemoglobin": ("718-7", "Hemoglobin [Mass/volume] in Blood"),
    "ast": ("1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    "alt": ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    "creatinine": ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
}


def coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def subject(patient_id: str) -> dict[str, str]:
    return {"reference": f"Patient/{patient_id}"}


def tace_request(patient_id: str, hcc_condition: str | None, msgs: Messages) -> Resource:
    request: Resource = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "code": {
            "coding": [coding(*c) for c in codes.TACE_CODINGS],
            "text": msgs.text("resource.tace-text"),
        },
        "subject": subject(patient_id),
    }
    if hcc_condition:
        request["reasonReference"] = [{"reference": hcc_condition}]
    return request


def sorafenib_request(patient_id: str, msgs: Messages) -> Resource:
    system, code, display = codes.SORAFENIB_TABLET
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": {
            "coding": [coding(system, code, display)],
            "text": msgs.text("resource.sorafenib-text"),
        },
        "subject": subject(patient_id),
        "dosageInstruction": [
            {
                "text": msgs.text("resource.sorafenib-dose"),
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "route": {"coding": [coding(codes.SNOMED, "26643006", "Oral route")]},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 400,
                            "unit": "mg",
                            "system": codes.UCUM,
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
        "note": [{"text": msgs.text("resource.sorafenib-note")}],
    }


def lab_request(patient_id: str, analyte: str) -> Resource:
    code, display = LAB_NAMES[analyte]
    return {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "code": {"coding": [coding(codes.LOINC, code, display)]},
        "subject": subject(patient_id),
    }


def create(description: str, resource: Resource) -> dict[str, Any]:
    return {"type": "create", "description": description, "resource": resource}


def plan_actions(
    plan: str,
    patient_id: str,
    hcc_condition: str | None,
    labs_to_repeat: list[str],
    msgs: Messages,
) -> list[dict[str, Any]]:
    """The actions of a suggestion plan: tace, tace_plus_sorafenib or repeat_labs."""
    tace = create(msgs.text("action.propose-tace"), tace_request(patient_id, hcc_condition, msgs))
    if plan == "tace":
        return [tace]
    if plan == "tace_plus_sorafenib":
        sorafenib = sorafenib_request(patient_id, msgs)
        return [tace, create(msgs.text("action.propose-sorafenib"), sorafenib)]
    if plan == "repeat_labs":
        return [
            create(
                msgs.text("action.order-lab", analyte=msgs.text(f"analyte.{name}")),
                lab_request(patient_id, name),
            )
            for name in orderable(labs_to_repeat)
        ]
    raise ValueError(f"unknown suggestion plan {plan!r}")


def orderable(labs: list[str]) -> list[str]:
    """The laboratory tests a suggestion can order (those with a LOINC order code here)."""
    return [name for name in labs if name in LAB_NAMES]


def repeat_labs_label(labs: list[str], msgs: Messages) -> str:
    """The lab-order button names what it orders: the test itself, or how many."""
    names = orderable(labs)
    first = msgs.text(f"analyte.{names[0]}") if names else ""
    return msgs.text("suggestion.repeat_labs", count=len(names), first=first)
