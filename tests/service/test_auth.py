"""CDS client JWT verification (CDS Hooks 2.0 §Trusting CDS Clients; cds-hooks/docs#188)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cds.errors import CdsError
from cds.service.auth import (
    ConfigError,
    JwtVerifier,
    ReplayCache,
    TrustedIssuer,
    Unauthorized,
    fetch_jwks_over_https,
    load_trusted_issuers,
)
from tests.service.jwt_helpers import (
    AUD,
    ISS,
    JKU,
    NOW,
    OMIT,
    SANDBOX_ISS,
    SANDBOX_JWKS,
    SANDBOX_KID,
    ec_key,
    hs256_forged,
    jwks,
    mint,
    public_jwk,
    rsa_key,
    unsigned,
)

# The public sandbox JWKS as published (tests/external_fixtures, with its licence).
SHARED_SANDBOX_JWKS = (
    Path(__file__).resolve().parents[1] / "external_fixtures" / "cds-hooks-sandbox-jwks.json"
)

EC384 = ec_key()
EC256 = ec_key(ec.SECP256R1())
EC521 = ec_key(ec.SECP521R1())  # ES512 is not an allowed alg
RSA = rsa_key()
JKU_KEY = ec_key()  # published only at JKU
STRANGER = ec_key()  # in no key set
TRUSTED_JWKS = jwks(
    public_jwk(EC384, "ec384"),
    public_jwk(EC256, "ec256"),
    public_jwk(RSA, "rsa"),
    public_jwk(RSA, "rsa-rs384-only", alg="RS384"),
)
RSA_PUBLIC_PEM = RSA.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


@pytest.fixture
def replay():
    """An in-memory replay cache, closed after the test."""
    cache = ReplayCache(":memory:")
    yield cache
    cache.close()


@pytest.fixture
def fetched():
    """The URLs the verifier fetched a JWKS from, in order."""
    return []


@pytest.fixture
def clock():
    """A settable clock, starting at NOW."""
    return [float(NOW)]


@pytest.fixture
def verifier(replay, fetched, clock):
    """A verifier trusting ISS (configured JWKS, plus JKU) and the jku-only issuer."""

    def fetch(url):
        fetched.append(url)
        return jwks(public_jwk(JKU_KEY, "jku-key"))

    issuers = {
        ISS: TrustedIssuer(ISS, TRUSTED_JWKS, (JKU,)),
        "https://jku-only.example.org": TrustedIssuer("https://jku-only.example.org", None, (JKU,)),
    }
    return JwtVerifier(issuers, replay, fetch_jwks=fetch, now=lambda: clock[0])


def bearer(token):
    """The Authorization header value carrying ``token``."""
    return f"Bearer {token}"


ACCEPTED = [
    pytest.param(lambda: mint(EC384, "ec384"), id="ES384"),
    pytest.param(lambda: mint(RSA, "rsa"), id="RS384"),
    pytest.param(lambda: mint(EC256, "ec256", alg="ES256"), id="ES256"),
    pytest.param(lambda: mint(RSA, "rsa", alg="RS256"), id="RS256"),
    pytest.param(lambda: mint(RSA, "rsa-rs384-only"), id="key-alg-matches"),
    pytest.param(lambda: mint(EC384, "ec384", {"aud": ["https://x.example", AUD]}), id="aud-list"),
    pytest.param(lambda: mint(EC384, "ec384", {"exp": NOW - 59}), id="exp-within-leeway"),
    pytest.param(lambda: mint(EC384, "ec384", {"iat": NOW + 59}), id="iat-future-within-leeway"),
    pytest.param(lambda: mint(EC384, "ec384", {"iat": NOW - 3600}), id="iat-at-max-age"),
    pytest.param(lambda: mint(EC384, "ec384", header_overrides={"typ": OMIT}), id="no-typ"),
    pytest.param(lambda: mint(EC384, "ec384", header_overrides={"typ": "jwt"}), id="typ-lower"),
    pytest.param(
        lambda: mint(RSA, "rsa", {"sub": "epic-client-id", "nbf": NOW - 5, "tenant": "t1"}),
        id="epic-extra-claims",
    ),
    pytest.param(
        lambda: mint(JKU_KEY, "jku-key", header_overrides={"jku": JKU}), id="allow-listed-jku"
    ),
]


@pytest.mark.parametrize("make_token", ACCEPTED)
def test_accepts_valid_tokens(verifier, make_token):
    """A well-formed token from a trusted issuer returns its claims."""
    claims = verifier.verify(bearer(make_token()), AUD)
    assert claims["iss"] == ISS


REFUSED = [
    pytest.param(lambda: mint(EC384, "ec384", {"exp": NOW - 61}), "expired", id="expired"),
    pytest.param(lambda: mint(EC384, "ec384", {"iat": NOW + 61}), "future", id="iat-future"),
    pytest.param(lambda: mint(EC384, "ec384", {"iat": NOW - 3601}), "too old", id="iat-too-old"),
    pytest.param(lambda: mint(EC384, "ec384", {"nbf": NOW + 61}), "nbf", id="nbf-future"),
    pytest.param(lambda: mint(EC384, "ec384", {"aud": AUD + "/"}), "aud", id="wrong-aud"),
    pytest.param(
        lambda: mint(EC384, "ec384", {"aud": ["https://x.example"]}), "aud", id="aud-list-without"
    ),
    pytest.param(lambda: mint(EC384, "nobody"), "unknown signing key", id="unknown-kid"),
    pytest.param(lambda: mint(STRANGER, "ec384"), "signature", id="wrong-key-for-kid"),
    pytest.param(lambda: unsigned("ec384"), "alg", id="alg-none"),
    pytest.param(lambda: hs256_forged(RSA_PUBLIC_PEM, "rsa"), "alg", id="hs256-public-key-secret"),
    pytest.param(lambda: mint(EC521, "ec384", alg="ES512"), "alg", id="alg-es512"),
    pytest.param(lambda: mint(EC384, "rsa"), "does not match", id="ec-token-on-rsa-key"),
    pytest.param(lambda: mint(RSA, "rsa-rs384-only", alg="RS256"), "does not match", id="key-alg"),
    pytest.param(lambda: mint(EC256, "ec384", alg="ES256"), "cannot be verified", id="curve"),
    pytest.param(lambda: mint(EC384, OMIT), "kid", id="no-kid"),
    pytest.param(lambda: mint(EC384, "ec384", header_overrides={"typ": "at+jwt"}), "typ", id="typ"),
    pytest.param(
        lambda: mint(EC384, "ec384", {"iss": "https://evil.example"}), "issuer", id="issuer"
    ),
    pytest.param(lambda: mint(EC384, "ec384", {"iss": OMIT}), "issuer", id="no-iss"),
    pytest.param(lambda: mint(EC384, "ec384", {"aud": OMIT}), "aud claim", id="no-aud"),
    pytest.param(lambda: mint(EC384, "ec384", {"jti": OMIT}), "jti claim", id="no-jti"),
    pytest.param(lambda: mint(EC384, "ec384", {"exp": OMIT}), "exp claim", id="no-exp"),
    pytest.param(lambda: mint(EC384, "ec384", {"iat": OMIT}), "iat claim", id="no-iat"),
    pytest.param(lambda: mint(EC384, "ec384", {"jti": ""}), "jti", id="empty-jti"),
    pytest.param(lambda: mint(EC384, "ec384", {"exp": "tomorrow"}), "exp", id="exp-not-number"),
    pytest.param(
        lambda: mint(JKU_KEY, "jku-key", header_overrides={"jku": "https://evil.example/jwks"}),
        "jku",
        id="jku-not-allow-listed",
    ),
    pytest.param(
        lambda: mint(JKU_KEY, "jku-key", {"iss": "https://jku-only.example.org"}),
        "no configured key set",
        id="jku-only-issuer-without-jku",
    ),
]


@pytest.mark.parametrize(("make_token", "reason"), REFUSED)
def test_refuses_untrusted_tokens(verifier, make_token, reason):
    """A token breaking one rule raises Unauthorized naming the rule, never quoting the token."""
    token = make_token()
    with pytest.raises(Unauthorized, match=reason) as excinfo:
        verifier.verify(bearer(token), AUD)
    assert token not in str(excinfo.value)
    assert token.split(".")[1] not in str(excinfo.value)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("Basic dXNlcjpwYXNz", "Bearer"),
        ("Bearer", "Bearer"),
        ("Bearer ", "Bearer"),
        ("Bearer a.b.c d.e.f", "Bearer"),
        ("Bearer not-a-jwt", "malformed"),
        ("Bearer a.b.c", "malformed"),
    ],
)
def test_refuses_missing_or_malformed_header(verifier, header, reason):
    """Anything but ``Bearer <JWT>`` is refused before any key lookup."""
    with pytest.raises(Unauthorized, match=reason):
        verifier.verify(header, AUD)


def test_bearer_scheme_is_case_insensitive(verifier):
    """``bearer`` in lower case is accepted (RFC 6750 schemes are case-insensitive)."""
    assert verifier.verify(f"bearer {mint(EC384, 'ec384')}", AUD)["iss"] == ISS


def test_unauthorized_is_a_401_cds_error():
    """Unauthorized maps to HTTP 401 through the CdsError handler."""
    assert issubclass(Unauthorized, CdsError)
    assert Unauthorized.status_code == 401


def test_algorithm_refused_before_key_lookup(verifier, fetched):
    """An HMAC token naming an allow-listed jku is refused without fetching the key set."""
    forged = hs256_forged(RSA_PUBLIC_PEM, "jku-key", {"jku": JKU})
    with pytest.raises(Unauthorized, match="alg"):
        verifier.verify(bearer(forged), AUD)
    assert fetched == []


# --- replay ------------------------------------------------------------------------------------


def test_replayed_jti_refused(verifier):
    """The same token presented twice is accepted once, then refused as a replay."""
    token = mint(EC384, "ec384")
    verifier.verify(bearer(token), AUD)
    with pytest.raises(Unauthorized, match="already been used"):
        verifier.verify(bearer(token), AUD)


def test_new_jti_from_same_issuer_accepted(verifier):
    """Two tokens with different jti values from one issuer are both accepted."""
    verifier.verify(bearer(mint(EC384, "ec384", {"jti": "a"})), AUD)
    assert verifier.verify(bearer(mint(EC384, "ec384", {"jti": "b"})), AUD)["jti"] == "b"


def test_jti_is_remembered_per_issuer(replay):
    """A jti used by one issuer does not block the same jti from another issuer."""
    assert replay.seen_before("https://a.example", "j1", NOW + 60) is False
    assert replay.seen_before("https://b.example", "j1", NOW + 60) is False
    assert replay.seen_before("https://a.example", "j1", NOW + 60) is True


def test_replay_cache_shared_through_file(tmp_path):
    """Two caches on one file (two worker processes) see each other's jti values."""
    path = str(tmp_path / "replay.sqlite")
    first, second = ReplayCache(path), ReplayCache(path)
    try:
        assert first.seen_before(ISS, "j1", NOW + 60) is False
        assert second.seen_before(ISS, "j1", NOW + 60) is True
    finally:
        first.close()
        second.close()


