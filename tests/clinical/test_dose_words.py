"""The daily dose read from an order's words: one reading or none (cds/clinical/dose_words.py)."""

from __future__ import annotations

import pytest

from cds.clinical.dose_words import daily_mg_in_words


@pytest.mark.parametrize(
    ("text", "mg_per_day"),
    [
        # one amount, one frequency: read
        ("sorafenib 800 mg twice daily", 1600),
        ("800mg BID", 1600),
        ("800 mg po b.i.d.", 1600),
        ("take 400 mg by mouth twice a day", 800),
        ("400 mg every 12 hours", 800),
        ("400 mg q12h", 800),
        ("400 mg 2 times daily", 800),
        ("600 mg tid", 1800),
        ("300 mg four times a day", 1200),
        ("400 mg once daily", 400),
        ("800 mg qd", 800),
        ("400 mg every other day", 200),
        ("400.5 mg twice daily", 801),
        # durations and start rules are not timing: still one reading
        ("sorafenib 400 mg twice daily starting 3 days after TACE", 800),
        ("400 mg twice daily for 3 weeks", 800),
        ("<b>800 mg</b> twice daily | then as tolerated", 1600),
        # no amount, no frequency, or more than one of either: not read
        ("twice daily", None),
        ("400 mg", None),
        ("0.8 g twice daily", None),  # only mg is read
        ("400 mg twice daily (800 mg/day)", None),
        ("400 mg morning and 400 mg evening", None),
        ("400 mg twice daily, every 12 hours", None),
        # timing left over beside the phrase read: not read
        ("400 mg daily twice", None),
        ("400 mg in the morning daily", None),
        # a multiplier or a comma in a number: not read
        ("2 x 400 mg twice daily", None),
        ("400 mg twice daily x 4 weeks", None),
        ("200 mg tablets, 2 tablets twice daily", None),
        ("1,600 mg daily", None),
        ("1,5 mg daily", None),
        # another language: not read
        ("소라페닙 400 mg 1일 2회", None),
    ],
)
def test_daily_mg_in_words(text, mg_per_day):
    assert daily_mg_in_words(text) == mg_per_day
