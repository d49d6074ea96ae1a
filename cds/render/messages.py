"""The message catalogue: every clinician-visible word, per locale, in ``cards/<locale>/``.

A message is a small Jinja template filled with a note's parameters. Parameters that hold an
identifier (an analyte, a unit, a finding; :data:`cds.clinical.notes.TRANSLATED`) are shown by
their own catalogue entry. ``CDS_LOCALE`` selects the locale (default ``en``).

A note that shows a lab value (``value`` and ``unit``, the canonical ones) is also given
``lab_value``: the value with its unit (catalogue entry ``lab-value``) or, when the core says it
was reported in another unit (``reported_value``, ``reported_unit``), that value with the
converted one beside it (``lab-value-reported``), so that every message shows a lab value one way.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

from cds.clinical.notes import TRANSLATED, Note
from cds.paths import data_dir

DEFAULT_LOCALE = "en"


def number(value: Any) -> Any:
    """A number as a clinician reads it: at most 2 decimals, no float noise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return f"{round(value, 2):g}"


# Parameters that are a unit as the EHR reported it: shown by their ``unit.*`` entry when the
# catalogue has one (umol/L → µmol/L), else as written (``unit-as-written``).
REPORTED_UNIT_PARAMS = frozenset({"reported_unit"})
# Parameters that are a value as the EHR reported it: not rounded to 2 decimals (0.086 mmol/L of
# creatinine must not read 0.09), only cleared of float noise.
REPORTED_VALUE_PARAMS = frozenset({"reported_value"})
REPORTED_DIGITS = 6


def as_reported(value: Any) -> Any:
    """A value as the EHR reported it: its significant digits, no float noise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return f"{value:.{REPORTED_DIGITS}g}"


SIMPLE_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class Simple:
    """A message whose only placeholders are plain names: filled without running Jinja (the
    card and the JSON render a few hundred messages per request)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def render(self, **params: Any) -> str:
        return SIMPLE_PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), self.source)


def compile_message(env: Environment, source: str) -> Template | Simple:
    rest = SIMPLE_PLACEHOLDER.sub("", source)
    if "{{" in rest or "{%" in rest:
        return env.from_string(source)
    return Simple(source)


class Messages:
    """One locale's catalogue, with its compiled templates."""

    def __init__(self, catalogue: Mapping[str, str], locale: str = DEFAULT_LOCALE) -> None:
        self.catalogue = dict(catalogue)
        self.locale = locale
        self.env = Environment(undefined=StrictUndefined, autoescape=False)
        self.compiled: dict[str, Template | Simple] = {}

    def has(self, key: str) -> bool:
        return key in self.catalogue

    def text(self, key: str, **params: Any) -> str:
        """The message ``key`` filled with ``params``; a missing key is an error, not a blank."""
        template = self.compiled.get(key)
        if template is None:
            source = self.catalogue[key]
            if "{" not in source:  # most entries are plain names: no template to run
                return source
            template = compile_message(self.env, source)
            self.compiled[key] = template
        return template.render(**params)

    def shown(self, name: str, value: Any) -> Any:
        """A parameter as shown: identifiers through the catalogue, numbers rounded."""
        if name in REPORTED_UNIT_PARAMS and value is not None:
            key = f"unit.{value}"
            return self.text(key) if self.has(key) else self.text("unit-as-written", unit=value)
        if name in REPORTED_VALUE_PARAMS:
            return as_reported(value)
        prefix = TRANSLATED.get(name)
        if prefix is None or value is None:
            if isinstance(value, list | tuple):
                return [number(v) for v in value]
            return number(value)
        if isinstance(value, list | tuple):
            return [self.text(f"{prefix}.{v}") for v in value]
        return self.text(f"{prefix}.{value}")

    def params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        shown = {k: self.shown(k, v) for k, v in params.items()}
        if "value" in params and "unit" in params:
            shown["lab_value"] = self.lab_value(params)
        return shown

    def lab_value(self, lab: Mapping[str, Any]) -> str:
        """A lab value with its unit, as reported and converted (see the module's docstring);
        ``lab`` holds ``value`` and ``unit`` and, when reported in another unit,
        ``reported_value`` and ``reported_unit``."""
        if lab["value"] is None:
            return ""
        value, unit = self.shown("value", lab["value"]), self.shown("unit", lab["unit"])
        if lab.get("reported_value") is None:
            return self.text("lab-value", value=value, unit=unit)
        return self.text(
            "lab-value-reported",
            value=value,
            unit=unit,
            reported_value=self.shown("reported_value", lab["reported_value"]),
            reported_unit=self.shown("reported_unit", lab["reported_unit"]),
        )

    def note(self, item: Note | Mapping[str, Any]) -> str:
        """A note (or its JSON form ``{"code", "params"}``) as text."""
        if isinstance(item, Note):
            code, params = item.code, item.params
        else:
            code, params = item["code"], item["params"]
        return self.text(f"note.{code}", **self.params(params))

    def short(self, item: Mapping[str, Any]) -> str:
        """The short form of a note for a summary line (the full one when it has none)."""
        key = f"short.{item['code']}"
        if key not in self.catalogue:
            return self.note(item)
        return self.text(key, **self.params(item["params"]))


def current_locale() -> str:
    return os.environ.get("CDS_LOCALE") or DEFAULT_LOCALE


@cache
def load(locale: str) -> Messages:
    """The catalogue of a locale: every ``*.json`` in ``cards/<locale>/``, merged."""
    folder = data_dir("cards") / locale
    if not folder.is_dir():
        raise FileNotFoundError(f"no message catalogue for locale {locale!r} in {folder}")
    catalogue: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        catalogue.update(json.loads(path.read_text(encoding="utf-8")))
    return Messages(catalogue, locale)


def messages(locale: str | None = None) -> Messages:
    """The catalogue of ``locale``, or of ``CDS_LOCALE`` (default ``en``)."""
    return load(locale or current_locale())
