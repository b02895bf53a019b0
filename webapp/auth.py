"""API tokens (sha256 at rest) and roles: planner, integration, partner.

A token is shown once when created (``gl_`` + 43 URL-safe characters) and stored only as its
sha256, with an expiry (:data:`DEFAULT_EXPIRES_DAYS` unless told; an expired token is
refused). The API reads ``Authorization: Bearer <token>``. A browser login (planners and
partners; integration tokens are API-only) opens a server-side session (``ui_sessions``)
whose random id sits in the signed cookie: logging out ends it, and rotating or revoking
the token ends all of its sessions, so a copied cookie stops working.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Literal, TypeVar

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from greenlane.emissions.errors import InputError
from greenlane.webapp.db import as_utc, engine_of, reading, transaction, utcnow
from greenlane.webapp.tables import api_tokens, ui_sessions

_View = TypeVar("_View", bound=Callable[..., Any])

Role = Literal["planner", "integration", "partner"]
ROLES: tuple[str, ...] = ("planner", "integration", "partner")
TOKEN_PREFIX = "gl_"
UI_ROLES: tuple[str, ...] = ("planner", "partner")
"""Roles that may log into the browser UI (integration tokens are for machines)."""
DEFAULT_EXPIRES_DAYS = 90
"""Lifetime of a new or rotated token [days] unless told otherwise."""
MAX_EXPIRES_DAYS = 3650
DEFAULT_ORGANISATION = "default"
"""The organisation of tokens made without one (and of every token before migration 0009)."""
ORGANISATION_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")

F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: token id, role, (for partners) the partner id, and the organisation
    whose plans and datasets the token sees."""

    token_id: int
    name: str
    role: str
    partner_id: str | None
    organisation: str = "default"

    @property
    def is_partner(self) -> bool:
        """A partner sees only what is shared with it."""
        return self.role == "partner"


def hash_token(token: str) -> str:
    """sha256 hex of a token (what is stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def expiry(expires_days: float = DEFAULT_EXPIRES_DAYS, now: datetime | None = None) -> datetime:
    """When a token made ``now`` with a lifetime of ``expires_days`` [days] expires."""
    if not 0 < expires_days <= MAX_EXPIRES_DAYS:
        raise InputError(f"must lie in (0, {MAX_EXPIRES_DAYS}] days", field="expires_days")
    return (now or utcnow()) + timedelta(days=expires_days)


def create_token(
    engine: Engine,
    role: str,
    name: str = "",
    partner_id: str | None = None,
    expires_days: float = DEFAULT_EXPIRES_DAYS,
    organisation: str = DEFAULT_ORGANISATION,
) -> tuple[int, str]:
    """Store a new token of ``organisation`` valid for ``expires_days``; returns
    ``(id, token)`` (the token itself is never stored)."""
    expires_at = expiry(expires_days)
    if not ORGANISATION_PATTERN.match(organisation or ""):
        raise InputError("1-200 characters of letters, digits and _ . : -", field="organisation")
    if role not in ROLES:
        raise InputError(f"must be one of {', '.join(ROLES)}", field="role")
    if role == "partner" and not partner_id:
        raise InputError("a partner token needs a partner id", field="partner_id")
    if role != "partner" and partner_id:
        raise InputError("only partner tokens carry a partner id", field="partner_id")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(engine) as conn:
        result = conn.execute(
            api_tokens.insert().values(
                name=name or f"{role} token",
                token_sha256=hash_token(token),
                role=role,
                partner_id=partner_id,
                created_at=utcnow(),
                expires_at=expires_at,
                organisation=organisation,
            )
        )
        token_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    return token_id, token


def rotate_token(engine: Engine, token_id: int, expires_days: float = DEFAULT_EXPIRES_DAYS) -> str:
    """Give a live token a new secret (valid ``expires_days``) and return it.

    The old secret stops working at once and the browser sessions opened with the token
    end. The id, role, partner and name stay, so plans, jobs and Idempotency-Keys made with
    the old secret stay the caller's. A revoked or unknown id is an InputError naming
    ``token_id``.
    """
    expires_at = expiry(expires_days)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(engine) as conn:
        result = conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(token_sha256=hash_token(token), expires_at=expires_at)
        )
        if result.rowcount != 1:
            raise InputError(f"no live token with id {token_id}", field="token_id")
        end_sessions(conn, token_id)
    return token


def revoke_token(engine: Engine, token_id: int) -> None:
    """Revoke a token (idempotent); an unknown id is an InputError naming ``token_id``."""
    with transaction(engine) as conn:
        row = conn.execute(select(api_tokens.c.id).where(api_tokens.c.id == token_id)).first()
        if row is None:
            raise InputError(f"no token with id {token_id}", field="token_id")
        conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        end_sessions(conn, token_id)


def _live(row: Any, now: datetime | None = None) -> bool:
    """Not revoked and not expired."""
    if row.revoked_at is not None:
        return False
    expires_at = as_utc(row.expires_at)
    return expires_at is None or expires_at > (now or utcnow())


def _principal(row: object) -> Principal:
    return Principal(
        row.id,  # type: ignore[attr-defined]
        row.name,  # type: ignore[attr-defined]
        row.role,  # type: ignore[attr-defined]
        row.partner_id,  # type: ignore[attr-defined]
        row.organisation,  # type: ignore[attr-defined]
    )


def authenticate(engine: Engine, token: str) -> Principal | None:
    """The principal of a presented token, or None (unknown, revoked, malformed)."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    with reading(engine) as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.token_sha256 == digest)).first()
    if row is None or not _live(row):
        return None
    if not hmac.compare_digest(row.token_sha256, digest):
        return None
    return _principal(row)


