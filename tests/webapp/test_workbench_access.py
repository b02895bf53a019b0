"""Who may do what: server-side browser sessions, token expiry, the integration role's own
plans, the partner menu."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from test_ui import csrf, login
from webapp_helpers import bearer, book

# ----------------------------------------------------------------------------- sessions


def _logged_in_cookie(client: Any, token: str) -> str:
    login(client, token)
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Any, value: str) -> Any:
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_a_copied_cookie_stops_working_after_log_out(app: Any, tokens: dict[str, str]) -> None:
    client = app.test_client()
    copied = _logged_in_cookie(client, tokens["planner"])
    assert _with_cookie(app, copied).get("/").status_code == 200  # the copy works while live
    resp = client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert resp.status_code == 302
    resp = _with_cookie(app, copied).get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize("how", ["api", "cli", "revoke"])
def test_rotating_or_revoking_a_token_ends_its_browser_sessions(
    app: Any, tokens: dict[str, str], how: str
) -> None:
    from greenlane.webapp.auth import authenticate, revoke_token, rotate_token
    from greenlane.webapp.db import engine_of

    engine = engine_of(app)
    client = app.test_client()
    copied = _logged_in_cookie(client, tokens["planner"])
    token_id = authenticate(engine, tokens["planner"]).token_id  # type: ignore[union-attr]
    other = app.test_client()
    _logged_in_cookie(other, tokens["planner"])  # a second browser
    if how == "api":
        resp = client.post("/api/v1/tokens/self/rotate", headers=bearer(tokens["planner"]))
        assert resp.status_code == 200
    elif how == "cli":
        rotate_token(engine, token_id)
    else:
        revoke_token(engine, token_id)
    for browser in (client, other, _with_cookie(app, copied)):
        resp = browser.get("/")
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_tokens_expire(app: Any, client: Any) -> None:
    from greenlane.webapp.auth import authenticate, create_token
    from greenlane.webapp.db import engine_of, utcnow
    from greenlane.webapp.tables import api_tokens

    engine = engine_of(app)
    token_id, token = create_token(engine, "planner", expires_days=2)
    who = authenticate(engine, token)
    assert who is not None and who.token_id == token_id
    with engine.connect() as conn:
        row = conn.execute(api_tokens.select().where(api_tokens.c.id == token_id)).one()
    lifetime = row.expires_at - row.created_at
    assert abs(lifetime - timedelta(days=2)) < timedelta(seconds=1)
    login(client, token)
    assert client.get("/").status_code == 200
    with engine.begin() as conn:  # two days later
        conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert authenticate(engine, token) is None
    assert client.get("/").status_code == 302  # the open session ends with the token
    resp = client.get("/api/v1/network", headers=bearer(token))
    assert resp.status_code == 401
    resp = client.post("/login", data={"token": token, "csrf_token": csrf(client)})
    assert resp.status_code == 401


def test_default_expiry_and_bounds(app: Any) -> None:
    from greenlane.emissions.errors import InputError
    from greenlane.webapp.auth import DEFAULT_EXPIRES_DAYS, create_token
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.tables import api_tokens

    engine = engine_of(app)
    token_id, _ = create_token(engine, "partner", partner_id="p1")
    with engine.connect() as conn:
        row = conn.execute(api_tokens.select().where(api_tokens.c.id == token_id)).one()
    assert DEFAULT_EXPIRES_DAYS == 90
    assert abs((row.expires_at - row.created_at) - timedelta(days=90)) < timedelta(seconds=1)
    for bad in (0, -1, 3651):
        with pytest.raises(InputError) as err:
            create_token(engine, "planner", expires_days=bad)
        assert err.value.field == "expires_days"


def test_create_token_cli_takes_expires_days(tmp_path: Any, monkeypatch: Any) -> None:
    from click.testing import CliRunner

    from greenlane.webapp import cli_serve

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    monkeypatch.setenv("GREENLANE_INSTANCE_PATH", str(tmp_path))
    from greenlane.webapp import create_app
    from greenlane.webapp.db import engine_of, init_db

    init_db(engine_of(create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"})))
    result = CliRunner().invoke(
        cli_serve.create_token,
        ["--role", "planner", "--expires-days", "7"],
    )
    assert result.exit_code == 0, result.output
    assert "expires " in result.output
    result = CliRunner().invoke(
        cli_serve.create_token, ["--role", "planner", "--expires-days", "0"]
    )
    assert result.exit_code == 2


# ----------------------------------------------------------------------------- integration


def test_integration_token_may_not_log_into_the_ui(client: Any, tokens: dict[str, str]) -> None:
    resp = client.post("/login", data={"token": tokens["integration"], "csrf_token": csrf(client)})
    assert resp.status_code == 403
    assert "for the API only" in resp.get_data(as_text=True)
    assert client.get("/ledger/").status_code == 302  # no session: back to the login page


def test_integration_may_not_share_and_sees_only_its_own_plans(client: Any, auth: Any) -> None:
    own = client.post(
        "/api/v1/plans", json={"shipments": book(1)}, headers=auth("integration")
    ).get_json()
    theirs = client.post("/api/v1/plans", json={"shipments": book(1)}, headers=auth()).get_json()
    resp = client.post(
        f"/api/v1/plans/{own['id']}/shares",
        json={"partner_id": "carrier-a"},
        headers=auth("integration"),
    )
    assert resp.status_code == 403
    assert resp.get_json()["detail"] == "the integration role may not call this endpoint"
    assert (
        client.get(f"/api/v1/plans/{own['id']}/shares", headers=auth("integration")).status_code
        == 403
    )
    assert client.get(f"/api/v1/plans/{own['id']}", headers=auth("integration")).status_code == 200
    for path in ("", "/report.csv", "/shipments/S1/report.pdf"):
        resp = client.get(f"/api/v1/plans/{theirs['id']}{path}", headers=auth("integration"))
        assert resp.status_code == 404, path
    resp = client.post(f"/api/v1/plans/{theirs['id']}/accept", headers=auth("integration"))
    assert resp.status_code == 404
    resp = client.post(f"/api/v1/plans/{own['id']}/accept", headers=auth("integration"))
    assert resp.status_code == 200 and resp.get_json()["state"] == "accepted"
    # The planner still reads and shares the integration's plan.
    resp = client.post(
        f"/api/v1/plans/{own['id']}/shares", json={"partner_id": "carrier-a"}, headers=auth()
    )
    assert resp.status_code == 201


# ----------------------------------------------------------------------------- menus


def test_partner_menu_has_no_link_to_a_forbidden_page(client: Any, tokens: dict[str, str]) -> None:
    import re

    login(client, tokens["partner_a"])
    page = client.get("/").get_data(as_text=True)
    nav = page[page.index("<nav>") : page.index("</nav>")]
    links = re.findall(r'href="([^"]+)"', nav)
    assert "/ledger/" not in links and "/#new" not in links
    for link in links:
        assert client.get(link).status_code == 200, link
    assert "Shared with carrier-a" in nav


def test_planner_menu_links_all_open(client: Any, tokens: dict[str, str]) -> None:
    import re

    login(client, tokens["planner"])
    page = client.get("/").get_data(as_text=True)
    nav = page[page.index("<nav>") : page.index("</nav>")]
    links = re.findall(r'href="([^"]+)"', nav)
    assert {"/", "/#new", "/ledger/", "/api/v1/swagger"} <= set(links)
    for link in links:
        assert client.get(link).status_code == 200, link


def test_integration_records_actuals_but_reads_no_ledger(client: Any, auth: Any) -> None:
    for path in ("/api/v1/ledger/kpi", "/api/v1/ledger/baseline", "/api/v1/ledger/lanes"):
        assert client.get(path, headers=auth("integration")).status_code == 403, path
        assert client.get(path, headers=auth()).status_code == 200, path
    resp = client.post("/api/v1/ledger/levers", json={}, headers=auth("integration"))
    assert resp.status_code == 403


# ----------------------------------------------------------------------------- partner portal


def test_partner_portal_names_totals_unsharing_and_download_log(
    client: Any, auth: Any, tokens: dict[str, str]
) -> None:
    plan = client.post(
        "/api/v1/plans", json={"shipments": book(2), "name": "March book"}, headers=auth()
    ).get_json()
    pid = plan["id"]
    s1 = next(s for s in plan["shipments"] if s["shipment_id"] == "S1")
    resp = client.post(
        f"/api/v1/plans/{pid}/shares",
        json={"partner_id": "carrier-a", "shipment_ids": ["S1"]},
        headers=auth(),
    )
    assert resp.status_code == 201
    (item,) = client.get("/api/v1/shared", headers=auth("partner_a")).get_json()["items"]
    assert item["plan_name"] == "March book" and item["shipments"] == 1
    assert item["co2e_wtw_kg"] == pytest.approx(s1["co2e_wtw_kg"], abs=1e-3)
    assert item["intensity_g_per_tkm"] == pytest.approx(s1["intensity_g_per_tkm"], abs=1e-2)
    assert item["shared_at"]
    # The download is logged for the planner.
    assert client.get(item["reports"]["csv"], headers=auth("partner_a")).status_code == 200
    login(client, tokens["planner"])
    page = client.get(f"/plans/{pid}").get_data(as_text=True)
    log = page[page.index('id="downloads-log"') :]
    assert "carrier-a · S1 · csv" in log[: log.index("</ul>")]
    # Only a planner stops sharing.
    for role in ("partner_a", "integration"):
        resp = client.delete(f"/api/v1/plans/{pid}/shares/carrier-a", headers=auth(role))
        assert resp.status_code == 403, role
    resp = client.delete(f"/api/v1/plans/{pid}/shares/carrier-a?shipment_id=S2", headers=auth())
    assert resp.status_code == 404  # S2 was never shared
    resp = client.delete(f"/api/v1/plans/{pid}/shares/carrier-a?shipment_id=S1", headers=auth())
    assert resp.status_code == 204
    assert client.get("/api/v1/shared", headers=auth("partner_a")).get_json()["items"] == []
    assert client.get(item["reports"]["csv"], headers=auth("partner_a")).status_code == 404
    assert client.delete(f"/api/v1/plans/{pid}/shares/carrier-a", headers=auth()).status_code == 404


def test_ui_stop_sharing_button(client: Any, auth: Any, tokens: dict[str, str]) -> None:
    plan = client.post("/api/v1/plans", json={"shipments": book(1)}, headers=auth()).get_json()
    pid = plan["id"]
    client.post(f"/api/v1/plans/{pid}/shares", json={"partner_id": "carrier-b"}, headers=auth())
    login(client, tokens["planner"])
    page = client.get(f"/plans/{pid}").get_data(as_text=True)
    assert "Stop sharing" in page
    form = {"csrf_token": csrf(client, f"/plans/{pid}"), "partner_id": "carrier-b"}
    resp = client.post(f"/plans/{pid}/unshare", data=form, follow_redirects=True)
    assert resp.status_code == 200
    assert "No longer shared with carrier-b: whole plan." in resp.get_data(as_text=True)
    assert client.get(f"/api/v1/plans/{pid}/shares", headers=auth()).get_json()["shares"] == []
    resp = client.post(f"/plans/{pid}/unshare", data={**form, "csrf_token": ""})
    assert resp.status_code == 400  # the form guard covers it
