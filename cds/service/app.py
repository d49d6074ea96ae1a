"""The Flask application: configuration, routes, CORS and errors as OperationOutcome."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
from flask import Flask, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from cds.app.routes import build_app_blueprint
from cds.app.sessions import SqliteSessionStore
from cds.app.settings import APP_DEFAULTS, AppSettings
from cds.errors import CdsError
from cds.fhir.units import warm_up
from cds.service.config import DEFAULTS, Settings

log = logging.getLogger("cds.service")

ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    412: "not-found",
    413: "too-costly",
    500: "exception",
    502: "transient",
}


def operation_outcome(status: int, message: str) -> Response:
    """A FHIR OperationOutcome as the body of an error response."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": ISSUE_CODES.get(status, "processing"),
                "diagnostics": message,
            }
        ],
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/fhir+json"
    return response


def register_errors(app: Flask) -> None:
    @app.errorhandler(CdsError)
    def cds_error(exc: CdsError) -> Response:
        response = operation_outcome(exc.status_code, str(exc))
        if exc.status_code == 401:  # RFC 6750: say which scheme is expected
            response.headers["WWW-Authenticate"] = 'Bearer realm="cds-services"'
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = "request body too large" if status == 413 else exc.description or exc.name
        return operation_outcome(status, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        # The trace goes to the log (never to the caller); it carries no request data.
        log.exception("unexpected error on %s %s", request.method, request.path)
        return operation_outcome(500, "internal error; see the service log")


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


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``CDS_*`` environment variables, or ``test_config``."""
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
    logging.basicConfig(level=settings.log_level)
    Path(settings.database).parent.mkdir(parents=True, exist_ok=True)

    from cds.service.api import build_blueprint
    from cds.service.wiring import Services

    services = Services.build(settings)
    app.extensions["hcc_cds"] = services
    warm_up()
    app.register_blueprint(build_blueprint(services))
    app_settings = AppSettings.from_config(app.config)
    services.app_registered = app_settings.client_id is not None
    sessions = SqliteSessionStore(settings.database, app_settings.session_seconds)
    app.register_blueprint(build_app_blueprint(services, app_settings, sessions))
    register_errors(app)
    register_cors(app, settings.cors_origins)
    return app
