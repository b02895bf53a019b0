"""Security: partner scoping over every route, token hashing and rotation, CSRF on every UI
form, rate limits per token, no path traversal in downloads, secrets only from the
environment.

The scoping tests walk ``app.url_map``: a route added later is probed automatically, and a
partner that gets a 2xx from a route outside :data:`PARTNER_ROUTES` fails the test.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret"

PARTNER_ROUTES = {
    "/api/v1/network",
    "/api/v1/shared",
    "/api/v1/tokens/self/rotate",
    "/api/v1/plans/<plan_id>/report.<fmt>",
    "/api/v1/plans/<plan_id>/shipments/<path:shipment_id>/report.<fmt>",
    "/",
    "/login",
    "/logout",
    "/plans/<plan_id>/report.<fmt>",
    "/plans/<plan_id>/shipments/<path:shipment_id>/report.<fmt>",
    # public documentation and assets
    "/api/v1/",
    "/api/v1/openapi.json",
    "/api/v1/swagger",
    "/api/v1/swagger/<path:filename>",
    "/api/v1/oauth2-redirect.html",
    "/api/v1/static/<path:filename>",
    "/static/<path:filename>",
}
"""Routes a partner may get a 2xx from; everything else must refuse a partner."""

MARK = {
    "p1_hidden": "HIDDEN-SHIP-2",
    "p2_ship": "OTHER-SHIP-3",
    "p2_name": "p2-secret-name",
    "shared": "SHARED-SHIP-1",
}


def _ship(sid: str, o: str = "F-NANJING", d: str = "C-MADRID") -> dict[str, Any]:
    return {
        "shipment_id": sid,
        "origin": o,
        "destination": d,
        "mass_t": 6,
        "ready_at": "2026-12-01T00:00:00Z",
        "due_at": "2027-01-20T00:00:00Z",
    }


@pytest.fixture
def world(tmp_path: Path) -> Any:
    """Two plans; P1's SHARED-SHIP-1 shared with carrier-a; P2 shared whole with carrier-c."""
    from greenlane.webapp import create_app
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.jobs import runner

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "SOLVER_TIME_LIMIT_S": 2.0,
            "ASYNC_THRESHOLD_SHIPMENTS": 20,
            "UI_PARETO_POINTS": 0,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "RATE_LIMIT_PER_MINUTE": 0,
        }
    )
    engine = engine_of(app)
    tok = {
        "planner": create_token(engine, "planner")[1],
        "partner_a": create_token(engine, "partner", partner_id="carrier-a")[1],
        "partner_b": create_token(engine, "partner", partner_id="carrier-b")[1],
        "partner_c": create_token(engine, "partner", partner_id="carrier-c")[1],
    }
    c = app.test_client()
    h = {"Authorization": f"Bearer {tok['planner']}"}
    p1 = c.post(
        "/api/v1/plans",
        json={
            "name": "p1-name",
            "shipments": [
                _ship(MARK["shared"]),
                _ship(MARK["p1_hidden"], "F-SHENZHEN", "C-FRANKFURT"),
            ],
        },
        headers=h,
    ).get_json()
    p2 = c.post(
        "/api/v1/plans",
        json={"name": MARK["p2_name"], "shipments": [_ship(MARK["p2_ship"], "F-XIAN", "C-WARSAW")]},
        headers=h,
    ).get_json()
    job = c.post(
        "/api/v1/plans", json={"shipments": [_ship("JOB-SHIP-4")], "async": True}, headers=h
    ).get_json()
    runner(app).wait(job["id"], timeout=60)
    assert (
        c.post(
            f"/api/v1/plans/{p1['id']}/shares",
            json={"partner_id": "carrier-a", "shipment_ids": [MARK["shared"]]},
            headers=h,
        ).status_code
        == 201
    )
    assert (
        c.post(
            f"/api/v1/plans/{p2['id']}/shares", json={"partner_id": "carrier-c"}, headers=h
        ).status_code
        == 201
    )
    assert c.post(f"/api/v1/plans/{p1['id']}/accept", headers=h).status_code == 200
    yield {"app": app, "client": c, "tokens": tok, "p1": p1["id"], "p2": p2["id"], "job": job["id"]}
    runner(app).shutdown()
    engine.dispose()


