"""What the patient's record says around an order: TACE ordered or performed, biliary access.

An active or on-hold TACE ServiceRequest (intent anything but ``proposal``) is a TACE *ordered*
(documented as planned); a completed TACE Procedure one *performed* on its date. A Condition (not
refuted or entered in error) or a completed Procedure with a code of :data:`codes.BILIARY_ACCESS`
documents a biliary-enteric anastomosis or stent. Which TACE counts is the clinical rule's
(:func:`cds.clinical.order_context.counting_tace`), not decided here.
"""

from __future__ import annotations

from typing import Any

from cds.clinical.order_context import OrderContext, TaceEvidence
from cds.fhir import codes
from cds.fhir.extract import concept_in, procedure_date, ref, verification
from cds.fhir.record import PatientRecord

Resource = dict[str, Any]
ORDERED_STATUSES = ("active", "on-hold")
NOT_COUNTING_VERIFICATION = {"refuted", "entered-in-error"}


def tace_evidence(record: PatientRecord) -> tuple[TaceEvidence, ...]:
    found = [
        TaceEvidence("ordered", ref(r))
        for r in record.of_type("ServiceRequest")
        if r.get("status") in ORDERED_STATUSES
        and r.get("intent") != "proposal"
        and concept_in(r.get("code"), codes.TACE)
    ]
    found += [
        TaceEvidence("performed", ref(p), procedure_date(p))
        for p in record.of_type("Procedure")
        if p.get("status") == "completed" and concept_in(p.get("code"), codes.TACE)
    ]
    return tuple(found)


def biliary_access(record: PatientRecord) -> tuple[str, ...]:
    conditions = [
        c
        for c in record.of_type("Condition")
        if not verification(c) & NOT_COUNTING_VERIFICATION
        and concept_in(c.get("code"), codes.BILIARY_ACCESS)
    ]
    procedures = [
        p
        for p in record.of_type("Procedure")
        if p.get("status") == "completed" and concept_in(p.get("code"), codes.BILIARY_ACCESS)
    ]
    return tuple(ref(r) for r in (*conditions, *procedures))


def order_context(record: PatientRecord) -> OrderContext:
    return OrderContext(tace_evidence(record), biliary_access(record))
