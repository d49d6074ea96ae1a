"""The daily dose read from an order's words: one reading or none (cds/clinical/dose_words.py).

A reading raises an alarm above 800 mg/day, so a wrong number is a false alarm or a hidden one;
``None`` ("not checked") is always safe. Two tables: the shape that is read, at its edges; and 117
texts written by an independent reviewer (a clinical pharmacist's read, review 4), each with the
true daily dose (``None`` where the text reads more than one way), on which the reader may decline
but must never return another number.
"""

from __future__ import annotations

import pytest

from cds.clinical.dose_words import daily_mg_in_words


@pytest.mark.parametrize(
    ("text", "mg_per_day"),
    [
        # the one shape read: [drug | take] AMOUNT mg [route] FREQUENCY [benign words]
        ("sorafenib 800 mg twice daily", 1600),
        ("800mg BID", 1600),
        ("Nexavar 400 mg t.i.d.", 1200),
        ("take 400 mg by mouth twice a day", 800),
        ("Sorafenib 400 mg PO BID (with food)", 800),
        ("400 mg every 12 hours", 800),
        ("400 mg q12h", 800),
        ("400 mg 2 times daily", 800),
        ("400 mg q.d.s.", 1600),  # UK: four times daily, not "q.d." then "s."
        ("400 mg bd", 800),
        ("400 mg once daily", 400),
        ("800 mg qd", 800),
        ("800 mg per day", 800),
        ("400 mg every other day", 200),
        ("400.5 mg twice daily", 801),
        ("800 mg twice daily.", 1600),
        # anything else: not read
        ("twice daily", None),
        ("400 mg", None),
        ("0.8 g twice daily", None),  # only mg is read
        ("800 mg/day divided BID", None),  # a total per day
        ("400-600 mg BID", None),  # a range
        ("Sorafenib 200 mg, 2 PO BID", None),  # a tablet count
        ("Sorafenib 400 mg; monitor BP twice daily", None),  # the frequency of something else
        ("400 mg twice daily, reduce to 400 mg daily if toxicity", None),
        ("sorafenib 400 mg twice daily starting 3 days after TACE", None),
        ("<b>800 mg</b> twice daily", None),
        ("400 mg twcie daily", None),  # a typo
        ("소라페닙 400 mg 1일 2회", None),  # another language
    ],
)
def test_the_shape_read(text, mg_per_day):
    assert daily_mg_in_words(text) == mg_per_day


