"""kill -9 during plan writes on **PostgreSQL**: the same promises as on SQLite — after the
restart no key is left reserved, every plan is some key's stored answer, every answered
request replays and every unanswered one succeeds once when retried with its key.

Uses ``GREENLANE_TEST_DATABASE_URL`` or ``postgresql://postgres@127.0.0.1:5432/test`` in a
throw-away schema; skipped with the reason when no server answers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Server, make_tokens
from pg_schema import fresh_pg_schema
from sqlalchemy import create_engine, text
from test_faults import Sent, _writers, check_promises, kill_mid_write


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema (dropped afterwards)."""
    with fresh_pg_schema("gl_kill") as url:
        yield url


def _check(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            reserved = conn.execute(
                text("SELECT count(*) FROM idempotency WHERE status_code IS NULL")
            ).scalar_one()
            kept = " ".join(
                r[0] or "" for r in conn.execute(text("SELECT response_body FROM idempotency"))
            )
            plans = [r[0] for r in conn.execute(text("SELECT id FROM plans"))]
            running = conn.execute(
                text("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")
            ).scalar_one()
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
        kill_mid_write(
            server, lambda: sum(s.status == 201 for s in sent), 2, 11, 1.5, stop, threads
        )
        _check(pg_url)
        counts = check_promises(server, token, sent)
        counts.update(_check(pg_url))
        print(f"postgresql round: {counts}")
        assert counts["answered"] >= 2
        assert counts["unanswered"] >= 1, "no kill landed mid-request"
    finally:
        server.stop()
