"""The app's routes under /app: launch, callback, the work-up page, the demo and the CSS.

Tokens stay in the server-side session; the browser only holds the session id, in a cookie that
is HttpOnly and, off loopback, ``Secure; SameSite=None; Partitioned`` so that it works inside
the EHR's cross-site iframe. Every page says which EHR origins may frame it (CSP).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from flask import Blueprint, Response, redirect, request, send_from_directory
from werkzeug.exceptions import HTTPException

from cds.app.errors import AppError, error_page
from cds.app.iss_policy import IssNotAllowed, allowed_iss
from cds.app.sessions import SessionStore
from cds.app.settings import AppSettings
from cds.app.smart import Client, SmartError, authorization_request, discover, exchange_code
from cds.app.workup import demo_page, workup_page
from cds.service.loopback import loopback_request, public_or_local_base

if TYPE_CHECKING:
    from cds.service.wiring import Services

log = logging.getLogger("cds.app")
COOKIE = "hcc_app_session"
STATIC = Path(__file__).resolve().parent / "static"
MAX_PARAM = 2048  # iss, launch, code and state are far shorter


def security_headers(response: Response, settings: AppSettings) -> Response:
    ancestors = " ".join(("'self'", *settings.frame_ancestors))
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        f"form-action 'self'; frame-ancestors {ancestors}"
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the callback URL holds the code
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def set_session_cookie(response: Response, session_id: str, settings: AppSettings) -> None:
    secure = settings.cookie_secure == "true" or (
        settings.cookie_secure == "auto" and not loopback_request()
    )
    # SameSite=None needs Secure (browsers drop it otherwise); without Secure, on loopback only,
    # the cookie is Lax: no cross-site iframe there, and top-level redirects still carry it.
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=settings.session_seconds,
        path="/app",
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
        partitioned=secure,
    )


def param(name: str) -> str | None:
    value = request.args.get(name)
    if value is not None and (value == "" or len(value) > MAX_PARAM):
        raise AppError("bad_launch", 400, f"{name} empty or too long")
    return value


def build_app_blueprint(
    services: Services, settings: AppSettings, store: SessionStore
) -> Blueprint:
    bp = Blueprint("smart_app", __name__, url_prefix="/app")
    service = services.settings

    def client() -> Client:
        if not settings.client_id:
            raise AppError("not_configured", 503)
        # The redirect URI: under the public base URL, or the request's own on loopback only
        # (never a Host header's choice).
        base = public_or_local_base(service.public_base_url)
        if base is None:
            raise AppError("not_configured", 503)
        return Client(
            settings.client_id,
            settings.client_secret,
            f"{base}/app/callback",
            settings.scopes,
            settings.http_timeout_seconds,
        )

    def current_session() -> tuple[str, dict[str, Any]]:
        session_id = request.cookies.get(COOKIE)
        data = store.load(session_id) if session_id else None
        if session_id is None or data is None:
            raise AppError("session_expired", 401)
        return session_id, data

    @bp.get("/launch")
    def launch() -> Response:
        """EHR launch (``iss`` and ``launch``) or standalone launch (``iss`` or the default)."""
        smart_client = client()
        iss, launch_id = param("iss"), param("launch")
        iss = iss or settings.default_iss
        if iss is None:
            raise AppError("no_iss", 400)
        try:
            iss = allowed_iss(iss, services.url_policy)
        except IssNotAllowed as exc:
            raise AppError("iss_not_allowed", 403, str(exc)) from None
        endpoints = discover(iss, settings.http_timeout_seconds, services.url_policy)
        url, pending = authorization_request(smart_client, endpoints, iss, launch_id)
        session_id = store.create({"iss": iss, "created": time.time()})
        store.put_pending(session_id, pending["state"], pending)
        response = redirect(url, 302)
        set_session_cookie(response, session_id, settings)
        log.info(
            "app launch: %s launch to %s",
            "EHR" if launch_id else "standalone",
            urlparse(iss).netloc,
        )
        return response

    @bp.get("/callback")
    def callback() -> Response:
        """The authorization server's answer: check ``state``, then exchange the code."""
        session_id, data = current_session()
        state = param("state")
        # Taken once (atomically, in the storage): a replayed or forged state finds nothing.
        pending = store.take_pending(session_id, state) if state else None
        if pending is None:
            store.delete(session_id)
            raise AppError("state_mismatch", 400)
        error = param("error")
        if error:
            store.delete(session_id)
            key = "access_denied" if error == "access_denied" else "authorize_error"
            raise AppError(key, 403 if key == "access_denied" else 502, error[:64])
        code = param("code")
        if code is None:
            raise AppError("bad_launch", 400, "no code")
        token = exchange_code(client(), pending, code)
        # A new session id once signed in: an id seen before sign-in is never a key to the token.
        store.delete(session_id)
        expires_in = token.get("expires_in")
        session = {
            "iss": data["iss"],
            "patient": token["patient"],
            "access_token": token["access_token"],
            "expires_at": time.time() + float(expires_in)
            if isinstance(expires_in, int | float)
            else None,
            "scope": token.get("scope") or pending["scope"],
        }
        new_id = store.create(session)
        response = redirect("workup", 303)
        set_session_cookie(response, new_id, settings)
        return response

    @bp.get("/workup")
    def workup() -> Response:
        _, data = current_session()
        if "access_token" not in data:
            raise AppError("session_expired", 401, "sign-in not completed")
        if data.get("expires_at") is not None and data["expires_at"] < time.time():
            raise AppError("session_expired", 401, "access token expired")
        html = workup_page(services, settings, data["iss"], data["access_token"], data["patient"])
        return Response(html, mimetype="text/html")

    @bp.get("/demo")
    def demo() -> Response:
        if not settings.demo:
            raise AppError("not_configured", 404, "demo off")
        return Response(
            demo_page(services, settings, request.args.get("patient")), mimetype="text/html"
        )

    @bp.get("/static/<path:name>")
    def static(name: str) -> Response:
        response = send_from_directory(STATIC, name, max_age=3600)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    @bp.errorhandler(AppError)
    def app_error(exc: AppError) -> Response:
        return error_page(exc.key, exc.status, exc.detail)

    @bp.errorhandler(SmartError)
    def smart_error(exc: SmartError) -> Response:
        log.warning("app launch failed: %s", exc.key)
        return error_page(exc.key, exc.status, exc.detail)

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return error_page("bad_launch" if exc.code == 400 else "internal", exc.code or 500)

    @bp.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_page("internal", 500)

    @bp.after_request
    def headers(response: Response) -> Response:
        return security_headers(response, settings)

    return bp
