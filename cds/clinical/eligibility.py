"""Criterion-by-criterion eligibility for a trial protocol.

A protocol is data (:mod:`cds.clinical.protocols`): criteria, each with its id, kind, how it can be
judged (from FHIR data, or only by a clinician), the registry's source text, a short label and a
rule. The rules here are generic and shared by every protocol.

Statuses: an inclusion criterion is *met*, *not met* or *unknown*; an exclusion is *absent*
(documented absent), *present* (excludes), *to review* or *not documented* (confirm). Overall
(clinical-rules §6): *ineligible* if an inclusion is not met or an exclusion present; *unknown* if a
data inclusion is unknown or an exclusion is to review; otherwise *eligible*, always with the list
of what a clinician must still confirm (the clinician criteria and every undocumented exclusion).
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, Protocol

from cds.clinical.child_pugh import SCORE_LOOKBACK_DAYS, ChildPugh
from cds.clinical.evidence import Source, Status, age_in_days, all_of, reported, usable
from cds.clinical.inputs import ConditionFinding, ConditionState, PatientInputs, Severity
from cds.clinical.notes import Note, note
from cds.clinical.tnm import Muicc
from cds.clinical.tumour import distant_metastasis, main_vessel_invasion, regional_nodes


class ExclusionStatus(enum.Enum):
    """What was found for an exclusion criterion (never "met" beside the exclusion's name)."""

    ABSENT = "absent"
    PRESENT = "present"
    TO_REVIEW = "to_review"
    NOT_DOCUMENTED = "not_documented"


Kind = Literal["inclusion", "exclusion"]
JudgedBy = Literal["data", "clinician"]
Overall = Literal["eligible", "ineligible", "unknown"]
CriterionStatus = Status | ExclusionStatus


@dataclass(frozen=True)
class Context:
    """What the rules may read: the inputs, the date, and the scores already computed."""

    inputs: PatientInputs
    as_of: date
    child_pugh: ChildPugh  # scored with the protocol's lab window, not the 30-day lookback
    muicc: Muicc
    lab_window_days: int
    default_uln: dict[str, float]


@dataclass(frozen=True)
class Judgement:
    """A rule's verdict, the coded reason and the sources it used."""

    status: CriterionStatus
    reason: Note
    sources: tuple[Source, ...] = ()
    # Every missing or stale lab behind an unknown, when the reason names only the first
    # (AST and ALT both stale: both are to repeat).
    gaps: tuple[Note, ...] = ()


class Rule(Protocol):
    def judge(self, ctx: Context) -> Judgement: ...


@dataclass(frozen=True)
class Criterion:
    """One protocol criterion, kept as data.

    :param source_text: the registry's words, unchanged.
    :param label: the short label shown on cards (a catalogue code with parameters).
    """

    id: str
    kind: Kind
    judged_by: JudgedBy
    source_text: str
    label: Note
    rule: Rule


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    judgement: Judgement


@dataclass(frozen=True)
class TrialProtocol:
    """A trial protocol: its criteria, lab window and registry facts, as data."""

    id: str
    criteria: tuple[Criterion, ...]
    lab_window_days: int
    registry_status: Literal["completed", "recruiting", "active", "terminated"]
    years: str
    evidence: str  # evidence id (cards/evidence.json) with the trial's source link


@dataclass(frozen=True)
class Eligibility:
    """Overall status, every criterion's result, and what a clinician must still confirm."""

    trial: str
    status: Overall
    results: tuple[CriterionResult, ...]
    to_confirm: tuple[CriterionResult, ...]
    protocol: TrialProtocol

    def with_status(self, status: CriterionStatus) -> list[CriterionResult]:
        return [r for r in self.results if r.judgement.status is status]

    @property
    def decisive(self) -> tuple[CriterionResult, ...]:
        """The results behind the overall status (not met / present, or unknown / to review)."""
        wanted = {
            "ineligible": (Status.NOT_MET, ExclusionStatus.PRESENT),
            "unknown": (Status.UNKNOWN, ExclusionStatus.TO_REVIEW),
            "eligible": (),
        }[self.status]
        return tuple(
            r
            for r in self.results
            if r.judgement.status in wanted and r.criterion.judged_by == "data"
        )


COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compare(value: float, op: str, limit: float) -> bool:
    return COMPARATORS[op](value, limit)


def lab_gap(ctx: Context, analyte: str) -> Judgement | None:
    """Unknown (repeat lab) when the analyte has no usable result within the lab window."""
    lab = usable(getattr(ctx.inputs.labs, analyte), analyte, ctx.as_of, ctx.lab_window_days)
    if lab.value is None or lab.lab is None:
        sources = (lab.lab.source,) if lab.lab else ()
        return Judgement(
            Status.UNKNOWN, lab.reason or note("lab-missing", analyte=analyte), sources
        )
    return None


@dataclass(frozen=True)
class LabLimit:
    """A laboratory value against a fixed limit, within the trial's lab window."""

    analyte: str
    op: str
    limit: float
    unit: str

    def judge(self, ctx: Context) -> Judgement:
        gap = lab_gap(ctx, self.analyte)
        if gap:
            return gap
        lab = getattr(ctx.inputs.labs, self.analyte)
        ok = compare(lab.value, self.op, self.limit)
        reason = note(
            "lab-limit",
            analyte=self.analyte,
            value=round(lab.value, 2),
            unit=self.unit,
            **reported(lab),
            op=self.op,
            limit=self.limit,
            date=lab.source.date,
        )
        return Judgement(Status.of(ok), reason, (lab.source,))


@dataclass(frozen=True)
class BelowUlnMultiple:
    """Each analyte below a multiple of its upper limit of normal, within the lab window.

    Several analytes are read as *all* below (the safer reading of "AST or ALT", clinical-rules §6).
    """

    analytes: tuple[str, ...]
    multiple: float

    def judge_one(self, ctx: Context, analyte: str) -> Judgement:
        gap = lab_gap(ctx, analyte)
        if gap:
            return gap
        lab = getattr(ctx.inputs.labs, analyte)
        uln = lab.uln if lab.uln is not None else ctx.default_uln[analyte]
        reason = note(
            "lab-uln-multiple",
            analyte=analyte,
            value=round(lab.value, 2),
            unit=lab.unit,
            **reported(lab),
            times_uln=round(lab.value / uln, 2),
            uln=round(uln, 2),
            uln_assumed=lab.uln is None,
            multiple=self.multiple,
            date=lab.source.date,
        )
        return Judgement(Status.of(lab.value < self.multiple * uln), reason, (lab.source,))

    def judge(self, ctx: Context) -> Judgement:
        parts = [self.judge_one(ctx, a) for a in self.analytes]
        status = all_of([p.status for p in parts if isinstance(p.status, Status)])
        # The reason shown is the part that decides: the first not met, else the first unknown.
        order = {Status.NOT_MET: 0, Status.UNKNOWN: 1, Status.MET: 2}
        decisive = min(parts, key=lambda p: order[p.status] if isinstance(p.status, Status) else 3)
        gaps = tuple(p.reason for p in parts if p.status is Status.UNKNOWN)
        return Judgement(
            status, decisive.reason, tuple(s for p in parts for s in p.sources), gaps=gaps
        )


@dataclass(frozen=True)
class HasHcc:
    def judge(self, ctx: Context) -> Judgement:
        hcc = ctx.inputs.hcc
        if hcc is None and not ctx.inputs.diagnoses_available:
            return Judgement(Status.UNKNOWN, note("diagnoses-unavailable"))
        if hcc is None:
            return Judgement(Status.NOT_MET, note("hcc-not-coded"))
        return Judgement(Status.MET, note("hcc-coded", source=hcc.resource), (hcc,))


@dataclass(frozen=True)
class MinimumAge:
    years: int

    def judge(self, ctx: Context) -> Judgement:
        born = ctx.inputs.birth_date
        if born is None:
            return Judgement(Status.UNKNOWN, note("birth-date-missing"))
        age = age_on(born, ctx.as_of)
        return Judgement(Status.of(age >= self.years), note("age", age=age, min=self.years))


def age_on(born: date, as_of: date) -> int:
    """Completed years of age on a date."""
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))


