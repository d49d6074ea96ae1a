"""CDS_TRUSTED_PROXY: which forwarded headers are believed, and who the client is.

The address logic table-driven; then the WSGI layer around a recording app; then the Flask app
(its access line and its 400 for a trusted proxy's malformed header). The real server, with
real HAProxy chains in front, is in tests/test_serve.py.
"""

from __future__ import annotations

import logging

import pytest

from cds import create_app
from cds.errors import ConfigError
from cds.service.proxies import (
    FORWARDED_HEADERS,
    ForwardedHeaders,
    MalformedForwarded,
    TrustedProxies,
    address_of,
)
from tests.api.conftest import app_config

PROXIES = TrustedProxies.parse("10.0.0.5, 10.0.1.0/24 2001:db8::/64")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # an untrusted peer: its header is not believed, whatever it says
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
        ("10.0.0.6", "198.51.100.1", "10.0.0.6"),  # next to a listed address, not on the list
        ("10.0.2.1", "198.51.100.1", "10.0.2.1"),  # just outside the /24
        # a trusted peer without the header: the peer
        ("10.0.0.5", None, "10.0.0.5"),
        ("10.0.0.5", "", "10.0.0.5"),
        # one proxy
        ("10.0.0.5", "198.51.100.1", "198.51.100.1"),
        ("10.0.1.255", "198.51.100.1", "198.51.100.1"),  # the /24's last address
        # a chain: the right-most address that is not a trusted proxy
        ("10.0.0.5", "198.51.100.1, 10.0.1.7", "198.51.100.1"),
        ("10.0.1.7", "198.51.100.1,10.0.0.5", "198.51.100.1"),
        # what the client wrote itself (left of the first untrusted hop) is not believed
        ("10.0.0.5", "192.0.2.66, 198.51.100.1, 10.0.1.7", "198.51.100.1"),
        ("10.0.0.5", "10.0.0.5, 198.51.100.1", "198.51.100.1"),  # a client claiming to be a proxy
        # an untrusted proxy in the chain is the client as far as we can tell
        ("10.0.0.5", "198.51.100.1, 172.16.0.9", "172.16.0.9"),
        # every hop a trusted proxy (a balancer's own request): the left-most
        ("10.0.0.5", "10.0.1.2, 10.0.1.3", "10.0.1.2"),
        # ports, brackets, quotes and IPv4-mapped addresses as proxies write them
        ("10.0.0.5", "198.51.100.1:52100", "198.51.100.1"),
        ("10.0.0.5", "[2001:db8:1::7]:443", "2001:db8:1::7"),
        ("10.0.0.5", '"198.51.100.1"', "198.51.100.1"),
        ("10.0.0.5", "2001:db8:1::7", "2001:db8:1::7"),
        ("::ffff:10.0.0.5", "198.51.100.1", "198.51.100.1"),
        ("2001:db8::1", "198.51.100.1, ::ffff:10.0.1.9", "198.51.100.1"),
    ],
)
def test_client_address(peer, forwarded_for, client):
    assert PROXIES.client(peer, forwarded_for) == client


@pytest.mark.parametrize(
    "forwarded_for",
    ["unknown", "198.51.100.1, garbage", "198.51.100.1,,10.0.1.7", "lb.internal"],
)
def test_a_malformed_hop_read_from_a_trusted_proxy_is_refused(forwarded_for):
    with pytest.raises(MalformedForwarded):
        PROXIES.client("10.0.0.5", forwarded_for)


def test_a_malformed_hop_the_client_wrote_is_never_read():
    """Left of the first untrusted address is the client's text: it is not parsed at all."""
    assert PROXIES.client("10.0.0.5", "garbage, 198.51.100.1") == "198.51.100.1"


