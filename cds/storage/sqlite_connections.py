"""Per-thread SQLite connections to one file, for the SQLite storage engine.

Each thread opens its own connection (sqlite3 connections must not be shared across threads);
every `cds serve` worker process opens its own too, and SQLite's WAL mode lets them share the file.
``":memory:"`` is special: every connection to it is a separate empty database, so there the
threads of this process share one connection under a lock (tests and single-worker use only).
"""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

BUSY_TIMEOUT_SECONDS = 10


class _HeldConnection:
    """A thread's SQLite connection, closed when the thread's locals are dropped (thread end)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __del__(self) -> None:
        self.connection.close()


def open_wal(path: str, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """An autocommit connection (transactions are explicit) in WAL mode.

    ``check_same_thread=False`` only so that :meth:`ThreadConnections.close` may close it from
    another thread; each connection is otherwise used by one thread.
    """
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )
    _enter_wal(connection)
    connection.execute(f"PRAGMA synchronous={synchronous}")
    return connection


def _enter_wal(connection: sqlite3.Connection) -> None:
    """Switch the file to WAL mode (persistent: only a new file's first opener changes it).

    While another connection is switching the same new file, the switch can answer SQLITE_BUSY at
    once, without waiting for the busy timeout (both hold the shared lock and want the exclusive
    one; SQLite refuses one rather than deadlock). So replicas starting together retry, within
    the same time the busy timeout would have given them.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


class ThreadConnections:
    """Hands each thread its own connection to ``path``, opened by ``open_connection``."""

    def __init__(self, path: str, open_connection: Callable[[str], sqlite3.Connection]) -> None:
        self._path = path
        self._open_connection = open_connection
        self._local = threading.local()
        self._lock = threading.Lock()
        self._memory: _HeldConnection | None = None
        self._held: weakref.WeakSet[_HeldConnection] = weakref.WeakSet()

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        if self._path != ":memory:":
            held = getattr(self._local, "held", None) or self._open()
            self._local.held = held
            yield held.connection
            return
        with self._lock:
            self._memory = self._memory or self._open()
            yield self._memory.connection

    def close(self) -> None:
        """Close every connection opened so far; later calls open new ones."""
        for held in list(self._held):
            held.connection.close()
        self._local, self._memory = threading.local(), None

    def _open(self) -> _HeldConnection:
        held = _HeldConnection(self._open_connection(self._path))
        self._held.add(held)
        return held
