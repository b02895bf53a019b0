"""Rate limits: token buckets per API token and per client IP, shared by every server process.

* Per token: each token may make ``RATE_LIMIT_BURST`` requests at once and
  ``RATE_LIMIT_PER_MINUTE`` per minute sustained.
* Per client IP, for requests that carry no valid token (an API call without or with a bad
  ``Bearer`` token) and for every ``POST /login``: ``RATE_LIMIT_ANON_BURST`` at once and
  ``RATE_LIMIT_ANON_PER_MINUTE`` per minute. The address is ``request.remote_addr``; behind
  a reverse proxy set ``TRUSTED_PROXIES`` so it is the client's (``X-Forwarded-For``).

Above a limit the answer is ``429 Too Many Requests`` (a problem document) with
``Retry-After`` in whole seconds; counted API answers carry ``RateLimit-Limit`` and
``RateLimit-Remaining``. A per-minute value of 0 switches that limit off.

The buckets live in the app database (table ``rate_limits``, migration 0003) and are spent
with one atomic upsert, so N worker processes — or N machines on one PostgreSQL — share
one limit. ``RATE_LIMIT_STORE = "memory"`` keeps per-process buckets instead (tests).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, Response, current_app, g, request
from sqlalchemy import Float, case, delete, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from greenlane.webapp.db import engine_of
from greenlane.webapp.problems import as_html, problem, wants_html
from greenlane.webapp.tables import rate_limits

MAX_BUCKETS = 100_000
"""Buckets kept in memory before idle (full) ones are dropped [count]."""
PRUNE_EVERY = 500
"""Requests between two deletions of idle rows of ``rate_limits`` [count]."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one request: allowed, requests left, seconds until one is free."""

    allowed: bool
    remaining: int
    retry_after_s: float


class Limiter(Protocol):
    """Spends one request of a bucket."""

    burst: int
    rate_per_s: float

    def take(self, key: str) -> Decision:
        """Spend one request of ``key``'s bucket if there is one."""
        ...


def _check_rates(per_minute: float, burst: int) -> None:
    if not (0 < per_minute < math.inf) or burst < 1:
        raise ValueError("per_minute must be > 0 and finite, burst >= 1")


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class TokenBucket:
    """Buckets of ``burst`` requests refilled at ``per_minute / 60`` per second, in memory."""

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        _check_rates(per_minute, burst)
        self.rate_per_s = per_minute / 60.0
        self.burst = int(burst)
        self.clock = clock
        self._buckets: dict[object, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: object) -> Decision:
        """Spend one request of ``key``'s bucket if there is one."""
        now = self.clock()
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                if len(self._buckets) >= MAX_BUCKETS:
                    self._prune(now)
                b = self._buckets[key] = _Bucket(float(self.burst), now)
            b.tokens = min(self.burst, b.tokens + (now - b.stamp) * self.rate_per_s)
            b.stamp = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return Decision(True, int(b.tokens), 0.0)
            return Decision(False, 0, (1.0 - b.tokens) / self.rate_per_s)

    def _prune(self, now: float) -> None:
        full = self.burst / self.rate_per_s
        for key in [k for k, b in self._buckets.items() if now - b.stamp >= full]:
            del self._buckets[key]


