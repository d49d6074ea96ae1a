"""Does the patient belong to the Peng 2024 population?

Peng Z et al., JAMA Oncol 2024;10(8):1047–54: recurrent intermediate-stage HCC after R0 hepatectomy
with microvascular invasion (MVI) on the resection specimen. The Child-Pugh (A or B7) and ECOG (0–1)
limits are clinical-rules §7 assumptions not yet checked against the paper.
A patient with no hepatectomy documented is not in the population; a hepatectomy with margin,
MVI or recurrence undocumented leaves it unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from cds.clinical.bclc import Bclc
from cds.clinical.child_pugh import ChildPugh
from cds.clinical.evidence import Fact, Status, all_of
from cds.clinical.inputs import PatientInputs
from cds.clinical.notes import Note, note

MAX_CHILD_PUGH = 7
MAX_ECOG = 1


@dataclass(frozen=True)
class PengPopulation:
    status: Status
    criteria: dict[str, Status]
    missing: tuple[Note, ...]


def _fact_is(fact: Fact[bool] | Fact[str] | None, wanted: object) -> Status:
    return Status.UNKNOWN if fact is None else Status.of(fact.value == wanted)


def _child_pugh_at_most(cp: ChildPugh, limit: int) -> Status:
    low, high = cp.score_range
    return Status.MET if high <= limit else Status.NOT_MET if low > limit else Status.UNKNOWN


def peng_population(
    inputs: PatientInputs, bclc: Bclc, cp: ChildPugh, ecog: Fact[int] | None
) -> PengPopulation:
    """Judge each part of the Peng 2024 population; all must be met."""
    resection = inputs.resection
    if resection is None and inputs.resection_hints:
        # A recurrence, margin or MVI finding without a recognised hepatectomy: the procedure
        # may be coded in a way this service does not read, so the question stays open.
        return PengPopulation(
            Status.UNKNOWN,
            {"hepatectomy": Status.UNKNOWN},
            (note("missing-item", part="hepatectomy-hint"),),
        )
    if resection is None:
        return PengPopulation(Status.NOT_MET, {"hepatectomy": Status.NOT_MET}, ())
    criteria = {
        "hepatectomy": Status.MET,
        "r0_margin": _fact_is(resection.margin, "R0"),
        "microvascular_invasion": _fact_is(resection.microvascular_invasion, True),
        "recurrence": _fact_is(resection.recurrence, True),
        "bclc_b": Status.UNKNOWN if bclc.stage is None else Status.of(bclc.stage == "B"),
        "child_pugh_at_most_7": _child_pugh_at_most(cp, MAX_CHILD_PUGH),
        "ecog_0_1": Status.UNKNOWN if ecog is None else Status.of(ecog.value <= MAX_ECOG),
    }
    missing = tuple(
        note("missing-item", part=name) for name, s in criteria.items() if s is Status.UNKNOWN
    )
    return PengPopulation(all_of(list(criteria.values())), criteria, missing)
