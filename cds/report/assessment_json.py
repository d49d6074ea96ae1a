"""The assessment as plain JSON, ``schema_version`` 2 (docs/assess-schema-v2.json; README).

Every reason, flag, missing or not-used item is ``{"code", "params", "text"}``: the code and its
parameters as the clinical core returned them, and the text rendered from the message catalogue.
Statuses are enumerated values; ``rules_version`` names the clinical rules that produced it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from cds.clinical.assessment import Assessment
from cds.clinical.child_pugh import ChildPugh
from cds.clinical.eligibility import Eligibility
from cds.clinical.evidence import Fact, Lab, Source
from cds.clinical.inputs import PatientInputs
from cds.clinical.notes import Note, note
from cds.clinical.tumour import documented_findings
from cds.render.messages import Messages, messages
from cds.render.templates import evidence_catalogue

SCHEMA_VERSION = 2


def plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def item(n: Note, msgs: Messages) -> dict[str, Any]:
    return {
        "code": n.code,
        "params": {k: plain(v) for k, v in n.params.items()},
        "text": msgs.note(n),
    }


def items(notes: Iterable[Note], msgs: Messages) -> list[dict[str, Any]]:
    return [item(n, msgs) for n in notes]


def source(s: Source | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "resource": s.resource,
        "date": s.date.isoformat() if s.date else None,
        "original": s.original,
    }


def lab(name: str, value: Lab | None, state: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": None if value is None else value.value,
        "unit": None if value is None else value.unit,
        "reported_value": None if value is None else value.reported_value,
        "reported_unit": None if value is None else value.reported_unit,
        "state": state,
        "problem": None if value is None else value.problem,
        "uln": None if value is None else value.uln,
        "uln_assumed": False if value is None else value.uln is None,
        "source": None if value is None else source(value.source),
    }


def child_pugh(cp: ChildPugh, msgs: Messages) -> dict[str, Any]:
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
                "value": c.value,
                "unit": c.unit or None,
                "severity": c.severity.name.lower() if c.severity else None,
                "source": source(c.source),
                "flag": item(c.flag, msgs) if c.flag else None,
                "missing": item(c.missing, msgs) if c.missing else None,
            }
            for c in cp.components
        ],
        "missing": items(cp.missing, msgs),
    }


def eligibility(e: Eligibility, msgs: Messages) -> dict[str, Any]:
    p = e.protocol
    return {
        "status": e.status,
        "registry_status": p.registry_status,
        "years": p.years,
        "evidence": p.evidence,
        "to_confirm": [r.criterion.id for r in e.to_confirm],
        "decisive": [r.criterion.id for r in e.decisive],
        "criteria": [
            {
                "id": r.criterion.id,
                "kind": r.criterion.kind,
                "judged_by": r.criterion.judged_by,
                "source_text": r.criterion.source_text,
                "label": item(r.criterion.label, msgs),
                "status": r.judgement.status.value,
                "reason": item(r.judgement.reason, msgs),
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


def evidence(ids: Iterable[str], msgs: Messages) -> list[dict[str, Any]]:
    catalogue = evidence_catalogue()
    return [
        {
            "id": e,
            "url": catalogue[e]["url"],
            "label": msgs.text(f"evidence.{e}.label"),
            "line": msgs.text(f"evidence.{e}.line"),
        }
        for e in ids
    ]


def to_json(a: Assessment, msgs: Messages | None = None) -> dict[str, Any]:
    """The whole assessment; keys listed in the README are stable."""
    msgs = msgs or messages()
    inputs, rec = a.inputs, a.recommendation
    tumour = inputs.tumour
    return {
        "schema_version": SCHEMA_VERSION,
        "rules_version": a.rules_version,
        "locale": msgs.locale,
        "patient": inputs.patient,
        "as_of": a.as_of.isoformat(),
        "hcc": a.has_hcc,
        "hcc_status": a.hcc_status.value,
        "hcc_diagnosis": source(inputs.hcc),
        "child_pugh": child_pugh(a.child_pugh, msgs),
        "albi": {
            "score": a.albi.score,
            "grade": a.albi.grade,
            "bilirubin_umol_l": a.albi.bilirubin_umol_l,
            "albumin_g_l": a.albi.albumin_g_l,
            "sources": [source(s) for s in a.albi.sources],
            "missing": items(a.albi.missing, msgs),
        },
        "bclc": {
            "stage": a.bclc.stage,
            "substage": a.bclc.substage,
            "liver_function": a.bclc.liver_function,
            "reasons": items(a.bclc.reasons, msgs),
            "missing": items(a.bclc.missing, msgs),
        },
        "tnm": {
            "ajcc8": {
                "t": a.ajcc8.t,
                "n": a.ajcc8.n,
                "m": a.ajcc8.m,
                "stage": a.ajcc8.stage,
                "missing": items(a.ajcc8.missing, msgs),
            },
            "muicc": {
                "t": a.muicc.t,
                "stage": a.muicc.stage,
                "criteria": {k: v.value for k, v in a.muicc.criteria.items()},
                "missing": items(a.muicc.missing, msgs),
            },
        },
        "eligibility": {t.trial: eligibility(t, msgs) for t in a.trials},
        "peng_2024_population": {
            "sources": peng_sources(inputs),
            "status": a.peng.status.value,
            "criteria": {k: v.value for k, v in a.peng.criteria.items()},
            "missing": items(a.peng.missing, msgs),
        },
        "recommendation": {
            "option": rec.option.value,
            "reasons": items(rec.reasons, msgs),
            "alternatives": [o.value for o in rec.alternatives],
            "protocol_option": rec.protocol_option,
            "contraindicated": rec.contraindicated,
            "advanced_stage_only": rec.advanced_stage_only,
            "tace_indicated": rec.tace_indicated,
            "missing": items(rec.missing, msgs),
            "cautions": items(a.tace_cautions, msgs),
            "evidence": evidence(rec.evidence, msgs),
        },
        "inputs": {
            "age_birth_date": inputs.birth_date.isoformat() if inputs.birth_date else None,
            "labs": [lab(r.analyte, r.lab, r.state) for r in a.labs],
            "ecog": fact(inputs.ecog),
            "tumour": {name: fact(getattr(tumour, name)) for name in tumour.__dataclass_fields__},
            "tumour_findings": [
                {"finding": name, **(fact(f) or {})} for name, f in documented_findings(tumour)
            ],
            "condition_findings": [
                {
                    "concept": f.concept,
                    "state": f.state.value,
                    "decides": f.decides,
                    "source": source(f.source),
                }
                for f in inputs.condition_findings
            ],
        },
        "flags": items(a.flags, msgs),
        "missing": items(a.gaps, msgs),
        "labs_to_repeat": list(a.labs_to_repeat),
        "not_used": items(a.not_used, msgs),
        "not_used_decisive": items(a.not_used_decisive, msgs),
        "data_problems": items(
            (note("data-problem", detail=p) for p in inputs.data_problems), msgs
        ),
    }
