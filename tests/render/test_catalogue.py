"""The message catalogue: a message for every code, each one renders, CDS_LOCALE selects it."""

from __future__ import annotations

import typing

import pytest

from cds.clinical.notes import Code
from cds.render import messages as catalogue_module
from cds.render.messages import messages


def test_every_code_has_a_message():
    """Each code the clinical core can return has its English message."""
    en = messages("en")
    missing = [code for code in typing.get_args(Code) if not en.has(f"note.{code}")]
    assert missing == []


def test_every_message_compiles():
    """A Jinja syntax error in a message fails here, not on a clinician's screen."""
    en = messages("en")
    for key, text in en.catalogue.items():
        en.env.from_string(text)  # raises on a syntax error
        blank = (
            "unit.1",
            "unit.",
            "lab-state.current",
            "app.trends.inr.unit",
            "app.trends.albi.unit",
        )
        assert text.strip() or key in blank, key  # unitless: INR, ALBI


def test_english_messages_read_as_intended():
    """The catalogue's own test: a few messages, rendered, read as a clinician expects."""
    en = messages("en")
    assert (
        en.note(
            {
                "code": "lab-limit",
                "params": {
                    "analyte": "platelets",
                    "value": 48,
                    "unit": "10*9/L",
                    "op": ">=",
                    "limit": 60.0,
                    "date": "2026-11-13",
                },
            }
        )
        == "Platelets 48 × 10⁹/L (2026-11-13); needs ≥ 60 × 10⁹/L"
    )
    assert (
        en.note({"code": "main-vessel-invaded", "params": {"vessel": "vp4", "date": "2026-11-03"}})
        == "main portal vein (Vp4) invasion (2026-11-03)"
    )
    assert en.note({"code": "child-pugh-8-or-more", "params": {"score": 12, "cls": "C"}}) == (
        "Child-Pugh C12 (TACE needs ≤ 7)"
    )


def test_cds_locale_selects_the_catalogue(monkeypatch):
    """CDS_LOCALE picks the folder in cards/; default en; an unknown locale is an error."""
    monkeypatch.delenv("CDS_LOCALE", raising=False)
    assert messages().locale == "en"
    monkeypatch.setenv("CDS_LOCALE", "en")
    assert messages().locale == "en"
    monkeypatch.setenv("CDS_LOCALE", "zz")
    catalogue_module.load.cache_clear()
    with pytest.raises(FileNotFoundError):
        messages()
