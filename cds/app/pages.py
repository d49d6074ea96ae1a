"""The app's HTML: Jinja templates in cards/app/, every word from cards/app-en.json."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from cds.paths import data_dir
from cds.render.messages import number


@cache
def texts() -> dict[str, Any]:
    """``cards/app-en.json``: titles, labels, error pages, plot and cut-off names."""
    return json.loads((data_dir("cards") / "app-en.json").read_text(encoding="utf-8"))


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
