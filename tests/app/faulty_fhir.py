"""A FHIR endpoint that misbehaves on purpose (fault injection only): it serves one Patient and
answers every search with an error, or does not answer within the client's timeout."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FaultyFhir:
    def __init__(self, patient_id: str, mode: str) -> None:
        """``mode``: ``searches-fail`` (500 on every search), ``slow`` (sleep, then answer),
        ``unauthorized`` or ``forbidden`` (401 or 403 on everything)."""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if outer.mode == "slow":
                    time.sleep(outer.delay)
                if outer.mode in ("unauthorized", "forbidden"):
                    status = 401 if outer.mode == "unauthorized" else 403
                    return self.answer(status, {"resourceType": "OperationOutcome", "issue": []})
                if self.path.endswith(f"/Patient/{patient_id}"):
                    body = {"resourceType": "Patient", "id": patient_id}
                    return self.answer(200, body)
                return self.answer(500, {"resourceType": "OperationOutcome", "issue": []})

            def answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/fhir+json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (the slow mode's point)

            def log_message(self, *args: object) -> None:
                pass

        self.mode = mode
        self.delay = 3.0
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.http.server_port}/fhir"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
