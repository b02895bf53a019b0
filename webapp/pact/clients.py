"""OAuth2 clients of partners: created, rotated and revoked like API tokens.

A client id (``pact_`` + 16 hex) is public; its secret (43 URL-safe characters) is shown
once and stored only as its sha256. A client sees exactly what was shared with its
partner (``shares.partner_id``). Rotating gives a new secret (the access tokens signed
for the old one stop working at once); revoking ends the client and its tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from greenlane.emissions.errors import InputError
from greenlane.webapp.db import reading, transaction, utcnow
from greenlane.webapp.tables import pact_clients

CLIENT_PREFIX = "pact_"


@dataclass(frozen=True, slots=True)
class Client:
    """A live client: its id, partner and the fingerprint of its current secret."""

    client_id: str
    partner_id: str
    name: str
    secret_fingerprint: str
    events_base_url: str | None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_url(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"not an http(s) URL: {url!r}", field="events_base_url")
    return url.rstrip("/")


def create_client(
    engine: Engine, partner_id: str, name: str = "", events_base_url: str | None = None
) -> tuple[str, str]:
    """Store a new client of ``partner_id``; returns ``(client_id, client_secret)``."""
    partner_id = (partner_id or "").strip()
    if not partner_id or len(partner_id) > 200:
        raise InputError("a partner id of 1 to 200 characters is needed", field="partner_id")
    url = _check_url(events_base_url)
    client_id = CLIENT_PREFIX + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    with transaction(engine) as conn:
        conn.execute(
            pact_clients.insert().values(
                client_id=client_id,
                secret_sha256=_sha256(secret),
                partner_id=partner_id,
                name=name or f"PACT client of {partner_id}",
                events_base_url=url,
                created_at=utcnow(),
            )
        )
    return client_id, secret


def rotate_client(engine: Engine, client_id: str) -> str:
    """A new secret for a live client (returned once); the old secret and its tokens end."""
    secret = secrets.token_urlsafe(32)
    with transaction(engine) as conn:
        result = conn.execute(
            update(pact_clients)
            .where(pact_clients.c.client_id == client_id, pact_clients.c.revoked_at.is_(None))
            .values(secret_sha256=_sha256(secret), rotated_at=utcnow())
        )
        if result.rowcount != 1:
            raise InputError(f"no live client {client_id!r}", field="client_id")
    return secret


def revoke_client(engine: Engine, client_id: str) -> None:
    """Revoke a client (idempotent); an unknown id is an InputError naming ``client_id``."""
    with transaction(engine) as conn:
        row = conn.execute(
            select(pact_clients.c.id).where(pact_clients.c.client_id == client_id)
        ).first()
        if row is None:
            raise InputError(f"no client {client_id!r}", field="client_id")
        conn.execute(
            update(pact_clients)
            .where(pact_clients.c.client_id == client_id, pact_clients.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def _client(row: object) -> Client:
    return Client(
        row.client_id,  # type: ignore[attr-defined]
        row.partner_id,  # type: ignore[attr-defined]
        row.name,  # type: ignore[attr-defined]
        row.secret_sha256[:16],  # type: ignore[attr-defined]
        row.events_base_url,  # type: ignore[attr-defined]
    )


def live_client(engine: Engine, client_id: str) -> Client | None:
    """The live (not revoked) client of that id, or None."""
    if not client_id or len(client_id) > 64:
        return None
    with reading(engine) as conn:
        row = conn.execute(
            select(pact_clients).where(pact_clients.c.client_id == client_id)
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    return _client(row)


def authenticate_client(engine: Engine, client_id: str, secret: str) -> Client | None:
    """The client if ``client_id``/``secret`` are a live pair, else None."""
    if not secret or len(secret) > 200 or not client_id or len(client_id) > 64:
        return None
    with reading(engine) as conn:
        row = conn.execute(
            select(pact_clients).where(pact_clients.c.client_id == client_id)
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_sha256, _sha256(secret)):
        return None
    return _client(row)
