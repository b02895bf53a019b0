"""Persistence: SQLAlchemy Core tables, Alembic migrations, one engine per app, transactions.

SQLite (WAL, foreign keys on) by default; PostgreSQL through ``DATABASE_URL``. The tables
below are the model; ``webapp/migrations`` holds the Alembic scripts that build them (a test
checks that the two agree). Every write
goes through :func:`transaction`, so a failed request or job leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Connection, Engine

metadata = MetaData()

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("partner_id", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

plans = Table(
    "plans",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False, default=""),
    Column("status", String(40), nullable=False),
    Column("state", String(20), nullable=False, default="proposed"),
    Column("request", JSON, nullable=False),
    Column("result", JSON, nullable=False),
    # Lossless footprints (TCE geometry, times) from which every report is rendered.
    Column("footprints", JSON, nullable=False),
    Column("pareto", JSON, nullable=True),
    Column("data_sha256", JSON, nullable=False),
    Column("software_version", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=True),
    Column("created_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("request", JSON, nullable=False),
    Column("result_plan_id", String(40), ForeignKey("plans.id"), nullable=True),
    Column("result", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("created_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_id", Integer, ForeignKey("api_tokens.id"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(500), nullable=False),
    Column("request_sha256", String(64), nullable=False),
    # NULL while the first request is still being processed.
    Column("status_code", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("response_headers", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("token_id", "key", name="uq_idempotency_token_key"),
)

shares = Table(
    "shares",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(40), ForeignKey("plans.id"), nullable=False),
    # NULL shares the whole plan; otherwise one shipment of it.
    Column("shipment_id", String(200), nullable=True),
    Column("partner_id", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
    Index("ix_shares_partner_plan", "partner_id", "plan_id"),
)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes: mark them UTC (PostgreSQL keeps the zone)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def init_app(app: Flask) -> None:
    """Create the app's engine (tables are created by ``init-db`` or on first start)."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["greenlane_engine"] = engine


def engine_of(app: Flask | None = None) -> Engine:
    """The engine of ``app`` (default: the current app)."""
    return (app or current_app).extensions["greenlane_engine"]  # type: ignore[no-any-return]


MIGRATIONS = Path(__file__).resolve().parent / "migrations"
"""The Alembic scripts (``webapp/migrations/versions``)."""


def init_db(engine: Engine) -> None:
    """Bring the database to the newest schema with the Alembic migrations (idempotent).

    A database whose tables were made before migrations existed is stamped, not rebuilt.
    """
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        tables = set(inspect(conn).get_table_names())
        if "alembic_version" not in tables and "plans" in tables:
            command.stamp(cfg, "head")
        else:
            command.upgrade(cfg, "head")


def drop_db(engine: Engine) -> None:
    """Drop every greenlane table and the migration stamp (tests)."""
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Connection]:
    """A connection inside one transaction: committed on success, rolled back on error."""
    with (engine or engine_of()).begin() as conn:
        yield conn


@contextmanager
def reading(engine: Engine | None = None) -> Iterator[Connection]:
    """A connection for reads."""
    with (engine or engine_of()).connect() as conn:
        yield conn


# The carbon ledger's tables live with their storage code; importing it registers them on
# ``metadata`` (so ``init-db``, the migrations check and ``drop_db`` see them).
from webapp import ledger_store as _ledger_tables  # noqa: E402, F401
