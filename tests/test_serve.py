"""``cds serve`` (the Dockerfile's start command) over real HTTP on loopback.

It answers hook calls; it refuses to start, in one line with exit status 2, when it is not
configured; the front server's limits answer with OperationOutcomes; and slow clients or a slow
FHIR server do not take it down. Time bounds here are generous availability bounds (the 1 s
figures are the benchmark's, BENCHMARKS.md), every loop is bounded, every socket is loopback.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.api.requests_from_fixtures import hook_request, prefetch_of
from tests.faults.misbehaving_fhir import MisbehavingFhirServer

CDS = Path(sys.executable).with_name("cds")
ROOT = Path(__file__).resolve().parent.parent
URL = "/cds-services/hcc-assessment"
MAX_BYTES = 1024 * 1024
DEADLINE = 2.0
DEV_ENV = {
    "CDS_AUTH_DISABLED": "true",
    "CDS_AS_OF": '"2026-11-15"',
    "CDS_WORKERS": "2",
    "CDS_MAX_REQUEST_BYTES": str(MAX_BYTES),
    "CDS_DEADLINE_SECONDS": str(DEADLINE),
    "CDS_FHIR_TIMEOUT_SECONDS": "10",
    "CDS_FHIR_ALLOW_LOOPBACK_HTTP": "true",
    "CDS_APP_DEMO": "true",  # as scripts/demo runs it
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    return {**env, **overrides}


class Served:
    def __init__(self, base: str, log: Path) -> None:
        self.base, self.log = base, log

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def cds_serve(tmp: Path, **env: str) -> Iterator[Served]:
    port = free_port()
    log = tmp / "serve.log"
    environment = clean_env(**{**DEV_ENV, "CDS_DATABASE": str(tmp / "cds.sqlite3"), **env})
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(CDS), "serve", "--bind", f"127.0.0.1:{port}"],
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # up to 30 s for the workers to start on a loaded machine
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet
                time.sleep(0.1)
        else:
            pytest.fail("cds serve did not start: " + log.read_text()[-2000:])
        yield Served(base, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def fhir():
    with MisbehavingFhirServer(prefetch_of("peng_2024_recurrence")["patient"]) as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with cds_serve(tmp_path_factory.mktemp("serve")) as served:
        yield served


def post_hook(base: str, timeout: float = 10, **extra) -> requests.Response:
    return requests.post(
        base + URL, json=hook_request("peng_2024_recurrence", **extra), timeout=timeout
    )


# --- it answers ----------------------------------------------------------------------------


def test_serve_answers_health_and_discovery(server):
    """The server answers /healthz and discovery."""
    assert requests.get(server.base + "/healthz", timeout=5).json() == {"status": "ok"}
    assert len(requests.get(server.base + "/cds-services", timeout=5).json()["services"]) == 3


def test_serve_returns_cards_for_a_fixture_request(server):
    """A patient-view call over real HTTP returns the expected card, not to be cached."""
    response = post_hook(server.base)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    card = response.json()["cards"][0]
    assert card["extension"]["org.example.hcc-cds.card-kind"] == "tace_plus_sorafenib"


def test_one_access_line_per_request_without_patient_data(server):
    """Each call leaves one line: method, route, status, duration, service, hookInstance."""
    request = hook_request("peng_2024_recurrence")
    requests.post(server.base + URL, json=request, timeout=10)
    requests.post(server.base + "/cds-services/nope", json=request, timeout=10)
    lines = [line for line in server.log_text().splitlines() if request["hookInstance"] in line]
    assert len(lines) == 1  # the 404 is refused before the body is read
    route = "route='/cds-services/<service_id>'"
    assert re.search(rf"method='POST' {route} status=200 ms=\d+", lines[0])
    assert "service='hcc-assessment'" in lines[0]
    assert "status=404" in server.log_text() and "service='nope'" in server.log_text()
    patient = prefetch_of("peng_2024_recurrence")["patient"]
    assert patient["id"] not in server.log_text()


# --- it refuses to start unconfigured ------------------------------------------------------


def run_serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CDS), "serve", "--bind", f"127.0.0.1:{free_port()}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def dockerfile_env() -> dict[str, str]:
    """The ENV lines of the Dockerfile (with the database in a writable place)."""
    text = (ROOT / "Dockerfile").read_text()
    block = re.search(r"^ENV (.*?)(?:\n(?!\s)|\Z)", text, re.M | re.S).group(1)  # type: ignore[union-attr]
    return dict(re.findall(r"(CDS_\w+)=(\S+)", block))


def test_docker_image_refuses_to_start_until_configured(tmp_path):
    """The Dockerfile's settings alone: one line naming what to set, exit 2, never auth off."""
    env = dockerfile_env()
    assert env.get("CDS_AUTH_DISABLED", "false") == "false"
    env["CDS_DATABASE"] = str(tmp_path / "db.sqlite3")
    done = run_serve(clean_env(**env))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "CDS_PUBLIC_BASE_URL" in done.stderr


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("CDS_TRUSTED_ISSUERS_FILE", "{tmp}/issuers.json", "issuers.json is not JSON"),
        ("CDS_TRUSTED_ISSUERS_FILE", "{tmp}/absent.json", "cannot read"),
        ("CDS_DEADLINE_SECONDS", "soon", "CDS_DEADLINE_SECONDS"),
        ("CDS_FHIR_SERVER_ALLOWLIST", '["https://user@fhir.example/"]', "user information"),
        ("CDS_WORKERS", "many", "CDS_WORKERS"),
        ("CDS_TRUSTED_PROXY", "10.0.0.5, lb.internal", "CDS_TRUSTED_PROXY: 'lb.internal' is not"),
        ("CDS_TRUSTED_PROXY", "10.0.0.5/24", "did you mean 10.0.0.0/24"),
        ("CDS_TRUSTED_PROXY", "*", "CDS_TRUSTED_PROXY"),
    ],
)
def test_broken_configuration_is_one_line_and_exit_2(tmp_path, setting, value, named):
    """A broken setting or file: one line naming it and the problem, no traceback, exit 2."""
    (tmp_path / "issuers.json").write_text('{"issuers": [')
    env = clean_env(
        CDS_PUBLIC_BASE_URL="https://cds.hospital.example",
        CDS_DATABASE=str(tmp_path / "db.sqlite3"),
        **{setting: value.format(tmp=tmp_path)},
    )
    done = run_serve(env)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert named in done.stderr


