"""Both storage engines keep the same promises (cds/storage/base.py), checked on real databases.

Each test runs on SQLite (a file) and on PostgreSQL (a real server, a fresh database). Where a
promise is about sharing, two engine objects on one database stand in for two replicas.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from cds.service.feedback import (
    Coding,
    FeedbackItem,
    FeedbackStore,
    Outcome,
    OverrideReason,
    ReasonCount,
    ReportRow,
)
from cds.storage import FeedbackRow, Storage, open_storage
from cds.storage.migrations import LATEST, MIGRATIONS

SERVICE = "hcc-assessment"
WHEN = datetime(2026, 11, 15, 9, 30, tzinfo=UTC)
NOW = 1_800_000_000.0
REASONS = "http://example.org/override"

Opener = Callable[[], Storage]


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request, tmp_path) -> Iterator[Opener]:
    """Opens engine objects on one database (each call: another 'replica'); all closed after."""
    if request.param == "sqlite":
        url, path = None, str(tmp_path / "cds.sqlite3")
    else:
        url, path = request.getfixturevalue("postgres_url"), ""
    opened: list[Storage] = []

    def open_one() -> Storage:
        opened.append(open_storage(url, path))
        return opened[-1]

    yield open_one
    for storage in opened:
        storage.close()


@pytest.fixture
def storage(opener) -> Storage:
    return opener()


def accepted(card: str, suggestion: str = "s1") -> FeedbackItem:
    return FeedbackItem(card, Outcome.ACCEPTED, WHEN, (suggestion,))


def overridden(card: str, code: str | None, comment: str | None = None) -> FeedbackItem:
    coding = None if code is None else Coding(REASONS, code, code.title())
    reason = OverrideReason(coding, comment)
    return FeedbackItem(card, Outcome.OVERRIDDEN, WHEN, (), reason)


# --- feedback and issued cards -------------------------------------------------------------------


def test_feedback_stored_once_and_reported_by_card_kind(storage):
    """Re-delivered feedback is stored once; the report counts per kind, reasons ranked."""
    store = FeedbackStore(storage)
    store.record_cards(SERVICE, [("a", "tace"), ("b", "tace"), ("c", "no_tace")])
    assert store.add(SERVICE, [accepted("a"), overridden("b", "contraindicated")]) == (2, 0)
    assert store.add(SERVICE, [accepted("a"), overridden("c", None, "prefers")]) == (1, 1)
    assert store.add(SERVICE, [overridden("zz", "other"), overridden("zz", "other")]) == (1, 1)
    assert store.report() == [
        ReportRow(SERVICE, "no_tace", 1, 0, 1, (ReasonCount("free text", 1),)),
        ReportRow(SERVICE, "tace", 2, 1, 1, (ReasonCount("contraindicated (Contraindicated)", 1),)),
        ReportRow(SERVICE, "unknown", 0, 0, 1, (ReasonCount("other (Other)", 1),)),
    ]


def test_a_card_keeps_its_first_kind(storage):
    """Recording a known uuid again (another replica, a retry) keeps its first service and kind."""
    store = FeedbackStore(storage)
    store.record_cards(SERVICE, [("a", "tace")])
    store.record_cards(SERVICE, [("a", "no_tace"), ("b", "tace")])
    assert [(row.kind, row.issued) for row in store.report()] == [("tace", 2)]


def test_two_replicas_share_one_report(opener):
    """Feedback written through two engine objects is one report, duplicates across them once."""
    first, second = FeedbackStore(opener()), FeedbackStore(opener())
    first.record_cards(SERVICE, [("a", "tace")])
    assert first.add(SERVICE, [accepted("a")]) == (1, 0)
    assert second.add(SERVICE, [accepted("a"), accepted("b")]) == (1, 1)
    assert (
        first.report()
        == second.report()
        == [
            ReportRow(SERVICE, "tace", 1, 1, 0),
            ReportRow(SERVICE, "unknown", 0, 1, 0),
        ]
    )


def test_concurrent_writers_on_two_replicas_lose_nothing(opener):
    """Eight threads over two engine objects, 40 records each: 320 stored, none twice."""
    stores = [FeedbackStore(opener()), FeedbackStore(opener())]

    def write(thread: int) -> list[tuple[int, int]]:
        store = stores[thread % 2]
        return [store.add(SERVICE, [accepted(f"t{thread}-{n}")]) for n in range(40)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [result for batch in pool.map(write, range(8)) for result in batch]
    assert results == [(1, 0)] * 320
    assert stores[0].report() == [ReportRow(SERVICE, "unknown", 0, 320, 0)]


def test_failed_batch_stores_nothing(storage):
    """A batch that fails part-way (a CHECK constraint) is rolled back as a whole."""
    good = FeedbackRow(SERVICE, "a", "accepted", "t", "[]", "", "", "", "", "r")
    bad = dataclasses.replace(good, card="b", outcome="maybe")
    with pytest.raises(Exception, match=r"(?i)check"):
        storage.add_feedback([good, bad])
    assert FeedbackStore(storage).report() == []


# --- JWT replay cache ----------------------------------------------------------------------------


def test_jti_recorded_once_per_issuer(storage):
    assert storage.record_jti("https://a.example", "j1", NOW) is True
    assert storage.record_jti("https://b.example", "j1", NOW) is True
    assert storage.record_jti("https://a.example", "j1", NOW) is False


def test_racing_replicas_accept_a_jti_once(opener):
    """Eight threads on two engine objects record one jti at once: exactly one records it."""
    engines = [opener(), opener()]
    barrier = threading.Barrier(8)

    def record(thread: int) -> bool:
        barrier.wait(timeout=30)
        return engines[thread % 2].record_jti("https://ehr.example", "contested", NOW)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(record, range(8)))
    assert results.count(True) == 1


def test_prune_forgets_only_expired_jtis(storage):
    storage.record_jti("i", "old", NOW - 1)
    storage.record_jti("i", "live", NOW + 100)
    assert storage.prune_jtis(NOW) == 1
    assert storage.record_jti("i", "old", NOW + 100) is True
    assert storage.record_jti("i", "live", NOW + 100) is False


# --- app sessions and PKCE states ----------------------------------------------------------------


def test_session_saved_replaced_expired_and_deleted(opener):
    """A session written by one replica is read by the other; replaced, expired, deleted."""
    first, second = opener(), opener()
    first.save_session("s1", json.dumps({"patient": "p"}), NOW + 60)
    assert json.loads(second.load_session("s1", NOW) or "null") == {"patient": "p"}
    second.save_session("s1", '{"v": 2}', NOW + 120)
    assert first.load_session("s1", NOW + 90) == '{"v": 2}'
    assert first.load_session("s1", NOW + 121) is None  # expired
    assert first.load_session("unknown", NOW) is None
    first.delete_session("s1")
    assert second.load_session("s1", NOW) is None
    first.delete_session("s1")  # unknown ids are ignored


def test_pkce_state_refuses_a_duplicate_and_is_taken_once(opener):
    """Two replicas race for one callback's state: exactly one gets it, then it is gone."""
    first, second = opener(), opener()
    assert first.save_pkce_state("st", '{"verifier": "v"}', NOW + 60) is True
    assert second.save_pkce_state("st", '{"verifier": "other"}', NOW + 60) is False
    barrier = threading.Barrier(8)

    def take(thread: int) -> str | None:
        barrier.wait(timeout=30)
        return (first, second)[thread % 2].take_pkce_state("st", NOW)

    with ThreadPoolExecutor(max_workers=8) as pool:
        taken = list(pool.map(take, range(8)))
    assert [data for data in taken if data is not None] == ['{"verifier": "v"}']


