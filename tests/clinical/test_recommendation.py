"""The treatment recommendation of clinical-rules §7, one test per branch."""

from __future__ import annotations

import pytest

from cds.clinical.assessment import assess
from cds.clinical.evidence import Source
from cds.clinical.inputs import (
    ConditionState,
    GradedFinding,
    NotUsed,
    PortalInvasion,
    Severity,
    TumourPattern,
)
from tests.clinical.builders import (
    AS_OF,
    SURGERY,
    condition,
    fact,
    lab,
    labs,
    patient,
    resection,
    tumour,
)


def option(p):
    return assess(p, AS_OF).recommendation


def test_no_hcc_is_not_applicable():
    """Without an HCC diagnosis, no treatment suggestion applies."""
    assert option(patient(hcc=None)).option == "not_applicable"


@pytest.mark.parametrize(
    ("changes", "headline", "params"),
    [
        ({"tumour": tumour(vp=4)}, "main-vessel-invaded", {"vessel": "vp4"}),
        ({"tumour": tumour(vv=3)}, "main-vessel-invaded", {"vessel": "vv3"}),
        ({"tumour": tumour(mets=True)}, "extrahepatic-spread", {"distant": True}),
        ({"ecog": fact(2)}, "bclc-c", {"causes": ("bclc-ecog-2",)}),  # the patient's ECOG
        ({"ecog": fact(1)}, "bclc-c", {"causes": ("bclc-ecog-1",)}),
        ({"ecog": fact(3)}, "bclc-d", {"ecog": 3}),
        (
            {"labs": labs(bilirubin=2.5, albumin=3.0, inr=1.8)},
            "child-pugh-8-or-more",
            {"score": 8, "cls": "B"},
        ),
        ({"labs": labs(bilirubin=3.01)}, "bilirubin-above-3", {"value": 3.01}),
    ],
)
def test_contraindication_gives_no_tace_with_reason(changes, headline, params):
    """BCLC C/D, Child-Pugh ≥ 8, main portal vein invasion or spread: no TACE, and why."""
    rec = option(patient(**changes))
    assert rec.option == "no_tace"
    assert rec.contraindicated
    assert rec.reasons[0].code == headline
    assert params.items() <= dict(rec.reasons[0].params).items()


@pytest.mark.parametrize(
    ("changes", "order"),
    [
        # Child-Pugh C12 (end-stage, BCLC D) before the bilirubin that is part of it
        (
            {"labs": labs(bilirubin=3.5, albumin=2.5, inr=2.5)},
            ["end-stage-liver", "bilirubin-above-3"],
        ),
        # main portal vein invasion before the BCLC C it causes
        ({"tumour": tumour(vp=4)}, ["main-vessel-invaded", "bclc-c"]),
        # extrahepatic spread before BCLC C
        ({"tumour": tumour(mets=True)}, ["extrahepatic-spread", "bclc-c"]),
        # Child-Pugh ≥ 8 before bilirubin > 3
        (
            {"labs": labs(bilirubin=3.5, albumin=3.0)},
            ["child-pugh-8-or-more", "bilirubin-above-3"],
        ),
    ],
)
def test_headline_is_the_decisive_reason(changes, order):
    """clinical-rules §7 order: end-stage/BCLC D, Child-Pugh ≥ 8, main vessel, spread, bilirubin,
    decompensation, BCLC C."""
    assert [r.code for r in option(patient(**changes)).reasons][: len(order)] == order


def test_child_pugh_12_is_named_as_12_not_12_or_more():
    """A score of exactly 12 is the score, with its class, not "12 or more"."""
    mild = GradedFinding(Severity.MILD, Source("Condition/a", None, "coded"))
    rec = option(patient(labs=labs(bilirubin=3.5, albumin=2.5, inr=2.5), ascites=mild))
    assert rec.reasons[0].code == "end-stage-liver"
    assert dict(rec.reasons[0].params) == {"low": 12, "high": 12}


def test_bilirubin_at_3_still_allows_tace():
    """Bilirubin exactly 3.0 mg/dL is not above the limit."""
    assert option(patient(labs=labs(bilirubin=3.0))).option == "tace"


