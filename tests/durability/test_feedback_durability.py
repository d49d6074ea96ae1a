"""Feedback durability against a real ``cds serve`` (waitress workers, SQLite WAL).

Every feedback batch the service acknowledges (200 with ``stored``) must be in the SQLite file:
under concurrent writers from both worker processes, and after the whole process group is
SIGKILLed mid-write and a new server is started on the same file. No timing is asserted; every
timeout below is only a guard against a hang.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

SERVICE = "hcc-assessment"
Record = dict[str, Any]  # one CDS Hooks feedback entry
CDS = Path(sys.executable).with_name("cds")
START_GUARD_SECONDS = 60  # hang guards only, never a speed requirement
REQUEST_GUARD_SECONDS = 30
STOP_GUARD_SECONDS = 30

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="needs POSIX process groups and Linux /proc"
)


# --- a real `cds serve` in its own process group ---------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    @property
    def feedback_url(self) -> str:
        return f"{self.base}/cds-services/{SERVICE}/feedback"

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def group_members(pgid: int) -> list[tuple[int, str]]:
    """``(pid, state)`` of every process in the group that is not a zombie (Linux /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append((int(entry.name), state))
    return members


def kill_group(server: Server) -> None:
    """SIGKILL the supervisor and its workers (the whole session/process group)."""
    pgid = server.process.pid  # start_new_session: the master leads its own group
    with suppress(ProcessLookupError):  # already gone
        os.killpg(pgid, signal.SIGKILL)
    server.process.wait(timeout=STOP_GUARD_SECONDS)
    for _ in range(STOP_GUARD_SECONDS * 10):  # orphaned workers are reaped by init, not us
        if not group_members(pgid):
            return
        time.sleep(0.1)
    pytest.fail(f"processes of group {pgid} survived SIGKILL: {group_members(pgid)}")


def stop_gracefully(server: Server) -> None:
    """SIGTERM to the supervisor (a graceful shutdown), then wait for it."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=STOP_GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        kill_group(server)
        pytest.fail("cds serve did not stop on SIGTERM: " + server.log_tail())


@contextmanager
def cds_serve(database: Path, log: Path) -> Iterator[Server]:
    """Run ``cds serve`` on a free loopback port; whatever happens, nothing is left running."""
    port = free_port()
    env = {
        **os.environ,
        "CDS_AUTH_DISABLED": "true",
        "CDS_DATABASE": str(database),
        "CDS_AS_OF": "2026-11-15",
        "CDS_WORKERS": "2",
        "CDS_THREADS": "4",
        "CDS_LOG_LEVEL": "WARNING",  # one INFO line per feedback call would only fill the log
    }
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [str(CDS), "serve", "--bind", f"127.0.0.1:{port}"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_healthy(server)
        yield server
    finally:
        if process.poll() is None or group_members(process.pid):
            kill_group(server)


def wait_healthy(server: Server) -> None:
    """Poll /healthz until it answers 200 (bounded by START_GUARD_SECONDS)."""
    deadline = time.monotonic() + START_GUARD_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail("cds serve exited at start: " + server.log_tail())
        try:
            # The master listens before its workers have imported the app: a probe may be
            # accepted and then wait (a read timeout), not only be refused.
            if requests.get(server.base + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail("cds serve did not answer /healthz: " + server.log_tail())


# --- feedback records ------------------------------------------------------------------------


def record(sequence: int) -> Record:
    """One feedback entry for a card no other entry names; accepted and overridden alternate."""
    card = str(uuid.uuid4())
    entry: Record = {
        "card": card,
        "outcomeTimestamp": f"2026-11-15T{sequence // 3600 % 24:02d}:"
        f"{sequence // 60 % 60:02d}:{sequence % 60:02d}Z",
    }
    if sequence % 2:
        entry["outcome"] = "overridden"
        entry["overrideReason"] = {"userComment": f"durability comment {card}"}
    else:
        entry["outcome"] = "accepted"
        entry["acceptedSuggestions"] = [{"id": f"suggestion-{card}"}]
    return entry


def batch(size: int, start: int) -> list[Record]:
    return [record(start + offset) for offset in range(size)]


def stored_as(entry: Record) -> tuple[str, str, str]:
    """The (outcome, accepted_suggestions, user_comment) columns this entry must be stored as."""
    if entry["outcome"] == "accepted":
        ids = [s["id"] for s in entry["acceptedSuggestions"]]
        return "accepted", json.dumps(sorted(ids)), ""
    return "overridden", "[]", entry["overrideReason"]["userComment"]


@contextmanager
def read_only(database: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        yield connection


def feedback_rows(database: Path) -> tuple[dict[str, tuple[str, str, str]], int, str]:
    """``({card: (outcome, suggestions, comment)}, row count, integrity_check)`` read-only."""
    with read_only(database) as db:
        integrity = "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))
        rows = db.execute(
            "SELECT card, outcome, accepted_suggestions, user_comment FROM feedback"
            " WHERE service = ?",
            (SERVICE,),
        ).fetchall()
        total = db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    assert total == len(rows), "feedback stored under a service that was never called"
    return {card: (o, s, c) for card, o, s, c in rows}, len(rows), integrity


def post(session: requests.Session, url: str, entries: list[Record]) -> requests.Response:
    return session.post(url, json={"feedback": entries}, timeout=REQUEST_GUARD_SECONDS)


def answer_of(response: requests.Response) -> tuple[int, Any]:
    """``(status, JSON body)``, or the body's text when it is not JSON."""
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text[:500]


# --- 1. concurrent writers -------------------------------------------------------------------

CLIENTS = 8
REQUESTS_PER_CLIENT = 50
RECORDS_PER_REQUEST = 10


def test_concurrent_writers_store_every_record_exactly_once(tmp_path):
    """8 concurrent clients' 4,000 unique records are all acknowledged and stored exactly once."""
    database = tmp_path / "cds.sqlite3"
    start = threading.Barrier(CLIENTS, timeout=START_GUARD_SECONDS)

    def client(number: int, url: str) -> tuple[list[list[Record]], list[tuple[int, Any]]]:
        sent, answers = [], []
        with requests.Session() as session:
            start.wait()  # all clients begin together
            for index in range(REQUESTS_PER_CLIENT):
                entries = batch(RECORDS_PER_REQUEST, (number * REQUESTS_PER_CLIENT + index) * 10)
                answers.append(answer_of(post(session, url, entries)))
                sent.append(entries)
        return sent, answers

    with cds_serve(database, tmp_path / "serve.log") as server:
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(client, range(CLIENTS), [server.feedback_url] * CLIENTS))
        batches = [entries for sent, _ in results for entries in sent]
        answers = [answer for _, answered in results for answer in answered]
        with requests.Session() as session:
            redelivered = answer_of(post(session, server.feedback_url, batches[0]))
        stop_gracefully(server)

    sent = {entry["card"]: stored_as(entry) for entries in batches for entry in entries}
    assert len(sent) == CLIENTS * REQUESTS_PER_CLIENT * RECORDS_PER_REQUEST == 4000
    failed = [answer for answer in answers if answer[0] != 200]
    assert not failed, f"{len(failed)} non-200 answers, e.g. {failed[:3]}"
    assert sum(body["stored"] for _, body in answers) == len(sent)
    assert all(body["duplicates"] == 0 for _, body in answers)
    assert redelivered == (200, {"stored": 0, "duplicates": RECORDS_PER_REQUEST})

    stored, count, integrity = feedback_rows(database)
    assert integrity == "ok"
    assert count == len(stored) == len(sent), "a card stored twice or a record missing"
    assert stored == sent  # every record, with its outcome, suggestions and comment


