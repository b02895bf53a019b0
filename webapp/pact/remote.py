"""Outbound PACT calls: JSON over HTTP(S) with the stdlib, OAuth2 client credentials.

Used to deliver event answers to a data recipient and to pull a partner's footprints.
HTTPS certificates are verified (``PACT_CA_FILE`` adds a CA bundle, e.g. a partner's
self-signed certificate); nothing here retries (the callers do).
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

TIMEOUT_S = 10.0
"""Connect + read timeout of one outbound call [s]."""
MAX_BODY_BYTES = 20_000_000
"""Largest answer read from a partner [bytes]."""


class RemoteError(Exception):
    """An outbound call failed (network, TLS, status or body); the message says which."""


@dataclass(frozen=True, slots=True)
class Answer:
    """Status, headers and JSON body (None if not JSON) of an outbound call."""

    status: int
    headers: dict[str, str]
    body: Any


def _context(cafile: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if cafile:
        ctx.load_verify_locations(cafile=cafile)
    return ctx


def call(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    cafile: str | None = None,
    timeout_s: float = TIMEOUT_S,
) -> Answer:
    """One HTTP call; any status is returned (network and TLS errors raise RemoteError)."""
    if not url.lower().startswith(("https://", "http://")):
        raise RemoteError(f"not an http(s) URL: {url!r}")
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    ctx = _context(cafile) if url.lower().startswith("https://") else None
    try:
        with urllib.request.urlopen(req, timeout=timeout_s, context=ctx) as resp:
            status, raw, hdrs = resp.status, resp.read(MAX_BODY_BYTES + 1), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        status, raw, hdrs = exc.code, exc.read(MAX_BODY_BYTES + 1), dict(exc.headers)
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        raise RemoteError(f"{method} {url}: {getattr(exc, 'reason', exc)}") from None
    if len(raw) > MAX_BODY_BYTES:
        raise RemoteError(f"{method} {url}: answer larger than {MAX_BODY_BYTES} bytes")
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            body = None
    return Answer(status, {k.lower(): v for k, v in hdrs.items()}, body)


def token_endpoint(base_url: str, cafile: str | None = None) -> str:
    """The token endpoint of a PACT host: OpenID discovery, else ``<base>/auth/token``."""
    try:
        found = call("GET", f"{base_url}/.well-known/openid-configuration", cafile=cafile)
    except RemoteError:
        found = None
    if found is not None and found.status == 200 and isinstance(found.body, dict):
        endpoint = found.body.get("token_endpoint")
        if isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")):
            return endpoint
    return f"{base_url}/auth/token"


def fetch_token(base_url: str, client_id: str, secret: str, cafile: str | None = None) -> str:
    """An access token of a PACT host by the client credentials grant (HTTP Basic)."""
    basic = base64.b64encode(f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode())
    answer = call(
        "POST",
        token_endpoint(base_url, cafile),
        headers={
            "Authorization": f"Basic {basic.decode()}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        data=urlencode({"grant_type": "client_credentials"}).encode(),
        cafile=cafile,
    )
    token = answer.body.get("access_token") if isinstance(answer.body, dict) else None
    if answer.status != 200 or not isinstance(token, str):
        raise RemoteError(f"token request to {base_url} answered {answer.status}: {answer.body}")
    return token
