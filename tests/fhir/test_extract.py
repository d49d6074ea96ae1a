"""Selecting, validating and converting the resources of the input profile."""

from __future__ import annotations

from datetime import date

import pytest

from cds.clinical.inputs import ConditionState, PortalInvasion, Severity
from cds.fhir import codes
from cds.fhir.extract import condition_source, extract
from cds.fhir.record import load_record
from tests.fhir.factories import HCC_CONDITION, bundle, hepatectomy, lab, observation

AS_OF = date(2026, 11, 15)


def inputs(*resources):
    return extract(load_record(bundle(*resources)), AS_OF)


@pytest.mark.parametrize(
    ("ignored_status", "counted"),
    [
        ("preliminary", False),
        ("entered-in-error", False),
        ("cancelled", False),
        ("registered", False),
        ("final", True),
        ("amended", True),
        ("corrected", True),
    ],
)
def test_only_final_results_count(ignored_status, counted):
    """A newer preliminary, entered-in-error or cancelled result is ignored."""
    older = lab("old", "1975-2", 1.0, "mg/dL", when="2026-11-10")
    newer = lab("new", "1975-2", 5.0, "mg/dL", when="2026-11-12", status=ignored_status)
    bili = inputs(older, newer).labs.bilirubin
    assert bili.value == (5.0 if counted else 1.0)


def test_latest_result_wins_and_future_results_are_ignored():
    """The most recent result on or before the assessment date is used."""
    results = [
        lab("a", "1975-2", 1.0, "mg/dL", when="2026-11-01"),
        lab("b", "14631-6", 51.3, "umol/L", when="2026-11-10"),
        lab("c", "1975-2", 9.0, "mg/dL", when="2026-11-20"),
    ]
    bili = inputs(*results).labs.bilirubin
    assert (bili.value, bili.source.resource, bili.source.original) == (
        3.0,
        "Observation/b",
        "51.3 umol/L",
    )


def test_display_text_is_never_read():
    """A coding matches on system and code, whatever its display says."""
    obs = lab("a", "1751-7", 3.9, "g/dL")
    obs["code"]["coding"][0]["display"] = "Bilirubin (wrong display)"
    result = inputs(obs).labs
    assert result.albumin.value == 3.9
    assert result.bilirubin is None


def test_wrong_system_does_not_match():
    """The right code in another system is not the analyte."""
    obs = lab("a", "1975-2", 1.0, "mg/dL")
    obs["code"]["coding"][0]["system"] = "http://example.org/local"
    assert inputs(obs).labs.bilirubin is None


def test_unknown_unit_makes_the_value_unknown_with_reason():
    """A unit the service cannot convert leaves the value unknown and says why."""
    bili = inputs(lab("a", "1975-2", 1.0, "mg per dL")).labs.bilirubin
    assert bili.value is None
    assert bili.problem == "unit-invalid"


def test_missing_unit_is_not_assumed():
    """A bilirubin without a unit is not read as mg/dL."""
    bili = inputs(lab("a", "1975-2", 1.0, None)).labs.bilirubin
    assert (bili.value, bili.problem) == (None, "unit-missing")


def test_invalid_resource_is_reported_naming_the_field():
    """An invalid selected Observation is not used; the problem names resource and field."""
    obs = lab("bad", "1975-2", 1.0, "mg/dL")
    obs["valueQuantity"]["value"] = 1.0
    obs["referenceRange"] = [{"high": {"value": "high"}}]
    result = inputs(obs)
    assert result.labs.bilirubin.value is None
    assert any("Observation/bad" in p and "referenceRange" in p for p in result.data_problems)


def test_reference_range_high_is_the_uln():
    """The result's own referenceRange.high, converted, is its ULN."""
    obs = lab("cr", "14682-9", 100.0, "umol/L")
    obs["referenceRange"] = [
        {"high": {"value": 106, "unit": "umol/L", "system": codes.UCUM, "code": "umol/L"}}
    ]
    creatinine = inputs(obs).labs.creatinine
    assert creatinine.uln == pytest.approx(106 / 88.4)
    assert not creatinine.uln_assumed