def test_expired_pkce_state_is_not_given_out(storage):
    storage.save_pkce_state("late", "x", NOW - 1)
    assert storage.take_pkce_state("late", NOW) is None
    assert storage.take_pkce_state("late", NOW - 10) is None  # and it was removed


def test_prune_app_state_deletes_only_expired(storage):
    storage.save_session("old", "x", NOW - 1)
    storage.save_session("live", "y", NOW + 60)
    storage.save_pkce_state("old", "x", NOW - 1)
    storage.save_pkce_state("live", "y", NOW + 60)
    assert storage.prune_app_state(NOW) == 2
    assert storage.load_session("live", NOW) == "y"
    assert storage.take_pkce_state("live", NOW) == "y"


# --- migrations ----------------------------------------------------------------------------------


def test_schema_is_at_the_latest_version(storage):
    assert storage.schema_version() == LATEST == len(MIGRATIONS)
    storage.ping()


def test_replicas_starting_at_once_migrate_once(opener):
    """Six engine objects opened at the same moment on an empty database: one history."""
    barrier = threading.Barrier(6)

    def start(_: int) -> int:
        barrier.wait(timeout=30)
        return opener().schema_version()

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(start, range(6))) == [LATEST] * 6
    assert _history(opener()) == [m.version for m in MIGRATIONS]


