"""The storage interface: what the service keeps between requests, whatever the engine.

Four things are kept, and behave the same on every engine:

- **issued cards** (uuid → service and card kind), so feedback can be counted per card kind;
- **feedback** rows, stored once however often a client re-delivers them;
- the **JWT replay cache**: an atomic insert-or-refuse of ``(issuer, jti)``, forgotten after
  the token could no longer be accepted anyway;
- the work-up app's **server-side sessions** and one-time **PKCE states** (opaque text the app
  encodes, e.g. JSON; a state can be taken once only, by whichever replica gets the callback).

An engine raises :class:`StorageUnavailable` when the database cannot be reached or cannot
answer in time; the caller answers 503 and the client may retry. Any other exception is a bug.
Times are seconds since the epoch (floats) for expiries and ISO 8601 text for audit columns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass


class StorageUnavailable(Exception):  # noqa: N818 -- it is a state, answered as HTTP 503
    """The database cannot be reached or did not answer in time; nothing was acknowledged."""


@dataclass(frozen=True)
class FeedbackRow:
    """One feedback item as stored; absent optional values are ``""`` (see the migrations)."""

    service: str
    card: str
    outcome: str
    outcome_timestamp: str
    accepted_suggestions: str  # JSON array, sorted, so one set of suggestions is one key
    override_system: str
    override_code: str
    override_display: str
    user_comment: str
    received_at: str


@dataclass(frozen=True)
class FeedbackCounts:
    """The raw counts behind the feedback report, all read from one snapshot.

    :param issued: ``(service, kind, count)`` of issued cards.
    :param outcomes: ``(service, kind, accepted, overridden)``.
    :param reasons: ``(service, kind, code, display, has_comment, count)`` of overrides.
    """

    issued: list[tuple[str, str, int]]
    outcomes: list[tuple[str, str, int, int]]
    reasons: list[tuple[str, str, str, str, int, int]]


class Storage(ABC):
    """One database shared by every thread, worker process and replica that opens it."""

    engine: str  # "sqlite" or "postgresql", for logs and the readiness answer

    # --- issued cards and feedback ---------------------------------------------------------

    @abstractmethod
    def record_cards(self, service: str, cards: Sequence[tuple[str, str]], issued_at: str) -> None:
        """Remember ``(uuid, kind)`` pairs in one transaction; a known uuid keeps its first."""

    @abstractmethod
    def add_feedback(self, rows: Sequence[FeedbackRow]) -> int:
        """Store rows in one transaction, durably committed before returning.

        :return: how many were new (the others were stored before, or earlier in ``rows``).
        """

    @abstractmethod
    def feedback_counts(self) -> FeedbackCounts:
        """Counts per service and card kind (kind ``unknown`` for cards not issued here)."""

    # --- JWT replay cache ------------------------------------------------------------------

    @abstractmethod
    def record_jti(self, iss: str, jti: str, keep_until: float) -> bool:
        """Record ``(iss, jti)`` atomically across all processes and replicas.

        :return: ``True`` if this call recorded it, ``False`` if it was recorded before.
        """

    @abstractmethod
    def prune_jtis(self, now: float) -> int:
        """Forget jti values kept until before ``now``; return how many."""

    # --- app sessions and PKCE states ------------------------------------------------------

    @abstractmethod
    def save_session(self, session_id: str, data: str, expires_at: float) -> None:
        """Create or replace a session."""

    @abstractmethod
    def load_session(self, session_id: str, now: float) -> str | None:
        """The session's data, or ``None`` if unknown or expired."""

    @abstractmethod
    def delete_session(self, session_id: str) -> None:
        """Forget a session (logout); unknown ids are ignored."""

    @abstractmethod
    def save_pkce_state(self, state: str, data: str, expires_at: float) -> bool:
        """Store a new authorization request's state; ``False`` if that state exists already."""

    @abstractmethod
    def take_pkce_state(self, state: str, now: float) -> str | None:
        """Remove and return a state's data atomically: only one caller ever gets it.

        :return: ``None`` if unknown, taken before, or expired.
        """

    @abstractmethod
    def prune_app_state(self, now: float) -> int:
        """Delete expired sessions and PKCE states; return how many."""

    # --- operations ------------------------------------------------------------------------

    @abstractmethod
    def ping(self) -> None:
        """Check that the database answers (readiness); raise :class:`StorageUnavailable`."""

    @abstractmethod
    def schema_version(self) -> int:
        """The newest migration applied."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; later calls open new ones."""
