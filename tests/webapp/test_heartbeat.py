"""Several server processes on one database (security finding 16), on SQLite and PostgreSQL.

Two apps on one database stand for two ``serve`` processes: each has its own instance id and
heartbeat thread (``webapp.heartbeat``). A start-up or sweep fails only jobs and frees only
``Idempotency-Key`` reservations whose heartbeat is stale (3 intervals of 0.2 s here).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from webapp_helpers import bearer, book, close_app, make_app

BEAT_S = 0.2
"""Heartbeat interval of the test apps [s]; stale after 0.6 s."""


def _job(app: Any, job_id: str) -> Any:
    from greenlane.webapp import store
    from greenlane.webapp.db import reading

    with reading(app.extensions["greenlane_engine"]) as conn:
        return store.get_job(conn, job_id)


def _reservation(app: Any, row_id: int) -> Any:
    from greenlane.webapp.db import reading
    from greenlane.webapp.tables import idempotency

    with reading(app.extensions["greenlane_engine"]) as conn:
        return conn.execute(select(idempotency).where(idempotency.c.id == row_id)).first()


def _reserve(app: Any, owner: str | None, heartbeat_at: Any) -> int:
    """An unanswered reservation of ``owner`` (as ``idempotency.begin`` writes it)."""
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of, transaction, utcnow
    from greenlane.webapp.tables import idempotency

    engine = engine_of(app)
    token_id = create_token(engine, "integration")[0]
    with transaction(engine) as conn:
        result = conn.execute(
            idempotency.insert().values(
                token_id=token_id,
                key=f"k-{owner}-{time.monotonic_ns()}",
                method="POST",
                path="/api/v1/plans",
                request_sha256="0" * 64,
                created_at=utcnow(),
                owner=owner,
                heartbeat_at=heartbeat_at,
            )
        )
    return int(result.inserted_primary_key[0])


def _wait(predicate: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def blocked_solver(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Background solves report progress, then wait until the event is set."""
    from greenlane.webapp import services

    release = threading.Event()
    compute = services.compute

    def slow(doc: Any, net: Any, progress: Any = None) -> Any:
        while not release.wait(BEAT_S / 4):
            if progress is not None:
                progress(0.5)
        return compute(doc, net, progress)

    monkeypatch.setattr(services, "compute", slow)
    yield release
    release.set()


def test_a_second_process_leaves_the_first_ones_work_alone(db_url, blocked_solver):
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import as_utc, engine_of, instance_id, utcnow

    a = make_app(db_url, HEARTBEAT_S=BEAT_S)
    b = None
    try:
        token = create_token(engine_of(a), "integration")[1]
        resp = a.test_client().post(
            "/api/v1/plans",
            json={"shipments": book(2), "async": True},
            headers=bearer(token, **{"Idempotency-Key": "job-on-a"}),
        )
        assert resp.status_code == 202, resp.get_json()
        job_id = resp.get_json()["id"]
        _wait(lambda: _job(a, job_id).status == "running")
        assert _job(a, job_id).owner == instance_id(a)
        live_key = _reserve(a, instance_id(a), utcnow())
        first = as_utc(_job(a, job_id).heartbeat_at)
        time.sleep(5 * BEAT_S)  # without A's heartbeat both would be stale by now
        assert as_utc(_job(a, job_id).heartbeat_at) > first + timedelta(seconds=BEAT_S)
        assert as_utc(_reservation(a, live_key).heartbeat_at) > first

        b = make_app(db_url, HEARTBEAT_S=BEAT_S)  # B's start-up sweep
        assert instance_id(b) != instance_id(a)
        time.sleep(4 * BEAT_S)  # and B's periodic sweep
        assert _job(b, job_id).status == "running"
        assert _reservation(b, live_key) is not None

        blocked_solver.set()
        _wait(lambda: _job(a, job_id).status == "done")
        assert _job(a, job_id).error is None
    finally:
        blocked_solver.set()
        close_app(a)
        if b is not None:
            close_app(b)


def test_the_heartbeat_advances_while_a_job_runs(db_url, blocked_solver):
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import as_utc, engine_of

    app = make_app(db_url, HEARTBEAT_S=BEAT_S)
    try:
        token = create_token(engine_of(app), "integration")[1]
        resp = app.test_client().post(
            "/api/v1/plans", headers=bearer(token), json={"shipments": book(2), "async": True}
        )
        job_id = resp.get_json()["id"]
        _wait(lambda: _job(app, job_id).status == "running")
        seen = [as_utc(_job(app, job_id).heartbeat_at)]
        for _ in range(3):
            time.sleep(1.5 * BEAT_S)
            seen.append(as_utc(_job(app, job_id).heartbeat_at))
        assert seen == sorted(seen) and len(set(seen)) == len(seen), seen
    finally:
        blocked_solver.set()
        close_app(app)


