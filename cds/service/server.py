"""``cds serve``: the production WSGI server (gunicorn) around the app factory.

gunicorn is a pre-fork server: each worker process builds its own app (its own thread pool for
FHIR fetches); SQLite in WAL mode is shared safely between them. Threads per worker let one
worker wait on a slow FHIR server while serving other calls.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

DEFAULT_BIND = "127.0.0.1:8080"
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4


class CdsServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from cds import create_app

        return create_app()


def serve(bind: str | None, workers: int | None) -> int:
    """Run until stopped; the settings come from ``CDS_*`` environment variables."""
    options = {
        "bind": bind or os.environ.get("CDS_BIND", DEFAULT_BIND),
        "workers": workers or int(os.environ.get("CDS_WORKERS", DEFAULT_WORKERS)),
        "threads": int(os.environ.get("CDS_THREADS", DEFAULT_THREADS)),
        "worker_class": "gthread",
        "timeout": 30,
        "graceful_timeout": 10,
        "accesslog": None,  # request lines carry hookInstance-free URLs only, but stay quiet
        "errorlog": "-",
        # gunicorn 27's control socket (reload, scale, shutdown) sits at one shared path per
        # user; the service is run by its orchestrator, so it stays off.
        "control_socket_disable": True,
    }
    CdsServer(options).run()
    return 0
