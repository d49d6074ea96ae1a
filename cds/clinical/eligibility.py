"""Criterion-by-criterion eligibility for a trial protocol.

A protocol is data: a tuple of :class:`Criterion` (id, inclusion or exclusion, protocol text, rule).
Each rule is judged *met*, *not met* or *unknown* with a reason and the sources it used. Overall:
*eligible* only when every criterion is met, *ineligible* when any is not met, otherwise *unknown*.
For an exclusion criterion, *met* means the exclusion does not apply.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from cds.clinical.child_pugh import SCORE_LOOKBACK_DAYS, ChildPugh
from cds.clinical.evidence import Source, Status, age_in_days, all_of, shown, usable
from cds.clinical.inputs import PatientInputs
from cds.clinical.tnm import Muicc
from cds.clinical.tumour import distant_metastasis, main_vessel_invasion, regional_nodes


@dataclass(frozen=True)
class Context:
    """What the rules may read: the inputs, the date, and the scores already computed."""

    inputs: PatientInputs
    as_of: date
    child_pugh: ChildPugh  # scored with the trial's lab window, not the 30-day lookback
    muicc: Muicc
    lab_window_days: int
    default_uln: dict[str, float]


@dataclass(frozen=True)
class Judgement:
    """A rule's verdict."""

    status: Status
    reason: str
    sources: tuple[Source, ...] = ()


class Rule(Protocol):
    def judge(self, ctx: Context) -> Judgement: ...


@dataclass(frozen=True)
class Criterion:
    """One protocol criterion, kept as data."""

    id: str
    kind: str  # "inclusion" or "exclusion"
    text: str
    rule: Rule


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    judgement: Judgement


@dataclass(frozen=True)
class Eligibility:
    """Overall status ("eligible", "ineligible", "unknown") and every criterion's result."""

    trial: str
    status: str
    results: tuple[CriterionResult, ...]

    def with_status(self, status: Status) -> list[CriterionResult]:
        return [r for r in self.results if r.judgement.status is status]


COMPARATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "<": (operator.lt, "below"),
    "<=": (operator.le, "at most"),
    ">": (operator.gt, "above"),
    ">=": (operator.ge, "at least"),
}


def compare(value: float, op: str, limit: float) -> bool:
    return COMPARATORS[op][0](value, limit)


@dataclass(frozen=True)
class LabLimit:
    """A laboratory value against a fixed limit, within the trial's lab window."""

    analyte: str
    op: str
    limit: float
    unit: str

    def judge(self, ctx: Context) -> Judgement:
        lab = usable(
            getattr(ctx.inputs.labs, self.analyte), self.analyte, ctx.as_of, ctx.lab_window_days
        )
        if lab.value is None or lab.lab is None:
            return Judgement(Status.UNKNOWN, f"{lab.reason} (repeat lab)")
        ok = compare(lab.value, self.op, self.limit)
        words = COMPARATORS[self.op][1]
        reason = (
            f"{self.analyte} {shown(lab.value)} {self.unit}; needs {words} {self.limit:g} "
            f"{self.unit}"
        ).replace("  ", " ")
        return Judgement(Status.of(ok), reason, (lab.lab.source,))


@dataclass(frozen=True)
class BelowUlnMultiple:
    """Each analyte below a multiple of its upper limit of normal, within the lab window."""

    analytes: tuple[str, ...]
    multiple: float

    def judge_one(self, ctx: Context, analyte: str) -> Judgement:
        lab = usable(getattr(ctx.inputs.labs, analyte), analyte, ctx.as_of, ctx.lab_window_days)
        if lab.value is None or lab.lab is None:
            return Judgement(Status.UNKNOWN, f"{lab.reason} (repeat lab)")
        uln = lab.lab.uln if lab.lab.uln is not None else ctx.default_uln[analyte]
        assumed = " (ULN assumed: no reference range on the result)" if lab.lab.uln is None else ""
        limit = self.multiple * uln
        reason = (
            f"{analyte} {shown(lab.value)} {lab.lab.unit} = {lab.value / uln:.2f}× ULN {shown(uln)}"
            f"{assumed}; needs below {self.multiple:g}× ULN"
        )
        return Judgement(Status.of(lab.value < limit), reason, (lab.lab.source,))

    def judge(self, ctx: Context) -> Judgement:
        parts = [self.judge_one(ctx, a) for a in self.analytes]
        status = all_of([p.status for p in parts])
        return Judgement(
            status, "; ".join(p.reason for p in parts), tuple(s for p in parts for s in p.sources)
        )


@dataclass(frozen=True)
class HasHcc:
    def judge(self, ctx: Context) -> Judgement:
        hcc = ctx.inputs.hcc
        if hcc is None and not ctx.inputs.diagnoses_available:
            return Judgement(Status.UNKNOWN, "diagnoses could not be obtained")
        if hcc is None:
            return Judgement(Status.NOT_MET, "no active HCC diagnosis coded")
        return Judgement(Status.MET, "HCC diagnosis coded", (hcc,))


@dataclass(frozen=True)
class MinimumAge:
    years: int

    def judge(self, ctx: Context) -> Judgement:
        born = ctx.inputs.birth_date
        if born is None:
            return Judgement(Status.UNKNOWN, "birth date not recorded")
        age = age_on(born, ctx.as_of)
        return Judgement(Status.of(age >= self.years), f"age {age}; needs at least {self.years}")