def test_contraindication_decides_despite_unknowns():
    """A known contraindication decides even when other data are missing."""
    rec = option(patient(tumour=tumour(mets=True, count=None), labs=labs(albumin=None)))
    assert rec.option == "no_tace"


@pytest.mark.parametrize(
    "changes",
    [
        {"ecog": None},
        {"labs": labs(bilirubin=None)},
        {"tumour": tumour(vp=None)},
        {"labs": labs(albumin=None, bilirubin=2.5)},  # Child-Pugh 6–8 straddles 7/8
        {"tumour": tumour(mets=None)},
    ],
)
def test_unknown_that_could_change_it_gives_insufficient_data(changes):
    """An unknown that could change the suggestion: no suggestion, and what to obtain."""
    rec = option(patient(**changes))
    assert rec.option == "insufficient_data"
    assert rec.missing


@pytest.mark.parametrize(
    ("changes", "stage"),
    [
        ({"tumour": tumour(count=1, size=1.5, mvi=False)}, "0"),
        ({"tumour": tumour(count=2, size=2.5)}, "A"),
    ],
)
def test_early_stage_gives_no_tace(changes, stage):
    """BCLC 0/A: ablation, resection or transplant come first."""
    rec = option(patient(**changes))
    assert rec.option == "no_tace"
    assert rec.reasons[0].code == "bclc-early"
    assert rec.reasons[0].params["stage"] == stage


def test_b3_gives_no_tace():
    """BCLC B3 (infiltrative) goes to systemic therapy, not TACE."""
    rec = option(patient(tumour=tumour(pattern=TumourPattern.INFILTRATIVE)))
    assert rec.option == "no_tace"


def test_peng_population_gets_tace_plus_sorafenib():
    """Recurrence after R0 hepatectomy with MVI, BCLC B: TACE + sorafenib, TACE the alternative."""
    rec = option(patient(resection=resection()))
    assert rec.option == "tace_plus_sorafenib"
    assert rec.alternatives == ("tace",)
    assert "PENG-2024" in rec.evidence


@pytest.mark.parametrize(("margin", "recurrence", "mvi"), [("R1", True, True), ("R0", True, False)])
def test_outside_peng_population_gets_tace(margin, recurrence, mvi):
    """R1 margin or no MVI: not the Peng population, so TACE alone."""
    rec = option(patient(resection=resection(margin, recurrence, mvi)))
    assert rec.option == "tace"


def test_peng_unknown_gives_insufficient_data():
    """A hepatectomy with the margin undocumented leaves the Peng question open: only adding
    sorafenib waits for it, TACE is indicated either way."""
    rec = option(patient(resection=resection(margin=None)))
    assert rec.option == "insufficient_data"
    assert rec.tace_indicated
    assert [r.code for r in rec.reasons] == ["tace-either-way", "peng-unknown"]
    assert {"code": "missing-item", "part": "r0_margin"} in [
        {"code": m.code, **m.params} for m in rec.missing
    ]


@pytest.mark.parametrize(
    "inputs",
    [
        patient(tumour=tumour(pattern=None)),  # BCLC B sub-group undecided: B1 or B3 is no TACE
        patient(labs=labs(albumin=None, bilirubin=2.5)),  # Child-Pugh 6–8 straddles 7
    ],
)
def test_other_missing_data_leaves_tace_undecided(inputs):
    rec = option(inputs)
    assert rec.option == "insufficient_data"
    assert not rec.tace_indicated


def test_a_decisive_not_used_result_undoes_tace_either_way():
    """Peng open, and a future-dated Vp4 that would stop TACE: TACE is no longer indicated."""
    vp4 = NotUsed("future-dated", "portal_invasion", fact(PortalInvasion.VP4, days_ago=-4))
    result = assess(patient(resection=resection(margin=None), not_used=(vp4,)), AS_OF)
    assert result.recommendation.option == "insufficient_data"
    assert not result.recommendation.tace_indicated


def test_trial_eligible_gets_tace_with_protocol_option():
    """All NCT00919009 criteria met: TACE recommended, TACE + sorafenib as the protocol option."""
    rec = option(patient())
    assert rec.option == "tace"
    assert rec.protocol_option
    assert rec.alternatives == ("tace_plus_sorafenib",)