class DatabaseBuckets:
    """The same buckets in the ``rate_limits`` table, shared by every process on the database.

    One statement per request: ``INSERT ... ON CONFLICT (bucket) DO UPDATE`` refills the
    bucket for the time since its stamp (capped at ``burst``), spends one request if there
    is one, and ``RETURNING`` gives the outcome — atomic on SQLite (the write lock) and on
    PostgreSQL (the row lock). The clock is wall time (``time.time``), common to processes.
    A database error lets the request through (logged): the limit must not take the API down.
    """

    def __init__(
        self,
        engine: Engine,
        per_minute: float,
        burst: int,
        prefix: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check_rates(per_minute, burst)
        self.engine = engine
        self.rate_per_s = per_minute / 60.0
        self.burst = int(burst)
        self.prefix = prefix
        self.clock = clock
        self._count = 0
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"no rate-limit upsert for the {dialect} dialect")
        self._insert = sqlite.insert if dialect == "sqlite" else postgresql.insert

    def take(self, key: str) -> Decision:
        """Spend one request of bucket ``prefix + key``."""
        now = float(self.clock())
        t = rate_limits.c
        now_ = literal(now, Float)
        elapsed = case((now_ > t.stamp_s, now_ - t.stamp_s), else_=0.0)
        grown = t.tokens + elapsed * self.rate_per_s
        refill = case((grown > self.burst, float(self.burst)), else_=grown)
        stmt = self._insert(rate_limits).values(
            bucket=f"{self.prefix}{key}", tokens=float(self.burst - 1), stamp_s=now, allowed=1
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=[rate_limits.c.bucket],
            set_={
                "tokens": case((refill >= 1.0, refill - 1.0), else_=refill),
                "stamp_s": case((now_ > t.stamp_s, now_), else_=t.stamp_s),
                "allowed": case((refill >= 1.0, 1), else_=0),
            },
        ).returning(rate_limits.c.tokens, rate_limits.c.allowed)
        try:
            with self.engine.begin() as conn:
                tokens, allowed = conn.execute(upsert).one()
                self._count += 1
                if self._count % PRUNE_EVERY == 0:
                    self._prune(conn, now)
        except SQLAlchemyError as exc:
            log.warning("rate limit not counted (%s: %s)", type(exc).__name__, exc)
            return Decision(True, self.burst, 0.0)
        if allowed:
            return Decision(True, int(tokens), 0.0)
        return Decision(False, 0, (1.0 - float(tokens)) / self.rate_per_s)

    def _prune(self, conn: Connection, now: float) -> None:
        full_s = self.burst / self.rate_per_s
        conn.execute(
            delete(rate_limits).where(
                rate_limits.c.bucket.startswith(self.prefix, autoescape=True),
                rate_limits.c.stamp_s < now - full_s,
            )
        )


_TOKEN, _ANON = "greenlane_ratelimit", "greenlane_ratelimit_anon"


def _limiter(app: Flask, per_minute_key: str, burst_key: str, prefix: str) -> Limiter | None:
    per_minute = float(app.config.get(per_minute_key) or 0)
    if per_minute <= 0:
        return None
    burst = max(1, int(app.config.get(burst_key) or 0) or math.ceil(per_minute / 10))
    if app.config.get("RATE_LIMIT_STORE", "database") == "memory":
        return TokenBucket(per_minute, burst)
    return DatabaseBuckets(engine_of(app), per_minute, burst, prefix)


def init_app(app: Flask) -> None:
    """Attach the per-token and per-IP limiters and limit ``POST /login`` per IP."""
    app.extensions[_TOKEN] = _limiter(app, "RATE_LIMIT_PER_MINUTE", "RATE_LIMIT_BURST", "token:")
    app.extensions[_ANON] = _limiter(
        app, "RATE_LIMIT_ANON_PER_MINUTE", "RATE_LIMIT_ANON_BURST", "ip:"
    )

    @app.before_request
    def _login_attempts() -> Response | None:
        if request.method == "POST" and request.endpoint == "ui.login_post":
            limited = check_anonymous()
            if limited is not None and wants_html():
                return as_html(limited)  # a browser gets the styled page, same status
            return limited
        return None


def _spend(name: str, key: str, who: str) -> Response | None:
    limiter: Limiter | None = current_app.extensions.get(name)
    if limiter is None:
        return None
    decision = limiter.take(key)
    g.ratelimit = (limiter, decision)
    if decision.allowed:
        return None
    retry = max(1, math.ceil(decision.retry_after_s))
    return problem(
        429,
        "Too Many Requests",
        f"{who} may make {limiter.burst} requests at once and "
        f"{limiter.rate_per_s * 60:g} per minute; retry in {retry} s",
        headers={"Retry-After": str(retry), **_headers(limiter, decision)},
    )


def check(token_id: int) -> Response | None:
    """None if the token may go on, else the 429 answer. Records the limit headers."""
    return _spend(_TOKEN, str(token_id), "this token")


def check_anonymous() -> Response | None:
    """None if this client IP may make another unauthenticated request, else the 429."""
    return _spend(_ANON, request.remote_addr or "unknown", "a client without a valid token")


def _headers(limiter: Limiter, decision: Decision) -> dict[str, str]:
    return {"RateLimit-Limit": str(limiter.burst), "RateLimit-Remaining": str(decision.remaining)}


def annotate(response: Response) -> Response:
    """After a request: add ``RateLimit-*`` headers if the request was counted."""
    counted = g.pop("ratelimit", None)
    if counted is not None:
        for key, value in _headers(*counted).items():
            response.headers.setdefault(key, value)
    return response
