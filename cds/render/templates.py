"""The Jinja environment over ``cards/templates/``: the card layouts, which hold no words (every
word comes from the message catalogue through ``t``)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from cds.paths import data_dir
from cds.render.messages import Messages

# A "<" that could open markup: an HTML tag, comment or declaration, or an autolink. A "<" before
# a space or a digit ("INR < 1.5") opens nothing, and stays literal for EHRs that show the detail
# as plain text (an escaped "&lt;" would be printed as such).
MARKUP_OPENER = re.compile(r"<(?=[A-Za-z/!?])")


def table_cell(value: Any) -> str:
    """Text safe inside Markdown and free of HTML (card text must not inject markup)."""
    text = str(value).replace("\n", " ").replace("|", "\\|")
    text = MARKUP_OPENER.sub("&lt;", text)
    # a ">" opens a block quote only at the start of a line: the only place it is escaped
    return "&gt;" + text[1:] if text.startswith(">") else text


@cache
def environment() -> Environment:
    # auto_reload off: card layouts change with a deployment, not while running (a stat() per
    # render was 19% of a worker's time under load, BENCHMARKS.md).
    env = Environment(
        loader=FileSystemLoader(str(data_dir("cards") / "templates")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
    )
    env.filters["cell"] = table_cell
    return env


@cache
def card_texts() -> dict[str, Any]:
    """``cards/cards.json``: indicators, suggestion plans, override reason codes (no words)."""
    data: dict[str, Any] = json.loads((data_dir("cards") / "cards.json").read_text("utf-8"))
    return data


def render_file(name: str, msgs: Messages, **values: Any) -> str:
    return environment().get_template(name).render(t=msgs.text, **values)


@cache
def evidence_catalogue() -> dict[str, dict[str, str]]:
    """Evidence sources (id → url) from ``cards/evidence.json``; the words are in the catalogue."""
    data: dict[str, dict[str, str]] = json.loads(
        (data_dir("cards") / "evidence.json").read_text(encoding="utf-8")
    )
    return data