def test_start_up_warns_when_no_issuer_is_trusted_and_no_allow_list(tmp_path):
    """JWT check on with no trusted issuer, and no FHIR allow-list: both said at start-up."""
    with cds_serve(
        tmp_path, CDS_AUTH_DISABLED="false", CDS_PUBLIC_BASE_URL="https://cds.hospital.example"
    ) as served:
        assert post_hook(served.base).status_code == 401
        log = served.log_text()
    assert "no CDS client is trusted" in log
    assert "CDS_FHIR_SERVER_ALLOWLIST is empty" in log
    assert log.count("no CDS client is trusted") == 1  # said once, not once per process


# --- front-server limits -------------------------------------------------------------------


def raw_exchange(port: int, data: bytes, half_close: bool = False, timeout: float = 10) -> bytes:
    """Send bytes on a fresh connection and read the whole answer (bounded in time)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may answer and close mid-send
            sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def outcome_status(answer: bytes) -> int:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"application/fhir+json" in head
    assert json.loads(body)["resourceType"] == "OperationOutcome"
    return int(head.split()[1])


def test_oversized_chunked_body_is_413(server):
    """A chunked body one byte over the limit: 413 OperationOutcome, never processed."""
    payload = b"x" * (MAX_BYTES + 1)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    assert outcome_status(raw_exchange(server.port, head + chunked)) == 413


def test_oversized_body_with_content_length_is_413(server):
    """The same with Content-Length: 413 OperationOutcome."""
    response = requests.post(
        server.base + URL,
        data=b"x" * (MAX_BYTES + 1),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"


def test_oversized_headers_are_an_operation_outcome(server):
    """Headers beyond the front server's limit: an OperationOutcome, not an HTML page."""
    head = f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 100_000}\r\n\r\n".encode()
    assert outcome_status(raw_exchange(server.port, head)) == 431


