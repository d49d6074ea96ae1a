"""Unit conversion by UCUM: a value is converted to its analyte's canonical unit, or refused.

UCUM expressions are parsed by ``ucumvert`` into ``pint`` units, so every spelling UCUM allows
(``mg/dL``, ``mg/L``, ``10*3/uL``, ``/mm3``, ``umol/L``, ``mmol/L`` …) converts by dimension, not by
a lookup table of ours. Mass ↔ substance needs a molar factor: those are the clinical reference's
(bilirubin 17.1, creatinine 88.4 µmol/L per mg/dL). Annotations (``{INR}``, ``{cells}``) are unity
in UCUM and are dropped before parsing. A unit that is missing, not UCUM, or of the wrong dimension
raises :class:`UnitError`, and the value is then *unknown* — never read in a default unit.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

SIGNIFICANT_DIGITS = 10  # drop float noise: 34.2 umol/L must give exactly 2.0 mg/dL
UnitProblem = Literal[
    "unit-missing", "unit-invalid", "unit-not-ratio", "unit-not-convertible", "unit-too-long"
]
MAX_UNIT_LENGTH = 40  # lab units are far shorter, and the parser's cost grows fast with length


class UnitError(ValueError):
    """A unit that cannot be converted to the analyte's canonical unit; ``problem`` is its code
    (the clinical core's ``LabProblem``), the message is for logs and tests."""

    def __init__(self, message: str, problem: UnitProblem) -> None:
        super().__init__(message)
        self.problem: UnitProblem = problem


@dataclass(frozen=True)
class Canonical:
    """An analyte's canonical unit (UCUM) and, if it has one, its mass→molar factor."""

    unit: str
    umol_l_per_canonical: float | None = None  # µmol/L for 1 canonical unit


CANONICAL: dict[str, Canonical] = {
    "bilirubin": Canonical("mg/dL", 17.1),  # clinical-rules §5
    "albumin": Canonical("g/dL"),
    "inr": Canonical("1"),
    "platelets": Canonical("10*9/L"),
    "anc": Canonical("10*9/L"),
    "haemoglobin": Canonical("g/dL"),
    "ast": Canonical("U/L"),
    "alt": Canonical("U/L"),
    "creatinine": Canonical("mg/dL", 88.4),  # clinical-rules §5 ⚠️ standard factor
    "afp": Canonical("ng/mL"),
    "creatinine_clearance": Canonical("mL/min"),
    # eGFR is per 1.73 m² of body surface, an annotation in UCUM (unity): mL/min converts to it,
    # and so do the usual unit texts (mL/min/1.73m2). A UCUM code with a real area is refused
    # (mL/min/1.73.m2 is, in UCUM, multiplied by m²): the value is then unknown, and reported.
    "egfr": Canonical("mL/min/{1.73_m2}"),
    "size": Canonical("cm"),
    "dose": Canonical("mg"),  # a drug's dose (cds/fhir/dosage.py)
    "period": Canonical("d"),  # a dosage timing's period
}

# Spellings seen in ``valueQuantity.unit`` text that are unambiguous UCUM units.
UNIT_TEXT = {
    "µmol/l": "umol/L",
    "μmol/l": "umol/L",
    "umol/l": "umol/L",
    "mmol/l": "mmol/L",
    "mg/dl": "mg/dL",
    "g/dl": "g/dL",
    "g/l": "g/L",
    "mg/l": "mg/L",
    "ng/ml": "ng/mL",
    "µg/l": "ug/L",
    "ug/l": "ug/L",
    "u/l": "U/L",
    "iu/l": "U/L",
    "x10^9/l": "10*9/L",
    "10^9/l": "10*9/L",
    "x10e9/l": "10*9/L",
    "10*9/l": "10*9/L",
    "x10^3/ul": "10*3/uL",
    "10^3/ul": "10*3/uL",
    "10*3/ul": "10*3/uL",
    "k/ul": "10*3/uL",
    "/mm3": "/mm3",
    "/ul": "/uL",
    "cells/mm3": "/mm3",
    "cm": "cm",
    "mm": "mm",
    "ml/min": "mL/min",  # clearance and eGFR, as laboratory systems print them
    "ml/s": "mL/s",
    "ml/s/1.73m2": "mL/s/{1.73_m2}",
    "ml/s/1.73m²": "mL/s/{1.73_m2}",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73m²": "mL/min/{1.73_m2}",
    "ml/min/1,73m2": "mL/min/{1.73_m2}",
    "ml/min/1,73m²": "mL/min/{1.73_m2}",
    "ml/min/1.73sqm": "mL/min/{1.73_m2}",
    "mg": "mg",  # drug doses (cds/fhir/dosage.py)
    "g": "g",
    "mcg": "ug",
    "µg": "ug",
    "ug": "ug",
}

ANNOTATION = re.compile(r"\{[^{}]*\}")

# Factors of the units real records use, computed by the UCUM registry ahead of time
# (``python -m cds.fhir.units``; tests/fhir/test_units.py recomputes every one): building the
# registry costs ~0.5 s per process, which a command-line call should not pay for common units.
# Any other unit is converted by the registry, built on first use.
PRECOMPUTED = Path(__file__).resolve().parent / "ucum-factors.json"
# Units whose factors are precomputed, besides the spellings above and the canonical units.
COMMON_UNITS = (
    "mg/dL",
    "g/L",
    "g/dL",
    "umol/L",
    "mmol/L",
    "mg/L",
    "ng/mL",
    "ug/L",
    "U/L",
    "10*9/L",
    "10*3/uL",
    "10*3/mm3",
    "/uL",
    "/mm3",
    "/L",
    "cm",
    "mm",
    "m",
    "mg",
    "g",
    "ug",
    "s",
    "min",
    "mL/min",
    "mL/min/{1.73_m2}",
    "mL/s",
    "h",
    "d",
    "wk",
    "{INR}",
)


_REGISTRY_LOCK = threading.Lock()
_REGISTRY: list[Any] = []


def _registry() -> Any:
    """The ucumvert/pint registry, built once per process (~0.4 s, see :func:`warm_up`).

    Built under a lock: two threads building ucumvert registries at once corrupt pint's shared
    definitions (seen under load as ``KeyError: 'bit'``).
    """
    if not _REGISTRY:
        with _REGISTRY_LOCK:
            if not _REGISTRY:
                from ucumvert import PintUcumRegistry  # type: ignore[import-untyped]

                _REGISTRY.append(PintUcumRegistry())
    return _REGISTRY[0]


def warm_up() -> None:
    """Build the UCUM registry now (at a service's start-up) instead of in a request that meets a
    unit outside the precomputed table; a command-line call never needs it for common units."""
    _registry()


def _strip_annotations(ucum: str) -> str:
    stripped = ANNOTATION.sub("", ucum).strip()
    if stripped in ("", "/"):
        return "1"
    # "mL/min/{1.73_m2}" leaves "mL/min/": an annotation divides by unity
    return stripped.replace("/{", "/").replace("./", "/").rstrip("/.")


@lru_cache(maxsize=1)
def precomputed() -> dict[str, dict[str, float]]:
    """Analyte → UCUM unit → factor, as the registry computed them (see :data:`PRECOMPUTED`)."""
    table: dict[str, dict[str, float]] = json.loads(PRECOMPUTED.read_text(encoding="utf-8"))
    return table


@lru_cache(maxsize=512)
def factor(ucum: str, analyte: str) -> float:
    """Multiply a value in ``ucum`` by this to get the analyte's canonical unit.

    :raise UnitError: when the unit is not UCUM or cannot become the canonical unit.
    """
    canonical = CANONICAL[analyte]
    if canonical.unit == "1" and _strip_annotations(ucum) != "1":
        # A ratio has no unit: "%" under an INR code is a prothrombin activity, not an INR.
        raise UnitError(f"unit '{ucum}' is not a unit of a ratio such as the INR", "unit-not-ratio")
    known = precomputed().get(analyte, {}).get(ucum)
    return known if known is not None else registry_factor(ucum, analyte)


def registry_factor(ucum: str, analyte: str) -> float:
    """The factor as the UCUM registry computes it (builds the registry on first use).

    :raise UnitError: when the unit is not UCUM or cannot become the canonical unit.
    """
    canonical = CANONICAL[analyte]
    reg = _registry()
    try:
        source = reg.Quantity(1, reg.from_ucum(_strip_annotations(ucum)))
        target = reg.from_ucum(_strip_annotations(canonical.unit))
    except Exception as exc:  # ucumvert raises several parser error types
        raise UnitError(f"unit '{ucum}' is not a valid UCUM unit", "unit-invalid") from exc
    try:
        return float(source.to(target).magnitude)
    except Exception:
        pass
    if canonical.umol_l_per_canonical is not None:
        try:
            umol_l = float(source.to(reg.from_ucum("umol/L")).magnitude)
            return umol_l / canonical.umol_l_per_canonical
        except Exception:
            pass
    raise UnitError(
        f"unit '{ucum}' cannot be converted to {canonical.unit} for {analyte}",
        "unit-not-convertible",
    )


def ucum_code(code: str | None, system: str | None, text: str | None) -> str | None:
    """The UCUM unit of a Quantity: its code when the system is UCUM (or absent), else a known
    unambiguous spelling of its ``unit`` text, else ``None``."""
    if code and system in (None, "http://unitsofmeasure.org"):
        return code
    if text:
        return UNIT_TEXT.get(text.strip().lower().replace(" ", ""))
    return None


def is_canonical(ucum: str | None, analyte: str) -> bool:
    """Whether a unit is the analyte's canonical unit as written (annotations aside): a value
    reported in it reads the same converted, so a card need not show it twice. ``None`` (no
    unit) is canonical only for a ratio such as the INR."""
    canonical = CANONICAL[analyte].unit
    if ucum is None:
        return canonical == "1"
    return _strip_annotations(ucum) == _strip_annotations(canonical)


def to_canonical(value: float, ucum: str | None, analyte: str) -> float:
    """Convert ``value`` to the analyte's canonical unit.

    :raise UnitError: when the unit is missing (except for unitless INR) or not convertible.
    """
    if ucum is None:
        if CANONICAL[analyte].unit == "1":
            return value
        raise UnitError("no unit recorded", "unit-missing")
    if len(ucum) > MAX_UNIT_LENGTH:
        raise UnitError(f"unit of {len(ucum)} characters is not a laboratory unit", "unit-too-long")
    converted = value * factor(ucum, analyte)
    return float(f"{converted:.{SIGNIFICANT_DIGITS}g}")


def compute_table() -> dict[str, dict[str, float]]:
    """Every common unit's factor per analyte, by the registry (units that do not convert are left
    out: they are refused by the registry at run time, as before)."""
    units = sorted({*COMMON_UNITS, *UNIT_TEXT.values(), *(c.unit for c in CANONICAL.values())})
    table: dict[str, dict[str, float]] = {}
    for analyte, canonical in CANONICAL.items():
        for unit in units:
            if canonical.unit == "1" and _strip_annotations(unit) != "1":
                continue
            try:
                table.setdefault(analyte, {})[unit] = registry_factor(unit, analyte)
            except UnitError:
                continue
    return table


if __name__ == "__main__":
    PRECOMPUTED.write_text(json.dumps(compute_table(), indent=1, sort_keys=True) + "\n")
