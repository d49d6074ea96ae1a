"""Whether a request is a local one: both its peer and the host it names are loopback.

Only then may the service use the request's own URL (development, no ``CDS_PUBLIC_BASE_URL``):
the Host header is the caller's to choose, so off loopback it never decides a URL or a cookie.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request

from cds.fhir.url_policy import is_loopback_host


def loopback_request() -> bool:
    """The peer's address and the Host header's host are both loopback."""
    named = urlsplit("//" + request.host).hostname or ""
    return is_loopback_host(request.remote_addr or "") and is_loopback_host(named)


def public_or_local_base(public_base_url: str | None) -> str | None:
    """The configured public base URL, else the request's own on loopback, else ``None``."""
    if public_base_url:
        return public_base_url.rstrip("/")
    return request.host_url.rstrip("/") if loopback_request() else None
