"""``cds assess --json`` (schema_version 2) is described by the JSON Schema shipped in docs/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from cds.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "assess-schema-v2.json").read_text())
FIXTURES = sorted(p for p in (ROOT / "fhir_fixtures").glob("*.json") if ".expected" not in p.name)
EXTERNAL = ROOT / "tests" / "external_fixtures" / "synthea-r4-Murray_Hane-liver-subset.json"
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())


def test_the_schema_is_a_valid_json_schema():
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", [*FIXTURES, EXTERNAL], ids=lambda p: p.stem)
def test_every_output_matches_the_schema(path, capsys):
    assert main(["assess", str(path), "--json", "--as-of", "2026-11-15"]) == 0
    document = json.loads(capsys.readouterr().out)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(document)]
    assert errors == []


def test_schema_rejects_wrong_documents(capsys):
    """The check can fail: an exclusion shown as "met", or a version 1 document."""
    assert main(["assess", str(FIXTURES[0]), "--json", "--as-of", "2026-11-15"]) == 0
    document = json.loads(capsys.readouterr().out)
    exclusion = next(
        c for c in document["eligibility"]["NCT00919009"]["criteria"] if c["kind"] == "exclusion"
    )
    exclusion["status"] = "met"  # an exclusion is never "met"
    assert not VALIDATOR.is_valid(document)
    exclusion["status"] = "absent"
    document["schema_version"] = 1
    assert not VALIDATOR.is_valid(document)
