"""The one parser for every URL the service sends a request (and perhaps a token) to.

A URL that a client hands us (``fhirServer``, a ``next`` link, a JWT's ``jku``, a SMART ``iss``)
is accepted only in a canonical form that every URL reader agrees on: the WHATWG rules a
browser follows, RFC 3986, and urllib3/requests, which open the connection. Anything those
readers could disagree on is refused rather than repaired: userinfo (``user@host``),
backslashes, non-ASCII, numeric-host tricks (``2130706433``, ``0x7f.1``, ``127.1``), percent
encodings of unreserved characters or of ``/``, ``\\`` and ``.`` in the path, dot segments.
Harmless spellings are normalised: scheme and host case, a default port.

https is required; plain http only to a loopback host and only when the policy allows it
(local development). An allow-list entry matches by scheme, host, port and path prefix at a
``/`` boundary (``https://fhir.org/r4`` admits ``/r4`` and ``/r4/…``, never ``/r4x`` or
``fhir.org.evil.example``).

The policy reads the URL's text only: it resolves no name and keeps no list of addresses (an
https FHIR server on a private address is normal in a hospital; the allow-list is the control).
Where an address matters, the HTTP client checks the address it connects to: plain http, allowed
to a loopback host only, connects only to loopback addresses (:mod:`cds.fhir.client`), and each
name is resolved once per call (:mod:`cds.fhir.resolve`).

    policy = UrlPolicy.build(["https://fhir.hospital.org/r4"])
    url = parse_allowed(text, policy)     # AllowedUrl, or raises UrlRefused
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from requests.models import PreparedRequest
from requests.utils import requote_uri
from urllib3.util import parse_url

DEFAULT_PORTS = {"https": 443, "http": 80}
LOOPBACK_NAMES = ("localhost",)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DECIMAL_OCTET = re.compile(r"0|[1-9][0-9]{0,2}")
_PORT = re.compile(r"[1-9][0-9]{0,4}")
# RFC 3986 pchar without "%" (handled apart); the query may also hold "/" and "?".
_PATH_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_QUERY_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*")
_PERCENT = re.compile(r"%(..)")
_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]")
# Decoded, these change which path is meant: an encoded separator, backslash or dot.
_PATH_FORBIDDEN_ENCODED = {"2F", "5C", "2E"}


class UrlRefused(ValueError):
    """The URL is not canonical, not https, or not on the allow-list; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_loopback_host(host: str) -> bool:
    """A loopback name or address (without port or brackets)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class AllowedUrl:
    """A URL in canonical form; ``port`` is the effective port (443 for https when omitted)."""

    scheme: str
    host: str  # lower case; an IPv6 literal without brackets
    port: int
    path: str  # "" or starting with "/"
    query: str | None = None

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{host}" + ("" if default else f":{self.port}")

    @property
    def url(self) -> str:
        return self.origin + self.path + ("" if self.query is None else "?" + self.query)

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    def same_origin(self, other: AllowedUrl) -> bool:
        return (self.scheme, self.host, self.port) == (other.scheme, other.host, other.port)

    def is_under(self, prefix: AllowedUrl) -> bool:
        """Same origin, and ``prefix``'s path is this path or a parent of it at a ``/``."""
        if not self.same_origin(prefix):
            return False
        base = prefix.path.rstrip("/")
        return self.path == base or self.path.startswith(base + "/")

    def join(self, relative: str) -> str:
        """``Type/id`` or ``Type?query`` under this base, as text for :func:`parse_allowed`."""
        return self.url.rstrip("/") + "/" + relative.lstrip("/")

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class UrlPolicy:
    """What :func:`parse_allowed` accepts.

    :param allowlist: URL prefixes (already parsed); empty means any https URL.
    :param allow_loopback_http: local development: plain http to a loopback host.
    """

    allowlist: tuple[AllowedUrl, ...] = ()
    allow_loopback_http: bool = False

    @classmethod
    def build(cls, allowlist: Iterable[str] = (), allow_loopback_http: bool = False) -> UrlPolicy:
        """Parse allow-list entries with the same rules; raise :class:`UrlRefused` naming one."""
        entries = []
        for entry in allowlist:
            try:
                entries.append(parse_canonical(entry, allow_query=False))
            except UrlRefused as exc:
                raise UrlRefused(f"allow-list entry {entry!r}: {exc.reason}") from None
        return cls(tuple(entries), allow_loopback_http)

    def admits(self, url: AllowedUrl) -> bool:
        return not self.allowlist or any(url.is_under(entry) for entry in self.allowlist)


def parse_allowed(text: object, policy: UrlPolicy, *, allow_query: bool = False) -> AllowedUrl:
    """The canonical URL, if it is https (or allowed loopback http) and on the allow-list.

    :param allow_query: accept a query string (``next`` links); a base URL has none.
    :raise UrlRefused: with the reason.
    """
    url = parse_canonical(text, allow_query=allow_query)
    if url.scheme != "https" and not (policy.allow_loopback_http and url.is_loopback):
        raise UrlRefused("must use https")
    if not policy.admits(url):
        raise UrlRefused("not on the allow-list")
    return url


