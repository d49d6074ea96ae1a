"""Order-check cards: one card per judged draft, in the patient-view card's concise design.

Each card names the draft it judges (drug or procedure, the ordered dose, its ``Type/id``, and
"recognised from text" when so), says "with TACE" only when a TACE counts, and gives the dose
finding on every sorafenib card. A critical card offers a suggestion that removes the draft
(``delete`` with its ``resourceId``); a card missing data that matters offers the lab orders that
would settle it. The machine-readable facts go into the ``org.example.hcc-cds.order`` extension.
"""

from __future__ import annotations

import uuid
from typing import Any

from cds.clinical.draft_orders import Recognition
from cds.clinical.order_check import OrderVerdict
from cds.clinical.sorafenib_dose import RANK, DoseFinding, OrderedDose, WrittenPart
from cds.render.cards import (
    MAX_REASONS,
    SUMMARY_MAX,
    card,
    key_results,
    links,
    missing_lead,
    source,
    to_check_and_obtain,
)
from cds.render.messages import Messages, messages, number
from cds.render.orders import plan_actions, repeat_labs_label
from cds.render.templates import render_file, table_cell

ORDER_EXTENSION = "org.example.hcc-cds.order"  # the draft judged, how, with TACE, the dose

Model = dict[str, Any]


# Timings with a name of their own: (administrations, period, period unit) → catalogue
# ``timing.<name>``; any other is worded "N times every P <unit>" (``timing.every``).
NAMED_TIMINGS = {
    (1, 1, "d"): "once-daily",
    (2, 1, "d"): "twice-daily",
    (3, 1, "d"): "three-times-daily",
    (4, 1, "d"): "four-times-daily",
    (1, 2, "d"): "every-other-day",
}
TABLETS = "{tbl}"


def timing_words(part: WrittenPart, msgs: Messages) -> str:
    named = NAMED_TIMINGS.get((part.times, part.period, part.period_unit))
    if named is not None:
        return msgs.text(f"timing.{named}")
    one = part.period == 1
    unit = msgs.text(f"period-unit.{part.period_unit}", one=one)
    return msgs.text(
        "timing.every", times=part.times, period=number(part.period), one=one, unit=unit
    )


def amount_words(part: WrittenPart, msgs: Messages) -> str:
    value = number(part.value)
    if part.unit == TABLETS:
        return msgs.text("dose-amount.tablets", value=value, one=part.value == 1)
    key = f"dose-unit.{part.unit}"
    unit = msgs.text(key) if msgs.has(key) else part.unit  # a UCUM mass unit, as written
    return msgs.text("dose-amount.mass", value=value, unit=unit)


def dose_words(dose: OrderedDose, msgs: Messages) -> str:
    """A regimen as a clinician writes it: "800 mg twice daily", "400 mg every other day"."""
    return msgs.text("dose.parts-separator").join(
        msgs.text("dose.written", amount=amount_words(p, msgs), timing=timing_words(p, msgs))
        for p in dose.as_written
    )


def written_dose(v: OrderVerdict, msgs: Messages) -> str | None:
    """The dose as the order wrote it (the regimen judged), for the draft line."""
    if v.dose is not None and v.dose.ordered is not None:
        return dose_words(v.dose.ordered, msgs)
    return None


def draft_line(v: OrderVerdict, msgs: Messages) -> str:
    order = v.order
    return table_cell(
        msgs.text(
            "order.draft",
            name=msgs.text(f"order-name.{order.kind}"),
            dose=written_dose(v, msgs),
            resource=order.resource_id,
            from_text=order.recognised_by is Recognition.TEXT,
            matched=order.matched,
        )
    )


def with_tace_line(v: OrderVerdict, msgs: Messages) -> str:
    t = v.with_tace
    if t is None:
        return ""
    date = t.performed.isoformat() if t.performed else None
    return msgs.text(f"order.with-tace.{t.kind}", resource=t.resource, date=date)


