"""Owner and heartbeat on jobs and Idempotency-Key reservations (security finding 16).

``owner`` is the id of the server process that runs the job or handles the request;
``heartbeat_at`` (UTC) is refreshed by that process while it lives. Start-up clean-up only
fails jobs and frees reservations whose heartbeat is stale, so processes sharing a database
leave each other's work alone. Existing rows get NULL: treated as stale.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLES = ("jobs", "idempotency")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("owner", sa.String(40), nullable=True))
        op.add_column(table, sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("heartbeat_at")
            batch.drop_column("owner")
