"""The CDS Hooks HTTP API: discovery, service calls, feedback, health."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from cds.app.link import launch_url
from cds.clinical.order_check import check_order
from cds.errors import InvalidHookRequest, UnknownService
from cds.fhir.client import Deadline
from cds.fhir.order_context import order_context
from cds.fhir.orders import draft_orders, server_reader
from cds.fhir.source import record_and_resources
from cds.pipeline import assess_record
from cds.render.cards import patient_view_cards
from cds.render.order_cards import order_cards
from cds.report.assessment_json import to_json
from cds.service.auth import claimed_issuer
from cds.service.feedback import parse_feedback
from cds.service.hooks import HookRequest, parse_hook_request
from cds.service.loopback import public_or_local_base
from cds.service.wiring import Services
from cds.storage import StorageUnavailable

log = logging.getLogger("cds.service")


def json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidHookRequest("the body must be JSON (Content-Type: application/json)")
    return body


def audience(services: Services) -> str:
    """The URL invoked, as the client's JWT must name it in ``aud``.

    Built from the configured public base URL only: the request's Host and forwarded headers
    are the caller's to choose, so they never decide which audience is accepted.
    """
    base = services.settings.public_base_url
    if base is None:  # Settings refuses the JWT check without it; this is a second lock
        raise RuntimeError("no public base URL configured")
    return base + request.path


def known(services: Services, service_id: str) -> None:
    g.service_id = service_id[:80]
    if service_id not in services.definitions:
        raise UnknownService(f"no CDS service '{service_id[:80]}'")


def loggable(text: str) -> str:
    """A client-sent identifier as it may appear in a log line (no line breaks, bounded)."""
    return repr(text[:80])


def work_up_launch_url(services: Services) -> str | None:
    """The SMART app's launch URL for the card's link, when the app is registered.

    Under the configured public base URL; never from the Host header, which is the caller's to
    choose. Without a public base URL (development, the JWT check off) the request's own URL
    serves only on loopback (cds/service/loopback.py); otherwise the card carries no link.
    """
    base = public_or_local_base(services.settings.public_base_url)
    return launch_url(base) if services.app_registered and base else None


def authenticate(services: Services) -> None:
    if services.verifier is None:
        return
    header = request.headers.get("Authorization")
    g.client_issuer = claimed_issuer(header)
    claims = services.verifier.verify(header, audience(services))
    g.client_issuer = claims["iss"]


def assess_hook(
    services: Services,
    service_id: str,
    hook: HookRequest,
    deadline: Deadline,
    app_launch_url: str | None = None,
) -> list[dict[str, Any]]:
    """Gather the data, assess, and render the cards of one hook call."""
    definition = services.definitions[service_id]
    gathered = services.data_source(definition, hook, deadline).gather(hook.prefetch, hook.context)
    record, resources = record_and_resources(gathered, hook.patient_id, definition.prefetch)
    assessment = assess_record(record, services.as_of())
    result = to_json(assessment)
    if hook.hook == "patient-view":
        return patient_view_cards(result, hook.patient_id, app_launch_url=app_launch_url)
    reader = services.fhir_client(hook, deadline)  # a draft's Medication, read if not at hand
    try:
        orders = tuple(draft_orders(hook.context, hook.hook, resources, server_reader(reader)))
    finally:
        if reader is not None:
            reader.close()
    context = order_context(record)
    days = services.settings.tace_recent_days
    # order-select: the TACE "drafted in the same request" are every draft, selected or not
    drafted = tuple(draft_orders(hook.context, "order-sign", resources)) if orders else ()
    found = (check_order(o, assessment, context, drafted, days) for o in orders)
    return order_cards([v for v in found if v is not None], result, hook.patient_id)


def record_issued(services: Services, service_id: str, cards: list[dict[str, Any]]) -> None:
    """Remember the card kinds for the feedback report; the cards go out even if this fails.

    The bookkeeping only labels later feedback by card kind: losing it costs a label
    ("unknown" in the report), while withholding the cards would take the advice away.
    """
    kinds = [(c["uuid"], c["extension"]["org.example.hcc-cds.card-kind"]) for c in cards]
    try:
        services.feedback.record_cards(service_id, kinds)
    except StorageUnavailable as exc:
        log.warning("service=%s issued cards not recorded: %s", service_id, exc)


def build_blueprint(services: Services) -> Blueprint:
    bp = Blueprint("cds_hooks", __name__)

    @bp.get("/cds-services")
    def discovery() -> Response:
        return jsonify(services.discovery)

    @bp.post("/cds-services/<service_id>")
    def call_service(service_id: str) -> Response:
        known(services, service_id)
        authenticate(services)
        settings = services.settings
        body = json_body()
        if isinstance(body, dict) and isinstance(body.get("hookInstance"), str):
            g.hook_instance = body["hookInstance"]
        hook = parse_hook_request(body, services.definitions[service_id].hooks, services.url_policy)
        # Every FHIR fetch ends by this deadline (its socket is shut then); what was not obtained
        # in time is named on the card, or is 412 when it is the Patient.
        deadline = Deadline.after(settings.deadline_seconds)
        app_url = work_up_launch_url(services)
        cards = assess_hook(services, service_id, hook, deadline, app_url)
        record_issued(services, service_id, cards)
        g.cards = len(cards)
        return jsonify({"cards": cards})

    @bp.post("/cds-services/<service_id>/feedback")
    def feedback(service_id: str) -> Response:
        known(services, service_id)
        authenticate(services)
        items = parse_feedback(json_body())
        stored, duplicates = services.feedback.add(service_id, items)
        g.feedback = f"stored={stored} duplicates={duplicates}"
        return jsonify({"stored": stored, "duplicates": duplicates})

    @bp.get("/healthz")
    def healthz() -> Response:
        """Liveness: the process answers (a restart would not help with anything else)."""
        return jsonify({"status": "ok"})

    @bp.get("/readyz")
    def readyz() -> Response:
        """Readiness: the database answers, so the balancer may route calls here.

        :raise StorageUnavailable: answered 503, so the balancer takes this replica out.
        """
        services.storage.ping()
        return jsonify({"status": "ready", "database": services.storage.engine})

    return bp
