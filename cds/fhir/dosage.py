"""The dose a MedicationRequest orders, in mg per administration and administrations per day.

Read from ``dosageInstruction``: ``doseAndRate.doseQuantity`` in a mass unit (converted by UCUM)
or in tablets (× the tablet strength: the Medication's ``ingredient.strength``, else the RxNorm
concept's, cds/fhir/codes.py), and ``timing.repeat`` (``frequency`` per ``period`` ``periodUnit``;
FHIR: a missing frequency means once per period) or a ``timing.code`` (BID, QD, QOD …).
Instructions with the same ``sequence`` are given together (400 mg morning + 400 mg evening);
different sequences are successive regimens. An order with no structured dose gives its
instructions' ``text`` (a dose in words, quoted on the card), or ``()`` when it has none.
"""

from __future__ import annotations

from typing import Any

from cds.clinical.sorafenib_dose import (
    DosePart,
    DoseProblem,
    DoseReading,
    OrderedDose,
    TextDose,
    UnreadDose,
    WrittenPart,
)
from cds.fhir import codes
from cds.fhir.extract import codings
from cds.fhir.units import UnitError, to_canonical, ucum_code

Resource = dict[str, Any]

GTS_ABBREVIATION = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
# timing.code → (administrations, period in days) (HL7 v3 GTSAbbreviation, FHIR R4 Timing).
TIMING_CODES: dict[str, tuple[int, int]] = {
    "QD": (1, 1),
    "AM": (1, 1),
    "PM": (1, 1),
    "BID": (2, 1),
    "TID": (3, 1),
    "QID": (4, 1),
    "QOD": (1, 2),
}
# Timing.repeat.periodUnit values (UCUM) that a daily drug's schedule uses; months and years are
# refused rather than averaged.
PERIOD_UNITS = ("s", "min", "h", "d", "wk")
ORDERABLE_DRUG_FORM = "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm"
# "{pill}" is what the CDS Hooks Sandbox's Rx View sends (src/reducers/medication-reducers.js).
TABLET_UCUM = {"{tbl}", "{tablet}", "{tablets}", "{tab}", "{pill}", "{pills}"}
TABLET_TEXT = {"tablet", "tablets", "tab", "tabs", "tbl"}
TABLET = "{tbl}"  # a dose in tablets, as written for the card


class Unreadable(Exception):
    """A structured dose that cannot be read (carries the problem)."""

    def __init__(self, problem: DoseProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def is_tablets(quantity: dict[str, Any]) -> bool:
    system, code = quantity.get("system"), quantity.get("code")
    if system == ORDERABLE_DRUG_FORM:
        return code == "TAB"
    if system in (None, codes.UCUM) and isinstance(code, str) and code.lower() in TABLET_UCUM:
        return True
    unit = quantity.get("unit")
    return code is None and isinstance(unit, str) and unit.strip().lower() in TABLET_TEXT


def mass_mg(quantity: Any) -> float:
    """A Quantity of mass in mg (UCUM).

    :raise Unreadable: when it is not a mass in a UCUM unit.
    """
    if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), int | float):
        raise Unreadable(DoseProblem.UNIT_NOT_MASS)
    unit = ucum_code(quantity.get("code"), quantity.get("system"), quantity.get("unit"))
    try:
        return to_canonical(float(quantity["value"]), unit, "dose")
    except UnitError as exc:
        raise Unreadable(DoseProblem.UNIT_NOT_MASS) from exc


def tablet_strength_mg(request: Resource, medication: Resource | None) -> float:
    """mg per tablet: the Medication's single ingredient strength, else its RxNorm concept's."""
    ingredients = medication.get("ingredient") if medication else None
    if isinstance(ingredients, list) and len(ingredients) == 1:
        strength = ingredients[0].get("strength") if isinstance(ingredients[0], dict) else None
        if isinstance(strength, dict):
            denominator = strength.get("denominator", {"value": 1})
            if isinstance(denominator, dict) and denominator.get("value") == 1:
                return mass_mg(strength.get("numerator"))
    concepts = [request.get("medicationCodeableConcept"), (medication or {}).get("code")]
    for system, code in (pair for concept in concepts for pair in codings(concept)):
        if system == codes.RXNORM and code in codes.SORAFENIB_TABLET_MG:
            return codes.SORAFENIB_TABLET_MG[code]
    raise Unreadable(DoseProblem.TABLET_STRENGTH_UNKNOWN)


