"""Name resolution obeys the call's deadline, and the call connects to the addresses it resolved.

No DNS server runs here, so a hanging resolver is ``socket.getaddrinfo`` replaced, in this (the
service's) process, by one that blocks until the test ends; numeric hosts keep the real one. The
FHIR server is the real misbehaving one on loopback, named ``localhost`` so that its name must be
resolved. Time bounds are generous: they only tell "returned by the deadline plus slack" from
"held until the resolver gave up".
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from cds import create_app
from cds.fhir import resolve
from cds.fhir.client import Deadline, FhirFetchError, get_bytes, guarded_session
from cds.fhir.resolve import CallResolver, ResolutionTimeout
from cds.fhir.url_policy import UrlPolicy, parse_allowed
from cds.service import auth
from tests.api.conftest import CheckingClient, app_config
from tests.api.requests_from_fixtures import hook_request, patient_id_of, prefetch_of
from tests.faults.misbehaving_fhir import MisbehavingFhirServer

NAME = "nct00919009_eligible"
URL = "/cds-services/hcc-assessment"
DEADLINE = 1.0
SLACK = 2.5  # seconds past the deadline: room for a loaded machine, far below the hang
HANG_SECONDS = 30.0  # how long the hanging resolver would hold a caller that waited for it

real_getaddrinfo = socket.getaddrinfo


class Resolver:
    """Stands in for ``socket.getaddrinfo``: counts lookups by name; may hang or lie."""

    def __init__(self, hang: bool = False, answer: str | None = None) -> None:
        self.hang, self.answer = hang, answer
        self.released = threading.Event()
        self.lookups: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        flags = args[3] if len(args) > 3 else kwargs.get("flags", 0)
        if flags & socket.AI_NUMERICHOST:
            return real_getaddrinfo(host, port, *args, **kwargs)
        self.lookups.append(host)
        if self.hang:
            self.released.wait(HANG_SECONDS)
            host = "127.0.0.1"  # released at the test's end: answer without asking any DNS
        return real_getaddrinfo(self.answer or host, port, *args, **kwargs)


@pytest.fixture(scope="module")
def fhir():
    with MisbehavingFhirServer(prefetch_of(NAME)["patient"]) as server:
        yield server


def by_name(fhir, mode: str) -> str:
    return fhir.base(mode).replace("127.0.0.1", "localhost")


@pytest.fixture
def resolver(monkeypatch):
    made: list[Resolver] = []

    def install(**kwargs) -> Resolver:
        made.append(Resolver(**kwargs))
        monkeypatch.setattr(socket, "getaddrinfo", made[-1])
        return made[-1]

    yield install
    for each in made:
        each.released.set()  # the resolver threads still waiting end with the test


@pytest.fixture
def client(tmp_path):
    config = app_config(
        tmp_path,
        DEADLINE_SECONDS=DEADLINE,
        FHIR_TIMEOUT_SECONDS=10.0,
        FHIR_ALLOW_LOOPBACK_HTTP=True,
    )
    return CheckingClient(create_app(config).test_client())


def timed_call(client, request):
    started = time.monotonic()
    response = client.post(request.pop("_url", URL), json=request)
    return response, time.monotonic() - started


def fetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fhir-fetch")]


def test_a_hanging_resolver_gives_the_timeout_card_by_the_deadline(client, fhir, resolver):
    """The searches' host never resolves: by the deadline, the insufficient-data card names the
    data as timed out (as for a slow server), and no fetch thread is left waiting."""
    hanging = resolver(hang=True)
    prefetch = {"patient": prefetch_of(NAME)["patient"]}
    request = hook_request(NAME, prefetch=prefetch, fhirServer=by_name(fhir, "fine"))
    response, took = timed_call(client, request)
    assert took < DEADLINE + SLACK
    assert response.status_code == 200
    card = response.json["cards"][0]
    assert card["indicator"] == "warning"
    assert "could not obtain 'labs': timeout" in card["detail"]
    assert hanging.lookups.count("localhost") == 1  # every search of the call waited on one
    for _ in range(50):  # up to 5 s: the fetch threads return at the deadline, not the resolver
        if not fetch_threads():
            break
        time.sleep(0.1)
    assert fetch_threads() == []


def test_a_hanging_resolver_for_the_patient_is_412_by_the_deadline(client, fhir, resolver):
    """Nothing prefetched and the host never resolves: 412 naming a timeout, in time."""
    resolver(hang=True)
    request = hook_request(NAME, prefetch={}, fhirServer=by_name(fhir, "fine"))
    response, took = timed_call(client, request)
    assert took < DEADLINE + SLACK
    assert response.status_code == 412
    assert "timeout" in response.json["issue"][0]["diagnostics"]


def test_a_medication_read_on_the_request_thread_obeys_the_deadline(client, fhir, resolver):
    """order-sign reads a draft's Medication on the request thread: a hanging resolver there
    used to hold the whole call; now the read fails at the deadline and the call answers."""
    hanging = resolver(hang=True)
    order = {
        "resourceType": "MedicationRequest",
        "id": "med-1",
        "status": "draft",
        "intent": "order",
        "medicationReference": {"reference": "Medication/on-the-server"},
        "subject": {"reference": "Patient/x"},
    }
    context = {
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": order}],
        }
    }
    request = hook_request(
        NAME, hook="order-sign", context=context, fhirServer=by_name(fhir, "fine")
    )
    request["context"]["patientId"] = patient_id_of(NAME)
    # Everything else is prefetched: the Medication read is the call's only fetch.
    request["prefetch"]["serviceRequests"] = {"resourceType": "Bundle", "type": "searchset"}
    request["_url"] = "/cds-services/hcc-order-check"
    response, took = timed_call(client, request)
    assert hanging.lookups == ["localhost"]  # the read was attempted, on the request thread
    assert took < DEADLINE + SLACK
    assert response.status_code == 200


def test_a_jku_whose_host_hangs_is_refused_within_its_bound(resolver):
    """The JWKS fetch runs on the request thread: a hanging resolver ends it at its deadline."""
    resolver(hang=True)
    started = time.monotonic()
    with pytest.raises(OSError, match="timeout"):
        auth.fetch_jwks_over_https("https://keys.ehr.example/jwks.json")
    assert time.monotonic() - started < auth.JKU_FETCH_TIMEOUT_SECONDS + SLACK


def test_each_host_is_resolved_once_per_call(client, fhir, resolver):
    """Every search of one call (several connections at once) uses one lookup of the host."""
    counting = resolver()
    prefetch = {"patient": prefetch_of(NAME)["patient"]}
    request = hook_request(NAME, prefetch=prefetch, fhirServer=by_name(fhir, "fine"))
    before = len(fhir.requested)
    response, _ = timed_call(client, request)
    assert response.status_code == 200
    assert len(fhir.requested) - before >= 3  # the searches did reach the server
    assert counting.lookups == ["localhost"]


def test_plain_http_goes_only_to_a_loopback_address(fhir, resolver):
    """http is allowed to a loopback host only: a loopback name that resolves elsewhere (here
    0.0.0.0, which would still reach this machine) is refused before any connection."""
    resolver(answer="0.0.0.0")
    url = parse_allowed(by_name(fhir, "fine") + "/Patient/x", UrlPolicy(allow_loopback_http=True))
    before = len(fhir.requested)
    with guarded_session() as session, pytest.raises(FhirFetchError) as refused:
        get_bytes(session, url, {}, Deadline.after(DEADLINE), 1.0, 1024)
    assert refused.value.kind == "bad-url"
    assert len(fhir.requested) == before


def test_a_loopback_name_that_resolves_to_loopback_is_fetched(fhir, resolver):
    """The same fetch with the real answer: connected to the address, Host still the name."""
    resolver()
    url = parse_allowed(by_name(fhir, "fine") + "/Patient/x", UrlPolicy(allow_loopback_http=True))
    with guarded_session() as session:
        status, body = get_bytes(session, url, {}, Deadline.after(5.0), 5.0, 1024 * 1024)
    assert status == 200
    assert b'"Patient"' in body


# --- the resolver alone ----------------------------------------------------------------------


def test_a_lookup_is_abandoned_at_its_timeout_and_shared_while_it_runs(resolver):
    """Two calls asking for a hanging name share one lookup; each stops waiting at its bound."""
    hanging = resolver(hang=True)
    first, second = CallResolver(), CallResolver()
    started = time.monotonic()
    with pytest.raises(ResolutionTimeout):
        first.addresses("slow.example", 443, 0.2)
    with pytest.raises(ResolutionTimeout):
        second.addresses("slow.example", 443, 0.2)
    assert time.monotonic() - started < 0.4 + SLACK
    assert hanging.lookups == ["slow.example"]


def test_hanging_lookups_hold_a_bounded_number_of_threads(resolver, monkeypatch):
    """With every resolver thread taken by a hanging lookup, further lookups wait in a queue
    (and their fetches time out at the deadline) instead of taking a thread each."""
    hanging = resolver(hang=True)
    monkeypatch.setattr(resolve, "RESOLVER_THREADS", 2)
    shared = resolve._SharedLookups()
    monkeypatch.setattr(resolve, "_SHARED", shared)
    for i in range(5):
        with pytest.raises(ResolutionTimeout):
            CallResolver().addresses(f"slow{i}.example", 443, 0.1)
    assert len(hanging.lookups) == 2  # the other three never reached a thread
    hanging.released.set()  # the queued three run now, still on the stand-in resolver
    shared._pool.shutdown(wait=True)


def test_an_ip_literal_needs_no_lookup(resolver):
    counting = resolver()
    found = CallResolver().addresses("127.0.0.1", 8080, 0.0)
    assert [a[4] for a in found] == [("127.0.0.1", 8080)]
    assert counting.lookups == []