def test_intermediate_not_eligible_gets_tace_and_negative_trials():
    """BCLC B not trial-eligible (platelets 50): TACE alone, citing the negative trials."""
    rec = option(patient(labs=labs(platelets=50.0)))
    assert rec.option == "tace"
    assert not rec.protocol_option
    assert rec.evidence == ("BCLC-2022", "NO-OS-BENEFIT")
    assert [r.code for r in rec.reasons] == [
        "tace-standard",
        "combination-not-suggested",
        "trial-ineligible",
    ]


def test_unobtainable_diagnoses_are_unknown_not_absent():
    """When the diagnoses could not be obtained, 'no HCC' is unknown: insufficient data."""
    rec = option(patient(hcc=None, diagnoses_available=False))
    assert rec.option == "insufficient_data"
    assert rec.missing[0].code == "diagnoses-unavailable"


@pytest.mark.parametrize(
    ("finding", "severity", "word"),
    [
        ("encephalopathy", Severity.MILD, "encephalopathy"),
        ("encephalopathy", Severity.MODERATE_OR_SEVERE, "encephalopathy"),
        ("ascites", Severity.MODERATE_OR_SEVERE, "ascites-moderate-severe"),
    ],
)
def test_decompensation_is_a_contraindication_to_tace(finding, severity, word):
    """Hepatic encephalopathy or moderate/severe ascites: no TACE, even at Child-Pugh 7."""
    p = patient(**{finding: GradedFinding(severity, Source("Condition/d", None, "coded"))})
    rec = option(p)
    assert rec.option == "no_tace"
    assert rec.liver_contraindicated
    assert word in [r.code for r in rec.reasons]


@pytest.mark.parametrize("recorded", ["moderate", "severe", None])
def test_the_ascites_reason_names_the_recorded_grade(recorded):
    ascites = GradedFinding(Severity.MODERATE_OR_SEVERE, Source("Condition/a", None, "x"), recorded)
    reason = next(r for r in option(patient(ascites=ascites)).reasons if r.code.startswith("asc"))
    assert reason.params["grade"] == recorded


def test_mild_ascites_alone_is_not_a_contraindication():
    """Mild ascites at Child-Pugh 6: TACE is still suggested."""
    p = patient(ascites=GradedFinding(Severity.MILD, Source("Condition/a", None, "coded")))
    assert option(p).option == "tace"


@pytest.mark.parametrize(
    ("finding", "option_code", "reason"),
    [
        (condition("sbp"), "no_tace", "active-infection"),
        (condition("sepsis"), "no_tace", "active-infection"),
        # the other side: over, refuted, or not a serious infection the record can grade
        (condition("sbp", ConditionState.RESOLVED), "tace", "tace-standard"),
        (condition("sepsis", ConditionState.REFUTED), "tace", "tace-standard"),
        (condition("sbp", decides=False), "tace", "tace-standard"),
        (condition("infection"), "tace", "tace-standard"),
    ],
)
def test_active_serious_infection_withholds_tace(finding, option_code, reason):
    """Ruling A5: an active SBP or sepsis → no TACE until it is treated (the card says to treat
    the infection and reassess); a resolved or refuted one, or another infection, does not."""
    rec = option(patient(condition_findings=(finding,)))
    assert rec.option == option_code
    assert rec.reasons[0].code == reason
    if option_code == "no_tace":
        assert rec.contraindicated and rec.liver_contraindicated
        assert rec.reasons[0].params["infection"] == finding.concept
        assert rec.reasons[0].params["source"] == finding.source.resource


def test_b1_goes_to_transplant_evaluation():
    """BCLC B1 (within extended transplant criteria): transplant evaluation first."""
    rec = option(patient(tumour=tumour(within_transplant_criteria=True)))
    assert rec.option == "no_tace"
    assert [r.code for r in rec.reasons] == ["bclc-b1", "bclc-b1-bridging"]


def test_tumour_only_contraindication_does_not_count_against_the_liver():
    """Main portal vein invasion stops TACE but says nothing against sorafenib itself."""
    rec = option(patient(tumour=tumour(vp=4)))
    assert rec.contraindicated and not rec.liver_contraindicated


