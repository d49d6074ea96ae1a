"""Which FHIR servers may launch the app (the ``iss``): no open redirector, no SSRF.

The service's one URL policy (cds/fhir/url_policy.py, the settings' ``url_policy()``) decides,
as it does for ``fhirServer`` and ``next`` links: https (plain http only to loopback, when
allowed), canonical, no user information, and on the allow-list when there is one.
"""

from __future__ import annotations

from cds.fhir.url_policy import UrlPolicy, UrlRefused, parse_allowed


class IssNotAllowed(ValueError):
    """The iss is not a URL this service may talk to; the message says which rule it broke."""


def allowed_iss(iss: str, policy: UrlPolicy) -> str:
    """The iss, exactly as given (it is also the token's ``aud``), when the policy allows it.

    :raise IssNotAllowed: otherwise.
    """
    try:
        parse_allowed(iss, policy)
    except UrlRefused as exc:
        raise IssNotAllowed(f"iss {exc.reason}") from None
    return iss


def allowed_endpoint(url: object, policy: UrlPolicy) -> bool:
    """An authorize or token endpoint named by the server's discovery document: an absolute
    https URL (http only to loopback where the policy allows it). Its host may differ from the
    iss (many EHRs run the authorization server apart), so the FHIR allow-list is not applied."""
    try:
        parse_allowed(url, UrlPolicy((), policy.allow_loopback_http), allow_query=True)
    except UrlRefused:
        return False
    return True