def test_token_replayed_to_another_worker_refused(tmp_path):
    """A token accepted by one worker's verifier is refused by another sharing the cache file."""
    path = str(tmp_path / "replay.sqlite")
    caches = [ReplayCache(path), ReplayCache(path)]
    issuers = {ISS: TrustedIssuer(ISS, TRUSTED_JWKS)}
    workers = [JwtVerifier(issuers, cache, now=lambda: NOW) for cache in caches]
    token = mint(EC384, "ec384")
    try:
        workers[0].verify(bearer(token), AUD)
        with pytest.raises(Unauthorized, match="already been used"):
            workers[1].verify(bearer(token), AUD)
    finally:
        for cache in caches:
            cache.close()


@pytest.mark.parametrize("where", ["memory", "file"])
def test_racing_threads_accept_a_jti_once(tmp_path, where):
    """When eight threads record one jti at once, exactly one of them sees it as new."""
    cache = ReplayCache(":memory:" if where == "memory" else str(tmp_path / "replay.sqlite"))
    barrier = threading.Barrier(8)

    def record(_):
        barrier.wait()
        return cache.seen_before(ISS, "contested", NOW + 60)

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(record, range(8)))
    finally:
        cache.close()
    assert results.count(False) == 1


def test_prune_forgets_only_expired_rows():
    """Pruning deletes jti rows past their expiry and keeps the live ones."""
    pruning = ReplayCache(":memory:", now=lambda: NOW)
    try:
        pruning.seen_before(ISS, "old", NOW - 1)
        pruning.seen_before(ISS, "live", NOW + 100)
        assert pruning.prune() == 1
        assert pruning.seen_before(ISS, "old", NOW + 100) is False
        assert pruning.seen_before(ISS, "live", NOW + 100) is True
    finally:
        pruning.close()