@pytest.mark.parametrize(
    ("obs", "converted", "reported"),
    [
        (lab("b", "14631-6", 60, "umol/L"), 3.51, (60.0, "umol/L")),
        (lab("b", "1975-2", 2.1, "mg/dL"), 2.1, (None, None)),
        # unit text only, no UCUM code: the UCUM unit it spells is the reported unit
        (
            observation(
                "b", codes.LOINC, "14631-6", valueQuantity={"value": 34.2, "unit": "µmol/l"}
            ),
            2.0,
            (34.2, "umol/L"),
        ),
    ],
)
def test_a_lab_keeps_the_value_and_unit_it_was_reported_in(obs, converted, reported):
    """The value as reported, beside the converted one, when its unit is not the canonical one;
    ``Source.original`` stays the value as written."""
    bili = inputs(obs).labs.bilirubin
    assert round(bili.value, 2) == converted
    assert (bili.reported_value, bili.reported_unit) == reported
    assert bili.source.original.startswith(str(obs["valueQuantity"]["value"]))


def test_a_unitless_inr_has_no_reported_unit():
    """INR 1.2 with {INR} or no unit reads the same converted: nothing to show twice."""
    for unit in ("{INR}", None):
        inr = inputs(lab("i", "6301-6", 1.2, unit)).labs.inr
        assert (inr.value, inr.reported_value, inr.reported_unit) == (1.2, None, None)


def test_comparator_values_are_not_used_as_numbers():
    """'< 0.2 mg/dL' is a bound, not a value."""
    obs = lab("a", "1975-2", 0.2, "mg/dL")
    obs["valueQuantity"]["comparator"] = "<"
    assert "bound" in inputs(obs).labs.bilirubin.problem


def condition(cid, system, code, severity=None, clinical="active", verification=None):
    cond = {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": system, "code": code}]},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": clinical,
                }
            ]
        },
    }
    if severity:
        cond["severity"] = {"coding": [{"system": codes.SNOMED, "code": severity}]}
    if verification:
        cond["verificationStatus"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": verification,
                }
            ]
        }
    return cond


@pytest.mark.parametrize(
    ("severity", "expected", "recorded"),
    [
        (None, Severity.SEVERITY_NOT_RECORDED, None),
        ("255604002", Severity.MILD, "mild"),
        ("6736007", Severity.MODERATE_OR_SEVERE, "moderate"),
        ("24484000", Severity.MODERATE_OR_SEVERE, "severe"),
    ],
)
def test_ascites_severity(severity, expected, recorded):
    """Ascites severity comes from Condition.severity (SNOMED): the Child-Pugh grade, and the
    grade as recorded (moderate and severe score alike but are shown as written)."""
    result = inputs(condition("asc", codes.SNOMED, "389026000", severity))
    assert result.ascites.severity is expected
    assert result.ascites.recorded == recorded


@pytest.mark.parametrize(
    ("clinical", "verification", "counted"),
    [
        ("active", None, True),
        ("recurrence", None, True),
        ("resolved", None, False),
        ("inactive", None, False),
        ("active", "refuted", False),
        ("active", "entered-in-error", False),
    ],
)
def test_condition_status(clinical, verification, counted):
    """Resolved, inactive, refuted and entered-in-error Conditions do not count."""
    result = inputs(
        condition("h", codes.SNOMED, "25370001", clinical=clinical, verification=verification)
    )
    assert (result.hcc is not None) is counted


def test_icd10_codes_match_by_prefix():
    """ICD-10 C78.01 is a distant metastasis (C78); C22.0 is HCC."""
    result = inputs(condition("h", codes.ICD10CM, "C22.0"), condition("m", codes.ICD10, "C78.01"))
    assert result.hcc is not None
    assert result.tumour.distant_metastasis.value is True


