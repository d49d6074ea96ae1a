"""Cards from an assessment: the kind is a lookup on the result; all text comes from cards/."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date
from typing import Any

from cds.app.link import smart_link
from cds.clinical.nct00919009 import LAB_WINDOW_DAYS
from cds.render.orders import LAB_NAMES, plan_actions
from cds.render.templates import card_texts, render_file, render_string

SUMMARY_MAX = 139  # CDS Hooks: summary "<140 characters"


def shorten(text: str, limit: int = SUMMARY_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,;:") + "…"


def patient_view_kind(a: dict[str, Any]) -> str | None:
    """Which card an assessment gets; ``None`` for a patient without HCC (no card at all)."""
    rec = a["recommendation"]
    option = rec["option"]
    if option == "not_applicable":
        return None
    if option == "tace" and rec["protocol_option"]:
        return "tace_protocol"
    if option == "no_tace":
        return "no_tace_contraindicated" if rec["contraindicated"] else "no_tace_not_indicated"
    return str(option)


def flags(a: dict[str, Any]) -> list[str]:
    """What was scored by convention or assumed: the card must say so."""
    found = [f"{c['name']}: {c['flag']}" for c in a["child_pugh"]["components"] if c["flag"]]
    found += [
        f"{lab['name']}: ULN assumed (no reference range)"
        for lab in a["inputs"]["labs"]
        if lab.get("uln_assumed") and lab["name"] in ("ast", "alt", "creatinine")
    ]
    undocumented = [
        c["text"]
        for c in a["eligibility"]["NCT00919009"]["criteria"]
        if c["kind"] == "exclusion" and c["status"] == "met"
    ]
    if undocumented:
        found.append(
            "trial exclusions not documented, confirm with the patient: " + ", ".join(undocumented)
        )
    low, high = a["child_pugh"]["score_range"]
    if a["bclc"]["liver_function"] == "preserved" and high >= 7:
        shown = f"{low}" if low == high else f"{low}–{high}"
        found.append(
            f"Child-Pugh {shown} (class B possible) read as preserved liver function "
            "for BCLC: review"
        )
    return found


def criteria_counts(a: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per kind (inclusion, exclusion), how many criteria are met, not met and unknown."""
    counts = {kind: Counter() for kind in ("inclusion", "exclusion")}
    for c in a["eligibility"]["NCT00919009"]["criteria"]:
        counts[c["kind"]][c["status"]] += 1
    return {
        kind: {s: n.get(s, 0) for s in ("met", "not_met", "unknown")} for kind, n in counts.items()
    }


def detail(a: dict[str, Any]) -> str:
    return render_file("assessment-detail.md.j2", a=a, counts=criteria_counts(a), flags=flags(a))


def source(evidence_id: str, a: dict[str, Any]) -> dict[str, Any]:
    texts = card_texts()
    catalogue = {e["id"]: e for e in a["recommendation"]["evidence"]}
    url = catalogue.get(evidence_id, {}).get("url")
    result = {"label": texts["source"]["label"], "topic": texts["source"]["topic"]}
    if url:
        result["url"] = url
    return result


def labs_to_repeat(a: dict[str, Any]) -> list[str]:
    """Labs with no usable result, or older than the trial's 7-day window, that can be ordered."""
    as_of = date.fromisoformat(a["as_of"])
    repeat = []
    for lab in a["inputs"]["labs"]:
        if lab["name"] not in LAB_NAMES:
            continue
        when = lab["source"]["date"] if lab["source"] else None
        too_old = when is None or (as_of - date.fromisoformat(when)).days > LAB_WINDOW_DAYS
        if lab["value"] is None or too_old:
            repeat.append(lab["name"])
    return repeat


def suggestions(spec: dict[str, Any], a: dict[str, Any], patient_id: str) -> list[dict[str, Any]]:
    hcc = a["hcc_diagnosis"]["resource"] if a["hcc_diagnosis"] else None
    repeat = labs_to_repeat(a)
    result = []
    for s in spec["suggestions"]:
        actions = plan_actions(s["plan"], patient_id, hcc, repeat)
        if not actions:
            continue
        result.append(
            {
                "label": s["label"],
                "uuid": str(uuid.uuid4()),
                "isRecommended": s["isRecommended"],
                "actions": actions,
            }
        )
    return result


def card(
    kind: str,
    summary: str,
    indicator: str,
    detail_md: str,
    src: dict[str, Any],
    suggestion_list: list[dict[str, Any]],
) -> dict[str, Any]:
    """One card with every required field; ``selectionBehavior`` only with suggestions."""
    result: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": shorten(summary),
        "indicator": indicator,
        "detail": detail_md,
        "source": src,
        "overrideReasons": card_texts()["overrideReasons"],
        "extension": {"org.example.hcc-cds.card-kind": kind},
    }
    if suggestion_list:
        result["suggestions"] = suggestion_list
        result["selectionBehavior"] = "at-most-one"
    return result


def patient_view_cards(
    a: dict[str, Any], patient_id: str, app_launch_url: str | None = None
) -> list[dict[str, Any]]:
    """The patient-view card for an assessment (none without HCC); with the work-up app's
    launch URL, the card links to the app."""
    kind = patient_view_kind(a)
    if kind is None:
        return []
    spec = card_texts()["patient-view"][kind]
    rec = a["recommendation"]
    summary = render_string(spec["summary"], reasons=rec["reasons"], missing=rec["missing"])
    result = card(
        kind,
        summary,
        spec["indicator"],
        detail(a),
        source(spec["evidence"], a),
        suggestions(spec, a, patient_id),
    )
    if app_launch_url:
        result["links"] = [smart_link(app_launch_url)]
    return [result]


def order_cards(verdicts: list[Any], a: dict[str, Any]) -> list[dict[str, Any]]:
    """One card per draft order checked."""
    texts = card_texts()
    cards = []
    for v in verdicts:
        spec = texts["order-check"][v.outcome]
        name = texts["order_names"][v.order]
        summary = render_string(spec["summary"], order_name=name, reasons=list(v.reasons) or [""])
        rec = a["recommendation"]
        with_sorafenib = rec["option"] == "tace_plus_sorafenib" or rec["protocol_option"]
        body = render_file(
            "order-detail.md.j2",
            verdict=v,
            order_name=name,
            a=a,
            assessment=detail(a),
            with_sorafenib=with_sorafenib,
        )
        cards.append(
            card(
                f"order-{v.order}-{v.outcome}",
                summary,
                spec["indicator"],
                body,
                source("NCT00919009", a),
                [],
            )
        )
    return cards