@pytest.mark.parametrize(
    ("value", "networks"),
    [
        (None, []),
        ("", []),
        ("10.0.0.5", ["10.0.0.5/32"]),
        ("10.0.0.5,10.0.0.6", ["10.0.0.5/32", "10.0.0.6/32"]),
        ("10.0.0.5 10.0.1.0/24", ["10.0.0.5/32", "10.0.1.0/24"]),
        (" 10.0.0.5 ,  ::1 ", ["10.0.0.5/32", "::1/128"]),
        (["10.0.0.0/8", "fd00::/8"], ["10.0.0.0/8", "fd00::/8"]),
    ],
)
def test_accepted_settings(value, networks):
    assert [str(n) for n in TrustedProxies.parse(value).networks] == networks


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*", "anyone"),
        ("lb.internal", "not an IP address or network"),
        ("10.0.0.5, 10.0.0.300", "'10.0.0.300' is not an IP address"),
        ("10.0.0.5/24", "host bits set: did you mean 10.0.0.0/24"),
        ("10.0.0.0/33", "not an IP address or network"),
        (5, "must be a list"),
        (["10.0.0.5", 7], "must be a list"),
    ],
)
def test_refused_settings_name_the_entry(value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        TrustedProxies.parse(value)


def test_a_bad_setting_stops_the_app_naming_the_variable(tmp_path):
    with pytest.raises(ConfigError, match=r"^CDS_TRUSTED_PROXY: 'lb\.internal' is not"):
        create_app(app_config(tmp_path, TRUSTED_PROXY="10.0.0.5, lb.internal"))


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("10.0.0.1", "10.0.0.1"),
        ("10.0.0.1:80", "10.0.0.1"),
        ("[::1]", "::1"),
        ("[::1]:8080", "::1"),
        ("::1", "::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("", None),
        ("[::1", None),
        ("10.0.0.1:80:80", None),
        ("10.0.0.1:http", None),
        ("[::1]x", None),
        ("[::1]:", None),
        ("10.0.0.1:", None),
        ("example.org", None),
    ],
)
def test_address_of(text, address):
    found = address_of(text)
    assert (None if found is None else str(found)) == address


# --- the WSGI layer --------------------------------------------------------------------------


def through_layer(peer: str, **headers: str) -> dict:
    seen: dict = {}

    def app(environ, start_response):
        seen.update(environ)
        return []

    environ = {"REMOTE_ADDR": peer, "wsgi.url_scheme": "http"}
    environ.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
    ForwardedHeaders(app, PROXIES)(environ, lambda *a: None)
    return seen


FORWARDED = {
    "x_forwarded_for": "198.51.100.1",
    "x_forwarded_proto": "https",
    "x_forwarded_host": "cds.evil.example",
    "x_forwarded_port": "8443",
    "forwarded": "for=192.0.2.1;proto=https",
}


@pytest.mark.parametrize(
    ("peer", "client", "scheme"),
    [("10.0.1.7", "198.51.100.1", "https"), ("203.0.113.9", "203.0.113.9", "http")],
)
def test_the_layer_believes_only_a_trusted_peer_and_removes_every_forwarded_header(
    peer, client, scheme
):
    seen = through_layer(peer, **FORWARDED)
    assert (seen["REMOTE_ADDR"], seen["wsgi.url_scheme"]) == (client, scheme)
    assert not set(FORWARDED_HEADERS) & set(seen)


@pytest.mark.parametrize("proto", ["https, http", "ftp", ""])
def test_a_trusted_proxy_must_send_one_scheme(proto):
    seen = through_layer("10.0.0.5", x_forwarded_proto=proto)
    assert "X-Forwarded-Proto" in seen["hcc_cds.malformed_forwarded_header"]
    assert seen["wsgi.url_scheme"] == "http"


# --- in the app --------------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path):
    return create_app(app_config(tmp_path, TRUSTED_PROXY="10.0.0.5, 10.0.1.0/24"))


def access_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "cds.access"]


def test_the_access_line_names_the_client_behind_two_proxies(app, caplog):
    caplog.set_level(logging.INFO, "cds.access")
    headers = {"X-Forwarded-For": "192.0.2.66, 198.51.100.1, 10.0.1.7"}
    response = app.test_client().get(
        "/healthz", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.5"}
    )
    assert response.status_code == 200
    assert "client='198.51.100.1'" in access_lines(caplog)[-1]


def test_a_trusted_proxys_malformed_header_is_a_400_outcome(app, caplog):
    caplog.set_level(logging.INFO, "cds.access")
    response = app.test_client().get(
        "/healthz",
        headers={"X-Forwarded-For": "unknown"},
        environ_base={"REMOTE_ADDR": "10.0.0.5"},
    )
    assert response.status_code == 400
    assert response.json["resourceType"] == "OperationOutcome"
    assert "X-Forwarded-For" in response.json["issue"][0]["diagnostics"]
    assert "status=400" in access_lines(caplog)[-1]
