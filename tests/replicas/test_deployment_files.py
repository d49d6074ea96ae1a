"""docker-compose.yml runs what the stack tests run: the same start command, the same balancer
configuration, every variable of that configuration set (no Docker engine is needed to check it).
"""

from __future__ import annotations

import json
import re
import subprocess

import yaml

from tests.replicas.stack import HAPROXY_CFG, REPO_ROOT, require_haproxy

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def dockerfile_command() -> list[str]:
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    return json.loads(re.findall(r"^CMD (\[.*\])$", text, re.M)[-1])


def test_replicas_use_the_images_start_command_and_postgresql():
    for name in ("cds1", "cds2"):
        service = COMPOSE["services"][name]
        assert service["command"] == dockerfile_command() == ["cds", "serve"]
        assert service["environment"]["CDS_DATABASE_URL"].startswith("postgresql://")
        assert "/readyz" in " ".join(service["healthcheck"]["test"])


def test_balancer_gets_every_variable_its_configuration_reads():
    balancer = COMPOSE["services"]["balancer"]
    wanted = set(re.findall(r"\$\{(\w+)\}", HAPROXY_CFG.read_text(encoding="utf-8")))
    assert wanted == set(balancer["environment"])
    assert "./deploy/haproxy:/usr/local/etc/haproxy:ro" in balancer["volumes"]


def test_haproxy_accepts_the_configuration_with_the_compose_values():
    env = {key: str(value) for key, value in COMPOSE["services"]["balancer"]["environment"].items()}
    result = subprocess.run(
        [require_haproxy(), "-c", "-f", str(HAPROXY_CFG)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_balancer_error_pages_are_operation_outcomes():
    for code in (502, 503, 504):
        raw = (HAPROXY_CFG.parent / "errors" / f"{code}.http").read_bytes()
        head, body = raw.split(b"\r\n\r\n", 1)
        assert head.startswith(f"HTTP/1.1 {code} ".encode())
        assert f"Content-Length: {len(body)}".encode() in head
        assert json.loads(body)["resourceType"] == "OperationOutcome"
