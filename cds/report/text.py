"""The readable summary of ``cds assess``: the layout lives in cards/templates, the words in the
message catalogue, so clinicians can review them."""

from __future__ import annotations

from typing import Any

from cds.render.cards import to_check_and_obtain
from cds.render.messages import Messages, messages
from cds.render.templates import environment


def to_text(assessment_json: dict[str, Any], msgs: Messages | None = None) -> str:
    """Render the summary of an assessment given as its JSON."""
    msgs = msgs or messages()
    template = environment().get_template("assessment-summary.txt.j2")

    def joined(items: list[dict[str, Any]], separator: str) -> str:
        return separator.join(msgs.note(i) for i in items)

    to_check, to_obtain = to_check_and_obtain(assessment_json["recommendation"]["missing"])
    return template.render(
        a=assessment_json,
        to_check=to_check,
        to_obtain=to_obtain,
        t=msgs.text,
        n=msgs.note,
        nj=joined,
        lab_value=msgs.lab_value,
    )
