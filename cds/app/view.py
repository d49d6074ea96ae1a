"""The one adapter between the pipeline's assessment and the work-up page.

It reads the assessment JSON (``cds assess --json``, schema_version 1) and the trends, and
gives the template a view model of plain values: sections with rows, each value with its
source. When the assessment JSON changes schema, this module is the only one to change.
"""

from __future__ import annotations

from typing import Any

from cds.app.pages import texts
from cds.app.svg import plot
from cds.app.trends import Series, Trends

View = dict[str, Any]


def source_text(src: dict[str, Any] | None) -> str:
    if not src:
        return ""
    return f"{src['original']} ({src['resource']}, {src['date'] or 'undated'})"


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
                "basis": c["basis"],
                "source": source_text(c["source"]),
                "flag": c["flag"] or "",
            }
            for c in cp["components"]
        ],
        "missing": cp["missing"],
    }


def protocols(a: dict[str, Any]) -> list[View]:
    status = texts()["status"]
    kinds = texts()["kinds"]
    return [
        {
            "id": trial,
            "status": status.get(e["status"], e["status"]),
            "rows": [
                {
                    "kind": kinds.get(c["kind"], c["kind"]),
                    "text": c["text"],
                    "status": status[c["status"]],
                    "status_code": c["status"],
                    "reason": c["reason"],
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
            "option": t["option"][rec["option"]],
            "option_code": rec["option"],
            "reasons": rec["reasons"],
            "alternatives": rec["alternatives"],
            "missing": rec["missing"],
            "evidence": rec["evidence"],
        },
        "child_pugh": child_pugh(a["child_pugh"]),
        "albi": {
            **{k: a["albi"][k] for k in ("score", "grade", "bilirubin_umol_l", "albumin_g_l")},
            "sources": [source_text(s) for s in a["albi"]["sources"]],
            "missing": a["albi"]["missing"],
        },
        "bclc": a["bclc"],
        "ajcc8": a["tnm"]["ajcc8"],
        "muicc": a["tnm"]["muicc"],
        "protocols": protocols(a),
        "peng": a["peng_2024_population"],
        "labs": [
            {
                "name": t["labs"].get(lab["name"], lab["name"]),
                "value": "" if lab["value"] is None else f"{round(lab['value'], 2):g}",
                "unit": lab["unit"] or "",
                "source": source_text(lab["source"]),
                "problem": lab["problem"] or "",
            }
            for lab in a["inputs"]["labs"]
        ],
        "tumour": [
            {"finding": f["finding"], "source": source_text(f.get("source"))}
            for f in a["inputs"]["tumour_findings"]
        ],
        "missing": a["missing"],
        "not_used": a["data_problems"],
        "trends": {
            "window": t["trends"]["window"].format(
                months=trends.months, start=trends.start, end=trends.end
            ),
            "labs": [trend(s, trends) for s in trends.labs],
            "scores": [trend(trends.child_pugh, trends), trend(trends.albi, trends)],
            "tumour_size": trend(trends.tumour_size, trends),
            "timeline": trends.timeline,
        },
    }
