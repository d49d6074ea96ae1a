"""One patient's complete assessment: every score, stage, criterion and the recommendation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cds.clinical import nct00919009
from cds.clinical.albi import Albi, score_albi
from cds.clinical.bclc import Bclc, stage_bclc
from cds.clinical.child_pugh import SCORE_LOOKBACK_DAYS, ChildPugh, score_child_pugh
from cds.clinical.eligibility import Context, Eligibility, evaluate
from cds.clinical.evidence import Status, recent_fact, usable
from cds.clinical.inputs import PatientInputs
from cds.clinical.peng import PengPopulation, peng_population
from cds.clinical.recommendation import LiverFindings, Recommendation, recommend
from cds.clinical.tnm import Ajcc8, Muicc, stage_ajcc8, stage_muicc

# clinical.md §4: the ULN used when a result has no reference range (canonical units).
DEFAULT_ULN = {"ast": 40.0, "alt": 40.0, "creatinine": 1.2}


@dataclass(frozen=True)
class Settings:
    """Tunable limits of the assessment (clinical defaults from clinical.md §4)."""

    trial_lab_window_days: int = nct00919009.LAB_WINDOW_DAYS
    default_uln: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_ULN))


@dataclass(frozen=True)
class Assessment:
    """Everything the service computed for one patient on one date."""

    as_of: date
    inputs: PatientInputs
    child_pugh: ChildPugh
    albi: Albi
    bclc: Bclc
    ajcc8: Ajcc8
    muicc: Muicc
    eligibility: Eligibility
    peng: PengPopulation
    recommendation: Recommendation

    @property
    def has_hcc(self) -> bool:
        return self.inputs.hcc is not None

    @property
    def hcc_status(self) -> Status:
        return hcc_status(self.inputs)


def hcc_status(inputs: PatientInputs) -> Status:
    """Met when HCC is coded; unknown (not "absent") when the diagnoses could not be obtained."""
    if inputs.hcc is not None:
        return Status.MET
    return Status.NOT_MET if inputs.diagnoses_available else Status.UNKNOWN


def assess(inputs: PatientInputs, as_of: date, settings: Settings | None = None) -> Assessment:
    """Compute the whole assessment of a patient on ``as_of``."""
    settings = settings or Settings()
    cp = score_child_pugh(inputs, as_of)
    # ECOG, like the labs, counts only within the 30-day lookback (docs/input-profile.md).
    ecog, ecog_gap = recent_fact(inputs.ecog, as_of, SCORE_LOOKBACK_DAYS)
    bclc = stage_bclc(inputs.tumour, ecog, cp, ecog_gap)
    muicc = stage_muicc(inputs.tumour)
    # The protocol wants every lab within 7 days, so the trial judges Child-Pugh on that window.
    trial_cp = score_child_pugh(inputs, as_of, settings.trial_lab_window_days)
    ctx = Context(
        inputs, as_of, trial_cp, muicc, settings.trial_lab_window_days, settings.default_uln
    )
    trial = evaluate(nct00919009.TRIAL_ID, nct00919009.CRITERIA, ctx)
    peng = peng_population(inputs, bclc, cp, ecog)
    return Assessment(
        as_of=as_of,
        inputs=inputs,
        child_pugh=cp,
        albi=score_albi(inputs.labs, as_of),
        bclc=bclc,
        ajcc8=stage_ajcc8(inputs.tumour),
        muicc=muicc,
        eligibility=trial,
        peng=peng,
        recommendation=recommend(
            hcc_status(inputs),
            bclc,
            cp,
            inputs.tumour,
            usable(inputs.labs.bilirubin, "bilirubin", as_of, SCORE_LOOKBACK_DAYS),
            LiverFindings(inputs.ascites.severity, inputs.encephalopathy.severity),
            peng.status,
            peng.missing,
            trial,
        ),
    )
