"""The only HTTP client of the service: reads and searches on the EHR's FHIR server.

Every failure becomes one typed :class:`FhirFetchError` with a short reason that names no patient
data: unauthorised, forbidden, not found, server error, timeout, not FHIR, too large, too many
pages.
Searches follow ``next`` links up to a bound. Each response is streamed with a byte cap and the
call's deadline, which is enforced on the socket itself, so a slow-dripping or huge response
cannot hold the request or its thread past the deadline. Host names are resolved within the
deadline too, once per call, and the connection goes to the address resolved
(:mod:`cds.fhir.resolve`): a hanging resolver is a fetch that timed out.
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from cds.fhir.record import entries_of
from cds.fhir.resolve import AddrInfo, CallResolver, ResolutionTimeout
from cds.fhir.url_policy import AllowedUrl, UrlPolicy, UrlRefused, parse_allowed

Resource = dict[str, Any]
CHUNK_BYTES = 64 * 1024


class FhirFetchError(Exception):
    """A FHIR request that gave no usable resource; ``kind`` is machine-readable."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Deadline:
    """An absolute point in (monotonic) time by which the whole call must be done."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        return self.at - self.clock()


@dataclass(frozen=True)
class FhirLimits:
    """Bounds for one call to the FHIR server."""

    request_timeout: float = 2.0
    max_pages: int = 10
    max_bytes: int = 20 * 1024 * 1024


STATUS_KINDS = {401: "unauthorized", 403: "forbidden", 404: "not-found", 410: "not-found"}


class FhirClient:
    """Reads from one FHIR server with an optional bearer token.

    Every URL it requests, the base's and each ``next`` link, is checked by
    :func:`cds.fhir.url_policy.parse_allowed` and must lie under the base URL, so the token only
    goes where the EHR pointed (same scheme, host and port, under its path). Redirects are not
    followed: a 3xx is a failed fetch.

    :param session: a ``requests.Session`` (injected so tests can fake the network); in
        production :func:`guarded_session`, whose sockets are shut at the call's deadline.
    """

    def __init__(
        self,
        base_url: AllowedUrl,
        token: str | None,
        session: requests.Session,
        limits: FhirLimits,
        deadline: Deadline,
        policy: UrlPolicy | None = None,
    ) -> None:
        self.base = base_url
        self.token = token
        self.session = session
        self.limits = limits
        self.deadline = deadline
        self.policy = policy or UrlPolicy(allow_loopback_http=base_url.is_loopback)

    def close(self) -> None:
        self.session.close()

    def get_json(self, url: AllowedUrl) -> Resource:
        """GET one URL and return its JSON object, or raise :class:`FhirFetchError`."""
        headers = {"Accept": "application/fhir+json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        status, body = get_bytes(
            self.session,
            url,
            headers,
            self.deadline,
            self.limits.request_timeout,
            self.limits.max_bytes,
        )
        if status in STATUS_KINDS:
            raise FhirFetchError(STATUS_KINDS[status], f"HTTP {status}")
        if 300 <= status < 400:
            raise FhirFetchError("redirect", f"HTTP {status}: redirects are not followed")
        if status >= 400:
            raise FhirFetchError("server-error", f"HTTP {status}")
        return parse_resource(body)

    def url_for(self, text: str) -> AllowedUrl:
        """``text`` (absolute) as an allowed URL under the base, or :class:`FhirFetchError`."""
        try:
            url = parse_allowed(text, self.policy, allow_query=True)
        except UrlRefused as exc:
            raise FhirFetchError("bad-url", exc.reason) from None
        if not url.is_under(self.base):
            # The bearer token goes only to the FHIR server the EHR named, over its scheme.
            raise FhirFetchError("bad-url", "the URL points away from the FHIR server")
        return url

    def read(self, relative: str) -> Resource:
        """``Type/id`` read."""
        return self.get_json(self.url_for(self.base.join(relative)))

    def search(self, relative: str) -> list[Resource]:
        """A search (``Type?…``): the resources of every page, following ``next``."""
        return self.follow(self.base.join(relative))

    def follow(self, absolute: str) -> list[Resource]:
        """The resources of the page at ``absolute`` and its ``next`` pages, up to ``max_pages``."""
        text: str | None = absolute
        resources: list[Resource] = []
        seen: set[str] = set()
        for _ in range(self.limits.max_pages):
            if text is None:
                return resources
            try:
                url = self.url_for(text)
            except FhirFetchError as exc:
                raise FhirFetchError(
                    "bad-paging", f"a next link is refused: {exc.detail}"
                ) from None
            if url.url in seen:
                raise FhirFetchError("bad-paging", "a next link points back to a page already read")
            seen.add(url.url)
            page = self.get_json(url)
            if page.get("resourceType") != "Bundle":
                raise FhirFetchError("not-fhir", f"search returned {page.get('resourceType')}")
            resources.extend(
                e["resource"]
                for e in entries_of(page)
                if isinstance(e, dict) and isinstance(e.get("resource"), dict)
            )
            text = next_link(page)
        if text is not None:
            raise FhirFetchError("too-many-pages", f"more than {self.limits.max_pages} pages")
        return resources


def get_bytes(
    session: requests.Session,
    url: AllowedUrl,
    headers: dict[str, str],
    deadline: Deadline,
    request_timeout: float,
    max_bytes: int,
) -> tuple[int, bytes]:
    """GET ``url`` without following redirects; the whole answer must arrive by ``deadline``.

    The per-operation timeout bounds each connect and read; the deadline bounds the whole
    response, headers included: a socket opened by :func:`guarded_session` is shut when the
    deadline passes, which ends a read however slowly the server drips.

    :return: the status and the body (at most ``max_bytes``).
    :raise FhirFetchError: timeout, unreachable or too-large.
    """
    remaining = deadline.remaining()
    if remaining <= 0:
        raise FhirFetchError("timeout", "call deadline reached before the request")
    timeout = min(request_timeout, remaining)
    try:
        with (
            _guarded_by(deadline),
            session.get(
                url.url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
            ) as response,
        ):
            status, body = response.status_code, _read_capped(response, deadline, max_bytes)
    except requests.Timeout as exc:
        raise FhirFetchError("timeout", f"no answer within {timeout:.1f} s") from exc
    except requests.RequestException as exc:
        if deadline.remaining() <= 0:
            raise FhirFetchError("timeout", "call deadline reached while reading") from exc
        raise FhirFetchError("unreachable", type(exc).__name__) from exc
    if deadline.remaining() <= 0:
        # The socket was shut at the deadline: what was read (headers cut short, a body
        # ending early) is incomplete, whatever it looks like.
        raise FhirFetchError("timeout", "call deadline reached while reading")
    return status, body


def _read_capped(response: requests.Response, deadline: Deadline, max_bytes: int) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise FhirFetchError("too-large", f"response over {max_bytes} bytes")
        if deadline.remaining() <= 0:
            raise FhirFetchError("timeout", "call deadline reached while reading")
        chunks.append(chunk)
    return b"".join(chunks)


# --- sockets shut at the deadline ------------------------------------------------------------


class _Watchdog:
    """One thread per process that shuts each watched socket when its deadline passes.

    A shut socket makes a blocked ``recv`` return at once, so a server that drips one byte a
    second cannot hold a fetch thread past the call's deadline (a per-read timeout cannot do
    that: every byte resets it).
    """

    def __init__(self) -> None:
        self._due: list[tuple[float, int, socket.socket]] = []
        self._ids = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def watch(self, sock: socket.socket, seconds: float) -> None:
        with self._changed:
            heapq.heappush(self._due, (time.monotonic() + seconds, next(self._ids), sock))
            if self._thread is None or self._pid != os.getpid():  # none yet, or forked
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="fetch-deadline")
                self._thread.daemon = True
                self._thread.start()
            self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                if not self._due:
                    self._changed.wait()
                    continue
                at, _, sock = self._due[0]
                if at > time.monotonic():
                    self._changed.wait(at - time.monotonic())
                    continue
                heapq.heappop(self._due)
            with contextlib.suppress(OSError):  # already closed: nothing to do
                sock.shutdown(socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()
_current = threading.local()


@contextlib.contextmanager
def _guarded_by(deadline: Deadline) -> Iterator[None]:
    """Sockets this thread opens meanwhile are shut at ``deadline`` (see :class:`_Watchdog`)."""
    _current.deadline = deadline
    try:
        yield
    finally:
        _current.deadline = None


def _watch_new_socket(sock: socket.socket) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        _WATCHDOG.watch(sock, max(deadline.remaining(), 0.0))


# --- connections to the addresses the call resolved ------------------------------------------


def _connect_resolved(conn: HTTPConnection, loopback_only: bool) -> socket.socket:
    """A socket connected to ``conn``'s host, resolved by the call's resolver in its time left.

    Only the TCP connection goes to the address: the Host header, TLS SNI and the certificate
    check still use the URL's host name (urllib3 takes them from ``conn.host``, unchanged).

    :param loopback_only: plain http, which the URL policy allows to a loopback host only: the
        addresses connected to must be loopback too, whatever the name resolves to.
    :raise FhirFetchError: ``timeout`` when the name is not resolved by the deadline,
        ``bad-url`` when a loopback-only host resolves elsewhere.
    """
    names: CallResolver = getattr(_current, "names", None) or CallResolver()
    deadline: Deadline | None = getattr(_current, "deadline", None)
    left = _time_left(conn, deadline)
    try:
        found = names.addresses(conn._dns_host, conn.port, 10.0 if left is None else left)
    except ResolutionTimeout as exc:
        raise FhirFetchError("timeout", f"{exc} (the call's deadline)") from None
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    if loopback_only:
        found = [a for a in found if ipaddress.ip_address(a[4][0]).is_loopback]
        if not found:
            raise FhirFetchError("bad-url", "plain http to a host that is not loopback")
    if deadline is not None and deadline.remaining() <= 0:
        raise FhirFetchError("timeout", "call deadline reached while resolving the host")
    return _first_connected(conn, found, _time_left(conn, deadline))


def _time_left(conn: HTTPConnection, deadline: Deadline | None) -> float | None:
    """The connect timeout, shortened to what is left before the deadline."""
    limits = [float(conn.timeout)] if isinstance(conn.timeout, int | float) else []
    limits += [deadline.remaining()] if deadline is not None else []
    return max(min(limits), 0.0) if limits else None


def _first_connected(
    conn: HTTPConnection, found: list[AddrInfo], timeout: float | None
) -> socket.socket:
    """Try each address in turn, as urllib3's ``create_connection`` does for its lookup."""
    error: OSError = OSError("the host has no address")
    for family, kind, proto, _, address in found:
        sock = socket.socket(family, kind, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect(address)
        except TimeoutError:
            sock.close()
            raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out") from None
        except OSError as exc:
            sock.close()
            error = exc
            continue
        sys.audit("http.client.connect", conn, conn.host, conn.port)
        return sock
    raise NewConnectionError(conn, f"Failed to establish a new connection: {error}")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = _connect_resolved(self, loopback_only=True)
        _watch_new_socket(sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = _connect_resolved(self, loopback_only=False)  # TLS comes after: it is watched too
        _watch_new_socket(sock)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """Connections through this adapter resolve names with its :class:`CallResolver`."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)
        self.names = CallResolver()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        _current.names = self.names  # the connection opened for this request resolves with it
        try:
            return super().send(request, *args, **kwargs)
        finally:
            _current.names = None


def guarded_session() -> requests.Session:
    """A session for one hook call: its sockets obey :func:`get_bytes`' deadline.

    Each host name is resolved once for the session, within the deadline
    (:mod:`cds.fhir.resolve`), and every connection goes to those addresses. ``trust_env`` is
    off: no proxy from the environment and no ``.netrc`` credentials, so the request goes
    straight to the server the URL names, with only the headers given here.
    """
    session = requests.Session()
    session.trust_env = False
    adapter = _GuardedAdapter()  # one per session, so its names are resolved once per call
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def next_link(bundle: Resource) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) and url else None
    return None


def parse_resource(body: bytes) -> Resource:
    """The body as a FHIR resource, refusing HTML error pages, truncated JSON and non-resources."""
    try:
        data = orjson.loads(body)  # refuses nesting deeper than 1,024 levels
    except (orjson.JSONDecodeError, RecursionError) as exc:
        raise FhirFetchError("not-fhir", "the response is not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise FhirFetchError("not-fhir", "the response is not a FHIR resource")
    if data["resourceType"] == "OperationOutcome":
        raise FhirFetchError("operation-outcome", "the server answered with an OperationOutcome")
    return data
