"""The assessment as plain JSON with stable keys (documented in the README)."""

from __future__ import annotations

import enum
import json
from functools import cache
from typing import Any

from cds.clinical.assessment import Assessment
from cds.clinical.child_pugh import ChildPugh
from cds.clinical.eligibility import Eligibility
from cds.clinical.evidence import Fact, Lab, Source
from cds.clinical.inputs import PatientInputs
from cds.clinical.tumour import documented_findings
from cds.paths import data_dir

SCHEMA_VERSION = 1


@cache
def evidence_catalogue() -> dict[str, dict[str, str]]:
    """Trial evidence texts from ``cards/evidence.json``."""
    return json.loads((data_dir("cards") / "evidence.json").read_text(encoding="utf-8"))


def source(s: Source | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "resource": s.resource,
        "date": s.date.isoformat() if s.date else None,
        "original": s.original,
    }


def lab(name: str, value: Lab | None) -> dict[str, Any]:
    if value is None:
        return {
            "name": name,
            "value": None,
            "unit": None,
            "problem": "no result",
            "uln": None,
            "uln_assumed": False,
            "source": None,
        }
    return {
        "name": name,
        "value": value.value,
        "unit": value.unit,
        "problem": value.problem,
        "uln": value.uln,
        "uln_assumed": value.uln_assumed if value.uln is None else False,
        "source": source(value.source),
    }


def child_pugh(cp: ChildPugh) -> dict[str, Any]:
    return {
        "score": cp.score,
        "score_range": list(cp.score_range),
        "class": cp.cls,
        "points": cp.points(),
        "cholestatic_variant": cp.cholestatic,
        "components": [
            {
                "name": c.name,
                "points": c.points,
                "basis": c.basis,
                "source": source(c.source),
                "flag": c.flag,
            }
            for c in cp.components
        ],
        "missing": list(cp.missing),
    }


def eligibility(e: Eligibility) -> dict[str, Any]:
    return {
        "status": e.status,
        "criteria": [
            {
                "id": r.criterion.id,
                "kind": r.criterion.kind,
                "text": r.criterion.text,
                "status": r.judgement.status.value,
                "reason": r.judgement.reason,
                "sources": [source(s) for s in r.judgement.sources],
            }
            for r in e.results
        ],
    }


def fact(f: Fact[Any] | None) -> dict[str, Any] | None:
    if f is None:
        return None
    value = f.value
    if isinstance(value, enum.Enum):  # Vp/Vv grades and patterns as their project codes
        value = value.name.lower().replace("_", "-")
    return {"value": value, "source": source(f.source)}


def peng_sources(inputs: PatientInputs) -> dict[str, Any]:
    """Where each part of the Peng population came from (the hepatectomy and its pathology)."""
    r = inputs.resection
    if r is None:
        return {"hepatectomy": [source(s) for s in inputs.resection_hints] or None}
    return {
        "hepatectomy": source(r.procedure),
        "r0_margin": source(r.margin.source) if r.margin else None,
        "microvascular_invasion": source(r.microvascular_invasion.source)
        if r.microvascular_invasion
        else None,
        "recurrence": source(r.recurrence.source) if r.recurrence else None,
    }


def to_json(a: Assessment) -> dict[str, Any]:
    """The whole assessment; keys listed in the README are stable."""
    inputs, rec = a.inputs, a.recommendation
    catalogue = evidence_catalogue()
    tumour = inputs.tumour
    return {
        "schema_version": SCHEMA_VERSION,
        "patient": inputs.patient,
        "as_of": a.as_of.isoformat(),
        "hcc": a.has_hcc,
        "hcc_status": a.hcc_status.value,
        "hcc_diagnosis": source(inputs.hcc),
        "child_pugh": child_pugh(a.child_pugh),
        "albi": {
            "score": a.albi.score,
            "grade": a.albi.grade,
            "bilirubin_umol_l": a.albi.bilirubin_umol_l,
            "albumin_g_l": a.albi.albumin_g_l,
            "sources": [source(s) for s in a.albi.sources],
            "missing": list(a.albi.missing),
        },
        "bclc": {
            "stage": a.bclc.stage,
            "substage": a.bclc.substage,
            "liver_function": a.bclc.liver_function,
            "reasons": list(a.bclc.reasons),
            "missing": list(a.bclc.missing),
        },
        "tnm": {
            "ajcc8": {
                "t": a.ajcc8.t,
                "n": a.ajcc8.n,
                "m": a.ajcc8.m,
                "stage": a.ajcc8.stage,
                "missing": list(a.ajcc8.missing),
            },
            "muicc": {
                "t": a.muicc.t,
                "stage": a.muicc.stage,
                "criteria": {k: v.value for k, v in a.muicc.criteria.items()},
                "missing": list(a.muicc.missing),
            },
        },
        "eligibility": {a.eligibility.trial: eligibility(a.eligibility)},
        "peng_2024_population": {
            "sources": peng_sources(inputs),
            "status": a.peng.status.value,
            "criteria": {k: v.value for k, v in a.peng.criteria.items()},
            "missing": list(a.peng.missing),
        },
        "recommendation": {
            "option": rec.option,
            "reasons": list(rec.reasons),
            "alternatives": list(rec.alternatives),
            "protocol_option": rec.protocol_option,
            "contraindicated": rec.contraindicated,
            "missing": list(rec.missing),
            "evidence": [{"id": e, **catalogue[e]} for e in rec.evidence],
        },
        "inputs": {
            "age_birth_date": inputs.birth_date.isoformat() if inputs.birth_date else None,
            "labs": [lab(n, getattr(inputs.labs, n)) for n in inputs.labs.__dataclass_fields__],
            "ecog": fact(inputs.ecog),
            "tumour": {name: fact(getattr(tumour, name)) for name in tumour.__dataclass_fields__},
            "tumour_findings": [
                {"finding": label, **(fact(f) or {})} for label, f in documented_findings(tumour)
            ],
            "exclusions_documented": {k: source(v) for k, v in inputs.exclusions.items()},
            "exclusions_to_review": {k: source(v) for k, v in inputs.exclusions_to_review.items()},
        },
        "missing": all_missing(a),
        "data_problems": list(inputs.data_problems),
    }


def all_missing(a: Assessment) -> list[str]:
    """Everything missing or stale, once each, in the order the sections report it."""
    found: list[str] = []
    criteria = [
        f"NCT00919009 {r.criterion.id}: {r.judgement.reason}"
        for r in a.eligibility.results
        if r.judgement.status.value == "unknown"
    ]
    for item in (
        *a.child_pugh.missing,
        *a.albi.missing,
        *a.bclc.missing,
        *a.ajcc8.missing,
        *a.muicc.missing,
        *a.recommendation.missing,
        *criteria,
    ):
        if item not in found:
            found.append(item)
    return found
