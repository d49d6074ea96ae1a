"""The app's sessions and pending authorization requests keep their promises on both storage
engines (SQLite, and PostgreSQL where a server runs here: tests/conftest.py ``postgres_url``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cds.app.sessions import PENDING_SECONDS, SessionStore, digest
from cds.storage import Storage, open_storage


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request, tmp_path) -> Iterator[Storage]:
    if request.param == "sqlite":
        opened = open_storage(None, str(tmp_path / "cds.sqlite3"))
    else:
        opened = open_storage(request.getfixturevalue("postgres_url"), "")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> list[float]:
    return [1_800_000_000.0]


@pytest.fixture
def store(storage, clock) -> SessionStore:
    return SessionStore(storage, 60, lambda: clock[0])


def test_only_a_digest_of_the_id_is_stored(store, storage, clock):
    session_id = store.create({"access_token": "abc"})
    assert storage.load_session(session_id, clock[0]) is None  # the id itself is no key
    assert storage.load_session(digest(session_id), clock[0]) is not None
    assert store.load(session_id) == {"access_token": "abc"}
    assert store.load("unknown") is None


def test_a_session_ends_after_its_lifetime_and_a_save_extends_it(store, clock):
    session_id = store.create({"n": 1})
    clock[0] += 50
    store.save(session_id, {"n": 2})
    clock[0] += 50
    assert store.load(session_id) == {"n": 2}
    clock[0] += 11
    assert store.load(session_id) is None


def test_delete_ends_a_session(store):
    session_id = store.create({"n": 1})
    store.delete(session_id)
    assert store.load(session_id) is None


def test_a_pending_request_is_taken_once_and_only_by_its_session(store):
    mine, other = store.create({}), store.create({})
    store.put_pending(mine, "s1", {"verifier": "v"})
    assert store.take_pending(other, "s1") is None  # another session's state: refused…
    store.put_pending(mine, "s2", {"verifier": "w"})
    assert store.take_pending(mine, "s2") == {"verifier": "w"}
    assert store.take_pending(mine, "s2") is None  # …and a state is never taken twice
    assert store.take_pending(mine, "s1") is None  # the refused one was consumed, not kept


def test_a_pending_request_expires(store, clock):
    mine = store.create({})
    store.put_pending(mine, "s", {"verifier": "v"})
    clock[0] += PENDING_SECONDS + 1
    assert store.take_pending(mine, "s") is None


def test_a_duplicate_state_is_refused(store):
    mine = store.create({})
    store.put_pending(mine, "s", {})
    with pytest.raises(ValueError, match="duplicate"):
        store.put_pending(mine, "s", {})


def test_another_replica_finishes_the_launch(storage, clock, tmp_path, request):
    """Two store objects on one database: the callback may reach another replica."""
    first = SessionStore(storage, 60, lambda: clock[0])
    session_id = first.create({"iss": "https://fhir.example"})
    first.put_pending(session_id, "s", {"verifier": "v"})
    second = SessionStore(storage, 60, lambda: clock[0])
    assert second.load(session_id) == {"iss": "https://fhir.example"}
    assert second.take_pending(session_id, "s") == {"verifier": "v"}
