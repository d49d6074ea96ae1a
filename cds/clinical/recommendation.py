"""The treatment recommendation of clinical.md §4: TACE alone, TACE plus sorafenib, or neither.

When the patient has no HCC → not applicable. When a contraindication is known (BCLC C or D,
Child-Pugh ≥ 8, main portal vein invasion, extrahepatic spread; and, extending §4, bilirubin
> 3 mg/dL and clinical decompensation: hepatic encephalopathy or moderate/severe ascites) → no
TACE, with the reasons. When an unknown could change the answer → insufficient data, listing what
to obtain. BCLC 0/A → no TACE (ablation, resection or transplant come first); B1 (within extended
transplant criteria) → transplant evaluation first; B3 (infiltrative) → systemic therapy.
Then, for BCLC B: the Peng 2024 population → TACE plus sorafenib (TACE alone the alternative);
all NCT00919009 criteria met → TACE alone, with TACE plus sorafenib offered as the protocol option;
otherwise TACE alone. The combination is never the default outside Peng's population: four
randomised trials in unselected patients found no overall-survival benefit.
"""

from __future__ import annotations

from dataclasses import dataclass

from cds.clinical.bclc import Bclc
from cds.clinical.child_pugh import ChildPugh
from cds.clinical.eligibility import Eligibility
from cds.clinical.evidence import Status, Usable, shown
from cds.clinical.inputs import Severity, Tumour
from cds.clinical.tumour import extrahepatic_spread, main_vessel_invasion

TACE_PLUS_SORAFENIB = "tace_plus_sorafenib"
TACE = "tace"
NO_TACE = "no_tace"
INSUFFICIENT_DATA = "insufficient_data"
NOT_APPLICABLE = "not_applicable"

MAX_CHILD_PUGH_FOR_TACE = 7  # clinical.md §4: Child-Pugh ≥ 8 → no TACE suggestion
# Issue "order checks" and the trial's inclusion limit: bilirubin > 3 mg/dL does not support TACE
# (it extends clinical.md §4, so that the patient-view card and the order check agree).
MAX_BILIRUBIN_MG_DL_FOR_TACE = 3.0

# Evidence ids; the text for each lives in cards/evidence.json.
NEGATIVE_TRIALS = ("SPACE", "TACE-2", "POST-TACE", "TACTICS", "META-2017")


@dataclass(frozen=True)
class Recommendation:
    """The option, why, what it rests on, the alternatives offered and what is missing."""

    option: str
    reasons: tuple[str, ...]
    evidence: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    protocol_option: bool = False  # TACE + sorafenib offered as the NCT00919009 protocol option
    contraindicated: bool = False  # no TACE because of a known contraindication (not early stage)
    # The contraindication concerns the liver or the patient (so sorafenib too), not only TACE.
    liver_contraindicated: bool = False


@dataclass(frozen=True)
class LiverFindings:
    """The graded findings that mark decompensation."""

    ascites: Severity
    encephalopathy: Severity


@dataclass(frozen=True)
class Contraindication:
    reason: str
    liver: bool  # liver function or general condition (applies to sorafenib too)


def contraindications(
    bclc: Bclc, cp: ChildPugh, tumour: Tumour, bilirubin: Usable, liver: LiverFindings
) -> list[Contraindication]:
    """Known reasons not to suggest TACE (each one decided by the documentation)."""
    found = []
    if bilirubin.value is not None and bilirubin.value > MAX_BILIRUBIN_MG_DL_FOR_TACE:
        found.append(
            Contraindication(f"bilirubin {shown(bilirubin.value)} mg/dL (> 3 mg/dL)", True)
        )
    if bclc.stage in ("C", "D"):
        why = f" ({', '.join(bclc.reasons)})" if bclc.reasons else ""
        found.append(Contraindication(f"BCLC stage {bclc.stage}{why}", bclc.stage == "D"))
    if cp.score_range[0] > MAX_CHILD_PUGH_FOR_TACE:
        found.append(Contraindication(f"Child-Pugh score {cp.score_range[0]} or more (≥ 8)", True))
    if liver.encephalopathy not in (Severity.NOT_DOCUMENTED, Severity.ABSENT):
        found.append(Contraindication("hepatic encephalopathy (decompensated cirrhosis)", True))
    if liver.ascites is Severity.MODERATE_OR_SEVERE:
        found.append(Contraindication("moderate or severe ascites (decompensated cirrhosis)", True))
    if main_vessel_invasion(tumour):
        found.append(Contraindication("main portal vein or IVC invasion", False))
    if extrahepatic_spread(tumour):
        found.append(Contraindication("extrahepatic spread", False))
    return found


