"""Security headers on every answer: CSP, nosniff, framing, referrer, HSTS.

The Content-Security-Policy allows scripts only from this origin plus, per HTML page, the
sha256 of each inline ``<script>`` the page actually contains (data blocks such as
``type="application/json"`` are not scripts and need none). Every script, style sheet, font
and image of the UI and of Swagger UI is vendored under ``/static`` (no CDN), so nothing
else is allowed. Inline ``style`` attributes stay allowed (``style-src 'unsafe-inline'``),
which cannot run code. ``Strict-Transport-Security`` is sent over HTTPS (directly or, with
``TRUSTED_PROXIES``, via ``X-Forwarded-Proto``) or always when ``HSTS`` is set.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, current_app, request

HSTS_MAX_AGE_S = 31_536_000
"""One year [s]."""

_SCRIPT = re.compile(rb"<script\b(?P<attrs>[^>]*)>(?P<body>.*?)</script\s*>", re.S | re.I)
_TYPE = re.compile(rb"""\btype\s*=\s*["']?(?P<type>[^"'\s>]+)""", re.I)
_JS_TYPES = {b"", b"text/javascript", b"application/javascript", b"module"}

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP sources (``'sha256-...'``) of the inline scripts of an HTML page, in order."""
    out: list[str] = []
    for m in _SCRIPT.finditer(html):
        attrs, body = m.group("attrs"), m.group("body")
        if re.search(rb"\bsrc\s*=", attrs, re.I) or not body:
            continue
        t = _TYPE.search(attrs)
        if (t.group("type").lower() if t else b"") not in _JS_TYPES:
            continue
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        source = f"'sha256-{digest}'"
        if source not in out:
            out.append(source)
    return out


def content_security_policy(script_hashes: list[str] | tuple[str, ...] = ()) -> str:
    """The policy, with the given inline-script hashes allowed."""
    scripts = " ".join(["'self'", *script_hashes])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def secure(response: Response) -> Response:
    """Add the security headers to ``response`` (kept if a view set its own)."""
    hashes: list[str] = []
    if response.mimetype == "text/html" and not response.direct_passthrough:
        hashes = inline_script_hashes(response.get_data())
    response.headers.setdefault("Content-Security-Policy", content_security_policy(hashes))
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure or current_app.config.get("HSTS"):
        response.headers.setdefault(
            "Strict-Transport-Security", f"max-age={HSTS_MAX_AGE_S}; includeSubDomains"
        )
    return response


def init_app(app: Flask) -> None:
    """Send the headers on every answer of ``app`` (pages, API, static files, errors)."""
    app.after_request(secure)
