"""Keys, key sets and signed (or forged) CDS client JWTs for the auth tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

NOW = 1_700_000_000  # the fixed clock every test runs at (2023-11-14T22:13:20Z)
ISS = "https://ehr.example.org"
AUD = "https://cds.example.org/cds-services/hcc-staging"
JKU = "https://ehr.example.org/.well-known/jwks.json"
OMIT = object()  # as an override value: drop the claim or header field

# Public key set of the CDS Hooks Sandbox client (cds-hooks/sandbox build/.well-known/jwks.json);
# the same document as tests/external_fixtures/cds-hooks-sandbox-jwks.json.
SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"
SANDBOX_JWKS: dict[str, Any] = {
    "keys": [
        {
            "kty": "EC",
            "use": "sig",
            "crv": "P-384",
            "kid": SANDBOX_KID,
            "x": "dw_JGR8nB2I6XveNxUOl2qk699ZPLM2nYI5STSdiEl9avAkrm3CkfYMbrrjr8laB",
            "y": "Sm3mLE-n1zYNla_aiE3cb3nZsL51RbC7ysw3q8aJLxGm-hx79RPMYpITDjp7kgzy",
            "alg": "ES384",
        }
    ]
}


def ec_key(curve: ec.EllipticCurve | None = None) -> ec.EllipticCurvePrivateKey:
    """A new EC private key, P-384 unless another curve is given."""
    return ec.generate_private_key(curve or ec.SECP384R1())


def rsa_key() -> rsa.RSAPrivateKey:
    """A new 2048-bit RSA private key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: PrivateKey, kid: str, **fields: Any) -> dict[str, Any]:
    """The public JWK of ``key`` with ``kid`` and ``use: sig`` (plus any extra fields)."""
    algorithm = (
        jwt.algorithms.ECAlgorithm
        if isinstance(key, ec.EllipticCurvePrivateKey)
        else (jwt.algorithms.RSAAlgorithm)
    )
    jwk = algorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", **fields}


def jwks(*keys: dict[str, Any]) -> dict[str, Any]:
    """A JWKS document holding these JWKs."""
    return {"keys": list(keys)}


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid CDS client claims at ``NOW``; an override of ``OMIT`` drops the claim."""
    base = {"iss": ISS, "aud": AUD, "iat": NOW, "exp": NOW + 300, "jti": str(uuid.uuid4())}
    return _merged(base, overrides)


def mint(
    key: PrivateKey,
    kid: str,
    claim_overrides: dict[str, Any] | None = None,
    header_overrides: dict[str, Any] | None = None,
    alg: str | None = None,
) -> str:
    """A JWT signed by ``key`` (ES384 for EC keys, RS384 for RSA keys unless ``alg`` says)."""
    default_alg = "ES384" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS384"
    header = _merged({"kid": kid, "typ": "JWT"}, header_overrides or {})
    return jwt.encode(
        claims(**(claim_overrides or {})),
        key,
        algorithm=alg or default_alg,
        # PyJWT adds typ "JWT" unless typ is given as None.
        headers={"typ": None, **header},
    )


def unsigned(kid: str, claim_overrides: dict[str, Any] | None = None) -> str:
    """An ``alg: none`` token built by hand (PyJWT will not make one with a kid)."""
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return f"{_segment(header)}.{_segment(claims(**(claim_overrides or {})))}."


def hs256_forged(secret: bytes, kid: str, header_overrides: dict[str, Any] | None = None) -> str:
    """An HS256 token whose HMAC secret is ``secret`` (e.g. the issuer's public key PEM).

    Built by hand because PyJWT refuses a PEM key as an HMAC secret.
    """
    header = _merged({"alg": "HS256", "typ": "JWT", "kid": kid}, header_overrides or {})
    signing_input = f"{_segment(header)}.{_segment(claims())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **overrides}
    return {name: value for name, value in merged.items() if value is not OMIT}


def _segment(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fresh_token(key: PrivateKey, kid: str, aud: str, jti: str | None = None) -> str:
    """A token valid now (the real clock), for tests against a running service."""
    now = int(time.time())
    overrides = {"aud": aud, "iat": now, "exp": now + 300, "jti": jti or str(uuid.uuid4())}
    return mint(key, kid, claim_overrides=overrides)


def write_trusted_issuers(path: Path, key: PrivateKey, kid: str) -> Path:
    """A ``CDS_TRUSTED_ISSUERS_FILE`` trusting ``ISS`` with the public half of ``key``."""
    document = {"issuers": [{"iss": ISS, "jwks": jwks(public_jwk(key, kid))}]}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path
