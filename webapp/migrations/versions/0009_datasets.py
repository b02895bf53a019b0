"""Organisations and their datasets.

``api_tokens.organisation`` and ``plans.organisation``: a token sees only its organisation's
plans and datasets (rows made before this migration: ``default``). ``datasets`` and
``dataset_files``: a company's own tables as uploaded (content kept, so any process can
re-materialise them), one dataset per content hash and organisation. ``dataset_activations``:
the append-only log of which dataset is in force per organisation. ``plans.dataset_id``: the
dataset a plan was made on (NULL: the shipped data).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("upload_format", sa.String(10), nullable=False),
        sa.Column("tables", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=True),
        sa.UniqueConstraint("organisation", "sha256", name="uq_datasets_organisation_sha256"),
        sa.CheckConstraint(
            "upload_format IN ('csv', 'xlsx', 'json')", name="ck_datasets_upload_format"
        ),
    )
    op.create_table(
        "dataset_files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(40), sa.ForeignKey("datasets.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("dataset_id", "name", name="uq_dataset_files_name"),
    )
    op.create_table(
        "dataset_activations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("dataset_id", sa.String(40), sa.ForeignKey("datasets.id"), nullable=True),
        sa.Column("activated_at", TZ, nullable=False),
        sa.Column("activated_by", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=True),
    )
    op.create_index(
        "ix_dataset_activations_organisation", "dataset_activations", ["organisation", "id"]
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column("organisation", sa.String(200), nullable=False, server_default="default")
        )
    with op.batch_alter_table("plans") as batch:
        batch.add_column(
            sa.Column("organisation", sa.String(200), nullable=False, server_default="default")
        )
        batch.add_column(sa.Column("dataset_id", sa.String(40), nullable=True))
        batch.create_foreign_key("fk_plans_dataset_id", "datasets", ["dataset_id"], ["id"])
        batch.create_index("ix_plans_organisation", ["organisation"])


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_index("ix_plans_organisation")
        batch.drop_constraint("fk_plans_dataset_id", type_="foreignkey")
        batch.drop_column("dataset_id")
        batch.drop_column("organisation")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("organisation")
    op.drop_index("ix_dataset_activations_organisation", table_name="dataset_activations")
    for table in ("dataset_activations", "dataset_files", "datasets"):
        op.drop_table(table)
