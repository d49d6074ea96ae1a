"""Which FHIR servers may launch the app (the ``iss``): no open redirector, no SSRF.

TO BE REPLACED by the shared URL policy of fhirServer / next / jku (issue 8, expected as
cds/fhir/url_policy.py): :func:`allowed_iss` is the one place the app asks, so the switch is one
import. Until then it applies exactly the service's ``fhirServer`` rules
(cds/service/hooks.py ``_fhir_server``; settings ``fhir_allow_http`` and
``fhir_server_allowlist``): https unless loopback or allowed, and on the allow-list when there
is one.
"""

from __future__ import annotations

from cds.errors import InvalidHookRequest
from cds.service.hooks import _fhir_server


class IssNotAllowed(ValueError):
    """The iss is not a URL this service may talk to; the message says which rule it broke."""


def allowed_iss(iss: str, allow_http: bool, allowlist: tuple[str, ...]) -> str:
    """The iss, exactly as given (it is also the token's ``aud``), when the policy allows it.

    :raise IssNotAllowed: otherwise.
    """
    try:
        _fhir_server({"fhirServer": iss}, allow_http, allowlist)
    except InvalidHookRequest as exc:
        raise IssNotAllowed(str(exc).replace("fhirServer", "iss", 1)) from None
    return iss


def allowed_endpoint(url: object, allow_http: bool) -> bool:
    """An authorize or token endpoint named by the server's discovery document: an absolute
    https URL (http only on loopback or where http is allowed). Its host may differ from the
    iss (many EHRs run the authorization server apart), so the FHIR allow-list is not applied."""
    if not isinstance(url, str):
        return False
    try:
        _fhir_server({"fhirServer": url}, allow_http, ())
    except InvalidHookRequest:
        return False
    return True