@dataclass(frozen=True)
class MaximumEcog:
    grade: int

    def judge(self, ctx: Context) -> Judgement:
        ecog = ctx.inputs.ecog
        if ecog is None:
            return Judgement(Status.UNKNOWN, note("ecog-missing"))
        age = age_in_days(ecog.source.date, ctx.as_of)
        if age is None or age > SCORE_LOOKBACK_DAYS:
            reason = note("ecog-stale", date=ecog.source.date, max_days=SCORE_LOOKBACK_DAYS)
            return Judgement(Status.UNKNOWN, reason, (ecog.source,))
        return Judgement(
            Status.of(ecog.value <= self.grade),
            note("ecog-grade", ecog=ecog.value, max=self.grade, date=ecog.source.date),
            (ecog.source,),
        )


@dataclass(frozen=True)
class MaximumChildPugh:
    score: int

    def judge(self, ctx: Context) -> Judgement:
        low, high = ctx.child_pugh.score_range
        if low == high:
            reason = note("child-pugh-score", score=low, max=self.score)
        else:
            missing = tuple(str(m.params.get("analyte", "")) for m in ctx.child_pugh.missing)
            reason = note("child-pugh-range", low=low, high=high, max=self.score, analytes=missing)
        if high <= self.score:
            return Judgement(Status.MET, reason)
        if low > self.score:
            return Judgement(Status.NOT_MET, reason)
        return Judgement(Status.UNKNOWN, reason)


