"""Two ``cds serve`` replicas behind HAProxy on one real PostgreSQL: the issue-11 stack tests.

Every loop is bounded in count and time; every server listens on 127.0.0.1 on a free port.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
import requests

from cds.cli import main
from tests.api.requests_from_fixtures import hook_request
from tests.postgres_server import PostgresServer, running_postgres
from tests.replicas.stack import Balancer, Replica, replica_env, require_haproxy
from tests.service.jwt_helpers import ec_key, fresh_token, write_trusted_issuers

SERVICE = "hcc-assessment"
HOOK_PATH = f"/cds-services/{SERVICE}"
FEEDBACK_PATH = HOOK_PATH + "/feedback"
KEY = ec_key()
KID = "replica-tests"
CLIENTS = 8
RECORDS = 4000
BATCH = 10  # feedback items per request: 400 requests for 4,000 records
ATTEMPTS = 120  # per request, while a replica or the database is away (0.25 s apart)


@dataclass
class Stack:
    database: PostgresServer
    database_url: str
    replicas: list[Replica]
    balancer: Balancer

    def token(self, path: str) -> str:
        """A fresh JWT for a call through the balancer (aud: the public URL)."""
        return fresh_token(KEY, KID, self.balancer.url + path)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    require_haproxy()
    logs = tmp_path_factory.mktemp("stack-logs")
    issuers = write_trusted_issuers(logs / "issuers.json", KEY, KID)
    with running_postgres() as database:
        url = database.create_database("cds")
        balancer = Balancer([], logs)
        env = replica_env(url, balancer.url, issuers)
        balancer.replicas = [Replica(f"replica{n}", env, logs) for n in (1, 2)]
        # Both at once: their migrations meet at the advisory lock.
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(Replica.start, balancer.replicas))
        balancer.start()
        balancer.wait_until({"replica1": "UP", "replica2": "UP"})
        try:
            yield Stack(database, url, balancer.replicas, balancer)
        finally:
            balancer.stop()
            for replica in balancer.replicas:
                replica.stop()


# --- load ----------------------------------------------------------------------------------------


@dataclass
class Load:
    """What the clients saw: every status, and the records acknowledged with a 200."""

    statuses: Counter[int | str] = field(default_factory=Counter)
    acknowledged: set[str] = field(default_factory=set)
    stored: int = 0
    duplicates: int = 0
    bad_errors: list[str] = field(default_factory=list)  # a 5xx that is not an OperationOutcome
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: int | str, response: requests.Response | None = None) -> None:
        with self.lock:
            self.statuses[status] += 1
            if response is not None and response.status_code >= 500:
                try:
                    kind = response.json().get("resourceType")
                except ValueError:
                    kind = None
                if kind != "OperationOutcome":
                    self.bad_errors.append(f"{response.status_code}: {response.text[:200]}")

    def acked(self, cards: list[str], answer: dict[str, int]) -> None:
        with self.lock:
            self.acknowledged.update(cards)
            self.stored += answer["stored"]
            self.duplicates += answer["duplicates"]


def feedback_body(cards: list[str]) -> dict[str, Any]:
    items = []
    for n, card in enumerate(cards):
        item: dict[str, Any] = {"card": card, "outcomeTimestamp": "2026-11-15T10:00:00Z"}
        if n % 2:
            item |= {"outcome": "overridden", "overrideReason": {"userComment": "tumour board"}}
        else:
            item |= {"outcome": "accepted", "acceptedSuggestions": [{"id": "tace"}]}
        items.append(item)
    return {"feedback": items}


def post_until_acknowledged(
    stack: Stack, session: requests.Session, path: str, body: Any, load: Load
) -> requests.Response:
    """POST with a new token each attempt (as an EHR retries), until 200 or a non-5xx answer."""
    for _ in range(ATTEMPTS):
        try:
            response = session.post(
                stack.balancer.url + path,
                json=body,
                headers={"Authorization": f"Bearer {stack.token(path)}"},
                timeout=20,
            )
        except requests.ConnectionError:
            load.saw("connection error")
        else:
            load.saw(response.status_code, response)
            if response.status_code < 500:
                return response
        time.sleep(0.25)
    pytest.fail(f"{path}: no answer but errors after {ATTEMPTS} attempts: {load.statuses}")


def send_feedback(stack: Stack, run: str, load: Load, records: int = RECORDS) -> None:
    """``records`` feedback records from 8 clients in batches, each batch until acknowledged."""

    def client(number: int) -> None:
        with requests.Session() as session:
            for batch in range(records // CLIENTS // BATCH):
                cards = [f"{run}-{number}-{batch}-{n}" for n in range(BATCH)]
                response = post_until_acknowledged(
                    stack, session, FEEDBACK_PATH, feedback_body(cards), load
                )
                assert response.status_code == 200, response.text
                load.acked(cards, response.json())

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))


def stored_cards(stack: Stack, run: str) -> Counter[str]:
    """How often each card of a run is in the database (read directly, not through the service)."""
    with psycopg.connect(stack.database_url) as connection:
        rows = connection.execute("SELECT card FROM feedback WHERE card LIKE %s", (f"{run}-%",))
        return Counter(card for (card,) in rows.fetchall())


def when(condition: Callable[[], bool], action: Callable[[], None], seconds: float = 120) -> None:
    """Run ``action`` once ``condition`` holds (polled; bounded), on a thread of its own."""

    def watch() -> None:
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.02)
        action()

    threading.Thread(target=watch, daemon=True).start()


# --- tests ---------------------------------------------------------------------------------------


def test_a_token_accepted_by_one_replica_is_refused_by_the_other(stack):
    """The replay cache is shared: replica 2 refuses the jti replica 1 accepted."""
    token = stack.token(HOOK_PATH)
    first, second = (
        requests.post(
            replica.url + HOOK_PATH,
            json=hook_request("peng_2024_recurrence"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=20,
        )
        for replica in stack.replicas
    )
    assert first.status_code == 200
    assert first.json()["cards"][0]["extension"]["org.example.hcc-cds.card-kind"]
    assert second.status_code == 401
    # The client gets a generic 401; the reason is in the refusing replica's access line.
    assert "already been used" not in second.text
    assert "already been used" in stack.replicas[1].log.read_text()


def test_4000_records_from_8_clients_stored_once_in_one_report(stack, capsys):
    """Through the balancer: every record stored exactly once, and one report counts them all."""
    load = Load()
    send_feedback(stack, "steady", load)
    assert load.statuses == {200: RECORDS // BATCH}
    assert (load.stored, load.duplicates) == (RECORDS, 0)
    stored = stored_cards(stack, "steady")
    assert len(stored) == RECORDS and set(stored.values()) == {1}
    # Both replicas served part of the load, and the report (any replica's) is one.
    served = {name: int(row["stot"]) for name, row in stack.balancer.servers().items()}
    assert all(count > 0 for count in served.values()), served
    assert main(["feedback-report", "--database", stack.database_url]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    half = str(RECORDS // 2)
    assert [SERVICE, "unknown", "0", half, half] in rows  # accepted, overridden
    assert ["override", "reason:", "free", "text:", half] in rows


def test_sigkill_of_a_replica_during_load_loses_nothing_acknowledged(stack):
    """One replica is killed mid-load: the other takes the calls, every ack is in the database."""
    load, victim = Load(), stack.replicas[1]
    before = int(stack.balancer.servers()["replica1"]["stot"])
    when(lambda: len(load.acknowledged) >= RECORDS // 5, victim.kill)
    try:
        send_feedback(stack, "killed", load)
        stack.balancer.wait_until({"replica2": "DOWN", "replica1": "UP"})
        assert victim.process is not None and victim.process.returncode is not None
        stored = stored_cards(stack, "killed")
        assert load.acknowledged <= stored.keys()  # every acknowledged record is present
        assert len(load.acknowledged) == RECORDS and set(stored.values()) == {1}
        assert set(load.statuses) <= {200, 502, 503, "connection error"}, load.statuses
        assert not load.bad_errors
        # After the kill the survivor served the rest: well over half of this run's requests.
        after = int(stack.balancer.servers()["replica1"]["stot"])
        assert after - before > RECORDS // BATCH // 2
    finally:
        victim.start()
        stack.balancer.wait_until({"replica1": "UP", "replica2": "UP"})


def test_database_restart_during_load_fails_closed_and_recovers(stack):
    """PostgreSQL stopped and started mid-load: only the documented 503, no replay accepted,
    no acknowledged record lost, and both replicas back in rotation without a restart."""
    load, replays, hooks = Load(), Load(), Load()
    replayed = stack.token(HOOK_PATH)
    first = requests.post(
        stack.balancer.url + HOOK_PATH,
        json=hook_request("peng_2024_recurrence"),
        headers={"Authorization": f"Bearer {replayed}"},
        timeout=20,
    )
    assert first.status_code == 200
    outage_over = threading.Event()

    def outage() -> None:
        stack.database.stop()
        time.sleep(3)
        stack.database.start()
        outage_over.set()

    def replay_until_recovered() -> None:
        with requests.Session() as session:
            for _ in range(400):  # about 20 s at most
                response = session.post(
                    stack.balancer.url + HOOK_PATH,
                    json=hook_request("peng_2024_recurrence"),
                    headers={"Authorization": f"Bearer {replayed}"},
                    timeout=20,
                )
                replays.saw(response.status_code, response)
                if outage_over.is_set() and response.status_code == 401:
                    return
                time.sleep(0.05)

    def hook_calls() -> None:
        with requests.Session() as session:
            for _ in range(12):
                body = hook_request("peng_2024_recurrence")
                response = post_until_acknowledged(stack, session, HOOK_PATH, body, hooks)
                assert response.status_code == 200

    when(lambda: len(load.acknowledged) >= RECORDS // 10, outage)
    with ThreadPoolExecutor(3) as pool:
        watchers = [pool.submit(replay_until_recovered), pool.submit(hook_calls)]
        send_feedback(stack, "outage", load, records=RECORDS // 2)
        for watcher in watchers:
            watcher.result(timeout=120)
    assert outage_over.wait(timeout=60)
    # The documented 503 only, always an OperationOutcome; never a replay accepted.
    assert set(load.statuses) <= {200, 503} and 503 in load.statuses, load.statuses
    assert set(hooks.statuses) <= {200, 503}, hooks.statuses
    assert set(replays.statuses) <= {401, 503} and 401 in replays.statuses, replays.statuses
    assert not (load.bad_errors or hooks.bad_errors or replays.bad_errors)
    stored = stored_cards(stack, "outage")
    assert load.acknowledged == stored.keys() and len(stored) == RECORDS // 2
    stack.balancer.wait_until({"replica1": "UP", "replica2": "UP"})
