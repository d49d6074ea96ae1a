"""A real PostgreSQL server (Debian's ``postgresql`` package) started by the tests.

The cluster lives in a temporary folder owned by the ``postgres`` user, listens on 127.0.0.1 on
a free port (and on a socket in that folder), trusts local connections, and is removed at the
end. ``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as ``postgres``.

Usage::

    with running_postgres() as server:
        url = server.create_database("t1")   # postgresql://cds@127.0.0.1:PORT/t1
        server.stop(); server.start()        # an outage and a recovery
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT_S = 30
USER = "cds"  # the cluster's superuser, the one the service connects as in the tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL ``bin`` folder holding ``initdb`` and ``pg_ctl``."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    return found[-1].parent if found else None


def require_postgres() -> Path:
    """The ``bin`` folder, or skip (fail under CI, where scripts/setup installs the package)."""
    folder = postgres_bin()
    as_root_ok = os.geteuid() != 0 or _postgres_user() is not None
    if folder is not None and as_root_ok:
        return folder
    reason = "PostgreSQL server not installed (scripts/setup installs Debian's postgresql)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _postgres_user() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


class PostgresServer:
    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = free_port()

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*prefix, *command],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S + 10,
            check=False,
        )

    def init(self) -> None:
        result = self._run(
            str(self.bin_dir / "initdb"),
            "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr[-2000:]}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c max_connections=200 -c shared_buffers=32MB"
        )
        result = self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-w", "-t", str(START_TIMEOUT_S), "-o", options, "start",
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {result.stderr}{self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``fast`` ends every session (as a restart or failover would)."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A started server in a new temporary cluster, stopped and removed afterwards."""
    bin_dir = require_postgres()
    root = Path(tempfile.mkdtemp(prefix="hcc-cds-pg-"))
    user = _postgres_user()
    if os.geteuid() == 0 and user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    server = PostgresServer(bin_dir, root)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