def open_questions(bclc: Bclc, cp: ChildPugh, tumour: Tumour, bilirubin: Usable) -> list[str]:
    """Unknowns that could still change the suggestion."""
    missing = []
    if bilirubin.value is None:
        missing.append(bilirubin.reason or "bilirubin")
    if bclc.stage is None:
        missing.append("BCLC stage: " + (", ".join(bclc.missing) or "undetermined"))
    low, high = cp.score_range
    if low <= MAX_CHILD_PUGH_FOR_TACE < high:
        missing.append(f"Child-Pugh score {low}–{high}: " + ", ".join(cp.missing))
    if main_vessel_invasion(tumour) is None:
        missing.append("portal-vein and hepatic-vein invasion (main portal vein / IVC)")
    if extrahepatic_spread(tumour) is None:
        missing.append("extrahepatic spread (regional nodes N, distant metastasis M)")
    return missing


def recommend(
    hcc: Status,
    bclc: Bclc,
    cp: ChildPugh,
    tumour: Tumour,
    bilirubin: Usable,
    liver: LiverFindings,
    peng: Status,
    peng_missing: tuple[str, ...],
    trial: Eligibility,
) -> Recommendation:
    """Decide the suggestion from the stage, liver function, Peng population and trial status.

    :param bilirubin: the latest bilirubin judged against the 30-day lookback.
    """
    if hcc is Status.NOT_MET:
        return Recommendation(NOT_APPLICABLE, ("no active hepatocellular carcinoma coded",))
    if hcc is Status.UNKNOWN:
        return Recommendation(
            INSUFFICIENT_DATA,
            ("the patient's diagnoses could not be obtained, so whether HCC is coded is unknown",),
            missing=("diagnoses (Condition resources) from the EHR",),
        )
    contra = contraindications(bclc, cp, tumour, bilirubin, liver)
    if contra:
        reasons = [c.reason for c in contra]
        if trial.status == "eligible":
            # clinical.md §4 withholds TACE at BCLC C, yet the trial enrolled BCLC C with branch
            # portal invasion: say so rather than hide it.
            reasons.append(
                "all NCT00919009 criteria are met (the trial enrolled BCLC C with branch "
                "portal invasion): discuss at the tumour board"
            )
        # The staging guideline is what withholds TACE; the combination trials are beside the point.
        evidence = ("BCLC-2022", "NCT00919009") if trial.status == "eligible" else ("BCLC-2022",)
        return Recommendation(
            NO_TACE,
            tuple(reasons),
            evidence,
            contraindicated=True,
            liver_contraindicated=any(c.liver for c in contra),
        )
    missing = open_questions(bclc, cp, tumour, bilirubin)
    if missing:
        return Recommendation(
            INSUFFICIENT_DATA,
            ("data that could change the suggestion is missing or stale",),
            missing=tuple(missing),
        )
    if bclc.stage in ("0", "A"):
        return Recommendation(
            NO_TACE,
            (f"BCLC stage {bclc.stage}: ablation, resection or transplantation come first",),
            ("BCLC-2022",),
        )
    if bclc.substage == "B3":
        return Recommendation(
            NO_TACE, ("BCLC B3 (diffuse, infiltrative): systemic therapy",), ("BCLC-2022",)
        )
    if bclc.substage == "B1":
        return Recommendation(
            NO_TACE,
            (
                "BCLC B1 (within extended transplant criteria): evaluate for liver transplantation "
                "first; TACE only as a bridge",
            ),
            ("BCLC-2022",),
        )
    if peng is Status.UNKNOWN:
        return Recommendation(
            INSUFFICIENT_DATA,
            ("prior hepatectomy documented: whether the Peng 2024 population applies is unknown",),
            missing=peng_missing,
        )
    if peng is Status.MET:
        return Recommendation(
            TACE_PLUS_SORAFENIB,
            (
                "recurrent intermediate-stage HCC after R0 hepatectomy with microvascular "
                "invasion: "
                "the Peng 2024 population",
            ),
            ("PENG-2024", "NCT00919009"),
            (TACE,),
        )
    if trial.status == "eligible":
        return Recommendation(
            TACE,
            (
                "BCLC B with preserved liver function: TACE is the guideline standard",
                "all NCT00919009 criteria met: TACE plus sorafenib may be offered as the "
                "protocol option (single-arm phase 2 evidence)",
            ),
            ("BCLC-2022", "NCT00919009", *NEGATIVE_TRIALS),
            (TACE_PLUS_SORAFENIB,),
            protocol_option=True,
        )
    trial_note = (
        f"NCT00919009 eligibility is unknown ({len(trial.with_status(Status.UNKNOWN))} criteria "
        "unknown, see the table): once they are known the protocol option may apply"
        if trial.status == "unknown"
        else "not eligible for NCT00919009 (see the table)"
    )
    return Recommendation(
        TACE,
        (
            "BCLC B with preserved liver function: TACE is the guideline standard",
            "TACE plus sorafenib is not suggested: randomised trials in unselected patients "
            "found no overall-survival benefit",
            trial_note,
        ),
        ("BCLC-2022", *NEGATIVE_TRIALS),
    )
