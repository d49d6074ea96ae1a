"""Cards from an assessment's JSON: the renderer formats what the core decided, it never decides.

The card is built as a *model* first (decision, at most three reasons, one line of key results,
what to obtain, what is missing or stale, what was not used, what a clinician confirms, one to
three evidence lines), then laid out by a template from ``cards/templates/`` with the words of the
message catalogue. Sources go into the card's ``links`` (type ``absolute``), never into the detail.
"""

from __future__ import annotations

import uuid
from typing import Any

from cds.render.messages import Messages, messages
from cds.render.orders import plan_actions, repeat_labs_label
from cds.render.templates import card_texts, evidence_catalogue, render_file, table_cell

SUMMARY_MAX = 139  # CDS Hooks: summary "<140 characters"
MAX_REASONS = 3
GAP_CODES = ("lab-missing", "lab-stale", "lab-unusable", "ecog-missing", "ecog-stale")
KIND_EXTENSION = "org.example.hcc-cds.card-kind"
RULES_EXTENSION = "org.example.hcc-cds.rules-version"
CODES_EXTENSION = "org.example.hcc-cds.reason-codes"  # the codes of the reasons on the card

Model = dict[str, Any]


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
    if option == "insufficient_data" and rec["tace_indicated"]:
        return "tace_combination_open"
    if option == "no_tace":
        if rec["advanced_stage_only"]:
            return "no_tace_advanced"
        return "no_tace_contraindicated" if rec["contraindicated"] else "no_tace_not_indicated"
    return str(option)


def lines(notes: list[dict[str, Any]], msgs: Messages) -> list[str]:
    return [table_cell(msgs.note(n)) for n in notes]


def key_results(a: dict[str, Any], msgs: Messages) -> str:
    """One line: Child-Pugh with class, ALBI grade, BCLC, mUICC and AJCC, each trial's status."""
    cp, albi, bclc = a["child_pugh"], a["albi"], a["bclc"]
    parts = [
        msgs.text("key.child-pugh", score=cp["score"], cls=cp["class"])
        if cp["score"] is not None
        else msgs.text(
            "key.child-pugh-range",
            low=cp["score_range"][0],
            high=cp["score_range"][1],
            cls=cp["class"],
        ),
        msgs.text("key.albi", grade=albi["grade"])
        if albi["grade"]
        else msgs.text("key.albi-unknown"),
        msgs.text("key.bclc", stage=bclc["stage"] + (bclc["substage"] or "")[1:])
        if bclc["stage"]
        else msgs.text("key.bclc-unknown"),
        msgs.text("key.muicc", stage=a["tnm"]["muicc"]["stage"]),
        msgs.text("key.ajcc", stage=a["tnm"]["ajcc8"]["stage"]),
    ]
    parts += [
        msgs.text("key.trial", trial=trial, status=msgs.text(f"overall.{e['status']}"))
        for trial, e in a["eligibility"].items()
    ]
    return table_cell(msgs.text("key.separator").join(parts))


NOT_USED_ABOVE = {"criterion-not-used-could-change": "trial.criteria-not-used"}


def trial_section(trial: str, e: dict[str, Any], msgs: Messages) -> Model:
    """A protocol's part of the card: its status, what decides it, and what to confirm."""
    by_id = {c["id"]: c for c in e["criteria"]}
    decisive = [by_id[i] for i in e["decisive"]]
    # Why a criterion is not met or an exclusion present/to review is said here; a lab that is
    # missing or stale is already named with its date in the card's missing or stale list, so
    # its criteria are named once, as unknown (a bare threshold would read as a result, or as met).
    # Likewise a result not used that would change a criterion is listed above with its date.
    listed_above = {**dict.fromkeys(GAP_CODES, "trial.criteria-gap"), **NOT_USED_ABOVE}
    shown = [
        table_cell(f"{msgs.note(c['label'])}: {msgs.note(c['reason'])}")
        for c in decisive
        if c["reason"]["code"] not in listed_above
    ]
    for message in dict.fromkeys(listed_above.values()):
        labels = [
            table_cell(msgs.note(c["label"]))
            for c in decisive
            if listed_above.get(c["reason"]["code"]) == message
        ]
        if labels:
            shown.append(msgs.text(message, labels=msgs.text("list.separator").join(labels)))
    # Inclusions the clinician confirms as present, and exclusions not documented that the
    # clinician confirms as absent: one list would read "confirms: HIV" as "has HIV".
    to_confirm = [by_id[i] for i in e["to_confirm"]] if e["status"] != "ineligible" else []
    confirm, confirm_absent = (
        [table_cell(msgs.note(c["label"])) for c in to_confirm if c["kind"] == kind]
        for kind in ("inclusion", "exclusion")
    )
    completed = (
        msgs.text("trial.completed", trial=trial, years=e["years"])
        if e["registry_status"] == "completed" and e["status"] != "ineligible"
        else ""
    )
    status = msgs.text(f"overall.{e['status']}")
    return {
        "heading": msgs.text("trial.section", trial=trial, status=status),
        "decisive": msgs.text("list.separator").join(shown),
        "confirm": confirm,
        "confirm_absent": confirm_absent,
        "completed": completed,
    }


