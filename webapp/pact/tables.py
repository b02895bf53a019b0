"""The PACT tables: OAuth2 clients of partners, received events, registered partner hosts.

Kept in one module so they can move with the other table definitions; importing it
registers them on ``webapp.db.metadata`` (migration ``0007_pact_clients`` builds them).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from greenlane.webapp.db import metadata

pact_clients = Table(
    "pact_clients",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The OAuth2 client id (public) and the sha256 of its secret (the secret is never stored).
    Column("client_id", String(64), nullable=False, unique=True),
    Column("secret_sha256", String(64), nullable=False),
    # The partner whose shares this client sees (``shares.partner_id``).
    Column("partner_id", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    # Where RequestFulfilled/Rejected answers go (``<base>/2/events``); NULL: the event's source.
    Column("events_base_url", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

pact_events = Table(
    "pact_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False),
    Column("event_id", String(500), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("source", String(1000), nullable=False),
    Column("body", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # The answer to a RequestCreated event: its type, target URL, delivery state and error.
    Column("answer_type", String(200), nullable=True),
    Column("answer_url", String(1000), nullable=True),
    Column("answer_status", String(20), nullable=True),
    Column("answer_error", Text, nullable=True),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Index("ix_pact_events_client", "client_id", "received_at"),
)

pact_remotes = Table(
    "pact_remotes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # A partner's PACT host (base URL, e.g. ``https://carrier.example/pact``) and the
    # credentials greenlane uses there; the secret is encrypted with the app's SECRET_KEY.
    Column("partner_id", String(200), nullable=False),
    Column("base_url", String(500), nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("client_secret_enc", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("pulled_at", DateTime(timezone=True), nullable=True),
    Index("ix_pact_remotes_partner", "partner_id"),
)

pact_pulled = Table(
    "pact_pulled",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # One ProductFootprint version pulled from a partner's host, as received.
    Column("partner_id", String(200), nullable=False),
    Column("host_id", Integer, nullable=False),
    Column("pf_id", String(36), nullable=False),
    Column("pf_version", Integer, nullable=False),
    Column("shipment_id", String(200), nullable=True),
    Column("body", JSON, nullable=False),
    Column("pulled_at", DateTime(timezone=True), nullable=False),
    # What became of it: ``recorded`` (an actual in the ledger), ``unmatched``, ``invalid``.
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=True),
    Column("plan_id", String(40), nullable=True),
    Column("actual_id", String(40), nullable=True),
    UniqueConstraint("partner_id", "pf_id", "pf_version", name="uq_pact_pulled_version"),
)