def test_tumour_findings_from_project_codes():
    """Project CodeSystem findings become typed tumour facts."""
    vp = observation(
        "vp",
        codes.HCC_CDS,
        "portal-vein-invasion",
        valueCodeableConcept={"coding": [{"system": codes.HCC_CDS, "code": "vp3"}]},
    )
    size = observation(
        "s",
        codes.LOINC,
        "33728-7",
        valueQuantity={"value": 45, "unit": "mm", "system": codes.UCUM, "code": "mm"},
    )
    count = observation("n", codes.HCC_CDS, "nodule-count", valueInteger=2)
    tumour = inputs(HCC_CONDITION, vp, size, count).tumour
    assert tumour.portal_invasion.value is PortalInvasion.VP3
    assert tumour.largest_cm.value == 4.5
    assert tumour.nodule_count.value == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"valueInteger": 1}, 1),
        ({"valueCodeableConcept": {"coding": [{"system": codes.LOINC, "code": "LA9624-3"}]}}, 2),
        ({"valueCodeableConcept": {"coding": [{"system": codes.LOINC, "code": "LA4489-6"}]}}, None),
    ],
)
def test_ecog_integer_or_answer_code(value, expected):
    """ECOG from valueInteger or the LL529-9 answer codes; 'unknown' stays unknown."""
    ecog = inputs(observation("e", codes.LOINC, "89247-1", **value)).ecog
    assert (ecog.value if ecog else None) == expected


def test_ajcc_n_and_m_categories():
    """mCODE AJCC N/M Observations with cancerstaging.org values give N and M."""
    n = observation(
        "n",
        codes.LOINC,
        "21906-3",
        valueCodeableConcept={"coding": [{"system": codes.AJCC, "code": "cN1"}]},
    )
    m = observation(
        "m",
        codes.LOINC,
        "21907-1",
        valueCodeableConcept={"coding": [{"system": codes.AJCC, "code": "cM0"}]},
    )
    tumour = inputs(n, m).tumour
    assert (tumour.regional_nodes.value, tumour.distant_metastasis.value) == (True, False)


def test_partial_birth_date_gives_no_age():
    """A birth year alone would make the age a guess, so it is unknown."""
    data = bundle()
    data["entry"][0]["resource"] = {"resourceType": "Patient", "id": "p1", "birthDate": "1960"}
    assert extract(load_record(data), AS_OF).birth_date is None


def test_validation_verdicts_are_cached_by_content():
    """The same content gets the cached verdict; changed content is validated again."""
    from cds.fhir import validate

    validate.clear_cache()
    good = lab("v", "1975-2", 1.0, "mg/dL")
    assert validate.problem(good) is None
    bad = {**good, "valueQuantity": {"value": "x"}}
    assert "valueQuantity" in validate.problem(bad)
    assert validate.problem(bad) == validate.problem(dict(bad))
    assert validate.problem(good) is None
    assert len(validate._VERDICTS) == 2


@pytest.mark.parametrize(
    ("loinc", "value", "unit", "usable"),
    [
        ("14631-6", -5.0, "umol/L", False),
        ("14631-6", 0.0, "umol/L", False),
        ("6301-6", 0.0, "{INR}", False),
        ("751-8", 0.0, "10*9/L", True),  # a zero neutrophil count can be real
    ],
)
def test_implausible_values_are_unknown(loinc, value, unit, usable):
    """A negative lab, or a zero where zero cannot be, is unknown with the reason."""
    labs = inputs(lab("x", loinc, value, unit)).labs
    result = next(v for v in labs.__dict__.values() if v is not None)
    assert (result.value is not None) is usable
    if not usable:
        assert "implausible" in result.problem


def test_absurdly_long_unit_is_refused_quickly():
    """A unit string far longer than any lab unit is refused before parsing."""
    bili = inputs(lab("a", "1975-2", 1.0, "1" * 100_000)).labs.bilirubin
    assert bili.problem == "unit-too-long"


def test_newer_metastasis_finding_beats_older_ajcc_m0():
    """An old cM0 does not hide a newer extrahepatic-metastasis finding (the latest wins)."""
    m0 = observation(
        "m",
        codes.LOINC,
        "21907-1",
        when="2025-06-01",
        valueCodeableConcept={"coding": [{"system": codes.AJCC, "code": "cM0"}]},
    )
    m1 = observation(
        "x", codes.HCC_CDS, "extrahepatic-metastasis", when="2026-11-10", valueBoolean=True
    )
    assert inputs(m0, m1).tumour.distant_metastasis.value is True


