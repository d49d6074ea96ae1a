"""A FHIR server on loopback that misbehaves on purpose, one way per URL prefix.

``http://127.0.0.1:PORT/<mode>/`` is a FHIR base URL. The Patient read always works (unless the
mode starts with ``patient-``), so a test can aim the fault at the searches or at the Patient.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BIG_BYTES = 50 * 1024 * 1024


DRIP_BODY = b'{"resourceType": "Bundle", "type": "searchset", "entry": []}'


class Handler(BaseHTTPRequestHandler):
    patient: dict[str, Any] = {}
    stop = threading.Event()
    requested: list[str] = []  # every path asked for, in order

    def log_message(self, *args: Any) -> None:  # keep test output clean
        return

    def send(self, status: int, body: bytes, content_type: str = "application/fhir+json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.requested.append(self.path)
        mode, _, rest = self.path.lstrip("/").partition("/")
        if rest.startswith("Patient/") and not mode.startswith("patient-"):
            self.send(200, json.dumps(self.patient).encode())
            return
        getattr(self, "fault_" + mode.removeprefix("patient-").replace("-", "_"))(mode, rest)

    def fault_slow(self, mode: str, rest: str) -> None:
        self.stop.wait(5)  # longer than any deadline in the tests; ends when the server stops
        with contextlib.suppress(OSError):  # the client hung up at its deadline, as it should
            self.send(200, b'{"resourceType": "Bundle", "type": "searchset"}')

    def fault_fine(self, mode: str, rest: str) -> None:
        self.send(200, b'{"resourceType": "Bundle", "type": "searchset", "entry": []}')

    def fault_drip(self, mode: str, rest: str) -> None:
        """A valid answer at one byte a second: every read gets a byte before its timeout."""
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(DRIP_BODY)))
        self.end_headers()
        self.drip(DRIP_BODY)

    def fault_drip_headers(self, mode: str, rest: str) -> None:
        """The status line and then headers, one byte a second."""
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        self.drip(b"X-Slow: " + b"a" * 60 + b"\r\n\r\n")

    def drip(self, data: bytes) -> None:
        try:
            for byte in data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if self.stop.wait(1.0):
                    return
        except OSError:
            pass  # the client hung up at its deadline, as it should

    def fault_redirect(self, mode: str, rest: str) -> None:
        """A 302 to another origin (the same server under another host name)."""
        self.send_response(302)
        port = self.server.server_address[1]
        self.send_header("Location", f"http://localhost:{port}/fine/{rest}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def fault_unauthorized(self, mode: str, rest: str) -> None:
        self.send(401, b'{"resourceType": "OperationOutcome", "issue": []}')

    def fault_server_error(self, mode: str, rest: str) -> None:
        self.send(500, b'{"resourceType": "OperationOutcome", "issue": []}')

    def fault_html(self, mode: str, rest: str) -> None:
        self.send(200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")

    def fault_truncated(self, mode: str, rest: str) -> None:
        self.send(200, b'{"resourceType": "Bundle", "type": "searchset", "entry": [{"reso')

    def fault_operation_outcome(self, mode: str, rest: str) -> None:
        self.send(
            200,
            b'{"resourceType": "OperationOutcome", "issue": '
            b'[{"severity": "error", "code": "exception"}]}',
        )

    def fault_loop(self, mode: str, rest: str) -> None:
        page = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [],
            "link": [
                {
                    "relation": "next",
                    "url": f"http://{self.headers['Host']}/{mode}/Observation?page=loop",
                }
            ],
        }
        self.send(200, json.dumps(page).encode())

    def fault_huge(self, mode: str, rest: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(BIG_BYTES))
        self.end_headers()
        chunk = b" " * (1024 * 1024)
        try:
            for _ in range(BIG_BYTES // len(chunk)):
                self.wfile.write(chunk)
        except OSError:
            pass  # the client stopped reading at its cap, as it should


class MisbehavingFhirServer:
    """Start/stop around a test; ``base(mode)`` is the FHIR base URL for a fault."""

    def __init__(self, patient: dict[str, Any]) -> None:
        Handler.patient = patient
        Handler.stop = threading.Event()
        Handler.requested = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> MisbehavingFhirServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        Handler.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
        time.sleep(0)  # let handler threads notice the stop event

    @property
    def requested(self) -> list[str]:
        return Handler.requested

    def base(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{mode}"
