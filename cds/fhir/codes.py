"""Every code the service reads, in one place (docs/input-profile.md explains each).

Codes marked ⚠️ here or in docs/research-findings.md are not yet
confirmed against a terminology server; keep corrections here.
"""

from __future__ import annotations

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
AJCC = "http://cancerstaging.org"
HCC_CDS = "https://hcc-cds.example/fhir/CodeSystem/hcc"

Code = tuple[str, str]  # (system, code)


def loinc(*codes: str) -> frozenset[Code]:
    return frozenset((LOINC, c) for c in codes)


def snomed(*codes: str) -> frozenset[Code]:
    return frozenset((SNOMED, c) for c in codes)


def icd10(*codes: str) -> frozenset[Code]:
    """The same code in WHO ICD-10 and ICD-10-CM."""
    return frozenset((system, c) for c in codes for system in (ICD10, ICD10CM))


def project(*codes: str) -> frozenset[Code]:
    return frozenset((HCC_CDS, c) for c in codes)


# Laboratory analytes → LOINC codes (docs/input-profile.md).
LAB_CODES: dict[str, frozenset[Code]] = {
    "bilirubin": loinc("1975-2", "14631-6"),
    "albumin": loinc("1751-7", "61151-7", "61152-5"),
    "inr": loinc("6301-6", "34714-6", "46418-0", "38875-1"),
    "platelets": loinc("777-3", "26515-7"),
    "anc": loinc("751-8", "753-4", "26499-4"),
    "haemoglobin": loinc("718-7"),
    "ast": loinc("1920-8"),
    "alt": loinc("1742-6"),
    "creatinine": loinc("2160-0", "14682-9"),
    "afp": loinc("1834-1"),
    # Renal function for the TACE order check (clinical.md §4: clearance < 30 mL/min). 2164-2 is
    # the 24-hour urine creatinine clearance (HL7 Order Catalog IG); the eGFRs are MDRD 33914-3,
    # CKD-EPI 62238-1 and CKD-EPI 2021 98979-8 (HL7 CPG and PDDI value sets, CH LAB-Report).
    "creatinine_clearance": loinc("2164-2"),
    "egfr": loinc("33914-3", "62238-1", "98979-8"),
}

ECOG = loinc("89247-1")
# LOINC answer list LL529-9; LA4489-6 ("unknown") is deliberately absent.
ECOG_ANSWERS = {
    "LA9622-7": 0,
    "LA9623-5": 1,
    "LA9624-3": 2,
    "LA9625-0": 3,
    "LA9626-8": 4,
    "LA9627-6": 5,
}

TUMOUR_SIZE = loinc("33728-7", "21889-1")
TUMOUR_MAX_DIMENSION = (LOINC, "33728-7")
AJCC_T = loinc("21905-5", "21899-0")
AJCC_N = loinc("21906-3", "21900-6")
AJCC_M = loinc("21907-1", "21901-4")

# Project findings (docs/input-profile.md, "Tumour burden and staging").
NODULE_COUNT = (HCC_CDS, "nodule-count")
PORTAL_VEIN_INVASION = (HCC_CDS, "portal-vein-invasion")
HEPATIC_VEIN_INVASION = (HCC_CDS, "hepatic-vein-invasion")
BILE_DUCT_INVASION = (HCC_CDS, "bile-duct-invasion")
MICROVASCULAR_INVASION = (HCC_CDS, "microvascular-invasion")
ADJACENT_ORGAN_INVASION = (HCC_CDS, "adjacent-organ-invasion")
REGIONAL_NODE_METASTASIS = (HCC_CDS, "regional-node-metastasis")
EXTRAHEPATIC_METASTASIS = (HCC_CDS, "extrahepatic-metastasis")
TUMOUR_PATTERN = (HCC_CDS, "tumour-pattern")
WITHIN_TRANSPLANT_CRITERIA = (HCC_CDS, "within-extended-transplant-criteria")
RESECTION_MARGIN = (HCC_CDS, "resection-margin")
HCC_RECURRENCE = (HCC_CDS, "hcc-recurrence")

PROJECT_OBSERVATIONS = (
    NODULE_COUNT,
    PORTAL_VEIN_INVASION,
    HEPATIC_VEIN_INVASION,
    BILE_DUCT_INVASION,
    MICROVASCULAR_INVASION,
    ADJACENT_ORGAN_INVASION,
    REGIONAL_NODE_METASTASIS,
    EXTRAHEPATIC_METASTASIS,
    TUMOUR_PATTERN,
    WITHIN_TRANSPLANT_CRITERIA,
    RESECTION_MARGIN,
    HCC_RECURRENCE,
)

