"""The RSA key that signs PACT access tokens (JWT, RS256), its JWKS, and token checks.

The key (RSA 2048, PKCS#8 PEM) is made once in the instance folder
(``instance/pact_jwt_rsa.pem``, mode 0600) and shared by every process of the instance;
its ``kid`` is the RFC 7638 thumbprint of the public key. An access token lives
``TOKEN_LIFETIME_S`` and names its client (``sub``), the partner and the fingerprint of
the client's secret, so rotating or revoking the client ends its tokens at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, current_app

from greenlane.webapp.db import utcnow
from greenlane.webapp.pact.clients import Client

TOKEN_LIFETIME_S = 3600
"""Access-token lifetime [s]."""
AUDIENCE = "greenlane-pact"
"""``aud`` of every access token."""
KEY_FILE = "pact_jwt_rsa.pem"
_EXT = "greenlane_pact_key"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The private key, its public JWK and its ``kid``."""

    private: rsa.RSAPrivateKey
    jwk: dict[str, str]
    kid: str


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _load_or_create(path: Path) -> rsa.RSAPrivateKey:
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of the instance made it first
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            return key
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key")
    return loaded


def signing_key(app: Flask | None = None) -> SigningKey:
    """The instance's signing key (loaded or made on first use)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found: SigningKey | None = app.extensions.get(_EXT)
    if found is not None:
        return found
    private = _load_or_create(Path(app.instance_path) / KEY_FILE)
    numbers = private.public_key().public_numbers()
    e, n = _b64(numbers.e), _b64(numbers.n)
    thumb = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"), sort_keys=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(thumb.encode()).digest()).rstrip(b"=")
    jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid.decode(), "n": n, "e": e}
    key = SigningKey(private, jwk, kid.decode())
    app.extensions[_EXT] = key
    return key


def jwks() -> dict[str, Any]:
    """The JSON Web Key Set of the public key."""
    return {"keys": [signing_key().jwk]}


def issue_token(client: Client, issuer: str) -> str:
    """A signed access token of ``client`` (RS256, ``TOKEN_LIFETIME_S``)."""
    key = signing_key()
    now = utcnow()
    claims = {
        "iss": issuer,
        "sub": client.client_id,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=TOKEN_LIFETIME_S),
        "jti": secrets.token_hex(12),
        "partner_id": client.partner_id,
        "sfp": client.secret_fingerprint,
        "scope": "PACT.read",
    }
    return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})


class TokenExpired(Exception):
    """The access token was valid but has expired."""


def verify_token(token: str) -> dict[str, Any] | None:
    """The claims of a valid token (signature, audience, lifetime), None if invalid.

    Raises :class:`TokenExpired` for a well-signed token past its ``exp``.
    """
    if not token or len(token) > 4096:
        return None
    public = signing_key().private.public_key()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public,
            algorithms=["RS256"],
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenExpired from None
    except jwt.PyJWTError:
        return None
    return claims
