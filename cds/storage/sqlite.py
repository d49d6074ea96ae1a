"""The embedded engine: one SQLite file in WAL mode, shared by the worker processes of one host.

The default: no server to run. It is shared by processes on one host only, so replicas on
several hosts need the PostgreSQL engine. ``":memory:"`` keeps everything in this process (one
connection shared by its threads) and loses it on exit: for tests only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple
from datetime import UTC, datetime

from cds.storage.base import FeedbackCounts, FeedbackRow, Storage, StorageUnavailable
from cds.storage.migrations import (
    COUNT_ISSUED,
    COUNT_OUTCOMES,
    COUNT_REASONS,
    VERSION_TABLE,
    pending,
)
from cds.storage.sqlite_connections import ThreadConnections, open_wal

_INSERT_FEEDBACK = """
INSERT INTO feedback (service, card, outcome, outcome_timestamp, accepted_suggestions,
    override_system, override_code, override_display, user_comment, received_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
"""
# ON CONFLICT DO NOTHING, not INSERT OR IGNORE: OR IGNORE would also drop rows that break a CHECK
# or NOT NULL constraint silently, where PostgreSQL (and a bug report) wants an error.


# Primary result codes that mean "cannot now", not "wrong SQL" (sqlite.org/rescode.html).
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)


def _open_durable(path: str) -> sqlite3.Connection:
    # FULL: in WAL mode, NORMAL may lose the last commits on power loss; FULL syncs each one.
    return open_wal(path, synchronous="FULL")


def _open_fast(path: str) -> sqlite3.Connection:
    # Issued-card bookkeeping, jti values and app state are written on every call; losing the
    # last commits on power loss (never on a process crash) costs a card kind label, a replay
    # window the length of one token's life, or a re-login: NORMAL skips the fsync.
    return open_wal(path, synchronous="NORMAL")


class SqliteStorage(Storage):
    engine = "sqlite"

    def __init__(self, path: str) -> None:
        self._durable = ThreadConnections(path, _open_durable)
        # ":memory:" is one database per connection set, so there everything shares one.
        self._fast = self._durable if path == ":memory:" else ThreadConnections(path, _open_fast)
        self._migrate()

    # --- issued cards and feedback ---------------------------------------------------------

    def record_cards(self, service: str, cards: Sequence[tuple[str, str]], issued_at: str) -> None:
        rows = [(uuid, service, kind, issued_at) for uuid, kind in cards]
        with self._transaction(self._fast) as connection:
            connection.executemany(
                "INSERT INTO issued_cards (uuid, service, kind, issued_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                rows,
            )

    def add_feedback(self, rows: Sequence[FeedbackRow]) -> int:
        with self._transaction(self._durable) as connection:
            return sum(connection.execute(_INSERT_FEEDBACK, astuple(row)).rowcount for row in rows)

    def feedback_counts(self) -> FeedbackCounts:
        # One read transaction: the three counts come from the same snapshot.
        with self._transaction(self._durable, "BEGIN") as connection:
            return FeedbackCounts(
                connection.execute(COUNT_ISSUED).fetchall(),
                connection.execute(COUNT_OUTCOMES).fetchall(),
                connection.execute(COUNT_REASONS).fetchall(),
            )

    # --- JWT replay cache ------------------------------------------------------------------

    def record_jti(self, iss: str, jti: str, keep_until: float) -> bool:
        # An insert on the primary key is atomic across processes: exactly one caller inserts
        # the row (rowcount 1); every other caller sees rowcount 0.
        sql = "INSERT INTO replay (iss, jti, exp) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
        return self._write(sql, (iss, jti, keep_until)) == 1

    def prune_jtis(self, now: float) -> int:
        return self._write("DELETE FROM replay WHERE exp < ?", (now,))

    # --- app sessions and PKCE states ------------------------------------------------------

    def save_session(self, session_id: str, data: str, expires_at: float) -> None:
        self._write(
            "INSERT INTO app_sessions (id, data, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE"
            " SET data = excluded.data, expires_at = excluded.expires_at",
            (session_id, data, expires_at),
        )

    def load_session(self, session_id: str, now: float) -> str | None:
        sql = "SELECT data FROM app_sessions WHERE id = ? AND expires_at >= ?"
        return self._read_one(sql, (session_id, now))

    def delete_session(self, session_id: str) -> None:
        self._write("DELETE FROM app_sessions WHERE id = ?", (session_id,))

    def save_pkce_state(self, state: str, data: str, expires_at: float) -> bool:
        sql = (
            "INSERT INTO pkce_states (state, data, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING"
        )
        return self._write(sql, (state, data, expires_at)) == 1

    def take_pkce_state(self, state: str, now: float) -> str | None:
        # DELETE ... RETURNING is one statement: of two racing callers only one gets the row.
        sql = "DELETE FROM pkce_states WHERE state = ? RETURNING data, expires_at"
        with self._connection(self._fast) as connection:
            row = connection.execute(sql, (state,)).fetchone()
        return None if row is None or row[1] < now else str(row[0])

    def prune_app_state(self, now: float) -> int:
        with self._transaction(self._fast) as connection:
            sessions = connection.execute("DELETE FROM app_sessions WHERE expires_at < ?", (now,))
            states = connection.execute("DELETE FROM pkce_states WHERE expires_at < ?", (now,))
            return sessions.rowcount + states.rowcount

    # --- operations ------------------------------------------------------------------------

    def ping(self) -> None:
        self._read_one("SELECT 1", ())

    def schema_version(self) -> int:
        return int(self._read_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", ()) or 0)

    def close(self) -> None:
        self._durable.close()
        self._fast.close()

    def _migrate(self) -> None:
        with self._connection(self._durable) as connection:
            connection.execute(VERSION_TABLE)
        # BEGIN IMMEDIATE takes the write lock first: a second process starting now waits, then
        # reads the new version and applies nothing.
        with self._transaction(self._durable) as connection:
            (current,) = connection.execute(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version"
            ).fetchone()
            for migration in pending(current):
                for statement in migration.sqlite:
                    connection.execute(statement)
                connection.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, datetime.now(UTC).isoformat()),
                )

    # --- connections -----------------------------------------------------------------------

    def _write(self, sql: str, parameters: tuple[object, ...]) -> int:
        with self._connection(self._fast) as connection:  # autocommit: one statement, one commit
            return connection.execute(sql, parameters).rowcount

    def _read_one(self, sql: str, parameters: tuple[object, ...]) -> str | None:
        with self._connection(self._fast) as connection:
            row = connection.execute(sql, parameters).fetchone()
        return None if row is None else row[0]

    @contextmanager
    def _connection(self, connections: ThreadConnections) -> Iterator[sqlite3.Connection]:
        try:
            with connections.connection() as connection:
                yield connection
        except sqlite3.OperationalError as exc:
            # Locked past the busy timeout, disk full or unreadable: the caller answers 503.
            # SQLite also reports SQL mistakes as OperationalError: those stay bugs (500).
            if exc.sqlite_errorcode & 0xFF not in _UNAVAILABLE_CODES:
                raise
            raise StorageUnavailable(f"SQLite: {exc}") from exc

    @contextmanager
    def _transaction(
        self, connections: ThreadConnections, begin: str = "BEGIN IMMEDIATE"
    ) -> Iterator[sqlite3.Connection]:
        with self._connection(connections) as connection:
            # Writers use IMMEDIATE to take the write lock up front: a deferred transaction that
            # later tries to write can fail with SQLITE_BUSY without waiting for the timeout.
            connection.execute(begin)
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
