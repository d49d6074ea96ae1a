"""The readable summary of ``cds assess``: the template lives in cards/ for clinicians to review."""

from __future__ import annotations

from typing import Any

from cds.render.templates import render_file


def to_text(assessment_json: dict[str, Any]) -> str:
    """Render the summary of an assessment given as its JSON."""
    return render_file("assessment-summary.txt.j2", a=assessment_json)
