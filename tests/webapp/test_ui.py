"""The planner UI through the test client: login, CSRF, upload/form, job, results, compare,
accept, share, downloads, and the partner's view."""

from __future__ import annotations

import io
import json
import re
import time
from typing import Any

import pytest
from webapp_helpers import BOOK_CSV

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: Any, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF.search(page)
    assert match, page[:500]
    return match.group(1)


def login(client: Any, token: str) -> None:
    resp = client.post("/login", data={"token": token, "csrf_token": csrf(client)})
    assert resp.status_code == 302, resp.get_data(as_text=True)


@pytest.fixture
def ui(client: Any, tokens: dict[str, str]) -> Any:
    """A test client logged in as a planner."""
    login(client, tokens["planner"])
    return client


def run_plan(ui: Any, data: dict[str, Any]) -> str:
    """Submit the new-plan form; wait for the job; return the plan page URL."""
    resp = ui.post(
        "/plans", data={"csrf_token": csrf(ui, "/"), **data}, content_type="multipart/form-data"
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    job_url = resp.headers["Location"]
    assert "/jobs/job_" in job_url
    assert ui.get(job_url).status_code == 200
    deadline = time.monotonic() + 60
    while True:
        job = ui.get(job_url + "/status").get_json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert job["status"] == "done", job
    return job["page_url"]


def plan_data(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="plan-data">(.*?)</script>', page, re.S)
    assert match
    return json.loads(match.group(1))


def test_pages_need_a_login(client):
    resp = client.get("/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_wrong_token_is_refused(client):
    resp = client.post("/login", data={"token": "gl_wrong", "csrf_token": csrf(client)})
    assert resp.status_code == 401
    assert "Unknown, expired or revoked token" in resp.get_data(as_text=True)


def test_forms_need_the_csrf_token(client, tokens):
    client.get("/login")
    assert client.post("/login", data={"token": tokens["planner"]}).status_code == 400
    login(client, tokens["planner"])
    resp = client.post("/plans", data={"use_demo": "1", "csrf_token": "forged"})
    assert resp.status_code == 400


def test_index_shows_the_form(ui):
    page = ui.get("/").get_data(as_text=True)
    assert 'id="plan-form"' in page
    assert '<option value="F-NANJING">' in page
    for label in ("Cheapest", "Greenest", "Carbon price", "Meet the target"):
        assert label in page


def test_upload_plan_results_accept_and_download(ui):
    with BOOK_CSV.open("rb") as fh:
        url = run_plan(
            ui,
            {
                "book": (fh, "book.csv"),
                "objective": "carbon_price",
                "carbon_price_cny_per_t": "300",
                "name": "uploaded",
            },
        )
    page = ui.get(url).get_data(as_text=True)
    assert "uploaded" in page and 'id="map"' in page
    assert "Carbon price (300 CNY/t)" in page
    for sid in ("NKG-MAD-1", "SZX-FRA-1", "XIAN-WAW-1"):
        assert sid in page
    data = plan_data(page)
    legs = [f for f in data["geojson"]["features"] if f["properties"]["kind"] == "leg"]
    assert legs and all(f["geometry"] for f in legs)
    charts = data["charts"]
    assert charts["pareto"] and charts["chosen"]["y"] > 0
    assert charts["trajectory"][0]["x"] == 2023 and charts["trajectory"][-1]["x"] == 2030
    assert "vendor/leaflet-1.9.4/leaflet.js" in page and "https://" not in page
    plan_id = url.rsplit("/", 1)[1]
    resp = ui.post(f"/plans/{plan_id}/accept", data={"csrf_token": csrf(ui, url)})
    assert resp.status_code == 302
    assert 'id="plan-state">accepted' in ui.get(url).get_data(as_text=True)
    csv_resp = ui.get(f"/plans/{plan_id}/report.csv")
    assert csv_resp.status_code == 200
    assert csv_resp.get_data().decode("utf-8-sig").startswith("shipment_id,tce_id")
    pdf = ui.get(f"/plans/{plan_id}/shipments/NKG-MAD-1/report.pdf")
    assert pdf.get_data().startswith(b"%PDF")


def test_xlsx_upload(ui):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(
        ["shipment_id", "origin", "destination", "mass_t", "ready_at", "due_at", "allowed_modes"]
    )
    from datetime import datetime

    ws.append(
        [
            "X1",
            "F-NANJING",
            "C-MADRID",
            8,
            datetime(2026, 12, 1),
            datetime(2027, 1, 20),
            "rail;road",
        ]
    )
    ws.append(["X2", "F-SHENZHEN", "C-FRANKFURT", 3, "2026-12-01", "2027-01-20", None])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    url = run_plan(ui, {"book": (buf, "book.xlsx"), "objective": "greenest"})
    page = ui.get(url).get_data(as_text=True)
    assert "X1" in page and "X2" in page and "Greenest" in page
    assert "book.xlsx · Greenest" in page  # default plan name


def test_typed_shipments(ui):
    url = run_plan(
        ui,
        {
            "shipment_id": ["T1", ""],
            "origin": ["F-XIAN", ""],
            "destination": ["C-WARSAW", ""],
            "mass_t": ["5", ""],
            "ready_at": ["2026-12-01", ""],
            "due_at": ["2027-01-20", ""],
            "allowed_modes": ["rail, road", ""],
            "objective": "target",
            "target_year": "2030",
        },
    )
    page = ui.get(url).get_data(as_text=True)
    assert "T1" in page and "Meet the target (2030)" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"book": (io.BytesIO(b"shipment_id,origin\nS1,F-NANJING\n"), "b.csv")},
            "missing column(s)",
        ),
        (
            {
                "book": (
                    io.BytesIO(
                        b"shipment_id,origin,destination,mass_t,ready_at,due_at\n"
                        b"S1,F-NANJING,C-MADRID,-4,2026-12-01,2027-01-20\n"
                    ),
                    "b.csv",
                )
            },
            "line[2].mass_t",
        ),
        ({"book": (io.BytesIO(b"not a workbook"), "b.xlsx")}, "not a readable XLSX"),
        ({"book": (io.BytesIO(b"{}"), "b.txt")}, "upload a .csv"),
        (
            {
                "book": (
                    io.BytesIO(
                        b"shipment_id,origin,destination,mass_t,ready_at,due_at\n"
                        b"S1,QWERTYVILLE,C-MADRID,4,2026-12-01,2027-01-20\n"
                    ),
                    "b.csv",
                )
            },
            "line[2].origin",
        ),
        ({}, "enter at least one shipment"),
        (
            {
                "shipment_id": ["S1"],
                "origin": ["F-XIAN"],
                "destination": ["C-WARSAW"],
                "mass_t": ["-5"],
                "ready_at": ["2026-12-01"],
                "due_at": ["2027-01-20"],
            },
            "row[1].mass_t",
        ),
        (
            {
                "shipment_id": ["S1"],
                "objective": "carbon_price",
                "carbon_price_cny_per_t": "lots",
                "origin": ["F-XIAN"],
                "destination": ["C-WARSAW"],
                "mass_t": ["5"],
                "ready_at": ["2026-12-01"],
                "due_at": ["2027-01-20"],
            },
            "carbon_price: must be a number",
        ),
    ],
)
def test_bad_books_are_explained(ui, data, message):
    resp = ui.post(
        "/plans",
        data={"csrf_token": csrf(ui, "/"), **data},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert resp.status_code == 200
    assert message in resp.get_data(as_text=True)


def test_compare_and_share(ui, tokens, client):
    with BOOK_CSV.open("rb") as fh:
        a = run_plan(ui, {"book": (fh, "book.csv"), "objective": "cheapest", "name": "plan A"})
    with BOOK_CSV.open("rb") as fh:
        b = run_plan(ui, {"book": (fh, "book.csv"), "objective": "greenest", "name": "plan B"})
    ida, idb = a.rsplit("/", 1)[1], b.rsplit("/", 1)[1]
    page = ui.get(f"/compare?plan={ida}&plan={idb}").get_data(as_text=True)
    assert "plan A" in page and "plan B" in page and 'id="map-A"' in page
    assert "CO2e WTW [kg]" in page
    assert ui.get(f"/compare?plan={ida}").status_code == 302
    resp = ui.post(
        f"/plans/{ida}/share",
        data={"csrf_token": csrf(ui, a), "partner_id": "carrier-a", "shipment_id": "NKG-MAD-1"},
    )
    assert resp.status_code == 302
    # the partner logs in and sees only that shipment
    ui.post("/logout", data={"csrf_token": csrf(ui, "/")})
    login(client, tokens["partner_a"])
    shared = client.get("/").get_data(as_text=True)
    assert "NKG-MAD-1" in shared and ida in shared
    ok = client.get(f"/plans/{ida}/shipments/NKG-MAD-1/report.csv")
    assert ok.status_code == 200
    assert client.get(f"/plans/{ida}/shipments/SZX-FRA-1/report.csv").status_code == 404
    assert client.get(f"/plans/{idb}/report.csv").status_code == 404
    assert client.get(f"/plans/{ida}").status_code == 403


def test_plan_form_rate_cards_and_eua_show_the_cost_split(ui):
    url = run_plan(
        ui,
        {
            "shipment_id": ["R1", ""],
            "origin": ["F-SHENZHEN", ""],
            "destination": ["W-VENLO", ""],
            "mass_t": ["14", ""],
            "ready_at": ["2026-12-01", ""],
            "due_at": ["2027-02-20", ""],
            "allowed_modes": ["sea", ""],
            "objective": "cheapest",
            "eua_eur_per_t": "120",
            "price_basis": "rate_card",
        },
    )
    page = ui.get(url).get_data(as_text=True)
    assert "Cost split [CNY]" in page and "of which carbon regulation" in page
    # 14 t x 2 052 USD/FEU / 20 t x 6.9929 CNY/USD (fixing of 23 Jan 2026) = 10 044.6 CNY
    assert (
        'title="priced at rate_card:sea_cn_north_europe_spot; rate card '
        "sea_cn_north_europe_spot (spot, 2026-03-05)"
    ) in page
    assert "(fx of 2026-01-23)" in page and 'service">freight 10,045' in page
    assert 'title="priced at operating_cost">freight' in page  # road legs: own fleet
    assert "EU ETS" in page


def test_form_late_penalty_field_sets_the_option():
    from greenlane.emissions.errors import InputError
    from greenlane.webapp.books import form_options

    opts = form_options({"due_dates": "soft", "late_penalty_cny_per_t_day": "350"})
    assert opts == {"objective": "cost", "due_dates": "soft", "late_penalty_cny_per_t_day": 350.0}
    assert "late_penalty_cny_per_t_day" not in form_options({"late_penalty_cny_per_t_day": "9"})
    with pytest.raises(InputError) as err:
        form_options({"due_dates": "soft", "late_penalty_cny_per_t_day": "lots"})
    assert err.value.field == "late_penalty_cny_per_t_day"


def test_plan_page_shows_where_each_place_resolved(ui):
    book = (
        b"shipment_id,origin,destination,mass_t,ready_at,due_at\n"
        b"BER-MAD,52.52;13.405,C-MADRID,10,2026-12-01,2027-02-20\n"
    )
    url = run_plan(ui, {"book": (io.BytesIO(book), "book.csv"), "objective": "cost"})
    page = ui.get(url).get_data(as_text=True)
    assert "origin “52.52;13.405” resolved to coordinates" in page
    assert "hub SITE-52.5200-13.4050 (added for this plan)" in page
    assert "road to DEHAM 257 km" in page
    assert "destination “C-MADRID”" not in page  # a hub id given as such is not repeated


def test_plan_page_shows_customs_dwell_with_its_rule(ui):
    # Shanghai -> Genoa by sea, then rail to Milan: the first EU/EEA hub is the seaport ITGOA,
    # data/border_dwell.csv default 24 h (EST) before the rail leg departs
    book = (
        b"shipment_id,origin,destination,mass_t,ready_at,due_at,allowed_modes\n"
        b"SHA-MIL,CNSHA,ITMIL,10,2026-12-01,2027-02-20,sea;rail\n"
    )
    url = run_plan(ui, {"book": (io.BytesIO(book), "book.csv"), "objective": "cost"})
    page = ui.get(url).get_data(as_text=True)
    assert 'title="customs EU/EEA entry at ITGOA (default)">customs 24 h</span>' in page
