"""Property tests: malformed hook requests, FHIR data and feedback never make the service fail.

Every answer is below 500; every non-2xx answer is a FHIR OperationOutcome whose issues carry
diagnostics; every 200 from a service passes the CDS Hooks response rules (card_rules.py) and is
strict JSON. Runs are derandomised (the same examples every run, so CI is deterministic) and keep
no example database. ``EXAMPLES`` sums to more than 2,000 examples per run.

No request leaves the process: the service's HTTP session is a :class:`FakeFhirServer`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import (
    assume,
    currently_in_test_context,
    event,
    given,
    note,
    settings,
)
from hypothesis import strategies as st

from cds import create_app
from tests.api.card_rules import check_response
from tests.api.conftest import CheckingClient, app_config
from tests.fuzz import strategies as fz

EXAMPLES = {
    "patient_view": 650,
    "orders": 350,
    "scratch": 300,
    "raw": 150,
    "feedback": 450,
    "fhir_server": 250,
}
FUZZ = fz.BASE_SETTINGS
MAX_BODY_BYTES = 8 * 1024 * 1024
HOOK_STATUSES = {200, 400, 412}  # a known service, auth off, a body far below the size limit
FEEDBACK_STATUSES = {200, 400}
MAX_PATIENT_CARDS = 1  # one per patient; an order check gives at most one card per draft


@pytest.fixture(scope="module")
def fake_fhir() -> fz.FakeFhirServer:
    return fz.FakeFhirServer()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, fake_fhir: fz.FakeFhirServer) -> Any:
    app = create_app(app_config(tmp_path_factory.mktemp("fuzz")))
    app.extensions["hcc_cds"].session_factory = fake_fhir.session
    return CheckingClient(app.test_client())


# --- checks ----------------------------------------------------------------------------------


def tally(label: str) -> None:
    """Count an outcome in --hypothesis-show-statistics (outside hypothesis: nothing)."""
    if currently_in_test_context():
        event(label)


def strict_json(text: str) -> Any:
    """Parse as JSON proper: NaN and Infinity are not JSON."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"the answer holds {name}, which is not JSON")

    return json.loads(text, parse_constant=refuse)


def check_answer(response: Any, allowed: set[int]) -> Any:
    """The answer's body; any status outside ``allowed`` or any 5xx fails with the body shown."""
    status = response.status_code
    text = response.get_data(as_text=True)
    tally(f"HTTP {status}")
    assert status < 500, f"HTTP {status}: {text[:500]}"
    assert status in allowed, f"HTTP {status} not in {sorted(allowed)}: {text[:500]}"
    assert "Traceback" not in text
    body = strict_json(text)
    if 200 <= status < 300:
        return body
    assert response.mimetype == "application/fhir+json", response.mimetype
    assert isinstance(body, dict) and body.get("resourceType") == "OperationOutcome", text[:300]
    issues = body.get("issue")
    assert isinstance(issues, list) and issues, "an OperationOutcome needs an issue"
    for issue in issues:
        assert issue.get("severity") in {"fatal", "error", "warning", "information"}, issue
        assert isinstance(issue.get("code"), str) and issue["code"], issue
        diagnostics = issue.get("diagnostics")
        assert isinstance(diagnostics, str) and diagnostics.strip(), issue
    return None


def post_json(client: Any, url: str, body: Any) -> Any:
    """POST ``body`` as JSON; Python's encoder also writes NaN, Infinity and \\ud800 escapes.

    Bodies stay well under the service's 16 MiB limit (a 413 would be a correct answer, but not
    a useful example).
    """
    data = json.dumps(fz.materialise(body))
    if currently_in_test_context():
        assume(len(data) <= MAX_BODY_BYTES)
    return client.post(url, data=data, content_type="application/json")


def call_service(client: Any, service: str, request: Any) -> None:
    """POST a hook request and check the answer, including the cards of a 200."""
    body = check_answer(post_json(client, f"/cds-services/{service}", request), HOOK_STATUSES)
    if body is not None:
        check_response(body)
        tally(f"{len(body['cards'])} card(s)")
        limit = MAX_PATIENT_CARDS if service == "hcc-assessment" else draft_count(request)
        assert len(body["cards"]) <= limit, [c["summary"] for c in body["cards"]]


def draft_count(request: Any) -> int:
    """How many resources a request's draftOrders holds, nested Bundles included (a bound)."""

    def count(node: Any) -> int:
        if isinstance(node, dict):
            return int("resourceType" in node) + sum(count(v) for v in node.values())
        if isinstance(node, list):
            return sum(count(v) for v in node)
        return 0

    request = fz.materialise(request)
    context = request.get("context") if isinstance(request, dict) else None
    return count(context.get("draftOrders")) if isinstance(context, dict) else 0


# --- hook requests ---------------------------------------------------------------------------


def test_example_budget():
    """One run of this module tries at least 2,000 generated examples."""
    assert sum(EXAMPLES.values()) >= 2_000