REVIEWED = [
    ("Sorafenib 400 mg PO BID", 800),
    ("400 mg po b.i.d.", 800),
    ("Take 400 mg by mouth twice daily on an empty stomach", 800),
    ("400mg q12h", 800),
    ("400 mg every 12 hours", 800),
    ("Sorafenib 400 mg PO twice a day for 28 days", 800),
    ("400 mg BID x 28 days", 800),  # duration with x
    ("400 mg BID, 1 hour before or 2 hours after meals", 800),
    ("400 mg once daily", 400),
    ("400 mg PO daily", 400),
    ("400 mg q.d.", 400),
    ("400 mg OD", 400),  # UK once daily
    ("200 mg twice daily", 400),
    ("200 mg BID (dose level -2)", 400),
    ("Reduce to 400 mg daily", 400),
    ("Resume at 200 mg daily after recovery to grade 1", 200),
    ("400 mg every other day", 200),  # average/day
    ("400 mg q.o.d.", 200),  # average/day
    ("800 mg per day", 800),
    ("800 mg a day", 800),
    ("800 mg/day", 800),
    ("800 mg/d", 800),
    ("Total daily dose: 800 mg", 800),
    ("800 mg daily in two divided doses", 800),
    ("800 mg per day in 2 divided doses", 800),
    ("800 mg/day divided BID", 800),  # total per day, split
    ("800 mg/day in 2 divided doses (BID)", 800),  # total per day, split
    ("800 mg/d, given q12h", 800),  # total per day, split
    ("800 mg divided twice daily", 800),  # total, split
    ("TDD 800 mg PO, divided BID", 800),  # TDD = total daily dose
    ("800 mg/24 h, split every 12 hours", 800),
    ("400 mg/day divided twice daily", 400),
    (
        "800 mg/day. Apply urea 10% cream to hands and feet twice daily",
        800,
    ),  # second clause is cream
    ("Sorafenib 800 mg/day; home BP check twice daily for 6 weeks", 800),  # BP monitoring frequency
    ("400-600 mg BID", None),  # range
    ("400–600 mg twice daily as tolerated", None),  # range, en dash
    ("400 to 600 mg BID", None),  # range
    ("200-400 mg BID", None),  # range
    ("200 to 400 mg twice daily", None),  # range
    ("400 or 600 mg twice daily per tolerance", None),
    ("Sorafenib twice daily, titrate to max 600 mg per dose", None),  # max, not the dose
    ("400 mg q.d.s.", 1600),  # UK qds = four times daily
    ("400 mg QDS", 1600),
    ("400 mg t.d.s.", 1200),
    ("400 mg bd", 800),  # UK twice daily
    ("400 mg b.d.", 800),
    ("400 mg mane and nocte", 800),
    ("Sorafenib 200 mg, 2 PO BID", 800),  # strength + count
    ("Sorafenib 200 mg. Sig: 2 po bid", 800),
    ("Sorafenib 200 mg: take two by mouth twice daily", 800),
    ("Sorafenib 200 mg ii po bid", 800),  # Roman ii
    ("Take two (2) 200 mg by mouth twice daily", 800),
    ("Sorafenib 200 mg - 4 orally twice daily", 1600),  # 4 x 200 BID
    ("Sorafenib 200 mg, 1-2 po bid", None),
    ("Sorafenib 200 mg tablets: 2 tablets twice daily", 800),
    ("400 mg (2 x 200 mg tabs) BID", 800),
    ("Sorafenib 150 mg/m2 PO BID", None),  # BSA-based, paediatric
    ("Sorafenib 200 mg/m2 twice daily (max 400 mg/dose)", None),
    ("Sorafenib 7 mg/kg twice daily", None),  # weight-based
    ("400 mg twcie daily", 800),  # typo
    ("400 mg twise daily", 800),  # typo
    ("400 mg twice dialy", 800),  # typo
    ("400 mgs BID", 800),
    ("400 milligrams twice a day", 800),
    ("400 milligram twice daily", 800),
    ("four hundred milligrams twice daily", 800),  # words
    ("two hundred mg twice daily", 400),  # words
    ("400.0 mg BID", 800),  # decimal
    ("1,600 mg daily", 1600),  # comma thousands
    ("1 600 mg daily", 1600),  # space thousands
    ("400 mg twice daily (total daily dose 800 mg)", 800),
    ("400 mg BID; hold if ALT > 5x ULN", 800),
    (
        "400 mg BID; hold for grade 3 HFSR, then resume at 400 mg daily",
        None,
    ),  # current 800 but two regimens
    ("400 mg twice daily; if grade 2 HFSR reduce to 400 mg once daily", None),
    ("Start 400 mg daily; increase to twice daily after 2 weeks if tolerated", None),  # escalation
    ("Start at 400 mg; increase to twice daily from week 3", None),  # escalation
    ("400 mg BID week 1-2, then 600 mg BID", None),  # escalation
    ("Hold sorafenib. Previous dose 400 mg BID", None),  # held
    ("400 mg every morning", 400),
    ("400 mg in the morning and evening", 800),
    ("400 mg twice daily (morning and evening)", 800),
    ("400 mg daily in the morning", 400),
    ("400 mg BID at 8 AM and 8 PM", 800),
    ("400 mg BID at 08:00 and 20:00", 800),
    ("400 mg q12hr", 800),
    ("400 mg every 12 hrs", 800),
    ("400 mg q 12 h", 800),
    ("400 mg every twelve hours", 800),
    ("400 mg 2x daily", 800),
    ("400 mg twice-daily", 800),
    ("400mgBID", 800),
    ("400 mg bis in die", 800),  # Latin
    ("400 mg q6h", 1600),
    ("600 mg three times daily", 1800),
    ("800 mg twice daily", 1600),
    ("<p>Sorafenib 400&nbsp;mg PO BID</p>", 800),  # HTML
    ("<div>400 mg</div><div>BID</div>", 800),  # HTML
    ("400 mg PO BID<br/>Take with or without food", 800),  # HTML
    ("400 mg\ntwice daily", 800),  # newline
    ("400 mg BID\nReduce to 200 mg BID if HFSR grade 2", None),
    ("400 mg twice daily on days 1-28 of a 28-day cycle", 800),
    ("400 mg twice daily, 5 days/week", 800),  # on dosing days
    ("400 mg (four hundred milligrams) twice daily", 800),
    ("Sorafenib 400 mg; monitor BP twice daily", None),  # dose frequency not stated
    ("Sorafenib 400 mg daily; do not take 2 doses at once", 400),
    ("600 mg daily (400 mg AM, 200 mg PM)", 600),
    ("400 mg twice daily (max 800 mg/day)", 800),
    ("400 mg BID - reduce to 200 mg BID if not tolerated", None),
    ("Take 400 mg by mouth 2 times a day", 800),
    ("400 mg q 24 h", 400),
    ("400 mg every 24 hours", 400),
    ("400 mg BID on alternate days", None),  # BID + alt days
    ("800 mg/day PO BID", 800),  # total per day, split
    ("Total 800 mg/d, BID", 800),  # total per day, split
    ("800 mg in divided doses every 12 hours", 800),  # total, split
    ("400 mg q.d.s", 1600),  # UK qds
    ("400 mg&nbsp;BID", 800),  # HTML entity
]


@pytest.mark.parametrize(("text", "true_mg_per_day"), REVIEWED)
def test_never_a_wrong_reading(text, true_mg_per_day):
    """On the reviewer's texts the reader declines or reads the true dose, never another number."""
    assert daily_mg_in_words(text) in (None, true_mg_per_day)