# --- 2. SIGKILL while writing ----------------------------------------------------------------

WRITERS = 6
RECORDS_PER_BATCH = 5
WRITE_SECONDS = 1.5  # kill after this long of writing (once MIN_ACKED batches are acknowledged)
MIN_ACKED, MAX_ACKED = 30, 600  # ... or as soon as MAX_ACKED batches are acknowledged
MAX_BATCHES_PER_WRITER = 5000  # bound on each writer's loop


@dataclass
class Writer:
    """One client thread's record of what it sent and what the server acknowledged."""

    number: int
    attempted: list[list[Record]] = field(default_factory=list)
    acknowledged: list[list[Record]] = field(default_factory=list)
    anomalies: list[tuple[int, Any]] = field(default_factory=list)
    ended_by: str = ""

    def run(self, url: str) -> None:
        """POST unique batches until the connection fails (the kill) or the loop bound."""
        with requests.Session() as session:
            for index in range(MAX_BATCHES_PER_WRITER):
                entries = batch(RECORDS_PER_BATCH, self.number * MAX_BATCHES_PER_WRITER + index)
                self.attempted.append(entries)
                try:
                    answer = answer_of(post(session, url, entries))
                except requests.RequestException as exc:
                    self.ended_by = type(exc).__name__
                    return
                if answer == (200, {"stored": RECORDS_PER_BATCH, "duplicates": 0}):
                    self.acknowledged.append(entries)
                else:
                    self.anomalies.append(answer)
        self.ended_by = "loop bound"


