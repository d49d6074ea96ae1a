"""Typed inputs of the clinical core, in canonical units (see docs/input-profile.md)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from cds.clinical.evidence import Fact, Lab, Source


class Severity(enum.Enum):
    """A graded finding (ascites, hepatic encephalopathy) as documented."""

    NOT_DOCUMENTED = "not documented"
    ABSENT = "absent"
    MILD = "mild"
    MODERATE_OR_SEVERE = "moderate or severe"
    SEVERITY_NOT_RECORDED = "present, severity not recorded"


class PortalInvasion(enum.IntEnum):
    """Macroscopic portal-vein invasion, Liver Cancer Study Group of Japan Vp grade."""

    VP0 = 0
    VP1 = 1
    VP2 = 2
    VP3 = 3  # first-order branch: an AJCC "major branch"
    VP4 = 4  # main trunk (or contralateral branch): excludes from NCT00919009


class HepaticVeinInvasion(enum.IntEnum):
    """Macroscopic hepatic-vein invasion, Vv grade."""

    VV0 = 0
    VV1 = 1
    VV2 = 2  # right, middle or left hepatic vein: an AJCC "major branch"
    VV3 = 3  # inferior vena cava: excludes from NCT00919009


class TumourPattern(enum.Enum):
    """Imaging pattern used for the BCLC B sub-groups."""

    WELL_DEFINED = "well-defined"
    INFILTRATIVE = "infiltrative"


class ConditionState(enum.Enum):
    """How a coded Condition stands: active, over (inactive, resolved, remission) or refuted."""

    ACTIVE = "active"
    RESOLVED = "resolved"
    REFUTED = "refuted"


@dataclass(frozen=True)
class ConditionFinding:
    """A coded Condition that bears on a trial exclusion.

    ``concept`` is the project's name for what it documents ("variceal-bleeding", "sbp", …);
    ``decides`` is ``False`` when the code only suggests the exclusion (e.g. a hypertension
    diagnosis for "uncontrolled hypertension"): the criterion is then to review.
    """

    concept: str
    source: Source
    state: ConditionState
    decides: bool = True
    onset: date | None = None


NotUsedKind = Literal["future-dated", "preliminary-newer"]


@dataclass(frozen=True)
class NotUsed:
    """A result the assessment did not use, with what it would have replaced.

    ``target`` names the input: a lab analyte ("bilirubin"), "ecog", or a tumour finding
    ("portal_invasion"); ``value`` is the result read as the used one would be.
    """

    kind: NotUsedKind
    target: str
    value: Lab | Fact[Any]


RecordedGrade = Literal["mild", "moderate", "severe"]


@dataclass(frozen=True)
class GradedFinding:
    """Ascites or encephalopathy: the grade and the Condition it came from (if any).

    ``severity`` is the Child-Pugh grade (moderate and severe score alike); ``recorded`` the
    grade as the record names it ("mild", "moderate", "severe"), shown on cards.
    """

    severity: Severity
    source: Source | None = None
    recorded: RecordedGrade | None = None


@dataclass(frozen=True)
class LiverLabs:
    """The laboratory values, each the latest final result (or ``None`` when there is none)."""

    bilirubin: Lab | None = None  # mg/dL
    albumin: Lab | None = None  # g/dL
    inr: Lab | None = None  # ratio
    platelets: Lab | None = None  # 10*9/L
    anc: Lab | None = None  # 10*9/L
    haemoglobin: Lab | None = None  # g/dL
    ast: Lab | None = None  # U/L
    alt: Lab | None = None  # U/L
    creatinine: Lab | None = None  # mg/dL
    afp: Lab | None = None  # ng/mL
    creatinine_clearance: Lab | None = None  # mL/min
    egfr: Lab | None = None  # mL/min/1.73 m²


@dataclass(frozen=True)
class Tumour:
    """Tumour burden, invasion and spread as documented. ``None`` means not documented."""

    nodule_count: Fact[int] | None = None
    largest_cm: Fact[float] | None = None
    portal_invasion: Fact[PortalInvasion] | None = None
    hepatic_vein_invasion: Fact[HepaticVeinInvasion] | None = None
    bile_duct_invasion: Fact[bool] | None = None
    microvascular_invasion: Fact[bool] | None = None
    adjacent_organ_invasion: Fact[bool] | None = None
    regional_nodes: Fact[bool] | None = None  # N1
    distant_metastasis: Fact[bool] | None = None  # M1
    pattern: Fact[TumourPattern] | None = None
    within_transplant_criteria: Fact[bool] | None = None
    recorded_t: Fact[str] | None = None  # AJCC T category recorded by the clinician ("T2")


@dataclass(frozen=True)
class Resection:
    """A completed hepatectomy and what pathology and follow-up said of it."""

    procedure: Source
    performed: date | None
    margin: Fact[str] | None = None  # "R0", "R1", "R2"
    recurrence: Fact[bool] | None = None
    microvascular_invasion: Fact[bool] | None = None  # on the resection specimen


@dataclass(frozen=True)
class PatientInputs:
    """Everything the assessment reads about one patient."""

    patient: str
    birth_date: date | None
    hcc: Source | None
    labs: LiverLabs = field(default_factory=LiverLabs)
    ecog: Fact[int] | None = None
    ascites: GradedFinding = GradedFinding(Severity.NOT_DOCUMENTED)
    encephalopathy: GradedFinding = GradedFinding(Severity.NOT_DOCUMENTED)
    cholestatic_disease: Source | None = None
    tumour: Tumour = field(default_factory=Tumour)
    resection: Resection | None = None
    # Signs of a prior resection (recurrence, margin, MVI) when no hepatectomy is documented.
    resection_hints: tuple[Source, ...] = ()
    # Coded Conditions that bear on trial exclusions, whatever their clinical status.
    condition_findings: tuple[ConditionFinding, ...] = ()
    # Results left out (dated after the assessment date, preliminary and newer than the final).
    not_used: tuple[NotUsed, ...] = ()
    # Resources that were selected but could not be used (invalid FHIR, skipped prefetch, …):
    # a description as the FHIR layer gives it.
    data_problems: tuple[str, ...] = ()
    # False when the patient's diagnoses could not be obtained at all: then "no HCC coded" is
    # unknown, not a fact, and the patient still gets a card saying so.
    diagnoses_available: bool = True

    def active_finding(self, *concepts: str) -> ConditionFinding | None:
        """The first active coded Condition documenting one of ``concepts`` ("dialysis", …)."""
        return next(
            (
                f
                for f in self.condition_findings
                if f.concept in concepts and f.state is ConditionState.ACTIVE
            ),
            None,
        )
