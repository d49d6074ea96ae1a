"""NCT00919009: concurrent TACE and sorafenib, phase 2, National Cancer Center, Korea (2009–2011).

Every inclusion and exclusion criterion of the registry record, its text kept word for word
(clinical-rules §6). Two comparators were lost in the registry copy the project holds:
"Child-Pugh score 7" is read as *score ≤ 7* and "size of largest tumor 10cm" as *≤ 10 cm*; the
short labels show the comparators, the source text stays beside them. "AST or ALT < 5 × ULN" is
read as *both* below 5 × ULN, the safer reading, and the label says so. The seizure-disorder
criterion sits inside the HIV bullet of the record and is its own criterion here (twelve
exclusions). Park JW et al., J Hepatol 2012;56:1336–42 published the trial.
"""

from __future__ import annotations

from cds.clinical.eligibility import (
    BelowUlnMultiple,
    CardiacExclusion,
    ClinicianConfirms,
    ConditionExclusion,
    Criterion,
    EncephalopathyOrIntractableAscites,
    HasHcc,
    InfiltrativeHcc,
    LabLimit,
    MaximumChildPugh,
    MaximumEcog,
    MaximumTumourSize,
    MinimumAge,
    MuiccStageIn,
    NoExtrahepaticMetastasis,
    NoMainVesselInvasion,
    Rule,
    TrialProtocol,
)
from cds.clinical.notes import Code, Param, note

TRIAL_ID = "NCT00919009"
LAB_WINDOW_DAYS = 7  # "to be conducted within 7 days prior to screening"

STAGE_TEXT = (
    "Patients with stage III or IVa HCC according to modified International Union Against Cancer "
    "TNM staging criteria without invasion in main portal vein, or inferior vena cava and "
    "extrahepatic metastasis and size of largest tumor 10cm at study entry"
)
LABS_TEXT = "Adequate bone marrow, liver and renal function ... within 7 days prior to screening: "
CARDIAC_TEXT = (
    "History of cardiac disease: congestive heart failure > NYHA class 2; active coronary artery "
    "disease (myocardial infarction more than 6 months prior to study entry is allowed), cardiac "
    "arrythmias requiring anti-arrythmic therapy or uncontrolled hypertension and diabetes mellitis"
)


def inc(cid: str, text: str, label_code: Code, rule: Rule, **params: Param) -> Criterion:
    return Criterion(cid, "inclusion", "data", text, note(label_code, **params), rule)


def confirm(cid: str, text: str) -> Criterion:
    return Criterion(
        cid, "inclusion", "clinician", text, note("crit-clinician", item=cid), ClinicianConfirms()
    )


def exc(cid: str, text: str, rule: Rule) -> Criterion:
    return Criterion(cid, "exclusion", "data", text, note("crit-exclusion", item=cid), rule)


def lab(cid: str, text: str, analyte: str, op: str, limit: float, unit: str) -> Criterion:
    return inc(
        cid,
        LABS_TEXT + text,
        "crit-lab-limit",
        LabLimit(analyte, op, limit, unit),
        analyte=analyte,
        op=op,
        limit=limit,
        unit=unit,
    )


