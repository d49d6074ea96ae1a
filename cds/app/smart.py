"""SMART App Launch 2.x on Authlib: discovery, the authorize redirect, the code exchange.

Authlib's ``OAuth2Session`` builds the authorization request (PKCE S256: it derives the
challenge from our verifier), sends the token request (client authentication: ``none`` for a
public client, ``client_secret_basic`` for a confidential one) and parses the answer, so no
part of the OAuth protocol is written by hand here. What SMART adds is passed as parameters:
``aud`` (the FHIR base URL, so a token cannot be replayed elsewhere) and ``launch``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

from cds.app.iss_policy import allowed_endpoint
from cds.fhir.url_policy import UrlPolicy

MAX_DISCOVERY_BYTES = 256 * 1024


class SmartError(Exception):
    """A step of the launch failed; ``key`` names the page in the catalogue (app.errors.*)."""

    def __init__(self, key: str, status: int, detail: str = "") -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Client:
    """The app as the EHR registered it."""

    client_id: str
    client_secret: str | None
    redirect_uri: str
    scopes: str
    timeout: float

    def session(self, scope: str | None = None) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=scope or self.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.client_secret else "none",
        )


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str


def discover(iss: str, timeout: float, policy: UrlPolicy) -> Endpoints:
    """``{iss}/.well-known/smart-configuration``: the authorize and token endpoints.

    :raise SmartError: unreachable, not JSON, endpoints missing or not https, or no S256.
    """
    url = f"{iss.rstrip('/')}/.well-known/smart-configuration"
    try:
        with requests.get(
            url, headers={"Accept": "application/json"}, timeout=timeout, stream=True
        ) as response:
            body = response.raw.read(MAX_DISCOVERY_BYTES + 1, decode_content=True)
            status = response.status_code
    except requests.RequestException as exc:
        raise SmartError("discovery_failed", 502, type(exc).__name__) from exc
    if status != 200 or len(body) > MAX_DISCOVERY_BYTES:
        raise SmartError("discovery_failed", 502, f"HTTP {status}")
    try:
        config = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SmartError("discovery_failed", 502, "not JSON") from exc
    if not isinstance(config, dict):
        raise SmartError("discovery_failed", 502, "not a JSON object")
    authorize, token = config.get("authorization_endpoint"), config.get("token_endpoint")
    if not (allowed_endpoint(authorize, policy) and allowed_endpoint(token, policy)):
        raise SmartError("discovery_failed", 502, "endpoints missing or not https")
    methods = config.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise SmartError("discovery_failed", 502, "the server does not support PKCE S256")
    return Endpoints(str(authorize), str(token))


def scopes_for(client: Client, launch: str | None) -> str:
    """An EHR launch asks for ``launch``; a standalone one for ``launch/patient`` instead."""
    scopes = client.scopes.split()
    if launch is None:
        scopes = [s for s in scopes if s != "launch"]
        if "launch/patient" not in scopes:
            scopes.append("launch/patient")
    return " ".join(scopes)


def authorization_request(
    client: Client, endpoints: Endpoints, iss: str, launch: str | None
) -> tuple[str, dict[str, Any]]:
    """The URL to send the browser to, and what the session must remember to finish."""
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 allows 43–128
    scope = scopes_for(client, launch)
    extra = {"aud": iss} | ({"launch": launch} if launch else {})
    url, _ = client.session(scope).create_authorization_url(
        endpoints.authorize, state=state, code_verifier=verifier, **extra
    )
    pending = {"state": state, "verifier": verifier, "scope": scope, "token_url": endpoints.token}
    return url, pending


def exchange_code(client: Client, pending: dict[str, Any], code: str) -> dict[str, Any]:
    """Trade the code for the token response (access token, ``patient``, ``expires_in``…).

    :raise SmartError: the token endpoint refused, failed or gave no patient in context.
    """
    try:
        token = client.session(pending["scope"]).fetch_token(
            pending["token_url"],
            grant_type="authorization_code",
            code=code,
            code_verifier=pending["verifier"],
            timeout=client.timeout,
        )
    except AuthlibBaseError as exc:
        raise SmartError("token_refused", 502, str(exc.error)) from exc
    except (requests.RequestException, ValueError) as exc:
        raise SmartError("token_failed", 502, type(exc).__name__) from exc
    if not token.get("access_token"):
        raise SmartError("token_failed", 502, "no access token")
    if not isinstance(token.get("patient"), str) or not token["patient"]:
        raise SmartError("no_patient", 502, "the token response names no patient")
    return dict(token)
