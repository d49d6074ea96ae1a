"""Protocols are data: a second protocol is one data module plus its rules, and it gets its own
result, JSON and card section with no change to the templates or the renderer."""

from __future__ import annotations

from cds.clinical.assessment import Settings, assess
from cds.clinical.eligibility import (
    ClinicianConfirms,
    ConditionExclusion,
    Criterion,
    LabLimit,
    MinimumAge,
    TrialProtocol,
)
from cds.clinical.notes import note
from cds.clinical.protocols import REGISTRY, protocol
from cds.render.cards import patient_view_cards
from cds.render.messages import messages
from cds.report.assessment_json import to_json
from tests.clinical.builders import AS_OF, condition, labs, patient

# A test-only protocol built from the generic rules: no new code, no new words.
TEST_PROTOCOL = TrialProtocol(
    id="NCT99999999",
    criteria=(
        Criterion(
            "inc-consent",
            "inclusion",
            "clinician",
            "Signed consent",
            note("crit-clinician", item="inc-consent"),
            ClinicianConfirms(),
        ),
        Criterion(
            "inc-age",
            "inclusion",
            "data",
            "Age ≥ 18",
            note("crit-min-age", years=18),
            MinimumAge(18),
        ),
        Criterion(
            "inc-platelets",
            "inclusion",
            "data",
            "Platelets ≥ 100 x 10^9/L",
            note("crit-lab-limit", analyte="platelets", op=">=", limit=100.0, unit="10*9/L"),
            LabLimit("platelets", ">=", 100.0, "10*9/L"),
        ),
        Criterion(
            "exc-hiv",
            "exclusion",
            "data",
            "HIV",
            note("crit-exclusion", item="exc-hiv"),
            ConditionExclusion(("hiv",), history=True),
        ),
    ),
    lab_window_days=14,
    registry_status="recruiting",
    years="2025–",
    evidence="BCLC-2022",
)
SETTINGS = Settings(protocols=(*REGISTRY, TEST_PROTOCOL))


def test_registry_holds_nct00919009():
    assert protocol("NCT00919009").registry_status == "completed"


def test_second_protocol_is_judged_by_its_own_criteria():
    """The platelet limit of the test protocol (100) is its own; NCT00919009 keeps 60."""
    result = assess(patient(labs=labs(platelets=80.0)), AS_OF, SETTINGS)
    by_trial = {t.trial: t for t in result.trials}
    assert by_trial["NCT99999999"].status == "ineligible"
    assert by_trial["NCT00919009"].status == "eligible"
    hiv = assess(patient(condition_findings=(condition("hiv"),)), AS_OF, SETTINGS)
    assert {t.trial: t.status for t in hiv.trials}["NCT99999999"] == "ineligible"


def test_second_protocol_renders_its_own_section():
    """JSON and card carry the second protocol with no template or renderer edit."""
    msgs = messages("en")
    document = to_json(assess(patient(), AS_OF, SETTINGS), msgs)
    assert document["eligibility"]["NCT99999999"]["status"] == "eligible"
    assert document["eligibility"]["NCT99999999"]["to_confirm"] == ["inc-consent", "exc-hiv"]
    detail = patient_view_cards(document, "p", msgs)[0]["detail"]
    heading = msgs.text("trial.section", trial="NCT99999999", status=msgs.text("overall.eligible"))
    assert heading in detail
    assert (
        msgs.text("key.trial", trial="NCT99999999", status=msgs.text("overall.eligible")) in detail
    )
    # recruiting, so not the "completed" sentence; NCT00919009 keeps its own
    assert detail.count(msgs.text("trial.completed", trial="NCT00919009", years="2009–2011")) == 1
