"""Renal insufficiency before TACE (contrast load): a warning, never a contraindication.

The TACE order check warns with it, and the patient-view card names it beside a TACE suggestion,
so that the operator and the clinician read the same finding.
"""

from __future__ import annotations

from datetime import date

from cds.clinical.child_pugh import SCORE_LOOKBACK_DAYS
from cds.clinical.evidence import reported, usable
from cds.clinical.inputs import PatientInputs
from cds.clinical.notes import Note, note

# EASL 2018 TACE contraindication ⚠️ (general knowledge, clinical.md §4): renal insufficiency,
# creatinine ≥ 2 mg/dL or clearance < 30 mL/min. An eGFR (per 1.73 m²) below 30 is read alike:
# it is how most laboratories report renal function, and the finding is a warning to weigh.
RENAL_CREATININE_MG_DL = 2.0
RENAL_FILTRATION_ML_MIN = 30.0
RENAL_FILTRATION = (("creatinine_clearance", "mL/min"), ("egfr", "mL/min/{1.73_m2}"))


def renal_insufficiency(inputs: PatientInputs, as_of: date) -> tuple[Note | None, tuple[Note, ...]]:
    """The renal warning of a TACE order, and what is missing to judge it: dialysis, then a
    creatinine ≥ 2 mg/dL, then a clearance or eGFR < 30 mL/min (each recent, as the scores'
    labs). Renal function is judged when any of the three results is usable; only when none is,
    the creatinine is missing. A clearance or eGFR that exists but cannot be read (its unit, say)
    is always named: it could be below 30."""
    dialysis = inputs.active_finding("dialysis")
    if dialysis is not None:
        return note("order-renal-dialysis", source=dialysis.source.resource), ()
    labs = inputs.labs
    creatinine = usable(labs.creatinine, "creatinine", as_of, SCORE_LOOKBACK_DAYS)
    if creatinine.value is not None and creatinine.value >= RENAL_CREATININE_MG_DL:
        assert creatinine.lab is not None
        return note(
            "order-renal-creatinine",
            value=round(creatinine.value, 2),
            unit="mg/dL",
            **reported(creatinine.lab),
            limit=RENAL_CREATININE_MG_DL,
            date=creatinine.lab.source.date,
        ), ()
    judged = creatinine.value is not None
    unreadable: list[Note] = []
    for analyte, unit in RENAL_FILTRATION:
        filtration = usable(getattr(labs, analyte), analyte, as_of, SCORE_LOOKBACK_DAYS)
        if filtration.value is None:
            if filtration.reason is not None and filtration.reason.code == "lab-unusable":
                unreadable.append(filtration.reason)
            continue
        judged = True
        if filtration.value < RENAL_FILTRATION_ML_MIN:
            assert filtration.lab is not None
            return note(
                "order-renal-filtration",
                analyte=analyte,
                value=round(filtration.value, 1),
                unit=unit,
                **reported(filtration.lab),
                limit=RENAL_FILTRATION_ML_MIN,
                date=filtration.lab.source.date,
            ), ()
    if not judged and creatinine.reason is not None:
        unreadable.insert(0, creatinine.reason)
    return None, tuple(unreadable)