def _text(resp: Any) -> str:
    data = resp.get_data()
    if data[:5] == b"%PDF-":
        from pypdf import PdfReader

        return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    return data.decode("utf-8", errors="replace")


def _fills(rule: str, w: dict[str, Any]) -> list[str]:
    """Concrete URLs for a rule: every plan, shipment, format and id worth trying (bounded)."""
    values = {
        "plan_id": [w["p1"], w["p2"]],
        "shipment_id": [MARK["shared"], MARK["p1_hidden"], MARK["p2_ship"]],
        "fmt": ["csv", "geojson", "pdf", "ileap.json", "json", "xlsx"],
        "job_id": [w["job"]],
        "run_id": ["x"],
        "certificate_id": ["x"],
        "action": ["retire"],
        "filename": ["app.css"],
    }
    names = re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", rule)
    out = []
    for combo in itertools.islice(itertools.product(*(values.get(n, ["x"]) for n in names)), 40):
        url = rule
        for n, v in zip(names, combo, strict=True):
            url = re.sub(rf"<(?:[a-z]+:)?{n}>", v, url, count=1)
        out.append(url)
    return out


def _form_token(client: Any) -> str:
    """The session's CSRF token as the login form renders it."""
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _secrets_for(who: str) -> set[str]:
    hidden = {MARK["p1_hidden"], MARK["p2_ship"], MARK["p2_name"]}
    return hidden if who == "partner_a" else hidden | {MARK["shared"]}


@pytest.mark.parametrize("who", ["partner_a", "partner_b"])
def test_partners_see_only_what_is_shared_on_every_route(world, who):
    app, c = world["app"], world["client"]
    from greenlane.webapp.auth import authenticate, open_session
    from greenlane.webapp.db import engine_of

    principal = authenticate(engine_of(app), world["tokens"][who])
    form_token = _form_token(c)
    with c.session_transaction() as sess:
        sess["sid"] = open_session(engine_of(app), principal.token_id)
    headers = {"Authorization": f"Bearer {world['tokens'][who]}"}
    probed = 0
    for rule in app.url_map.iter_rules():
        if rule.rule in ("/api/v1/tokens/self/rotate", "/logout"):
            continue  # would change the caller; tested below
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for url in _fills(rule.rule, world):
                if method == "GET":
                    resp = c.get(url, headers=headers)
                elif url.startswith("/api/"):
                    resp = c.open(url, method=method, headers=headers, json={})
                else:
                    resp = c.open(url, method=method, data={"csrf_token": form_token})
                probed += 1
                assert resp.status_code < 500, (method, url, resp.status_code)
                if 200 <= resp.status_code < 300:
                    assert rule.rule in PARTNER_ROUTES, (
                        f"{who} got {resp.status_code} on {method} {url}"
                    )
                text = _text(resp)
                for secret in _secrets_for(who):
                    if secret in url:
                        continue  # echoing the id that was asked for is no leak
                    assert secret not in text, f"{who} sees {secret!r} via {method} {url}"
    assert probed > 100


def test_partner_a_gets_the_shared_shipment_in_every_format(world):
    c = world["client"]
    headers = {"Authorization": f"Bearer {world['tokens']['partner_a']}"}
    for fmt in ("csv", "geojson", "pdf", "ileap.json"):
        plan_wide = c.get(f"/api/v1/plans/{world['p1']}/report.{fmt}", headers=headers)
        one = c.get(
            f"/api/v1/plans/{world['p1']}/shipments/{MARK['shared']}/report.{fmt}", headers=headers
        )
        assert plan_wide.status_code == one.status_code == 200, fmt
        assert MARK["shared"] in _text(plan_wide) and MARK["shared"] in _text(one)
    shared = c.get("/api/v1/shared", headers=headers).get_json()["items"]
    assert [(i["plan_id"], i["shipment_id"]) for i in shared] == [(world["p1"], MARK["shared"])]


