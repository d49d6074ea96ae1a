"""Everything a request needs, built once per process from the settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import requests

from cds.fhir.client import Deadline, FhirClient, FhirLimits
from cds.fhir.source import DataSource
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


def build_verifier(settings: Settings) -> JwtVerifier | None:
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
        ReplayCache(settings.database),
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
    feedback: FeedbackStore
    executor: Executor  # concurrent FHIR fetches
    calls: Executor  # whole hook calls, so that the deadline bounds them (api.call_service)
    session_factory: Callable[[], requests.Session] = requests.Session
    app_registered: bool = False  # the SMART work-up app has a client id: cards link to it

    @classmethod
    def build(cls, settings: Settings) -> Services:
        discovery = load_discovery()
        workers = settings.fetch_workers
        return cls(
            settings,
            discovery,
            service_definitions(discovery),
            build_verifier(settings),
            FeedbackStore(settings.database),
            ThreadPoolExecutor(workers, thread_name_prefix="fhir-fetch"),
            ThreadPoolExecutor(workers, thread_name_prefix="hook-call"),
        )

    def as_of(self) -> date:
        return self.settings.as_of or date.today()

    def data_source(
        self, definition: ServiceDefinition, hook: HookRequest, deadline: Deadline
    ) -> DataSource:
        limits = FhirLimits(
            self.settings.fhir_timeout_seconds,
            self.settings.fhir_max_pages,
            self.settings.fhir_max_bytes,
        )

        def make_client() -> FhirClient | None:
            if hook.fhir_server is None:
                return None
            return FhirClient(
                hook.fhir_server, hook.access_token, self.session_factory(), limits, deadline
            )

        return DataSource(definition.prefetch, self.executor, make_client)
