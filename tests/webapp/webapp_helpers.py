"""Helpers of the web app tests: books, app factory, auth headers, job polling."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BOOK_CSV = HERE / "data" / "book_small.csv"

FAST = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "SOLVER_TIME_LIMIT_S": 5.0,
    "ASYNC_THRESHOLD_SHIPMENTS": 3,
    "UI_PARETO_POINTS": 3,
    "JOB_WORKERS": 1,
    "RATE_LIMIT_PER_MINUTE": 0,
}
"""Small books, solver limits <= 5 s, one worker (seed 0 is the API default), no rate limit
(the fuzz run sends hundreds of requests with one token; tests/reliability tests the limit)."""


def shipment(
    sid: str = "S1",
    origin: str = "F-NANJING",
    destination: str = "C-MADRID",
    mass_t: float = 10,
    **extra: Any,
) -> dict[str, Any]:
    """One valid shipment object of the API."""
    return {
        "shipment_id": sid,
        "origin": origin,
        "destination": destination,
        "mass_t": mass_t,
        "ready_at": "2026-12-01T00:00:00Z",
        "due_at": "2027-01-20T00:00:00Z",
        **extra,
    }


def book(n: int = 2) -> list[dict[str, Any]]:
    """A small valid book of ``n`` shipments (n <= 4)."""
    pairs = [
        ("F-NANJING", "C-MADRID"),
        ("F-SHENZHEN", "C-FRANKFURT"),
        ("F-XIAN", "C-WARSAW"),
        ("F-CHANGSHA", "C-MILAN"),
    ]
    return [shipment(f"S{i + 1}", o, d, 4 + i) for i, (o, d) in enumerate(pairs[:n])]


def make_app(database_url: str, **config: Any) -> Any:
    """A configured app on ``database_url``."""
    from greenlane.webapp import create_app

    return create_app({**FAST, "DATABASE_URL": database_url, **config})


def close_app(app: Any) -> None:
    """Wait for background jobs and release the database."""
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.jobs import runner

    runner(app).shutdown()
    engine_of(app).dispose()


def bearer(token: str, **headers: str) -> dict[str, str]:
    """Authorization header (plus any others)."""
    return {"Authorization": f"Bearer {token}", **headers}


def wait_job(client: Any, url: str, headers: dict[str, str], timeout_s: float = 60) -> dict:
    """Poll a job URL until it is done or failed."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(url, headers=headers).get_json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)