# --- jku -----------------------------------------------------------------------------------------


def test_allow_listed_jku_fetched_once_then_cached(verifier, fetched):
    """The key set at an allow-listed jku is fetched through the injected function and cached."""
    for _ in range(2):
        token = mint(JKU_KEY, "jku-key", header_overrides={"jku": JKU})
        verifier.verify(bearer(token), AUD)
    assert fetched == [JKU]


def test_jku_cache_expires_after_five_minutes(verifier, fetched, clock):
    """After five minutes the key set is fetched again (key rotation is picked up)."""
    verifier.verify(bearer(mint(JKU_KEY, "jku-key", header_overrides={"jku": JKU})), AUD)
    clock[0] = NOW + 301
    token = mint(JKU_KEY, "jku-key", {"iat": NOW + 301, "exp": NOW + 600}, {"jku": JKU})
    verifier.verify(bearer(token), AUD)
    assert fetched == [JKU, JKU]


def test_jku_not_allow_listed_is_never_fetched(verifier, fetched):
    """A jku outside the issuer's allow-list is refused without any request to it."""
    token = mint(JKU_KEY, "jku-key", header_overrides={"jku": "https://evil.example/jwks"})
    with pytest.raises(Unauthorized, match="jku"):
        verifier.verify(bearer(token), AUD)
    assert fetched == []