@dataclass(frozen=True)
class MuiccStageIn:
    """mUICC stage in a set; stage IVA reached through N1 is extrahepatic disease → review."""

    stages: tuple[str, ...]

    def judge(self, ctx: Context) -> Judgement:
        m = ctx.muicc
        if m.stage is None:
            findings = tuple(str(n.params.get("finding", "")) for n in m.missing)
            return Judgement(Status.UNKNOWN, note("muicc-undetermined", findings=findings))
        if m.reached_via_n1:
            return Judgement(Status.UNKNOWN, note("muicc-iva-via-n1"))
        if m.stage == "IVA" and m.n is None:
            return Judgement(Status.UNKNOWN, note("muicc-iva-n-undocumented"))
        return Judgement(
            Status.of(m.stage in self.stages),
            note("muicc-stage", stage=m.stage, wanted=self.stages),
        )


@dataclass(frozen=True)
class NoMainVesselInvasion:
    def judge(self, ctx: Context) -> Judgement:
        t = ctx.inputs.tumour
        invaded = main_vessel_invasion(t)
        facts = [f for f in (t.portal_invasion, t.hepatic_vein_invasion) if f]
        sources = tuple(f.source for f in facts)
        if invaded is None:
            return Judgement(Status.UNKNOWN, note("vessels-undocumented"), sources)
        if invaded:
            return Judgement(Status.NOT_MET, main_vessel_note(ctx.inputs), sources)
        return Judgement(Status.MET, note("no-main-vessel-invasion"), sources)


def main_vessel_note(inputs: PatientInputs) -> Note:
    """Main portal vein (Vp4) or IVC (Vv3) invasion named with its grade and date."""
    t = inputs.tumour
    if t.portal_invasion is not None and t.portal_invasion.value >= 4:
        return note("main-vessel-invaded", vessel="vp4", date=t.portal_invasion.source.date)
    assert t.hepatic_vein_invasion is not None
    return note("main-vessel-invaded", vessel="vv3", date=t.hepatic_vein_invasion.source.date)


@dataclass(frozen=True)
class NoExtrahepaticMetastasis:
    """M1 excludes. Regional-node metastasis (N1) is extrahepatic disease too, but the protocol
    speaks of metastasis: it is left to review (clinical-rules §6), never read as met."""

    def judge(self, ctx: Context) -> Judgement:
        t = ctx.inputs.tumour
        mets, nodes = distant_metastasis(t), regional_nodes(t)
        sources = tuple(f.source for f in (t.distant_metastasis, t.regional_nodes) if f)
        if mets:
            return Judgement(Status.NOT_MET, note("m1"), sources)
        if mets is None:
            return Judgement(Status.UNKNOWN, note("m-undocumented"), sources)
        if nodes:
            return Judgement(Status.UNKNOWN, note("m0-n1"), sources)
        if nodes is None:
            return Judgement(Status.UNKNOWN, note("m0-n-undocumented"), sources)
        return Judgement(Status.MET, note("m0-n0"), sources)


