"""A dose finding that leads an order card fits the summary by its wording, never by a cut."""

from __future__ import annotations

import pytest

from cds.clinical.sorafenib_dose import DoseCode, DoseFinding, DoseProblem
from cds.render.cards import SUMMARY_MAX
from cds.render.messages import messages
from cds.render.order_cards import dose_lead


@pytest.mark.parametrize("problem", list(DoseProblem))
def test_an_unreadable_dose_summary_is_whole(problem):
    en = messages("en")
    summary, first = dose_lead(DoseFinding(DoseCode.NOT_READ, "warning", problem=problem), en)
    assert len(summary) <= SUMMARY_MAX
    assert summary.endswith(en.text("dose-finding.dose-not-read"))
    assert en.text(f"dose-problem.{problem.value}") in summary
    assert first.startswith("**") and first.endswith(en.text("dose-finding.dose-not-read"))
