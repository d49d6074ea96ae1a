"""Small builders of clinical inputs for table-driven tests (canonical units)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from cds.clinical.evidence import Fact, Lab, Source
from cds.clinical.inputs import (
    ConditionFinding,
    ConditionState,
    HepaticVeinInvasion,
    LiverLabs,
    PatientInputs,
    PortalInvasion,
    Resection,
    Tumour,
    TumourPattern,
)

AS_OF = date(2026, 11, 15)
CANONICAL_UNITS = {
    "bilirubin": "mg/dL",
    "albumin": "g/dL",
    "inr": "1",
    "platelets": "10*9/L",
    "anc": "10*9/L",
    "haemoglobin": "g/dL",
    "ast": "U/L",
    "alt": "U/L",
    "creatinine": "mg/dL",
    "afp": "ng/mL",
    "creatinine_clearance": "mL/min",
    "egfr": "mL/min/{1.73_m2}",
}


def src(name: str = "x", days_ago: int = 2) -> Source:
    return Source(f"Observation/{name}", AS_OF - timedelta(days=days_ago), name)


def lab(
    name: str,
    value: float | None,
    days_ago: int = 2,
    uln: float | None = None,
    problem: str | None = None,
) -> Lab:
    return Lab(value, CANONICAL_UNITS[name], src(name, days_ago), problem, uln, uln is None)


def fact(value: Any, days_ago: int = 10) -> Fact[Any]:
    return Fact(value, src("finding", days_ago))


# A compensated patient whose every lab is within range and recent.
GOOD_LABS = dict(
    bilirubin=1.0,
    albumin=4.0,
    inr=1.1,
    platelets=150.0,
    anc=3.0,
    haemoglobin=13.0,
    ast=50.0,
    alt=45.0,
    creatinine=0.9,
)


def labs(days_ago: int = 2, **overrides: float | None) -> LiverLabs:
    values = {**GOOD_LABS, **overrides}
    return LiverLabs(**{k: (None if v is None else lab(k, v, days_ago)) for k, v in values.items()})


def tumour(
    count: int | None = 3,
    size: float | None = 4.0,
    vp: int | None = 0,
    vv: int | None = 0,
    bile: bool | None = False,
    mvi: bool | None = None,
    adjacent: bool | None = False,
    nodes: bool | None = False,
    mets: bool | None = False,
    **extra: Any,
) -> Tumour:
    """An intermediate-stage tumour by default (3 nodules, largest 4 cm, no invasion or spread,
    well-defined, beyond the extended transplant criteria: BCLC B2)."""

    def f(v: Any) -> Fact[Any] | None:
        return None if v is None else fact(v)

    # BCLC B2 by default: well-defined nodules beyond the extended transplant criteria.
    extra = {"pattern": TumourPattern.WELL_DEFINED, "within_transplant_criteria": False, **extra}

    return Tumour(
        nodule_count=f(count),
        largest_cm=f(size),
        portal_invasion=None if vp is None else fact(PortalInvasion(vp)),
        hepatic_vein_invasion=None if vv is None else fact(HepaticVeinInvasion(vv)),
        bile_duct_invasion=f(bile),
        microvascular_invasion=f(mvi),
        adjacent_organ_invasion=f(adjacent),
        regional_nodes=f(nodes),
        distant_metastasis=f(mets),
        **{k: f(v) for k, v in extra.items()},
    )


def patient(**changes: Any) -> PatientInputs:
    """A patient eligible for NCT00919009 by default (BCLC B, mUICC III, Child-Pugh A5)."""
    base = PatientInputs(
        patient="Patient/test",
        birth_date=date(1960, 5, 1),
        hcc=Source("Condition/hcc", None, "C22.0"),
        labs=labs(),
        ecog=fact(0, days_ago=3),
        tumour=tumour(),
    )
    return replace(base, **changes)


def condition(
    concept: str,
    state: ConditionState = ConditionState.ACTIVE,
    decides: bool = True,
    onset: date | None = None,
) -> ConditionFinding:
    """A coded Condition bearing on a trial exclusion."""
    return ConditionFinding(
        concept, Source(f"Condition/{concept}", onset, concept), state, decides, onset
    )


def mentions(notes: Any, key: str) -> bool:
    """Whether any note has this code or a parameter with this value (the finding, analyte…)."""
    return any(n.code == key or key in n.params.values() for n in notes)


SURGERY = date(2024, 3, 1)


def resection(margin: Any = "R0", recurrence: Any = True, mvi: Any = True) -> Resection:
    """A hepatectomy with its margin, a later recurrence and MVI (``None``: not documented)."""
    source = Source("Procedure/hx", SURGERY, "hepatectomy")

    def documented(value: Any) -> Fact[Any] | None:
        return None if value is None else Fact(value, source)

    return Resection(source, SURGERY, documented(margin), documented(recurrence), documented(mvi))