def test_body_shorter_than_its_content_length_is_not_processed(server):
    """A whole JSON request declared 100 bytes longer, then the client stops: no cards."""
    body = json.dumps(hook_request("peng_2024_recurrence")).encode()
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) + 100}\r\n\r\n"
    ).encode()
    answer = raw_exchange(server.port, head + body, half_close=True)
    assert b" 200 " not in answer.split(b"\r\n", 1)[0]
    assert b'"cards"' not in answer


def test_forwarded_headers_are_ignored_from_an_unconfigured_proxy(server):
    """X-Forwarded-For from a peer that is not the configured proxy does not name the client."""
    marker = {"X-Forwarded-For": "203.0.113.9", "X-Probe": "forwarded"}
    requests.get(server.base + "/healthz?probe=forwarded", headers=marker, timeout=5)
    assert "client='127.0.0.1'" in server.log_text()  # the peer, as the access line says
    assert "203.0.113.9" not in server.log_text()


def test_forwarded_headers_are_trusted_from_the_configured_proxy(tmp_path):
    """With CDS_TRUSTED_PROXY set to the peer, its X-Forwarded-For names the client."""
    with cds_serve(tmp_path, CDS_TRUSTED_PROXY="127.0.0.1", CDS_WORKERS="1") as served:
        headers = {"X-Forwarded-For": "203.0.113.9"}
        requests.get(served.base + "/healthz", headers=headers, timeout=5)
        assert "client='203.0.113.9'" in served.log_text()


# Two real HAProxy hops on distinct loopback addresses: the client calls from 127.0.0.5, the
# outer proxy connects on from 127.0.0.2, the inner one from 127.0.0.3 (all of 127/8 is this
# machine's loopback). Each hop appends the address it was called from to X-Forwarded-For.
PROXY_CHAIN_CFG = """
global
    log stderr format short local0 warning
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend outer
    bind 127.0.0.1:{outer}
    option forwardfor
    default_backend to_inner
backend to_inner
    server inner 127.0.0.1:{inner} source 127.0.0.2
frontend inner
    bind 127.0.0.1:{inner}
    option forwardfor
    default_backend to_cds
backend to_cds
    server cds 127.0.0.1:{cds} source 127.0.0.3
"""


