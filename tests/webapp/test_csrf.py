"""One CSRF guard (``webapp.csrf``) for every form route, the Bearer-token API exempt.

The form routes are read from ``app.url_map``, so a page added later is covered here (and
protected by the app-wide guard) without being listed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Blueprint

FORM_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
API_BLUEPRINTS = {"api", "ledger", "quotes", "pact"}
"""The machine APIs, exempt: ``/api/v1`` (Bearer token) and ``/pact`` (PACT OAuth2: HTTP Basic
client credentials, then a Bearer token; no session cookie)."""


def _form_token(client: Any) -> str:
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def _form_routes(app: Any) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) of every form route, URL variables filled with dummies."""
    out = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint in API_BLUEPRINTS or rule.rule.startswith("/api/"):
            continue
        for method in sorted(rule.methods & FORM_METHODS):
            values = {arg: "assign" if arg == "action" else "x-1" for arg in rule.arguments}
            url = rule.rule
            for arg, value in values.items():
                url = re.sub(rf"<(?:\w+:)?{arg}>", value, url)
            out.append((rule.endpoint, method, url))
    return out


def _login(client: Any, app: Any, token: str) -> None:
    from greenlane.webapp.auth import authenticate, open_session
    from greenlane.webapp.db import engine_of

    who = authenticate(engine_of(app), token)
    with client.session_transaction() as sess:
        sess["sid"] = open_session(engine_of(app), who.token_id)


def test_the_form_routes_are_the_ui_and_ledger_pages(app):
    routes = _form_routes(app)
    assert {e.split(".")[0] for e, _, _ in routes} == {"ui", "ledger_ui"}
    assert {(e, m) for e, m, _ in routes} >= {
        ("ui.login_post", "POST"),
        ("ui.logout", "POST"),
        ("ui.create_plan", "POST"),
        ("ui.accept", "POST"),
        ("ui.share", "POST"),
        ("ui.disrupt", "POST"),
        ("ledger_ui.baseline_form", "POST"),
        ("ledger_ui.actuals_import", "POST"),
        ("ledger_ui.certificate_register", "POST"),
        ("ledger_ui.certificate_move", "POST"),
        ("ledger_ui.levers_start", "POST"),
    }


@pytest.mark.parametrize("sent", [None, "", "forged"])
def test_every_form_route_refuses_a_post_without_the_token(app, client, tokens, sent):
    from greenlane.webapp.csrf import MESSAGE

    assert _form_token(client)  # the session holds a real token; the post does not send it
    for endpoint, method, url in _form_routes(app):
        _login(client, app, tokens["planner"])
        data = {} if sent is None else {"csrf_token": sent}
        resp = client.open(url, method=method, data=data)
        assert resp.status_code == 400, (endpoint, url, resp.status_code)
        assert MESSAGE in resp.get_data(as_text=True), endpoint


def test_every_form_route_accepts_the_sessions_token(app, client, tokens):
    from greenlane.webapp.csrf import MESSAGE

    for endpoint, method, url in _form_routes(app):
        token = _form_token(client)  # a logout before ends the session and its token
        _login(client, app, tokens["planner"])
        resp = client.open(url, method=method, data={"csrf_token": token})
        assert resp.status_code < 500, (endpoint, url, resp.status_code)
        assert MESSAGE not in resp.get_data(as_text=True), endpoint
        if endpoint != "ui.logout":  # the view ran: no bounce to the login page
            assert not resp.headers.get("Location", "").startswith("/login"), endpoint
    # e.g. a logout with the token ends the session: the planner page asks for a login again
    token = _form_token(client)
    _login(client, app, tokens["planner"])
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_a_token_of_another_session_is_refused(app, tokens):
    first, second = app.test_client(), app.test_client()
    foreign = _form_token(first)
    _form_token(second)
    _login(second, app, tokens["planner"])
    assert second.post("/logout", data={"csrf_token": foreign}).status_code == 400


def test_the_bearer_api_needs_no_form_token(client, tokens):
    resp = client.post(
        "/api/v1/ledger/baseline",
        json={"baseline_year": 2024, "intensity_g_per_tkm": 30.0, "target_year": 2030},
        headers={"Authorization": f"Bearer {tokens['planner']}"},
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["baseline_intensity_g_per_tkm"] == 30.0


def test_a_blueprint_added_later_is_protected_without_copying_a_guard(tmp_path):
    from webapp_helpers import close_app, make_app

    from greenlane.webapp.csrf import MESSAGE

    app = make_app(f"sqlite:///{tmp_path / 'g.sqlite'}")
    extra = Blueprint("extra", __name__)
    extra.add_url_rule("/extra", "post", lambda: "done", methods=["POST"])
    app.register_blueprint(extra)
    try:
        client = app.test_client()
        resp = client.post("/extra", data={})
        assert resp.status_code == 400 and MESSAGE in resp.get_data(as_text=True)
        ok = client.post("/extra", data={"csrf_token": _form_token(client)})
        assert ok.status_code == 200 and ok.get_data(as_text=True) == "done"
    finally:
        close_app(app)