def age_on(born: date, as_of: date) -> int:
    """Completed years of age on a date."""
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))


@dataclass(frozen=True)
class MaximumEcog:
    grade: int

    def judge(self, ctx: Context) -> Judgement:
        ecog = ctx.inputs.ecog
        if ecog is None:
            return Judgement(Status.UNKNOWN, "ECOG performance status not documented")
        age = age_in_days(ecog.source.date, ctx.as_of)
        if age is None or age > SCORE_LOOKBACK_DAYS:
            return Judgement(
                Status.UNKNOWN, f"ECOG older than {SCORE_LOOKBACK_DAYS} days", (ecog.source,)
            )
        return Judgement(
            Status.of(ecog.value <= self.grade),
            f"ECOG {ecog.value}; needs at most {self.grade}",
            (ecog.source,),
        )


@dataclass(frozen=True)
class MaximumChildPugh:
    score: int

    def judge(self, ctx: Context) -> Judgement:
        low, high = ctx.child_pugh.score_range
        shown = f"{low}" if low == high else f"{low}–{high} ({', '.join(ctx.child_pugh.missing)})"
        reason = f"Child-Pugh {shown}; needs at most {self.score}"
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
        wanted = " or ".join(self.stages)
        if m.stage is None:
            return Judgement(Status.UNKNOWN, f"mUICC stage undetermined ({', '.join(m.missing)})")
        if m.reached_via_n1:
            return Judgement(
                Status.UNKNOWN,
                "mUICC IVA through regional nodes (N1): extrahepatic disease, needs review",
            )
        if m.stage == "IVA" and m.n is None:
            return Judgement(
                Status.UNKNOWN,
                "mUICC IVA with regional nodes undocumented: N1 (extrahepatic disease) not ruled "
                "out",
            )
        return Judgement(Status.of(m.stage in self.stages), f"mUICC {m.stage}; needs {wanted}")


@dataclass(frozen=True)
class NoMainVesselInvasion:
    def judge(self, ctx: Context) -> Judgement:
        t = ctx.inputs.tumour
        invaded = main_vessel_invasion(t)
        sources = tuple(f.source for f in (t.portal_invasion, t.hepatic_vein_invasion) if f)
        if invaded is None:
            return Judgement(
                Status.UNKNOWN, "portal and hepatic-vein invasion not both documented", sources
            )
        reason = (
            "main portal vein or IVC invasion" if invaded else "no main portal vein or IVC invasion"
        )
        return Judgement(Status.of(not invaded), reason, sources)


@dataclass(frozen=True)
class NoExtrahepaticMetastasis:
    """M1 excludes. Regional-node metastasis (N1) is extrahepatic disease too, but the protocol
    speaks of metastasis: it is left to review (clinical.md §1.5), never read as met."""

    def judge(self, ctx: Context) -> Judgement:
        t = ctx.inputs.tumour
        mets, nodes = distant_metastasis(t), regional_nodes(t)
        sources = tuple(f.source for f in (t.distant_metastasis, t.regional_nodes) if f)
        if mets:
            return Judgement(Status.NOT_MET, "M1: extrahepatic metastasis", sources)
        if mets is None:
            return Judgement(Status.UNKNOWN, "distant metastasis (M) not documented", sources)
        if nodes:
            return Judgement(
                Status.UNKNOWN,
                "M0 but regional lymph-node metastasis (N1): extrahepatic disease, needs review",
                sources,
            )
        if nodes is None:
            return Judgement(
                Status.UNKNOWN, "M0 but regional lymph nodes (N) not documented", sources
            )
        return Judgement(Status.MET, "M0, N0", sources)


@dataclass(frozen=True)
class MaximumTumourSize:
    cm: float

    def judge(self, ctx: Context) -> Judgement:
        size = ctx.inputs.tumour.largest_cm
        if size is None:
            return Judgement(Status.UNKNOWN, "largest tumour size not documented")
        return Judgement(
            Status.of(size.value <= self.cm),
            f"largest tumour {size.value:g} cm; needs at most {self.cm:g} cm",
            (size.source,),
        )


@dataclass(frozen=True)
class NotDocumented:
    """An exclusion criterion read from coded Conditions: met when no such Condition exists."""

    exclusion: str

    def judge(self, ctx: Context) -> Judgement:
        found = ctx.inputs.exclusions.get(self.exclusion)
        if found is not None:
            return Judgement(Status.NOT_MET, f"documented: {found.describe()}", (found,))
        maybe = ctx.inputs.exclusions_to_review.get(self.exclusion)
        if maybe is not None:
            return Judgement(
                Status.UNKNOWN,
                f"{maybe.describe()} documented: review whether it meets the exclusion",
                (maybe,),
            )
        return Judgement(Status.MET, "not documented: confirm with the patient")


def evaluate(trial: str, criteria: tuple[Criterion, ...], ctx: Context) -> Eligibility:
    """Judge every criterion and combine them."""
    results = tuple(CriterionResult(c, c.rule.judge(ctx)) for c in criteria)
    statuses = [r.judgement.status for r in results]
    if Status.NOT_MET in statuses:
        overall = "ineligible"
    elif Status.UNKNOWN in statuses:
        overall = "unknown"
    else:
        overall = "eligible"
    return Eligibility(trial, overall, results)
