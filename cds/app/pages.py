"""The app's HTML: Jinja templates in cards/app/, every word from the message catalogue
(``app.*`` entries, cards/<locale>/app.json, read through cds/render/messages.py)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from cds.paths import data_dir
from cds.render.messages import Messages, messages, number

APP_PREFIX = "app."


def texts() -> dict[str, Any]:
    """The ``app.*`` entries of the current catalogue as a tree (``app.sections.scores`` →
    ``texts()["sections"]["scores"]``): titles, labels, error pages, plot and cut-off names."""
    return app_texts(messages())


@cache
def app_texts(msgs: Messages) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in msgs.catalogue.items():
        if key.startswith(APP_PREFIX):
            *path, last = key.removeprefix(APP_PREFIX).split(".")
            node = tree
            for part in path:
                node = node.setdefault(part, {})
            node[last] = value
    return tree


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(data_dir("cards") / "app")),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "j2"], default=True),
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = number
    env.globals["css_url"] = "static/app.css"  # every page is directly under /app/
    return env


def render(template: str, **values: Any) -> str:
    return environment().get_template(template).render(t=texts(), **values)
