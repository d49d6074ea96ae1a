"""The one adapter between the pipeline's assessment and the work-up page.

It reads the assessment JSON (``cds assess --json``, schema_version 2: every result a
``{code, params, text}`` item whose ``text`` the catalogue rendered, docs/assess-schema-v2.json)
and the trends, and gives the template a view model of plain values: sections with rows, each
value with its source. When the assessment JSON changes schema, this module is the only one to
change.
"""

from __future__ import annotations

from typing import Any

from cds.app.pages import texts
from cds.app.svg import plot
from cds.app.trends import Series, Trends
from cds.render.messages import messages

View = dict[str, Any]


def source_text(src: dict[str, Any] | None) -> str:
    if not src:
        return ""
    return f"{src['original']} ({src['resource']}, {src['date'] or 'undated'})"


def text(item: Any) -> str:
    """A result item's rendered text (``""`` for none); a plain string as it is."""
    if item is None:
        return ""
    return str(item["text"]) if isinstance(item, dict) else str(item)


def texts_of(items: list[Any]) -> list[str]:
    return [text(i) for i in items]


def basis(component: dict[str, Any]) -> str:
    """What a Child-Pugh component was scored on: the value in its unit, or the grade."""
    if component.get("value") is not None:
        unit = component.get("unit") or ""
        shown_unit = "" if unit == "1" else unit  # UCUM's unity (INR) is no unit to a reader
        return f"{round(component['value'], 2):g} {shown_unit}".strip()
    severity = component.get("severity")
    return named("severity", severity) if severity else ""


def named(prefix: str, value: Any) -> str:
    """An identifier (a finding, a grade, a lab problem) by its catalogue name."""
    msgs = messages()
    key = f"{prefix}.{value}"
    return msgs.text(key) if msgs.has(key) else str(value)


def lab_problem(problem: Any) -> str:
    if problem is None or isinstance(problem, dict):
        return text(problem)
    return named("lab-problem", problem)


def dash(value: Any) -> str:
    return texts()["fields"]["undetermined"] if value is None else str(value)


def child_pugh(cp: dict[str, Any]) -> View:
    low, high = cp["score_range"]
    return {
        "score": cp["score"],
        "range": f"{low}" if low == high else f"{low}–{high}",
        "class": dash(cp["class"]),
        "cholestatic": cp["cholestatic_variant"],
        "rows": [
            {
                "name": texts()["components"].get(c["name"], c["name"]),
                "points": dash(c["points"]),
                "basis": basis(c),
                "source": source_text(c["source"]),
                "flag": "; ".join(t for t in (text(c["flag"]), text(c.get("missing"))) if t),
            }
            for c in cp["components"]
        ],
        "missing": texts_of(cp["missing"]),
    }


def protocols(a: dict[str, Any]) -> list[View]:
    """Every criterion of every protocol the assessment judged (the registry's protocols,
    cds/clinical/protocols), in the protocol's order."""
    status = texts()["status"]
    kinds = texts()["kinds"]
    return [
        {
            "id": trial,
            "status": status.get(e["status"], e["status"]),
            "rows": [
                {
                    "kind": kinds.get(c["kind"], c["kind"]),
                    "text": text(c["label"]),
                    "source_text": c["source_text"],
                    "status": status.get(c["status"]) or named("status", c["status"]),
                    "status_code": c["status"],
                    "reason": text(c["reason"]),
                    "sources": [source_text(s) for s in c["sources"]],
                }
                for c in e["criteria"]
            ],
        }
        for trial, e in a["eligibility"].items()
    ]


def trend(series: Series, trends: Trends, title_key: str | None = None) -> View:
    t = texts()["trends"]
    spec = t[title_key or series.key]
    labels = {
        c.key: t["cutoffs"][c.key].format(uln=f"{c.uln:g}" if c.uln else "") for c in series.cutoffs
    }
    return {
        "key": series.key,
        "title": spec["title"],
        "unit": spec["unit"],
        "svg": plot(series, trends.start, trends.end, spec["title"], spec["unit"], labels),
        "points": series.points,
        # Values and the dates where the score could not be computed, in date order.
        "rows": sorted(
            [{"day": p.day, "point": p} for p in series.points]
            + [
                {"day": g.day, "gap": t["not_computed"].format(low=g.low, high=g.high, why=g.why)}
                for g in series.gaps
            ],
            key=lambda row: row["day"],
        ),
        "cutoffs": [labels[c.key] for c in series.cutoffs],
        "unusable": series.unusable,
    }


def workup_view(a: dict[str, Any], trends: Trends, unobtainable: dict[str, str]) -> View:
    """The page's view model from the assessment JSON, the trends and what was not loaded."""
    t = texts()
    rec = a["recommendation"]
    keys = t["prefetch_keys"]
    return {
        "patient": a["patient"],
        "as_of": a["as_of"],
        "partial": [f"{keys.get(k.split(' ')[0], k)}: {why}" for k, why in unobtainable.items()],
        "recommendation": {
            # insufficient data that bears only on adding sorafenib: TACE either way
            "option": t["option"][
                "tace_combination_open" if rec["tace_indicated"] else rec["option"]
            ],
            "option_code": rec["option"],
            "reasons": texts_of(rec["reasons"]),
            "alternatives": texts_of(rec["alternatives"]),
            "missing": texts_of(rec["missing"]),
            "evidence": rec["evidence"],
        },
        "rules_version": a["rules_version"],
        "child_pugh": child_pugh(a["child_pugh"]),
        "albi": {
            **{k: a["albi"][k] for k in ("score", "grade", "bilirubin_umol_l", "albumin_g_l")},
            "sources": [source_text(s) for s in a["albi"]["sources"]],
            "missing": texts_of(a["albi"]["missing"]),
        },
        "bclc": {
            **a["bclc"],
            "reasons": texts_of(a["bclc"]["reasons"]),
            "missing": texts_of(a["bclc"]["missing"]),
        },
        "ajcc8": {**a["tnm"]["ajcc8"], "missing": texts_of(a["tnm"]["ajcc8"]["missing"])},
        "muicc": {**a["tnm"]["muicc"], "missing": texts_of(a["tnm"]["muicc"]["missing"])},
        "protocols": protocols(a),
        "peng": {
            **a["peng_2024_population"],
            "missing": texts_of(a["peng_2024_population"]["missing"]),
        },
        "labs": [
            {
                "name": t["labs"].get(lab["name"], lab["name"]),
                "value": "" if lab["value"] is None else f"{round(lab['value'], 2):g}",
                "unit": lab["unit"] or "",
                "source": source_text(lab["source"]),
                "problem": lab_problem(lab["problem"]),
            }
            for lab in a["inputs"]["labs"]
        ],
        "tumour": [
            {
                "finding": named("finding", f["finding"]),
                "source": source_text(f.get("source")),
            }
            for f in a["inputs"]["tumour_findings"]
        ],
        "missing": texts_of(a["missing"]),
        "not_used": texts_of(a["not_used"]) + texts_of(a["data_problems"]),
        "trends": {
            "window": t["trends"]["window"].format(
                months=trends.months, start=trends.start, end=trends.end
            ),
            "labs": [trend(s, trends) for s in trends.labs],
            "scores": [trend(trends.child_pugh, trends), trend(trends.albi, trends)],
            "tumour_size": trend(trends.tumour_size, trends),
            "timeline": [
                (day, [(named("finding", key), value) for key, value in findings])
                for day, findings in trends.timeline
            ],
        },
    }
