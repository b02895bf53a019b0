"""The ``/pact`` blueprint: OAuth2 token, OpenID discovery, JWKS, footprints, events, TAD.

PACT Technical Specifications v2 (2.0-2.2): ``POST /pact/auth/token`` (client credentials,
HTTP Basic client authentication, RFC 6749 error bodies), ``GET
/pact/.well-known/openid-configuration``, ``GET /pact/jwks``, ``GET /pact/2/footprints``
(``$filter``, ``limit``, ``Link: <...>; rel="next"``), ``GET /pact/2/footprints/{id}``,
``POST /pact/2/events`` and the iLEAP ``GET /pact/2/ileap/tad`` (same paging and filter).
Errors of the data actions are PACT error bodies ``{"code": ..., "message": ...}``. Every
call must come over HTTPS (directly, or through a trusted proxy that says so); over plain
HTTP nothing is answered with data or a token.
"""

from __future__ import annotations

import binascii
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlencode

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from greenlane.webapp.db import engine_of
from greenlane.webapp.pact import events, keys
from greenlane.webapp.pact.clients import Client, authenticate_client, live_client
from greenlane.webapp.pact.footprints import (
    FilterError,
    apply_filter,
    visible_footprints,
    visible_tads,
)

bp = Blueprint("pact", __name__, url_prefix="/pact")

MAX_LIMIT = 1000
"""Largest page of ``GET /2/footprints``."""
SCOPE = "PACT.read"


def _base_url() -> str:
    """``https://host[:port]/pact`` as the caller reached us."""
    return request.url_root.rstrip("/") + bp.url_prefix  # type: ignore[operator]


def pact_error(status: int, code: str, message: str, **headers: str) -> Response:
    """A PACT error body."""
    resp = jsonify({"code": code, "message": message})
    resp.status_code = status
    resp.headers.update(headers)
    return resp


def oauth_error(status: int, error: str, description: str, **headers: str) -> Response:
    """An RFC 6749 section 5.2 error body."""
    resp = jsonify({"error": error, "error_description": description})
    resp.status_code = status
    resp.headers.update({"Cache-Control": "no-store", "Pragma": "no-cache", **headers})
    return resp


_CODES = {400: "BadRequest", 401: "BadRequest", 403: "AccessDenied", 404: "NotFound"}


def http_error(exc: Exception) -> Response:
    """An error under ``/pact`` (unknown path, wrong method, too large, unexpected) as a PACT
    body; an unexpected one is 500 ``InternalError`` (logged by ``webapp.problems``)."""
    if not isinstance(exc, HTTPException):
        return pact_error(500, "InternalError", "an unexpected error was logged")
    status = exc.code or 500
    code = _CODES.get(status, "NotImplemented" if status in (405, 501) else "BadRequest")
    if status >= 500:
        code = "InternalError"
    resp = pact_error(status, code, exc.description or exc.name)
    if status == 405:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            resp.headers["Allow"] = ", ".join(sorted(allowed))
    return resp


def _secure() -> bool:
    return request.is_secure or bool(current_app.config.get("PACT_ALLOW_HTTP"))


@bp.before_request
def _https_only() -> Response | None:
    if _secure():
        return None
    if request.endpoint == "pact.token":
        return oauth_error(400, "invalid_request", "the token endpoint is served over HTTPS only")
    return pact_error(403, "AccessDenied", "PACT calls are served over HTTPS only")


# ----------------------------------------------------------------------------- auth


@bp.get("/.well-known/openid-configuration")
def openid_configuration() -> Response:
    """OpenID Connect discovery of the token endpoint and the JWKS."""
    base = _base_url()
    return jsonify(
        {
            "issuer": base,
            "token_endpoint": f"{base}/auth/token",
            "jwks_uri": f"{base}/jwks",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": [SCOPE],
        }
    )


@bp.get("/jwks")
def jwks() -> Response:
    """The public key that signs the access tokens."""
    return jsonify(keys.jwks())


