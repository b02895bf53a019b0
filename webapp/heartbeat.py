"""Liveness of server processes sharing one database (security finding 16).

Every app gets an instance id (``webapp.db.instance_id``). Job rows (plans, Pareto fronts and
lever runs alike, migration 0006) and ``Idempotency-Key`` reservations record it as ``owner``
with ``heartbeat_at`` (UTC); one daemon thread per app refreshes the heartbeat of what the
process owns every ``HEARTBEAT_S`` seconds (default 10) and sweeps what other processes left
behind. Work is abandoned when its heartbeat is older than ``STALE_INTERVALS`` intervals (or
NULL: rows from before migrations 0004/0005): a job or lever run is failed with the reason, a
reservation freed so its retry runs again. Start-up runs the same sweep, so a restarted
process never touches a live one's work. A clean stop (:meth:`Heartbeat.stop`) drops the
process's claims at once (heartbeat NULL).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import Engine

from greenlane.webapp.db import as_utc, engine_of, instance_id, transaction, utcnow
from greenlane.webapp.tables import idempotency, jobs

STALE_INTERVALS = 3
"""Missed heartbeats after which a process counts as stopped."""

_OPEN = ("queued", "running")
_RUNS = (jobs,)
"""Tables of claimed work with a queued/running status (lever runs are jobs, migration 0006)."""


def stale_before(interval_s: float, now: datetime | None = None) -> datetime:
    """Heartbeats older than this (UTC) are stale: ``STALE_INTERVALS`` × ``interval_s`` [s]."""
    return (now or utcnow()) - timedelta(seconds=STALE_INTERVALS * interval_s)


def _stale(table, owner: str, cutoff: datetime):  # type: ignore[no-untyped-def]
    """Rows of other processes whose heartbeat is older than ``cutoff`` or missing."""
    return and_(
        or_(table.c.owner.is_(None), table.c.owner != owner),
        or_(table.c.heartbeat_at.is_(None), table.c.heartbeat_at < cutoff),
    )


def beat(engine: Engine, owner: str) -> None:
    """Refresh the heartbeat of the open jobs and unanswered reservations of ``owner``."""
    now = utcnow()
    with transaction(engine) as conn:
        for table in _RUNS:
            conn.execute(
                update(table)
                .where(table.c.owner == owner, table.c.status.in_(_OPEN))
                .values(heartbeat_at=now)
            )
        conn.execute(
            update(idempotency)
            .where(idempotency.c.owner == owner, idempotency.c.status_code.is_(None))
            .values(heartbeat_at=now)
        )


def fail_stale_jobs(engine: Engine, owner: str, interval_s: float) -> int:
    """Fail queued/running jobs and lever runs of stopped processes with the reason;
    returns how many."""
    cutoff = stale_before(interval_s)
    n = 0
    with transaction(engine) as conn:
        for table in _RUNS:
            rows = conn.execute(
                select(table.c.id, table.c.owner, table.c.heartbeat_at).where(
                    table.c.status.in_(_OPEN), _stale(table, owner, cutoff)
                )
            ).all()
            for row in rows:
                seen = as_utc(row.heartbeat_at)
                detail = (
                    f"server process {row.owner or '(unknown)'} stopped; "
                    + (
                        f"no heartbeat since {seen.isoformat()}"
                        if seen
                        else "no heartbeat recorded"
                    )
                    + ". The server stopped before the job finished; submit it again"
                )
                n += (
                    conn.execute(
                        update(table)
                        .where(
                            table.c.id == row.id,
                            table.c.status.in_(_OPEN),
                            _stale(table, owner, cutoff),
                        )
                        .values(
                            status="failed",
                            finished_at=utcnow(),
                            error={"title": "Interrupted", "status": 500, "detail": detail},
                        )
                    ).rowcount
                    or 0
                )
    return int(n)


def release_stale_keys(engine: Engine, owner: str, interval_s: float) -> int:
    """Free unanswered reservations of stopped processes; returns how many.

    Such a request was never acknowledged, so its retry must run again rather than meet a
    409 "in progress" forever. A committed answer is never deleted.
    """
    cutoff = stale_before(interval_s)
    with transaction(engine) as conn:
        result = conn.execute(
            delete(idempotency).where(
                idempotency.c.status_code.is_(None), _stale(idempotency, owner, cutoff)
            )
        )
    return int(result.rowcount or 0)


def sweep(app: Flask) -> None:
    """Fail the jobs and free the keys that stopped processes left behind (logged)."""
    engine, owner = engine_of(app), instance_id(app)
    interval_s = float(app.config["HEARTBEAT_S"])
    if n := fail_stale_jobs(engine, owner, interval_s):
        app.logger.warning("marked %d job(s)/lever run(s) of stopped server processes as failed", n)
    if n := release_stale_keys(engine, owner, interval_s):
        app.logger.warning("freed %d Idempotency-Key(s) of requests interrupted by a stop", n)


class Heartbeat:
    """One daemon thread per app: a heartbeat every ``HEARTBEAT_S`` [s], a sweep every
    ``STALE_INTERVALS`` heartbeats."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.engine, self.owner = engine_of(app), instance_id(app)
        self.interval_s = float(app.config["HEARTBEAT_S"])
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="gl-heartbeat", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self.thread.start()

    def stop(self) -> None:
        """Stop the thread and drop this process's claims (heartbeat NULL: stale at once)."""
        if self.stopped.is_set():
            return
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()
        try:
            with transaction(self.engine) as conn:
                for table in _RUNS:
                    conn.execute(
                        update(table)
                        .where(table.c.owner == self.owner, table.c.status.in_(_OPEN))
                        .values(heartbeat_at=None)
                    )
                conn.execute(
                    update(idempotency)
                    .where(idempotency.c.owner == self.owner, idempotency.c.status_code.is_(None))
                    .values(heartbeat_at=None)
                )
        except Exception:  # a database that is gone has nothing to release
            self.app.logger.debug("heartbeat: could not release claims", exc_info=True)

    def _loop(self) -> None:
        ticks = 0
        while not self.stopped.wait(self.interval_s):
            ticks += 1
            try:
                beat(self.engine, self.owner)
                if ticks % STALE_INTERVALS == 0:
                    sweep(self.app)
            except Exception:  # a busy or unreachable database: try again next tick
                self.app.logger.warning("heartbeat failed", exc_info=True)


def init_app(app: Flask) -> None:
    """Sweep what stopped processes left, then start this app's heartbeat thread."""
    sweep(app)
    heart = Heartbeat(app)
    app.extensions["greenlane_heartbeat"] = heart
    heart.start()


def stop(app: Flask) -> None:
    """Stop the heartbeat of ``app`` (if it has one)."""
    heart: Heartbeat | None = app.extensions.get("greenlane_heartbeat")
    if heart is not None:
        heart.stop()
