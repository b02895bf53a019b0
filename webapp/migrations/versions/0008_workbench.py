"""Token expiry, server-side UI sessions, the log of partner downloads.

``api_tokens.expires_at``: a token is refused from then on (NULL, tokens made before this
migration: no expiry until rotated). ``ui_sessions``: one row per browser login (the sha256
of the id kept in the signed cookie); logging out ends that row, rotating or revoking the
token ends all of its rows, so a copied cookie stops working. ``report_downloads``: every
report a partner downloaded.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "ui_sessions",
        sa.Column("id_sha256", sa.String(64), primary_key=True),
        sa.Column("token_id", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ui_sessions_token_id", "ui_sessions", ["token_id"])
    op.create_table(
        "report_downloads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("shipment_id", sa.String(200), nullable=True),
        sa.Column("fmt", sa.String(20), nullable=False),
        sa.Column("partner_id", sa.String(200), nullable=False),
        sa.Column("token_id", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_report_downloads_plan", "report_downloads", ["plan_id"])


def downgrade() -> None:
    op.drop_index("ix_report_downloads_plan", table_name="report_downloads")
    op.drop_table("report_downloads")
    op.drop_index("ix_ui_sessions_token_id", table_name="ui_sessions")
    op.drop_table("ui_sessions")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