def test_findings_before_a_recurrence_do_not_stage_it():
    """After a documented recurrence, the resected tumour's pT and size are not used."""
    hx = hepatectomy("2025-03-10")
    old_t = observation(
        "pt",
        codes.LOINC,
        "21899-0",
        when="2025-03-14",
        valueCodeableConcept={"coding": [{"system": codes.AJCC, "code": "pT1b"}]},
    )
    old_size = observation(
        "s0",
        codes.LOINC,
        "33728-7",
        when="2025-03-14",
        valueQuantity={"value": 3, "unit": "cm", "system": codes.UCUM, "code": "cm"},
    )
    relapse = condition("r", codes.SNOMED, "25370001", clinical="recurrence")
    relapse["onsetDateTime"] = "2026-10-20"
    new_size = observation(
        "s1",
        codes.LOINC,
        "33728-7",
        when="2026-11-04",
        valueQuantity={"value": 6, "unit": "cm", "system": codes.UCUM, "code": "cm"},
    )
    tumour = inputs(hx, old_t, old_size, relapse, new_size).tumour
    assert tumour.recorded_t is None
    assert tumour.largest_cm.value == 6.0


@pytest.mark.parametrize("unit", ["%", "s"])
def test_inr_in_percent_or_seconds_is_not_an_inr(unit):
    """Under an INR code, '%' (prothrombin activity) or seconds are refused, never converted."""
    inr = inputs(lab("i", "6301-6", 112, unit)).labs.inr
    assert inr.value is None
    assert inr.problem == "unit-not-ratio"


def test_hepatic_failure_with_coma_is_grade_4_encephalopathy():
    """K72.91 (hepatic failure with coma) scores 3 points; K72.90 is not encephalopathy."""
    with_coma = inputs(condition("c", codes.ICD10CM, "K72.91")).encephalopathy
    assert with_coma.severity is Severity.MODERATE_OR_SEVERE
    without = inputs(condition("c", codes.ICD10CM, "K72.90")).encephalopathy
    assert without.severity is Severity.NOT_DOCUMENTED


def test_other_cholangitis_is_not_a_cholestatic_disease():
    """K83.09 (other cholangitis) does not switch on the PBC/PSC bilirubin bands; K83.01 does."""
    assert inputs(condition("c", codes.ICD10CM, "K83.09")).cholestatic_disease is None
    assert inputs(condition("c", codes.ICD10CM, "K83.01")).cholestatic_disease is not None


def test_refuted_ascites_documents_its_absence():
    """A refuted ascites Condition is documented absence, not 'not documented'."""
    result = inputs(condition("a", codes.SNOMED, "389026000", verification="refuted"))
    assert result.ascites.severity is Severity.ABSENT


@pytest.mark.parametrize("status", ["provisional", "differential", "unconfirmed"])
def test_unconfirmed_hcc_is_not_a_diagnosis(status):
    """A provisional, differential or unconfirmed HCC is not yet a diagnosis."""
    assert inputs(condition("h", codes.SNOMED, "25370001", verification=status)).hcc is None


def test_hcc_recorded_after_surgery_is_not_a_recurrence():
    """An HCC Condition merely recorded after the hepatectomy is not read as a recurrence."""
    hx = hepatectomy("2026-10-01")
    late = condition("h", codes.SNOMED, "25370001")
    late["recordedDate"] = "2026-10-11"
    assert inputs(hx, late).resection.recurrence is None


@pytest.mark.parametrize(
    ("code", "decided", "review"),
    [
        ("D69.6", None, None),  # thrombocytopenia of cirrhosis
        ("D68.4", None, None),  # acquired coagulation factor deficiency
        ("D66", "bleeding-diathesis", None),  # haemophilia A
        ("I48.0", None, "arrhythmia"),  # AF: on anti-arrhythmic therapy?
        ("I25.2", None, "coronary-chronic"),  # old myocardial infarction: active?
        ("I21.4", "myocardial-infarction", None),  # acute myocardial infarction: judged by onset
        ("C22.9", None, None),  # liver cancer, unspecified (often the HCC)
        ("C18.7", "other-cancer", None),  # colon cancer
        ("C44.31", None, "other-cancer"),  # skin (basal cell): a registry exception, to review
        ("K65.2", "sbp", None),  # spontaneous bacterial peritonitis
        ("I10", None, "hypertension"),  # controlled or not is not coded
        ("E11.9", None, "diabetes"),
        ("B18.1", None, None),  # chronic hepatitis B is not an active serious infection
    ],
)
def test_exclusion_codes(code, decided, review):
    """Each code documents its concept; deciding ones are marked so, the rest go to review."""
    found = inputs(condition("c", codes.ICD10CM, code)).condition_findings
    assert {f.concept for f in found if f.decides} == ({decided} if decided else set())
    assert {f.concept for f in found if not f.decides} == ({review} if review else set())


