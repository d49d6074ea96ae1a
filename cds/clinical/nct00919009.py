"""NCT00919009: concurrent TACE and sorafenib, phase II, National Cancer Center, Korea (2009–2011).

Park JW et al., J Hepatol 2012;56:1336–42: sorafenib 400 mg twice daily from 3 days after the first
TACE, up to 24 weeks. The criteria below are the ones in the project's clinical reference
(clinical.md §1.1, §1.5, §2.2, §4, §5). The registry's verbatim text could not be read here
(docs/research-findings.md §1); the comparators of the INR, creatinine and transaminase limits
are the reference's reading and are kept in this one table so that they can be corrected.
"""

from __future__ import annotations

from cds.clinical.eligibility import (
    BelowUlnMultiple,
    Criterion,
    HasHcc,
    LabLimit,
    MaximumChildPugh,
    MaximumEcog,
    MaximumTumourSize,
    MinimumAge,
    MuiccStageIn,
    NoExtrahepaticMetastasis,
    NoMainVesselInvasion,
    NotDocumented,
)

TRIAL_ID = "NCT00919009"
LAB_WINDOW_DAYS = 7  # protocol: laboratory values within 7 days before screening

INC, EXC = "inclusion", "exclusion"

CRITERIA: tuple[Criterion, ...] = (
    Criterion("inc-hcc", INC, "Hepatocellular carcinoma", HasHcc()),
    Criterion("inc-age", INC, "Age 20 years or older", MinimumAge(20)),
    Criterion("inc-ecog", INC, "ECOG performance status 0–1", MaximumEcog(1)),
    Criterion(
        "inc-child-pugh",
        INC,
        "Child-Pugh class A or B with a score of 7 or less",
        MaximumChildPugh(7),
    ),
    Criterion(
        "inc-muicc-stage", INC, "Modified UICC stage III or IVA", MuiccStageIn(("III", "IVA"))
    ),
    Criterion(
        "inc-no-main-vessel",
        INC,
        "No invasion of the main portal vein or the inferior vena cava",
        NoMainVesselInvasion(),
    ),
    Criterion("inc-no-extrahepatic", INC, "No extrahepatic metastasis", NoExtrahepaticMetastasis()),
    Criterion("inc-tumour-size", INC, "Largest tumour 10 cm or less", MaximumTumourSize(10.0)),
    Criterion(
        "inc-platelets", INC, "Platelets ≥ 60 × 10⁹/L", LabLimit("platelets", ">=", 60, "10⁹/L")
    ),
    Criterion(
        "inc-anc", INC, "Absolute neutrophil count > 1,000/mm³", LabLimit("anc", ">", 1.0, "10⁹/L")
    ),
    Criterion(
        "inc-haemoglobin", INC, "Haemoglobin ≥ 9.0 g/dL", LabLimit("haemoglobin", ">=", 9.0, "g/dL")
    ),
    Criterion(
        "inc-bilirubin", INC, "Total bilirubin ≤ 3 mg/dL", LabLimit("bilirubin", "<=", 3.0, "mg/dL")
    ),
    Criterion("inc-inr", INC, "INR < 1.5", LabLimit("inr", "<", 1.5, "")),
    Criterion(
        "inc-creatinine",
        INC,
        "Serum creatinine < 1.5 × upper limit of normal",
        BelowUlnMultiple(("creatinine",), 1.5),
    ),
    Criterion(
        "inc-transaminases",
        INC,
        "AST and ALT < 5 × upper limit of normal",
        BelowUlnMultiple(("ast", "alt"), 5.0),
    ),
    Criterion(
        "exc-variceal-bleeding",
        EXC,
        "History of (oesophageal or gastric) variceal bleeding",
        NotDocumented("variceal-bleeding"),
    ),
    Criterion("exc-hiv", EXC, "Known HIV infection", NotDocumented("hiv")),
    Criterion("exc-dialysis", EXC, "Renal failure requiring dialysis", NotDocumented("dialysis")),
    Criterion(
        "exc-transplant-list",
        EXC,
        "On the waiting list for liver transplantation",
        NotDocumented("transplant-list"),
    ),
    Criterion("exc-allograft", EXC, "Prior organ allograft", NotDocumented("allograft")),
    Criterion(
        "exc-seizure-disorder",
        EXC,
        "Seizure disorder requiring medication",
        NotDocumented("seizure-disorder"),
    ),
    Criterion("exc-heart-failure", EXC, "Congestive heart failure", NotDocumented("heart-failure")),
    Criterion(
        "exc-coronary-disease",
        EXC,
        "Active coronary artery disease",
        NotDocumented("coronary-disease"),
    ),
    Criterion(
        "exc-arrhythmia",
        EXC,
        "Cardiac arrhythmia requiring anti-arrhythmic therapy",
        NotDocumented("arrhythmia"),
    ),
    Criterion(
        "exc-bleeding-diathesis",
        EXC,
        "Bleeding diathesis or coagulopathy",
        NotDocumented("bleeding-diathesis"),
    ),
    Criterion("exc-other-cancer", EXC, "Another active malignancy", NotDocumented("other-cancer")),
)
