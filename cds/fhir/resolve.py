"""Name resolution for one call, bounded by the call's deadline.

``socket.getaddrinfo`` cannot be interrupted: a slow or hanging resolver would hold the fetch
thread (and, on the request thread, the whole call) for as long as the resolver likes. Here
each lookup runs on a small process-wide pool of resolver threads and the fetch waits for it
only until the call's deadline; past it the fetch fails as ``timeout``, like any other fetch
that did not finish. A hanging lookup keeps a resolver thread, never a request or fetch thread,
and concurrent calls asking for the same name share the lookup already under way, so a hanging
resolver holds at most :data:`RESOLVER_THREADS` threads.

A :class:`CallResolver` belongs to one call (one HTTP session): each host and port is resolved
once, and every connection of the call goes to those addresses, so a name whose answer changes
mid-call (DNS rebinding) cannot send the call's later requests, and its token, elsewhere.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

# (family, type, proto, canonname, sockaddr), as socket.getaddrinfo gives them
AddrInfo = tuple[Any, ...]
# More than a process's calls can ask for at once (CDS_THREADS, 16 by default; a call resolves
# its fhirServer's host): only lookups left hanging by earlier calls can fill them, and then a new
# lookup queues and its fetch times out at the deadline. Bounded, rather than a thread per call.
RESOLVER_THREADS = 32


class ResolutionTimeout(Exception):
    """The name was not resolved within the time the call had left."""


def _lookup(host: str, port: int) -> list[AddrInfo]:
    # socket.getaddrinfo is looked up at call time (a test may replace it with a slow one).
    return list(socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM))


class _SharedLookups:
    """The process's resolver threads, and the lookups under way by (host, port)."""

    def __init__(self) -> None:
        # Re-entrant: a lookup that finished already runs its callback (``_forget``) at once.
        self._lock = threading.RLock()
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0
        self._running: dict[tuple[str, int], Future[list[AddrInfo]]] = {}

    def start(self, host: str, port: int) -> Future[list[AddrInfo]]:
        """The lookup of ``host:port`` under way, or a new one (its answer is not kept after)."""
        key = (host, port)
        with self._lock:
            if self._pool is None or self._pid != os.getpid():  # none yet, or forked
                self._pid, self._running = os.getpid(), {}
                self._pool = ThreadPoolExecutor(RESOLVER_THREADS, "dns-lookup")
            future = self._running.get(key)
            if future is None:
                future = self._pool.submit(_lookup, host, port)
                self._running[key] = future
                future.add_done_callback(lambda done: self._forget(key, done))
            return future

    def _forget(self, key: tuple[str, int], done: Future[list[AddrInfo]]) -> None:
        with self._lock:
            if self._running.get(key) is done:
                del self._running[key]


_SHARED = _SharedLookups()


class CallResolver:
    """The addresses of each host one call connects to, each looked up once, in bounded time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: dict[tuple[str, int], Future[list[AddrInfo]]] = {}

    def addresses(self, host: str, port: int, timeout: float) -> list[AddrInfo]:
        """``host:port``'s addresses, waiting at most ``timeout`` seconds.

        An IP literal is converted without a lookup.

        :raise ResolutionTimeout: when the lookup has not finished in time.
        :raise socket.gaierror: when the name does not resolve.
        """
        if _is_ip_literal(host):
            flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
            return list(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, flags))
        with self._lock:
            future = self._found.get((host, port))
            if future is None:
                future = _SHARED.start(host, port)
                self._found[(host, port)] = future
        try:
            return future.result(timeout=max(timeout, 0.0))
        except FutureTimeout:
            raise ResolutionTimeout(f"name resolution took longer than {timeout:.1f} s") from None


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
