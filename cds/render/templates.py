"""The Jinja environment over cards/, with the filters the card texts use."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from cds.paths import data_dir

OPTION_TEXT = {
    "tace_plus_sorafenib": "TACE plus sorafenib (Peng 2024 population)",
    "tace": "TACE alone",
    "no_tace": "No TACE",
    "insufficient_data": "No suggestion: data missing",
    "not_applicable": "Not applicable: no HCC",
}
STATUS_MARK = {"met": "met", "not_met": "NOT MET", "unknown": "unknown"}


def table_cell(value: Any) -> str:
    """Text safe inside a GFM table cell and free of HTML (card text must not inject markup)."""
    text = str(value).replace("\n", " ").replace("|", "\\|")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def number(value: float) -> str:
    return f"{round(value, 2):g}"


@cache
def environment() -> Environment:
    # auto_reload off: card texts change with a deployment, not while running (a stat() per
    # render was 19% of a worker's time under load, BENCHMARKS.md).
    env = Environment(
        loader=FileSystemLoader(str(data_dir("cards"))),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
    )
    env.filters["cell"] = table_cell
    env.filters["num"] = number
    env.tests["match_prefix"] = lambda value, prefix: str(value).startswith(prefix)
    env.globals.update(option_text=OPTION_TEXT, status_mark=STATUS_MARK)
    return env


@cache
def card_texts() -> dict[str, Any]:
    """``cards/cards.json``: summaries, indicators, suggestion labels, override reasons."""
    return json.loads((data_dir("cards") / "cards.json").read_text(encoding="utf-8"))


@cache
def compiled(template: str) -> Any:
    """A card text from cards.json, compiled once per process."""
    return environment().from_string(template)


def render_string(template: str, **values: Any) -> str:
    return compiled(template).render(**values)


def render_file(name: str, **values: Any) -> str:
    return environment().get_template(name).render(**values)
