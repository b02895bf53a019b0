"""kill -9 during plan writes on **PostgreSQL**: the same promises as on SQLite — after the
restart no key is left reserved, every plan is some key's stored answer, every answered
request replays and every unanswered one succeeds once when retried with its key.

Uses ``GREENLANE_TEST_DATABASE_URL`` or ``postgresql://postgres@127.0.0.1:5432/test`` in a
throw-away schema; skipped with the reason when no server answers.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Server, make_tokens
from sqlalchemy import create_engine, text
from test_faults import Sent, _writers, check_promises

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema (dropped afterwards)."""
    from webapp.config import normalise_database_url, test_database_url

    base = normalise_database_url(test_database_url() or DEFAULT_PG)
    try:
        admin = create_engine(base, connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any driver or network error means: no server here
        pytest.skip(f"PostgreSQL not reachable at {base.split('@')[-1]}: {type(exc).__name__}")
    schema = f"gl_kill_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _check(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            reserved = conn.execute(text(
                "SELECT count(*) FROM idempotency WHERE status_code IS NULL")).scalar_one()
            kept = " ".join(r[0] or "" for r in conn.execute(text(
                "SELECT response_body FROM idempotency")))
            plans = [r[0] for r in conn.execute(text("SELECT id FROM plans"))]
            running = conn.execute(text(
                "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")).scalar_one()
    finally:
        engine.dispose()
    assert reserved == 0, f"{reserved} Idempotency-Key(s) left reserved after restart"
    assert running == 0
    orphans = [p for p in plans if p not in kept]
    assert orphans == [], "plans committed without their key's answer"
    return {"plans": len(plans)}


def test_kill_9_during_plan_writes_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    server = Server(tmp_path / "srv", database_url=pg_url)
    token = make_tokens(pg_url, [("integration", None)])[0]
    server.start()
    try:
        sent: list[Sent] = []
        stop = threading.Event()
        threads = _writers(server, token, 11, stop, sent)
        deadline = time.monotonic() + 30
        while sum(s.status == 201 for s in sent) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(random.Random(11).uniform(0.0, 1.5))
        server.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=70)
        server.start()
        _check(pg_url)
        counts = check_promises(server, token, sent)
        counts.update(_check(pg_url))
        print(f"postgresql round: {counts}")
        assert counts["answered"] >= 2
        assert counts["unanswered"] >= 1, "no kill landed mid-request"
    finally:
        server.stop()