@pytest.mark.parametrize(
    "trick",
    [
        "https://ehr.example.org@evil.example/jwks",
        "https://ehr.example.org\\@evil.example/jwks",
        "http://ehr.example.org/.well-known/jwks.json",
        "https://ehr.example.org/.well-known/%2E%2E/jwks.json",
    ],
)
def test_jku_tricks_are_refused_by_the_url_parser_without_a_fetch(verifier, fetched, trick):
    """A jku goes through the same URL parser as fhirServer: no trick reaches the allow-list."""
    token = mint(JKU_KEY, "jku-key", header_overrides={"jku": trick})
    with pytest.raises(Unauthorized, match="jku"):
        verifier.verify(bearer(token), AUD)
    assert fetched == []


def test_jku_in_another_spelling_of_the_same_url_is_the_same_jku(verifier, fetched):
    """Scheme and host case and the default port are normalised before comparing."""
    spelling = JKU.replace("https://", "HTTPS://").replace(".org/", ".org:443/")
    verifier.verify(bearer(mint(JKU_KEY, "jku-key", header_overrides={"jku": spelling})), AUD)
    assert fetched == [JKU]


@pytest.mark.parametrize(
    ("fetch_result", "reason"),
    [
        (OSError("connection refused"), "cannot fetch"),
        (ValueError("not JSON"), "cannot fetch"),
        ({"keys": "none"}, "not a valid JWKS"),
    ],
)
def test_jku_fetch_failure_refused(replay, fetch_result, reason):
    """A jku key set that cannot be fetched or is not a JWKS makes the token untrusted."""

    def fetch(_url):
        if isinstance(fetch_result, Exception):
            raise fetch_result
        return fetch_result

    issuers = {ISS: TrustedIssuer(ISS, None, (JKU,))}
    verifier = JwtVerifier(issuers, replay, fetch_jwks=fetch, now=lambda: NOW)
    token = mint(JKU_KEY, "jku-key", header_overrides={"jku": JKU})
    with pytest.raises(Unauthorized, match=reason):
        verifier.verify(bearer(token), AUD)


@responses.activate
def test_default_fetch_reads_the_jwks():
    """The default fetcher GETs the jku URL and returns its JSON document."""
    responses.get(JKU, json=jwks(public_jwk(JKU_KEY, "jku-key")))
    assert fetch_jwks_over_https(JKU)["keys"][0]["kid"] == "jku-key"


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"status": 302, "headers": {"Location": "https://evil.example/jwks"}}, OSError),
        ({"status": 500}, OSError),
        ({"status": 200, "body": "<html>"}, ValueError),
    ],
    ids=["redirect-not-followed", "server-error", "not-json"],
)
@responses.activate
def test_default_fetch_failures_are_os_or_value_errors(reply, error):
    """A redirect, an error status or a non-JSON body raise the errors the verifier handles."""
    responses.get(JKU, **reply)
    with pytest.raises(error):
        fetch_jwks_over_https(JKU)


