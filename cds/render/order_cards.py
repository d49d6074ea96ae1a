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
from cds.clinical.sorafenib_dose import DoseFinding
from cds.render.cards import MAX_REASONS, card, key_results, links, source, to_check_and_obtain
from cds.render.messages import Messages, messages
from cds.render.orders import plan_actions
from cds.render.templates import render_file, table_cell

ORDER_EXTENSION = "org.example.hcc-cds.order"  # the draft judged, how, with TACE, the dose

Model = dict[str, Any]


def written_dose(v: OrderVerdict) -> str | None:
    """The dose as the order wrote it (the regimen judged), for the draft line."""
    if v.dose is not None and v.dose.ordered is not None:
        return v.dose.ordered.as_written
    return None


def draft_line(v: OrderVerdict, msgs: Messages) -> str:
    order = v.order
    return table_cell(
        msgs.text(
            "order.draft",
            name=msgs.text(f"order-name.{order.kind}"),
            dose=written_dose(v),
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


def dose_line(dose: DoseFinding | None, msgs: Messages) -> str:
    if dose is None:
        return ""
    return table_cell(
        msgs.text(
            f"dose.{dose.code.value}",
            ordered=dose.ordered.as_written if dose.ordered else None,
            mg_per_day=round(dose.mg_per_day) if dose.mg_per_day is not None else None,
            problem=msgs.text(f"dose-problem.{dose.problem.value}") if dose.problem else None,
        )
    )


def headline(v: OrderVerdict, msgs: Messages) -> str:
    """The summary's reason: the dose when it is the more severe finding, else the first reason."""
    first = v.reasons[0] if v.reasons else None
    if v.dose_decides or first is None:
        return dose_line(v.dose, msgs).replace("**", "")
    return msgs.short({"code": first.code, "params": first.params})


def schedule(v: OrderVerdict, a: dict[str, Any], msgs: Messages) -> str:
    if v.outcome not in ("supported", "caution"):
        return ""
    rec = a["recommendation"]
    with_sorafenib = rec["option"] == "tace_plus_sorafenib" or rec["protocol_option"]
    return msgs.text("order.schedule-sorafenib" if with_sorafenib else "order.schedule-tace")


def order_model(v: OrderVerdict, a: dict[str, Any], msgs: Messages) -> Model:
    name = msgs.text(f"order-name.{v.order.kind}")
    outcome = msgs.text(f"order-outcome.{v.outcome}")
    codes = [r.code for r in (*v.reasons, *v.to_obtain)]
    check, obtain = to_check_and_obtain([{"code": m.code, "params": m.params} for m in v.to_obtain])
    if v.dose is not None:
        codes.append(v.dose.code.value)
    return {
        "kind": f"order-{v.order.kind}-{v.outcome}",
        "reason_codes": codes,
        "decision": f"{name}: {outcome}",
        "draft": draft_line(v, msgs),
        "with_tace": with_tace_line(v, msgs),
        "dose": dose_line(v.dose, msgs),
        "reasons": [table_cell(msgs.note(r)) for r in v.reasons[:MAX_REASONS]],
        "summary": msgs.text("summary.order", order=name, outcome=outcome, first=headline(v, msgs)),
        "to_check": [table_cell(msgs.note(m)) for m in check],
        "to_obtain": [table_cell(msgs.note(m)) for m in obtain],
        "schedule": schedule(v, a, msgs),
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


def suggestion(label: str, actions: list[dict[str, Any]], msgs: Messages) -> dict[str, Any]:
    return {
        "label": msgs.text(f"suggestion.{label}"),
        "uuid": str(uuid.uuid4()),
        "isRecommended": False,
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
        found.append(suggestion("remove-draft", [delete], msgs))
    labs = plan_actions("repeat_labs", patient_id, None, list(v.labs_to_order), msgs)
    if labs:
        found.append(suggestion("repeat_labs", labs, msgs))
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
    for v in verdicts:
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