def _basic_credentials() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = binascii.a2b_base64(value.strip().encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return unquote(user), unquote(password)


@bp.post("/auth/token")
def token() -> Response:
    """OAuth2 client credentials grant (RFC 6749 section 4.4), HTTP Basic client auth."""
    from greenlane.webapp import ratelimit

    limited = ratelimit.check_anonymous()
    if limited is not None:
        return limited
    challenge = {"WWW-Authenticate": 'Basic realm="greenlane-pact"'}
    if request.mimetype != "application/x-www-form-urlencoded":
        return oauth_error(
            400, "invalid_request", "the body must be application/x-www-form-urlencoded"
        )
    creds = _basic_credentials()
    if creds is None and "client_id" in request.form:
        creds = (request.form.get("client_id", ""), request.form.get("client_secret", ""))
    if creds is None:
        return oauth_error(401, "invalid_client", "Client authentication failed", **challenge)
    client = authenticate_client(engine_of(), *creds)
    if client is None:
        return oauth_error(401, "invalid_client", "Client authentication failed", **challenge)
    grant = request.form.get("grant_type")
    if not grant:
        return oauth_error(400, "invalid_request", "grant_type is missing")
    if grant != "client_credentials":
        return oauth_error(
            400, "unsupported_grant_type", "only the client_credentials grant is supported"
        )
    resp = jsonify(
        {
            "access_token": keys.issue_token(client, _base_url()),
            "token_type": "Bearer",
            "expires_in": keys.TOKEN_LIFETIME_S,
            "scope": SCOPE,
        }
    )
    resp.headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
    return resp


def _caller() -> Client | Response:
    """The client of the request's bearer token, or the PACT error answer."""
    challenge = {"WWW-Authenticate": 'Bearer realm="greenlane-pact"'}
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return pact_error(400, "BadRequest", "Invalid token provided", **challenge)
    try:
        claims = keys.verify_token(value.strip())
    except keys.TokenExpired:
        return pact_error(401, "TokenExpired", "The access token has expired", **challenge)
    if claims is None:
        return pact_error(400, "BadRequest", "Invalid token provided", **challenge)
    client = live_client(engine_of(), str(claims.get("sub", "")))
    if client is None or client.secret_fingerprint != claims.get("sfp"):
        return pact_error(400, "BadRequest", "Invalid token provided", **challenge)
    return client


# ----------------------------------------------------------------------------- footprints


def _int_arg(name: str, default: int, lo: int, hi: int) -> int | Response:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        return pact_error(400, "BadRequest", f"{name} must be an integer from {lo} to {hi}")
    return int(raw)


def _page(docs_of: Callable[[str], list[dict[str, Any]]], path: str) -> Response:
    """A filtered page of ``docs_of(partner)`` with a ``Link: rel="next"`` when more."""
    client = _caller()
    if isinstance(client, Response):
        return client
    limit = _int_arg("limit", MAX_LIMIT, 1, MAX_LIMIT)
    if isinstance(limit, Response):
        return limit
    offset = _int_arg("offset", 0, 0, 10**9)
    if isinstance(offset, Response):
        return offset
    text = request.args.get("$filter")
    try:
        docs = apply_filter(docs_of(client.partner_id), text)
    except FilterError as exc:
        return pact_error(400, exc.code, str(exc))
    resp = jsonify({"data": docs[offset : offset + limit]})
    if offset + limit < len(docs):
        query: dict[str, Any] = {"limit": limit, "offset": offset + limit}
        if text:
            query["$filter"] = text
        resp.headers["Link"] = f'<{_base_url()}{path}?{urlencode(query)}>; rel="next"'
    return resp


@bp.get("/2/footprints")
def list_footprints() -> Response:
    """Action ListFootprints: what was shared with the caller's partner, page by page."""
    return _page(visible_footprints, "/2/footprints")


@bp.get("/2/ileap/tad")
def list_tads() -> Response:
    """iLEAP Action ListTransportActivityData: the legs shared with the caller's partner."""
    return _page(visible_tads, "/2/ileap/tad")


@bp.get("/2/footprints/<path:pf_id>")
def get_footprint(pf_id: str) -> Response:
    """Action GetFootprint: one footprint shared with the caller's partner."""
    client = _caller()
    if isinstance(client, Response):
        return client
    try:
        wanted = str(uuid.UUID(pf_id))
    except ValueError:
        return pact_error(400, "BadRequest", f"not a ProductFootprint id (UUID): {pf_id[:100]!r}")
    for doc in visible_footprints(client.partner_id):
        if doc["id"] == wanted:
            return jsonify({"data": doc})
    return pact_error(404, "NoSuchFootprint", f"Footprint with ID '{wanted}' does not exist")


# ----------------------------------------------------------------------------- events


@bp.post("/2/events")
def post_event() -> Response:
    """Action Events: RequestCreated (answered later), Published and answers (logged)."""
    client = _caller()
    if isinstance(client, Response):
        return client
    if not request.is_json:
        return pact_error(
            400, "BadRequest", "the body must be application/cloudevents+json (a CloudEvent)"
        )
    try:
        event = events.check_event(request.get_json(silent=True))
    except events.EventError as exc:
        return pact_error(400, "BadRequest", str(exc))
    row_id = events.record(client, event)
    if event["type"] == events.CREATED:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        events.schedule_answer(app, row_id, client, event, _base_url())
    return Response(status=200)
