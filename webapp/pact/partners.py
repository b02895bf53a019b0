"""Partners' PACT hosts greenlane calls: registered with credentials, used for pulls and
to authenticate event answers (see ``webapp.pact.events``).

A registration names the partner, the host's base URL (``https://host/pact``, the URL
that ``/2/footprints`` and ``/auth/token`` hang off) and the client id and secret the
partner issued to greenlane; the secret is kept encrypted (``webapp.pact.vault``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import delete, select

from greenlane.emissions.errors import InputError
from greenlane.webapp.db import engine_of, reading, transaction, utcnow
from greenlane.webapp.pact.vault import decrypt, encrypt
from greenlane.webapp.tables import pact_remotes


@dataclass(frozen=True, slots=True)
class PartnerHost:
    """A registered PACT host of a partner (secret decrypted)."""

    id: int
    partner_id: str
    base_url: str
    client_id: str
    client_secret: str


def normalise_base_url(url: str) -> str:
    """``url`` without a trailing slash; an http(s) URL with a host, else InputError."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(f"not an http(s) URL: {url!r}", field="base_url")
    if parts.query or parts.fragment:
        raise InputError("the base URL takes no query or fragment", field="base_url")
    return url.strip().rstrip("/")


def register_host(
    app: Flask, partner_id: str, base_url: str, client_id: str, client_secret: str
) -> int:
    """Register (or replace) the PACT host of ``partner_id`` at ``base_url``; returns its id."""
    partner_id = (partner_id or "").strip()
    if not partner_id or len(partner_id) > 200:
        raise InputError("a partner id of 1 to 200 characters is needed", field="partner_id")
    base = normalise_base_url(base_url)
    if not client_id or not client_secret:
        raise InputError("client id and secret are needed", field="client_id")
    with transaction(engine_of(app)) as conn:
        conn.execute(
            delete(pact_remotes).where(
                pact_remotes.c.partner_id == partner_id, pact_remotes.c.base_url == base
            )
        )
        result = conn.execute(
            pact_remotes.insert().values(
                partner_id=partner_id,
                base_url=base,
                client_id=client_id,
                client_secret_enc=encrypt(app, client_secret),
                created_at=utcnow(),
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def _host(app: Flask, row: Any) -> PartnerHost:
    return PartnerHost(
        row.id, row.partner_id, row.base_url, row.client_id, decrypt(app, row.client_secret_enc)
    )


def hosts(app: Flask, partner_id: str | None = None) -> list[PartnerHost]:
    """The registered hosts (of one partner), oldest first."""
    query = select(pact_remotes).order_by(pact_remotes.c.id)
    if partner_id is not None:
        query = query.where(pact_remotes.c.partner_id == partner_id)
    with reading(engine_of(app)) as conn:
        return [_host(app, r) for r in conn.execute(query)]


def host_for(app: Flask, partner_id: str, base_url: str) -> PartnerHost | None:
    """The registration of ``partner_id`` at exactly ``base_url`` (None if absent)."""
    base = base_url.rstrip("/")
    found = [h for h in hosts(app, partner_id) if h.base_url == base]
    return found[0] if found else None
