"""Service settings: defaults here, overridden by ``CDS_*`` environment variables (README).

Every value is checked once, at start-up: a wrong one is a :class:`ConfigError` naming the
variable, which ``cds serve`` prints as one line before it exits with status 2.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from cds.errors import ConfigError
from cds.fhir.url_policy import UrlPolicy, UrlRefused, parse_canonical
from cds.service.proxies import TrustedProxies

DEFAULTS: dict[str, Any] = {
    "AUTH_DISABLED": False,  # development only: accept calls without a JWT
    "TRUSTED_ISSUERS_FILE": None,  # JSON file of allow-listed issuers and their keys
    "TRUST_SANDBOX": False,  # opt-in: trust the public CDS Hooks Sandbox's pinned key
    "JWT_LEEWAY_SECONDS": 60,
    "JWT_MAX_AGE_SECONDS": 3600,
    # The URL clients call, e.g. https://cds.hospital.org: a JWT's aud must be this plus the
    # path. Required with the JWT check on; never taken from the request's Host header.
    "PUBLIC_BASE_URL": None,
    "DATABASE": "instance/hcc-cds.sqlite3",  # SQLite file: feedback, issued cards, seen JWT ids
    "DATABASE_URL": None,  # postgresql://… : PostgreSQL shared by replicas instead of the file
    "DATABASE_POOL_SIZE": 5,  # PostgreSQL connections per worker process
    "DATABASE_TIMEOUT_SECONDS": 2.0,  # longest wait for a connection or a statement, then 503
    "DEADLINE_SECONDS": 3.0,  # hard limit of a whole hook call, FHIR fetches included
    "FHIR_TIMEOUT_SECONDS": 2.0,  # one connect or read on the EHR's FHIR server
    "FHIR_MAX_PAGES": 10,
    "FHIR_MAX_BYTES": 20 * 1024 * 1024,
    "FHIR_ALLOW_LOOPBACK_HTTP": False,  # development only: plain http to a loopback FHIR server
    "FHIR_SERVER_ALLOWLIST": [],  # URL prefixes; empty = any https server (warned at start-up)
    "MAX_REQUEST_BYTES": 16 * 1024 * 1024,
    # Proxies (addresses, networks) whose X-Forwarded-For/-Proto are believed (service/proxies.py)
    "TRUSTED_PROXY": None,
    "CORS_ORIGINS": "*",
    "FETCH_WORKERS": 8,  # FHIR fetch threads of one call
    "AS_OF": None,  # fixed assessment date (YYYY-MM-DD) for demos and tests; default today
    "LOG_LEVEL": "INFO",
    # One discovery id per hook, for clients that key services by URL (cds/service/discovery.py)
    "DISTINCT_SERVICE_IDS": False,
    # How long ago a performed TACE still makes a sorafenib order "with TACE" (clinical.md §4)
    "TACE_RECENT_DAYS": 90,
}
REMOVED = {
    "FHIR_ALLOW_HTTP": "use CDS_FHIR_ALLOW_LOOPBACK_HTTP (plain http to a loopback server only)"
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
    database_url: str | None
    database_pool_size: int
    database_timeout_seconds: float
    deadline_seconds: float
    fhir_timeout_seconds: float
    fhir_max_pages: int
    fhir_max_bytes: int
    fhir_allow_loopback_http: bool
    fhir_server_allowlist: tuple[str, ...]
    max_request_bytes: int
    trusted_proxy: TrustedProxies
    cors_origins: str
    fetch_workers: int
    as_of: date | None
    log_level: str
    distinct_service_ids: bool
    tace_recent_days: int

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        """:raise ConfigError: naming the ``CDS_`` variable whose value is unusable."""
        for name, advice in REMOVED.items():
            if name in config:
                raise ConfigError(f"CDS_{name} is no longer read: {advice}")
        values = {}
        for f in fields(cls):
            key = f.name.upper()
            try:
                values[f.name] = convert(key, config.get(key, DEFAULTS[key]))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"CDS_{key}: {exc}") from None
        settings = cls(**values)
        settings.url_policy()  # the allow-list entries are checked here, once
        if not settings.auth_disabled and settings.public_base_url is None:
            raise ConfigError(
                "CDS_PUBLIC_BASE_URL is not set: with the JWT check on, the service must know "
                "the URL its clients call (e.g. https://cds.hospital.org), which every token's "
                "aud must name"
            )
        return settings

    def url_policy(self) -> UrlPolicy:
        try:
            return UrlPolicy.build(self.fhir_server_allowlist, self.fhir_allow_loopback_http)
        except UrlRefused as exc:
            raise ConfigError(f"CDS_FHIR_SERVER_ALLOWLIST: {exc.reason}") from None

    def startup_warnings(self) -> list[str]:
        """What an operator must hear about once, when the service starts."""
        found = []
        if self.auth_disabled:
            found.append("CDS_AUTH_DISABLED is on: calls are accepted without a JWT")
        if not self.fhir_server_allowlist:
            found.append(
                "CDS_FHIR_SERVER_ALLOWLIST is empty: the service fetches from, and sends the "
                "EHR's access token to, any https FHIR server a client names"
            )
        if self.fhir_allow_loopback_http:
            found.append("CDS_FHIR_ALLOW_LOOPBACK_HTTP is on: plain http to loopback FHIR servers")
        return found


def convert(key: str, value: Any) -> Any:
    """One setting in its type; environment values arrive as JSON or as text."""
    default = DEFAULTS[key]
    if key == "AS_OF":
        return None if value is None else date.fromisoformat(str(value))
    if key == "PUBLIC_BASE_URL":
        return None if value in (None, "") else public_base_url(value)
    if key == "FHIR_SERVER_ALLOWLIST":
        return url_list(value)
    if key == "TRUSTED_PROXY":
        return TrustedProxies.parse(value)
    if isinstance(default, bool):
        return as_bool(value)
    if isinstance(default, int | float):
        number = type(default)(value)
        least = 0 if key == "JWT_LEEWAY_SECONDS" else 1e-9
        if number < least:
            raise ValueError(f"must be a positive number, not {value!r}")
        return number
    if value is not None and not isinstance(value, str):
        raise TypeError(f"must be text, not {value!r}")
    return value


def public_base_url(value: Any) -> str:
    try:
        url = parse_canonical(value, allow_query=False)
    except UrlRefused as exc:
        raise ValueError(exc.reason) from None
    return url.url.rstrip("/")


def url_list(value: Any) -> tuple[str, ...]:
    """A JSON array of URLs, or URLs separated by commas or spaces."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError("must be a list of URLs")
    return tuple(value)


def as_bool(value: Any) -> bool:
    """Environment values arrive as JSON (``true``) or text (``"1"``, ``"yes"``)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text not in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
            raise ValueError(f"must be true or false, not {value!r}")
        return text in ("1", "true", "yes", "on")
    return bool(value)
