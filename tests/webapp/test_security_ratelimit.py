"""Rate limits shared through the database (SQLite and PostgreSQL): per token, per client IP
for unauthenticated API calls and ``POST /login``; two app instances — as two worker
processes would be — on one database share one limit; the upsert is atomic under threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from webapp_helpers import bearer, close_app, make_app

LIMITS = {
    "RATE_LIMIT_PER_MINUTE": 60,
    "RATE_LIMIT_BURST": 3,
    "RATE_LIMIT_ANON_PER_MINUTE": 30,
    "RATE_LIMIT_ANON_BURST": 2,
}


@pytest.fixture
def pair(db_url: str) -> Iterator[tuple[Any, Any, list[float]]]:
    """Two apps on one database with small limits and one fake wall clock [s]."""
    now = [1_000_000.0]
    apps = [make_app(db_url, **LIMITS), make_app(db_url, **LIMITS)]
    for app in apps:
        for name in ("greenlane_ratelimit", "greenlane_ratelimit_anon"):
            app.extensions[name].clock = lambda: now[0]
    yield apps[0], apps[1], now
    for app in apps:
        close_app(app)


def test_the_database_store_is_the_default(pair):
    from greenlane.webapp.ratelimit import DatabaseBuckets

    a, _, _ = pair
    assert isinstance(a.extensions["greenlane_ratelimit"], DatabaseBuckets)
    assert isinstance(a.extensions["greenlane_ratelimit_anon"], DatabaseBuckets)


def test_two_instances_share_the_per_token_limit(pair):
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    a, b, now = pair
    token = create_token(engine_of(a), "planner")[1]
    other = create_token(engine_of(a), "planner")[1]
    ca, cb = a.test_client(), b.test_client()
    seen = [c.get("/api/v1/network", headers=bearer(token)) for c in (ca, cb, ca)]
    assert [r.status_code for r in seen] == [200, 200, 200]
    assert [r.headers["RateLimit-Remaining"] for r in seen] == ["2", "1", "0"]
    over = cb.get("/api/v1/network", headers=bearer(token))
    assert over.status_code == 429
    assert over.mimetype == "application/problem+json"
    assert over.headers["Retry-After"] == "1"
    assert over.headers["RateLimit-Limit"] == "3"
    assert ca.get("/api/v1/network", headers=bearer(token)).status_code == 429
    assert cb.get("/api/v1/network", headers=bearer(other)).status_code == 200  # per token
    now[0] += 1.0  # 60 per minute: one request back per second
    assert ca.get("/api/v1/network", headers=bearer(token)).status_code == 200
    assert cb.get("/api/v1/network", headers=bearer(token)).status_code == 429
    now[0] += 30.0  # refilled to the burst, not beyond
    assert [ca.get("/api/v1/network", headers=bearer(token)).status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]


def test_unauthenticated_calls_are_limited_per_ip_across_instances(pair):
    a, b, now = pair
    ca, cb = a.test_client(), b.test_client()
    bad = bearer("gl_not-a-token")
    assert ca.get("/api/v1/network").status_code == 401
    assert cb.get("/api/v1/network", headers=bad).status_code == 401
    over = ca.post("/api/v1/plans", json={})
    assert over.status_code == 429
    assert over.headers["Retry-After"] == "2"  # 30 per minute
    assert "without a valid token" in over.get_json()["detail"]
    other_ip = {"REMOTE_ADDR": "192.0.2.7"}
    assert cb.get("/api/v1/network", environ_base=other_ip).status_code == 401
    now[0] += 2.0
    assert cb.get("/api/v1/network").status_code == 401
    assert ca.get("/api/v1/openapi.json").status_code == 200  # public documents: not limited


def test_login_attempts_are_limited_per_ip_across_instances(pair):
    a, b, _ = pair
    ca, cb = a.test_client(), b.test_client()
    assert ca.post("/login", data={"token": "x"}).status_code == 400  # no CSRF token
    assert cb.post("/login", data={"token": "y"}).status_code == 400
    over = ca.post("/login", data={"token": "z"})
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert cb.post("/login", data={"token": "z"}).status_code == 429
    assert cb.get("/login").status_code == 200  # the form itself is not counted


def test_the_upsert_is_atomic_under_concurrent_instances(db_url):
    """40 threads on two instances spend one bucket of 15 (no refill): exactly 15 pass."""
    from greenlane.webapp.ratelimit import DatabaseBuckets

    apps = [make_app(db_url), make_app(db_url)]
    try:
        from greenlane.webapp.db import engine_of

        buckets = [
            DatabaseBuckets(engine_of(app), 1e-6, 15, "test:", clock=lambda: 5.0) for app in apps
        ]
        results: list[bool] = []
        lock = threading.Lock()

        def spend(i: int) -> None:
            for _ in range(2):
                ok = buckets[i % 2].take("shared").allowed
                with lock:
                    results.append(ok)

        threads = [threading.Thread(target=spend, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(results) == 40
        assert sum(results) == 15
    finally:
        for app in apps:
            close_app(app)


def test_memory_store_and_off_switch(tmp_path):
    from greenlane.webapp.ratelimit import TokenBucket

    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    app = make_app(
        url, RATE_LIMIT_STORE="memory", RATE_LIMIT_PER_MINUTE=60, RATE_LIMIT_ANON_PER_MINUTE=0
    )
    try:
        assert isinstance(app.extensions["greenlane_ratelimit"], TokenBucket)
        assert app.extensions["greenlane_ratelimit_anon"] is None
        c = app.test_client()
        assert all(c.get("/api/v1/network").status_code == 401 for _ in range(30))
    finally:
        close_app(app)


def test_rate_limit_settings_from_the_environment():
    from greenlane.webapp.config import from_environment

    env = from_environment(
        {
            "GREENLANE_RATE_LIMIT_ANON_PER_MINUTE": "12",
            "GREENLANE_RATE_LIMIT_ANON_BURST": "4",
            "GREENLANE_RATE_LIMIT_STORE": "memory",
            "GREENLANE_TRUSTED_PROXIES": "1",
            "GREENLANE_HSTS": "true",
        }
    )
    assert env == {
        "RATE_LIMIT_ANON_PER_MINUTE": 12.0,
        "RATE_LIMIT_ANON_BURST": 4,
        "RATE_LIMIT_STORE": "memory",
        "TRUSTED_PROXIES": 1,
        "HSTS": True,
    }
    with pytest.raises(ValueError, match="GREENLANE_HSTS"):
        from_environment({"GREENLANE_HSTS": "maybe"})
