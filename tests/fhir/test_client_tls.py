"""https through the guarded session: it connects to the address it resolved, yet TLS still names
and verifies the URL's host.

A real TLS server on loopback with certificates from a test CA (trustme); the server records the
name the client asked for in SNI and the Host header it sent.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme

from cds.fhir.client import Deadline, FhirFetchError, get_bytes, guarded_session
from cds.fhir.url_policy import UrlPolicy, parse_allowed

PATIENT = {"resourceType": "Patient", "id": "x"}


class Seen:
    sni: list[str | None] = []
    hosts: list[str | None] = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Seen.hosts.append(self.headers["Host"])
        body = json.dumps(PATIENT).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_server(ca: trustme.CA, *names: str) -> tuple[ThreadingHTTPServer, threading.Thread]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    context.sni_callback = lambda sock, name, ctx: Seen.sni.append(name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, thread


@pytest.fixture
def serve(ca) -> Iterator[Any]:
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(*names: str) -> int:
        Seen.sni, Seen.hosts = [], []
        started.append(tls_server(ca, *names))
        return int(started[-1][0].server_port)

    yield start
    for httpd, thread in started:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def fetch(port: int, verify: Any) -> tuple[int, bytes]:
    url = parse_allowed(f"https://localhost:{port}/r4/Patient/x", UrlPolicy())
    with guarded_session() as session:
        session.verify = verify
        return get_bytes(session, url, {}, Deadline.after(10.0), 5.0, 1024 * 1024)


def test_the_host_name_is_sent_and_verified_though_the_address_is_connected(ca, serve, tmp_path):
    """A certificate for localhost: the fetch succeeds, SNI and Host name localhost."""
    port = serve("localhost")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    status, body = fetch(port, str(ca_file))
    assert status == 200 and json.loads(body) == PATIENT
    assert Seen.sni == ["localhost"]
    assert Seen.hosts == [f"localhost:{port}"]


def test_a_certificate_for_another_name_is_refused(ca, serve, tmp_path):
    """The certificate names another host: the handshake fails, nothing is requested."""
    port = serve("fhir.other.example")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with pytest.raises(FhirFetchError) as refused:
        fetch(port, str(ca_file))
    assert refused.value.kind == "unreachable"
    assert Seen.hosts == []


def test_a_certificate_from_an_untrusted_ca_is_refused(serve):
    """The system's CAs do not include the test CA: refused, nothing is requested."""
    port = serve("localhost")
    with pytest.raises(FhirFetchError) as refused:
        fetch(port, True)
    assert refused.value.kind == "unreachable"
    assert Seen.hosts == []
