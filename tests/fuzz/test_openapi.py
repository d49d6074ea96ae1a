"""docs/openapi.yaml: a valid OpenAPI document that matches the app, checked by schemathesis.

Schemathesis runs in-process against the Flask app (WSGI, no network): every documented operation
gets positive and negative generated requests, the documented examples, real fixture requests and
fuzzed fixture requests, and every answer must be no server error, a documented status code with
the documented content type, and a body that matches the documented schema.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import given, note, settings
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from cds import create_app
from tests.api.conftest import app_config
from tests.fuzz import strategies as fz

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
EXAMPLES_PER_OPERATION = 50
SCHEMATHESIS = settings(fz.BASE_SETTINGS, max_examples=EXAMPLES_PER_OPERATION)
# (path, method) of every documented operation; negative data needs something to break.
OPERATIONS = [
    ("/cds-services", "GET", False),
    ("/cds-services/{id}", "POST", True),
    ("/cds-services/{id}/feedback", "POST", True),
    ("/healthz", "GET", False),
    ("/readyz", "GET", False),
    ("/app/launch", "GET", False),
    ("/app/callback", "GET", False),
    ("/app/workup", "GET", False),
    ("/app/demo", "GET", False),
    ("/app/static/{id}", "GET", False),
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = create_app(app_config(tmp_path_factory.mktemp("openapi")))
    # Generated fhirServer URLs must not reach the network.
    app.extensions["hcc_cds"].session_factory = fz.FakeFhirServer().session
    return app


@pytest.fixture(scope="module")
def schema(app: Any) -> Any:
    loaded = schemathesis.openapi.from_path(DOCUMENT)
    loaded.app = app  # calls go through the WSGI app in-process
    return loaded


# --- the document ----------------------------------------------------------------------------


def test_document_is_valid_openapi(document):
    """openapi-spec-validator accepts docs/openapi.yaml."""
    validate(document)


def test_paths_and_methods_match_the_app(app, document):
    """Every route of the app is documented with its methods, and nothing else is."""
    routes = {
        (re.sub(r"<(?:\w+:)?\w+>", "{id}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert documented == routes
    assert {(path, method) for path, method, _ in OPERATIONS} == documented


def test_service_ids_and_hooks_match_discovery(app, document):
    """The documented service ids and hooks are exactly those GET /cds-services lists."""
    services = app.test_client().get("/cds-services").get_json()["services"]
    schemas = document["components"]["schemas"]
    id_enum = document["components"]["parameters"]["ServiceId"]["schema"]["enum"]
    assert sorted(id_enum) == sorted({s["id"] for s in services})
    assert sorted(schemas["ServiceDescription"]["properties"]["id"]["enum"]) == sorted(id_enum)
    assert sorted(schemas["HookName"]["enum"]) == sorted({s["hook"] for s in services})
    assert set(app.extensions["hcc_cds"].definitions) == set(id_enum)


# --- schemathesis ----------------------------------------------------------------------------


def run_generated(schema: Any, path: str, method: str, mode: Any) -> None:
    operation = schema[path][method]
    # The app's pages answer 502/503/504 by design when the EHR fails or the app is not
    # registered (documented); the other checks still apply to them.
    checks = (
        [c for c in CHECKS if c is not not_a_server_error] if path.startswith("/app") else CHECKS
    )

    @SCHEMATHESIS
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        note(f"{case.method} {case.formatted_path} {fz.short(case.body, 2000)}")
        case.call_and_validate(checks=checks)

    check()


@pytest.mark.parametrize(("path", "method"), [(p, m) for p, m, _ in OPERATIONS])
def test_schemathesis_positive(schema, path, method):
    """Schema-valid requests get documented answers that match the schema."""
    run_generated(schema, path, method, schemathesis.GenerationMode.POSITIVE)


@pytest.mark.parametrize(
    ("path", "method"), [(p, m) for p, m, breakable in OPERATIONS if breakable]
)
def test_schemathesis_negative(schema, path, method):
    """Schema-invalid requests get documented (4xx) answers that match the schema."""
    run_generated(schema, path, method, schemathesis.GenerationMode.NEGATIVE)


def documented_examples() -> list[tuple[str, str, str, Any]]:
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            content = (operation.get("requestBody") or {}).get("content", {})
            for name, example in content.get("application/json", {}).get("examples", {}).items():
                found.append((path, method.upper(), name, example["value"]))
    return found


@pytest.mark.parametrize(
    ("path", "method", "name", "body"),
    documented_examples(),
    ids=lambda value: value if isinstance(value, str) else "",
)
@pytest.mark.parametrize("service", ["hcc-assessment", "hcc-order-check"])
def test_documented_examples(schema, path, method, name, body, service):
    """Each request example in the document is answered as documented, by both services."""
    case = schema[path][method].Case(
        path_parameters={"id": service}, body=body, media_type="application/json"
    )
    response = case.call_and_validate(checks=CHECKS)
    expect_ok = path.endswith("/feedback") or fz.SERVICE_OF_HOOK[body["hook"]] == service
    assert (response.status_code == 200) == expect_ok, response.text[:300]


@pytest.mark.parametrize("fixture", fz.FIXTURE_NAMES)
def test_fixture_cards_match_the_card_schema(schema, fixture):
    """The real cards for every fixture patient, from both services, match the Card schema."""
    operation = schema["/cds-services/{id}"]["POST"]
    for hook in ("patient-view", "order-sign"):
        body = json.loads(fz.base_text(fixture, hook))
        case = operation.Case(
            path_parameters={"id": fz.SERVICE_OF_HOOK[hook]},
            body=body,
            media_type="application/json",
        )
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code == 200, response.text[:300]


@settings(SCHEMATHESIS, max_examples=100)
@given(recipe=fz.patient_view_recipes() | fz.order_recipes())
def test_fuzzed_requests_are_answered_as_documented(schema, recipe):
    """Mutated fixture requests get answers that conform to the document (status, type, body)."""
    note(repr(recipe))
    case = schema["/cds-services/{id}"]["POST"].Case(
        path_parameters={"id": recipe.service},
        body=fz.materialise(recipe.build()),
        media_type="application/json",
    )
    case.call_and_validate(checks=CHECKS)
