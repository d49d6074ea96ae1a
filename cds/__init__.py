"""HCC clinical decision support: a CDS Hooks 2.0 service and the ``cds`` command line."""

from __future__ import annotations

from typing import Any


def create_app(test_config: dict[str, Any] | None = None) -> Any:
    """The Flask application (imported lazily so the command line starts without Flask)."""
    from cds.service.app import create_app as build

    return build(test_config)
