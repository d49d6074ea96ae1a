"""The test EHR's OAuth 2.0 authorization server: Authlib's server components, on loopback.

It does what a SMART EHR's authorization server does and no more: registered clients (public,
or confidential with a secret), a login form, authorization codes bound to PKCE S256 (required),
``aud`` checked against the FHIR base URL, launch ids minted by the "EHR" for a patient and
returned as the token response's ``patient``. Everything OAuth is Authlib's; only storage is
plain dicts here.

    server = start_auth_server(fhir_base)      # a thread serving http://127.0.0.1:<port>
    server.register_client("hcc-app", ["http://…/app/callback"], secret=None)
    launch = server.mint_launch("Patient/p40")
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, redirect, request
from werkzeug.serving import make_server

LOGIN_FORM = """<!doctype html><title>Test EHR sign-in</title>
<form method="post"><label>User <input name="username" value="dr-lee"></label>
<input type="hidden" name="consent" value="yes">
<button type="submit" id="sign-in">Sign in and allow</button></form>"""


@dataclass
class Client:
    client_id: str
    redirect_uris: list[str]
    secret: str | None = None
    scope: str = "launch launch/patient openid fhirUser patient/*.rs patient/*.read"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(self.scope.split())
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self.secret is not None and secrets.compare_digest(client_secret, self.secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == ("client_secret_basic" if self.secret else "none")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    patient: str
    code_challenge: str | None
    code_challenge_method: str | None
    issued: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.time() - self.issued > 60


@dataclass
class State:
    fhir_base: str
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    launches: dict[str, str] = field(default_factory=dict)  # launch id → Patient id
    tokens: list[dict[str, Any]] = field(default_factory=list)
    standalone_patient: str | None = None  # the patient picked in a standalone launch
    token_error: str | None = None  # make the token endpoint refuse (a failure test)


def build_app(state: State) -> Flask:
    app = Flask("test-ehr-auth")
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": 3600}

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic"]

        def save_authorization_code(self, code: str, req: Any) -> None:
            launch = request.values.get("launch")
            patient = state.launches.get(launch) if launch else state.standalone_patient
            if patient is None:
                raise InvalidRequestError("unknown launch")
            state.codes[code] = Code(
                code,
                req.client.client_id,
                req.payload.redirect_uri,
                req.scope,
                req.user,
                patient,
                request.values.get("code_challenge"),
                request.values.get("code_challenge_method"),
            )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            item = state.codes.get(code)
            if item and item.client_id == client.client_id and not item.is_expired():
                return item
            return None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            state.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> str:
            return authorization_code.user

    def save_token(token: dict[str, Any], req: Any) -> None:
        state.tokens.append(dict(token))

    server = AuthorizationServer(app, query_client=state.clients.get, save_token=save_token)
    server.register_grant(CodeGrant, [CodeChallenge(required=True), SmartLaunchContext()])

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        if request.values.get("aud", "").rstrip("/") != state.fhir_base:
            return "aud must be the FHIR base URL", 400
        if request.values.get("code_challenge_method") != "S256":
            return "PKCE S256 required", 400
        grant = server.get_consent_grant(end_user=None)  # checks client and redirect URI
        launch = request.values.get("launch")
        if launch is not None and launch not in state.launches:
            # An error the client can see: back to its (registered) redirect URI.
            query = urlencode({"error": "invalid_request", "state": request.values["state"]})
            return redirect(f"{request.values['redirect_uri']}?{query}")
        if request.method == "GET":
            return LOGIN_FORM
        return server.create_authorization_response(
            grant=grant, grant_user=request.form["username"]
        )

    @app.post("/token")
    def token() -> Any:
        if state.token_error:
            return {"error": state.token_error}, 400
        return server.create_token_response()

    return app


class SmartLaunchContext:
    """A grant extension: the token response names the patient the code was bound to."""

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_create_token_response", self.add_patient)

    @staticmethod
    def add_patient(grant: Any, response: Any) -> None:
        _, token, _ = response
        token["patient"] = grant.request.authorization_code.patient.removeprefix("Patient/")


class AuthServer:
    """The authorization server on a loopback port, in a thread."""

    def __init__(self, fhir_base: str) -> None:
        self.state = State(fhir_base.rstrip("/"))
        self.http = make_server("127.0.0.1", 0, build_app(self.state), threaded=True)
        self.base_url = f"http://127.0.0.1:{self.http.server_port}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def smart_configuration(self) -> dict[str, Any]:
        """What the EHR's FHIR server publishes at .well-known/smart-configuration."""
        return {
            "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token",
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "grant_types_supported": ["authorization_code"],
            "scopes_supported": ["openid", "fhirUser", "launch", "launch/patient", "patient/*.rs"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "capabilities": [
                "launch-ehr",
                "launch-standalone",
                "client-public",
                "client-confidential-symmetric",
                "context-ehr-patient",
                "context-standalone-patient",
                "permission-v2",
                "permission-v1",
            ],
        }

    def register_client(
        self, client_id: str, redirect_uris: list[str], secret: str | None = None
    ) -> None:
        self.state.clients[client_id] = Client(client_id, redirect_uris, secret)

    def mint_launch(self, patient: str) -> str:
        """What the EHR does before it opens the app: a launch id bound to the chart's patient."""
        launch = secrets.token_urlsafe(12)
        self.state.launches[launch] = patient
        return launch

    def stop(self) -> None:
        self.http.shutdown()
        self.thread.join(timeout=5)
