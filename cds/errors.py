"""Errors the command line and the API turn into a clear message (never a traceback)."""

from __future__ import annotations


class CdsError(Exception):
    """Base for errors that end a request or command with a message."""

    status_code = 500


class InputError(CdsError):
    """The input is not something the service can read (not JSON, not FHIR, no Patient)."""

    status_code = 400
