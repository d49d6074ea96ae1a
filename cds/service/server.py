"""``cds serve``: the production HTTP server (waitress), one process per core, supervised.

Why waitress: it reads every request whole (headers and body) in its event loop before a worker
thread sees it, so a client that drips bytes or sits idle holds a socket, never a thread. The
gunicorn gthread and granian servers measured before this choice handed the connection to a
thread first: 8 dripping clients stalled them (BENCHMARKS.md, "Slow clients").

Waitress is one process, and the service's work is Python (one core per process under the GIL),
so ``cds serve`` starts ``CDS_WORKERS`` processes (default: one per core). Each listens on the
same address with ``SO_REUSEPORT`` and the kernel spreads connections among them. The parent is
a small supervisor: it checks the configuration once (a problem is one line and exit status 2),
restarts a worker that dies, and stops them all on SIGTERM or SIGINT.

Front-server errors (400 on a malformed request, 413 for a body over ``CDS_MAX_REQUEST_BYTES``
whether sent with Content-Length or chunked, 431 for oversized headers) are OperationOutcomes
too, and each gets an access-log line like the app's.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

import orjson
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

from cds.errors import ConfigError

DEFAULT_BIND = "127.0.0.1:8080"
DEFAULT_THREADS = 16  # per process: a call may wait on a FHIR server up to the deadline
MAX_HEADER_BYTES = 64 * 1024
RESTARTS_PER_MINUTE = 5

log = logging.getLogger("cds.serve")
access_log = logging.getLogger("cds.access")


@dataclass(frozen=True)
class ServerOptions:
    host: str
    port: int
    workers: int
    threads: int
    connection_limit: int
    client_timeout: int  # seconds a connection may stay silent before it is closed
    max_request_bytes: int

    def waitress(self) -> dict[str, Any]:
        return {
            "threads": self.threads,
            "connection_limit": self.connection_limit,
            "channel_timeout": self.client_timeout,
            "cleanup_interval": max(1, min(10, self.client_timeout)),
            "max_request_body_size": self.max_request_bytes,
            "max_request_header_size": MAX_HEADER_BYTES,
            "asyncore_use_poll": True,  # select() stops at 1,024 descriptors
            "recv_bytes": 65536,  # an 86 KiB request in 2 reads of the event loop, not 11
            "backlog": 1024,
            "ident": "hcc-cds",
            "expose_tracebacks": False,
            # No proxy settings: waitress trusts one address at most, so the app's own layer
            # (cds/service/proxies.py, CDS_TRUSTED_PROXY) reads and removes forwarded headers.
            # Waitress must pass them on for that, instead of clearing them all.
            "clear_untrusted_proxy_headers": False,
        }


def env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text in (None, ""):
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name}: must be a whole number, not {text!r}") from None
    if value < 1:
        raise ConfigError(f"{name}: must be at least 1, not {value}")
    return value


def split_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"CDS_BIND: expected host:port (e.g. 127.0.0.1:8080), not {bind!r}")
    return host, int(port)


def server_options(bind: str | None, workers: int | None, max_request_bytes: int) -> ServerOptions:
    host, port = split_bind(bind or os.environ.get("CDS_BIND") or DEFAULT_BIND)
    return ServerOptions(
        host=host,
        port=port,
        workers=workers or env_int("CDS_WORKERS", os.cpu_count() or 1),
        threads=env_int("CDS_THREADS", DEFAULT_THREADS),
        connection_limit=env_int("CDS_CONNECTION_LIMIT", 1000),
        client_timeout=env_int("CDS_CLIENT_TIMEOUT_SECONDS", 30),
        max_request_bytes=max_request_bytes,
    )


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to the address with SO_REUSEPORT (waitress calls ``listen``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


# --- front-server errors as OperationOutcome -------------------------------------------------


class OperationOutcomeErrorTask(ErrorTask):  # type: ignore[misc]
    """Waitress's own error answers (400, 413, 431, 501), as an OperationOutcome."""

    def execute(self) -> None:
        from cds.service.app import outcome_body

        error = self.request.error
        body = orjson.dumps(outcome_body(error.code, error.reason.lower()))
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend(
            [("Content-Type", "application/fhir+json"), ("Cache-Control", "no-store")]
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
        access_log.info(
            "method=%r route='-' status=%d reason=%r (answered by the front server)",
            str(self.request.command or "-")[:10],
            error.code,
            error.reason,
        )


class OperationOutcomeChannel(HTTPChannel):  # type: ignore[misc]
    error_task_class = OperationOutcomeErrorTask


# --- worker and supervisor -------------------------------------------------------------------


def run_worker(options: ServerOptions) -> None:
    """One waitress process (the target of each supervised worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor stops workers with SIGTERM
    from cds.service.app import create_app

    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    app = create_app(announce=False)
    sock = listening_socket(options.host, options.port)
    server = create_server(app, sockets=[sock], **options.waitress())
    server.channel_class = OperationOutcomeChannel
    server.run()


def exit_with_parent(parent: int) -> None:
    """A worker whose supervisor died (even by SIGKILL) ends too: no orphan keeps the port."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


class Supervisor:
    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        self.context = multiprocessing.get_context("spawn")  # no state forked from the parent
        self.workers: list[BaseProcess] = []
        self.restarts: list[float] = []
        self.stopping = False

    def start_worker(self) -> BaseProcess:
        worker = self.context.Process(target=run_worker, args=(self.options,), name="cds-worker")
        worker.start()
        return worker

    def stop(self, *_: Any) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.workers = [self.start_worker() for _ in range(self.options.workers)]
        log.info(
            "serving on %s:%d: %d processes × %d threads",
            self.options.host,
            self.options.port,
            self.options.workers,
            self.options.threads,
        )
        try:
            while not self.stopping:
                time.sleep(0.2)
                if not self.replace_dead_workers():
                    return 1
            return 0
        finally:
            self.stop_all()

    def replace_dead_workers(self) -> bool:
        for index, worker in enumerate(self.workers):
            if worker.is_alive() or self.stopping:
                continue
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < 60] + [now]
            if len(self.restarts) > RESTARTS_PER_MINUTE:
                log.error("workers keep dying (exit code %s): stopping", worker.exitcode)
                return False
            log.warning("worker %d exited with code %s: restarting it", index, worker.exitcode)
            self.workers[index] = self.start_worker()
        return True

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.is_alive():
                worker.terminate()
        for worker in self.workers:
            worker.join(10)
            if worker.is_alive():
                worker.kill()
                worker.join()


def serve(bind: str | None, workers: int | None) -> int:
    """Run until stopped; the settings come from ``CDS_*`` environment variables.

    :return: 0 when stopped, 1 when workers keep dying, 2 (after one line on stderr) when a
        setting or a file it names is unusable; no worker starts then.
    """
    from cds.service.app import create_app, startup_warnings

    try:
        app = create_app(announce=False)  # checks every setting once
        services = app.extensions["hcc_cds"]
        options = server_options(bind, workers, services.settings.max_request_bytes)
        reserved = listening_socket(options.host, options.port)  # the address is free and ours
    except ConfigError as exc:
        print(f"cds serve: configuration error: {exc}", file=sys.stderr)
        return 2
    for warning in startup_warnings(services):
        log.warning("%s", warning)
    del app, services
    try:
        return Supervisor(options).run()
    finally:
        reserved.close()