CRITERIA: tuple[Criterion, ...] = (
    confirm("inc-consent", "Patients must provide signed written informed consent"),
    inc(
        "inc-hcc",
        "Patients with clinical or histological diagnosis of HCC based on the guidelines of the "
        "Korean Liver Cancer Study Group and the National Cancer Center Korea",
        "crit-hcc",
        HasHcc(),
    ),
    confirm(
        "inc-measurable-lesion",
        "Patients with at least one, bi-dimensionally measurable lesion by multiphasic spiral CT "
        "scan or dynamic contrast-enhanced MRI",
    ),
    inc(
        "inc-muicc-stage",
        STAGE_TEXT,
        "crit-muicc-stage",
        MuiccStageIn(("III", "IVA")),
        stages=("III", "IVA"),
    ),
    inc("inc-no-main-vessel", STAGE_TEXT, "crit-no-main-vessel", NoMainVesselInvasion()),
    inc("inc-no-extrahepatic", STAGE_TEXT, "crit-no-extrahepatic", NoExtrahepaticMetastasis()),
    inc("inc-tumour-size", STAGE_TEXT, "crit-max-tumour-size", MaximumTumourSize(10.0), cm=10),
    confirm(
        "inc-unresectable-for-tace",
        "Patients with unresectable or inoperable HCC indicated for TACE as a treatment of choice "
        "according to the guidelines of the Korean Liver Cancer Study Group and the National "
        "Cancer Center Korea",
    ),
    inc("inc-age", "Age ≥ 20 years", "crit-min-age", MinimumAge(20), years=20),
    inc("inc-ecog", "ECOG Performance Status of 0 or1", "crit-max-ecog", MaximumEcog(1), max=1),
    inc(
        "inc-child-pugh",
        "Child-Pugh class A or B (Child-Pugh score 7)",
        "crit-max-child-pugh",
        MaximumChildPugh(7),
        score=7,
    ),
    confirm("inc-life-expectancy", "Life expectancy of at least 16 weeks"),
    lab("inc-haemoglobin", "Hb ≧ 9g/dl", "haemoglobin", ">=", 9.0, "g/dL"),
    lab("inc-anc", "Absolute neutrophil count > 1000/mm3", "anc", ">", 1.0, "10*9/L"),
    lab("inc-platelets", "Platelet count ≧ 60x109/L", "platelets", ">=", 60.0, "10*9/L"),
    lab("inc-inr", "Adequate clotting function: INR < 1.5", "inr", "<", 1.5, "1"),
    inc(
        "inc-transaminases",
        LABS_TEXT + "Hepatic: AST or ALT < 5 X ULN",
        "crit-uln-multiple",
        BelowUlnMultiple(("ast", "alt"), 5.0),
        analytes=("ast", "alt"),
        multiple=5,
        both=True,
    ),
    inc(
        "inc-creatinine",
        LABS_TEXT + "Renal: serum creatinine < 1.5 x ULN",
        "crit-uln-multiple",
        BelowUlnMultiple(("creatinine",), 1.5),
        analytes=("creatinine",),
        multiple=1.5,
        both=False,
    ),
    lab("inc-bilirubin", "Bilirubin ≦ 3mg/dL", "bilirubin", "<=", 3.0, "mg/dL"),
    exc(
        "exc-infiltrative",
        "Patients with diffuse infiltrative type of HCC that are poorly defined",
        InfiltrativeHcc(),
    ),
    exc(
        "exc-encephalopathy-ascites",
        "Presence of hepatic encephalopathy and intractable ascites",
        EncephalopathyOrIntractableAscites(),
    ),
    exc(
        "exc-infection",
        "Active clinically serious infections (> grade 2 NCI-CTC version 3.0), including "
        "spontaneous bacterial peritonitis",
        ConditionExclusion(("sbp", "sepsis"), history=False, review=("infection",)),
    ),
    exc(
        "exc-variceal-bleeding",
        "History of esophageal or gastric variceal bleeding",
        ConditionExclusion(("variceal-bleeding",), history=True),
    ),
    exc(
        "exc-transplant-list",
        "Patients who are on a liver transplant list",
        ConditionExclusion(("transplant-list",), history=False),
    ),
    exc(
        "exc-cardiac",
        CARDIAC_TEXT,
        CardiacExclusion(
            review=("heart-failure", "arrhythmia", "hypertension", "diabetes", "coronary-chronic")
        ),
    ),
    exc(
        "exc-hiv",
        "History of AIDS/HIV infection",
        ConditionExclusion(("hiv",), history=True),
    ),
    exc(
        "exc-seizure-disorder",
        "Patients with seizure disorder requiring medication (such as steroids or anti- "
        "epileptics)",
        ConditionExclusion((), history=False, review=("seizure-disorder",)),
    ),
    exc(
        "exc-allograft",
        "History of organ allograft",
        ConditionExclusion(("allograft",), history=True),
    ),
    exc(
        "exc-bleeding-diathesis",
        "Patients with evidence or history of bleeding diathesis",
        ConditionExclusion(("bleeding-diathesis",), history=True, review=("coagulation-disorder",)),
    ),
    exc(
        "exc-dialysis",
        "Patients undergoing renal dialysis",
        ConditionExclusion(("dialysis",), history=False, review=("end-stage-renal",)),
    ),
    exc(
        "exc-other-cancer",
        "Previous or concurrent cancer that is distinct in primary site or histology from the "
        "cancer being evaluated in this study except cervical carcinoma in situ, treated basal "
        "cell carcinoma, superficial bladder tumors (Ta, Tis & T1) or any cancer curatively "
        "treated > 3 years prior to study entry.",
        # Active: concurrent (the extractor marks the registry's exceptions as not deciding);
        # resolved: previous, perhaps curatively treated > 3 years ago, so only to review.
        ConditionExclusion(("other-cancer",), history=False, resolved_review=True),
    ),
)

PROTOCOL = TrialProtocol(
    id=TRIAL_ID,
    criteria=CRITERIA,
    lab_window_days=LAB_WINDOW_DAYS,
    registry_status="completed",
    years="2009–2011",
    evidence="NCT00919009",
)