def dose_params(dose: DoseFinding, msgs: Messages) -> dict[str, Any]:
    """What the dose messages name, worded: the ordered regimen, mg/day, the problem, the text."""
    return {
        "name": msgs.text("order-name.sorafenib"),
        "ordered": dose_words(dose.ordered, msgs) if dose.ordered else None,
        "daily": (
            msgs.text("dose.mg-per-day", mg=round(dose.mg_per_day))
            if dose.mg_per_day is not None
            else None
        ),
        "problem": msgs.text(f"dose-problem.{dose.problem.value}") if dose.problem else None,
        "text": dose.text,
    }


def dose_line(dose: DoseFinding | None, msgs: Messages) -> str:
    if dose is None:
        return ""
    return table_cell(msgs.text(f"dose.{dose.code.value}", **dose_params(dose, msgs)))


def fitted(text: str, room: int) -> str:
    """The order's own words cut to ``room`` characters (the summary must stay < 140)."""
    text = " ".join(text.split())
    return text if len(text) <= room else text[: max(room - 1, 0)].rstrip() + "…"


def dose_lead(dose: DoseFinding, msgs: Messages) -> tuple[str, str]:
    """(summary, detail's first line) of a card whose dose decides it: the dose finding; a dose
    written in words is quoted whole in the detail, and as far as there is room in the summary."""
    params = dose_params(dose, msgs)
    code = dose.code.value
    finding = msgs.text(f"dose-finding.{code}", **params)

    def lead(text: str | None) -> str:
        return msgs.text(f"dose-lead.{code}", **{**params, "text": text})

    first = msgs.text(
        "order.dose-decides", lead=table_cell(lead(dose.text)), finding=table_cell(finding)
    )
    room = SUMMARY_MAX - len(msgs.text("summary.order-dose", lead=lead(""), finding=finding))
    short = lead(fitted(dose.text, room) if dose.text is not None else None)
    return msgs.text("summary.order-dose", lead=short, finding=finding), first


def summary(
    v: OrderVerdict, missing: list[dict[str, Any]], name: str, outcome: str, msgs: Messages
) -> str:
    """The verdict and its first reason (a dose that decides the card has its own summary); a
    card that cannot judge yet names the first thing to obtain or check (``missing``: the
    verdict's ``to_obtain`` as ``{"code", "params"}``), as the patient-view card does, rather
    than "data … is missing"."""
    if v.outcome == "missing-data" and missing:
        lead = missing_lead(missing, msgs)
        return msgs.text("summary.order-missing", order=name, outcome=outcome, **lead)
    first = v.reasons[0] if v.reasons else None
    reason = msgs.short({"code": first.code, "params": first.params}) if first else ""
    return msgs.text("summary.order", order=name, outcome=outcome, first=reason)


def schedule(v: OrderVerdict, msgs: Messages) -> str:
    if v.outcome not in ("supported", "caution", "protocol-option"):
        return ""
    # the sorafenib schedule on the sorafenib card: on a TACE order it is noise for the operator
    with_sorafenib = v.order.kind == "sorafenib"
    return msgs.text("order.schedule-sorafenib" if with_sorafenib else "order.schedule-tace")


