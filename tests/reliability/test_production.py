"""The production path: ``greenlane serve --production`` (waitress) as real processes on
loopback — security headers and no server banner on the wire, and two server processes on
one database sharing one rate limit (per token, and per IP for unauthenticated calls)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from harness import Server, bearer, call, make_tokens, plan_body

HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
)


def test_production_server_answers_with_security_headers(tmp_path: Path) -> None:
    server = Server(tmp_path / "srv", production=True)
    token = make_tokens(server.database_url, [("integration", None)])[0]
    server.start()
    try:
        for path in ("/login", "/api/v1/openapi.json", "/static/js/map.js", "/nowhere"):
            status, headers, _ = call(server.base, "GET", path)
            assert status in (200, 404), (path, status)
            assert all(h in headers for h in HEADERS), (path, headers)
            assert "waitress" not in headers.get("server", "").lower()
            assert "strict-transport-security" not in headers  # plain HTTP
        status, headers, body = call(
            server.base,
            "POST",
            "/api/v1/plans",
            plan_body(random.Random(5), 1, "prod"),
            bearer(token),
        )
        assert status == 201, body[:300]
        assert headers["content-security-policy"].startswith("default-src 'self'")
        assert "production server: waitress" in server.log()
    finally:
        server.stop()


def test_two_server_processes_share_one_rate_limit(tmp_path: Path) -> None:
    limits = {
        "GREENLANE_RATE_LIMIT_PER_MINUTE": "1",
        "GREENLANE_RATE_LIMIT_BURST": "6",
        "GREENLANE_RATE_LIMIT_ANON_PER_MINUTE": "1",
        "GREENLANE_RATE_LIMIT_ANON_BURST": "4",
    }
    a = Server(tmp_path / "a", env=limits, production=True)
    b = Server(tmp_path / "b", env=limits, production=True, database_url=a.database_url)
    token = make_tokens(a.database_url, [("planner", None)])[0]
    a.start()
    b.start()
    try:
        seen = [
            call(srv.base, "GET", "/api/v1/network", headers=bearer(token))[0] for srv in (a, b) * 5
        ]
        assert seen == [200] * 6 + [429] * 4  # one bucket of 6 for both processes
        status, headers, body = call(b.base, "GET", "/api/v1/network", headers=bearer(token))
        assert status == 429 and int(headers["retry-after"]) >= 1
        assert json.loads(body)["status"] == 429
        anon = [call(srv.base, "GET", "/api/v1/network")[0] for srv in (a, b) * 3]
        assert anon == [401] * 4 + [429] * 2  # per client IP, across both processes
    finally:
        a.stop()
        b.stop()
