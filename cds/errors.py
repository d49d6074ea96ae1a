"""Errors the command line and the API turn into a clear message (never a traceback)."""

from __future__ import annotations


class CdsError(Exception):
    """Base for errors that end a request or command with a message."""

    status_code = 500


class InputError(CdsError):
    """The input is not something the service can read (not JSON, not FHIR, no Patient)."""

    status_code = 400


class InvalidHookRequest(CdsError):
    """A CDS Hooks request that is malformed or misses a required field."""

    status_code = 400


class UnknownService(CdsError):
    """No CDS service with that id."""

    status_code = 404


class MissingData(CdsError):
    """Required FHIR data could not be obtained from prefetch or the FHIR server (spec: 412)."""

    status_code = 412


class ConfigError(CdsError):
    """The service's configuration (a setting or a file it names) is unusable."""

    status_code = 500
