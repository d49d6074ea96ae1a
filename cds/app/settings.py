"""The app's settings: ``CDS_APP_*`` environment variables (README, "The work-up app")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cds.service.config import as_bool

APP_DEFAULTS: dict[str, Any] = {
    "APP_CLIENT_ID": None,  # the client id the EHR registered for this app; unset: app off
    "APP_CLIENT_SECRET": None,  # set for a confidential client (client_secret_basic)
    "APP_SCOPES": "launch openid fhirUser patient/*.rs",
    "APP_DEFAULT_ISS": None,  # FHIR base URL of a standalone launch that names no iss
    "APP_FRAME_ANCESTORS": [],  # EHR origins allowed to frame the app (CSP frame-ancestors)
    "APP_COOKIE_SECURE": "auto",  # auto: Secure except on a loopback host; true; false
    "APP_TREND_MONTHS": 12,
    "APP_SESSION_SECONDS": 3600,  # idle lifetime of a server-side session
    "APP_FETCH_SECONDS": 10.0,  # the whole FHIR read of a work-up page
    "APP_HTTP_TIMEOUT_SECONDS": 5.0,  # one call to the discovery or token endpoint
    "APP_DEMO": False,  # development only: /app/demo shows the built-in demo patient
}


@dataclass(frozen=True)
class AppSettings:
    client_id: str | None
    client_secret: str | None
    scopes: str
    default_iss: str | None
    frame_ancestors: tuple[str, ...]
    cookie_secure: str  # "auto", "true" or "false"
    trend_months: int
    session_seconds: int
    fetch_seconds: float
    http_timeout_seconds: float
    demo: bool

    @classmethod
    def from_config(cls, config: Any) -> AppSettings:
        def get(name: str) -> Any:
            return config.get(name, APP_DEFAULTS[name])

        ancestors = get("APP_FRAME_ANCESTORS") or []
        if isinstance(ancestors, str):  # an environment value: JSON list or space-separated
            ancestors = json.loads(ancestors) if ancestors.startswith("[") else ancestors.split()
        secure = get("APP_COOKIE_SECURE")
        secure = secure if secure == "auto" else ("true" if as_bool(secure) else "false")
        return cls(
            client_id=get("APP_CLIENT_ID") or None,
            client_secret=get("APP_CLIENT_SECRET") or None,
            scopes=" ".join(str(get("APP_SCOPES")).split()),
            default_iss=get("APP_DEFAULT_ISS") or None,
            frame_ancestors=tuple(ancestors),
            cookie_secure=secure,
            trend_months=int(get("APP_TREND_MONTHS")),
            session_seconds=int(get("APP_SESSION_SECONDS")),
            fetch_seconds=float(get("APP_FETCH_SECONDS")),
            http_timeout_seconds=float(get("APP_HTTP_TIMEOUT_SECONDS")),
            demo=as_bool(get("APP_DEMO")),
        )