@dataclass(frozen=True)
class MaximumTumourSize:
    cm: float

    def judge(self, ctx: Context) -> Judgement:
        size = ctx.inputs.tumour.largest_cm
        if size is None:
            return Judgement(Status.UNKNOWN, note("finding-missing", finding="largest_cm"))
        return Judgement(
            Status.of(size.value <= self.cm),
            note("tumour-size", cm=size.value, max=self.cm, date=size.source.date),
            (size.source,),
        )


@dataclass(frozen=True)
class ClinicianConfirms:
    """A criterion no FHIR data can decide: always unknown, listed for the clinician."""

    def judge(self, ctx: Context) -> Judgement:
        return Judgement(Status.UNKNOWN, note("clinician-confirms"))


# --- exclusions ---------------------------------------------------------------------------------


def present(source: Source) -> Judgement:
    return Judgement(
        ExclusionStatus.PRESENT,
        note("exclusion-present", source=source.resource, found=source.original, date=source.date),
        (source,),
    )


def to_review(source: Source) -> Judgement:
    return Judgement(
        ExclusionStatus.TO_REVIEW,
        note(
            "exclusion-to-review", source=source.resource, found=source.original, date=source.date
        ),
        (source,),
    )


def absent(source: Source | None = None) -> Judgement:
    sources = (source,) if source else ()
    return Judgement(
        ExclusionStatus.ABSENT,
        note("exclusion-absent", source=source.resource if source else None),
        sources,
    )


def not_documented() -> Judgement:
    return Judgement(ExclusionStatus.NOT_DOCUMENTED, note("exclusion-not-documented"))


@dataclass(frozen=True)
class ConditionExclusion:
    """An exclusion read from coded Conditions.

    :param concepts: the concepts that show it; a finding that only suggests it is to review.
    :param history: "history of" criteria count a Condition whatever its clinical status
        (resolved, remission…); current-state criteria count only active ones (clinical-rules §6).
    :param review: concepts that never decide it, only make it to review.
    :param resolved_review: a current-state criterion whose resolved Conditions are still to
        review (a previous cancer may or may not have been curatively treated > 3 years ago).
    """

    concepts: tuple[str, ...]
    history: bool
    review: tuple[str, ...] = ()
    resolved_review: bool = False

    def findings(self, ctx: Context) -> list[ConditionFinding]:
        wanted = (*self.concepts, *self.review)
        counted = (
            (ConditionState.ACTIVE, ConditionState.RESOLVED)
            if self.history
            else (ConditionState.ACTIVE,)
        )
        return [
            f for f in ctx.inputs.condition_findings if f.concept in wanted and f.state in counted
        ]

    def judge(self, ctx: Context) -> Judgement:
        found = self.findings(ctx)
        deciding = [f for f in found if f.decides and f.concept in self.concepts]
        if deciding:
            return present(deciding[0].source)
        if found:
            return to_review(found[0].source)
        if self.resolved_review:
            over = [
                f
                for f in ctx.inputs.condition_findings
                if f.concept in (*self.concepts, *self.review)
                and f.state is ConditionState.RESOLVED
            ]
            if over:
                return to_review(over[0].source)
        refuted = [
            f
            for f in ctx.inputs.condition_findings
            if f.concept in self.concepts and f.state is ConditionState.REFUTED
        ]
        return absent(refuted[0].source) if refuted else not_documented()


# clinical-rules §6: a myocardial infarction more than 6 months before study entry is allowed.
MI_ALLOWED_AFTER_DAYS = 183


