"""The readable summary of ``cds assess``: the template lives in cards/ for clinicians to review."""

from __future__ import annotations

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


def environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(data_dir("cards"))), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False)


def to_text(assessment_json: dict[str, Any]) -> str:
    """Render the summary of an assessment given as its JSON."""
    template = environment().get_template("assessment-summary.txt.j2")
    return template.render(a=assessment_json, option_text=OPTION_TEXT, status_mark=STATUS_MARK)