def timing_of(instruction: Resource) -> tuple[int, float, str]:
    """(administrations, period, period unit (UCUM)) of one dosage instruction."""
    timing = instruction.get("timing")
    timing = timing if isinstance(timing, dict) else {}
    repeat = timing.get("repeat")
    if isinstance(repeat, dict) and isinstance(repeat.get("period"), int | float):
        unit = repeat.get("periodUnit")
        if unit not in PERIOD_UNITS:
            raise Unreadable(DoseProblem.PERIOD_UNIT_UNSUPPORTED)
        frequency = repeat.get("frequency", 1)
        if not isinstance(frequency, int) or frequency < 1 or repeat["period"] <= 0:
            raise Unreadable(DoseProblem.NO_TIMING)
        return frequency, float(repeat["period"]), unit
    for system, code in codings(timing.get("code")):
        if system == GTS_ABBREVIATION and code in TIMING_CODES:
            times, days = TIMING_CODES[code]
            return times, days, "d"
    raise Unreadable(DoseProblem.NO_TIMING)


def dose_part(
    instruction: Resource, request: Resource, medication: Resource | None
) -> tuple[DosePart, WrittenPart]:
    """One instruction's dose and timing, in mg per day and as written.

    :raise Unreadable: naming why.
    """
    dose_and_rate = instruction["doseAndRate"][0]
    if "doseRange" in dose_and_rate:
        raise Unreadable(DoseProblem.DOSE_RANGE)
    quantity = dose_and_rate.get("doseQuantity")
    if isinstance(quantity, dict) and is_tablets(quantity):
        if not isinstance(quantity.get("value"), int | float):
            raise Unreadable(DoseProblem.UNIT_NOT_MASS)
        mg = float(quantity["value"]) * tablet_strength_mg(request, medication)
        unit = TABLET
    else:
        mg = mass_mg(quantity)
        unit = str(ucum_code(quantity.get("code"), quantity.get("system"), quantity.get("unit")))
    times, period, period_unit = timing_of(instruction)
    days = to_canonical(period, period_unit, "period")
    written = WrittenPart(float(quantity["value"]), unit, times, period, period_unit)
    return DosePart(mg, times, days), written


def dose_text(instructions: list[Any], rid: str) -> TextDose | None:
    """The instructions' ``text`` (a dose in words), joined, when any has one."""
    found = [
        (index, instruction["text"].strip())
        for index, instruction in enumerate(instructions)
        if isinstance(instruction, dict)
        and isinstance(instruction.get("text"), str)
        and instruction["text"].strip()
    ]
    if not found:
        return None
    indices = ",".join(str(index) for index, _ in found)
    return TextDose(
        "; ".join(text for _, text in found), f"{rid} dosageInstruction[{indices}].text"
    )


def has_dose(instruction: Any) -> bool:
    if not isinstance(instruction, dict):
        return False
    dose_and_rate = instruction.get("doseAndRate")
    return (
        isinstance(dose_and_rate, list)
        and bool(dose_and_rate)
        and isinstance(dose_and_rate[0], dict)
        and ("doseQuantity" in dose_and_rate[0] or "doseRange" in dose_and_rate[0])
    )


def read_dose(request: Resource, medication: Resource | None = None) -> DoseReading:
    """The regimens a MedicationRequest orders, in ``sequence`` order, or why they cannot be read.

    :param medication: the Medication its ``medicationReference`` resolves to, if any.
    """
    listed = request.get("dosageInstruction")
    instructions = listed if isinstance(listed, list) else []
    rid = f"{request.get('resourceType')}/{request.get('id')}"
    steps: dict[int, list[tuple[int, Resource]]] = {}
    for index, instruction in enumerate(instructions):
        if has_dose(instruction):
            sequence = instruction.get("sequence")
            steps.setdefault(sequence if isinstance(sequence, int) else 0, []).append(
                (index, instruction)
            )
    regimens = []
    for _, step in sorted(steps.items()):
        source = f"{rid} dosageInstruction[{','.join(str(i) for i, _ in step)}]"
        try:
            read = [dose_part(instruction, request, medication) for _, instruction in step]
        except Unreadable as exc:
            return UnreadDose(exc.problem, source)
        parts, written = zip(*read, strict=True)
        regimens.append(OrderedDose(tuple(parts), source, tuple(written)))
    if not regimens:
        return dose_text(instructions, rid) or ()
    return tuple(regimens)