def test_stale_ecog_is_not_used_for_bclc():
    """An ECOG older than 30 days leaves the stage undetermined, saying why."""
    result = assess(patient(ecog=fact(0, days_ago=40)), AS_OF)
    assert result.bclc.stage is None
    stale = next(m for m in result.bclc.missing if m.code == "ecog-stale")
    assert stale.params == {"date": "2026-10-06", "max_days": 30}
    assert result.recommendation.option == "insufficient_data"


def test_resection_hints_without_a_hepatectomy_leave_peng_open():
    """A documented recurrence but no recognised hepatectomy: Peng unknown, not 'not met'."""
    rec = option(patient(resection_hints=(Source("Condition/r", SURGERY, "recurrence"),)))
    assert rec.option == "insufficient_data"
    assert rec.missing[0].params["part"] == "hepatectomy-hint"


def test_unknown_trial_status_is_said_on_the_tace_card():
    """TACE with the trial status unknown says the protocol option may still apply."""
    rec = option(patient(labs=labs(platelets=None)))
    assert rec.option == "tace"
    assert not rec.protocol_option
    assert rec.reasons[-1].code == "trial-unknown"


@pytest.mark.parametrize(
    ("changes", "codes"),
    [
        # branch portal invasion: the tumour-board sentence names it
        (
            {"tumour": tumour(vp=2)},
            ["bclc-c", "protocol-option-tumour-board", "tumour-board-branch-pvi"],
        ),
        # ECOG 1 with the trial met: protocol option for the tumour board, no branch sentence
        ({"ecog": fact(1, days_ago=3)}, ["bclc-c", "protocol-option-tumour-board"]),
    ],
)
def test_bclc_c_overrides_trial_met(changes, codes):
    """BCLC C with the trial's data criteria met: no TACE; the protocol option is named for the
    tumour board; the branch-invasion sentence only with branch invasion (clinical-rules §7)."""
    rec = option(patient(**changes))
    assert assess(patient(**changes), AS_OF).eligibility.status == "eligible"
    assert rec.option == "no_tace"
    assert rec.advanced_stage_only
    assert [r.code for r in rec.reasons] == codes


def test_tumour_board_sentence_never_without_branch_invasion():
    """A trial-eligible patient with a contraindication other than BCLC C gets no such line."""
    for p in (patient(ecog=fact(1, days_ago=3)), patient(labs=labs(bilirubin=3.2))):
        assert "tumour-board-branch-pvi" not in [r.code for r in option(p).reasons]


def test_bclc_a_with_trial_met_is_documented():
    """BCLC A and every data criterion met: no TACE, and the card says the criteria are met."""
    p = patient(tumour=tumour(count=2, size=2.5))
    assert assess(p, AS_OF).eligibility.status == "eligible"
    assert [r.code for r in option(p).reasons] == ["bclc-early", "bclc-a-trial-met"]


@pytest.mark.parametrize(
    ("pattern", "transplant", "undecided"),
    [
        (None, False, ("pattern",)),
        (TumourPattern.WELL_DEFINED, None, ("within_transplant_criteria",)),
        (None, None, ("pattern", "within_transplant_criteria")),
    ],
)
def test_b_subgroup_undecided_gives_insufficient_data(pattern, transplant, undecided):
    """BCLC B with the pattern or the transplant finding undocumented: insufficient data naming
    the finding(s); the message says what each answer leads to."""
    rec = option(patient(tumour=tumour(pattern=pattern, within_transplant_criteria=transplant)))
    assert rec.option == "insufficient_data"
    assert rec.reasons[0].code == "bclc-b-subgroup-undecided"
    assert rec.reasons[0].params["findings"] == undecided
    assert [m.params["finding"] for m in rec.missing] == list(undecided)


def test_infiltrative_decides_b3_even_without_transplant_finding():
    """An infiltrative pattern is B3 whatever the transplant criteria: systemic therapy."""
    rec = option(
        patient(tumour=tumour(pattern=TumourPattern.INFILTRATIVE, within_transplant_criteria=None))
    )
    assert rec.option == "no_tace"
    assert rec.reasons[0].code == "bclc-b3"


def not_used_lab(name, value, kind="preliminary-newer", days_ago=1):
    return NotUsed(kind, name, lab(name, value, days_ago))