@dataclass(frozen=True)
class CardiacExclusion:
    """Current-state cardiac disease: active coronary disease (an infarction judged by its onset
    date: more than 6 months before is allowed), and the items that a diagnosis alone cannot
    decide (heart failure without NYHA class, arrhythmia on therapy, uncontrolled hypertension or
    diabetes: to review)."""

    coronary: tuple[str, ...] = ("coronary-disease",)
    infarction: str = "myocardial-infarction"
    review: tuple[str, ...] = ()

    def judge(self, ctx: Context) -> Judgement:
        active = [f for f in ctx.inputs.condition_findings if f.state is ConditionState.ACTIVE]
        for f in active:
            if f.concept in self.coronary:
                return present(f.source) if f.decides else to_review(f.source)
        for f in active:
            if f.concept == self.infarction:
                if f.onset is None:
                    return to_review(f.source)
                if ctx.as_of - f.onset <= timedelta(days=MI_ALLOWED_AFTER_DAYS):
                    return present(f.source)
        reviewed = [f for f in active if f.concept in self.review]
        if reviewed:
            return to_review(reviewed[0].source)
        return not_documented()


@dataclass(frozen=True)
class InfiltrativeHcc:
    """Diffuse infiltrative HCC: the documented tumour pattern decides it."""

    def judge(self, ctx: Context) -> Judgement:
        pattern = ctx.inputs.tumour.pattern
        if pattern is None:
            return not_documented()
        if pattern.value.value == "infiltrative":
            return present(pattern.source)
        return absent(pattern.source)


@dataclass(frozen=True)
class EncephalopathyOrIntractableAscites:
    """Any documented hepatic encephalopathy, or ascites documented as refractory, excludes;
    moderate or severe ascites is to review; mild ascites does not exclude (the card flags it)."""

    refractory: str = "refractory-ascites"

    def judge(self, ctx: Context) -> Judgement:
        he, ascites = ctx.inputs.encephalopathy, ctx.inputs.ascites
        if he.severity not in (Severity.NOT_DOCUMENTED, Severity.ABSENT) and he.source:
            return present(he.source)
        refractory = ctx.inputs.active_finding(self.refractory)
        if refractory is not None:
            return present(refractory.source)
        if ascites.severity in (Severity.MODERATE_OR_SEVERE, Severity.SEVERITY_NOT_RECORDED):
            assert ascites.source is not None
            return to_review(ascites.source)
        if Severity.NOT_DOCUMENTED in (he.severity, ascites.severity):
            return not_documented()
        return absent(ascites.source or he.source)


# --- the protocol as a whole --------------------------------------------------------------------


def overall(results: tuple[CriterionResult, ...]) -> Overall:
    """Ineligible, unknown or eligible from the data criteria (clinical-rules §6)."""
    data = [r.judgement.status for r in results if r.criterion.judged_by == "data"]
    if Status.NOT_MET in data or ExclusionStatus.PRESENT in data:
        return "ineligible"
    if Status.UNKNOWN in data or ExclusionStatus.TO_REVIEW in data:
        return "unknown"
    return "eligible"


def evaluate(protocol: TrialProtocol, ctx: Context) -> Eligibility:
    """Judge every criterion and combine them."""
    return combine(
        protocol, tuple(CriterionResult(c, c.rule.judge(ctx)) for c in protocol.criteria)
    )


def combine(protocol: TrialProtocol, results: tuple[CriterionResult, ...]) -> Eligibility:
    """The overall status and what a clinician must confirm, from the criterion results."""
    confirm = tuple(
        r
        for r in results
        if r.criterion.judged_by == "clinician"
        or r.judgement.status is ExclusionStatus.NOT_DOCUMENTED
    )
    return Eligibility(protocol.id, overall(results), results, confirm, protocol)


def withhold_criteria(elig: Eligibility, changed: Mapping[str, Note]) -> Eligibility:
    """Criteria that a result not used would change, if it were valid, are not decided: unknown
    (an exclusion: to review), with the result named (ruling A7: the cautious reading)."""
    if not changed:
        return elig

    def held(r: CriterionResult) -> CriterionResult:
        reason = changed.get(r.criterion.id)
        if reason is None:
            return r
        status = Status.UNKNOWN if r.criterion.kind == "inclusion" else ExclusionStatus.TO_REVIEW
        return CriterionResult(r.criterion, Judgement(status, reason, r.judgement.sources))

    return combine(elig.protocol, tuple(held(r) for r in elig.results))
