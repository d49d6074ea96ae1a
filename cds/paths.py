"""Where the card texts and fixtures live: beside the package in a checkout, in it in a wheel."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """``cards`` or ``fhir_fixtures``: ``cds/_data/<name>`` when installed from a wheel, else the
    repository's top-level folder (editable install or source checkout)."""
    for candidate in (PACKAGE / "_data" / name, PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"data folder '{name}' not found beside the cds package")