def write_until_kill_point(writers: list[Writer], threads: list[threading.Thread]) -> None:
    """Return once the writers have written for WRITE_SECONDS or MAX_ACKED batches are acked.

    A stall (no acknowledgement for REQUEST_GUARD_SECONDS) also returns: a hang guard only.
    """
    started = last_progress = time.monotonic()
    seen = 0
    while any(thread.is_alive() for thread in threads):
        acked, now = sum(len(w.acknowledged) for w in writers), time.monotonic()
        if acked >= MAX_ACKED or (acked >= MIN_ACKED and now - started >= WRITE_SECONDS):
            return
        if acked > seen:
            seen, last_progress = acked, now
        elif now - last_progress > REQUEST_GUARD_SECONDS:
            return
        time.sleep(0.01)


def test_sigkill_loses_no_acknowledged_feedback(tmp_path):
    """Every batch acknowledged before a mid-write SIGKILL of the server is there after restart."""
    database = tmp_path / "cds.sqlite3"
    log = tmp_path / "serve.log"
    writers = [Writer(number) for number in range(WRITERS)]

    with cds_serve(database, log) as server:
        threads = [
            threading.Thread(target=w.run, args=(server.feedback_url,), daemon=True)
            for w in writers
        ]
        try:
            for thread in threads:
                thread.start()
            write_until_kill_point(writers, threads)
        finally:
            kill_group(server)  # the writers are still posting: some batches are in flight
            for thread in threads:
                thread.join(timeout=REQUEST_GUARD_SECONDS)
        assert not any(thread.is_alive() for thread in threads), "a writer hung after the kill"

    acknowledged = [entries for w in writers for entries in w.acknowledged]
    attempted = [entry for w in writers for entries in w.attempted for entry in entries]
    anomalies = [answer for w in writers for answer in w.anomalies]
    assert not anomalies, f"answers other than a full store before the kill: {anomalies[:3]}"
    assert len(acknowledged) >= MIN_ACKED, "writers stalled: " + log.read_text()[-3000:]
    assert all(w.ended_by not in ("", "loop bound") for w in writers), "a writer outlived the kill"

    # The file exactly as the crash left it (WAL and -shm still there) is a sound database.
    with read_only(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    with cds_serve(database, log) as server:  # a new server on the crashed file
        # Checked before any POST: a re-delivery would store a lost record again and hide it.
        stored, count, integrity = feedback_rows(database)
        assert integrity == "ok"
        assert count == len(stored), "a card stored twice"
        lost = [e["card"] for entries in acknowledged for e in entries if e["card"] not in stored]
        assert not lost, f"{len(lost)} acknowledged records lost, e.g. {lost[:3]}"
        assert all(stored[e["card"]] == stored_as(e) for b in acknowledged for e in b)
        sent = {entry["card"]: stored_as(entry) for entry in attempted}
        assert all(sent.get(card) == row for card, row in stored.items()), "a record nobody sent"

        # The restarted service sees the acknowledged batches as delivered and takes new ones.
        with requests.Session() as session:
            redelivered = [
                answer_of(post(session, server.feedback_url, acknowledged[i])) for i in (0, -1)
            ]
            fresh = batch(RECORDS_PER_BATCH, 10**8)
            after_restart = answer_of(post(session, server.feedback_url, fresh))
        stop_gracefully(server)
    assert redelivered == [(200, {"stored": 0, "duplicates": RECORDS_PER_BATCH})] * 2
    assert after_restart == (200, {"stored": RECORDS_PER_BATCH, "duplicates": 0})

    final, final_count, integrity = feedback_rows(database)
    assert integrity == "ok"
    assert final_count == len(final) == count + RECORDS_PER_BATCH

    # The operator's view agrees: `cds feedback-report` counts every stored record.
    report = subprocess.run(
        [str(CDS), "feedback-report", "--database", str(database)],
        capture_output=True,
        text=True,
        timeout=STOP_GUARD_SECONDS,
        check=True,
    ).stdout
    rows = [line.split() for line in report.splitlines()[2:] if not line.startswith(" ")]
    assert [(r[0], r[1]) for r in rows] == [(SERVICE, "unknown")]
    assert int(rows[0][3]) + int(rows[0][4]) == final_count
