"""Versioned schema migrations, one list for both engines.

Each migration has a version, a name and its statements in each dialect; an engine applies, in
one transaction, every migration newer than the ``schema_version`` table says, while holding a
lock that makes a second process starting at the same moment wait and then find nothing to do
(SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level advisory lock).

Never edit a released migration: add the next one. Version 1 is the schema that SQLite files
had before migrations existed, written with ``IF NOT EXISTS`` so those files are adopted as is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)

# Absent optional feedback values are stored as '' (not NULL) because both engines treat NULLs
# as distinct in a UNIQUE constraint, which would let duplicate deliveries through.
_FEEDBACK_COLUMNS = """
    service TEXT NOT NULL,
    card TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    outcome_timestamp TEXT NOT NULL,
    accepted_suggestions TEXT NOT NULL,
    override_system TEXT NOT NULL,
    override_code TEXT NOT NULL,
    override_display TEXT NOT NULL,
    user_comment TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (service, card, outcome, outcome_timestamp, accepted_suggestions,
            override_system, override_code, user_comment)
"""

_ISSUED_CARDS = """
CREATE TABLE IF NOT EXISTS issued_cards (
    uuid TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    kind TEXT NOT NULL,
    issued_at TEXT NOT NULL
)"""

# Feedback with its card's kind, known only if this store issued the card for the same service.
_RATED_FEEDBACK = """rated_feedback AS
SELECT f.service AS service, COALESCE(c.kind, 'unknown') AS kind, f.outcome AS outcome,
       f.override_code AS code, f.override_display AS display, f.user_comment AS comment
FROM feedback AS f LEFT JOIN issued_cards AS c ON c.uuid = f.card AND c.service = f.service"""

_REPLAY = (
    "CREATE TABLE IF NOT EXISTS replay ("
    " iss TEXT NOT NULL, jti TEXT NOT NULL, exp {real} NOT NULL, PRIMARY KEY (iss, jti))"
)

_APP_STATE = (
    "CREATE TABLE IF NOT EXISTS app_sessions ("
    " id TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at {real} NOT NULL)",
    "CREATE INDEX IF NOT EXISTS app_sessions_expiry ON app_sessions (expires_at)",
    "CREATE TABLE IF NOT EXISTS pkce_states ("
    " state TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at {real} NOT NULL)",
    "CREATE INDEX IF NOT EXISTS pkce_states_expiry ON pkce_states (expires_at)",
    "CREATE INDEX IF NOT EXISTS replay_expiry ON replay (exp)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "issued cards, feedback, replay cache",
        sqlite=(
            _ISSUED_CARDS,
            f"CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY, {_FEEDBACK_COLUMNS})",
            f"CREATE VIEW IF NOT EXISTS {_RATED_FEEDBACK}",
            _REPLAY.format(real="REAL"),
        ),
        postgres=(
            _ISSUED_CARDS,
            f"CREATE TABLE IF NOT EXISTS feedback (id BIGSERIAL PRIMARY KEY, {_FEEDBACK_COLUMNS})",
            f"CREATE OR REPLACE VIEW {_RATED_FEEDBACK}",
            _REPLAY.format(real="DOUBLE PRECISION"),
        ),
    ),
    Migration(
        2,
        "work-up app sessions and PKCE states; replay expiry index",
        sqlite=tuple(statement.format(real="REAL") for statement in _APP_STATE),
        postgres=tuple(statement.format(real="DOUBLE PRECISION") for statement in _APP_STATE),
    ),
)

LATEST = MIGRATIONS[-1].version


def pending(current: int) -> tuple[Migration, ...]:
    """The migrations newer than ``current``, oldest first."""
    return tuple(migration for migration in MIGRATIONS if migration.version > current)


# The report's queries, the same text on both engines (CASE, not SQLite's boolean sums).
COUNT_ISSUED = "SELECT service, kind, COUNT(*) FROM issued_cards GROUP BY service, kind"

COUNT_OUTCOMES = """
SELECT service, kind,
       SUM(CASE WHEN outcome = 'accepted' THEN 1 ELSE 0 END),
       SUM(CASE WHEN outcome = 'overridden' THEN 1 ELSE 0 END)
FROM rated_feedback GROUP BY service, kind
"""

COUNT_REASONS = """
SELECT service, kind, code, display, CASE WHEN comment <> '' THEN 1 ELSE 0 END, COUNT(*)
FROM rated_feedback WHERE outcome = 'overridden'
GROUP BY service, kind, code, display, CASE WHEN comment <> '' THEN 1 ELSE 0 END
"""
