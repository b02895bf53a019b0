"""Initial tables: api_tokens, plans, jobs, idempotency, shares.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("partner_id", sa.String(200), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("footprints", sa.JSON, nullable=False),
        sa.Column("pareto", sa.JSON, nullable=True),
        sa.Column("data_sha256", sa.JSON, nullable=False),
        sa.Column("software_version", sa.String(40), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("accepted_at", TZ, nullable=True),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=True),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("result_plan_id", sa.String(40), sa.ForeignKey("plans.id"), nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=True),
    )
    op.create_table(
        "idempotency",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_id", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_body", sa.Text, nullable=True),
        sa.Column("response_headers", sa.JSON, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("token_id", "key", name="uq_idempotency_token_key"),
    )
    op.create_table(
        "shares",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("shipment_id", sa.String(200), nullable=True),
        sa.Column("partner_id", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=True),
    )
    op.create_index("ix_shares_partner_plan", "shares", ["partner_id", "plan_id"])


def downgrade() -> None:
    op.drop_index("ix_shares_partner_plan", table_name="shares")
    for table in ("shares", "idempotency", "jobs", "plans", "api_tokens"):
        op.drop_table(table)
