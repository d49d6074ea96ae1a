"""Raw FHIR JSON builders for extraction tests."""

from __future__ import annotations

from typing import Any

from cds.fhir import codes

PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-05-01"}
HCC_CONDITION = {
    "resourceType": "Condition",
    "id": "hcc",
    "subject": {"reference": "Patient/p1"},
    "code": {"coding": [{"system": codes.SNOMED, "code": "25370001"}]},
}


def observation(
    oid: str, system: str, code: str, when: str = "2026-11-12", status: str = "final", **value: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": status,
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": when,
        **value,
    }


def quantity(value: float, unit: str | None, system: str | None = codes.UCUM) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value}
    if unit is not None:
        q.update({"unit": unit, "code": unit})
        if system:
            q["system"] = system
    return {"valueQuantity": q}


def lab(oid: str, loinc: str, value: float, unit: str | None, **kw: Any) -> dict[str, Any]:
    return observation(oid, codes.LOINC, loinc, **kw, **quantity(value, unit))


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"fullUrl": f"http://ehr.example/fhir/{r['resourceType']}/{r['id']}", "resource": r}
            for r in (PATIENT, *resources)
        ],
    }


def hepatectomy(performed: str) -> dict[str, Any]:
    """A completed hepatectomy (project code) on a date."""
    return {
        "resourceType": "Procedure",
        "id": "hx",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "performedDateTime": performed,
        "code": {"coding": [{"system": codes.HCC_CDS, "code": "hepatectomy"}]},
    }