def parse_canonical(text: object, *, allow_query: bool) -> AllowedUrl:
    """Check that ``text`` is an absolute http(s) URL in canonical form (module docstring)."""
    if not isinstance(text, str) or not text:
        raise UrlRefused("must be a URL")
    if not text.isascii() or not text.isprintable() or " " in text:
        raise UrlRefused("must be printable ASCII (a host in punycode)")
    if "\\" in text:
        raise UrlRefused("must not contain a backslash")
    if "#" in text:
        raise UrlRefused("must not have a fragment")
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS:
        raise UrlRefused("must be an http(s) URL")
    authority, path, query = _split(rest)
    if "@" in authority:
        raise UrlRefused("must not carry user information (user@host)")
    if query is not None and not allow_query:
        raise UrlRefused("must not have a query")
    host, port = _authority(authority, scheme)
    _check_path(path)
    if query is not None:
        query = _canonical_query(query)
    url = AllowedUrl(scheme, host, port, path, query)
    _check_clients_agree(url)
    return url


def _split(rest: str) -> tuple[str, str, str | None]:
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    path, sep, query = tail.partition("?")
    return authority, path, (query if sep else None)


def _authority(authority: str, scheme: str) -> tuple[str, int]:
    if authority.startswith("["):
        literal, sep, port_text = authority[1:].partition("]")
        if not sep or (port_text and not port_text.startswith(":")):
            raise UrlRefused("malformed IPv6 host")
        host = _ipv6(literal)
        port_text = port_text[1:] if port_text else ""
        has_port = bool(port_text) or authority.endswith(":")
    else:
        name, colon, port_text = authority.partition(":")
        host, has_port = _named_or_ipv4(name.lower()), bool(colon)
    return host, _port(port_text, has_port, scheme)


def _ipv6(literal: str) -> str:
    if "%" in literal:
        raise UrlRefused("an IPv6 zone id is not allowed")
    try:
        address = ipaddress.IPv6Address(literal)
    except ValueError:
        raise UrlRefused("malformed IPv6 host") from None
    if address.ipv4_mapped is not None:
        raise UrlRefused("an IPv4-mapped IPv6 host is not allowed")
    return address.compressed


def _named_or_ipv4(host: str) -> str:
    if not host:
        raise UrlRefused("has no host")
    labels = host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise UrlRefused("the host is not a valid DNS name or IPv4 address")
    # WHATWG reads a host whose last label is numeric as an IPv4 number (2130706433, 127.1,
    # 0x7f.1, 0177.0.0.1); only the dotted-quad decimal form means the same to every reader.
    last = labels[-1]
    numeric = last.isdigit() or re.fullmatch(r"0x[0-9a-f]*", last) is not None
    if numeric and not _is_dotted_quad(labels):
        raise UrlRefused("a numeric host must be a dotted-quad IPv4 address (a.b.c.d)")
    return host


def _is_dotted_quad(labels: list[str]) -> bool:
    return len(labels) == 4 and all(
        _DECIMAL_OCTET.fullmatch(label) is not None and int(label) <= 255 for label in labels
    )


def _port(text: str, has_port: bool, scheme: str) -> int:
    if not has_port:
        return DEFAULT_PORTS[scheme]
    if not _PORT.fullmatch(text) or int(text) > 65535:
        raise UrlRefused("the port must be a number from 1 to 65535, without leading zeros")
    return int(text)


def _check_encodings(part: str, name: str, forbidden: set[str]) -> None:
    for match in _PERCENT.finditer(part):
        code = match.group(1)
        if not re.fullmatch(r"[0-9A-F]{2}", code):
            raise UrlRefused(f"{name}: percent-encodings must be two upper-case hex digits")
        char = chr(int(code, 16))
        if _UNRESERVED.fullmatch(char):
            raise UrlRefused(f"{name}: {char!r} must not be percent-encoded")
        if code in forbidden or int(code, 16) < 0x20 or code == "7F":
            raise UrlRefused(f"{name}: %{code} is not allowed")


def _check_path(path: str) -> None:
    if not _PATH_CHARS.fullmatch(path.replace("%", "")):
        raise UrlRefused("path: has characters that must be percent-encoded")
    _check_encodings(path, "path", _PATH_FORBIDDEN_ENCODED)
    segments = path.split("/")[1:]
    if any(segment in (".", "..") for segment in segments):
        raise UrlRefused("path: must not have '.' or '..' segments")
    if "" in segments[:-1]:
        raise UrlRefused("path: must not have empty segments ('//')")


def _canonical_query(query: str) -> str:
    """The query as the HTTP client sends it (search parameters do not choose the server).

    FHIR servers write ``next`` links with ``|`` or ``:`` unencoded; requests quotes them, so
    the quoted form is the one checked and used.
    """
    query = requote_uri(query)
    if not _QUERY_CHARS.fullmatch(query.replace("%", "")):
        raise UrlRefused("query: has characters that must be percent-encoded")
    for match in _PERCENT.finditer(query):
        if not re.fullmatch(r"[0-9A-Fa-f]{2}", match.group(1)):
            raise UrlRefused("query: malformed percent-encoding")
    return query


def _check_clients_agree(url: AllowedUrl) -> None:
    """The canonical text reads the same to urllib3 (which connects) and to requests."""
    text = url.url
    parsed = parse_url(text)
    host = (parsed.host or "").strip("[]")
    port = parsed.port or DEFAULT_PORTS[url.scheme]
    prepared = PreparedRequest()
    prepared.prepare_url(text, None)
    if (parsed.scheme, parsed.auth, host, port) != (url.scheme, None, url.host, url.port) or (
        prepared.url != AllowedUrl(url.scheme, url.host, url.port, url.path or "/", url.query).url
    ):
        raise UrlRefused("not in a canonical form the HTTP client reads the same way")
