"""Structured results: the core says *what* it found as a code with typed parameters, never prose.

Every reason, criterion result, flag, missing or not-used item the clinical core returns is a
:class:`Note`. The words live in the message catalogue (``cards/<locale>/messages.json``), one
message per code; the renderer looks the code up and fills in the parameters. Parameters are plain
values (text, numbers, ISO dates, tuples of text) so that they serialise to JSON as they are.
Parameters named in :data:`TRANSLATED` hold an identifier the renderer translates too (an analyte
name, a unit, a finding).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Literal

RULES_VERSION = "2026.12-3"  # the version of the clinical rules; on every card and JSON output

Param = str | int | float | bool | None | tuple[str, ...]

# Parameter name → catalogue prefix: the value is an identifier, shown by its catalogue entry.
TRANSLATED: Mapping[str, str] = MappingProxyType(
    {
        "analyte": "analyte",
        "unit": "unit",
        "finding": "finding",
        "findings": "finding",
        "component": "component",
        "components": "component",
        "part": "peng-part",
        "vessel": "vessel",
        "kind": "not-used-kind",
        "order": "order-name",
        "op": "op",
        "item": "criterion",
        "causes": "cause",
        "analytes": "analyte",
        "problem": "lab-problem",
        "option": "option",
        "infection": "infection",
        "grade": "grade",
    }
)

Code = Literal[
    # laboratory values and facts
    "lab-missing",
    "lab-unusable",
    "lab-stale",
    "lab-limit",
    "lab-uln-multiple",
    "finding-missing",
    # Child-Pugh and ALBI
    "cp-not-documented-scored-absent",
    "cp-severity-not-recorded",
    "cp-class-b-possible",
    "uln-assumed",
    "albi-bilirubin-not-positive",
    # BCLC
    "bclc-ecog-3-4",
    "bclc-end-stage-liver",
    "bclc-macrovascular-invasion",
    "bclc-extrahepatic-spread",
    "bclc-ecog-1-2",
    "bclc-ecog-0",
    "bclc-liver-preserved",
    "liver-function-undetermined",
    # TNM
    "ajcc-t1b-or-t2-needs-mvi",
    # trial criteria: labels
    "crit-hcc",
    "crit-min-age",
    "crit-max-ecog",
    "crit-max-child-pugh",
    "crit-muicc-stage",
    "crit-no-main-vessel",
    "crit-no-extrahepatic",
    "crit-max-tumour-size",
    "crit-lab-limit",
    "crit-uln-multiple",
    "crit-clinician",
    "crit-exclusion",
    # trial criteria: reasons
    "diagnoses-unavailable",
    "hcc-not-coded",
    "hcc-coded",
    "birth-date-missing",
    "age",
    "ecog-missing",
    "ecog-stale",
    "ecog-grade",
    "child-pugh-score",
    "child-pugh-range",
    "muicc-undetermined",
    "muicc-iva-via-n1",
    "muicc-iva-n-undocumented",
    "muicc-stage",
    "vessels-undocumented",
    "main-vessel-invaded",
    "no-main-vessel-invasion",
    "m1",
    "m-undocumented",
    "m0-n1",
    "m0-n-undocumented",
    "m0-n0",
    "tumour-size",
    "clinician-confirms",
    "exclusion-present",
    "exclusion-absent",
    "exclusion-to-review",
    "exclusion-not-documented",
    "criterion-not-used-could-change",
    # recommendation
    "no-hcc",
    "hcc-unknown",
    "end-stage-liver",
    "bclc-d",
    "child-pugh-8-or-more",
    "child-pugh-range-8-or-more",
    "extrahepatic-spread",
    "bilirubin-above-3",
    "encephalopathy",
    "ascites-moderate-severe",
    "ascites-grade-missing",
    "ascites-implied-by-sbp",
    "active-infection",
    "bclc-c",
    "tumour-board-branch-pvi",
    "protocol-option-tumour-board",
    "data-could-change",
    "not-used-could-change",
    "bclc-b-subgroup-undecided",
    "bclc-early",
    "bclc-a-trial-met",
    "bclc-b3",
    "bclc-b1",
    "bclc-b1-bridging",
    "peng-unknown",
    "tace-either-way",
    "peng-population",
    "tace-standard",
    "protocol-option",
    "combination-not-suggested",
    "trial-unknown",
    "trial-ineligible",
    "missing-item",
    # data not used and data problems
    "not-used",
    "data-problem",
    # order checks
    "order-sorafenib-systemic-not-assessed",
    "order-sorafenib-not-supported",
    "order-sorafenib-protocol-option",
    "order-advanced-stage",
    "order-renal-dialysis",
    "order-renal-creatinine",
    "order-renal-filtration",
    "order-biliary-access",
    "order-systemic-end-stage",
    "order-systemic-liver-unknown",
    "order-no-tace",
    "order-sorafenib-without-tace",
    "order-systemic-bclc-c",
]


@dataclass(frozen=True)
class Note:
    """A coded finding: ``code`` names the message, ``params`` fill it in."""

    code: Code
    params: Mapping[str, Param] = field(default_factory=lambda: MappingProxyType({}))

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted(self.params.items()))))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Note)
            and other.code == self.code
            and dict(other.params) == dict(self.params)
        )


def note(code: Code, **params: Param | date) -> Note:
    """A note built by keyword; dates become ISO text so that every parameter is JSON."""
    clean = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items()}
    return Note(code, MappingProxyType(clean))


def day(when: date | None) -> str | None:
    """A date as a parameter (``None`` when undated)."""
    return when.isoformat() if when else None
