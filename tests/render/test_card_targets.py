"""The sidebar card, measured on every fixture (issue 7): it fits and it says what matters.

Detail ≤ 2,000 characters (median ≤ 1,200), summary < 140 characters naming the decision and its
first reason, counts in the summary equal to the items listed, at most three reasons, every
missing, stale or not-used item named, sources in ``links`` and never as Markdown links.
"""

from __future__ import annotations

import statistics

import pytest

from cds.render.cards import patient_view_cards, patient_view_models
from cds.render.messages import messages
from cds.render.order_cards import order_cards
from cds.render.templates import table_cell
from cds.report.assessment_json import to_json
from tests.render.cases import NAMES, assessment, verdicts

MSGS = messages("en")
DETAIL_MAX = 2000
DETAIL_MEDIAN_MAX = 1200


def listed_after(detail: str, heading: str) -> list[str]:
    """The ``- `` items of the list under a bold heading."""
    lines = detail.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"**{heading}:**")), None)
    if start is None:
        return []
    items = []
    body = lines[start + 1 :]
    if body[:1] == [""]:  # the blank line that separates a list from its heading
        body = body[1:]
    for line in body:
        if not line.startswith("- "):
            break
        items.append(line)
    return items


def says_what_to_do(summary: str, to_check: list[str], to_obtain: list[str]) -> bool:
    """The summary says whether its items are results to check in the record, data to obtain,
    or both, as the detail lists them."""
    what = "obtain-or-check" if to_check and to_obtain else "check" if to_check else "obtain"
    return f", {MSGS.text(f'summary.what.{what}')}: " in summary


def patient_card(name):
    a = to_json(assessment(name), MSGS)
    cards = patient_view_cards(a, "p", MSGS)
    models = patient_view_models(a, MSGS)
    return a, cards, models


@pytest.mark.parametrize("name", NAMES)
def test_card_fits_and_says_what_matters(name):
    a, cards, models = patient_card(name)
    if a["recommendation"]["option"] == "not_applicable":
        assert cards == []
        return
    (card,), (model,) = cards, models
    detail, summary = card["detail"], card["summary"]
    assert len(detail) <= DETAIL_MAX
    # the summary names the decision and its first reason, whole (never cut off)
    assert len(summary) < 140 and "…" not in summary
    assert summary.startswith(model["decision"])
    first = a["recommendation"]["missing"][:1] or a["recommendation"]["reasons"][:1]
    assert MSGS.short(first[0]) in summary
    # the count in the summary is the number of items listed, to check or to obtain; a result in
    # the record but not used is to check there, the rest to obtain
    to_check = listed_after(detail, MSGS.text("h.to-check"))
    to_obtain = listed_after(detail, MSGS.text("h.to-obtain"))
    assert model["summary_count"] == len(to_check) + len(to_obtain)
    if model["summary_count"]:
        assert says_what_to_do(summary, to_check, to_obtain)
    for item in a["recommendation"]["missing"]:
        listed = to_check if item["code"] == "not-used" else to_obtain
        assert f"- {table_cell(MSGS.note(item))}" in listed
    # decision first, then at most three reasons
    assert detail.startswith(f"**{model['decision']}:**")
    assert len(detail.split("\n\n")[0].splitlines()) <= 3
    # every missing or stale item, every not-used result and every flag is on the card, by name
    for item in [*a["missing"], *a["not_used"], *a["flags"], *a["recommendation"]["missing"]]:
        assert table_cell(MSGS.note(item)) in detail
    # sources in links, opened outside the chart; no Markdown link in the detail
    assert "](" not in detail
    assert card["links"] and all(
        link["type"] == "absolute" and link["url"].startswith("https://") for link in card["links"]
    )
    assert 0 <= len(model["evidence"]) <= 3
    # the rules version on the card
    assert card["extension"]["org.example.hcc-cds.rules-version"] == a["rules_version"]
    assert a["rules_version"] in detail


def test_median_detail_length():
    """Across the fixtures, the median patient card is at most 1,200 characters."""
    lengths = [len(c["detail"]) for name in NAMES for c in patient_card(name)[1]]
    assert statistics.median(lengths) <= DETAIL_MEDIAN_MAX


@pytest.mark.parametrize("name", NAMES)
def test_order_cards_fit(name):
    """Order-check cards: the same limits, the count of what to obtain equal to the list."""
    assessed = assessment(name)
    a = to_json(assessed, MSGS)
    judged = {v.order.resource_id: v for v in verdicts(assessed)}
    for card in order_cards(list(judged.values()), a, "p", MSGS):
        assert len(card["detail"]) <= DETAIL_MAX
        assert len(card["summary"]) < 140
        assert "…" not in card["summary"]  # short by its wording, never cut mid-word
        assert "](" not in card["detail"]
        v = judged[card["extension"]["org.example.hcc-cds.order"]["draft"]]
        if v.outcome == "missing-data" and v.to_obtain and not v.dose_decides:
            # a card that cannot judge yet names the first thing to obtain, and how many more
            first = {"code": v.to_obtain[0].code, "params": v.to_obtain[0].params}
            assert MSGS.short(first) in card["summary"]
            to_check = listed_after(card["detail"], MSGS.text("h.to-check"))
            to_obtain = listed_after(card["detail"], MSGS.text("h.to-obtain"))
            assert len(to_check) + len(to_obtain) == len(v.to_obtain)
            assert says_what_to_do(card["summary"], to_check, to_obtain)
            more = f"(+{len(v.to_obtain) - 1} more)"
            assert (more in card["summary"]) is (len(v.to_obtain) > 1)


@pytest.mark.parametrize("name", NAMES)
def test_eligible_is_never_shown_without_what_to_confirm(name):
    """A card never says a trial's criteria are met without the list of what to confirm."""
    a, cards, models = patient_card(name)
    for model in models:
        for trial, section in zip(a["eligibility"].values(), model["trials"], strict=True):
            if trial["status"] == "eligible":
                assert len(section["confirm"]) >= 4
                assert section["completed"]
