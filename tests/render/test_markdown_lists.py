"""Card details put a blank line before every list (review 2, C2).

Python-Markdown (the original Markdown, not CommonMark) runs a list into the paragraph above it
when no blank line separates them: "… (2026-11-03) - BCLC C …". Checked on every fixture's cards,
patient view and order checks.
"""

from __future__ import annotations

import pytest

from cds.render.cards import patient_view_cards
from cds.render.messages import messages
from cds.render.order_cards import order_cards
from cds.report.assessment_json import to_json
from tests.render.cases import NAMES, assessment, verdicts


def lines_running_into_a_list(detail: str) -> list[str]:
    """The lines that a list item follows with no blank line between (a list item excepted)."""
    rows = detail.split("\n")
    return [
        above
        for above, line in zip(rows, rows[1:], strict=False)
        if line.startswith("- ") and above.strip() and not above.startswith("- ")
    ]


def test_the_check_finds_a_list_run_into_a_paragraph():
    assert lines_running_into_a_list("**A:** b\n- c\n- d\n") == ["**A:** b"]
    assert lines_running_into_a_list("**A:** b\n\n- c\n- d\n") == []


@pytest.mark.parametrize("name", NAMES)
def test_every_list_on_a_card_follows_a_blank_line(name):
    assessed = assessment(name)
    document = to_json(assessed, messages("en"))
    found = patient_view_cards(document, "p") + order_cards(verdicts(assessed), document, "p")
    for card in found:
        assert lines_running_into_a_list(card["detail"]) == [], card["detail"]
