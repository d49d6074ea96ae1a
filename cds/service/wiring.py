"""Everything a request needs, built once per process from the settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import requests

from cds.fhir.client import Deadline, FhirClient, FhirLimits, guarded_session
from cds.fhir.source import DataSource
from cds.fhir.url_policy import UrlPolicy
from cds.service.auth import (
    JwtVerifier,
    ReplayCache,
    TrustedIssuer,
    fetch_jwks_over_https,
    load_trusted_issuers,
)
from cds.service.config import Settings
from cds.service.discovery import ServiceDefinition, load_discovery, service_definitions
from cds.service.feedback import FeedbackStore
from cds.service.hooks import HookRequest
from cds.storage import Storage, open_storage

KEYS = Path(__file__).resolve().parent / "keys"
# The public CDS Hooks Sandbox signs with this issuer and jku; its JWKS is pinned in the package
# (copied from cds-hooks/sandbox, build/.well-known/jwks.json) so it is trusted without a fetch.
SANDBOX_ISSUER = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"


def sandbox_issuer() -> tuple[TrustedIssuer, dict[str, Any]]:
    jwks = json.loads((KEYS / "cds-hooks-sandbox-jwks.json").read_text(encoding="utf-8"))
    return TrustedIssuer(SANDBOX_ISSUER, jwks, (SANDBOX_JKU,)), {SANDBOX_JKU: jwks}


def pinned_or_fetched(pinned: dict[str, dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """Serve pinned key sets by URL; fetch other allow-listed ``jku`` URLs over https."""

    def fetch(url: str) -> dict[str, Any]:
        return pinned[url] if url in pinned else fetch_jwks_over_https(url)

    return fetch


def build_storage(settings: Settings) -> Storage:
    """The storage engine the settings name: PostgreSQL for a ``postgresql://`` URL, else SQLite."""
    return open_storage(
        settings.database_url,
        settings.database,
        pool_size=settings.database_pool_size,
        timeout=settings.database_timeout_seconds,
    )


def build_verifier(settings: Settings, storage: Storage) -> JwtVerifier | None:
    if settings.auth_disabled:
        return None
    issuers: dict[str, TrustedIssuer] = {}
    pinned: dict[str, dict[str, Any]] = {}
    if settings.trusted_issuers_file:
        issuers.update(load_trusted_issuers(Path(settings.trusted_issuers_file)))
    if settings.trust_sandbox:
        sandbox, pinned = sandbox_issuer()
        issuers[sandbox.iss] = sandbox
    return JwtVerifier(
        issuers,
        ReplayCache(storage),
        leeway_seconds=settings.jwt_leeway_seconds,
        max_age_seconds=settings.jwt_max_age_seconds,
        fetch_jwks=pinned_or_fetched(pinned),
    )


@dataclass
class Services:
    """The process-wide collaborators of the API (no globals, passed to the blueprint)."""

    settings: Settings
    discovery: dict[str, Any]
    definitions: dict[str, ServiceDefinition]
    verifier: JwtVerifier | None
    storage: Storage
    feedback: FeedbackStore
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)  # fhirServer and next links
    # One session per hook call; its sockets are shut at the call's deadline.
    session_factory: Callable[[], requests.Session] = guarded_session
    app_registered: bool = False  # the SMART work-up app has a client id: cards link to it

    @classmethod
    def build(cls, settings: Settings) -> Services:
        discovery = load_discovery(settings.distinct_service_ids)
        storage = build_storage(settings)
        return cls(
            settings,
            discovery,
            service_definitions(discovery),
            build_verifier(settings, storage),
            storage,
            FeedbackStore(storage),
            settings.url_policy(),
        )

    def as_of(self) -> date:
        return self.settings.as_of or date.today()

    def data_source(
        self, definition: ServiceDefinition, hook: HookRequest, deadline: Deadline
    ) -> DataSource:
        return DataSource(
            definition.prefetch,
            lambda: self.fhir_client(hook, deadline),
            self.settings.fetch_workers,
        )

    def fhir_client(self, hook: HookRequest, deadline: Deadline) -> FhirClient | None:
        """A client of the request's FHIR server (``None`` when it names none)."""
        if hook.fhir_server is None:
            return None
        limits = FhirLimits(
            self.settings.fhir_timeout_seconds,
            self.settings.fhir_max_pages,
            self.settings.fhir_max_bytes,
        )
        return FhirClient(
            hook.fhir_server,
            hook.access_token,
            self.session_factory(),
            limits,
            deadline,
            self.url_policy,
        )