VP_GRADES = {f"vp{i}": i for i in range(5)}
VV_GRADES = {f"vv{i}": i for i in range(4)}
MARGINS = {"r0": "R0", "r1": "R1", "r2": "R2"}
PATTERNS = {"well-defined": "well-defined", "infiltrative": "infiltrative"}

# Conditions (docs/input-profile.md).
HCC = snomed("25370001", "109841003") | icd10("C22.0")
ASCITES = snomed("389026000") | icd10("R18", "R18.0", "R18.8", "K70.31")
# K72.91 "hepatic failure with coma" is grade 4 encephalopathy; K72.90 "without coma" is not
# encephalopathy at all (docs/input-profile.md names 13920009 and K76.82).
ENCEPHALOPATHY_COMA = icd10("K72.91")
ENCEPHALOPATHY = snomed("13920009") | icd10("K76.82") | ENCEPHALOPATHY_COMA
# PBC 31712002 ✅ code (name ⚠️); PSC 197441003 ✅; K74.3 PBC; K83.01 PSC (ICD-10-CM). WHO K83.0
# is "Cholangitis" of any kind, so it is not read as PSC (docs/research-findings.md §2).
CHOLESTATIC = snomed("31712002", "197441003") | icd10("K74.3", "K83.01")
DISTANT_METASTASIS_CONDITIONS = snomed("128462008") | frozenset(
    (system, prefix) for prefix in ("C78", "C79") for system in (ICD10, ICD10CM)
)
NODAL_METASTASIS_CONDITIONS = frozenset((system, "C77") for system in (ICD10, ICD10CM))

SEVERITY_MILD = snomed("255604002")
SEVERITY_MODERATE = snomed("6736007")
SEVERITY_SEVERE = snomed("24484000")
SEVERITY_MODERATE_OR_SEVERE = SEVERITY_MODERATE | SEVERITY_SEVERE

# Hepatectomy: no SNOMED code could be confirmed here (research §2), so the project code is the
# documented one; add SNOMED codes once checked against a terminology server.
HEPATECTOMY = project("hepatectomy")

# Orders the service checks (order-select / order-sign).
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
# RxNorm concepts the CDS Hooks Sandbox's Rx View / Rx Sign order (clinical.md §2.4 ✅, from
# cds-hooks/sandbox src/assets/medication-list.js), generic and Nexavar; each 200 MG concept's
# tablet strength, for doses written in tablets. 495881 ingredient ⚠️ unconfirmed.
SORAFENIB_TABLET_MG: dict[str, float] = {
    "597747": 200.0,  # sorafenib 200 MG Oral Tablet (SCD)
    "597745": 200.0,  # sorafenib 200 MG (SCDC)
    "615979": 200.0,  # sorafenib 200 MG Oral Tablet [Nexavar] (SBD)
    "615977": 200.0,  # sorafenib 200 MG [Nexavar] (SBDC)
}
SORAFENIB_RXNORM = (
    *SORAFENIB_TABLET_MG,
    "1159692",
    "1182863",
    "495881",
)  # + sorafenib / Nexavar Pill
# ATC L01EX02 (since 2022) and L01XE05 (before 2022) ⚠️.
SORAFENIB = frozenset((RXNORM, c) for c in SORAFENIB_RXNORM) | {(ATC, "L01EX02"), (ATC, "L01XE05")}
# An order coded only as text is still checked when its text names the drug (the card says so).
SORAFENIB_WORDS = r"\b(?:sorafenib|nexavar)\b"
SORAFENIB_TABLET = (RXNORM, "597747", "sorafenib 200 MG Oral Tablet")
# 441525007 "Percutaneous transluminal chemoembolisation of artery" ✅ (third-party browser);
# no liver-specific SNOMED code was confirmed, so the project code names TACE of the liver.
TACE = snomed("441525007") | project("tace")
# TACE in words: "TACE", "cTACE", "DEB-TACE", "chemoembolisation", "chemo-embolization".
TACE_WORDS = r"\b(?:c|deb-?)?tace\b|chemo-?emboli[sz]ation"
TACE_CODINGS = (
    (SNOMED, "441525007", "Percutaneous transluminal chemoembolisation of artery"),
    (HCC_CDS, "tace", "Transarterial chemoembolisation (TACE) of the liver"),
)
# A biliary-enteric anastomosis or a biliary stent (TACE warning: infection risk, EASL 2018 ⚠️),
# on a Condition (a status) or a completed Procedure (docs/input-profile.md). SNOMED 87231001
# "Anastomosis of hepatic duct to gastrointestinal tract" is the bilioenteric anastomosis of the
# HL7 Europe PROTECT-CHILD IG's ConceptMap ✅; no biliary-stent code was confirmed, so the
# project codes stay for a stent (and for an anastomosis coded by them).
BILIARY_ACCESS = snomed("87231001") | project("biliary-enteric-anastomosis", "biliary-stent")