def principal_by_id(engine: Engine, token_id: int) -> Principal | None:
    """The principal of a token id (None if unknown, revoked or expired)."""
    with reading(engine) as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    if row is None or not _live(row):
        return None
    return _principal(row)


# ----------------------------------------------------------------------------- UI sessions


def open_session(engine: Engine, token_id: int) -> str:
    """Start a browser session of a token; returns its random id (for the signed cookie)."""
    session_id = secrets.token_urlsafe(32)
    with transaction(engine) as conn:
        conn.execute(
            ui_sessions.insert().values(
                id_sha256=hash_token(session_id), token_id=token_id, created_at=utcnow()
            )
        )
    return session_id


def session_principal(engine: Engine, session_id: str) -> Principal | None:
    """The principal of a live browser session (None: ended, unknown, token not live)."""
    if not session_id or len(session_id) > 200:
        return None
    query = (
        select(api_tokens)
        .join(ui_sessions, ui_sessions.c.token_id == api_tokens.c.id)
        .where(ui_sessions.c.id_sha256 == hash_token(session_id), ui_sessions.c.ended_at.is_(None))
    )
    with reading(engine) as conn:
        row = conn.execute(query).first()
    if row is None or not _live(row) or row.role not in UI_ROLES:
        return None
    return _principal(row)


def end_session(engine: Engine, session_id: str) -> None:
    """End one browser session (logging out); unknown ids are ignored."""
    with transaction(engine) as conn:
        conn.execute(
            update(ui_sessions)
            .where(
                ui_sessions.c.id_sha256 == hash_token(session_id), ui_sessions.c.ended_at.is_(None)
            )
            .values(ended_at=utcnow())
        )


def end_sessions(conn: Connection, token_id: int) -> int:
    """End every browser session of a token (rotation, revocation); returns how many."""
    result = conn.execute(
        update(ui_sessions)
        .where(ui_sessions.c.token_id == token_id, ui_sessions.c.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return int(result.rowcount or 0)


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def roles(*allowed: str) -> Callable[[F], F]:
    """Mark a view with the roles allowed to call it (checked before validation)."""

    def mark(func: F) -> F:
        func.greenlane_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return func

    return mark


def login_required(*roles: str) -> Callable[[_View], _View]:
    """A view for a logged-in token with one of ``roles`` (default: planners)."""
    allowed = roles or ("planner",)

    def deco(view: _View) -> _View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            sid = session.get("sid")
            who = session_principal(engine_of(), str(sid)) if sid else None
            if who is None:
                session.pop("sid", None)
                return redirect(url_for("ui.login", next=request.full_path))
            if who.role not in allowed:
                abort(403)
            g.principal = who
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return deco
