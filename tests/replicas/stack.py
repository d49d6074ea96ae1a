"""The production stack without Docker: PostgreSQL, two ``cds serve`` replicas and HAProxy.

The same processes and configuration as ``docker-compose.yml``: each replica is started with
the Dockerfile's command (``cds serve``) and the balancer with ``deploy/haproxy/haproxy.cfg``;
only the addresses differ (loopback, free ports). Every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.postgres_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = REPO_ROOT / "deploy" / "haproxy" / "haproxy.cfg"
START_TIMEOUT_S = 60.0


def require_haproxy() -> str:
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if found:
        return found
    reason = "HAProxy not installed (scripts/setup installs Debian's haproxy)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    """Until ``url`` answers 200, the process dies (fail) or ``seconds`` pass (fail)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url}: process exited {process.returncode}: {log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} not ready after {seconds:.0f} s: {log.read_text()[-3000:]}")


@dataclass
class Replica:
    name: str
    env: dict[str, str]
    logs: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.logs / f"{self.name}.log"

    def start(self) -> None:
        cds = Path(sys.executable).with_name("cds")
        with self.log.open("ab") as sink:
            # Its own process group, so that a kill takes the server and its workers, as the
            # death of a container or a host would.
            self.process = subprocess.Popen(
                [str(cds), "serve", "--bind", f"127.0.0.1:{self.port}"],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self.url + "/readyz", self.process, self.log, START_TIMEOUT_S)

    def kill(self) -> None:
        """SIGKILL to every process of the replica: no shutdown code runs."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@dataclass
class Balancer:
    replicas: list[Replica]
    logs: Path
    port: int = field(default_factory=free_port)
    stats_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def servers(self) -> dict[str, dict[str, str]]:
        """HAProxy's view of each replica: ``status`` (UP/DOWN…), ``stot`` (requests served)."""
        text = requests.get(f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=5).text
        header, *rows = text.lstrip("# ").splitlines()
        names = header.split(",")
        table = [dict(zip(names, row.split(","), strict=False)) for row in rows if row]
        return {r["svname"]: r for r in table if r["pxname"] == "cds_replicas"}

    def wait_until(self, statuses: dict[str, str], seconds: float = 30.0) -> None:
        """Until HAProxy reports each named replica with its status (e.g. ``UP``), bounded."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            current = {name: row["status"] for name, row in self.servers().items()}
            if all(current.get(name) == status for name, status in statuses.items()):
                return
            time.sleep(0.2)
        pytest.fail(f"balancer did not reach {statuses}: {current}")

    def start(self) -> None:
        env = {
            **os.environ,
            "CDS_LB_BIND": f"127.0.0.1:{self.port}",
            "CDS_LB_STATS_BIND": f"127.0.0.1:{self.stats_port}",
            "CDS_REPLICA1": f"127.0.0.1:{self.replicas[0].port}",
            "CDS_REPLICA2": f"127.0.0.1:{self.replicas[1].port}",
        }
        log = self.logs / "haproxy.log"
        with log.open("ab") as sink:
            self.process = subprocess.Popen(
                [require_haproxy(), "-db", "-f", str(HAPROXY_CFG)],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        wait_for(self.url + "/readyz", self.process, log, 20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def replica_env(database_url: str, public_base_url: str, issuers_file: Path) -> dict[str, str]:
    """What each replica gets: the shared database, the public URL (JWT aud), trusted issuers."""
    return {
        **os.environ,
        "CDS_DATABASE_URL": database_url,
        "CDS_DATABASE_TIMEOUT_SECONDS": "1.0",
        "CDS_PUBLIC_BASE_URL": public_base_url,
        "CDS_TRUSTED_ISSUERS_FILE": str(issuers_file),
        "CDS_AS_OF": '"2026-11-15"',
        # One worker each keeps the start-up and the memory small on a 2-core machine; the
        # shared state is the same for two processes on one host as for two hosts.
        "CDS_WORKERS": "1",
        "CDS_THREADS": "4",
    }
