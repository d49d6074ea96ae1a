"""The project CodeSystem shipped in docs/ is valid FHIR and defines every project code used."""

from __future__ import annotations

import json
from pathlib import Path

from fhir.resources.R4B.codesystem import CodeSystem

from cds.fhir import codes

DOC = Path(__file__).resolve().parents[2] / "docs" / "CodeSystem-hcc.json"


def test_project_codesystem_is_valid_and_complete():
    """Every HCC-CDS code the service reads or writes is defined in the shipped CodeSystem."""
    data = json.loads(DOC.read_text())
    CodeSystem.model_validate(data)
    assert data["url"] == codes.HCC_CDS
    defined = {c["code"] for c in data["concept"]}
    used = {code for system, code in codes.PROJECT_OBSERVATIONS} | {"hepatectomy", "tace"}
    used |= {code for _, code in codes.EXCLUSION_CONDITIONS["refractory-ascites"]}
    used |= set(codes.VP_GRADES) | set(codes.VV_GRADES) | set(codes.MARGINS) | set(codes.PATTERNS)
    assert used <= defined
