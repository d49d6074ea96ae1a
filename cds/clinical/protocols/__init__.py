"""The registry of trial protocols: each one is a data module judged by the generic rules of
:mod:`cds.clinical.eligibility`. A new protocol is one module here plus its entry in
:data:`REGISTRY`; the assessment, the JSON and the cards loop over whatever is registered.
"""

from __future__ import annotations

from cds.clinical.eligibility import TrialProtocol
from cds.clinical.protocols import nct00919009

REGISTRY: tuple[TrialProtocol, ...] = (nct00919009.PROTOCOL,)


def protocol(trial_id: str, registry: tuple[TrialProtocol, ...] = REGISTRY) -> TrialProtocol:
    """The registered protocol with this id."""
    for p in registry:
        if p.id == trial_id:
            return p
    raise KeyError(trial_id)
