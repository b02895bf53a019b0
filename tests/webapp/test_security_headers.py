"""Security headers on every answer (CSP, nosniff, framing, referrer, HSTS), the trusted-proxy
setting, no external URL in any template, and — in a real browser — pages that work under
the CSP (nothing refused)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webapp_helpers import bearer, close_app, make_app

TEMPLATES = Path(__file__).resolve().parents[2] / "webapp" / "templates"
CHROMIUM = Path("/usr/bin/chromium")


def csp(resp: Any) -> dict[str, list[str]]:
    """The Content-Security-Policy as ``{directive: [sources]}``."""
    out = {}
    for part in resp.headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def assert_secure(resp: Any) -> None:
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    policy = csp(resp)
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert all(s == "'self'" or s.startswith("'sha256-") for s in policy["script-src"])


def test_every_kind_of_answer_carries_the_headers(client, tokens):
    h = bearer(tokens["planner"])
    answers = {
        "api json": client.get("/api/v1/network", headers=h),
        "api 401": client.get("/api/v1/network"),
        "api 404": client.get("/api/v1/plans/pl_missing", headers=h),
        "openapi": client.get("/api/v1/openapi.json"),
        "swagger": client.get("/api/v1/swagger"),
        "login page": client.get("/login"),
        "static": client.get("/static/js/map.js"),
        "404 page": client.get("/no/such/page"),
    }
    for name, resp in answers.items():
        assert resp.status_code in (200, 401, 404), (name, resp.status_code)
        assert_secure(resp)
        assert "Strict-Transport-Security" not in resp.headers, name  # plain HTTP
        resp.close()


def test_inline_scripts_are_allowed_by_hash_only(client, tokens):
    from greenlane.webapp.headers import inline_script_hashes

    resp = client.get("/api/v1/swagger")
    hashes = inline_script_hashes(resp.get_data())
    assert len(hashes) == 1  # Swagger UI's start-up script
    assert csp(resp)["script-src"] == ["'self'", *hashes]
    page = (
        b'<script type="application/json">{"a": 1}</script><script src="/x.js"></script>'
        b"<script>alert(1)</script>"
    )
    assert inline_script_hashes(page) == ["'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"]


def test_ui_pages_allow_each_of_their_inline_scripts(client, tokens, planned):
    from greenlane.webapp.headers import inline_script_hashes

    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.get_data(as_text=True))
    assert token is not None
    resp = client.post("/login", data={"token": tokens["planner"], "csrf_token": token[1]})
    assert resp.status_code in (302, 303)
    for url in ("/", f"/plans/{planned['id']}", "/ledger/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert_secure(page)
        hashes = inline_script_hashes(page.get_data())
        assert set(hashes) <= set(csp(page)["script-src"]), url
    plan = client.get(f"/plans/{planned['id']}")
    assert len(inline_script_hashes(plan.get_data())) >= 2  # basemap URL + start-up


def test_templates_load_nothing_from_another_origin():
    pattern = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""", re.I)
    for path in TEMPLATES.rglob("*.html"):
        assert not pattern.search(path.read_text(encoding="utf-8")), path


def test_hsts_over_https_or_when_configured(client, tmp_path):
    resp = client.get("/login", base_url="https://greenlane.example")
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    app = make_app(f"sqlite:///{tmp_path / 'h.sqlite'}", HSTS=True)
    try:
        assert "Strict-Transport-Security" in app.test_client().get("/login").headers
    finally:
        close_app(app)


def test_forwarded_headers_count_only_behind_trusted_proxies(client, tmp_path):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    assert "Strict-Transport-Security" not in client.get("/login", headers=forwarded).headers
    app = make_app(
        f"sqlite:///{tmp_path / 'p.sqlite'}",
        TRUSTED_PROXIES=1,
        RATE_LIMIT_ANON_PER_MINUTE=60,
        RATE_LIMIT_ANON_BURST=1,
    )
    try:
        c = app.test_client()
        assert "Strict-Transport-Security" in c.get("/login", headers=forwarded).headers
        # the per-IP limit sees the client behind the proxy, not the proxy
        assert c.get("/api/v1/network", headers=forwarded).status_code == 401
        assert c.get("/api/v1/network", headers=forwarded).status_code == 429
        other = {**forwarded, "X-Forwarded-For": "203.0.113.10"}
        assert c.get("/api/v1/network", headers=other).status_code == 401
    finally:
        close_app(app)


# ----------------------------------------------------------------------------- browser


@pytest.fixture
def live(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The app under waitress (the production server) on a free loopback port, in a thread."""
    waitress_server = pytest.importorskip("waitress.server")

    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    app = make_app(f"sqlite:///{tmp_path / 'csp.sqlite'}", TESTING=False)
    token = create_token(engine_of(app), "planner")[1]
    server = waitress_server.create_server(app, host="127.0.0.1", port=0, threads=4, ident="")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{server.effective_port}", "token": token, "app": app}
    finally:
        server.close()
        thread.join(timeout=10)
        close_app(app)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium")
def test_pages_work_under_the_csp_in_a_browser(live):
    """Login, a planned book's page (map + charts), the ledger and Swagger UI: no script or
    style refused by the policy, no error, nothing fetched from another origin."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from webapp_helpers import book

    base = live["base"]
    client = live["app"].test_client()
    plan = client.post(
        "/api/v1/plans", json={"shipments": book(2)}, headers=bearer(live["token"])
    ).get_json()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            outside: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on(
                "request",
                lambda r: (
                    outside.append(r.url)
                    if not r.url.startswith((base, "data:", "blob:"))
                    else None
                ),
            )
            page.goto(f"{base}/login")
            page.fill("#token", live["token"])
            page.click("button[type=submit]")
            page.wait_for_selector("#plan-form")
            page.goto(f"{base}/plans/{plan['id']}")
            page.wait_for_selector("#map[data-basemap=loaded]", timeout=20_000)
            assert page.evaluate("() => !!Chart.getChart('tradeoff')")
            page.goto(f"{base}/ledger/")
            page.wait_for_load_state("networkidle")
            page.goto(f"{base}/api/v1/swagger")
            page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
        finally:
            browser.close()
    assert [e for e in errors if "Content Security Policy" in e] == []
    assert errors == []
    assert outside == []
