"""PostgreSQL down or restarting: calls fail closed with 503, nothing acknowledged is lost, and
the same process recovers by itself when the database is back (a real server, stopped and
started by the test; it has its own server so the outages disturb no other test).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from cds import create_app
from cds.service.feedback import FeedbackStore
from cds.storage import StorageUnavailable, open_storage
from tests.api.conftest import app_config
from tests.api.requests_from_fixtures import hook_request
from tests.postgres_server import PostgresServer, running_postgres
from tests.service.jwt_helpers import ec_key, fresh_token, write_trusted_issuers
from tests.storage.test_storage_contract import SERVICE, accepted

TIMEOUT = 1.0  # the engine's connection and statement timeout in these tests
HOOK = "/cds-services/hcc-assessment"
KEY = ec_key()
KID = "outage-test"


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with running_postgres() as started:
        yield started


@pytest.fixture
def url(server) -> Iterator[str]:
    url = server.create_database(f"outage_{time.monotonic_ns()}")
    yield url
    if not _running(server):  # a failed test left it stopped
        server.start()


def _running(server: PostgresServer) -> bool:
    return (server.data / "postmaster.pid").exists()


def wait_for(check, seconds=20.0):
    """Call ``check`` until it stops raising StorageUnavailable (bounded: then re-raise)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except StorageUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def test_outage_fails_within_the_timeout_and_recovers_without_reopening(server, url):
    """Acknowledged rows survive a restart; during it each call fails fast; then all works."""
    storage = open_storage(url, "", timeout=TIMEOUT)
    store = FeedbackStore(storage)
    try:
        assert store.add(SERVICE, [accepted("before")]) == (1, 0)
        assert storage.record_jti("iss", "before", time.time() + 60) is True
        server.stop()
        for call in (
            storage.ping,
            lambda: storage.record_jti("iss", "during", time.time() + 60),
            lambda: store.add(SERVICE, [accepted("during")]),
        ):
            started = time.monotonic()
            with pytest.raises(StorageUnavailable):
                call()
            assert time.monotonic() - started < 10 * TIMEOUT  # bounded, never a hang
        server.start()
        wait_for(storage.ping)  # the same object: stale pooled connections are replaced
        assert storage.record_jti("iss", "before", time.time() + 60) is False  # still known
        assert store.add(SERVICE, [accepted("after"), accepted("before")]) == (1, 1)
        assert store.report()[0].accepted == 2  # "during" was refused, never half-stored
    finally:
        storage.close()


def test_replica_started_before_the_database_migrates_when_it_comes(server, url):
    """Opening the engine with the database down does not crash; the first call migrates."""
    server.stop()
    storage = open_storage(url, "", timeout=TIMEOUT)
    try:
        with pytest.raises(StorageUnavailable):
            storage.ping()
        server.start()
        wait_for(storage.ping)
        assert storage.schema_version() >= 2
        assert storage.record_jti("iss", "j", time.time() + 60) is True
    finally:
        storage.close()


@pytest.fixture
def app(tmp_path, url):
    issuers = write_trusted_issuers(tmp_path / "issuers.json", KEY, KID)
    config = app_config(
        tmp_path,
        AUTH_DISABLED=False,
        PUBLIC_BASE_URL="http://localhost",  # the audience the tokens below name
        TRUSTED_ISSUERS_FILE=str(issuers),
        DATABASE_URL=url,
        DATABASE_TIMEOUT_SECONDS=TIMEOUT,
    )
    app = create_app(config)
    yield app
    app.extensions["hcc_cds"].storage.close()


def call(client, path, body, token):
    return client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


def assert_unavailable(response):
    """The documented answer: 503, a FHIR OperationOutcome, and when to retry."""
    assert response.status_code == 503
    assert response.mimetype == "application/fhir+json"
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert response.get_json()["issue"][0]["code"] == "transient"
    assert int(response.headers["Retry-After"]) > 0


def wait_until_ready(client, seconds=20.0):
    """Poll /readyz as a balancer would (bounded); the last answer's body."""
    deadline = time.monotonic() + seconds
    while (response := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.25)
    return response.get_json()


def test_service_fails_closed_while_the_database_is_down(server, app):
    """No token is accepted without its replay check; readiness says so; then it recovers."""
    client = app.test_client()
    audience = "http://localhost" + HOOK
    used = fresh_token(KEY, KID, audience)
    assert call(client, HOOK, hook_request("peng_2024_recurrence"), used).status_code == 200
    server.stop()
    pending = fresh_token(KEY, KID, audience)
    assert_unavailable(call(client, HOOK, hook_request("peng_2024_recurrence"), pending))
    assert_unavailable(call(client, HOOK, hook_request("peng_2024_recurrence"), used))
    feedback = {"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp":
                "2026-11-15T10:00:00Z", "overrideReason": {"userComment": "no"}}]}  # fmt: skip
    feedback_url = HOOK + "/feedback"
    assert_unavailable(
        call(
            client, feedback_url, feedback, fresh_token(KEY, KID, "http://localhost" + feedback_url)
        )
    )
    assert_unavailable(client.get("/readyz"))
    assert client.get("/healthz").status_code == 200  # alive: a restart would not help
    server.start()
    assert wait_until_ready(client) == {"status": "ready", "database": "postgresql"}
    # The refused call's token was never recorded, so the client's retry is accepted once.
    assert call(client, HOOK, hook_request("peng_2024_recurrence"), pending).status_code == 200
    assert call(client, HOOK, hook_request("peng_2024_recurrence"), pending).status_code == 401
    assert call(client, HOOK, hook_request("peng_2024_recurrence"), used).status_code == 401
