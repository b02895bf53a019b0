"""Owner and heartbeat on lever runs, as on jobs (migration 0004).

A lever run computed in the job pool is claimed by its server process; the heartbeat sweep
fails the queued/running runs of stopped processes with the reason. Existing rows get NULL:
treated as stale.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("lever_runs", sa.Column("owner", sa.String(40), nullable=True))
    op.add_column(
        "lever_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("lever_runs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("owner")
