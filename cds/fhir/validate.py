"""Validate the resources an assessment uses with the fhir.resources R4B models.

R4B matches R4 for every resource read here (fhir.resources 8 has no R4 package). Only resources
that were selected are validated: a whole prefetch Bundle costs 25–40× its JSON parse to validate
(BENCHMARKS.md), one resource costs well under a millisecond.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import orjson

from cds.fhir.record import Resource

if TYPE_CHECKING:  # pydantic comes with the models: a process that never builds them skips it
    from pydantic import ValidationError


class InvalidResource(ValueError):
    """A resource that does not conform to its FHIR R4 model; the message names the field."""


@cache
def model_class(resource_type: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


# The resource types an assessment validates (cds/fhir/extract.py selects only these).
VALIDATED_TYPES = ("Observation", "Patient", "Condition", "Procedure")  # most needed first


def warm_up() -> None:
    """Load the FHIR models now (a service's start-up), not in its first request."""
    for resource_type in VALIDATED_TYPES:
        model_class(resource_type)


def describe_error(resource: Resource, exc: ValidationError) -> str:
    name = f"{resource.get('resourceType')}/{resource.get('id', '?')}"
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__") or "(root)"
    return f"{name} is not valid FHIR R4: {where}: {first.get('msg', 'invalid')}"


def check(resource: Resource) -> None:
    """Validate one resource.

    :raise InvalidResource: naming the resource and the first offending field.
    """
    try:
        cls = model_class(str(resource.get("resourceType")))
    except (KeyError, ValueError) as exc:
        raise InvalidResource(f"unknown resource type {resource.get('resourceType')!r}") from exc
    from pydantic import ValidationError

    try:
        cls.model_validate(resource)
    except ValidationError as exc:
        raise InvalidResource(describe_error(resource, exc)) from exc


VALID_CACHE_SIZE = 50_000  # verdicts kept: a digest and a short text each


def problem(resource: Resource) -> str | None:
    """The validation problem of a resource, or ``None`` when it is valid.

    An EHR sends the same resources again on every chart opening and order hook, and the same
    content always gets the same verdict, so verdicts are cached by a digest of the resource's
    canonical JSON: the cache holds digests, not resources (BENCHMARKS.md shows the cold and
    the warm cost).
    """
    try:
        serialised = orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, RecursionError):
        name = f"{resource.get('resourceType')}/{resource.get('id', '?')}"
        return f"{name} is not valid FHIR R4: nested too deeply or a number out of range"
    digest = hashlib.blake2b(serialised, digest_size=16).digest()
    with _LOCK:
        if digest in _VERDICTS:
            return _VERDICTS[digest]
    verdict = _validator(resource)
    with _LOCK:
        _VERDICTS[digest] = verdict
        if len(_VERDICTS) > VALID_CACHE_SIZE:
            del _VERDICTS[next(iter(_VERDICTS))]  # forget the oldest
    return verdict


def verdict_here(resource: Resource) -> str | None:
    """The verdict computed in this process (the models are built on first use)."""
    try:
        check(resource)
    except InvalidResource as exc:
        return str(exc)
    return None


Validator = Callable[[Resource], "str | None"]

_LOCK = threading.Lock()
_VERDICTS: dict[bytes, str | None] = {}
_validator: Validator = verdict_here


def delegate(validator: Validator | None) -> None:
    """Have ``validator`` compute the verdicts not cached (``None``: this process again).

    It must give :func:`verdict_here`'s verdict; the command line's validation worker
    (:mod:`cds.fhir.validation_worker`) runs that very function in another process.
    """
    global _validator
    _validator = validator or verdict_here


def current_validator() -> Validator:
    return _validator


def clear_cache() -> None:
    """Forget every cached verdict (the benchmark measures the cold cost with it)."""
    with _LOCK:
        _VERDICTS.clear()
