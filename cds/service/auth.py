"""Trusting CDS Clients (CDS Hooks 2.0 §Security): verify the JWT a CDS client signs.

When a request carries ``Authorization: Bearer <JWT>``, then the token is accepted only if:
its header names an allowed asymmetric ``alg`` (never ``none`` or HMAC) and a ``kid``; its
``iss`` is allow-listed; the key with that ``kid`` comes from the issuer's configured JWKS or
from a ``jku`` URL allow-listed for that issuer; the signature verifies; ``aud`` is the exact URL
invoked; ``exp``, ``iat`` (and ``nbf`` if sent) are current; and its ``jti`` was never used
before by that issuer. Any other case raises :class:`Unauthorized` (HTTP 401), whose message
never quotes the token.

The checks go beyond the spec's SHALLs and follow the validation practice of
cds-hooks/docs#188 (kid lookup, aud equality, exp, iat age, jti replay).
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt

from cds.errors import CdsError, ConfigError
from cds.fhir.client import Deadline, FhirFetchError, get_bytes, guarded_session
from cds.fhir.url_policy import UrlPolicy, UrlRefused, parse_allowed
from cds.jsonfile import read_json_file
from cds.storage import Storage, open_storage

if TYPE_CHECKING:
    from jwt.types import Options

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

# CDS Hooks 2.0: alg "none" and HMAC SHALL NOT be used; ES384 and RS384 are RECOMMENDED.
# ES256/RS256 are also accepted because some EHRs sign with them. Value: the JWK "kty" that may
# verify the algorithm, so that a key of one family is never used for another.
ALLOWED_ALGORITHMS: dict[str, str] = {"ES384": "EC", "RS384": "RSA", "ES256": "EC", "RS256": "RSA"}
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")
JKU_CACHE_SECONDS = 300
JKU_FETCH_TIMEOUT_SECONDS = 3
JWKS_MAX_BYTES = 256 * 1024

# Times are checked by _check_times against the injectable clock, so PyJWT's own clock-based
# checks are off; PyJWT still checks the signature, required claims, aud, and jti/sub types.
_DECODE_OPTIONS: Options = {
    "require": list(REQUIRED_CLAIMS),
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
    "enforce_minimum_key_length": True,
}


class Unauthorized(CdsError):  # noqa: N818 -- named after HTTP 401, as the API contract asks
    """The request's JWT is missing or cannot be trusted (the message never quotes the token)."""

    status_code = 401


# --- trusted issuers -------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedIssuer:
    """A CDS client allowed to call the service.

    :param iss: the ``iss`` claim the client sends.
    :param jwks: its JWKS document exchanged out of band, if any.
    :param jku_allowed: ``jku`` URLs the client may name in its token header.
    """

    iss: str
    jwks: JsonObject | None = None
    jku_allowed: tuple[str, ...] = ()

    def key_for(self, kid: str) -> JsonObject | None:
        """The JWK with this ``kid`` in the configured JWKS, or ``None``."""
        return None if self.jwks is None else find_jwk(self.jwks, kid)


def find_jwk(jwks: JsonObject, kid: str) -> JsonObject | None:
    """The key with ``kid`` in a JWKS already checked by :func:`jwks_problem`, or ``None``."""
    return next((key for key in jwks["keys"] if key.get("kid") == kid), None)


