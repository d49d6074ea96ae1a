"""Service settings: defaults here, overridden by ``CDS_*`` environment variables (README)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

DEFAULTS: dict[str, Any] = {
    "AUTH_DISABLED": False,  # development only: accept calls without a JWT
    "TRUSTED_ISSUERS_FILE": None,  # JSON file of allow-listed issuers and their keys
    "TRUST_SANDBOX": False,  # opt-in: trust the public CDS Hooks Sandbox's pinned key
    "JWT_LEEWAY_SECONDS": 60,
    "JWT_MAX_AGE_SECONDS": 3600,
    "PUBLIC_BASE_URL": None,  # e.g. https://cds.hospital.org when behind a proxy (JWT aud)
    "DATABASE": "instance/hcc-cds.sqlite3",  # feedback, issued cards, seen JWT ids
    "DEADLINE_SECONDS": 3.0,  # hard limit of a whole hook call
    "FHIR_TIMEOUT_SECONDS": 2.0,  # one request to the EHR's FHIR server
    "FHIR_MAX_PAGES": 10,
    "FHIR_MAX_BYTES": 20 * 1024 * 1024,
    "FHIR_ALLOW_HTTP": False,  # https is required except on loopback
    "FHIR_SERVER_ALLOWLIST": [],  # URL prefixes; empty = any server the client names
    "MAX_REQUEST_BYTES": 16 * 1024 * 1024,
    "CORS_ORIGINS": "*",
    "FETCH_WORKERS": 8,
    "AS_OF": None,  # fixed assessment date (YYYY-MM-DD) for demos and tests; default today
    "LOG_LEVEL": "INFO",
    # One discovery id per hook, for clients that key services by URL (cds/service/discovery.py)
    "DISTINCT_SERVICE_IDS": False,
}


@dataclass(frozen=True)
class Settings:
    """Typed view of the configuration, built once in ``create_app``."""

    auth_disabled: bool
    trusted_issuers_file: str | None
    trust_sandbox: bool
    jwt_leeway_seconds: int
    jwt_max_age_seconds: int
    public_base_url: str | None
    database: str
    deadline_seconds: float
    fhir_timeout_seconds: float
    fhir_max_pages: int
    fhir_max_bytes: int
    fhir_allow_http: bool
    fhir_server_allowlist: tuple[str, ...]
    max_request_bytes: int
    cors_origins: str
    fetch_workers: int
    as_of: date | None
    log_level: str
    distinct_service_ids: bool

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        values = {f.name: config.get(f.name.upper(), DEFAULTS[f.name.upper()]) for f in fields(cls)}
        values["fhir_server_allowlist"] = tuple(values["fhir_server_allowlist"] or ())
        if isinstance(values["as_of"], str):
            values["as_of"] = date.fromisoformat(values["as_of"])
        for name in ("auth_disabled", "trust_sandbox", "fhir_allow_http", "distinct_service_ids"):
            values[name] = as_bool(values[name])
        return cls(**values)


def as_bool(value: Any) -> bool:
    """Environment values arrive as JSON (``true``) or text (``"1"``, ``"yes"``)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
