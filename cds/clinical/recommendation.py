"""The treatment recommendation of docs/clinical-rules.md §7.

No HCC → not applicable. A known contraindication (end-stage liver function or BCLC D, Child-Pugh
≥ 8, main portal vein or IVC invasion, extrahepatic spread, bilirubin > 3 mg/dL, decompensation,
an active serious infection, BCLC C) → no TACE, the decisive reason first. An unknown that could
change the answer → insufficient data, listing what to obtain. BCLC 0/A → no TACE (ablation,
resection or transplant come first); BCLC B with the sub-group undecided → insufficient data
naming the finding and what each answer leads to; B1 → transplant evaluation first (TACE as
bridging by the transplant team); B3 → systemic therapy. Then for B2: the Peng 2024 population →
TACE plus sorafenib (TACE alone the alternative); all NCT00919009 criteria met → TACE alone, with
TACE plus sorafenib as the protocol option; otherwise TACE alone. At BCLC C with the trial's data
criteria met, the protocol option is named for the tumour board (and branch portal invasion is
named only when it is present).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from cds.clinical.bclc import STAGE_ONLY_CAUSES, Bclc, stage_c_causes
from cds.clinical.child_pugh import ChildPugh
from cds.clinical.eligibility import Eligibility, main_vessel_note
from cds.clinical.evidence import Status, Usable, reported
from cds.clinical.inputs import ConditionFinding, ConditionState, PatientInputs, Severity, Tumour
from cds.clinical.notes import Code, Note, note
from cds.clinical.tumour import (
    distant_metastasis,
    extrahepatic_spread,
    main_vessel_invasion,
    regional_nodes,
)


class Option(enum.StrEnum):
    TACE_PLUS_SORAFENIB = "tace_plus_sorafenib"
    TACE = "tace"
    NO_TACE = "no_tace"
    INSUFFICIENT_DATA = "insufficient_data"
    NOT_APPLICABLE = "not_applicable"


TACE_PLUS_SORAFENIB = Option.TACE_PLUS_SORAFENIB
TACE = Option.TACE
NO_TACE = Option.NO_TACE
INSUFFICIENT_DATA = Option.INSUFFICIENT_DATA
NOT_APPLICABLE = Option.NOT_APPLICABLE

MAX_CHILD_PUGH_FOR_TACE = 7  # clinical-rules §7: Child-Pugh ≥ 8 → no TACE suggestion
# Bilirubin > 3 mg/dL does not support TACE: the trial's inclusion limit, a service decision
# (clinical-rules §7) so that the patient-view card and the order check agree.
MAX_BILIRUBIN_MG_DL_FOR_TACE = 3.0

# An active SBP or sepsis withholds TACE until it is treated (service decision, clinical-rules §7):
# TACE during an active serious infection risks liver abscess and worsening sepsis. Other
# infections are not graded in the record (the trial's "> grade 2"), so they do not withhold it.
SERIOUS_INFECTIONS = ("sbp", "sepsis")

# Evidence ids (cards/evidence.json): at most three per decision, the ones that bear on it.
NO_OS_BENEFIT = "NO-OS-BENEFIT"  # SPACE, TACE-2, Post-TACE, TACTICS final OS, meta-analysis


@dataclass(frozen=True)
class Recommendation:
    """The option, why (the decisive reason first), what it rests on, and what is missing."""

    option: Option
    reasons: tuple[Note, ...]
    evidence: tuple[str, ...] = ()
    alternatives: tuple[Option, ...] = ()
    missing: tuple[Note, ...] = ()
    protocol_option: bool = False  # TACE + sorafenib offered as the NCT00919009 protocol option
    contraindicated: bool = False  # no TACE because of a known contraindication (not early stage)
    # The contraindication concerns the liver or the patient (so sorafenib too), not only TACE.
    liver_contraindicated: bool = False
    # BCLC C by ECOG 1–2 or branch portal invasion only: systemic therapy first line, TACE only by
    # tumour-board decision (not a contraindication in the clinical sense).
    advanced_stage_only: bool = False
    # Insufficient data that bears only on adding sorafenib: TACE is indicated whatever the
    # missing answer (the Peng 2024 question at BCLC B2), so a TACE order is supported.
    tace_indicated: bool = False


@dataclass(frozen=True)
class Contraindication:
    rank: int  # the headline order of clinical-rules §7: lower is more decisive
    reason: Note
    liver: bool  # liver function or general condition (applies to sorafenib too)


def branch_invasion_note(tumour: Tumour) -> Note | None:
    """Branch portal (Vp1–3) or hepatic-vein (Vv1–2) invasion, named with its grade and date."""
    vp, vv = tumour.portal_invasion, tumour.hepatic_vein_invasion
    if vp is not None and 1 <= vp.value <= 3:
        return note("tumour-board-branch-pvi", vessel=vp.value.name.lower(), date=vp.source.date)
    if vv is not None and 1 <= vv.value <= 2:
        return note("tumour-board-branch-pvi", vessel=vv.value.name.lower(), date=vv.source.date)
    return None


def active_serious_infection(inputs: PatientInputs) -> ConditionFinding | None:
    """The first active, confirmed SBP or sepsis Condition, if any."""
    return next(
        (
            f
            for f in inputs.condition_findings
            if f.concept in SERIOUS_INFECTIONS and f.state is ConditionState.ACTIVE and f.decides
        ),
        None,
    )


def contraindications(
    inputs: PatientInputs, bclc: Bclc, cp: ChildPugh, bilirubin: Usable
) -> list[Contraindication]:
    """Known reasons not to suggest TACE, each decided by the documentation, decisive first."""
    tumour = inputs.tumour
    found = []
    low, high = cp.score_range
    if bclc.liver_function == "end-stage":
        found.append(Contraindication(0, note("end-stage-liver", low=low, high=high), True))
    elif bclc.stage == "D":
        ecog = inputs.ecog.value if inputs.ecog else None
        found.append(Contraindication(0, note("bclc-d", ecog=ecog), True))
    if low > MAX_CHILD_PUGH_FOR_TACE and bclc.liver_function != "end-stage":
        reason = (
            note("child-pugh-8-or-more", score=low, cls=cp.cls)
            if low == high
            else note("child-pugh-range-8-or-more", low=low, high=high)
        )
        found.append(Contraindication(1, reason, True))
    if main_vessel_invasion(tumour):
        found.append(Contraindication(2, main_vessel_note(inputs), False))
    if extrahepatic_spread(tumour):
        fact = tumour.distant_metastasis if distant_metastasis(tumour) else tumour.regional_nodes
        reason = note(
            "extrahepatic-spread",
            distant=bool(distant_metastasis(tumour)),
            nodes=bool(regional_nodes(tumour)),
            date=fact.source.date if fact else None,
        )
        found.append(Contraindication(3, reason, False))
    if bilirubin.value is not None and bilirubin.value > MAX_BILIRUBIN_MG_DL_FOR_TACE:
        assert bilirubin.lab is not None
        reason = note(
            "bilirubin-above-3",
            value=round(bilirubin.value, 2),
            unit="mg/dL",
            **reported(bilirubin.lab),
            date=bilirubin.lab.source.date,
        )
        found.append(Contraindication(4, reason, True))
    he, ascites = inputs.encephalopathy, inputs.ascites
    if he.severity not in (Severity.NOT_DOCUMENTED, Severity.ABSENT):
        when = he.source.date if he.source else None
        found.append(Contraindication(5, note("encephalopathy", date=when), True))
    if ascites.severity is Severity.MODERATE_OR_SEVERE:
        when = ascites.source.date if ascites.source else None
        reason = note("ascites-moderate-severe", date=when, grade=ascites.recorded)
        found.append(Contraindication(5, reason, True))
    infection = active_serious_infection(inputs)
    if infection is not None:
        reason = note(
            "active-infection",
            infection=infection.concept,
            source=infection.source.resource,
            date=infection.source.date,
        )
        found.append(Contraindication(5, reason, True))
    if bclc.stage == "C":
        found.append(Contraindication(6, note("bclc-c", causes=stage_c_causes(bclc)), False))
    return sorted(found, key=lambda c: c.rank)


def open_questions(
    bclc: Bclc, cp: ChildPugh, inputs: PatientInputs, bilirubin: Usable
) -> list[Note]:
    """Unknowns that could still change the suggestion, each named once."""
    tumour = inputs.tumour
    missing: list[Note] = []
    if bilirubin.value is None and bilirubin.reason:
        missing.append(bilirubin.reason)
    if inputs.ascites.severity is Severity.SEVERITY_NOT_RECORDED:
        # Scored as mild for Child-Pugh (2 points, clinical-rules §1), but moderate or severe
        # ascites withholds TACE: the grade could change the suggestion, so it is asked for.
        source = inputs.ascites.source
        missing.append(note("ascites-grade-missing", date=source.date if source else None))
    low, high = cp.score_range
    if bclc.stage is None:
        # "liver function undetermined" is the Child-Pugh labs, named themselves below or here.
        missing.extend(m for m in bclc.missing if m.code != "liver-function-undetermined")
        if any(m.code == "liver-function-undetermined" for m in bclc.missing):
            missing.extend(cp.missing)
    if low <= MAX_CHILD_PUGH_FOR_TACE < high:
        missing.extend(cp.missing)
    if main_vessel_invasion(tumour) is None:
        missing.extend(
            note("finding-missing", finding=name)
            for name in ("portal_invasion", "hepatic_vein_invasion")
            if getattr(tumour, name) is None
        )
    if extrahepatic_spread(tumour) is None:
        missing.extend(
            note("finding-missing", finding=name)
            for name in ("regional_nodes", "distant_metastasis")
            if getattr(tumour, name) is None
        )
    unique: list[Note] = []
    for m in missing:
        if m not in unique:
            unique.append(m)
    return unique


def insufficient(reason: Note, missing: tuple[Note, ...]) -> Recommendation:
    return Recommendation(INSUFFICIENT_DATA, (reason,), missing=missing)


def no_tace_for(
    contra: list[Contraindication], tumour: Tumour, trial: Eligibility
) -> Recommendation:
    """No TACE: the decisive reasons, and at BCLC C with the trial met, the tumour-board option."""
    reasons = [c.reason for c in contra]
    causes = contra[0].reason.params.get("causes")
    stage_only = (
        all(c.reason.code == "bclc-c" for c in contra)
        and isinstance(causes, tuple)
        and all(cause in STAGE_ONLY_CAUSES for cause in causes)
    )
    evidence: tuple[str, ...] = ("BCLC-2022",)
    if stage_only and trial.status == "eligible":
        reasons.append(note("protocol-option-tumour-board", trial=trial.trial))
        branch = branch_invasion_note(tumour)
        if branch is not None:
            reasons.append(branch)
        evidence = ("BCLC-2022", trial.protocol.evidence)
    return Recommendation(
        NO_TACE,
        tuple(reasons),
        evidence,
        contraindicated=True,
        liver_contraindicated=any(c.liver for c in contra),
        advanced_stage_only=stage_only,
    )


def recommend(
    hcc: Status,
    inputs: PatientInputs,
    bclc: Bclc,
    cp: ChildPugh,
    bilirubin: Usable,
    peng: Status,
    peng_missing: tuple[Note, ...],
    trial: Eligibility,
) -> Recommendation:
    """Decide the suggestion from the stage, liver function, Peng population and trial status.

    :param bilirubin: the latest bilirubin judged against the 30-day lookback.
    :param trial: the NCT00919009 eligibility (its regimen is the protocol option).
    """
    if hcc is Status.NOT_MET:
        return Recommendation(NOT_APPLICABLE, (note("no-hcc"),))
    if hcc is Status.UNKNOWN:
        return insufficient(note("hcc-unknown"), (note("diagnoses-unavailable"),))
    tumour = inputs.tumour
    contra = contraindications(inputs, bclc, cp, bilirubin)
    if contra:
        return no_tace_for(contra, tumour, trial)
    missing = open_questions(bclc, cp, inputs, bilirubin)
    if missing:
        return insufficient(note("data-could-change", count=len(missing)), tuple(missing))
    if bclc.stage in ("0", "A"):
        reasons = [note("bclc-early", stage=bclc.stage)]
        if trial.status == "eligible":
            reasons.append(note("bclc-a-trial-met", trial=trial.trial))
        return Recommendation(NO_TACE, tuple(reasons), ("BCLC-2022",))
    if bclc.substage is None:
        undecided = tuple(
            name
            for name in ("pattern", "within_transplant_criteria")
            if getattr(tumour, name) is None
        )
        return insufficient(
            note("bclc-b-subgroup-undecided", findings=undecided),
            tuple(note("finding-missing", finding=name) for name in undecided),
        )
    if bclc.substage == "B3":
        return Recommendation(NO_TACE, (note("bclc-b3"),), ("BCLC-2022",))
    if bclc.substage == "B1":
        return Recommendation(NO_TACE, (note("bclc-b1"), note("bclc-b1-bridging")), ("BCLC-2022",))
    if peng is Status.UNKNOWN:
        # Peng met: TACE plus sorafenib; not met: TACE alone (or the protocol option). TACE
        # either way: only the combination waits for the answer.
        return Recommendation(
            INSUFFICIENT_DATA,
            (liver_preserved("tace-either-way", cp), note("peng-unknown")),
            ("BCLC-2022",),
            missing=peng_missing,
            tace_indicated=True,
        )
    if peng is Status.MET:
        return Recommendation(
            TACE_PLUS_SORAFENIB,
            (note("peng-population"),),
            ("PENG-2024", "NCT00919009"),
            (TACE,),
        )
    if trial.status == "eligible":
        return Recommendation(
            TACE,
            (liver_preserved("tace-standard", cp), note("protocol-option", trial=trial.trial)),
            ("BCLC-2022", trial.protocol.evidence, NO_OS_BENEFIT),
            (TACE_PLUS_SORAFENIB,),
            protocol_option=True,
        )
    trial_note = (
        note("trial-unknown", trial=trial.trial)
        if trial.status == "unknown"
        else note("trial-ineligible", trial=trial.trial)
    )
    return Recommendation(
        TACE,
        (liver_preserved("tace-standard", cp), note("combination-not-suggested"), trial_note),
        ("BCLC-2022", NO_OS_BENEFIT),
    )


def liver_preserved(code: Code, cp: ChildPugh) -> Note:
    """A B2 reason that rests on preserved liver function, naming the Child-Pugh range and its
    unknown components when a lab is missing (the whole range allows TACE, ruling A3)."""
    low, high = cp.score_range
    unknown = tuple(c.name for c in cp.components if c.points is None)
    return note(code, low=low, high=high, components=unknown)


def withheld(rec: Recommendation, decisive: tuple[Note, ...]) -> Recommendation:
    """The suggestion withheld because results not used would change it if they were valid."""
    if not decisive or rec.option is NOT_APPLICABLE:
        return rec
    if rec.option is INSUFFICIENT_DATA:  # a decisive result could overturn TACE too
        return replace(rec, missing=(*rec.missing, *decisive), tace_indicated=False)
    reason = note("not-used-could-change", count=len(decisive))
    return Recommendation(INSUFFICIENT_DATA, (reason,), missing=decisive)
