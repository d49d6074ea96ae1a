"""The Flask application: configuration, routes, CORS and errors as OperationOutcome."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from flask import Flask, Response, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from cds.app.routes import build_app_blueprint
from cds.app.sessions import SessionStore
from cds.app.settings import APP_DEFAULTS, AppSettings
from cds.errors import CdsError
from cds.fhir import units, validate
from cds.service import proxies
from cds.service.config import DEFAULTS, Settings
from cds.storage import StorageUnavailable

if TYPE_CHECKING:
    from cds.service.wiring import Services

log = logging.getLogger("cds.service")
access_log = logging.getLogger("cds.access")

ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    412: "not-found",
    413: "too-costly",
    414: "too-long",
    431: "too-long",
    500: "exception",
    502: "transient",
    503: "transient",
}


RETRY_AFTER_SECONDS = 2  # on 503 while the database is unavailable


def outcome_body(status: int, message: str) -> dict[str, Any]:
    """A FHIR OperationOutcome for an error answer (also the front server's, see server.py)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": ISSUE_CODES.get(status, "processing"),
                "diagnostics": message,
            }
        ],
    }


def operation_outcome(status: int, message: str) -> Response:
    """A FHIR OperationOutcome as the body of an error response."""
    response = jsonify(outcome_body(status, message))
    response.status_code = status
    response.mimetype = "application/fhir+json"
    return response


UNAUTHORIZED_MESSAGE = "the request is not authorised (the reason is in the service's log)"


def register_errors(app: Flask) -> None:
    @app.errorhandler(CdsError)
    def cds_error(exc: CdsError) -> Response:
        g.reason = str(exc)
        if exc.status_code == 401:
            # The reason (unknown issuer, kid, expired…) is for the integrator, in the log; a
            # caller without a valid token learns nothing about who or what is trusted.
            response = operation_outcome(401, UNAUTHORIZED_MESSAGE)
            response.headers["WWW-Authenticate"] = 'Bearer realm="cds-services"'  # RFC 6750
            return response
        return operation_outcome(exc.status_code, str(exc))

    @app.errorhandler(StorageUnavailable)
    def storage_unavailable(exc: StorageUnavailable) -> Response:
        # Fail closed: no token is accepted and no feedback acknowledged without the database.
        log.warning("%s %s answered 503: %s", request.method, request.path, exc)
        response = operation_outcome(503, "the service's database is unavailable; retry later")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = "request body too large" if status == 413 else exc.description or exc.name
        g.reason = message
        return operation_outcome(status, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        # The trace goes to the log (never to the caller); it carries no request data.
        log.exception("unexpected error on %s %s", request.method, request.path)
        g.reason = f"unexpected {type(exc).__name__}"
        return operation_outcome(500, "internal error; see the service log")


def register_access_log(app: Flask) -> None:
    """One line per request, for an integrator: what was called, by whom, and how it ended.

    It names the route (never the path with its ids), the service, the hookInstance, the
    client's issuer (``claimed`` when its token was refused) and, for a refusal, the reason.
    No patient data: the reasons are the service's own words.
    """

    @app.before_request
    def start_clock() -> None:
        g.started = time.monotonic()

    @app.after_request
    def access_line(response: Response) -> Response:
        fields = {
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else "-",
            "status": response.status_code,
            "ms": round((time.monotonic() - g.get("started", time.monotonic())) * 1000),
            "service": g.get("service_id"),
            "hookInstance": g.get("hook_instance"),
            "issuer": g.get("client_issuer"),
            # The peer, or the client a trusted proxy names (CDS_TRUSTED_PROXY, proxies.py).
            "client": request.remote_addr,
            "cards": g.get("cards"),
            "feedback": g.get("feedback"),
            "reason": g.get("reason"),
        }
        if fields["issuer"] is not None and response.status_code == 401:
            fields["issuer"] = f"{fields['issuer']} (claimed)"
        access_log.log(
            logging.WARNING if response.status_code >= 500 else logging.INFO,
            " ".join(
                f"{name}={loggable(value)}" for name, value in fields.items() if value is not None
            ),
        )
        return response


def loggable(value: object) -> str:
    """A value as one log token: numbers as they are, text quoted and bounded (no line breaks)."""
    if isinstance(value, int):
        return str(value)
    return repr(str(value)[:200])


def register_headers(app: Flask) -> None:
    @app.after_request
    def no_store(response: Response) -> Response:
        # Answers carry patient data: no cache, shared or private, may keep them (RFC 9111).
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def register_cors(app: Flask, origins: str) -> None:
    @app.after_request
    def cors(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = origins
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        return response


class OrjsonProvider(DefaultJSONProvider):
    """orjson parses a request body 2–3× faster than the standard library (BENCHMARKS.md).

    It is strict JSON: NaN, Infinity and integers beyond 64 bits are refused, which a FHIR
    payload never needs.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The HTTP client's own loggers write the URLs they open, with the patient id in them, at
    # DEBUG and in some warnings ("Failed to parse headers (url=…)"): they are silenced at every
    # level. The service's own lines say what failed, without the URL.
    for name in ("urllib3", "requests", "charset_normalizer"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def create_app(test_config: dict[str, Any] | None = None, *, announce: bool = True) -> Flask:
    """Build the app: defaults, then ``CDS_*`` environment variables, or ``test_config``.

    :param announce: log the start-up warnings (a server's supervisor does it once for all).
    :raise ConfigError: when a setting or a file it names is unusable.
    """
    app = Flask("cds")
    app.json = OrjsonProvider(app)
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(APP_DEFAULTS)
    if test_config is None:
        app.config.from_prefixed_env("CDS")
    else:
        app.config.update(test_config)
    settings = Settings.from_config(app.config)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    configure_logging(settings.log_level)
    if not settings.database_url:  # the SQLite file's folder
        Path(settings.database).parent.mkdir(parents=True, exist_ok=True)

    from cds.service.api import build_blueprint
    from cds.service.wiring import Services

    services = Services.build(settings)
    app.extensions["hcc_cds"] = services
    if announce:
        for warning in startup_warnings(services):
            log.warning("%s", warning)
    units.warm_up()
    validate.warm_up()
    app.register_blueprint(build_blueprint(services))
    app_settings = AppSettings.from_config(app.config)
    services.app_registered = app_settings.client_id is not None
    sessions = SessionStore(services.storage, app_settings.session_seconds)
    app.register_blueprint(build_app_blueprint(services, app_settings, sessions))
    register_errors(app)
    register_cors(app, settings.cors_origins)
    register_headers(app)
    register_access_log(app)
    proxies.install(app, settings.trusted_proxy)
    return app


def startup_warnings(services: Services) -> list[str]:
    found = services.settings.startup_warnings()
    if services.verifier is not None and services.verifier.issuer_count == 0:
        found.append(
            "no CDS client is trusted (CDS_TRUSTED_ISSUERS_FILE and CDS_TRUST_SANDBOX unset): "
            "every hook call will be refused with 401"
        )
    return found
