"""The one URL parser: canonical or refused; https; allow-list at a path-segment boundary."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from requests.models import PreparedRequest
from urllib3.util import parse_url

from cds.fhir.url_policy import AllowedUrl, UrlPolicy, UrlRefused, parse_allowed

DEV = UrlPolicy(allow_loopback_http=True)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # The security review's cases.
        ("http://2130706433:8412\\@127.0.0.1/fhir", "backslash"),
        ("http://127.0.0.1:8411@localhost:8412/fhir", "user information"),
        ("https://user:pw@fhir.example.org/r4", "user information"),
        # Numeric hosts that WHATWG reads as IPv4 numbers, and other host tricks.
        ("http://2130706433/fhir", "dotted-quad"),
        ("http://0x7f.1/fhir", "dotted-quad"),
        ("http://127.1/fhir", "dotted-quad"),
        ("http://0177.0.0.1/fhir", "dotted-quad"),
        ("http://127.0.0.01/fhir", "dotted-quad"),
        ("http://256.0.0.1/fhir", "dotted-quad"),
        ("https://fhir.example.org./r4", "DNS name"),
        ("https://fhir_example.org/r4", "DNS name"),
        ("https://fhir%2eexample.org/r4", "DNS name"),
        ("https://fhïr.example.org/r4", "ASCII"),
        ("https://[::1%25eth0]/r4", "zone"),
        ("https://[::ffff:127.0.0.1]/r4", "IPv4-mapped"),
        ("https://[::1/r4", "IPv6"),
        ("https://fhir.example.org:0443/r4", "port"),
        ("https://fhir.example.org:99999/r4", "port"),
        ("https://fhir.example.org:/r4", "port"),
        # Encodings and paths readers could disagree on.
        ("https://fhir.example.org/r4/%2e%2e/admin", "upper-case"),
        ("https://fhir.example.org/r4/%2E%2E/admin", "'.' must not be percent-encoded"),
        ("https://fhir.example.org/r4%2Fadmin", "%2F"),
        ("https://fhir.example.org/r4%5Cadmin", "%5C"),
        ("https://fhir.example.org/%7Er4", "'~' must not be percent-encoded"),
        ("https://fhir.example.org/r4/../admin", "'..'"),
        ("https://fhir.example.org//r4", "empty segments"),
        ("https://fhir.example.org/r 4", "ASCII"),
        ("https://fhir.example.org/r4\t", "ASCII"),
        ("https://fhir.example.org/r4#x", "fragment"),
        ("https://fhir.example.org/r4?x=1", "query"),
        ("ftp://fhir.example.org/r4", "http(s)"),
        ("//fhir.example.org/r4", "http(s)"),
        ("fhir.example.org/r4", "http(s)"),
        ("", "must be a URL"),
        (None, "must be a URL"),
    ],
)
def test_ambiguous_urls_are_refused(url, reason):
    """Anything two URL readers could read differently is refused, with the reason."""
    with pytest.raises(UrlRefused, match=re.escape(reason)):
        parse_allowed(url, DEV)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://fhir.example.org/r4", "https://fhir.example.org/r4"),
        ("HTTPS://FHIR.Example.ORG/r4", "https://fhir.example.org/r4"),
        ("https://fhir.example.org:443/r4/", "https://fhir.example.org/r4/"),
        ("https://fhir.example.org:8443/r4", "https://fhir.example.org:8443/r4"),
        ("https://10.1.2.3/fhir", "https://10.1.2.3/fhir"),
        ("https://[2001:DB8:0:0::1]/fhir", "https://[2001:db8::1]/fhir"),
        ("https://xn--fhr-4ma.example.org/r4", "https://xn--fhr-4ma.example.org/r4"),
        ("https://fhir.example.org/r4/Patient%20x", "https://fhir.example.org/r4/Patient%20x"),
        ("http://127.0.0.1:8080/fhir", "http://127.0.0.1:8080/fhir"),
        ("http://localhost:8080/fhir", "http://localhost:8080/fhir"),
        ("http://[::1]:8080/fhir", "http://[::1]:8080/fhir"),
    ],
)
def test_canonical_urls_are_accepted(url, canonical):
    assert parse_allowed(url, DEV).url == canonical


@pytest.mark.parametrize(
    "url",
    ["http://fhir.example.org/r4", "http://10.0.0.1/r4", "http://127.0.0.2.nip.io/r4"],
)
def test_plain_http_is_refused_except_to_loopback_in_development(url):
    with pytest.raises(UrlRefused, match="https"):
        parse_allowed(url, DEV)
    with pytest.raises(UrlRefused, match="https"):
        parse_allowed("http://127.0.0.1/r4", UrlPolicy())


@pytest.mark.parametrize(
    ("entry", "url", "admitted"),
    [
        ("https://fhir.hospital.org", "https://fhir.hospital.org/r4", True),
        ("https://fhir.hospital.org", "https://fhir.hospital.org.evil.example/", False),
        ("https://fhir.hospital.org/r4", "https://fhir.hospital.org/r4", True),
        ("https://fhir.hospital.org/r4", "https://fhir.hospital.org/r4/", True),
        ("https://fhir.hospital.org/r4/", "https://fhir.hospital.org/r4", True),
        ("https://fhir.hospital.org/r4", "https://fhir.hospital.org/r4/Patient", True),
        ("https://fhir.hospital.org/r4", "https://fhir.hospital.org/r4x", False),
        ("https://fhir.hospital.org/r4", "https://fhir.hospital.org/r5", False),
        ("https://fhir.hospital.org/r4", "https://fhir.hospital.org:8443/r4", False),
        ("https://fhir.hospital.org:443/r4", "https://fhir.hospital.org/r4", True),
        ("http://127.0.0.1:8411", "http://127.0.0.1:8412/fhir", False),
        ("http://127.0.0.1:8411", "http://localhost:8411/fhir", False),
        ("http://127.0.0.1:8411", "http://127.0.0.1:8411/fhir", True),
    ],
)
def test_allow_list_matches_scheme_host_port_and_path_at_a_segment(entry, url, admitted):
    policy = UrlPolicy.build([entry], allow_loopback_http=True)
    if admitted:
        assert parse_allowed(url, policy).url
    else:
        with pytest.raises(UrlRefused, match="allow-list"):
            parse_allowed(url, policy)


def test_a_malformed_allow_list_entry_is_refused_naming_it():
    with pytest.raises(UrlRefused, match="'https://u@fhir.example'"):
        UrlPolicy.build(["https://u@fhir.example"])


def test_next_links_keep_their_query_as_the_client_sends_it():
    """A search query is kept (quoted as requests would quote it), never the server choice."""
    url = parse_allowed(
        "https://fhir.example.org/r4/Observation?code=http://loinc.org|1975-2&_count=5",
        UrlPolicy(),
        allow_query=True,
    )
    assert (
        url.url == "https://fhir.example.org/r4/Observation?code=http://loinc.org%7C1975-2&_count=5"
    )
    assert url.is_under(parse_allowed("https://fhir.example.org/r4", UrlPolicy()))


URL_TEXT = st.lists(
    st.sampled_from([*"ab1-.:@/\\%?#[]2F5CE0x7f ", "127", "0x", "::", "localhost"]),
    max_size=20,
).map("".join)


@given(scheme=st.sampled_from(["http://", "https://", "HTTP://"]), rest=URL_TEXT)
def test_an_accepted_url_means_the_same_to_the_http_client(scheme, rest):
    """Whatever is accepted, urllib3 (which connects) and requests read the same host and port."""
    try:
        url = parse_allowed(scheme + rest, DEV, allow_query=True)
    except UrlRefused:
        return
    assert isinstance(url, AllowedUrl)
    parsed = parse_url(url.url)
    assert (parsed.host or "").strip("[]") == url.host
    assert (parsed.port or {"http": 80, "https": 443}[url.scheme]) == url.port
    assert parsed.auth is None
    prepared = PreparedRequest()
    prepared.prepare_url(url.url, None)
    assert parse_url(prepared.url).host == parsed.host