@settings(FUZZ, max_examples=EXAMPLES["patient_view"])
@given(recipe=fz.patient_view_recipes())
def test_mutated_patient_view_requests(client, fake_fhir, recipe):
    """A fixture patient-view request with broken fields answers valid cards, 400 or 412."""
    fake_fhir.reset()
    note(repr(recipe))
    call_service(client, recipe.service, recipe.build())


@settings(FUZZ, max_examples=EXAMPLES["orders"])
@given(recipe=fz.order_recipes())
def test_mutated_order_requests(client, fake_fhir, recipe):
    """Order-select/sign requests with broken draft orders, selections or data never fail."""
    fake_fhir.reset()
    note(repr(recipe))
    call_service(client, recipe.service, recipe.build())


@settings(FUZZ, max_examples=EXAMPLES["scratch"])
@given(case=fz.scratch_requests())
def test_requests_built_from_scratch(client, fake_fhir, case):
    """Requests assembled from random resources, plausible and absurd, never fail."""
    fake_fhir.reset()
    service, request = case
    note(f"{service}: {fz.short(request, 4000)}")
    call_service(client, service, request)


@settings(FUZZ, max_examples=EXAMPLES["raw"])
@given(body=fz.raw_bodies, url=fz.raw_targets)
def test_raw_bodies(client, fake_fhir, body, url):
    """Bodies that are not JSON or UTF-8, truncated, or nested 100,000 deep get a 4xx, not a 5xx."""
    fake_fhir.reset()
    note(f"{url}: {body!r}")
    response = client.post(url, data=body.data, content_type=body.content_type)
    check_answer(response, {200, 400, 404, 412})


@settings(FUZZ, max_examples=EXAMPLES["feedback"])
@given(body=fz.feedback_bodies(), service=st.sampled_from(["hcc-assessment", "hcc-order-check"]))
def test_feedback_bodies(client, body, service):
    """Feedback with broken, odd or re-delivered items answers 200 with counts, or 400."""
    note(f"{service}: {fz.short(body, 4000)}")
    response = post_json(client, f"/cds-services/{service}/feedback", body)
    answer = check_answer(response, FEEDBACK_STATUSES)
    if answer is not None:
        assert set(answer) == {"stored", "duplicates"}, answer
        assert answer["stored"] >= 0 and answer["duplicates"] >= 0, answer
        assert answer["stored"] + answer["duplicates"] == len(body["feedback"]), answer


@settings(FUZZ, max_examples=EXAMPLES["fhir_server"])
@given(recipe=fz.server_recipes())
def test_fhir_server_answers(client, fake_fhir, recipe):
    """Whatever the EHR's FHIR server answers for absent prefetch keys, the call never fails."""
    fake_fhir.reset(recipe.answers)
    note(repr(recipe))
    try:
        call_service(client, recipe.service, recipe.build())
    finally:
        fake_fhir.reset()


# --- what the fuzzing found, pinned ----------------------------------------------------------


@pytest.mark.parametrize(
    "next_url",
    [
        "https://elsewhere.example/fhir/Observation?page=2",  # another host
        "http://ehr.fuzz.invalid/fhir/Observation?page=2",  # the same host without TLS
    ],
)
def test_next_links_stay_on_the_fhir_server(client, fake_fhir, next_url):
    """A prefetched searchset's next link is followed only on the request's fhirServer."""
    request = json.loads(fz.base_text("child_pugh_a5", fz.PATIENT_VIEW))
    request["fhirServer"] = fz.FHIR_BASE
    request["fhirAuthorization"] = {
        "access_token": "secret",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "cds-service",
    }
    request["prefetch"]["labs"]["link"] = [{"relation": "next", "url": next_url}]
    fake_fhir.reset({"Observation": fz.Answer("empty", 200, b'{"resourceType": "Bundle"}')})
    try:
        call_service(client, "hcc-assessment", request)
        strays = [url for url in fake_fhir.requested if not fz.same_origin(url)]
    finally:
        fake_fhir.reset()
    assert strays == [], f"the bearer token was sent to {strays}"


@pytest.mark.parametrize(
    "unit",
    [
        pytest.param("1" * 16_000, id="16k digits"),
        pytest.param("mg.dL." * 5_000, id="30k chars of mg.dL."),
        pytest.param("{" * 100_000, id="100k open braces"),
    ],
)
def test_long_unit_strings_answer_within_the_deadline(tmp_path, unit):
    """A lab whose UCUM unit is a long string is answered within CDS_DEADLINE_SECONDS."""
    deadline = 1.0
    app = create_app(app_config(tmp_path, DEADLINE_SECONDS=deadline))
    request = json.loads(fz.base_text("child_pugh_a5", fz.PATIENT_VIEW))
    request["prefetch"]["labs"]["entry"][0]["resource"]["valueQuantity"]["code"] = unit
    started = time.monotonic()
    call_service(CheckingClient(app.test_client()), "hcc-assessment", request)
    elapsed = time.monotonic() - started
    assert elapsed < deadline + 0.5, f"answered after {elapsed:.1f} s"
