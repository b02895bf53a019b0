"""Rate limits per API token: an in-memory token bucket per token id.

Each token may make ``RATE_LIMIT_BURST`` requests at once and ``RATE_LIMIT_PER_MINUTE`` per
minute sustained; above that the API answers ``429 Too Many Requests`` (a problem document)
with ``Retry-After`` in whole seconds. Every authenticated answer carries ``RateLimit-Limit``
and ``RateLimit-Remaining``. ``RATE_LIMIT_PER_MINUTE = 0`` switches the limit off.

The buckets live in the server process: behind several worker processes each process has its
own, so the effective limit is the per-process one times the process count. A shared limit
(e.g. Redis) would be the next step if that matters.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app

from webapp.problems import problem

MAX_BUCKETS = 100_000
"""Buckets kept before idle (full) ones are dropped [count]."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one request: allowed, requests left, seconds until one is free."""

    allowed: bool
    remaining: int
    retry_after_s: float


class TokenBucket:
    """Buckets of ``burst`` requests refilled at ``per_minute / 60`` per second, by key."""

    def __init__(self, per_minute: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be > 0 and burst >= 1")
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


def init_app(app: Flask) -> None:
    """Attach the limiter configured by ``RATE_LIMIT_PER_MINUTE`` / ``RATE_LIMIT_BURST``."""
    per_minute = float(app.config.get("RATE_LIMIT_PER_MINUTE") or 0)
    burst = int(app.config.get("RATE_LIMIT_BURST") or 0)
    app.extensions["greenlane_ratelimit"] = (
        TokenBucket(per_minute, max(1, burst or math.ceil(per_minute / 10)))
        if per_minute > 0 else None
    )


def check(token_id: int) -> Response | None:
    """None if the token may go on, else the 429 answer. Records the limit headers."""
    from flask import g

    limiter: TokenBucket | None = current_app.extensions.get("greenlane_ratelimit")
    if limiter is None:
        return None
    decision = limiter.take(token_id)
    g.ratelimit = (limiter, decision)
    if decision.allowed:
        return None
    retry = max(1, math.ceil(decision.retry_after_s))
    return problem(
        429, "Too Many Requests",
        f"this token may make {limiter.burst} requests at once and "
        f"{limiter.rate_per_s * 60:g} per minute; retry in {retry} s",
        headers={"Retry-After": str(retry), **_headers(limiter, decision)},
    )


def _headers(limiter: TokenBucket, decision: Decision) -> dict[str, str]:
    return {"RateLimit-Limit": str(limiter.burst),
            "RateLimit-Remaining": str(decision.remaining)}


def annotate(response: Response) -> Response:
    """After a request: add ``RateLimit-*`` headers if the request was counted."""
    from flask import g

    counted = g.pop("ratelimit", None)
    if counted is not None:
        for key, value in _headers(*counted).items():
            response.headers.setdefault(key, value)
    return response
