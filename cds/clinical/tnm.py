"""TNM staging of HCC: AJCC 8th edition and the modified UICC stage of KLCA-NCC 2022.

AJCC 8th T: T1a solitary ≤ 2 cm; T1b solitary > 2 cm without vascular invasion; T2 solitary
> 2 cm with vascular invasion, or multiple none > 5 cm; T3 multiple, at least one > 5 cm; T4 major
branch of the portal or hepatic vein, or direct invasion of adjacent organs other than the
gallbladder, or perforation of visceral peritoneum. Stage: IA T1a N0 M0; IB T1b; II T2; IIIA T3;
IIIB T4; IVA N1 M0; IVB M1.

mUICC T counts three criteria (solitary; ≤ 2 cm; no vascular or bile-duct invasion): T1 all three,
T2 two, T3 one, T4 none. Stage: I T1, II T2, III T3, IVA T4 N0 M0 or N1 M0, IVB M1.

Vascular invasion: AJCC counts microscopic invasion, so a solitary tumour > 2 cm needs the
pathology's microvascular-invasion finding to be T1b or T2. mUICC is staged on imaging
(KLCA-NCC), so its criterion 3 reads macroscopic portal/hepatic-vein and bile-duct invasion and
counts microvascular invasion only when pathology documents it.

A category is given only when the documentation decides it; otherwise it is ``None`` and
``missing`` says what to document. The clinician's recorded AJCC T category, when present, is used
as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from cds.clinical.evidence import Status
from cds.clinical.inputs import Tumour
from cds.clinical.notes import Note, note
from cds.clinical.tumour import (
    adjacent_organ_invasion,
    bile_duct_invasion,
    distant_metastasis,
    macroscopic_invasion,
    major_branch_invasion,
    regional_nodes,
    tri_not,
    tri_or,
    undocumented,
    vascular_invasion,
)

T1A_MAX_CM = 2.0  # AJCC 8th: solitary ≤ 2 cm (the research note confirms "≤")
T3_ABOVE_CM = 5.0  # AJCC 8th: multiple, at least one > 5 cm
MUICC_SIZE_MAX_CM = 2.0  # mUICC criterion 2: largest ≤ 2 cm

AJCC_STAGE_BY_T = {"T1a": "IA", "T1b": "IB", "T2": "II", "T3": "IIIA", "T4": "IIIB"}
MUICC_STAGE_BY_T = {"T1": "I", "T2": "II", "T3": "III", "T4": "IVA"}


@dataclass(frozen=True)
class Ajcc8:
    """AJCC 8th edition categories and stage group; ``None`` where undetermined."""

    t: str | None
    n: str | None
    m: str | None
    stage: str | None
    missing: tuple[Note, ...]


@dataclass(frozen=True)
class Muicc:
    """Modified UICC T, stage, and how each T criterion was judged."""

    t: str | None
    stage: str | None
    criteria: dict[str, Status]
    reached_via_n1: bool
    missing: tuple[Note, ...]
    n: str | None = None


def n_category(t: Tumour) -> str | None:
    """N1 / N0 / unknown."""
    nodes = regional_nodes(t)
    return None if nodes is None else ("N1" if nodes else "N0")


def m_category(t: Tumour) -> str | None:
    """M1 / M0 / unknown."""
    mets = distant_metastasis(t)
    return None if mets is None else ("M1" if mets else "M0")


def ajcc_t(t: Tumour) -> tuple[str | None, list[Note]]:
    """AJCC 8th T category and what is missing to decide it."""
    if t.recorded_t is not None:
        return t.recorded_t.value, []
    t4 = tri_or([major_branch_invasion(t), adjacent_organ_invasion(t)])
    if t4:
        return "T4", []
    needed = (
        "nodule_count",
        "largest_cm",
        "portal_invasion",
        "hepatic_vein_invasion",
        "adjacent_organ_invasion",
    )
    missing = undocumented(t, needed)
    if t4 is None or t.nodule_count is None or t.largest_cm is None:
        return None, missing
    size = t.largest_cm.value
    if t.nodule_count.value > 1:
        return ("T3" if size > T3_ABOVE_CM else "T2"), []
    if size <= T1A_MAX_CM:
        return "T1a", []
    invaded = vascular_invasion(t)
    if invaded is None:
        return None, [note("ajcc-t1b-or-t2-needs-mvi")]
    return ("T2" if invaded else "T1b"), []


def ajcc_stage(t: str | None, n: str | None, m: str | None) -> str | None:
    """Stage group; M1 and N1 decide it whatever T is."""
    if m == "M1":
        return "IVB"
    if m is None:
        return None
    if n == "N1":
        return "IVA"
    if n is None or t is None:
        return None
    return AJCC_STAGE_BY_T[t]


def stage_ajcc8(t: Tumour) -> Ajcc8:
    """AJCC 8th edition TNM from the documented findings."""
    t_cat, missing = ajcc_t(t)
    n, m = n_category(t), m_category(t)
    if n is None:
        missing.append(note("finding-missing", finding="regional_nodes"))
    if m is None:
        missing.append(note("finding-missing", finding="distant_metastasis"))
    return Ajcc8(t_cat, n, m, ajcc_stage(t_cat, n, m), tuple(missing))


def muicc_criteria(t: Tumour) -> dict[str, Status]:
    """The three mUICC T criteria, each met, not met or unknown."""
    solitary = None if t.nodule_count is None else t.nodule_count.value == 1
    small = None if t.largest_cm is None else t.largest_cm.value <= MUICC_SIZE_MAX_CM
    mvi_documented = t.microvascular_invasion is not None and t.microvascular_invasion.value
    no_invasion = tri_not(tri_or([macroscopic_invasion(t), bile_duct_invasion(t), mvi_documented]))
    return {
        "solitary": Status.of(solitary),
        "largest_at_most_2_cm": Status.of(small),
        "no_vascular_or_bile_duct_invasion": Status.of(no_invasion),
    }


def muicc_t(criteria: dict[str, Status]) -> str | None:
    """T from the number of criteria met; unknown while any criterion is unknown."""
    if Status.UNKNOWN in criteria.values():
        return None
    met = sum(s is Status.MET for s in criteria.values())
    return f"T{4 - met}"


def muicc_stage(t: str | None, n: str | None, m: str | None) -> str | None:
    """mUICC stage; M1 → IVB and N1 → IVA whatever T is; T4 M0 → IVA whatever N is."""
    if m == "M1":
        return "IVB"
    if m is None:
        return None
    if n == "N1" or t == "T4":
        return "IVA"
    if n is None or t is None:
        return None
    return MUICC_STAGE_BY_T[t]


def stage_muicc(t: Tumour) -> Muicc:
    """Modified UICC (KLCA-NCC 2022) T and stage from the documented findings."""
    criteria = muicc_criteria(t)
    t_cat = muicc_t(criteria)
    n, m = n_category(t), m_category(t)
    stage = muicc_stage(t_cat, n, m)
    missing = (
        undocumented(
            t,
            (
                "nodule_count",
                "largest_cm",
                "portal_invasion",
                "hepatic_vein_invasion",
                "bile_duct_invasion",
            ),
        )
        if t_cat is None
        else []
    )
    if n is None and stage is None:
        missing.append(note("finding-missing", finding="regional_nodes"))
    if m is None:
        missing.append(note("finding-missing", finding="distant_metastasis"))
    reached_via_n1 = stage == "IVA" and n == "N1"
    return Muicc(t_cat, stage, criteria, reached_via_n1, tuple(missing), n)