def _history(storage: Storage) -> list[int]:
    # Through the engine's own connection helpers: the test reads, never writes.
    if storage.engine == "sqlite":
        with storage._connection(storage._fast) as connection:  # type: ignore[attr-defined]
            rows = connection.execute("SELECT version FROM schema_version ORDER BY version")
            return [row[0] for row in rows]
    with storage._raw_connection() as connection:  # type: ignore[attr-defined]
        rows = connection.execute("SELECT version FROM schema_version ORDER BY version")
        return [row[0] for row in rows.fetchall()]


def test_sqlite_new_file_opened_by_many_at_once_never_answers_locked(tmp_path):
    """Switching a new file to WAL can be refused at once (SQLITE_BUSY, no busy wait) when two
    connections switch it together; each opener retries. The race is lost about one time in ten
    (measured without the retry), so a hundred new files make a regression all but certain to show.
    """
    for round_ in range(100):
        path = str(tmp_path / f"race{round_}.sqlite3")
        barrier = threading.Barrier(6)

        def start(_: int, path: str = path, barrier: threading.Barrier = barrier) -> Storage:
            barrier.wait(timeout=30)
            return open_storage(None, path)

        with ThreadPoolExecutor(max_workers=6) as pool:
            opened = list(pool.map(start, range(6)))
        assert [storage.schema_version() for storage in opened] == [LATEST] * 6
        for storage in opened:
            storage.close()


def test_sqlite_file_from_before_migrations_is_adopted(tmp_path):
    """A file written by the pre-migration code keeps its feedback and gains the new tables."""
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    for statement in MIGRATIONS[0].sqlite:  # exactly the old schema, without schema_version
        old.execute(statement)
    old.execute(
        "INSERT INTO feedback (service, card, outcome, outcome_timestamp, accepted_suggestions,"
        " override_system, override_code, override_display, user_comment, received_at)"
        " VALUES ('s', 'a', 'accepted', 't', '[]', '', '', '', '', 'r')"
    )
    old.commit()
    old.close()
    storage = open_storage(None, str(path))
    try:
        assert storage.schema_version() == LATEST
        assert FeedbackStore(storage).report() == [ReportRow("s", "unknown", 0, 1, 0)]
        storage.save_session("x", "y", NOW)  # a table of migration 2
    finally:
        storage.close()


def test_an_unknown_database_url_scheme_is_refused(tmp_path):
    """A typo in CDS_DATABASE_URL must not fall back to a local SQLite file silently."""
    with pytest.raises(ValueError, match="postgresql://"):
        open_storage("mysql://db/cds", str(tmp_path / "x.sqlite3"))