def test_stale_jobs_and_keys_are_cleaned_at_start_up_with_the_reason(db_url):
    from greenlane.webapp import store
    from greenlane.webapp.db import engine_of, transaction, utcnow

    first = make_app(db_url, HEARTBEAT_S=BEAT_S)
    seen = utcnow() - timedelta(hours=1)
    with transaction(engine_of(first)) as conn:
        dead = store.insert_job(conn, "plan", {"shipments": []}, None, owner="dead-process")
        store.set_job(conn, dead, status="running", heartbeat_at=seen)
        legacy = store.insert_job(conn, "plan", {"shipments": []}, None)  # before 0004
        fresh = store.insert_job(conn, "plan", {"shipments": []}, None, owner="live-process")
    dead_key = _reserve(first, "dead-process", seen)
    legacy_key = _reserve(first, None, None)
    close_app(first)

    second = make_app(db_url, HEARTBEAT_S=0.5)  # stale after 1.5 s: "fresh" is still live
    try:
        job = _job(second, dead)
        assert job.status == "failed"
        assert job.error["detail"].startswith(
            f"server process dead-process stopped; no heartbeat since {seen.isoformat()}"
        )
        assert "server stopped" in job.error["detail"]
        assert _job(second, legacy).status == "failed"
        assert "no heartbeat recorded" in _job(second, legacy).error["detail"]
        assert _job(second, fresh).status == "queued"  # live-process beat just now
        assert _reservation(second, dead_key) is None
        assert _reservation(second, legacy_key) is None
        # live-process never beats again: the periodic sweep fails its job
        _wait(lambda: _job(second, fresh).status == "failed", timeout_s=10)
        assert "server process live-process stopped" in _job(second, fresh).error["detail"]
    finally:
        close_app(second)


def test_a_clean_stop_drops_the_processes_claims(db_url):
    from greenlane.webapp.db import engine_of, instance_id, utcnow

    first = make_app(db_url, HEARTBEAT_S=BEAT_S)
    key = _reserve(first, instance_id(first), utcnow())
    close_app(first)
    try:
        assert _reservation(first, key).heartbeat_at is None
    finally:
        engine_of(first).dispose()
    second = make_app(db_url, HEARTBEAT_S=BEAT_S)
    try:
        assert _reservation(second, key) is None
    finally:
        close_app(second)


def test_lever_runs_of_stopped_processes_are_failed_live_ones_kept(db_url):
    """Lever runs in the job pool are claimed like jobs (migration 0005)."""
    from greenlane.webapp.db import engine_of, instance_id, reading, transaction, utcnow
    from greenlane.webapp.ledger import levers

    first = make_app(db_url, HEARTBEAT_S=BEAT_S)
    seen = utcnow() - timedelta(hours=1)
    with transaction(engine_of(first)) as conn:
        dead = levers.insert_lever_run(conn, {"shipments": []}, None, owner="dead-process")
        levers.set_lever_run(conn, dead, status="running", heartbeat_at=seen)
        mine = levers.insert_lever_run(conn, {"shipments": []}, None, owner=instance_id(first))
    second = make_app(db_url, HEARTBEAT_S=BEAT_S)
    try:
        time.sleep(3 * BEAT_S)  # first beats for ``mine`` meanwhile
        with reading(engine_of(second)) as conn:
            d, m = levers.get_lever_run(conn, dead), levers.get_lever_run(conn, mine)
        assert d.status == "failed"
        assert d.error["detail"].startswith(
            f"server process dead-process stopped; no heartbeat since {seen.isoformat()}"
        )
        assert m.status == "queued" and m.owner == instance_id(first)
    finally:
        close_app(second)
        close_app(first)


def test_migration_0006_moves_lever_runs_into_jobs_and_the_sweep_still_fails_them(db_url):
    """Lever runs of a 0005 database become ``levers`` jobs: a finished one still answers at
    its URL, a running one of a stopped process is failed by the first start-up sweep."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import JSON, DateTime, String, column, insert, inspect, table

    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import MIGRATIONS, make_engine, reading, utcnow
    from greenlane.webapp.tables import jobs

    engine = make_engine(db_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
    seen = utcnow() - timedelta(hours=1)
    old = table(
        "lever_runs",
        *(column(c, String) for c in ("id", "status", "owner")),
        *(column(c, JSON) for c in ("request", "result")),
        *(
            column(c, DateTime(timezone=True))
            for c in ("created_at", "finished_at", "heartbeat_at")
        ),
    )
    with engine.begin() as conn:
        conn.execute(
            insert(old).values(
                id="mc_done",
                status="done",
                request={"shipments": []},
                result={"levers": []},
                created_at=seen,
                finished_at=seen,
            )
        )
        conn.execute(
            insert(old).values(
                id="mc_dead",
                status="running",
                request={"shipments": []},
                created_at=seen,
                owner="dead-process",
                heartbeat_at=seen,
            )
        )
    engine.dispose()

    app = make_app(db_url, HEARTBEAT_S=BEAT_S)  # upgrades to 0006, then sweeps
    try:
        with reading(app.extensions["greenlane_engine"]) as conn:
            assert "lever_runs" not in inspect(conn).get_table_names()
            rows = {r.id: r for r in conn.execute(select(jobs).where(jobs.c.kind == "levers"))}
        assert set(rows) == {"mc_done", "mc_dead"}
        assert rows["mc_done"].status == "done" and rows["mc_done"].progress == 1.0
        assert rows["mc_done"].result == {"levers": []}
        assert rows["mc_dead"].status == "failed"
        assert (
            rows["mc_dead"]
            .error["detail"]
            .startswith(
                f"server process dead-process stopped; no heartbeat since {seen.isoformat()}"
            )
        )
        client = app.test_client()
        auth = bearer(create_token(app.extensions["greenlane_engine"], "planner")[1])
        got = client.get("/api/v1/ledger/levers/mc_done", headers=auth)
        assert got.status_code == 200 and got.get_json()["result"] == {"levers": []}
        # a lever run is not a plan job
        assert client.get("/api/v1/jobs/mc_done", headers=auth).status_code == 404
    finally:
        close_app(app)
