"""The carbon ledger: hash-chained entries, actual shipments and legs, certificates and their
retirements, baseline settings, lever runs; triggers that make the ledger append-only.

``ledger_entries`` and ``certificate_retirements`` refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL) in the database itself; ``certificate_retirements`` is UNIQUE on
``(registry, serial)`` so a serial retires once; a retired certificate cannot change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
APPEND_ONLY = ("ledger_entries", "certificate_retirements")


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("hash", name="uq_ledger_entries_hash"),
    )
    op.create_index("ix_ledger_entries_ref", "ledger_entries", ["ref"])
    op.create_table(
        "actual_shipments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("shipment_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.id"), nullable=True),
        sa.Column("completed_at", TZ, nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("lane", sa.String(140), nullable=False),
        sa.Column("carrier", sa.String(200), nullable=True),
        sa.Column("mass_t", sa.Float, nullable=False),
        sa.Column("tkm_gcd", sa.Float, nullable=False),
        sa.Column("tkm", sa.Float, nullable=False),
        sa.Column("co2e_wtw_kg", sa.Float, nullable=False),
        sa.Column("co2e_ttw_kg", sa.Float, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("footprint", sa.JSON, nullable=False),
        sa.Column("data_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=True),
        sa.UniqueConstraint("shipment_id", "version", name="uq_actual_shipment_version"),
    )
    op.create_index("ix_actual_shipments_lane", "actual_shipments", ["lane"])
    op.create_index("ix_actual_shipments_completed_at", "actual_shipments", ["completed_at"])
    op.create_table(
        "actual_legs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("actual_id", sa.String(40), sa.ForeignKey("actual_shipments.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("tce_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("carrier", sa.String(200), nullable=False),
        sa.Column("energy_carrier", sa.String(200), nullable=False),
        sa.Column("data_type", sa.String(20), nullable=False),
        sa.Column("distance_km", sa.Float, nullable=False),
        sa.Column("tkm", sa.Float, nullable=False),
        sa.Column("tkm_gcd", sa.Float, nullable=False),
        sa.Column("co2e_wtw_kg", sa.Float, nullable=False),
        sa.Column("co2e_ttw_kg", sa.Float, nullable=False),
        sa.UniqueConstraint("actual_id", "position", name="uq_actual_legs_position"),
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("registry", sa.String(100), nullable=False),
        sa.Column("serial", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("volume", sa.Float, nullable=False),
        sa.Column("unit", sa.String(10), nullable=False),
        sa.Column("vintage", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("assigned_kind", sa.String(10), nullable=True),
        sa.Column("assigned_ref", sa.String(200), nullable=True),
        sa.Column("claim_year", sa.Integer, nullable=True),
        sa.Column("beneficiary", sa.String(200), nullable=True),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=True),
        sa.UniqueConstraint("registry", "serial", name="uq_certificates_serial"),
        sa.CheckConstraint(
            "kind IN ('saf', 'green_power', 'carbon_credit')", name="ck_certificates_kind"
        ),
        sa.CheckConstraint(
            "status IN ('held', 'assigned', 'retired')", name="ck_certificates_status"
        ),
        sa.CheckConstraint("volume > 0", name="ck_certificates_volume"),
    )
    op.create_table(
        "certificate_retirements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "certificate_id", sa.String(40), sa.ForeignKey("certificates.id"), nullable=False
        ),
        sa.Column("registry", sa.String(100), nullable=False),
        sa.Column("serial", sa.String(200), nullable=False),
        sa.Column("claim_year", sa.Integer, nullable=False),
        sa.Column("beneficiary", sa.String(200), nullable=False),
        sa.Column("retired_at", TZ, nullable=False),
        sa.UniqueConstraint("registry", "serial", name="uq_certificate_retirements_serial"),
        sa.UniqueConstraint("certificate_id", name="uq_certificate_retirements_certificate"),
    )
    op.create_table(
        "baseline_settings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("baseline_year", sa.Integer, nullable=False),
        sa.Column("baseline_intensity_g_per_tkm", sa.Float, nullable=False),
        sa.Column("target_year", sa.Integer, nullable=False),
        sa.Column("reduction_share", sa.Float, nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("api_tokens.id"), nullable=True),
    )
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
    )
    _triggers_up(op.get_bind().dialect.name)


def _triggers_up(dialect: str) -> None:
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        op.execute(
            "CREATE TRIGGER certificates_retired_final BEFORE UPDATE ON certificates "
            "WHEN OLD.status = 'retired' "
            "BEGIN SELECT RAISE(ABORT, 'a retired certificate cannot change'); END"
        )
        op.execute(
            "CREATE TRIGGER certificates_retired_kept BEFORE DELETE ON certificates "
            "WHEN OLD.status = 'retired' "
            "BEGIN SELECT RAISE(ABORT, 'a retired certificate cannot be deleted'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION greenlane_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            "CREATE OR REPLACE FUNCTION greenlane_retired_final() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF OLD.status = 'retired' THEN "
            "RAISE EXCEPTION 'a retired certificate cannot change'; END IF; "
            "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION greenlane_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION greenlane_append_only()"
            )
        op.execute(
            "CREATE TRIGGER certificates_retired_final BEFORE UPDATE OR DELETE ON certificates "
            "FOR EACH ROW EXECUTE FUNCTION greenlane_retired_final()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
        op.execute("DROP TRIGGER IF EXISTS certificates_retired_final")
        op.execute("DROP TRIGGER IF EXISTS certificates_retired_kept")
    for table in (
        "lever_runs",
        "baseline_settings",
        "certificate_retirements",
        "certificates",
        "actual_legs",
        "actual_shipments",
        "ledger_entries",
    ):
        op.drop_table(table)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS greenlane_append_only()")
        op.execute("DROP FUNCTION IF EXISTS greenlane_retired_final()")