def same(x: dict[str, Any], y: dict[str, Any]) -> bool:
    return bool(x["code"] == y["code"] and x["params"] == y["params"])


# What withholds the decision and is in the record but not used (future-dated, preliminary):
# listed "to check" in the record, apart from what is missing or stale and must be obtained.
TO_CHECK = {"not-used", "lab-unusable"}


def to_check_and_obtain(
    missing: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The recommendation's missing items: those to check in the record, those to obtain."""
    return (
        [m for m in missing if m["code"] in TO_CHECK],
        [m for m in missing if m["code"] not in TO_CHECK],
    )


def missing_lead(items: list[dict[str, Any]], msgs: Messages) -> dict[str, Any]:
    """What a summary says of the items to obtain or check: the first (its short form), how many,
    and which they are: results in the record to check, data to obtain, or both."""
    check, obtain = to_check_and_obtain(items)
    what = "obtain-or-check" if check and obtain else "check" if check else "obtain"
    return {
        "what": msgs.text(f"summary.what.{what}"),
        "first": msgs.short(items[0]),
        "count": len(items),
    }


def patient_model(a: dict[str, Any], kind: str, msgs: Messages) -> Model:
    rec = a["recommendation"]
    to_obtain = rec["missing"]
    check, obtain = to_check_and_obtain(to_obtain)
    gaps = [g for g in a["missing"] if not any(same(g, m) for m in to_obtain)]
    # a caution (renal insufficiency) comes right after the decision's first reason
    first, *rest = rec["reasons"]
    shown = [first, *rec["cautions"], *rest][:MAX_REASONS]
    reasons = lines(shown, msgs)
    decision = msgs.text(f"decision.{kind}")
    if kind in ("insufficient_data", "tace_combination_open") and to_obtain:
        summary = msgs.text(
            "summary.insufficient_data", decision=decision, **missing_lead(to_obtain, msgs)
        )
    else:
        summary = msgs.text(
            "summary.default", decision=decision, first=msgs.short(rec["reasons"][0])
        )
    trials = [trial_section(t, e, msgs) for t, e in a["eligibility"].items()]
    return {
        "kind": kind,
        "decision": decision,
        "reasons": reasons,
        "reason_codes": [r["code"] for r in shown],
        "summary": summary,
        "summary_count": len(to_obtain),
        "key": key_results(a, msgs),
        "to_check": lines(check, msgs),
        "to_obtain": lines(obtain, msgs),
        "gaps": lines(gaps, msgs),
        # a not-used result that withholds the decision is already listed to obtain or check
        "not_used": lines(
            [n for n in a["not_used"] if not any(same(n, m) for m in to_obtain)], msgs
        ),
        "flags": lines(a["flags"], msgs),
        "trials": trials,
        "data_problems": lines(a["data_problems"], msgs),
        "evidence": [table_cell(msgs.text(f"evidence.{e['id']}.line")) for e in rec["evidence"]],
        "footer": msgs.text("footer", version=a["rules_version"], as_of=a["as_of"]),
    }


def links(
    a: dict[str, Any], msgs: Messages, evidence_ids: list[str], app_launch_url: str | None = None
) -> list[dict[str, str]]:
    """Trial and guideline sources, opened by the EHR outside the chart; then the work-up app,
    which the EHR launches with the patient in context (no patient data in its URL)."""
    catalogue = evidence_catalogue()
    ids = [*evidence_ids, *(e["evidence"] for e in a["eligibility"].values())]
    unique = [i for n, i in enumerate(ids) if i in catalogue and i not in ids[:n]]
    found = [
        {"label": msgs.text(f"evidence.{i}.label"), "url": catalogue[i]["url"], "type": "absolute"}
        for i in unique
    ]
    if app_launch_url:
        found.append({"label": msgs.text("link.work-up"), "url": app_launch_url, "type": "smart"})
    return found


def source(evidence_id: str, msgs: Messages) -> dict[str, Any]:
    topic = dict(card_texts()["source"]["topic"], display=msgs.text("source.topic"))
    result = {"label": msgs.text("source.label"), "topic": topic}
    url = evidence_catalogue().get(evidence_id, {}).get("url")
    if url:
        result["url"] = url
    return result


def override_reasons(msgs: Messages) -> list[dict[str, str]]:
    return [
        {**r, "display": msgs.text(f"override.{r['code']}")}
        for r in card_texts()["overrideReasons"]
    ]


def suggestions(
    spec: dict[str, Any], a: dict[str, Any], patient_id: str, msgs: Messages
) -> list[dict[str, Any]]:
    hcc = a["hcc_diagnosis"]["resource"] if a["hcc_diagnosis"] else None
    result = []
    for s in spec["suggestions"]:
        actions = plan_actions(s["plan"], patient_id, hcc, a["labs_to_repeat"], msgs)
        if not actions:
            continue
        label = (
            repeat_labs_label(a["labs_to_repeat"], msgs)
            if s["plan"] == "repeat_labs"
            else msgs.text(f"suggestion.{s['label']}")
        )
        result.append(
            {
                "label": label,
                "uuid": str(uuid.uuid4()),
                "isRecommended": s["isRecommended"],
                "actions": actions,
            }
        )
    return result


def card(
    kind: str,
    model: Model,
    indicator: str,
    detail_md: str,
    a: dict[str, Any],
    msgs: Messages,
    src: dict[str, Any],
    suggestion_list: list[dict[str, Any]],
    link_list: list[dict[str, str]],
) -> dict[str, Any]:
    """One card with every required field; ``selectionBehavior`` only with suggestions."""
    result: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": shorten(model["summary"]),
        "indicator": indicator,
        "detail": detail_md,
        "source": src,
        "overrideReasons": override_reasons(msgs),
        "extension": {
            KIND_EXTENSION: kind,
            RULES_EXTENSION: a["rules_version"],
            CODES_EXTENSION: model["reason_codes"],
        },
    }
    if link_list:
        result["links"] = link_list
    if suggestion_list:
        result["suggestions"] = suggestion_list
        result["selectionBehavior"] = "at-most-one"
    return result


