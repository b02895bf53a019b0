"""The production path: ``greenlane serve --production`` (waitress) as real processes on
loopback — security headers and no server banner on the wire, and two server processes on
one database sharing one rate limit (per token, and per IP for unauthenticated calls)."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from harness import PAIRS, Server, bearer, call, make_tokens, plan_body

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


def _odd_book() -> dict[str, Any]:
    ids = ("漢-1", "PO/2026/0042", "=cmd|'/C calc'!A0", "+SUM(1)", "@SUM(1)")
    ships = [
        {
            "shipment_id": sid,
            "origin": o,
            "destination": d,
            "mass_t": 5,
            "ready_at": "2026-12-01T00:00:00Z",
            "due_at": "2027-01-25T00:00:00Z",
        }
        for sid, (o, d) in zip(ids, [*PAIRS, ("F-NANJING", "C-FRANKFURT")], strict=True)
    ]
    return {"shipments": ships, "name": "odd ids"}


@pytest.mark.parametrize("production", [True, False], ids=["waitress", "werkzeug"])
def test_hostile_input_answers_4xx_and_odd_ids_download(tmp_path: Path, production: bool) -> None:
    """The issue's acceptance list against a live server (waitress and the dev server)."""
    server = Server(tmp_path / "srv", production=production)
    planner, integration = make_tokens(
        server.database_url, [("planner", None), ("integration", None)]
    )
    server.start()
    try:
        deep = b"[" * 5000 + b"]" * 5000
        for path in ("/api/v1/footprints", "/api/v1/plans"):
            status, headers, body = call(
                server.base,
                "POST",
                path,
                raw=deep,
                headers={**bearer(planner), "Content-Type": "application/json"},
                timeout=10,
            )
            assert status == 400, (path, body[:200])
            assert json.loads(body)["field"] == "$"
        status, _, body = call(server.base, "POST", "/api/v1/plans", _odd_book(), bearer(planner))
        assert status == 201, body[:300]
        plan_id = json.loads(body)["id"]
        for sid in ("漢-1", "PO/2026/0042"):
            for encoded in (quote(sid, safe="/"), quote(sid, safe="")):
                url = f"/api/v1/plans/{plan_id}/shipments/{encoded}/report.csv"
                status, headers, body = call(
                    server.base, "GET", url, headers=bearer(planner), timeout=10
                )
                assert status == 200, (url, body[:200])
                assert headers["content-disposition"].startswith("attachment; filename=")
                rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
                assert {r[0] for r in rows[1:]} == {sid}
        status, _, body = call(
            server.base, "GET", f"/api/v1/plans/{plan_id}/report.csv", headers=bearer(planner)
        )
        assert status == 200
        cells = [c for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@")]
        status, _, body = call(
            server.base,
            "POST",
            f"/api/v1/plans/{plan_id}/shares",
            {"partner_id": "carrier-a"},
            bearer(integration),
        )
        assert status == 403, body[:200]
    finally:
        server.stop()
