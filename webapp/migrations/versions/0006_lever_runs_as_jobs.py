"""Lever runs become jobs of kind ``levers``: one job table, one runner, one heartbeat sweep.

Every ``lever_runs`` row is copied into ``jobs`` (same id, status, request, result, error,
times, creator, owner and heartbeat; progress 1.0 when finished, else 0.0; ``started_at``
unknown), then ``lever_runs`` is dropped. A queued or running run keeps its owner and
heartbeat, so the sweep of ``webapp.heartbeat`` still fails it once its process is gone.
Downgrade moves the ``levers`` jobs back into a re-created ``lever_runs``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
KIND = "levers"
_SHARED = (
    "id, status, request, result, error, created_at, finished_at, created_by, owner, heartbeat_at"
)


def upgrade() -> None:
    op.execute(
        f"INSERT INTO jobs (kind, progress, {_SHARED}) "
        f"SELECT '{KIND}', CASE WHEN status IN ('done', 'failed') THEN 1.0 ELSE 0.0 END, "
        f"{_SHARED} FROM lever_runs"
    )
    op.drop_table("lever_runs")


def downgrade() -> None:
    op.create_table(
        "lever_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=True),
        sa.Column("owner", sa.String(40), nullable=True),
        sa.Column("heartbeat_at", TZ, nullable=True),
    )
    op.execute(
        f"INSERT INTO lever_runs ({_SHARED}) SELECT {_SHARED} FROM jobs WHERE kind = '{KIND}'"
    )
    op.execute(f"DELETE FROM jobs WHERE kind = '{KIND}'")