def test_whole_plan_share_is_for_that_partner_only(world):
    c = world["client"]
    mine = {"Authorization": f"Bearer {world['tokens']['partner_c']}"}
    other = {"Authorization": f"Bearer {world['tokens']['partner_b']}"}
    assert c.get(f"/api/v1/plans/{world['p2']}/report.csv", headers=mine).status_code == 200
    assert c.get(f"/api/v1/plans/{world['p2']}/report.csv", headers=other).status_code == 404
    assert c.get(f"/api/v1/plans/{world['p1']}/report.csv", headers=mine).status_code == 404


# ----------------------------------------------------------------------------- tokens


def test_tokens_are_stored_as_sha256_only(world):
    from sqlalchemy import select

    from greenlane.webapp.auth import hash_token
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.tables import api_tokens

    with engine_of(world["app"]).connect() as conn:
        rows = conn.execute(select(api_tokens)).fetchall()
    stored = {r.token_sha256 for r in rows}
    for token in world["tokens"].values():
        assert hash_token(token) in stored
        assert all(token not in str(tuple(r)) for r in rows)


def test_rotation_through_the_api(world):
    from sqlalchemy import select

    from greenlane.webapp.db import engine_of
    from greenlane.webapp.tables import idempotency

    c = world["client"]
    old = world["tokens"]["partner_a"]
    resp = c.post(
        "/api/v1/tokens/self/rotate",
        headers={"Authorization": f"Bearer {old}", "Idempotency-Key": "k1"},
    )
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    doc = resp.get_json()
    assert doc["role"] == "partner" and doc["partner_id"] == "carrier-a"
    new = doc["token"]
    assert new != old and new.startswith("gl_")
    assert c.get("/api/v1/shared", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    items = c.get("/api/v1/shared", headers={"Authorization": f"Bearer {new}"}).get_json()
    assert len(items["items"]) == 1  # the scope moved with the id
    with engine_of(world["app"]).connect() as conn:
        kept = [r.response_body or "" for r in conn.execute(select(idempotency))]
    assert all(new not in body for body in kept), "the new secret was stored for replays"


def test_rotation_keeps_the_callers_plans_and_jobs(world):
    c = world["client"]
    old = world["tokens"]["planner"]
    new = c.post(
        "/api/v1/tokens/self/rotate", headers={"Authorization": f"Bearer {old}"}
    ).get_json()["token"]
    h = {"Authorization": f"Bearer {new}"}
    assert c.get(f"/api/v1/plans/{world['p1']}", headers=h).status_code == 200
    assert c.get(f"/api/v1/jobs/{world['job']}", headers=h).status_code == 200


def test_rotate_and_revoke_commands(world, tmp_path):
    from click.testing import CliRunner

    from greenlane.webapp.auth import authenticate
    from greenlane.webapp.cli_security import revoke_token_cmd, rotate_token_cmd
    from greenlane.webapp.db import engine_of

    engine = engine_of(world["app"])
    url = str(engine.url)
    who = authenticate(engine, world["tokens"]["partner_b"])
    res = CliRunner().invoke(rotate_token_cmd, [str(who.token_id), "--database-url", url])
    assert res.exit_code == 0, res.output
    new = res.output.strip().splitlines()[-1]
    assert authenticate(engine, new).partner_id == "carrier-b"
    assert authenticate(engine, world["tokens"]["partner_b"]) is None
    res = CliRunner().invoke(revoke_token_cmd, [str(who.token_id), "--database-url", url])
    assert res.exit_code == 0 and authenticate(engine, new) is None
    res = CliRunner().invoke(rotate_token_cmd, [str(who.token_id), "--database-url", url])
    assert res.exit_code == 2 and "token_id" in res.output
    res = CliRunner().invoke(rotate_token_cmd, ["99999", "--database-url", url])
    assert res.exit_code == 2


# ----------------------------------------------------------------------------- CSRF


def test_every_ui_form_needs_the_csrf_token(world):
    app, c = world["app"], world["client"]
    from greenlane.webapp.auth import authenticate, open_session
    from greenlane.webapp.db import engine_of

    planner = authenticate(engine_of(app), world["tokens"]["planner"])
    posts = [
        r
        for r in app.url_map.iter_rules()
        # /api and /pact are machine APIs (bearer/Basic auth, no session cookie): no CSRF
        if "POST" in r.methods and not r.rule.startswith(("/api/", "/pact/"))
    ]
    assert len(posts) >= 5
    for rule in posts:
        for url in _fills(rule.rule, world)[:2]:
            for sent in (None, "wrong", ""):
                assert _form_token(c)  # the session holds a real token
                with c.session_transaction() as sess:
                    sess["sid"] = open_session(engine_of(app), planner.token_id)
                data = {} if sent is None else {"csrf_token": sent}
                resp = c.post(url, data=data)
                assert resp.status_code == 400, (url, sent, resp.status_code)
    # and the login form itself, before any session exists
    fresh = app.test_client()
    assert fresh.post("/login", data={"token": world["tokens"]["planner"]}).status_code == 400


# ----------------------------------------------------------------------------- rate limits


def test_rate_limit_per_token_answers_429_with_retry_after(tmp_path):
    from greenlane.webapp import create_app
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.jobs import runner
    from greenlane.webapp.ratelimit import TokenBucket

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "RATE_LIMIT_PER_MINUTE": 60,
            "RATE_LIMIT_BURST": 3,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        }
    )
    try:
        now = [1000.0]
        app.extensions["greenlane_ratelimit"] = TokenBucket(60, 3, clock=lambda: now[0])
        a = create_token(engine_of(app), "planner")[1]
        b = create_token(engine_of(app), "partner", partner_id="x")[1]
        c = app.test_client()
        ha, hb = {"Authorization": f"Bearer {a}"}, {"Authorization": f"Bearer {b}"}
        seen = [c.get("/api/v1/network", headers=ha) for _ in range(3)]
        assert [r.status_code for r in seen] == [200, 200, 200]
        assert [r.headers["RateLimit-Remaining"] for r in seen] == ["2", "1", "0"]
        over = c.get("/api/v1/network", headers=ha)
        assert over.status_code == 429
        assert over.mimetype == "application/problem+json"
        assert over.headers["Retry-After"] == "1"
        assert c.post("/api/v1/plans", json={}, headers=ha).status_code == 429  # all routes
        assert c.get("/api/v1/network", headers=hb).status_code == 200  # per token
        now[0] += 1.0
        assert c.get("/api/v1/network", headers=ha).status_code == 200
        assert c.get("/api/v1/network", headers=ha).status_code == 429
        assert c.get("/api/v1/openapi.json").status_code == 200  # docs are not limited
    finally:
        runner(app).shutdown()
        engine_of(app).dispose()


