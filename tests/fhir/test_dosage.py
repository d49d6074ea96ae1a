"""Reading a MedicationRequest's structured dose: mg (UCUM) or tablets × strength, × timing."""

from __future__ import annotations

import pytest

from cds.clinical.sorafenib_dose import DoseProblem, TextDose, UnreadDose, WrittenPart
from cds.fhir import codes
from cds.fhir.dosage import GTS_ABBREVIATION, ORDERABLE_DRUG_FORM, read_dose

UCUM = codes.UCUM


def quantity(value, code, system=UCUM):
    return {"value": value, "code": code, "system": system}


def repeat(frequency, period, unit="d"):
    return {"repeat": {"frequency": frequency, "period": period, "periodUnit": unit}}


def instruction(dose, timing, sequence=None):
    found = {"doseAndRate": [{"doseQuantity": dose}], "timing": timing}
    if sequence is not None:
        found["sequence"] = sequence
    return found


def request(*instructions, rxnorm="597747"):
    return {
        "resourceType": "MedicationRequest",
        "id": "m1",
        "medicationCodeableConcept": {"coding": [{"system": codes.RXNORM, "code": rxnorm}]},
        "dosageInstruction": list(instructions),
    }


@pytest.mark.parametrize(
    ("dose", "timing", "mg_per_day"),
    [
        (quantity(400, "mg"), repeat(2, 1), 800),
        (quantity(0.4, "g"), repeat(2, 1), 800),  # converted by UCUM
        (quantity(400000, "ug"), repeat(1, 1), 400),
        (quantity(400, "mg"), repeat(1, 12, "h"), 800),
        (quantity(400, "mg"), repeat(1, 2), 200),  # every other day
        (quantity(400, "mg"), repeat(7, 1, "wk"), 400),
        (quantity(400, "mg"), {"repeat": {"period": 1, "periodUnit": "d"}}, 400),  # FHIR: once
        (
            quantity(400, "mg"),
            {"code": {"coding": [{"system": GTS_ABBREVIATION, "code": "BID"}]}},
            800,
        ),
        (
            quantity(400, "mg"),
            {"code": {"coding": [{"system": GTS_ABBREVIATION, "code": "QOD"}]}},
            200,
        ),
        (quantity(2, "{tbl}"), repeat(2, 1), 800),  # tablets × the RxNorm concept's 200 mg
        (quantity(2, "TAB", ORDERABLE_DRUG_FORM), repeat(2, 1), 800),
        (quantity(2, "{pill}"), repeat(2, 1), 800),  # as the CDS Hooks Sandbox's Rx View sends
        ({"value": 4, "unit": "tablets"}, repeat(2, 1), 1600),
        ({"value": 400, "unit": "mg"}, repeat(2, 1), 800),  # unit text that is UCUM
    ],
)
def test_daily_dose(dose, timing, mg_per_day):
    """Dose × frequency / period, in mg per day, from any structured spelling."""
    (regimen,) = read_dose(request(instruction(dose, timing)))
    assert regimen.mg_per_day == pytest.approx(mg_per_day)
    assert regimen.source == "MedicationRequest/m1 dosageInstruction[0]"


def test_tablets_of_a_contained_medication_use_its_strength():
    """The Medication's ingredient strength (mg per tablet) multiplies a dose in tablets."""
    medication = {
        "resourceType": "Medication",
        "ingredient": [
            {"strength": {"numerator": quantity(0.2, "g"), "denominator": quantity(1, "{tbl}")}}
        ],
    }
    order = request(instruction(quantity(2, "{tbl}"), repeat(1, 1)), rxnorm="1159692")
    (regimen,) = read_dose(order, medication)
    assert regimen.mg_per_day == pytest.approx(400)


def test_lines_given_together_add_up_and_sequences_are_successive():
    """Same sequence: one regimen of both lines; another sequence: a second regimen."""
    morning = instruction(quantity(400, "mg"), repeat(1, 1), sequence=1)
    evening = instruction(quantity(400, "mg"), repeat(1, 1), sequence=1)
    later = instruction(quantity(200, "mg"), repeat(1, 1), sequence=2)
    first, second = read_dose(request(morning, evening, later))
    assert (first.mg_per_day, second.mg_per_day) == (800, 200)
    assert first.merged().times_per_day == 2


@pytest.mark.parametrize(
    ("dose", "timing", "rxnorm", "problem"),
    [
        (quantity(5, "mL"), repeat(2, 1), "597747", DoseProblem.UNIT_NOT_MASS),
        ({"value": 400}, repeat(2, 1), "597747", DoseProblem.UNIT_NOT_MASS),  # no unit
        (quantity(2, "{tbl}"), repeat(2, 1), "1159692", DoseProblem.TABLET_STRENGTH_UNKNOWN),
        (quantity(400, "mg"), {}, "597747", DoseProblem.NO_TIMING),
        (quantity(400, "mg"), repeat(1, 1, "mo"), "597747", DoseProblem.PERIOD_UNIT_UNSUPPORTED),
    ],
)
def test_unreadable_doses_say_why(dose, timing, rxnorm, problem):
    """A structured dose that cannot become mg/day is reported with its problem, not guessed."""
    reading = read_dose(request(instruction(dose, timing), rxnorm=rxnorm))
    assert reading == UnreadDose(problem, "MedicationRequest/m1 dosageInstruction[0]")


def test_a_dose_range_is_not_guessed():
    """doseRange: which end is meant is unknown, so the dose is not read."""
    line = {"doseAndRate": [{"doseRange": {"low": quantity(400, "mg")}}], "timing": repeat(2, 1)}
    assert read_dose(request(line)).problem is DoseProblem.DOSE_RANGE


def test_no_structured_dose():
    """No dosage at all, or one with neither dose nor text: nothing to judge."""
    assert read_dose({"resourceType": "MedicationRequest", "id": "m"}) == ()
    assert read_dose(request({"timing": repeat(2, 1)}, {"text": "  "})) == ()


def test_a_dose_only_in_words_is_carried_as_written():
    """Text only: the words are carried (quoted on the card), every instruction's, in order."""
    reading = read_dose(request({"text": "800 mg"}, {"timing": repeat(2, 1)}, {"text": "bid "}))
    assert reading == TextDose("800 mg; bid", "MedicationRequest/m1 dosageInstruction[0,2].text")


def test_a_structured_dose_wins_over_the_words():
    structured = {**instruction(quantity(400, "mg"), repeat(2, 1)), "text": "800 mg bid"}
    (regimen,) = read_dose(request(structured))
    assert regimen.mg_per_day == 800


@pytest.mark.parametrize(
    ("dose", "timing", "written"),
    [
        (quantity(400, "mg"), repeat(2, 1), WrittenPart(400, "mg", 2, 1, "d")),
        (quantity(0.4, "g"), repeat(1, 12, "h"), WrittenPart(0.4, "g", 1, 12, "h")),
        ({"value": 2, "unit": "tablets"}, repeat(2, 1), WrittenPart(2, "{tbl}", 2, 1, "d")),
        (quantity(2, "TAB", ORDERABLE_DRUG_FORM), repeat(1, 2), WrittenPart(2, "{tbl}", 1, 2, "d")),
        (
            quantity(400, "mg"),
            {"code": {"coding": [{"system": GTS_ABBREVIATION, "code": "TID"}]}},
            WrittenPart(400, "mg", 3, 1, "d"),
        ),
    ],
)
def test_the_dose_is_kept_as_written(dose, timing, written):
    """The card words the order's own dose and timing (a timing code as its frequency)."""
    (regimen,) = read_dose(request(instruction(dose, timing)))
    assert regimen.as_written == (written,)