def order_model(v: OrderVerdict, a: dict[str, Any], msgs: Messages) -> Model:
    name = msgs.text(f"order-name.{v.order.kind}")
    outcome = msgs.text(f"order-outcome.{v.outcome}")
    codes = [r.code for r in (*v.reasons, *v.to_obtain)]
    # a dose that decides the card is its summary and first line, the verdict comes second
    lead = dose_lead(v.dose, msgs) if v.dose_decides and v.dose is not None else None
    decides = lead is not None
    missing = [{"code": m.code, "params": m.params} for m in v.to_obtain]
    check, obtain = to_check_and_obtain(missing)
    if v.dose is not None:
        codes.append(v.dose.code.value)
    return {
        "kind": f"order-{v.order.kind}-{v.outcome}",
        "reason_codes": codes,
        # under a dose that decides the card, the verdict is about the indication only
        "decision": msgs.text(
            "order.decision-indication" if decides else "order.decision",
            order=name,
            outcome=outcome,
        ),
        "draft": draft_line(v, msgs),
        "with_tace": with_tace_line(v, msgs),
        "dose_first": lead[1] if lead else "",
        "dose": "" if decides else dose_line(v.dose, msgs),
        "reasons": [table_cell(msgs.note(r)) for r in v.reasons[:MAX_REASONS]],
        "summary": lead[0] if lead else summary(v, missing, name, outcome, msgs),
        "to_check": [table_cell(msgs.note(m)) for m in check],
        "to_obtain": [table_cell(msgs.note(m)) for m in obtain],
        "schedule": schedule(v, msgs),
        # a resource that failed validation was not used: the order card names it, as the
        # patient-view card does (it may be the result that would change the verdict)
        "data_problems": [table_cell(msgs.note(p)) for p in a["data_problems"]],
        "key": key_results(a, msgs),
        "footer": msgs.text("footer", version=a["rules_version"], as_of=a["as_of"]),
    }


def order_facts(v: OrderVerdict) -> dict[str, Any]:
    """What the card judged, for the EHR and for tests: codes and values, no words."""
    dose = v.dose
    return {
        "draft": v.order.resource_id,
        "kind": v.order.kind,
        "recognised": v.order.recognised_by.value,
        "withTace": (
            {"kind": v.with_tace.kind, "resource": v.with_tace.resource}
            if v.with_tace is not None
            else None
        ),
        "dose": (
            {"code": dose.code.value, "level": dose.level, "mgPerDay": dose.mg_per_day}
            if dose is not None
            else None
        ),
    }


def suggestion(
    label: str, actions: list[dict[str, Any]], recommended: bool = False
) -> dict[str, Any]:
    return {
        "label": label,
        "uuid": str(uuid.uuid4()),
        "isRecommended": recommended,
        "actions": actions,
    }


def order_suggestions(v: OrderVerdict, patient_id: str, msgs: Messages) -> list[dict[str, Any]]:
    """Remove the draft (critical), order the labs that would settle what is missing."""
    found = []
    if v.remove and v.order.resource_id is not None:
        name = msgs.text(f"order-name.{v.order.kind}")
        delete = {
            "type": "delete",
            "description": msgs.text("action.remove-draft", name=name),
            "resourceId": v.order.resource_id,  # CDS Hooks 2.0: a relative reference (string)
        }
        # a critical TACE card's own advice, marked so a client shows it first. Not on sorafenib:
        # its critical finding may be the TACE's (Vp4, with systemic therapy first line) or its
        # dose (then the drug is right and only the dose is wrong): deleting is one choice
        label = msgs.text("suggestion.remove-draft")
        found.append(suggestion(label, [delete], recommended=v.order.kind == "tace"))
    labs = plan_actions("repeat_labs", patient_id, None, list(v.labs_to_order), msgs)
    if labs:
        found.append(suggestion(repeat_labs_label(list(v.labs_to_order), msgs), labs))
    return found


def order_cards(
    verdicts: list[OrderVerdict],
    a: dict[str, Any],
    patient_id: str = "",
    msgs: Messages | None = None,
) -> list[dict[str, Any]]:
    """One card per judged draft."""
    msgs = msgs or messages()
    cards = []
    evidence_ids = [e["id"] for e in a["recommendation"]["evidence"]]
    # the most severe card first: a critical card must not sit below an info one in the sidebar
    for v in sorted(verdicts, key=lambda v: -RANK[v.indicator]):
        model = order_model(v, a, msgs)
        result = card(
            model["kind"],
            model,
            v.indicator,
            render_file("order-detail.md.j2", msgs, m=model),
            a,
            msgs,
            source("NCT00919009", msgs),
            order_suggestions(v, patient_id, msgs),
            links(a, msgs, evidence_ids),
        )
        result["extension"][ORDER_EXTENSION] = order_facts(v)
        cards.append(result)
    return cards