@pytest.mark.parametrize(
    ("clinical", "verification", "state"),
    [
        ("active", "confirmed", ConditionState.ACTIVE),
        ("resolved", "confirmed", ConditionState.RESOLVED),
        ("remission", None, ConditionState.RESOLVED),
        ("inactive", "confirmed", ConditionState.RESOLVED),
        ("active", "refuted", ConditionState.REFUTED),
        ("active", "entered-in-error", None),
        ("active", "provisional", None),
    ],
)
def test_exclusion_conditions_keep_their_clinical_state(clinical, verification, state):
    """A resolved variceal bleed is still read (history-of criteria count it); an entered-in-error
    or provisional one is not a fact."""
    cond = condition("v", codes.SNOMED, "17709002", clinical=clinical, verification=verification)
    found = inputs(cond).condition_findings
    assert [f.state for f in found] == ([state] if state else [])


@pytest.mark.parametrize(
    ("observations", "kinds"),
    [
        # a final result after the assessment date: not used, listed
        (
            [("b1", "2026-11-10", "final", 1.0), ("b2", "2026-11-18", "final", 4.0)],
            ["future-dated"],
        ),
        # a preliminary newer than the final: listed
        (
            [("b1", "2026-11-10", "final", 1.0), ("b2", "2026-11-12", "preliminary", 4.0)],
            ["preliminary-newer"],
        ),
        # a preliminary older than the final: superseded, not listed
        ([("b1", "2026-11-12", "final", 1.0), ("b2", "2026-11-10", "preliminary", 4.0)], []),
        # a preliminary with no final at all: listed
        ([("b2", "2026-11-12", "preliminary", 4.0)], ["preliminary-newer"]),
    ],
)
def test_results_not_used_are_typed_inputs(observations, kinds):
    """Future-dated and newer preliminary results reach the core as typed not-used inputs."""
    resources = [
        lab(oid, "1975-2", v, "mg/dL", when=when, status=status)
        for oid, when, status, v in observations
    ]
    result = inputs(*resources)
    assert [n.kind for n in result.not_used] == kinds
    assert all(n.target == "bilirubin" and n.value.value == 4.0 for n in result.not_used)


def test_a_condition_is_shown_by_its_name_code_and_a_status_other_than_active():
    """The card names a Condition as the record does (text or display), with its code, and says
    "resolved" where that matters to a history-of criterion; no record id in the shown text."""
    resolved = {
        "resourceType": "Condition",
        "id": "v1",
        "clinicalStatus": {"coding": [{"code": "resolved"}]},
        "code": {
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "17709002",
                    "display": "Bleeding\u200b esophageal varices",
                }
            ]
        },
        "onsetDateTime": "2024-05-02",
    }
    shown = condition_source(resolved)
    assert shown.original == "Bleeding esophageal varices (sct 17709002), resolved"
    assert shown.resource == "Condition/v1"
    bare = {"resourceType": "Condition", "id": "c", "code": {"coding": [{"code": "Z21"}]}}
    assert condition_source(bare).original == "Z21"


@pytest.mark.parametrize(
    ("unit", "problem"),
    [("mL/s/1.73 m²", None), ("mmHg per litre", "unit-invalid"), (None, "unit-missing")],
)
def test_a_unit_written_but_not_understood_is_not_called_missing(unit, problem):
    """A unit text that is neither UCUM nor a known spelling is "not a valid unit", never "no
    unit recorded" (review 3, B1); the known eGFR spellings are read."""
    obs = observation("e", codes.LOINC, "98979-8", valueQuantity={"value": 0.4})
    if unit:
        obs["valueQuantity"]["unit"] = unit
    egfr = inputs(obs).labs.egfr
    assert egfr.problem == problem
    if problem is None:
        assert egfr.value == pytest.approx(24.0)
