"""What a planner reads: badges, the target's shadow price, the intensity basis, error pages,
the ledger standing without actuals, ``make run`` on another port."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_disruptions_api import RED_SEA, _sea_book
from test_ui import csrf, login
from webapp_helpers import book, close_app, make_app

ROOT = Path(__file__).resolve().parents[2]


def test_impact_page_shows_on_time_hits_green(
    client: Any, auth: Any, tokens: dict[str, str]
) -> None:
    plan = client.post(
        "/api/v1/plans", headers=auth(), json={"shipments": _sea_book(), "name": "red sea"}
    ).get_json()
    resp = client.post(
        f"/api/v1/plans/{plan['id']}/disruptions", json={"disruptions": RED_SEA}, headers=auth()
    )
    assert resp.status_code == 200
    doc = resp.get_json()
    (hit,) = doc["shipments"]
    assert hit["due_date_risk"] == "on time"  # 80 days allow the Cape route
    login(client, tokens["planner"])
    html = client.get(f"/plans/{doc['replan_plan_id']}/impact").get_data(as_text=True)
    row = html[html.index('data-shipment="SEA"') :]
    row = row[: row.index("</tr>")]
    assert '<span class="badge accepted">on time</span>' in row


def test_target_plan_shows_its_shadow_price(client: Any, auth: Any, tokens: dict[str, str]) -> None:
    target = client.post(
        "/api/v1/plans",
        json={"shipments": book(2), "options": {"target_year": 2030}},
        headers=auth(),
    ).get_json()
    price = target["solver"]["shadow_price_cny_per_t"]
    assert price == 0.0  # the small book meets the 2030 target on cost alone
    cheapest = client.post("/api/v1/plans", json={"shipments": book(2)}, headers=auth()).get_json()
    login(client, tokens["planner"])
    html = client.get(f"/plans/{target['id']}").get_data(as_text=True)
    assert 'id="shadow-price"' in html
    assert "<strong>0 CNY per t CO2e</strong>" in html and "the target does not bind" in html
    assert 'id="shadow-price"' not in client.get(f"/plans/{cheapest['id']}").get_data(as_text=True)


def test_shadow_price_of_a_binding_target_is_shown(
    app: Any, client: Any, auth: Any, tokens: dict[str, str]
) -> None:
    from sqlalchemy import select, update

    from greenlane.webapp.db import engine_of
    from greenlane.webapp.tables import plans

    plan = client.post(
        "/api/v1/plans",
        json={"shipments": book(1), "options": {"target_year": 2030}},
        headers=auth(),
    ).get_json()
    engine = engine_of(app)
    with engine.begin() as conn:  # as the planner stores a binding cap's price
        result = conn.execute(select(plans.c.result).where(plans.c.id == plan["id"])).scalar_one()
        result["solver"]["shadow_price_cny_per_t"] = 1234.4
        conn.execute(update(plans).where(plans.c.id == plan["id"]).values(result=result))
    login(client, tokens["planner"])
    html = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    assert "<strong>1,234 CNY per t CO2e</strong>" in html
    assert "the target does not bind" not in html


def test_intensity_is_labelled_with_its_distance_basis(
    client: Any, auth: Any, tokens: dict[str, str]
) -> None:
    plan = client.post("/api/v1/plans", json={"shipments": book(2)}, headers=auth()).get_json()
    s = plan["summary"]
    actual = s["co2e_wtw_kg"] * 1000 / s["tkm"]  # g per tkm on the SFD
    assert actual < s["intensity_g_per_tkm"]  # the route is longer than the great circle
    login(client, tokens["planner"])
    html = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    kpi = html[html.index('id="intensity-kpi"') :]
    kpi = kpi[: kpi.index("</div>")]
    assert "Intensity, great-circle basis" in kpi
    assert f"{s['intensity_g_per_tkm']:,.2f}" in kpi
    assert f"{actual:,.2f} g/tkm on the SFD (reports)" in kpi
    assert 'id="intensity-basis"' in html
    index = client.get("/").get_data(as_text=True)
    assert "g CO2e/tkm (great-circle)" in index
    # The PDF report's own total divides by tonne-km on the SFD: the figure the label names.
    other = client.post("/api/v1/plans", json={"shipments": book(1)}, headers=auth()).get_json()
    cmp = client.get(f"/compare?a={plan['id']}&b={other['id']}").get_data(as_text=True)
    assert "Intensity, great-circle basis" in cmp and "Intensity, SFD" in cmp


# ----------------------------------------------------------------------------- errors


def test_browser_errors_are_styled_pages_and_api_errors_stay_problems(
    client: Any, auth: Any, tokens: dict[str, str]
) -> None:
    login(client, tokens["planner"])
    resp = client.get("/plans/pl_nothing")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert 'id="error"' in html and "css/app.css" in html and 'class="topbar"' in html
    resp = client.get("/nowhere")
    assert resp.status_code == 404 and 'id="error"' in resp.get_data(as_text=True)
    resp = client.post("/logout", data={"csrf_token": "forged"})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True) and 'id="error"' in resp.get_data(as_text=True)
    resp = client.get("/api/v1/plans/pl_nothing", headers=auth())
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"


def test_login_rate_limit_is_a_styled_page_for_browsers(tmp_path: Path) -> None:
    app = make_app(
        f"sqlite:///{tmp_path / 'rl.sqlite'}",
        RATE_LIMIT_ANON_PER_MINUTE=1,
        RATE_LIMIT_ANON_BURST=2,
        RATE_LIMIT_STORE="memory",
    )
    try:
        client = app.test_client()
        token = csrf(client)
        form = {"token": "gl_wrong", "csrf_token": token}
        assert [client.post("/login", data=form).status_code for _ in range(2)] == [401, 401]
        resp = client.post("/login", data=form, headers={"Accept": "text/html,*/*;q=0.8"})
        assert resp.status_code == 429 and resp.mimetype == "text/html"
        html = resp.get_data(as_text=True)
        assert 'id="error"' in html and "Too Many Requests" in html
        retry = int(resp.headers["Retry-After"])
        assert retry >= 1 and f"Try again in {retry} s" in html
        resp = client.post("/login", data=form, headers={"Accept": "application/json"})
        assert resp.status_code == 429 and resp.mimetype == "application/problem+json"
    finally:
        close_app(app)


# ----------------------------------------------------------------------------- ledger


def test_ledger_without_actuals_is_not_on_track(
    client: Any, auth: Any, tokens: dict[str, str]
) -> None:
    doc = client.get("/api/v1/ledger/kpi", headers=auth()).get_json()
    assert doc["shipments"] == 0
    assert doc["standing"]["on_track"] is None and doc["standing"]["gap_g_per_tkm"] is None
    login(client, tokens["planner"])
    html = client.get("/ledger/").get_data(as_text=True)
    standing = re.search(r'id="on-track">([^<]+)<', html)
    assert standing is not None and standing.group(1) == "no actuals yet"
    kpi = html[html.index('id="on-track"') :]
    assert "g/tkm" not in kpi[: kpi.index("</div>")]  # no gap to a projection of nothing
    projection = html[html.index("year-end projection</span>") :]
    assert projection.startswith('year-end projection</span><span class="value">–</span>')
    assert '"projection": {"x": ' in html and '"y": null}' in html


# ----------------------------------------------------------------------------- make run


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_port_is_configurable(tmp_path: Path) -> None:
    def dry(*extra: str, env: dict[str, str] | None = None) -> str:
        out = subprocess.run(
            [
                "make",
                "-n",
                "--no-print-directory",
                "-C",
                str(ROOT),
                "run",
                f"VENV={tmp_path}/venv",
                *extra,
            ],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout
        return out.strip().splitlines()[-1]

    assert dry().endswith("serve --demo --host 127.0.0.1 --port 5000")
    assert dry("PORT=8000").endswith("--port 8000")
    import os

    assert dry(env={**os.environ, "PORT": "8123"}).endswith("--port 8123")
    assert "PORT=8000 make run" in (ROOT / "README.md").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- PDF


def test_pdf_summary_page_of_a_plan_and_of_a_partner_share(client: Any, auth: Any) -> None:
    import io

    from pypdf import PdfReader

    plan = client.post("/api/v1/plans", json={"shipments": book(2)}, headers=auth()).get_json()
    s = plan["summary"]
    resp = client.get(f"/api/v1/plans/{plan['id']}/report.pdf", headers=auth())
    first = PdfReader(io.BytesIO(resp.data)).pages[0].extract_text()
    assert "Summary" in first
    assert f"{s['cost_cny']:,.0f} CNY" in first
    assert f"{s['intensity_g_per_tkm']:,.2f} g CO2e/tkm" in first  # the KPI (great-circle)
    actual = s["co2e_wtw_kg"] * 1000 / s["tkm"]
    assert f"{actual:,.2f} g CO2e/tkm" in first  # this report's own basis
    assert "great-circle distance origin → destination" in first
    assert "the ring is this plan" in first  # this plan on the trade-off chart
    client.post(
        f"/api/v1/plans/{plan['id']}/shares",
        json={"partner_id": "carrier-a", "shipment_ids": ["S1"]},
        headers=auth(),
    )
    resp = client.get(f"/api/v1/plans/{plan['id']}/report.pdf", headers=auth("partner_a"))
    assert resp.status_code == 200
    first = PdfReader(io.BytesIO(resp.data)).pages[0].extract_text()
    assert "Shipments\n1" in first or "Shipments 1" in first
    assert "CNY" not in first and "the ring is this plan" not in first  # nothing beyond S1


def test_shipment_table_names_vehicles_fuels_and_hubs(
    client: Any, auth: Any, tokens: dict[str, str]
) -> None:
    from greenlane.emissions.factors import load_factors
    from greenlane.fleet.catalog import vehicle_types
    from greenlane.webapp.services import network

    plan = client.post("/api/v1/plans", json={"shipments": book(1)}, headers=auth()).get_json()
    leg = plan["shipments"][0]["legs"][0]
    login(client, tokens["planner"])
    html = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    vehicle = vehicle_types()[leg["vehicle_id"]].name
    fuel = load_factors().carriers[leg["energy_carrier"]].name
    with client.application.app_context():
        hub = network().hubs[leg["destination"]].name
    assert f'title="{leg["vehicle_id"]} · {leg["energy_carrier"]}">{vehicle} · {fuel}' in html
    assert f'{hub} <span class="muted">{leg["destination"]}</span>' in html


def test_shipment_table_exports_to_excel_without_formulas(
    client: Any, auth: Any, tokens: dict[str, str]
) -> None:
    import io

    from openpyxl import load_workbook
    from webapp_helpers import shipment

    ships = [shipment("=1+1", mass_t=5), shipment("S-2", "F-XIAN", "C-WARSAW", 7)]
    plan = client.post("/api/v1/plans", json={"shipments": ships}, headers=auth()).get_json()
    login(client, tokens["planner"])
    page = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    assert f'href="/plans/{plan["id"]}/shipments.xlsx"' in page
    resp = client.get(f"/plans/{plan['id']}/shipments.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data))
    rows = list(wb["Shipments"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Shipment", "Origin", "Destination")
    by_id = {r[0]: r for r in rows[1:]}
    assert set(by_id) == {"=1+1", "S-2"}
    assert wb["Shipments"]["A2"].data_type == "s"  # the id is text, not a formula
    first = next(s for s in plan["shipments"] if s["shipment_id"] == "S-2")
    assert by_id["S-2"][6] == pytest.approx(first["co2e_wtw_kg"])  # numbers stay numbers
    legs = list(wb["Legs"].iter_rows(values_only=True))
    assert len(legs) - 1 == sum(len(s["legs"]) for s in plan["shipments"])