def patient_view_models(a: dict[str, Any], msgs: Messages | None = None) -> list[Model]:
    """The model of the patient-view card (none without HCC): what the card will say."""
    msgs = msgs or messages()
    kind = patient_view_kind(a)
    return [] if kind is None else [patient_model(a, kind, msgs)]


def patient_view_cards(
    a: dict[str, Any],
    patient_id: str,
    msgs: Messages | None = None,
    app_launch_url: str | None = None,
) -> list[dict[str, Any]]:
    """The patient-view card for an assessment (none without HCC); with the work-up app's
    launch URL, the card links to the app (a ``smart`` link) beside the evidence."""
    msgs = msgs or messages()
    cards = []
    for model in patient_view_models(a, msgs):
        kind = model["kind"]
        spec = card_texts()["patient-view"][kind]
        detail_md = render_file("patient-detail.md.j2", msgs, m=model)
        evidence_ids = [e["id"] for e in a["recommendation"]["evidence"]]
        cards.append(
            card(
                kind,
                model,
                # a TACE suggestion with a caution to weigh is a warning, not an info card
                "warning" if a["recommendation"]["cautions"] else spec["indicator"],
                detail_md,
                a,
                msgs,
                source(spec["evidence"], msgs),
                suggestions(spec, a, patient_id, msgs),
                links(a, msgs, evidence_ids, app_launch_url),
            )
        )
    return cards
