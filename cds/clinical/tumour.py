"""Three-valued readings of the tumour findings shared by BCLC, AJCC, mUICC and the trial.

Each function returns ``True``/``False`` when the documentation decides it and ``None`` when a
finding it needs is not documented. Vp/Vv grades are the Liver Cancer Study Group of Japan's.
"""

from __future__ import annotations

from collections.abc import Iterable

from cds.clinical.evidence import Fact
from cds.clinical.inputs import HepaticVeinInvasion, PortalInvasion, Tumour
from cds.clinical.notes import Note, note


def undocumented(t: Tumour, names: Iterable[str]) -> list[Note]:
    """A ``finding-missing`` note for each named finding that is not documented."""
    return [note("finding-missing", finding=name) for name in names if getattr(t, name) is None]


def tri_or(values: Iterable[bool | None]) -> bool | None:
    """True if any is true; else unknown if any is unknown; else false."""
    values = list(values)
    if True in values:
        return True
    if None in values:
        return None
    return False


def tri_not(value: bool | None) -> bool | None:
    """Negation that keeps unknown unknown."""
    return None if value is None else not value


def _at_least(
    fact: Fact[PortalInvasion] | Fact[HepaticVeinInvasion] | None, grade: int
) -> bool | None:
    return None if fact is None else fact.value >= grade


def _flag(fact: Fact[bool] | None) -> bool | None:
    return None if fact is None else fact.value


def macroscopic_invasion(t: Tumour) -> bool | None:
    """Any macroscopic portal (Vp1–4) or hepatic-vein (Vv1–3) invasion: BCLC 'portal invasion'."""
    return tri_or([_at_least(t.portal_invasion, 1), _at_least(t.hepatic_vein_invasion, 1)])


def major_branch_invasion(t: Tumour) -> bool | None:
    """Invasion of a major branch of the portal (Vp3–4) or hepatic vein (Vv2–3): AJCC T4."""
    return tri_or([_at_least(t.portal_invasion, 3), _at_least(t.hepatic_vein_invasion, 2)])


def main_vessel_invasion(t: Tumour) -> bool | None:
    """Main portal vein (Vp4) or IVC (Vv3) invasion: excludes from NCT00919009."""
    return tri_or([_at_least(t.portal_invasion, 4), _at_least(t.hepatic_vein_invasion, 3)])


def vascular_invasion(t: Tumour) -> bool | None:
    """Any vascular invasion, macroscopic or microscopic (AJCC T2, mUICC criterion 3)."""
    return tri_or([macroscopic_invasion(t), _flag(t.microvascular_invasion)])


def bile_duct_invasion(t: Tumour) -> bool | None:
    """Bile-duct invasion (B1 or more)."""
    return _flag(t.bile_duct_invasion)


def adjacent_organ_invasion(t: Tumour) -> bool | None:
    """Direct invasion of an adjacent organ (not the gallbladder), or peritoneal perforation."""
    return _flag(t.adjacent_organ_invasion)


def regional_nodes(t: Tumour) -> bool | None:
    """Regional lymph-node metastasis (N1)."""
    return _flag(t.regional_nodes)


def distant_metastasis(t: Tumour) -> bool | None:
    """Distant metastasis (M1)."""
    return _flag(t.distant_metastasis)


def extrahepatic_spread(t: Tumour) -> bool | None:
    """Spread beyond the liver: regional nodes or distant metastasis (BCLC C)."""
    return tri_or([regional_nodes(t), distant_metastasis(t)])


def documented_findings(t: Tumour) -> list[tuple[str, Fact[object]]]:
    """(finding id, fact) of every documented tumour finding, for the evidence table."""
    facts = [(name, getattr(t, name)) for name in t.__dataclass_fields__]
    return [(name, f) for name, f in facts if f is not None]
