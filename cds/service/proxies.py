"""Forwarded headers, believed only from the proxies named in ``CDS_TRUSTED_PROXY``.

Waitress trusts one proxy address, and deployments have two balancers or more, so the service
does this itself, in one WSGI layer around the Flask app (the same for ``cds serve``, the
development server and the tests' client), and waitress is given no proxy settings.

``CDS_TRUSTED_PROXY`` lists IP addresses and networks (``10.0.0.5, 10.0.1.0/24``). From a peer
on that list:

- ``X-Forwarded-For`` names the client: the right-most address in it that is not itself a
  trusted proxy (each proxy appends the address it was called from, so the entries left of
  the first untrusted one were written by the client, and are not believed);
- ``X-Forwarded-Proto`` (one value, ``http`` or ``https``) is the scheme the client used.

A malformed value from a trusted proxy is answered 400, as waitress did. From any other peer
the forwarded headers are not believed. Either way every forwarded header (``X-Forwarded-*``,
``Forwarded``) is removed before the app sees the request: the client address and scheme are in
``REMOTE_ADDR`` and ``wsgi.url_scheme``, and ``X-Forwarded-Host`` is never used (the service's
URLs come from ``CDS_PUBLIC_BASE_URL``, never from the request).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_BY",
    "HTTP_FORWARDED",
)
MALFORMED = "hcc_cds.malformed_forwarded_header"  # environ key: why the request is refused


class MalformedForwarded(ValueError):
    """A trusted proxy's forwarded header that cannot be read."""


@dataclass(frozen=True)
class TrustedProxies:
    """The addresses and networks whose forwarded headers are believed (none by default)."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, value: Any) -> TrustedProxies:
        """A JSON list, or entries separated by commas or spaces.

        :raise ValueError: naming the first entry that is not an IP address or network.
        """
        if value is None or value == "":
            return cls()
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise TypeError("must be a list of IP addresses or networks (e.g. 10.0.0.0/24)")
        return cls(tuple(network(entry) for entry in value))

    def trusts(self, address: Address) -> bool:
        return any(address in net for net in self.networks)

    def trusts_peer(self, peer: str) -> bool:
        found = address_of(peer)
        return found is not None and self.trusts(found)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address: the peer, or from a trusted peer the right-most address of
        ``X-Forwarded-For`` that is not a trusted proxy (the left-most when all are).

        :raise MalformedForwarded: when an entry read is not an address.
        """
        if not forwarded_for or not self.trusts_peer(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        found: Address | None = None
        for hop in reversed(hops):
            found = address_of(hop)
            if found is None:
                raise MalformedForwarded(f"X-Forwarded-For: {hop[:60]!r} is not an address")
            if not self.trusts(found):
                return str(found)
        return str(found) if found is not None else peer


def network(entry: str) -> Network:
    """One ``CDS_TRUSTED_PROXY`` entry: an address (a one-address network) or a network."""
    if entry == "*":
        raise ValueError("'*' would believe anyone's forwarded headers: list the proxies")
    try:
        return ipaddress.ip_network(entry, strict=True)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise ValueError(
            f"{entry!r} is not an IP address or network (names are not resolved)"
        ) from None
    raise ValueError(f"{entry!r} has host bits set: did you mean {loose}?")


def address_of(text: str) -> Address | None:
    """An address as proxies write it: ``a.b.c.d``, ``a.b.c.d:port``, ``::1``, ``[::1]:port``,
    optionally in double quotes; an IPv4-mapped IPv6 address as its IPv4 address."""
    text = text.strip().strip('"')
    port: str | None = None
    if text.startswith("["):
        text, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
    elif text.count(":") == 1:  # IPv4 with a port (IPv6 has two colons or more)
        text, _, port = text.partition(":")
    if port is not None and not port.isdigit():
        return None
    try:
        found = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ForwardedHeaders:
    """WSGI layer: sets ``REMOTE_ADDR`` and ``wsgi.url_scheme`` from a trusted proxy's headers,
    then removes every forwarded header (module docstring)."""

    def __init__(self, app: WsgiApp, proxies: TrustedProxies) -> None:
        self.app, self.proxies = app, proxies

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            self.apply(environ)
        except MalformedForwarded as exc:
            environ[MALFORMED] = str(exc)
        for name in FORWARDED_HEADERS:
            environ.pop(name, None)
        return self.app(environ, start_response)

    def apply(self, environ: dict[str, Any]) -> None:
        peer = environ.get("REMOTE_ADDR") or ""
        environ["REMOTE_ADDR"] = self.proxies.client(peer, environ.get("HTTP_X_FORWARDED_FOR"))
        proto = environ.get("HTTP_X_FORWARDED_PROTO")
        if proto is not None and self.proxies.trusts_peer(peer):
            scheme = proto.strip().strip('"').lower()
            if scheme not in ("http", "https"):
                raise MalformedForwarded("X-Forwarded-Proto: must be one value, http or https")
            environ["wsgi.url_scheme"] = scheme


def install(app: Flask, proxies: TrustedProxies) -> None:
    """Put the layer around ``app`` and answer a trusted proxy's malformed header with 400."""
    app.wsgi_app = ForwardedHeaders(app.wsgi_app, proxies)  # type: ignore[method-assign]

    @app.before_request
    def refuse_malformed_forwarding() -> None:
        reason = request.environ.get(MALFORMED)
        if reason:
            raise BadRequest(f"malformed forwarded header from a trusted proxy: {reason}")
