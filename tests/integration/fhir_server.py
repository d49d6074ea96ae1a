"""Start and drive the in-memory FHIR R4 server of ``tools/fhir-server`` from Python tests.

Usage::

    from tests.integration.fhir_server import require_fhir_server, start_fhir_server

    @pytest.fixture(scope="module")
    def fhir_server():
        require_fhir_server()  # pytest.skip with a reason if Node or the install is missing
        with start_fhir_server() as server:
            yield server

    ids = fhir_server.load(bundle)       # {"urn:uuid:…" or "Patient/old-id": "Patient/new-id", …}
    requests.get(f"{fhir_server.base_url}/Patient/{…}")

The server needs ``node`` (20.19+) and ``npm ci --prefix tools/fhir-server`` to have been run.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_DIR = REPO_ROOT / "tools" / "fhir-server"
SERVER_SCRIPT = SERVER_DIR / "server.mjs"
INSTALL_COMMAND = "npm ci --prefix tools/fhir-server"
START_TIMEOUT_S = 20.0


class FhirServerError(RuntimeError):
    """The FHIR test server failed to start, or rejected data given to ``load``."""


def node_available() -> bool:
    """True when a ``node`` executable is on PATH."""
    return shutil.which("node") is not None


def server_installed() -> bool:
    """True when ``tools/fhir-server/node_modules`` holds the server's npm dependencies."""
    return (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router" / "package.json").is_file()


def skip_reason() -> str | None:
    """Why the FHIR server cannot run here, or None when it can."""
    if not node_available():
        return "node is not on PATH: the FHIR-server integration tests need Node.js 20.19+"
    if not server_installed():
        return f"tools/fhir-server/node_modules is not installed: run `{INSTALL_COMMAND}`"
    return None


def require_fhir_server() -> None:
    """``pytest.skip`` (with the reason) when Node or the server's npm install is missing."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)


def _read_lines(stream, lines: queue.Queue) -> None:
    # Drains the server's stdout for its whole life so that the pipe never fills up.
    for line in stream:
        lines.put(line)
    lines.put(None)


class FhirServer:
    """A running ``tools/fhir-server`` process; use ``start_fhir_server()`` to get one."""

    def __init__(
        self, *, page_size: int | None = None, log: bool = False, smart_config: Path | None = None
    ) -> None:
        command = [shutil.which("node") or "node", str(SERVER_SCRIPT), "--port", "0"]
        if smart_config is not None:
            command += ["--smart-config", str(smart_config)]
        if page_size is not None:
            command += ["--page-size", str(page_size)]
        if log:
            command.append("--log")
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        started = time.monotonic()
        self.process = subprocess.Popen(
            command,
            cwd=SERVER_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
        )
        self._lines: queue.Queue = queue.Queue()
        self._reader = threading.Thread(
            target=_read_lines, args=(self.process.stdout, self._lines), daemon=True
        )
        self._reader.start()
        atexit.register(self.stop)
        try:
            self.port = self._wait_for_port(started + START_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self.base_url = f"http://127.0.0.1:{self.port}/fhir/R4"

    def _wait_for_port(self, deadline: float) -> int:
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise FhirServerError(
                    f"FHIR server printed no LISTENING line within {START_TIMEOUT_S:.0f} s"
                    f"{self._stderr_tail()}"
                ) from None
            if line is None:
                code = self.process.wait()
                raise FhirServerError(f"FHIR server exited with {code}{self._stderr_tail()}")
            if line.startswith("LISTENING "):
                return int(line.split()[1])

    def _stderr_tail(self) -> str:
        with contextlib.suppress(ValueError, OSError):
            self._stderr.seek(0)
            text = self._stderr.read()[-4000:].strip()
            return f"; stderr:\n{text}" if text else ""
        return ""

    def url(self, path: str = "") -> str:
        """Absolute URL of ``path`` (e.g. ``"Patient/123"``) under the server's FHIR base."""
        return f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url

    def load(
        self,
        data: Mapping[str, Any] | Iterable[Mapping[str, Any]] | str | os.PathLike,
        *,
        keep_ids: bool = False,
    ) -> dict[str, str]:
        """POST resources to the server as one transaction Bundle and return their new identities.

        ``data`` is a Bundle, a single resource, a list of resources, or a path to a JSON file
        holding one of those. A transaction or batch Bundle is sent as it is (POST entries get
        server-assigned ids, as on any FHIR server, and ``urn:uuid:`` references are rewritten);
        ``keep_ids=True`` turns its POST entries whose resource has an id into ``PUT Type/id`` so
        that ids are kept. Any other Bundle and loose resources become a transaction of
        ``PUT Type/id`` entries (POST for resources without an id).

        Returns a dict from each entry's ``fullUrl`` and original ``Type/id`` to the server's
        ``Type/id``. Raises ``FhirServerError`` when the server rejects the Bundle or any entry.
        """
        bundle = _as_transaction(_read(data), keep_ids=keep_ids)
        response = requests.post(
            self.base_url,
            data=json.dumps(bundle),
            headers={"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"},
            timeout=60,
        )
        body = response.json()
        if response.status_code >= 300 or body.get("resourceType") != "Bundle":
            raise FhirServerError(f"load failed with HTTP {response.status_code}: {body}")
        identities: dict[str, str] = {}
        failures = []
        results = zip(bundle["entry"], body.get("entry", []), strict=True)
        for index, (sent, got) in enumerate(results):
            status = got.get("response", {}).get("status", "")
            if not status.startswith("2"):
                failures.append(f"entry[{index}] {sent['request']}: {status} {got}")
                continue
            location = got["response"].get("location")
            if not location:
                continue
            new_ref = "/".join(location.split("/_history/")[0].split("/")[-2:])
            resource = sent.get("resource") or {}
            if sent.get("fullUrl"):
                identities[sent["fullUrl"]] = new_ref
            if resource.get("id"):
                identities[f"{resource['resourceType']}/{resource['id']}"] = new_ref
        if failures:
            raise FhirServerError("load: entries rejected:\n" + "\n".join(failures))
        return identities

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and release its pipes; idempotent."""
        atexit.unregister(self.stop)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout and not self.process.stdout.closed:
            self.process.stdout.close()
        if not self._stderr.closed:
            self._stderr.close()

    def __enter__(self) -> FhirServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_fhir_server(
    *, page_size: int | None = None, log: bool = False, smart_config: Path | None = None
) -> FhirServer:
    """Run ``node tools/fhir-server/server.mjs --port 0`` and wait (20 s at most) until it listens.

    The returned server is also a context manager that stops it on exit. ``page_size`` sets the
    default ``_count`` of searches (server default 20); ``log`` prints one line per request to
    the server's stderr; ``smart_config`` a JSON file served at
    ``<base>/.well-known/smart-configuration``.
    """
    return FhirServer(page_size=page_size, log=log, smart_config=smart_config)


def _read(data: Any) -> Any:
    if isinstance(data, str | os.PathLike):
        return json.loads(Path(data).read_text(encoding="utf-8"))
    return data


def _as_transaction(data: Any, *, keep_ids: bool) -> dict[str, Any]:
    if isinstance(data, Mapping) and data.get("resourceType") == "Bundle":
        if data.get("type") in ("transaction", "batch"):
            bundle = copy.deepcopy(dict(data))
            if keep_ids:
                for entry in bundle.get("entry", []):
                    resource, request = entry.get("resource") or {}, entry.get("request") or {}
                    is_plain_post = request.get("method") == "POST" and not request.get(
                        "ifNoneExist"
                    )
                    if is_plain_post and resource.get("id"):
                        url = f"{resource['resourceType']}/{resource['id']}"
                        entry["request"] = {"method": "PUT", "url": url}
            return bundle
        entries = [copy.deepcopy(e) for e in data.get("entry", []) if e.get("resource")]
    else:
        resources = [data] if isinstance(data, Mapping) else list(data)
        entries = [{"resource": copy.deepcopy(dict(r))} for r in resources]
    for entry in entries:
        resource = entry["resource"]
        if resource.get("id"):
            url = f"{resource['resourceType']}/{resource['id']}"
            entry["request"] = {"method": "PUT", "url": url}
        else:
            entry["request"] = {"method": "POST", "url": resource["resourceType"]}
        entry.pop("search", None)
        entry.pop("response", None)
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