# NCT00919009 exclusions: Condition codes → the concept each documents (the protocol data in
# cds/clinical/protocols names the concepts). ⚠️ codes are unconfirmed (clinical-rules §6); the
# ones added for the full criteria (SBP, sepsis, infections, hypertension, diabetes, infarction)
# are from general knowledge ⚠️ and kept here to be corrected.
# A code here documents the concept; the protocol rule decides what it means (history-of criteria
# count resolved Conditions too, current-state ones only active).
EXCLUSION_CONDITIONS: dict[str, frozenset[Code]] = {
    "variceal-bleeding": snomed("17709002") | icd10("I85.01", "I85.11"),
    "hiv": snomed("86406008") | icd10("B20", "B21", "B22", "B23", "B24", "Z21"),
    "dialysis": snomed("105502003") | icd10("Z99.2"),
    "transplant-list": icd10("Z76.82"),  # ⚠️
    "allograft": icd10("Z94.0", "Z94.1", "Z94.2", "Z94.3", "Z94.4"),  # solid-organ transplants
    "coronary-disease": icd10("I20", "I24"),  # angina, other acute ischaemia: active ⚠️
    "myocardial-infarction": snomed("22298006") | icd10("I21", "I22"),  # ⚠️ judged by onset
    # Hereditary or consumptive coagulopathies; the acquired factor deficiency (D68.4) and the
    # thrombocytopenia (D69.6) of cirrhosis are not a "bleeding diathesis" exclusion.
    "bleeding-diathesis": icd10("D65", "D66", "D67", "D68.0", "D68.1", "D68.2", "D68.3"),
    "sbp": icd10("K65.2"),  # ⚠️ ICD-10-CM "Spontaneous bacterial peritonitis"
    "sepsis": snomed("91302008") | icd10("A40", "A41", "R65.2"),  # ⚠️
    "refractory-ascites": project("refractory-ascites"),
}
# A code here only shows that the exclusion *may* apply (the protocol asks for more than the
# diagnosis: "requiring medication", "uncontrolled", "> NYHA class 2"): the criterion is to review.
EXCLUSION_REVIEW_CONDITIONS: dict[str, frozenset[Code]] = {
    "end-stage-renal": icd10("N18.6"),  # end-stage renal disease, dialysis not stated
    "seizure-disorder": snomed("84757009") | icd10("G40"),  # ⚠️ epilepsy: on medication?
    "heart-failure": snomed("42343007") | icd10("I50"),  # ⚠️ congestive heart failure: NYHA?
    "coronary-chronic": snomed("53741008") | icd10("I25"),  # ⚠️ chronic: active?
    "arrhythmia": snomed("698247007") | icd10("I47", "I48", "I49"),  # ⚠️ on therapy?
    "coagulation-disorder": snomed("64779008"),  # ⚠️ coagulation disorder, unspecified
    "hypertension": snomed("38341003") | icd10("I10", "I11", "I12", "I13", "I15"),  # ⚠️ controlled?
    "diabetes": snomed("73211009", "44054006") | icd10("E10", "E11", "E13", "E14"),  # ⚠️
    # Infections that may be active and serious (> grade 2): pneumonia, urinary, skin, liver
    # abscess, unspecified bacterial. Chronic viral hepatitis (B15–B19) is deliberately absent.
    "infection": icd10("J12", "J13", "J14", "J15", "J16", "J17", "J18", "N39.0", "L03", "K75.0")
    | icd10("A49"),  # ⚠️
}
# Another malignancy that the registry's exceptions may cover (treated basal cell carcinoma,
# superficial bladder tumours): to review rather than excluding.
OTHER_CANCER_EXCEPTION_PREFIXES = ("C44", "C67")
# Another malignancy: any ICD-10 C code except HCC and liver cancer unspecified (often used for
# HCC) and secondaries (extract.is_other_cancer).
NOT_OTHER_CANCER_PREFIXES = ("C22.0", "C22.8", "C22.9", "C77", "C78", "C79")

# ICD-10 codes are matched on the code or any of its prefixes (C78 matches C78.0).
PREFIX_MATCHED_SYSTEMS = (ICD10, ICD10CM)


# Every Observation code the service reads: the index of Observations keeps only these.
READ_OBSERVATION_CODES: frozenset[Code] = (
    frozenset().union(*LAB_CODES.values())
    | ECOG
    | TUMOUR_SIZE
    | AJCC_T
    | AJCC_N
    | AJCC_M
    | frozenset(PROJECT_OBSERVATIONS)
)
