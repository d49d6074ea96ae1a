"""The sorafenib dose rules of clinical.md §4 "Sorafenib dose", at every boundary."""

from __future__ import annotations

import pytest

from cds.clinical.sorafenib_dose import (
    DoseCode,
    DosePart,
    DoseProblem,
    OrderedDose,
    TextDose,
    UnreadDose,
    WrittenPart,
    judge_dose,
)


def regimen(*parts):
    return OrderedDose(
        tuple(DosePart(*p) for p in parts),
        "MedicationRequest/m",
        tuple(WrittenPart(mg, "mg", int(n), d, "d") for mg, n, d in parts),
    )


@pytest.mark.parametrize(
    ("parts", "code", "level"),
    [
        # the protocol: 400 mg twice daily (NCT00919009, Peng 2024)
        ([(400, 2, 1)], DoseCode.PROTOCOL, "info"),
        ([(400, 1, 1), (400, 1, 1)], DoseCode.PROTOCOL, "info"),  # morning + evening lines
        ([(400, 1, 0.5)], DoseCode.PROTOCOL, "info"),  # every 12 hours
        # labelled reductions (Nexavar label)
        ([(400, 1, 1)], DoseCode.REDUCTION_ONCE_DAILY, "info"),
        ([(400, 1, 2)], DoseCode.REDUCTION_EVERY_OTHER_DAY, "info"),
        # the labelled maximum, 800 mg/day: at it not critical, above it critical
        ([(800, 1, 1)], DoseCode.OTHER_SCHEDULE, "warning"),
        ([(400.0000000001, 2, 1)], DoseCode.PROTOCOL, "info"),  # float noise is not a dose
        ([(400.5, 2, 1)], DoseCode.ABOVE_MAXIMUM, "critical"),
        ([(800, 2, 1)], DoseCode.ABOVE_MAXIMUM, "critical"),  # 800 mg twice daily
        ([(600, 2, 1)], DoseCode.ABOVE_MAXIMUM, "critical"),
        ([(400, 3, 1)], DoseCode.ABOVE_MAXIMUM, "critical"),
        ([(400, 1, 1), (600, 1, 1)], DoseCode.ABOVE_MAXIMUM, "critical"),  # 1000 mg/day
        # other doses or schedules: a warning naming both
        ([(200, 2, 1)], DoseCode.OTHER_SCHEDULE, "warning"),  # 400 mg/day, not "once daily"
        ([(200, 1, 1)], DoseCode.OTHER_SCHEDULE, "warning"),
        ([(600, 1, 1)], DoseCode.OTHER_SCHEDULE, "warning"),
        ([(400, 1, 1), (200, 1, 1)], DoseCode.OTHER_SCHEDULE, "warning"),  # 600 mg/day, uneven
        ([(400, 2, 7)], DoseCode.OTHER_SCHEDULE, "warning"),
        ([(399, 2, 1)], DoseCode.OTHER_SCHEDULE, "warning"),
    ],
)
def test_dose_rules(parts, code, level):
    """Above 800 mg/day critical; protocol and labelled reductions info; anything else warning."""
    finding = judge_dose((regimen(*parts),))
    assert (finding.code, finding.level) == (code, level)
    assert finding.mg_per_day == pytest.approx(sum(mg * n / d for mg, n, d in parts))
    assert finding.ordered is not None
    assert finding.ordered.source == "MedicationRequest/m"


def test_no_structured_dose_is_info_with_the_protocol_dose():
    """No structured dose: info carrying the protocol dose (400 mg twice daily)."""
    finding = judge_dose(())
    assert (finding.code, finding.level) == (DoseCode.NOT_STRUCTURED, "info")
    assert (finding.protocol_mg, finding.protocol_times_per_day) == (400, 2)
    assert finding.ordered is None


@pytest.mark.parametrize(
    ("text", "code", "mg_per_day"),
    [
        # words that read, one way only, above 800 mg/day: critical, with the daily dose read
        ("sorafenib 800 mg twice daily", DoseCode.TEXT_ABOVE_MAXIMUM, 1600),
        ("800mg BID", DoseCode.TEXT_ABOVE_MAXIMUM, 1600),
        ("Nexavar 400 mg t.i.d.", DoseCode.TEXT_ABOVE_MAXIMUM, 1200),
        ("401 mg every 12 hours", DoseCode.TEXT_ABOVE_MAXIMUM, 802),
        ("801 mg once daily", DoseCode.TEXT_ABOVE_MAXIMUM, 801),
        # at or below the maximum: still not checked (words never make a card milder)
        ("800 mg once daily", DoseCode.TEXT_ONLY, None),
        ("sorafenib 400 mg twice daily", DoseCode.TEXT_ONLY, None),
        ("400 mg q12h, start 3 days after TACE", DoseCode.TEXT_ONLY, None),
        # more than one reading: not read, not checked
        ("800 mg twice daily (1600 mg/day)", DoseCode.TEXT_ONLY, None),
        ("2 x 400 mg twice daily", DoseCode.TEXT_ONLY, None),
        ("1,600 mg daily", DoseCode.TEXT_ONLY, None),
    ],
)
def test_a_dose_only_in_words(text, code, mg_per_day):
    """Text only: a warning quoting it (nobody checked it), critical where the words read above
    800 mg/day one way only; the words are always carried to the card."""
    finding = judge_dose(TextDose(text, "MedicationRequest/m"))
    assert finding.code is code
    assert finding.level == ("critical" if code is DoseCode.TEXT_ABOVE_MAXIMUM else "warning")
    assert (finding.text, finding.ordered, finding.mg_per_day) == (text, None, mg_per_day)


def test_an_unreadable_dose_is_a_warning_naming_why():
    """A structured dose that cannot be read is never let pass as if absent."""
    finding = judge_dose(UnreadDose(DoseProblem.TABLET_STRENGTH_UNKNOWN, "MedicationRequest/m"))
    assert (finding.code, finding.level) == (DoseCode.NOT_READ, "warning")
    assert finding.problem is DoseProblem.TABLET_STRENGTH_UNKNOWN


def test_successive_regimens_are_judged_by_the_most_severe():
    """400 mg/day then 1200 mg/day: the second regimen makes it critical."""
    finding = judge_dose((regimen((400, 1, 1)), regimen((400, 3, 1))))
    assert finding.code is DoseCode.ABOVE_MAXIMUM
    assert finding.mg_per_day == 1200


def test_a_draft_orders_dose_finding():
    """A sorafenib draft is judged on its dose; a TACE draft has none to judge."""
    from cds.clinical.draft_orders import DraftOrder, Recognition, dose_finding

    nexavar = DraftOrder("sorafenib", Recognition.TEXT, "MedicationRequest/m", "Nexavar")
    assert dose_finding(nexavar).code is DoseCode.NOT_STRUCTURED
    twice_800 = DraftOrder(
        "sorafenib", Recognition.CODE, "MedicationRequest/m", "x", (regimen((800, 2, 1)),)
    )
    assert dose_finding(twice_800).level == "critical"
    assert dose_finding(DraftOrder("tace", Recognition.CODE, "ServiceRequest/s", "x")) is None
