"""Server-side sessions of the app: tokens and launch state never reach the browser.

The browser holds only a random session id (a cookie); the storage keeps its SHA-256, so a copy
of the database does not hand out live sessions. Sessions and the pending authorization requests
(PKCE verifier and ``state``) live in the service's storage engine (cds/storage: SQLite or
PostgreSQL), so any replica behind the balancer can finish a launch another one started, and a
``state`` is taken once only (atomically), whichever replica the callback reaches.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from cds.storage import Storage

SessionData = dict[str, Any]
PENDING_SECONDS = 600  # an authorization request left unanswered this long is forgotten


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SessionStore:
    """The app's sessions and pending authorization requests, on a :class:`Storage`.

    A session lives ``lifetime_seconds`` after its last save.
    """

    def __init__(
        self, storage: Storage, lifetime_seconds: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.storage = storage
        self.lifetime = lifetime_seconds
        self.clock = clock

    def create(self, data: SessionData) -> str:
        """Store a new session and return its id (to be sent as the cookie)."""
        session_id = secrets.token_urlsafe(32)
        self.storage.prune_app_state(self.clock())
        self.save(session_id, data)
        return session_id

    def load(self, session_id: str) -> SessionData | None:
        """The session's data, or ``None`` when it is unknown or has expired."""
        text = self.storage.load_session(digest(session_id), self.clock())
        return None if text is None else dict(json.loads(text))

    def save(self, session_id: str, data: SessionData) -> None:
        """Replace the session's data and extend its life."""
        expires = self.clock() + self.lifetime
        self.storage.save_session(digest(session_id), json.dumps(data), expires)

    def delete(self, session_id: str) -> None:
        self.storage.delete_session(digest(session_id))

    def put_pending(self, session_id: str, state: str, pending: SessionData) -> None:
        """Keep an authorization request until its callback, bound to the session that sent it.

        :raise ValueError: if the state exists already (never with a random state).
        """
        data = json.dumps({"session": digest(session_id), "pending": pending})
        if not self.storage.save_pkce_state(digest(state), data, self.clock() + PENDING_SECONDS):
            raise ValueError("duplicate state")

    def take_pending(self, session_id: str, state: str) -> SessionData | None:
        """The request this ``state`` names, once only, if the same session sent it."""
        text = self.storage.take_pkce_state(digest(state), self.clock())
        if text is None:
            return None
        data = json.loads(text)
        if data["session"] != digest(session_id):
            return None
        return dict(data["pending"])
