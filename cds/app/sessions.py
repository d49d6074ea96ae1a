"""Server-side sessions of the app: tokens and launch state never reach the browser.

The browser holds only a random session id (a cookie); the store keeps its SHA-256, so a copy
of the database does not hand out live sessions. ``SessionStore`` is the interface; the SQLite
implementation uses the service's per-thread connections (cds/service/sqlite.py). It is meant
to move under the shared storage engines (cds/storage) with PostgreSQL beside it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

from cds.storage.sqlite_connections import ThreadConnections, open_wal

SessionData = dict[str, Any]


class SessionStore(Protocol):
    def create(self, data: SessionData) -> str:
        """Store a new session and return its id (to be sent as the cookie)."""

    def load(self, session_id: str) -> SessionData | None:
        """The session's data, or ``None`` when it is unknown or has expired."""

    def save(self, session_id: str, data: SessionData) -> None:
        """Replace the session's data and extend its life."""

    def delete(self, session_id: str) -> None: ...


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SqliteSessionStore:
    """Sessions in one SQLite table; each lives ``lifetime_seconds`` after its last save."""

    def __init__(
        self, path: str, lifetime_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.lifetime = lifetime_seconds
        self.clock = clock
        self.connections = ThreadConnections(path, open_wal)
        with self.connections.connection() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS app_sessions"
                " (id_sha256 TEXT PRIMARY KEY, data TEXT NOT NULL, expires REAL NOT NULL)"
            )

    def create(self, data: SessionData) -> str:
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.connections.connection() as db:
            db.execute("DELETE FROM app_sessions WHERE expires < ?", (now,))
            db.execute(
                "INSERT INTO app_sessions VALUES (?, ?, ?)",
                (digest(session_id), json.dumps(data), now + self.lifetime),
            )
        return session_id

    def load(self, session_id: str) -> SessionData | None:
        with self.connections.connection() as db:
            row = db.execute(
                "SELECT data, expires FROM app_sessions WHERE id_sha256 = ?", (digest(session_id),)
            ).fetchone()
        if row is None or row[1] < self.clock():
            return None
        data: SessionData = json.loads(row[0])
        return data

    def save(self, session_id: str, data: SessionData) -> None:
        with self.connections.connection() as db:
            db.execute(
                "UPDATE app_sessions SET data = ?, expires = ? WHERE id_sha256 = ?",
                (json.dumps(data), self.clock() + self.lifetime, digest(session_id)),
            )

    def delete(self, session_id: str) -> None:
        with self.connections.connection() as db:
            db.execute("DELETE FROM app_sessions WHERE id_sha256 = ?", (digest(session_id),))