@pytest.mark.parametrize(
    ("item", "withheld"),
    [
        (not_used_lab("bilirubin", 3.5), True),  # > 3 mg/dL would stop TACE
        (not_used_lab("bilirubin", 1.5), False),  # would change nothing
        (NotUsed("future-dated", "portal_invasion", fact(PortalInvasion.VP4, days_ago=-4)), True),
        (NotUsed("future-dated", "ecog", fact(3, days_ago=-2)), True),
        (not_used_lab("albumin", 3.4), False),  # Child-Pugh 6: still TACE
    ],
)
def test_not_used_result_that_would_change_the_decision_withholds_it(item, withheld):
    """clinical-rules §7: a not-used result that would change the decision if valid → insufficient
    data naming it; one that would not is only listed."""
    result = assess(patient(not_used=(item,)), AS_OF)
    assert len(result.not_used) == 1
    assert result.recommendation.option == ("insufficient_data" if withheld else "tace")
    assert bool(result.not_used_decisive) is withheld
    if withheld:
        assert result.recommendation.missing == result.not_used_decisive


@pytest.mark.parametrize(
    ("item", "criterion", "status", "trial"),
    [
        (not_used_lab("bilirubin", 3.01), "inc-bilirubin", "unknown", "unknown"),
        (not_used_lab("bilirubin", 3.0), "inc-bilirubin", "met", "eligible"),
        (not_used_lab("platelets", 59.9), "inc-platelets", "unknown", "unknown"),
        (not_used_lab("platelets", 60.0), "inc-platelets", "met", "eligible"),
        (
            NotUsed("future-dated", "portal_invasion", fact(PortalInvasion.VP4, days_ago=-4)),
            "inc-no-main-vessel",
            "unknown",
            "unknown",
        ),
        (
            NotUsed("future-dated", "portal_invasion", fact(PortalInvasion.VP0, days_ago=-4)),
            "inc-no-main-vessel",
            "met",
            "eligible",
        ),
        (
            NotUsed("future-dated", "pattern", fact(TumourPattern.INFILTRATIVE, days_ago=-4)),
            "exc-infiltrative",
            "to_review",
            "unknown",
        ),
        (
            NotUsed("future-dated", "pattern", fact(TumourPattern.WELL_DEFINED, days_ago=-4)),
            "exc-infiltrative",
            "absent",
            "eligible",
        ),
    ],
)
def test_not_used_result_that_would_change_a_criterion_leaves_it_undecided(
    item, criterion, status, trial
):
    """Ruling A7: a not-used result that would change a trial criterion makes that criterion
    unknown (an exclusion: to review), naming the result; one that would not leaves it as it is."""
    result = assess(patient(not_used=(item,)), AS_OF)
    (nct,) = result.trials
    judged = next(r.judgement for r in nct.results if r.criterion.id == criterion)
    assert judged.status.value == status
    assert nct.status == trial
    held = judged.reason.code == "criterion-not-used-could-change"
    assert held is (status in ("unknown", "to_review"))
    if held:
        assert judged.reason.params["source"] == item.value.source.resource


def test_criterion_left_undecided_by_a_not_used_result_drops_the_protocol_option():
    """The trial unknown because of a not-used platelet count: TACE alone, no protocol option."""
    rec = option(patient(not_used=(not_used_lab("platelets", 59.9),)))
    assert rec.option == "tace"
    assert not rec.protocol_option
    assert "trial-unknown" in [r.code for r in rec.reasons]


@pytest.mark.parametrize(
    ("albumin", "params"),
    [
        (4.0, {"low": 5, "high": 5, "components": ()}),
        (None, {"low": 5, "high": 7, "components": ("albumin",)}),  # 5–7: TACE whatever it is
    ],
)
def test_tace_reason_names_the_child_pugh_range_when_a_lab_is_missing(albumin, params):
    """Preserved liver function is said with its Child-Pugh range and what is not measured, so
    a missing albumin is never read as a measured normal one (ruling A3: 5–7 still allows TACE)."""
    rec = option(patient(labs=labs(albumin=albumin)))
    assert rec.option == "tace"
    assert rec.reasons[0].code == "tace-standard"
    assert rec.reasons[0].params == params