def test_rate_limit_configuration():
    from greenlane.webapp.config import DEFAULTS, from_environment

    assert DEFAULTS["RATE_LIMIT_PER_MINUTE"] > 0 and DEFAULTS["RATE_LIMIT_BURST"] > 0
    env = from_environment(
        {"GREENLANE_RATE_LIMIT_PER_MINUTE": "30", "GREENLANE_RATE_LIMIT_BURST": "5"}
    )
    assert env == {"RATE_LIMIT_PER_MINUTE": 30.0, "RATE_LIMIT_BURST": 5}
    with pytest.raises(ValueError, match="GREENLANE_RATE_LIMIT_BURST"):
        from_environment({"GREENLANE_RATE_LIMIT_BURST": "lots"})


def test_429_is_documented(world):
    """Every authenticated operation of the core API documents the 429 (schemathesis checks
    answers against it). The ledger blueprint keeps its own error table (webapp/ledger.py)."""
    doc = world["client"].get("/api/v1/openapi.json").get_json()
    core = {"plans", "emissions", "reports", "tokens", "datasets"}
    checked = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if op.get("security") != [] and core & set(op.get("tags", [])):
                assert "429" in op["responses"], (method, path)
                checked += 1
    assert checked >= 12


# ----------------------------------------------------------------------------- traversal

