"""PACT: OAuth2 clients of partners, received events, partner hosts, pulled footprints.

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pact_clients",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("partner_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("events_base_url", sa.String(500), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("rotated_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
    )
    op.create_table(
        "pact_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(500), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("answer_type", sa.String(200), nullable=True),
        sa.Column("answer_url", sa.String(1000), nullable=True),
        sa.Column("answer_status", sa.String(20), nullable=True),
        sa.Column("answer_error", sa.Text, nullable=True),
        sa.Column("answered_at", TZ, nullable=True),
    )
    op.create_index("ix_pact_events_client", "pact_events", ["client_id", "received_at"])
    op.create_table(
        "pact_remotes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.String(200), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("client_secret_enc", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("pulled_at", TZ, nullable=True),
    )
    op.create_index("ix_pact_remotes_partner", "pact_remotes", ["partner_id"])
    op.create_table(
        "pact_pulled",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.String(200), nullable=False),
        sa.Column("host_id", sa.Integer, nullable=False),
        sa.Column("pf_id", sa.String(36), nullable=False),
        sa.Column("pf_version", sa.Integer, nullable=False),
        sa.Column("shipment_id", sa.String(200), nullable=True),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("pulled_at", TZ, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("plan_id", sa.String(40), nullable=True),
        sa.Column("actual_id", sa.String(40), nullable=True),
        sa.UniqueConstraint("partner_id", "pf_id", "pf_version", name="uq_pact_pulled_version"),
    )


def downgrade() -> None:
    op.drop_table("pact_pulled")
    op.drop_index("ix_pact_remotes_partner", table_name="pact_remotes")
    op.drop_table("pact_remotes")
    op.drop_index("ix_pact_events_client", table_name="pact_events")
    op.drop_table("pact_events")
    op.drop_table("pact_clients")
