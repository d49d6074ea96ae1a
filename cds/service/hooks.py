"""Parse and check a CDS Hooks 2.0 service request (400 with the field named when it is wrong)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cds.errors import InvalidHookRequest
from cds.fhir.url_policy import AllowedUrl, UrlPolicy, UrlRefused, parse_allowed

# Context fields each hook requires (cds-hooks-library, hookVersion 1.0).
REQUIRED_CONTEXT = {
    "patient-view": ("userId", "patientId"),
    "order-select": ("userId", "patientId", "selections", "draftOrders"),
    "order-sign": ("userId", "patientId", "draftOrders"),
}


@dataclass(frozen=True)
class HookRequest:
    """The parts of a hook call the service uses."""

    hook: str
    hook_instance: str
    context: dict[str, Any]
    prefetch: dict[str, Any]
    fhir_server: AllowedUrl | None
    access_token: str | None

    @property
    def patient_id(self) -> str:
        return str(self.context["patientId"]).removeprefix("Patient/")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidHookRequest(message)


def _fhir_server(body: dict[str, Any], policy: UrlPolicy) -> AllowedUrl | None:
    server = body.get("fhirServer")
    if server is None:
        _require("fhirAuthorization" not in body, "fhirAuthorization requires fhirServer (cds-r-1)")
        return None
    try:
        # The same parser gives the URL the HTTP client connects to (cds.fhir.url_policy).
        return parse_allowed(server, policy)
    except UrlRefused as exc:
        raise InvalidHookRequest(f"fhirServer: {exc.reason}") from None


def _token(body: dict[str, Any]) -> str | None:
    auth = body.get("fhirAuthorization")
    if auth is None:
        return None
    _require(isinstance(auth, dict), "fhirAuthorization: must be an object")
    token = auth.get("access_token")
    _require(isinstance(token, str) and token != "", "fhirAuthorization.access_token: required")
    _require(
        str(auth.get("token_type", "")).lower() == "bearer",
        "fhirAuthorization.token_type: must be Bearer",
    )
    return token


def _context(hook: str, context: Any) -> dict[str, Any]:
    _require(isinstance(context, dict), "context: required object")
    for name in REQUIRED_CONTEXT[hook]:
        _require(name in context, f"context.{name}: required for {hook}")
    _require(
        isinstance(context["patientId"], str) and context["patientId"] != "",
        "context.patientId: must be a non-empty string",
    )
    if "draftOrders" in REQUIRED_CONTEXT[hook]:
        orders = context["draftOrders"]
        _require(
            isinstance(orders, dict) and orders.get("resourceType") == "Bundle",
            "context.draftOrders: must be a Bundle",
        )
    if "selections" in REQUIRED_CONTEXT[hook]:
        selections = context["selections"]
        _require(
            isinstance(selections, list) and all(isinstance(s, str) for s in selections),
            "context.selections: must be an array of strings",
        )
    return context


def parse_hook_request(
    body: Any,
    hooks: tuple[str, ...],
    policy: UrlPolicy | None = None,
) -> HookRequest:
    """Check the request against the spec and the service's hooks.

    :raise InvalidHookRequest: naming the first problem found.
    """
    _require(isinstance(body, dict), "the request body must be a JSON object")
    hook = body.get("hook")
    _require(isinstance(hook, str), "hook: required string")
    _require(hook in hooks, f"hook: this service answers {', '.join(hooks)}, not {hook!r}")
    instance = body.get("hookInstance")
    _require(isinstance(instance, str) and instance != "", "hookInstance: required string")
    prefetch = body.get("prefetch", {})
    _require(isinstance(prefetch, dict), "prefetch: must be an object")
    return HookRequest(
        hook=hook,
        hook_instance=instance,
        context=_context(hook, body.get("context")),
        prefetch=prefetch,
        fhir_server=_fhir_server(body, policy or UrlPolicy()),
        access_token=_token(body),
    )