# --- trusted issuers file ----------------------------------------------------------------------


def write_json(path, document):
    """Write ``document`` as JSON to ``path`` (creating its folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def test_load_trusted_issuers(tmp_path):
    """Issuers load with a relative jwks_file, an inline jwks, and jku allow-lists."""
    write_json(tmp_path / "keys" / "ehr.json", TRUSTED_JWKS)
    config = write_json(
        tmp_path / "trusted.json",
        {
            "issuers": [
                {"iss": ISS, "jwks_file": "keys/ehr.json", "jku": [JKU]},
                {"iss": "https://other.example", "jwks": jwks(public_jwk(EC256, "k1"))},
            ]
        },
    )
    issuers = load_trusted_issuers(config)
    assert issuers[ISS] == TrustedIssuer(ISS, TRUSTED_JWKS, (JKU,))
    assert issuers["https://other.example"].key_for("k1")["crv"] == "P-256"


@pytest.fixture
def sandbox_jwks_file(tmp_path):
    """The published copy of the sandbox's public JWKS (the external fixture)."""
    return SHARED_SANDBOX_JWKS


def test_sandbox_public_key_loads_and_guards_its_kid(tmp_path, replay, sandbox_jwks_file):
    """The CDS Hooks Sandbox JWKS loads; a token signed by another key under its kid fails."""
    jwks_path = sandbox_jwks_file
    config = write_json(
        tmp_path / "trusted.json", {"issuers": [{"iss": SANDBOX_ISS, "jwks_file": str(jwks_path)}]}
    )
    issuers = load_trusted_issuers(config)
    assert issuers[SANDBOX_ISS].key_for(SANDBOX_KID)["crv"] == "P-384"
    assert issuers[SANDBOX_ISS].key_for("other") is None
    forged = mint(STRANGER, SANDBOX_KID, {"iss": SANDBOX_ISS})
    with pytest.raises(Unauthorized, match="signature"):
        JwtVerifier(issuers, replay, now=lambda: NOW).verify(bearer(forged), AUD)


def test_shared_sandbox_fixture_matches_embedded_copy():
    """The embedded sandbox JWKS is the same document as the published external fixture."""
    assert json.loads(SHARED_SANDBOX_JWKS.read_text()) == SANDBOX_JWKS


TWO_KEYS_ONE_KID = jwks({"kty": "EC", "kid": "a"}, {"kty": "RSA", "kid": "a"})
BAD_CONFIGS = [
    pytest.param("not json", "not JSON", id="not-json"),
    pytest.param({"issuer": []}, "'issuers' array", id="no-issuers"),
    pytest.param({"issuers": ["x"]}, r"issuers\[0\]: must be an object", id="entry-not-object"),
    pytest.param({"issuers": [{"jwks": SANDBOX_JWKS}]}, r"issuers\[0\]\.iss", id="no-iss"),
    pytest.param({"issuers": [{"iss": ISS}]}, "no key source", id="no-key-source"),
    pytest.param(
        {"issuers": [{"iss": ISS, "jwks": SANDBOX_JWKS, "jwks_file": "a.json"}]},
        "not both",
        id="jwks-and-file",
    ),
    pytest.param(
        {"issuers": [{"iss": ISS, "jwks_file": "missing.json"}]}, "cannot read", id="missing-file"
    ),
    pytest.param({"issuers": [{"iss": ISS, "jwks": {"keys": {}}}]}, "'keys' array", id="keys"),
    pytest.param({"issuers": [{"iss": ISS, "jwks": TWO_KEYS_ONE_KID}]}, "unique", id="same-kid"),
    pytest.param(
        {"issuers": [{"iss": ISS, "jku": ["http://ehr.example.org/jwks"]}]}, "https", id="http-jku"
    ),
    pytest.param(
        {"issuers": [{"iss": ISS, "jku": [JKU]}, {"iss": ISS, "jku": [JKU]}]},
        "listed twice",
        id="duplicate-iss",
    ),
]


@pytest.mark.parametrize(("document", "reason"), BAD_CONFIGS)
def test_bad_trusted_issuers_file(tmp_path, document, reason):
    """A malformed trusted-issuer file raises ConfigError saying what is wrong."""
    path = tmp_path / "trusted.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    with pytest.raises(ConfigError, match=reason):
        load_trusted_issuers(path)