TRAVERSALS = [
    "..",
    "%2e%2e",
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fpyproject.toml",
    "....//....//etc/passwd",
    "..\\..\\pyproject.toml",
    "%00",
    "%252e%252e%252f",
]


def test_no_path_traversal_in_downloads(world):
    c = world["client"]
    h = {"Authorization": f"Bearer {world['tokens']['planner']}"}
    urls = []
    for t in TRAVERSALS:
        urls += [
            f"/api/v1/plans/{t}/report.csv",
            f"/api/v1/plans/{world['p1']}/report.{t}",
            f"/api/v1/plans/{world['p1']}/shipments/{t}/report.csv",
            f"/plans/{t}/report.csv",
            f"/static/{t}/webapp/config.py",
            f"/static/{t}/{t}/pyproject.toml",
            f"/api/v1/swagger/{t}/{t}/pyproject.toml",
            f"/api/v1/static/{t}/pyproject.toml",
        ]
    for url in urls:
        resp = c.get(url, headers=h)
        assert resp.status_code in (400, 401, 302, 404, 308, 422), (url, resp.status_code)
        body = resp.get_data()
        assert b"root:x:0:0" not in body and b"[project]" not in body and b"DEFAULTS" not in body


def test_download_file_names_are_sanitised(world):
    c = world["client"]
    h = {"Authorization": f"Bearer {world['tokens']['planner']}"}
    sid = 'a"b;c\\d..e'
    plan = c.post("/api/v1/plans", json={"shipments": [_ship(sid)]}, headers=h).get_json()
    resp = c.get(f"/api/v1/plans/{plan['id']}/shipments/{sid}/report.csv", headers=h)
    assert resp.status_code == 200
    name = resp.headers["Content-Disposition"].split("filename=", 1)[1]
    assert name.count('"') == 2 and "/" not in name and "\\" not in name and ";" not in name


# ----------------------------------------------------------------------------- secrets


def test_only_config_reads_the_environment():
    pattern = re.compile(r"os\.environ|os\.getenv|getenv\(|environ\.get")
    offenders = []
    for pkg in ("emissions", "fleet", "routing", "webapp"):
        for path in (ROOT / pkg).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "webapp/config.py":
                continue
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(rel)
    assert not offenders, f"environment read outside webapp/config.py: {offenders}"


def test_no_secret_is_hard_coded():
    from greenlane.webapp.config import DEFAULTS

    assert "SECRET_KEY" not in DEFAULTS
    assert not any("password" in str(v).lower() for v in DEFAULTS.values())
    pattern = re.compile(r"(SECRET_KEY|password|passwd)\s*=\s*['\"][^'\"]{6,}['\"]", re.I)
    for pkg in ("emissions", "fleet", "routing", "webapp"):
        for path in (ROOT / pkg).rglob("*.py"):
            assert not pattern.search(path.read_text(encoding="utf-8")), path


def test_secret_key_comes_from_the_environment_or_a_private_instance_file(tmp_path):
    from greenlane.webapp.config import from_environment, instance_secret_key

    assert from_environment({"GREENLANE_SECRET_KEY": "s3"})["SECRET_KEY"] == "s3"
    key = instance_secret_key(tmp_path)
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert len(key) >= 40 and mode == 0o600
    assert instance_secret_key(tmp_path) == key


def test_openapi_names_no_secret(world):
    text = json.dumps(world["client"].get("/api/v1/openapi.json").get_json())
    for token in world["tokens"].values():
        assert token not in text
    assert SECRET not in text
