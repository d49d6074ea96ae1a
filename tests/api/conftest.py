"""App and client fixtures; every hook response a test gets is checked against the spec."""

from __future__ import annotations

from typing import Any

import pytest

from cds import create_app
from tests.api.card_rules import check_response

AS_OF = "2026-11-15"


class CheckingClient:
    """A Flask test client whose hook responses are always checked (cds-resp-1..7)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def post(self, *args: Any, **kwargs: Any) -> Any:
        response = self.client.post(*args, **kwargs)
        body = response.get_json(silent=True)
        if response.status_code == 200 and isinstance(body, dict) and "cards" in body:
            check_response(body)
        return response


def app_config(tmp_path: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "AUTH_DISABLED": True,
        "DATABASE": str(tmp_path / "cds.sqlite3"),
        "AS_OF": AS_OF,
        "DEADLINE_SECONDS": 3.0,
        **overrides,
    }


@pytest.fixture
def app(tmp_path):
    return create_app(app_config(tmp_path))


@pytest.fixture
def client(app):
    return CheckingClient(app.test_client())
