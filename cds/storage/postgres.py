"""The shared engine: PostgreSQL through psycopg 3 and a connection pool, for replicas.

Every replica and worker process talks to the same database, so a jti recorded by one is seen
by all, and feedback lands in one place. Connections are checked as they leave the pool (one
empty round trip), so after PostgreSQL restarts the first request on each stale connection
gets a fresh one instead of an error: the service recovers without a restart. While the
database is down every call raises :class:`StorageUnavailable` within ``timeout`` seconds.

The URL (``postgresql://user:password@host:port/db?sslmode=…``) is never logged: it may hold a
password.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from cds.storage.base import FeedbackCounts, FeedbackRow, Storage, StorageUnavailable
from cds.storage.migrations import (
    COUNT_ISSUED,
    COUNT_OUTCOMES,
    COUNT_REASONS,
    VERSION_TABLE,
    pending,
)

log = logging.getLogger(__name__)
# psycopg_pool logs every connection request at INFO; its warnings (reconnecting) stay.
logging.getLogger("psycopg.pool").setLevel(logging.WARNING)

# pg_advisory_xact_lock key that serialises migrations between replicas starting at once.
MIGRATION_LOCK = 0x6863632D636473  # "hcc-cds"
MIGRATION_STATEMENT_TIMEOUT = "60s"  # waiting for another replica's migration is not a fault
# The pool retries a failed connection with a doubling delay (1, 2, 4 … s, no cap) until this
# many seconds have passed, then gives up, and the next request starts a new attempt at once.
# Kept short so that recovery after a long outage takes seconds, not the last doubled delay.
RECONNECT_TIMEOUT_SECONDS = 3.0

_INSERT_FEEDBACK = """
INSERT INTO feedback (service, card, outcome, outcome_timestamp, accepted_suggestions,
    override_system, override_code, override_display, user_comment, received_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING
"""


class PostgresStorage(Storage):
    """:param timeout: longest wait for a connection, and the statement timeout, in seconds."""

    engine = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 5, timeout: float = 2.0) -> None:
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=timeout,
            check=ConnectionPool.check_connection,
            reconnect_timeout=RECONNECT_TIMEOUT_SECONDS,
            kwargs={
                "autocommit": True,  # transactions are explicit (conn.transaction())
                "connect_timeout": max(1, round(timeout)),
                "options": f"-c statement_timeout={int(timeout * 1000)}",
                "application_name": "hcc-cds",
            },
            name="hcc-cds",
            open=True,
        )
        self._migrated = False
        try:
            self._migrate()
        except StorageUnavailable as exc:
            # Start anyway and report not ready: the schema is brought up on the first call
            # that reaches the database (a replica may start before the database does).
            log.warning("database not reachable at start-up; migrations deferred: %s", exc)

    # --- issued cards and feedback ---------------------------------------------------------

    def record_cards(self, service: str, cards: Sequence[tuple[str, str]], issued_at: str) -> None:
        rows = [(uuid, service, kind, issued_at) for uuid, kind in cards]
        if not rows:
            return
        with self._connection() as connection, connection.transaction():
            # Only labels for the feedback report, written on every hook call: committed without
            # waiting for the WAL flush (a database crash may lose the last fraction of a second
            # of labels, never corrupt anything), as the SQLite engine does with NORMAL.
            # Feedback and the replay cache keep the default, durable commit.
            connection.execute("SET LOCAL synchronous_commit = off")
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO issued_cards (uuid, service, kind, issued_at)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    rows,
                )

    def add_feedback(self, rows: Sequence[FeedbackRow]) -> int:
        with self._connection() as connection, connection.transaction():
            return sum(connection.execute(_INSERT_FEEDBACK, astuple(row)).rowcount for row in rows)

    def feedback_counts(self) -> FeedbackCounts:
        with self._connection() as connection:
            # REPEATABLE READ: the three counts come from one snapshot.
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            try:
                with connection.transaction():
                    issued = connection.execute(COUNT_ISSUED).fetchall()
                    outcomes = connection.execute(COUNT_OUTCOMES).fetchall()
                    reasons = connection.execute(COUNT_REASONS).fetchall()
            finally:
                connection.isolation_level = None
        return FeedbackCounts(
            [(s, k, int(n)) for s, k, n in issued],
            [(s, k, int(a), int(o)) for s, k, a, o in outcomes],
            [(s, k, c, d, int(h), int(n)) for s, k, c, d, h, n in reasons],
        )

    # --- JWT replay cache ------------------------------------------------------------------

    def record_jti(self, iss: str, jti: str, keep_until: float) -> bool:
        # The primary key makes this atomic across replicas: a second inserter of the same
        # (iss, jti) waits for the first to commit, then inserts nothing (rowcount 0).
        sql = "INSERT INTO replay (iss, jti, exp) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
        return self._write(sql, (iss, jti, keep_until)) == 1

    def prune_jtis(self, now: float) -> int:
        return self._write("DELETE FROM replay WHERE exp < %s", (now,))

    # --- app sessions and PKCE states ------------------------------------------------------

    def save_session(self, session_id: str, data: str, expires_at: float) -> None:
        self._write(
            "INSERT INTO app_sessions (id, data, expires_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE"
            " SET data = excluded.data, expires_at = excluded.expires_at",
            (session_id, data, expires_at),
        )

    def load_session(self, session_id: str, now: float) -> str | None:
        sql = "SELECT data FROM app_sessions WHERE id = %s AND expires_at >= %s"
        row = self._fetch_one(sql, (session_id, now))
        return None if row is None else str(row[0])

    def delete_session(self, session_id: str) -> None:
        self._write("DELETE FROM app_sessions WHERE id = %s", (session_id,))

    def save_pkce_state(self, state: str, data: str, expires_at: float) -> bool:
        sql = (
            "INSERT INTO pkce_states (state, data, expires_at) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING"
        )
        return self._write(sql, (state, data, expires_at)) == 1

    def take_pkce_state(self, state: str, now: float) -> str | None:
        # One DELETE ... RETURNING: of two racing replicas only one gets the row.
        sql = "DELETE FROM pkce_states WHERE state = %s RETURNING data, expires_at"
        row = self._fetch_one(sql, (state,))
        return None if row is None or row[1] < now else str(row[0])

    def prune_app_state(self, now: float) -> int:
        with self._connection() as connection, connection.transaction():
            sessions = connection.execute("DELETE FROM app_sessions WHERE expires_at < %s", (now,))
            states = connection.execute("DELETE FROM pkce_states WHERE expires_at < %s", (now,))
            return sessions.rowcount + states.rowcount

    # --- operations ------------------------------------------------------------------------

    def ping(self) -> None:
        self._fetch_one("SELECT 1", ())

    def schema_version(self) -> int:
        row = self._fetch_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", ())
        return 0 if row is None else int(row[0])

    def close(self) -> None:
        self._pool.close()

    def _migrate(self) -> None:
        with self._raw_connection() as connection, connection.transaction():
            connection.execute(f"SET LOCAL statement_timeout = '{MIGRATION_STATEMENT_TIMEOUT}'")
            # Held until this transaction ends: a replica starting at the same moment waits
            # here, then finds the new version and applies nothing.
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            connection.execute(VERSION_TABLE)
            row = connection.execute(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version"
            ).fetchone()
            for migration in pending(int(row[0]) if row else 0):
                for statement in migration.postgres:
                    connection.execute(statement)  # type: ignore[call-overload]  # our own SQL
                connection.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, datetime.now(UTC).isoformat()),
                )
                log.info("schema migrated to version %d: %s", migration.version, migration.name)
        self._migrated = True

    # --- connections -----------------------------------------------------------------------

    def _write(self, sql: str, parameters: tuple[object, ...]) -> int:
        with self._connection() as connection:
            return connection.execute(sql, parameters).rowcount  # type: ignore[call-overload]

    def _fetch_one(self, sql: str, parameters: tuple[object, ...]) -> tuple[Any, ...] | None:
        with self._connection() as connection:
            return connection.execute(sql, parameters).fetchone()  # type: ignore[call-overload]

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if not self._migrated:  # the database was down at start-up
            self._migrate()
        with self._raw_connection() as connection:
            yield connection

    @contextmanager
    def _raw_connection(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._pool.connection() as connection:
                yield connection
        except psycopg.OperationalError as exc:
            # Refused, reset, shut down, timed out, or no connection within the pool timeout
            # (PoolTimeout). The pool discards a broken connection when it comes back.
            raise StorageUnavailable(f"PostgreSQL: {type(exc).__name__}") from exc
