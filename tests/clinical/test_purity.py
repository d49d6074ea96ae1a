"""The clinical core stays pure: no Flask, requests, FHIR layer, environment or clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLINICAL = Path(__file__).resolve().parents[2] / "cds" / "clinical"
FORBIDDEN_MODULES = ("flask", "requests", "cds.fhir", "cds.service", "fhir", "os", "werkzeug")
FORBIDDEN_CALLS = ("date.today", "datetime.now", "datetime.utcnow", "time.time", "os.environ")


def imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CLINICAL.rglob("*.py")), ids=lambda p: p.name)
def test_clinical_module_imports_nothing_impure(path):
    """No module of cds/clinical imports flask, requests, cds.fhir or os, or reads the clock."""
    source = path.read_text(encoding="utf-8")
    modules = imported_modules(ast.parse(source))
    bad = {m for m in modules for f in FORBIDDEN_MODULES if m == f or m.startswith(f + ".")}
    assert not bad
    assert not [c for c in FORBIDDEN_CALLS if c in source]


def test_the_check_finds_a_forbidden_import():
    """The import walker itself catches 'from cds.fhir import codes'."""
    assert "cds.fhir" in imported_modules(ast.parse("from cds.fhir import codes"))