def jwks_problem(jwks: object) -> str | None:
    """What makes ``jwks`` unusable as a JWKS document, or ``None`` if it is usable."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not all(isinstance(key, dict) for key in keys):
        return "a JWKS must be an object with a 'keys' array of objects"
    kids = [key["kid"] for key in keys if "kid" in key]
    # RFC 7517 §4.5 and CDS Hooks: kid is unique within the set, so lookup by kid is unambiguous.
    if not all(isinstance(kid, str) for kid in kids) or len(set(kids)) != len(kids):
        return "'kid' values must be unique strings"
    return None


def load_trusted_issuers(path: Path) -> dict[str, TrustedIssuer]:
    """Read the allow-list of CDS clients.

    The file holds ``{"issuers": [{"iss": ..., "jwks_file": ... | "jwks": {...},
    "jku": ["https://..."]}]}``; ``jwks_file`` is relative to the file's folder.

    :return: issuers keyed by ``iss``.
    :raise ConfigError: if a file cannot be read or an entry is malformed.
    """
    document = read_json_file(path, ConfigError)
    entries = document.get("issuers") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected an object with an 'issuers' array")
    issuers: dict[str, TrustedIssuer] = {}
    for index, entry in enumerate(entries):
        where = f"{path}: issuers[{index}]"
        issuer = _issuer_from_entry(entry, path.parent, where)
        if issuer.iss in issuers:
            raise ConfigError(f"{where}.iss: {issuer.iss!r} is listed twice")
        issuers[issuer.iss] = issuer
    return issuers


def _issuer_from_entry(entry: object, folder: Path, where: str) -> TrustedIssuer:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be an object")
    iss = entry.get("iss")
    if not isinstance(iss, str) or not iss:
        raise ConfigError(f"{where}.iss: must be a non-empty string")
    jwks = _entry_jwks(entry, folder, where)
    jku = _entry_jku(entry, where)
    if jwks is None and not jku:
        raise ConfigError(f"{where}: give 'jwks', 'jwks_file' or 'jku' (no key source)")
    return TrustedIssuer(iss=iss, jwks=jwks, jku_allowed=jku)


def _entry_jwks(entry: JsonObject, folder: Path, where: str) -> JsonObject | None:
    if "jwks" in entry and "jwks_file" in entry:
        raise ConfigError(f"{where}: give 'jwks' or 'jwks_file', not both")
    if "jwks_file" in entry:
        name = entry["jwks_file"]
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}.jwks_file: must be a file path")
        jwks, where = (
            read_json_file(folder / name, ConfigError),
            f"{where}.jwks_file",
        )  # an absolute name wins
    elif "jwks" in entry:
        jwks, where = entry["jwks"], f"{where}.jwks"
    else:
        return None
    problem = jwks_problem(jwks)
    if problem is not None:
        raise ConfigError(f"{where}: {problem}")
    return jwks  # type: ignore[return-value]  # jwks_problem checked it is an object


def _entry_jku(entry: JsonObject, where: str) -> tuple[str, ...]:
    urls = entry.get("jku", [])
    if not isinstance(urls, list):
        raise ConfigError(f"{where}.jku: must be an array of https:// URLs")
    try:
        return tuple(canonical_jku(url) for url in urls)
    except UrlRefused as exc:
        raise ConfigError(f"{where}.jku: {exc.reason}") from None


def canonical_jku(url: object) -> str:
    """A ``jku`` in canonical form (cds.fhir.url_policy); https only, as the spec's TLS MUST says.

    :raise UrlRefused: for any other URL.
    """
    return parse_allowed(url, UrlPolicy(), allow_query=True).url


# --- replay cache ----------------------------------------------------------------------------


class ReplayCache:
    """Remembers each issuer's ``jti`` values until the token could no longer be accepted.

    Kept by a storage engine (:mod:`cds.storage`) so that every worker process and, with
    PostgreSQL, every replica shares it. Given a SQLite path it opens the engine itself; with
    ``":memory:"`` the cache lives in this process only: fine for tests and a single worker, but
    several workers would each have their own cache and a token could be replayed once per worker.
    """

    PRUNE_EVERY = 256  # inserts between deletions of expired rows

    def __init__(self, storage: Storage | str, *, now: Callable[[], float] = time.time) -> None:
        self._owned = isinstance(storage, str)
        self._storage = open_storage(None, storage) if isinstance(storage, str) else storage
        self._now = now
        self._inserts = itertools.count(1)

    def seen_before(self, iss: str, jti: str, exp: float) -> bool:
        """Record ``(iss, jti)``; ``True`` if it was already recorded.

        :param exp: when the token stops being acceptable; the row may be pruned after it.
        :raise StorageUnavailable: if the cache cannot be asked; the caller must refuse the
            token (fail closed), never accept it.
        """
        seen = not self._storage.record_jti(iss, jti, exp)
        if not seen and next(self._inserts) % self.PRUNE_EVERY == 0:
            self.prune()
        return seen

    def prune(self) -> int:
        """Delete rows whose token has expired; return how many were deleted."""
        return self._storage.prune_jtis(self._now())

    def close(self) -> None:
        """Close the engine if this cache opened it."""
        if self._owned:
            self._storage.close()


# --- verifier --------------------------------------------------------------------------------


def fetch_jwks_over_https(url: str) -> JsonObject:
    """GET a JWKS document (no redirects: the allow-list names the exact URL).

    The whole answer must arrive within ``JKU_FETCH_TIMEOUT_SECONDS``, with the FHIR client's
    deadline-guarded sockets.

    :raise OSError: on a network error or a non-200 status.
    :raise ValueError: if the URL is refused or the body is not JSON.
    """
    allowed = parse_allowed(url, UrlPolicy(), allow_query=True)
    deadline = Deadline.after(JKU_FETCH_TIMEOUT_SECONDS)
    with guarded_session() as session:
        try:
            status, body = get_bytes(
                session, allowed, {}, deadline, JKU_FETCH_TIMEOUT_SECONDS, JWKS_MAX_BYTES
            )
        except FhirFetchError as exc:
            raise OSError(str(exc)) from None
    if status != 200:
        raise OSError(f"HTTP {status}")
    return json.loads(body)  # type: ignore[no-any-return]


class JwtVerifier:
    """Checks the ``Authorization`` header of a CDS Hooks request (see the module docstring).

    :param fetch_jwks: fetches the JWKS at an allow-listed ``jku``; it raises ``OSError`` or
        ``ValueError`` on failure. Results are cached per URL for five minutes.
    :param now: the clock, in seconds since the epoch.
    """

    def __init__(
        self,
        issuers: dict[str, TrustedIssuer],
        replay: ReplayCache,
        *,
        leeway_seconds: int = 60,
        max_age_seconds: int = 3600,
        fetch_jwks: Callable[[str], JsonObject] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._issuers = dict(issuers)
        self._replay = replay
        self._leeway = leeway_seconds
        self._max_age = max_age_seconds
        self._fetch_jwks = fetch_jwks or fetch_jwks_over_https
        self._now = now
        self._jku_cache: dict[str, tuple[float, JsonObject]] = {}
        self._jku_lock = threading.Lock()

    def verify(self, authorization_header: str | None, audience: str) -> JsonObject:
        """Verify the client's JWT.

        :param authorization_header: the request's ``Authorization`` header value.
        :param audience: the exact URL invoked (the token's ``aud`` must equal it).
        :return: the token's claims.
        :raise Unauthorized: if the token is missing or cannot be trusted.
        """
        token = bearer_token(authorization_header)
        header = _checked_header(token)
        issuer = self._issuer(token)
        jwk = self._signing_key(issuer, header)
        claims = _verified_claims(token, jwk, header["alg"], audience)
        self._check_times(claims)
        self._check_not_replayed(issuer.iss, claims)
        return claims

    def _issuer(self, token: str) -> TrustedIssuer:
        # Reading iss before the signature is checked is safe: it only selects which keys may
        # verify the token, and the verified claims carry the same iss.
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc
        iss = unverified.get("iss")
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise Unauthorized("token issuer is not trusted")
        return issuer

    @property
    def issuer_count(self) -> int:
        return len(self._issuers)

    def _signing_key(self, issuer: TrustedIssuer, header: JsonObject) -> JsonObject:
        jku = header.get("jku")
        if jku is not None:
            try:
                jku = canonical_jku(jku)
            except UrlRefused:
                raise Unauthorized("token jku is not a canonical https URL") from None
            if jku not in issuer.jku_allowed:
                raise Unauthorized("token jku is not allow-listed for its issuer")
            jwk = find_jwk(self._jku_jwks(jku), header["kid"])
        elif issuer.jwks is not None:
            jwk = issuer.key_for(header["kid"])
        else:
            raise Unauthorized("token has no jku and its issuer has no configured key set")
        if jwk is None:
            raise Unauthorized("unknown signing key (kid)")
        return jwk

    def _jku_jwks(self, url: str) -> JsonObject:
        now = self._now()
        with self._jku_lock:
            cached = self._jku_cache.get(url)
        if cached is not None and now - cached[0] < JKU_CACHE_SECONDS:
            return cached[1]
        try:
            jwks = self._fetch_jwks(url)
        except (OSError, ValueError) as exc:
            log.warning("cannot fetch the JWKS at %s: %s", url, exc)
            raise Unauthorized("cannot fetch the issuer's key set") from exc
        problem = jwks_problem(jwks)
        if problem is not None:
            log.warning("the JWKS at %s is unusable: %s", url, problem)
            raise Unauthorized("the issuer's key set is not a valid JWKS")
        with self._jku_lock:
            self._jku_cache[url] = (now, jwks)
        return jwks

    def _check_times(self, claims: JsonObject) -> None:
        now, leeway = self._now(), self._leeway
        exp, iat = _numeric_claim(claims, "exp"), _numeric_claim(claims, "iat")
        if now > exp + leeway:
            raise Unauthorized("token has expired")
        if iat > now + leeway:
            raise Unauthorized("token iat is in the future")
        if now - iat > self._max_age:
            raise Unauthorized("token is too old (iat)")
        if "nbf" in claims and _numeric_claim(claims, "nbf") > now + leeway:
            raise Unauthorized("token is not valid yet (nbf)")

    def _check_not_replayed(self, iss: str, claims: JsonObject) -> None:
        jti = claims["jti"]
        if not jti:
            raise Unauthorized("token jti is empty")
        # After this moment the token fails the exp or iat-age check anyway, so the cache may
        # forget it; this keeps the table small even when a client sets a far-off exp.
        keep_until = min(claims["exp"], claims["iat"] + self._max_age) + self._leeway
        if self._replay.seen_before(iss, jti, keep_until):
            raise Unauthorized("token jti has already been used")


def claimed_issuer(authorization_header: str | None) -> str | None:
    """The ``iss`` a token claims, unverified, for the access log only (bounded, or ``None``)."""
    try:
        iss = jwt.decode(bearer_token(authorization_header), options={"verify_signature": False})[
            "iss"
        ]
    except (Unauthorized, jwt.PyJWTError, KeyError, TypeError):
        return None
    return iss[:120] if isinstance(iss, str) else None


def bearer_token(authorization_header: str | None) -> str:
    """The token in ``Bearer <token>``.

    :raise Unauthorized: if the header is absent or not a bearer credential.
    """
    if not authorization_header:
        raise Unauthorized("missing Authorization header")
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    # RFC 6750 §2.1: the scheme is case-insensitive; the token itself contains no spaces.
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized("Authorization header must be 'Bearer <JWT>'")
    return token


def _checked_header(token: str) -> JsonObject:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized("malformed token") from exc
    alg = header.get("alg")
    # Checked before any key is looked up, so "none" and HMAC never reach a verifier.
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise Unauthorized("token alg is not allowed (use ES384, RS384, ES256 or RS256)")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthorized("token header has no kid")
    typ = header.get("typ")
    # RFC 7519 §5.1: typ is compared case-insensitively.
    if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
        raise Unauthorized("token typ must be JWT")
    if "jku" in header and not isinstance(header["jku"], str):
        raise Unauthorized("token jku must be a URL")
    return header


def _verified_claims(token: str, jwk: JsonObject, alg: str, audience: str) -> JsonObject:
    _check_key_fits(jwk, alg)
    try:
        key = jwt.PyJWK(jwk, algorithm=alg)
        return jwt.decode(
            token, key=key, algorithms=[alg], audience=audience, options=_DECODE_OPTIONS
        )
    except jwt.InvalidSignatureError as exc:
        raise Unauthorized("token signature is invalid") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthorized(f"token has no {exc.claim} claim") from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthorized("token aud is not the URL invoked") from exc
    except jwt.PyJWTError as exc:
        log.info("JWT refused: %s", type(exc).__name__)
        raise Unauthorized("token cannot be verified") from exc


def _check_key_fits(jwk: JsonObject, alg: str) -> None:
    if jwk.get("kty") != ALLOWED_ALGORITHMS[alg] or jwk.get("alg", alg) != alg:
        raise Unauthorized("signing key does not match the token alg")
    if jwk.get("use", "sig") != "sig":
        raise Unauthorized("signing key is not a signature key")


def _numeric_claim(claims: JsonObject, name: str) -> float:
    value = claims.get(name)
    # bool is an int subclass, and Python's json accepts NaN/Infinity, which compare oddly.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Unauthorized(f"token {name} must be a number of seconds")
    return value
