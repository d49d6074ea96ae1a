"""The CDS Hooks HTTP API: discovery, service calls, feedback, health."""

from __future__ import annotations

import logging
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint, Response, jsonify, request

from cds.app.link import launch_url
from cds.clinical.order_check import check_order
from cds.errors import DeadlineExceeded, InvalidHookRequest, UnknownService
from cds.fhir.client import Deadline
from cds.fhir.orders import checked_orders
from cds.fhir.source import gathered_record
from cds.pipeline import assess_record
from cds.render.cards import order_cards, patient_view_cards
from cds.report.assessment_json import to_json
from cds.service.feedback import parse_feedback
from cds.service.hooks import HookRequest, parse_hook_request
from cds.service.wiring import Services

log = logging.getLogger("cds.service")


def json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidHookRequest("the body must be JSON (Content-Type: application/json)")
    return body


def audience(services: Services) -> str:
    """The exact URL invoked, as the client's JWT must name it in ``aud``."""
    base = services.settings.public_base_url
    return (base.rstrip("/") + request.path) if base else request.base_url


def known(services: Services, service_id: str) -> None:
    if service_id not in services.definitions:
        raise UnknownService(f"no CDS service '{service_id}'")


def loggable(text: str) -> str:
    """A client-sent identifier as it may appear in a log line (no line breaks, bounded)."""
    return repr(text[:80])


def work_up_launch_url(services: Services) -> str | None:
    """The SMART app's launch URL for the card's link, when the app is registered."""
    if not services.app_registered:
        return None
    return launch_url(services.settings.public_base_url or request.host_url)


def authenticate(services: Services) -> None:
    if services.verifier is not None:
        services.verifier.verify(request.headers.get("Authorization"), audience(services))


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
    record = gathered_record(gathered, hook.patient_id, definition.prefetch)
    assessment = assess_record(record, services.as_of())
    result = to_json(assessment)
    if hook.hook == "patient-view":
        return patient_view_cards(result, hook.patient_id, app_launch_url)
    verdicts = [
        v
        for v in (
            check_order(order, assessment.recommendation)
            for order in checked_orders(hook.context, hook.hook)
        )
        if v
    ]
    return order_cards(verdicts, result)


def build_blueprint(services: Services) -> Blueprint:
    bp = Blueprint("cds_hooks", __name__)

    @bp.get("/cds-services")
    def discovery() -> Response:
        return jsonify(services.discovery)

    @bp.post("/cds-services/<service_id>")
    def call_service(service_id: str) -> Response:
        started = time.monotonic()
        known(services, service_id)
        authenticate(services)
        settings = services.settings
        hook = parse_hook_request(
            json_body(),
            services.definitions[service_id].hooks,
            settings.fhir_allow_http,
            settings.fhir_server_allowlist,
        )
        deadline = Deadline.after(settings.deadline_seconds)
        # The whole call runs on a worker thread so that the deadline bounds all of it, not only
        # the FHIR fetches: past it the EHR gets no cards rather than a late answer.
        app_url = work_up_launch_url(services)
        call = services.calls.submit(assess_hook, services, service_id, hook, deadline, app_url)
        try:
            cards = call.result(timeout=max(deadline.remaining(), 0.0))
        except (DeadlineExceeded, FutureTimeout) as exc:
            call.cancel()
            log.warning(
                "service=%s hookInstance=%s answered no cards: %s",
                service_id,
                loggable(hook.hook_instance),
                exc or "the call outlasted the deadline",
            )
            return jsonify({"cards": []})
        services.feedback.record_cards(
            service_id,
            [(c["uuid"], c["extension"]["org.example.hcc-cds.card-kind"]) for c in cards],
        )
        log.info(
            "service=%s hook=%s hookInstance=%s cards=%d ms=%.0f",
            service_id,
            hook.hook,
            loggable(hook.hook_instance),
            len(cards),
            (time.monotonic() - started) * 1000,
        )
        return jsonify({"cards": cards})

    @bp.post("/cds-services/<service_id>/feedback")
    def feedback(service_id: str) -> Response:
        known(services, service_id)
        authenticate(services)
        items = parse_feedback(json_body())
        stored, duplicates = services.feedback.add(service_id, items)
        log.info("service=%s feedback stored=%d duplicates=%d", service_id, stored, duplicates)
        return jsonify({"stored": stored, "duplicates": duplicates})

    @bp.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    return bp
