"""Persistence: SQLAlchemy Core tables, Alembic migrations, one engine per app, transactions.

SQLite (WAL, foreign keys on) by default; PostgreSQL through ``DATABASE_URL``. The tables
below are the model; ``webapp/migrations`` holds the Alembic scripts that build them (a test
checks that the two agree). Every write
goes through :func:`transaction`, so a failed request or job leaves nothing half-written.

Inside a request that holds an ``Idempotency-Key`` (:func:`begin_request_unit`), the
request's writes are one unit: the first :func:`transaction` block that writes stays open,
later blocks join it, and ``webapp.idempotency.finish`` stores the answer on the same
connection and commits once — the work and its answer land together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_request_context
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
from sqlalchemy.engine import Connection, Engine, RootTransaction

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
    # Refused from then on; NULL (tokens made before migration 0008): no expiry.
    Column("expires_at", DateTime(timezone=True), nullable=True),
)

ui_sessions = Table(
    "ui_sessions",
    metadata,
    # sha256 of the random session id kept in the signed cookie
    Column("id_sha256", String(64), primary_key=True),
    Column("token_id", Integer, ForeignKey("api_tokens.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Set by logging out, or for every session of a token when it is rotated or revoked.
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Index("ix_ui_sessions_token_id", "token_id"),
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
    # The server process that runs the job (``instance_id``) and its last sign of life;
    # NULL (rows from before migration 0004) counts as stale.
    Column("owner", String(40), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
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
    # The server process handling the request and its last sign of life (see ``jobs``).
    Column("owner", String(40), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
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

report_downloads = Table(
    "report_downloads",
    metadata,
    # Every report a partner downloaded: who, what, when (shown to planners on the plan page).
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(40), ForeignKey("plans.id"), nullable=False),
    Column("shipment_id", String(200), nullable=True),
    Column("fmt", String(20), nullable=False),
    Column("partner_id", String(200), nullable=False),
    Column("token_id", Integer, ForeignKey("api_tokens.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_report_downloads_plan", "plan_id"),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    # ``token:<id>`` or ``ip:<address>``
    Column("bucket", String(200), primary_key=True),
    # requests left [count] at ``stamp_s`` [s since the epoch]
    Column("tokens", Float, nullable=False),
    Column("stamp_s", Float, nullable=False),
    # 1 if the last request counted here was let through
    Column("allowed", Integer, nullable=False),
    Index("ix_rate_limits_stamp_s", "stamp_s"),
)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes: mark them UTC (PostgreSQL keeps the zone)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_WROTE = "greenlane_wrote"
_WRITES = ("INSERT", "UPDATE", "DELETE")


def _note_write(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if statement.lstrip()[:6].upper() in _WRITES:
        conn.info[_WROTE] = True


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

    else:
        engine = create_engine(url, pool_pre_ping=True)
    event.listen(engine, "after_cursor_execute", _note_write)
    return engine


def init_app(app: Flask) -> None:
    """Create the app's engine and instance id (tables: ``init-db`` or the first start)."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["greenlane_engine"] = engine
    app.extensions["greenlane_instance"] = uuid.uuid4().hex


def instance_id(app: Flask | None = None) -> str:
    """This server process's id (a uuid made at app creation), the ``owner`` of its rows."""
    return (app or current_app).extensions["greenlane_instance"]  # type: ignore[no-any-return]


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


class RequestUnit:
    """The writes of one idempotent request: one transaction, committed by :meth:`commit`.

    Blocks that only read commit at once (no lock or connection is held while a solver
    runs); from the first block that writes on, the transaction stays open until the
    request's answer is stored with it. An error escaping any block rolls the whole unit
    back. ``after_commit`` callbacks (e.g. starting a queued job) run after the commit and
    are dropped on rollback.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn: Connection | None = None
        self.trans: RootTransaction | None = None
        self.callbacks: list[Callable[[], None]] = []

    @contextmanager
    def block(self) -> Iterator[Connection]:
        """One ``transaction()`` block of the request."""
        if self.conn is not None:
            try:
                yield self.conn
            except BaseException:
                self.rollback()
                raise
            return
        conn = self.engine.connect()
        trans = conn.begin()
        conn.info[_WROTE] = False
        try:
            yield conn
        except BaseException:
            trans.rollback()
            conn.close()
            self.callbacks.clear()
            raise
        if conn.info.pop(_WROTE, False):
            self.conn, self.trans = conn, trans
        else:
            trans.commit()
            conn.close()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the unit is committed (at once if nothing is pending)."""
        if self.conn is None:
            callback()
        else:
            self.callbacks.append(callback)

    def commit(self) -> None:
        """Commit the pending writes (if any), then run the callbacks."""
        self.commit_writes()
        self.run_callbacks()

    def commit_writes(self) -> None:
        """Commit the pending writes (if any)."""
        conn, trans = self.conn, self.trans
        self.conn = self.trans = None
        if conn is not None and trans is not None:
            try:
                trans.commit()
            finally:
                conn.close()

    def run_callbacks(self) -> None:
        """Run the ``after_commit`` callbacks (once the writes are committed)."""
        callbacks, self.callbacks = self.callbacks, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        """Discard the pending writes and the callbacks."""
        conn, trans = self.conn, self.trans
        self.conn = self.trans = None
        self.callbacks.clear()
        if conn is not None and trans is not None:
            try:
                trans.rollback()
            finally:
                conn.close()


_UNIT = "greenlane_request_unit"


def begin_request_unit(engine: Engine) -> RequestUnit:
    """Make this request's writes one unit (see :class:`RequestUnit`)."""
    unit = RequestUnit(engine)
    setattr(g, _UNIT, unit)
    return unit


def end_request_unit() -> RequestUnit | None:
    """Detach and return this request's unit (the caller commits or rolls it back)."""
    return g.pop(_UNIT, None) if has_request_context() else None


def request_unit(engine: Engine | None = None) -> RequestUnit | None:
    """The unit of the current request on ``engine`` (None outside one)."""
    if not has_request_context():
        return None
    unit: RequestUnit | None = g.get(_UNIT)
    if unit is None or (engine is not None and unit.engine is not engine):
        return None
    return unit


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` when the current request's writes are committed (now if none)."""
    unit = request_unit()
    if unit is None:
        callback()
    else:
        unit.after_commit(callback)


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Connection]:
    """A connection inside one transaction: committed on success, rolled back on error.

    In a request with a :class:`RequestUnit`, the block joins the request's unit instead.
    """
    engine = engine or engine_of()
    unit = request_unit(engine)
    if unit is not None:
        with unit.block() as conn:
            yield conn
        return
    with engine.begin() as conn:
        yield conn


@contextmanager
def reading(engine: Engine | None = None) -> Iterator[Connection]:
    """A connection for reads."""
    with (engine or engine_of()).connect() as conn:
        yield conn


# The carbon ledger's tables live with their storage code; importing it registers them on
# ``metadata`` (so ``init-db``, the migrations check and ``drop_db`` see them).
from greenlane.webapp import ledger_store as _ledger_tables  # noqa: E402, F401