@pytest.mark.parametrize(("mets", "listed"), [(True, False), (False, True)])
def test_an_open_t_category_is_a_gap_only_while_it_decides_the_stage(mets, listed):
    """One 4 cm nodule, MVI undocumented: T1b or T2. With M1 the AJCC stage is IVB either way,
    so the card does not ask for the MVI; without, the stage waits for it."""
    result = assess(patient(tumour=tumour(count=1, mvi=None, mets=mets)), AS_OF)
    assert (result.ajcc8.stage == "IVB") is mets
    asked = [g for g in result.gaps if g.code == "ajcc-t1b-or-t2-needs-mvi"]
    assert bool(asked) is listed
    assert result.ajcc8.missing  # the staging itself still says what is undocumented


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        (Severity.SEVERITY_NOT_RECORDED, "insufficient_data"),  # could be moderate: asked for
        (Severity.MILD, "tace"),
        (Severity.MODERATE_OR_SEVERE, "no_tace"),
    ],
)
def test_an_ungraded_ascites_withholds_tace_until_graded(severity, expected):
    """Scored as mild for Child-Pugh, but the grade decides TACE: it is asked for (§4: an
    unknown that could change the suggestion)."""
    ascites = GradedFinding(severity, Source("Condition/a", AS_OF, "ascites"))
    rec = option(patient(ascites=ascites))
    assert rec.option == expected
    asked = [m for m in rec.missing if m.code == "ascites-grade-missing"]
    assert bool(asked) is (expected == "insufficient_data")


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        (dict(bilirubin=2.5, albumin=3.0, inr=1.1), True),  # Child-Pugh B7: TACE rests on it
        (dict(bilirubin=2.5, albumin=3.0, inr=1.8), False),  # B8: TACE withheld for the liver
        (dict(bilirubin=3.5, albumin=3.6), False),  # bilirubin above 3: withheld for the liver
    ],
)
def test_preserved_liver_function_is_said_only_where_the_suggestion_rests_on_it(changes, said):
    result = assess(patient(labs=labs(**changes)), AS_OF)
    assert ("cp-class-b-possible" in [f.code for f in result.flags]) is said


@pytest.mark.parametrize(
    ("item", "vessel"),
    [
        (NotUsed("future-dated", "portal_invasion", fact(PortalInvasion.VP4, days_ago=-4)), "vp4"),
        (NotUsed("future-dated", "portal_invasion", fact(PortalInvasion.VP0, days_ago=-4)), None),
        (not_used_lab("bilirubin", 3.5), None),
    ],
)
def test_a_not_used_invasion_is_named_by_its_grade(item, vessel):
    """ "main portal vein (Vp4) invasion", not the code as written ("vp4")."""
    (listed,) = assess(patient(not_used=(item,)), AS_OF).not_used
    assert listed.params["vessel"] == vessel


@pytest.mark.parametrize(
    ("state", "flagged"), [(ConditionState.ACTIVE, True), (ConditionState.RESOLVED, False)]
)
def test_an_active_sbp_without_documented_ascites_asks_for_its_grade(state, flagged):
    """SBP is an infection of ascitic fluid: the card does not say "ascites … scored as absent"
    without asking for its grade (the score keeps the convention: nothing is guessed)."""
    result = assess(patient(condition_findings=(condition("sbp", state),)), AS_OF)
    codes = [f.code for f in result.flags]
    assert ("ascites-implied-by-sbp" in codes) is flagged
    absent = [f for f in result.flags if f.code == "cp-not-documented-scored-absent"]
    assert ("ascites" in [f.params["component"] for f in absent]) is not flagged
    assert result.child_pugh.points()["ascites"] == 1


def test_results_not_used_are_named_most_consequential_first():
    """A future-dated bilirubin, ECOG and Vp4 would each stop TACE: the Vp4 (it changes the
    stage) is named first, then the bilirubin, then the ECOG, whatever their order in the record."""
    items = (
        NotUsed("future-dated", "ecog", fact(3, days_ago=-2)),
        not_used_lab("bilirubin", 4.7, kind="future-dated", days_ago=-3),
        NotUsed("future-dated", "portal_invasion", fact(PortalInvasion.VP4, days_ago=-4)),
    )
    result = assess(patient(not_used=items), AS_OF)
    named = [m.params["finding"] or m.params["analyte"] for m in result.recommendation.missing]
    assert named == ["portal_invasion", "bilirubin", "ecog"]