@contextlib.contextmanager
def proxy_chain(tmp: Path, cds_port: int) -> Iterator[int]:
    """HAProxy with the two hops in front of ``cds_port``; yields the outer hop's port."""
    from tests.replicas.stack import require_haproxy

    outer, inner = free_port(), free_port()
    config = tmp / "chain.cfg"
    config.write_text(PROXY_CHAIN_CFG.format(outer=outer, inner=inner, cds=cds_port))
    with (tmp / "haproxy.log").open("wb") as sink:
        process = subprocess.Popen(
            [require_haproxy(), "-db", "-f", str(config)], stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        for _ in range(100):  # up to 10 s for HAProxy to listen
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", outer), 1):
                break
            time.sleep(0.1)
        yield outer
    finally:
        process.terminate()
        process.wait(timeout=10)


def get_from(source: str, port: int, headers: dict[str, str]) -> int:
    """GET /healthz on ``port`` from the loopback address ``source``."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    try:
        connection.request("GET", "/healthz", headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("trusted", "client"),
    [
        ("127.0.0.2/31", "127.0.0.5"),  # both hops trusted (a network): the caller
        ("127.0.0.3, 127.0.0.2", "127.0.0.5"),  # both hops trusted (a list): the caller
        ("127.0.0.3", "127.0.0.2"),  # only the inner hop: the outer proxy is the client
    ],
)
def test_a_chain_of_proxies_names_the_right_most_untrusted_address(tmp_path, trusted, client):
    """Through two real proxies, the client is the right-most X-Forwarded-For address that is
    not a trusted proxy; what the caller wrote in the header itself is never believed."""
    with (
        cds_serve(tmp_path, CDS_TRUSTED_PROXY=trusted, CDS_WORKERS="1") as served,
        proxy_chain(tmp_path, served.port) as outer,
    ):
        spoofed = {"X-Forwarded-For": "198.51.100.7"}
        assert get_from("127.0.0.5", outer, spoofed) == 200
        assert get_from("127.0.0.5", served.port, spoofed) == 200  # direct: not a proxy
        lines = [line for line in served.log_text().splitlines() if "route='/healthz'" in line]
    assert f"client='{client}'" in lines[-2]  # through the chain
    assert "client='127.0.0.5'" in lines[-1]  # directly
    assert "198.51.100.7" not in served.log_text()


# --- availability under slow clients and a slow FHIR server --------------------------------


def drip_forever(port: int, opening: bytes, stop: threading.Event) -> None:
    """Open a connection, send ``opening``, then one byte every half second until stopped."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 5) as sock:
        sock.sendall(opening)
        while not stop.wait(0.5):
            sock.sendall(b"a")


def timed(call) -> float:
    started = time.monotonic()
    response = call()
    assert response.status_code == 200
    return time.monotonic() - started


def test_slow_and_idle_clients_do_not_take_the_service_down(server):
    """40 connections dripping headers, 40 dripping a body, 40 idle: health and hook answer."""
    stop = threading.Event()
    openings = [b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Drip: "] * 40
    openings += [
        f"POST {URL} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{{".encode()
    ] * 40
    openings += [b""] * 40
    threads = [
        threading.Thread(target=drip_forever, args=(server.port, o, stop), daemon=True)
        for o in openings
    ]
    for t in threads:
        t.start()
    try:
        time.sleep(2.0)  # every slow connection is open and dripping
        for _ in range(3):
            assert timed(lambda: requests.get(server.base + "/healthz", timeout=10)) < 5.0
            assert timed(lambda: post_hook(server.base, timeout=10)) < 5.0
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)


def test_calls_naming_a_dripping_fhir_server_do_not_starve_others(server, fhir):
    """12 calls naming a 1 byte/s FHIR server: a call needing no fetch is not slowed, and one
    needing a working server gets its cards."""
    no_labs = {k: v for k, v in prefetch_of("peng_2024_recurrence").items() if k != "labs"}
    with ThreadPoolExecutor(12) as pool:
        slow = [
            pool.submit(post_hook, server.base, 30, prefetch=no_labs, fhirServer=fhir.base("drip"))
            for _ in range(12)
        ]
        time.sleep(0.5)  # the 12 calls are waiting on the dripping server
        assert timed(lambda: post_hook(server.base)) < 5.0
        working = post_hook(server.base, prefetch=no_labs, fhirServer=fhir.base("fine"))
        assert working.status_code == 200 and working.json()["cards"]
        for call in slow:  # each ends by its deadline, with a card naming the late labs
            card = call.result(timeout=30).json()["cards"][0]
            assert "could not obtain 'labs': timeout" in card["detail"]


def test_demo_work_up_page_opens_in_a_browser(server):
    """scripts/demo's second address: the work-up page of the demo patient, with its CSS."""
    page = requests.get(server.base + "/app/demo", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Patient/p40" in page.text and 'data-series="child_pugh"' in page.text
    css = requests.get(server.base + "/app/static/app.css", timeout=10)
    assert css.status_code == 200 and "grid-template-columns" in css.text
