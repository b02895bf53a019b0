"""API tokens (sha256 at rest) and roles: planner, integration, partner.

A token is shown once when created (``gl_`` + 43 URL-safe characters) and stored only as its
sha256. The API reads ``Authorization: Bearer <token>``; the UI keeps the token's id in the
signed session after one login.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal, TypeVar

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from greenlane.emissions.errors import InputError
from greenlane.webapp.db import engine_of, reading, transaction, utcnow
from greenlane.webapp.tables import api_tokens

_View = TypeVar("_View", bound=Callable[..., Any])

Role = Literal["planner", "integration", "partner"]
ROLES: tuple[str, ...] = ("planner", "integration", "partner")
TOKEN_PREFIX = "gl_"

F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: token id, role and (for partners) the partner id."""

    token_id: int
    name: str
    role: str
    partner_id: str | None

    @property
    def is_partner(self) -> bool:
        """A partner sees only what is shared with it."""
        return self.role == "partner"


def hash_token(token: str) -> str:
    """sha256 hex of a token (what is stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    engine: Engine, role: str, name: str = "", partner_id: str | None = None
) -> tuple[int, str]:
    """Store a new token; returns ``(id, token)``. The token itself is never stored."""
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
            )
        )
        token_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    return token_id, token


def rotate_token(engine: Engine, token_id: int) -> str:
    """Give a live token a new secret and return it; the old secret stops working at once.

    The id, role, partner and name stay, so plans, jobs and Idempotency-Keys made with the
    old secret stay the caller's. A revoked or unknown id is an InputError naming
    ``token_id``.
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(engine) as conn:
        result = conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(token_sha256=hash_token(token))
        )
        if result.rowcount != 1:
            raise InputError(f"no live token with id {token_id}", field="token_id")
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


def _principal(row: object) -> Principal:
    return Principal(row.id, row.name, row.role, row.partner_id)  # type: ignore[attr-defined]


def authenticate(engine: Engine, token: str) -> Principal | None:
    """The principal of a presented token, or None (unknown, revoked, malformed)."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    with reading(engine) as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.token_sha256 == digest)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_sha256, digest):
        return None
    return _principal(row)


def principal_by_id(engine: Engine, token_id: int) -> Principal | None:
    """The principal of a token id kept in the UI session (None if revoked)."""
    with reading(engine) as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    if row is None or row.revoked_at is not None:
        return None
    return _principal(row)


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
            token_id = session.get("token_id")
            who = principal_by_id(engine_of(), int(token_id)) if token_id else None
            if who is None:
                session.pop("token_id", None)
                return redirect(url_for("ui.login", next=request.full_path))
            if who.role not in allowed:
                abort(403)
            g.principal = who
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return deco
