"""The only HTTP client of the service: reads and searches on the EHR's FHIR server.

Every failure becomes one typed :class:`FhirFetchError` with a short reason that names no patient
data: unauthorised, forbidden, not found, server error, timeout, not FHIR, too large, too many
pages.
Searches follow ``next`` links up to a bound. Each response is streamed with a byte cap and the
call's deadline, so a slow-dripping or huge response cannot hold the request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import orjson
import requests

from cds.fhir.record import entries_of

Resource = dict[str, Any]
CHUNK_BYTES = 64 * 1024


class FhirFetchError(Exception):
    """A FHIR request that gave no usable resource; ``kind`` is machine-readable."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Deadline:
    """An absolute point in (monotonic) time by which the whole call must be done."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        return self.at - self.clock()


@dataclass(frozen=True)
class FhirLimits:
    """Bounds for one call to the FHIR server."""

    request_timeout: float = 2.0
    max_pages: int = 10
    max_bytes: int = 20 * 1024 * 1024


STATUS_KINDS = {401: "unauthorized", 403: "forbidden", 404: "not-found", 410: "not-found"}


class FhirClient:
    """Reads from one FHIR server with an optional bearer token.

    :param session: a ``requests.Session`` (injected so tests can mock it).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        session: requests.Session,
        limits: FhirLimits,
        deadline: Deadline,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.session = session
        self.limits = limits
        self.deadline = deadline

    def get_json(self, url: str) -> Resource:
        """GET one URL and return its JSON object, or raise :class:`FhirFetchError`."""
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise FhirFetchError("timeout", "call deadline reached before the request")
        headers = {"Accept": "application/fhir+json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        timeout = min(self.limits.request_timeout, remaining)
        try:
            with self.session.get(url, headers=headers, timeout=timeout, stream=True) as response:
                body = self.read_capped(response)
                status = response.status_code
        except requests.Timeout as exc:
            raise FhirFetchError("timeout", f"no answer within {timeout:.1f} s") from exc
        except requests.RequestException as exc:
            raise FhirFetchError("unreachable", type(exc).__name__) from exc
        if status in STATUS_KINDS:
            raise FhirFetchError(STATUS_KINDS[status], f"HTTP {status}")
        if status >= 400:
            raise FhirFetchError("server-error", f"HTTP {status}")
        return parse_resource(body)

    def read_capped(self, response: requests.Response) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_content(CHUNK_BYTES):
            size += len(chunk)
            if size > self.limits.max_bytes:
                raise FhirFetchError("too-large", f"response over {self.limits.max_bytes} bytes")
            if self.deadline.remaining() <= 0:
                raise FhirFetchError("timeout", "call deadline reached while reading")
            chunks.append(chunk)
        return b"".join(chunks)

    def on_server(self, url: str) -> bool:
        """Whether an absolute URL lies under this client's base URL (same scheme and host)."""
        return url.startswith(self.base_url)

    def read(self, relative: str) -> Resource:
        """``Type/id`` read."""
        return self.get_json(urljoin(self.base_url, relative))

    def search(self, relative: str) -> list[Resource]:
        """A search: the resources of every page, following ``next`` up to ``max_pages``."""
        url: str | None = urljoin(self.base_url, relative)
        resources: list[Resource] = []
        seen: set[str] = set()
        for _ in range(self.limits.max_pages):
            if url is None:
                return resources
            if url in seen:
                raise FhirFetchError("bad-paging", "a next link points back to a page already read")
            if not self.on_server(url):
                # The bearer token goes only to the FHIR server the EHR named, over its scheme.
                raise FhirFetchError("bad-paging", "a next link points away from the FHIR server")
            seen.add(url)
            page = self.get_json(url)
            if page.get("resourceType") != "Bundle":
                raise FhirFetchError("not-fhir", f"search returned {page.get('resourceType')}")
            resources.extend(
                e["resource"]
                for e in entries_of(page)
                if isinstance(e, dict) and isinstance(e.get("resource"), dict)
            )
            url = next_link(page)
        if url is not None:
            raise FhirFetchError("too-many-pages", f"more than {self.limits.max_pages} pages")
        return resources


def next_link(bundle: Resource) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) and url else None
    return None


def parse_resource(body: bytes) -> Resource:
    """The body as a FHIR resource, refusing HTML error pages, truncated JSON and non-resources."""
    try:
        data = orjson.loads(body)  # refuses nesting deeper than 1,024 levels
    except (orjson.JSONDecodeError, RecursionError) as exc:
        raise FhirFetchError("not-fhir", "the response is not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise FhirFetchError("not-fhir", "the response is not a FHIR resource")
    if data["resourceType"] == "OperationOutcome":
        raise FhirFetchError("operation-outcome", "the server answered with an OperationOutcome")
    return data
