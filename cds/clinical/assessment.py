"""One patient's complete assessment: every score, stage, criterion and the recommendation.

Besides the scores, the assessment says what the renderer must show and may not work out itself:
which values are stale or missing (named with their dates), which labs to repeat, what was scored
by convention (flags), and which results were not used and whether they would change the decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any, Literal

from cds.clinical.albi import Albi, score_albi
from cds.clinical.bclc import Bclc, stage_bclc
from cds.clinical.child_pugh import SCORE_LOOKBACK_DAYS, ChildPugh, score_child_pugh
from cds.clinical.eligibility import (
    Context,
    Eligibility,
    TrialProtocol,
    evaluate,
    withhold_criteria,
)
from cds.clinical.evidence import Fact, Lab, Status, recent_fact, reported, usable
from cds.clinical.inputs import (
    HepaticVeinInvasion,
    LiverLabs,
    NotUsed,
    PatientInputs,
    PortalInvasion,
    Severity,
)
from cds.clinical.notes import RULES_VERSION, Note, note
from cds.clinical.peng import PengPopulation, peng_population
from cds.clinical.protocols import REGISTRY
from cds.clinical.protocols.nct00919009 import TRIAL_ID
from cds.clinical.recommendation import (
    TACE,
    TACE_PLUS_SORAFENIB,
    Recommendation,
    recommend,
    withheld,
)
from cds.clinical.renal import renal_insufficiency
from cds.clinical.tnm import Ajcc8, Muicc, stage_ajcc8, stage_muicc

# clinical-rules §5: the ULN used when a result has no reference range (canonical units).
DEFAULT_ULN = {"ast": 40.0, "alt": 40.0, "creatinine": 1.2}
ULN_ANALYTES = tuple(DEFAULT_ULN)
# The laboratory tests a card may offer to repeat (those a trial or score reads).
REPEATABLE_LABS = (
    "bilirubin",
    "albumin",
    "inr",
    "platelets",
    "anc",
    "haemoglobin",
    "ast",
    "alt",
    "creatinine",
)

LabState = Literal["current", "stale", "missing", "unusable"]


@dataclass(frozen=True)
class Settings:
    """Tunable limits of the assessment (clinical defaults from clinical-rules §5)."""

    trial_lab_window_days: int | None = None  # None: each protocol's own window
    default_uln: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_ULN))
    protocols: tuple[TrialProtocol, ...] = REGISTRY


@dataclass(frozen=True)
class LabReading:
    """A laboratory input as the card shows it: its state against the 30-day score lookback."""

    analyte: str
    lab: Lab | None
    state: LabState


@dataclass(frozen=True)
class Core:
    """The scores, stages, trials and recommendation (before the not-used results are weighed)."""

    child_pugh: ChildPugh
    albi: Albi
    bclc: Bclc
    ajcc8: Ajcc8
    muicc: Muicc
    trials: tuple[Eligibility, ...]
    peng: PengPopulation
    recommendation: Recommendation


@dataclass(frozen=True)
class Assessment(Core):
    """Everything the service computed for one patient on one date: the core (its recommendation
    withheld when a result not used would change it), the inputs, and what the card lists."""

    as_of: date
    inputs: PatientInputs
    labs: tuple[LabReading, ...]
    flags: tuple[Note, ...]
    gaps: tuple[Note, ...]
    labs_to_repeat: tuple[str, ...]
    not_used: tuple[Note, ...]
    not_used_decisive: tuple[Note, ...]
    # findings to weigh beside a TACE suggestion (renal insufficiency), as the TACE order check
    # warns with them
    tace_cautions: tuple[Note, ...] = ()
    rules_version: str = RULES_VERSION

    @property
    def has_hcc(self) -> bool:
        return self.inputs.hcc is not None

    @property
    def hcc_status(self) -> Status:
        return hcc_status(self.inputs)

    @property
    def eligibility(self) -> Eligibility:
        """The NCT00919009 eligibility (the trial whose regimen is the protocol option)."""
        return next(t for t in self.trials if t.trial == TRIAL_ID)


def hcc_status(inputs: PatientInputs) -> Status:
    """Met when HCC is coded; unknown (not "absent") when the diagnoses could not be obtained."""
    if inputs.hcc is not None:
        return Status.MET
    return Status.NOT_MET if inputs.diagnoses_available else Status.UNKNOWN


def assess_core(inputs: PatientInputs, as_of: date, settings: Settings) -> Core:
    cp = score_child_pugh(inputs, as_of)
    # ECOG, like the labs, counts only within the 30-day lookback (docs/input-profile.md).
    ecog, ecog_stale = recent_fact(inputs.ecog, as_of, SCORE_LOOKBACK_DAYS)
    ecog_missing = (
        note("ecog-stale", date=inputs.ecog.source.date, max_days=SCORE_LOOKBACK_DAYS)
        if ecog_stale and inputs.ecog
        else note("ecog-missing")
    )
    bclc = stage_bclc(inputs.tumour, ecog, cp, ecog_missing)
    muicc = stage_muicc(inputs.tumour)
    trials = tuple(judge_trial_on_used(p, inputs, as_of, settings) for p in settings.protocols)
    nct = next(t for t in trials if t.trial == TRIAL_ID)
    peng = peng_population(inputs, bclc, cp, ecog)
    rec = recommend(
        hcc_status(inputs),
        inputs,
        bclc,
        cp,
        usable(inputs.labs.bilirubin, "bilirubin", as_of, SCORE_LOOKBACK_DAYS),
        peng.status,
        peng.missing,
        nct,
    )
    return Core(
        cp,
        score_albi(inputs.labs, as_of),
        bclc,
        stage_ajcc8(inputs.tumour),
        muicc,
        trials,
        peng,
        rec,
    )


def judge_trial(
    protocol: TrialProtocol, inputs: PatientInputs, as_of: date, muicc: Muicc, settings: Settings
) -> Eligibility:
    # The protocol wants every lab within its window, so it judges Child-Pugh on that window.
    window = settings.trial_lab_window_days or protocol.lab_window_days
    cp = score_child_pugh(inputs, as_of, window)
    return evaluate(protocol, Context(inputs, as_of, cp, muicc, window, settings.default_uln))


def judge_trial_on_used(
    protocol: TrialProtocol, inputs: PatientInputs, as_of: date, settings: Settings
) -> Eligibility:
    """The trial judged on the data used; a criterion that a result not used would change if it
    were valid is unknown (to review for an exclusion), naming that result (ruling A7)."""
    elig = judge_trial(protocol, inputs, as_of, stage_muicc(inputs.tumour), settings)
    changed: dict[str, Note] = {}
    for item in inputs.not_used:
        alt_inputs = with_result(inputs, item)
        alt = judge_trial(protocol, alt_inputs, as_of, stage_muicc(alt_inputs.tumour), settings)
        for mine, theirs in zip(elig.results, alt.results, strict=True):
            if mine.judgement.status != theirs.judgement.status:
                params = not_used_note(item).params
                changed.setdefault(
                    mine.criterion.id, Note("criterion-not-used-could-change", params)
                )
    return withhold_criteria(elig, changed)


def assess(inputs: PatientInputs, as_of: date, settings: Settings | None = None) -> Assessment:
    """Compute the whole assessment of a patient on ``as_of``."""
    settings = settings or Settings()
    core = assess_core(inputs, as_of, settings)
    not_used = tuple(not_used_note(n) for n in inputs.not_used)
    decisive = tuple(
        not_used_note(n)
        for n in sorted(inputs.not_used, key=consequence)
        if assess_core(with_result(inputs, n), as_of, settings).recommendation.option
        != core.recommendation.option
    )
    rec = withheld(core.recommendation, decisive)
    window = min((t.protocol.lab_window_days for t in core.trials), default=SCORE_LOOKBACK_DAYS)
    core_fields = {f.name: getattr(core, f.name) for f in fields(Core)}
    return Assessment(
        **{**core_fields, "recommendation": rec},
        as_of=as_of,
        inputs=inputs,
        labs=tuple(lab_readings(inputs.labs, as_of)),
        flags=tuple(flags(inputs, core, as_of)),
        gaps=tuple(gaps(core, rec)),
        labs_to_repeat=tuple(
            a for a in REPEATABLE_LABS if not usable(getattr(inputs.labs, a), a, as_of, window).ok
        ),
        not_used=not_used,
        not_used_decisive=decisive,
        tace_cautions=tace_cautions(inputs, as_of, rec),
    )


def lab_readings(labs: LiverLabs, as_of: date) -> list[LabReading]:
    readings = []
    for analyte in labs.__dataclass_fields__:
        lab: Lab | None = getattr(labs, analyte)
        u = usable(lab, analyte, as_of, SCORE_LOOKBACK_DAYS)
        state: LabState = (
            "current"
            if u.ok
            else "missing"
            if lab is None
            else "unusable"
            if lab.value is None
            else "stale"
        )
        readings.append(LabReading(analyte, lab, state))
    return readings


def with_result(inputs: PatientInputs, item: NotUsed) -> PatientInputs:
    """The inputs as they would be if the not-used result were the one that counts."""
    if isinstance(item.value, Lab):
        return replace(inputs, labs=replace(inputs.labs, **{item.target: item.value}))
    if item.target == "ecog":
        return replace(inputs, ecog=item.value)
    return replace(inputs, tumour=replace(inputs.tumour, **{item.target: item.value}))


def tace_cautions(inputs: PatientInputs, as_of: date, rec: Recommendation) -> tuple[Note, ...]:
    """Beside a card that suggests TACE (or says it is indicated): renal insufficiency."""
    if rec.option not in (TACE, TACE_PLUS_SORAFENIB) and not rec.tace_indicated:
        return ()
    renal, _ = renal_insufficiency(inputs, as_of)
    return () if renal is None else (renal,)


# The order in which results not used are named, the most consequential first (the first is in
# the card's summary): an invasion or spread changes the stage, then the labs that stop TACE.
CONSEQUENCE = (
    "portal_invasion",
    "hepatic_vein_invasion",
    "distant_metastasis",
    "regional_nodes",
    "bilirubin",
    "ecog",
)


def consequence(item: NotUsed) -> int:
    return CONSEQUENCE.index(item.target) if item.target in CONSEQUENCE else len(CONSEQUENCE)


def not_used_note(item: NotUsed) -> Note:
    value: Any = item.value
    if isinstance(value, Lab):
        return note(
            "not-used",
            kind=item.kind,
            analyte=item.target,
            finding=None,
            vessel=None,
            value=round(value.value, 2) if value.value is not None else None,
            unit=value.unit,
            **reported(value),
            found=value.source.original,
            date=value.source.date,
            source=value.source.resource,
        )
    fact: Fact[Any] = value
    # a graded invasion is named by its grade ("main portal vein (Vp4)"), not the code as written
    graded = isinstance(fact.value, PortalInvasion | HepaticVeinInvasion) and fact.value > 0
    return note(
        "not-used",
        kind=item.kind,
        analyte=None,
        finding=item.target,
        vessel=fact.value.name.lower() if graded else None,
        value=None,
        unit="",
        reported_value=None,
        reported_unit=None,
        found=fact.source.original,
        date=fact.source.date,
        source=fact.source.resource,
    )


def flags(inputs: PatientInputs, core: Core, as_of: date) -> list[Note]:
    """What was scored by convention or assumed: the card must say so."""
    found = [c.flag for c in core.child_pugh.components if c.flag]
    sbp = inputs.active_finding("sbp")
    if sbp is not None and inputs.ascites.severity is Severity.NOT_DOCUMENTED:
        # SBP is an infection of ascitic fluid: "scored as absent" would contradict it. The score
        # keeps the convention (nothing is guessed), the card asks for the grade.
        absent = note("cp-not-documented-scored-absent", component="ascites")
        found = [f for f in found if f != absent]
        found.append(note("ascites-implied-by-sbp", source=sbp.source.resource))
    for analyte in ULN_ANALYTES:
        lab = getattr(inputs.labs, analyte)
        if lab is not None and lab.value is not None and lab.uln is None:
            found.append(note("uln-assumed", analyte=analyte, uln=DEFAULT_ULN[analyte]))
    low, high = core.child_pugh.score_range
    # Said only where the suggestion rests on it: beside "TACE not suggested" for liver function
    # (Child-Pugh ≥ 8, bilirubin > 3), "counted as preserved" would read as licence to proceed.
    rests_on_it = not core.recommendation.liver_contraindicated
    if core.bclc.liver_function == "preserved" and high >= 7 and rests_on_it:
        found.append(note("cp-class-b-possible", low=low, high=high))
    return found


def gaps(core: Core, rec: Recommendation) -> list[Note]:
    """Everything missing or stale, each named once (with its date when it has one)."""
    trial_gaps = [
        reason
        for t in core.trials
        for r in t.results
        if r.judgement.status is Status.UNKNOWN
        for reason in (r.judgement.gaps or (r.judgement.reason,))
        if reason.code in ("lab-missing", "lab-stale", "lab-unusable", "ecog-stale")
    ]
    items = (
        *core.child_pugh.missing,
        *core.albi.missing,
        *core.bclc.missing,
        # a T category left open does not matter once the stage group is decided (M1: IVB)
        *(core.ajcc8.missing if core.ajcc8.stage is None else ()),
        *(core.muicc.missing if core.muicc.stage is None else ()),
        *rec.missing,
        *trial_gaps,
    )
    found: list[Note] = []
    seen: set[tuple[str, object]] = set()
    for item in items:
        key = (
            item.code,
            item.params.get("analyte") or item.params.get("finding") or item.params.get("part"),
        )
        if item.code in ("not-used",) or key in seen:
            continue
        seen.add(key)
        found.append(item)
    return found
