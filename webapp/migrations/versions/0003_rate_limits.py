"""Rate-limit buckets shared by every server process on the database.

One row per bucket (``token:<id>`` or ``ip:<address>``): the requests left and when they
were counted. ``webapp.ratelimit.DatabaseBuckets`` spends a request with one atomic
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (SQLite >= 3.35 and PostgreSQL).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(200), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("stamp_s", sa.Float, nullable=False),
        sa.Column("allowed", sa.Integer, nullable=False),
    )
    op.create_index("ix_rate_limits_stamp_s", "rate_limits", ["stamp_s"])


def downgrade() -> None:
    op.drop_index("ix_rate_limits_stamp_s", table_name="rate_limits")
    op.drop_table("rate_limits")
