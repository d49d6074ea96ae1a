"""The CDS Hooks 2.0 response invariants (cds-resp-1..7 and the required fields), as assertions.

Every response with cards that a test produces goes through :func:`check_response` (conftest).
"""

from __future__ import annotations

from typing import Any

INDICATORS = {"info", "warning", "critical"}
SELECTION = {"at-most-one", "any"}
ACTION_TYPES = {"create", "update", "delete"}


def check_coding(coding: dict[str, Any], where: str, display_required: bool) -> None:
    assert isinstance(coding.get("code"), str) and coding["code"], f"{where}: code"
    assert isinstance(coding.get("system"), str) and coding["system"], f"{where}: system"
    if display_required:
        assert isinstance(coding.get("display"), str) and coding["display"], f"{where}: display"


def check_action(action: dict[str, Any], where: str) -> None:
    assert action.get("type") in ACTION_TYPES, f"{where}: type"
    assert isinstance(action.get("description"), str) and action["description"], (
        f"{where}: description (cds-resp-5)"
    )
    if action["type"] in ("create", "update"):
        assert isinstance(action.get("resource"), dict), f"{where}: resource"
        assert action["resource"].get("resourceType"), f"{where}: resource.resourceType"
    else:
        assert action.get("resourceId"), f"{where}: resourceId for delete (cds-resp-2)"


def check_card(card: dict[str, Any], where: str) -> None:
    assert isinstance(card.get("uuid"), str) and card["uuid"], f"{where}: uuid"
    summary = card.get("summary")
    assert isinstance(summary, str) and summary, f"{where}: summary"
    assert len(summary) < 140, f"{where}: summary has {len(summary)} characters"
    assert card.get("indicator") in INDICATORS, f"{where}: indicator"
    source = card.get("source")
    assert isinstance(source, dict) and source.get("label"), f"{where}: source.label"
    if "url" in source:
        assert source["url"].startswith(("https://", "http://")), f"{where}: absolute source.url"
    if "topic" in source:
        check_coding(source["topic"], f"{where}.source.topic", display_required=False)
    if "detail" in card:
        assert isinstance(card["detail"], str), f"{where}: detail"
        # A blank line inside a GFM table ends it: the rest would render as loose text.
        assert "|\n\n|" not in card["detail"], f"{where}: a table is broken by a blank line"
    suggestions = card.get("suggestions") or []
    if suggestions:
        assert card.get("selectionBehavior") in SELECTION, (
            f"{where}: selectionBehavior (cds-resp-6)"
        )
    recommended = 0
    for i, s in enumerate(suggestions):
        assert isinstance(s.get("label"), str) and s["label"], f"{where}.suggestions[{i}]: label"
        assert isinstance(s.get("uuid"), str) and s["uuid"], f"{where}.suggestions[{i}]: uuid"
        recommended += bool(s.get("isRecommended"))
        for j, action in enumerate(s.get("actions") or []):
            check_action(action, f"{where}.suggestions[{i}].actions[{j}]")
    if card.get("selectionBehavior") == "at-most-one":
        assert recommended <= 1, f"{where}: at most one recommended suggestion"
    for i, reason in enumerate(card.get("overrideReasons") or []):
        check_coding(reason, f"{where}.overrideReasons[{i}]", display_required=True)  # cds-resp-4
    for i, link in enumerate(card.get("links") or []):
        assert link.get("label") and link.get("url"), f"{where}.links[{i}]"
        assert link.get("type") in ("absolute", "smart"), f"{where}.links[{i}].type"
        if "appContext" in link:
            assert link["type"] == "smart", f"{where}.links[{i}]: appContext (cds-resp-3)"
    if "extension" in card:
        assert isinstance(card["extension"], dict), f"{where}: extension must be an object"


def check_response(body: Any) -> None:
    """A CDS service response: ``cards`` required (may be empty), every card valid."""
    assert isinstance(body, dict) and isinstance(body.get("cards"), list), "cards required"
    uuids = [c.get("uuid") for c in body["cards"]]
    assert len(uuids) == len(set(uuids)), "card uuids must be unique"
    for i, card in enumerate(body["cards"]):
        check_card(card, f"cards[{i}]")
    for i, action in enumerate(body.get("systemActions") or []):
        check_action(action, f"systemActions[{i}]")
