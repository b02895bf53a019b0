"""``/api/v1/datasets``: upload, compare, activate, plan on a dataset; organisations apart.

The dataset of most tests is ``data/lanes.csv`` without its air lanes. Counted by hand in
``data/lanes.csv`` (219 rows): 91 road + 59 sea + 32 air + 31 rail + 6 inland_water = 219,
so the upload keeps 187 lanes and removes the 32 ``mode == air`` ones.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from webapp_helpers import bearer, close_app, make_app, shipment

from greenlane.data import DATA_DIR

LANES = DATA_DIR / "lanes.csv"


def _lanes() -> tuple[str, list[dict[str, str]]]:
    text = LANES.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    return text.splitlines()[0], rows


def lanes_without_air() -> bytes:
    """``data/lanes.csv`` with every ``mode == air`` row left out (header and order kept)."""
    lines = LANES.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    mode = header.index("mode")
    kept = [lines[0]] + [ln for ln in lines[1:] if next(csv.reader([ln]))[mode] != "air"]
    return "".join(kept).encode("utf-8")


AIR_LANE_IDS = sorted(r["lane_id"] for r in _lanes()[1] if r["mode"] == "air")


def upload(client: Any, headers: dict[str, str], files: dict[str, bytes], name: str = "") -> Any:
    data: dict[str, Any] = {"files": [(io.BytesIO(body), fname) for fname, body in files.items()]}
    if name:
        data["name"] = name
    return client.post(
        "/api/v1/datasets", data=data, headers=headers, content_type="multipart/form-data"
    )


def rows(app: Any, table: Any) -> int:
    from greenlane.webapp.db import engine_of

    with engine_of(app).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def orgs(app: Any) -> dict[str, str]:
    """Planner and integration tokens of organisation ``acme``; a planner of ``globex``."""
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    engine = engine_of(app)
    return {
        "acme": create_token(engine, "planner", organisation="acme")[1],
        "acme_int": create_token(engine, "integration", organisation="acme")[1],
        "globex": create_token(engine, "planner", organisation="globex")[1],
    }


@pytest.fixture
def no_air(client: Any, orgs: dict[str, str]) -> dict[str, Any]:
    """The no-air dataset uploaded by acme (the 201 answer)."""
    resp = upload(client, bearer(orgs["acme"]), {"lanes.csv": lanes_without_air()}, "no air")
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_air_lanes_count_by_hand():
    # 32 air lanes in data/lanes.csv (see the module docstring); 219 - 32 = 187 kept
    assert len(AIR_LANE_IDS) == 32
    kept = list(csv.DictReader(io.StringIO(lanes_without_air().decode())))
    assert len(kept) == 187


def test_upload_lists_the_air_lanes_removed(client, orgs, no_air):
    ds = no_air
    assert ds["id"].startswith("ds_")
    assert ds["organisation"] == "acme"
    assert ds["name"] == "no air"
    assert ds["upload_format"] == "csv"
    assert len(ds["sha256"]) == 64
    assert ds["in_force"] is False
    assert ds["files"][0]["name"] == "lanes.csv"
    assert ds["files"][0]["size_bytes"] == len(lanes_without_air())
    changes = ds["changes_vs_in_force"]
    assert changes["base"]["id"] == "default"
    lanes = changes["tables"]["lanes"]
    assert lanes["removed"] == 32
    assert lanes["removed_ids"] == AIR_LANE_IDS
    assert lanes["added"] == 0 and lanes["changed"] == 0
    hubs = changes["tables"].get("hubs", {"added": 0, "removed": 0, "changed": 0})
    assert (hubs["added"], hubs["removed"], hubs["changed"]) == (0, 0, 0)
    # the same answer from GET, and the same content again is the stored dataset (200)
    got = client.get(f"/api/v1/datasets/{ds['id']}", headers=bearer(orgs["acme"]))
    assert got.status_code == 200
    assert got.get_json()["changes_vs_in_force"]["tables"]["lanes"]["removed_ids"] == AIR_LANE_IDS
    again = upload(client, bearer(orgs["acme_int"]), {"lanes.csv": lanes_without_air()})
    assert again.status_code == 200
    assert again.get_json()["id"] == ds["id"]


def test_another_organisation_never_sees_the_dataset(client, orgs, no_air, tokens):
    ds_id = no_air["id"]
    other = bearer(orgs["globex"])
    assert client.get(f"/api/v1/datasets/{ds_id}", headers=other).status_code == 404
    listing = client.get("/api/v1/datasets", headers=other).get_json()
    assert listing == {"organisation": "globex", "in_force": "default", "items": []}
    assert client.post(f"/api/v1/datasets/{ds_id}/activate", headers=other).status_code == 404
    # the default organisation's tokens do not see it either
    assert (
        client.get(f"/api/v1/datasets/{ds_id}", headers=bearer(tokens["planner"])).status_code
        == 404
    )
    # planning on it is refused like an unknown id, naming the field
    resp = client.post(
        "/api/v1/plans",
        json={"shipments": [shipment()], "options": {"dataset_id": ds_id}},
        headers=other,
    )
    assert resp.status_code == 422
    assert resp.get_json()["field"] == "options.dataset_id"
    # partners may not call the dataset endpoints
    assert client.get("/api/v1/datasets", headers=bearer(tokens["partner_a"])).status_code == 403


def test_bad_cell_names_table_line_and_column_and_stores_nothing(app, client, orgs):
    from greenlane.webapp.tables import dataset_files, datasets

    text = lanes_without_air().decode().splitlines(keepends=True)
    header = next(csv.reader([text[0]]))
    cells = next(csv.reader([text[2]]))  # file line 3 = the second lane
    cells[header.index("departures_per_week")] = "often"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    text[2] = buf.getvalue()
    resp = upload(client, bearer(orgs["acme"]), {"lanes.csv": "".join(text).encode()})
    assert resp.status_code == 422, resp.get_json()
    problem = resp.get_json()
    assert problem["field"] == "lanes.csv[line 3].departures_per_week"
    assert "'often'" in problem["detail"]
    assert rows(app, datasets) == 0 and rows(app, dataset_files) == 0


@pytest.mark.parametrize(
    ("files", "status", "field"),
    [
        ({"lanes.csv": b"x", "book.xlsx": b"y"}, 422, "files"),
        ({"lanes.txt": b"x"}, 422, "files[0]"),
        ({"lanes.csv": b""}, 422, "files[0]"),
    ],
)
def test_upload_shape_errors_are_4xx_naming_the_file(app, client, orgs, files, status, field):
    from greenlane.webapp.tables import datasets

    resp = upload(client, bearer(orgs["acme"]), files)
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()["field"] == field
    assert rows(app, datasets) == 0


def test_upload_above_the_size_limit_is_413(tmp_path, orgs):
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    small = make_app(f"sqlite:///{tmp_path / 'small.sqlite'}", DATASET_MAX_BYTES=1000)
    try:
        token = create_token(engine_of(small), "planner", organisation="acme")[1]
        resp = upload(small.test_client(), bearer(token), {"lanes.csv": lanes_without_air()})
        assert resp.status_code == 413
        assert resp.get_json()["field"] == "files"
    finally:
        close_app(small)


def test_plan_on_the_dataset_has_no_air_leg_and_records_it(client, orgs, no_air):
    ds = no_air
    headers = bearer(orgs["acme"])
    book = [shipment("S1", "F-SHENZHEN", "C-FRANKFURT", 2, due_at="2026-12-12T00:00:00Z")]
    shipped = client.post("/api/v1/plans", json={"shipments": book}, headers=headers)
    assert shipped.status_code == 201, shipped.get_json()
    on_shipped = shipped.get_json()
    assert on_shipped["dataset"]["id"] == "default"
    modes = {leg["mode"] for s in on_shipped["shipments"] for leg in s["legs"]}
    assert "air" in modes  # 11 days from Shenzhen to Frankfurt: only air makes it

    resp = client.post(
        "/api/v1/plans",
        json={"shipments": book, "options": {"dataset_id": ds["id"], "due_dates": "soft"}},
        headers=headers,
    )
    assert resp.status_code == 201, resp.get_json()
    plan = resp.get_json()
    assert plan["dataset"] == {"id": ds["id"], "sha256": ds["sha256"]}
    assert plan["data_sha256"]["dataset"] == ds["sha256"]
    legs = [leg for s in plan["shipments"] for leg in s["legs"]]
    assert legs and all(leg["mode"] != "air" for leg in legs)

    # the reports print the dataset
    csv_text = client.get(plan["links"]["report_csv"], headers=headers).get_data(as_text=True)
    table = list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert {r["dataset_id"] for r in table} == {ds["id"]}
    assert {r["dataset_sha256"] for r in table} == {ds["sha256"]}
    geo = client.get(plan["links"]["report_geojson"], headers=headers).get_json()
    assert geo["properties"]["dataset"] == {"id": ds["id"], "sha256": ds["sha256"]}

    # another organisation's planner cannot read the plan
    assert client.get(plan["links"]["self"], headers=bearer(orgs["globex"])).status_code == 404


def test_activation_makes_plans_use_the_dataset(client, orgs, no_air):
    ds = no_air
    headers = bearer(orgs["acme"])
    # integration tokens may upload and read, not activate
    assert (
        client.post(
            f"/api/v1/datasets/{ds['id']}/activate", headers=bearer(orgs["acme_int"])
        ).status_code
        == 403
    )
    listing = client.post(f"/api/v1/datasets/{ds['id']}/activate", headers=headers).get_json()
    assert listing["in_force"] == ds["id"]
    assert [d["in_force"] for d in listing["items"]] == [True]
    # compared with itself once in force: nothing changes
    detail = client.get(f"/api/v1/datasets/{ds['id']}", headers=headers).get_json()
    assert detail["changes_vs_in_force"]["base"]["id"] == ds["id"]
    assert detail["changes_vs_in_force"]["tables"] == {}
    plan = client.post(
        "/api/v1/plans", json={"shipments": [shipment()]}, headers=headers
    ).get_json()
    assert plan["dataset"]["id"] == ds["id"]
    # globex still plans on the shipped data
    other = client.post(
        "/api/v1/plans", json={"shipments": [shipment()]}, headers=bearer(orgs["globex"])
    ).get_json()
    assert other["dataset"]["id"] == "default"
    # GET /network answers the network in force: no air lane on it
    net = client.get("/api/v1/network", headers=headers).get_json()
    assert net["properties"]["dataset_id"] == ds["id"]
    lanes = [f for f in net["features"] if f["geometry"]["type"] != "Point"]
    assert lanes and all(f["properties"].get("mode") != "air" for f in lanes)
    shipped_net = client.get("/api/v1/network", headers=bearer(orgs["globex"])).get_json()
    assert shipped_net["properties"]["dataset_id"] == "default"
    assert any(f["properties"].get("mode") == "air" for f in shipped_net["features"])
    back = client.post("/api/v1/datasets/default/activate", headers=headers).get_json()
    assert back["in_force"] == "default"


def test_another_worker_rematerialises_from_the_database(tmp_path, app, client, orgs, no_air):
    """A second app on the same database with an empty cache folder rebuilds the dataset."""
    from greenlane.webapp.config import DEFAULTS

    assert DEFAULTS["DATASET_CACHE_DIR"] is None
    url = app.config["DATABASE_URL"]
    other = make_app(url, DATASET_CACHE_DIR=str(tmp_path / "fresh-cache"))
    try:
        got = other.test_client().get(
            f"/api/v1/datasets/{no_air['id']}", headers=bearer(orgs["acme"])
        )
        assert got.status_code == 200
        assert got.get_json()["changes_vs_in_force"]["tables"]["lanes"]["removed"] == 32
        assert Path(tmp_path / "fresh-cache").exists()
    finally:
        close_app(other)


def test_openapi_lists_the_dataset_endpoints(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    assert "/api/v1/datasets" in paths and "/api/v1/datasets/{dataset_id}" in paths
    assert "/api/v1/datasets/{dataset_id}/activate" in paths
    body = paths["/api/v1/datasets"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body
    opts = doc["components"]["schemas"]["PlanOptionsIn"]["properties"]
    assert "dataset_id" in opts


def test_migration_0009_puts_existing_tokens_and_plans_in_the_default_organisation(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from greenlane.webapp.auth import authenticate, hash_token
    from greenlane.webapp.db import MIGRATIONS, make_engine, utcnow

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into api_tokens (name, token_sha256, role, created_at) "
                "values ('old', :sha, 'planner', :now)"
            ),
            {"sha": hash_token("gl_old"), "now": utcnow()},
        )
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    who = authenticate(engine, "gl_old")
    assert who is not None and who.organisation == "default"
    engine.dispose()


def test_ui_upload_error_names_the_cell_and_another_org_gets_404(app, client, orgs, no_air):
    from test_ui import csrf, login

    from greenlane.webapp.tables import datasets

    login(client, orgs["globex"])
    assert client.get(f"/datasets/{no_air['id']}").status_code == 404
    bad = b"lane_id,origin\nX,Y\n"
    resp = client.post(
        "/datasets",
        data={"csrf_token": csrf(client, "/datasets"), "files": [(io.BytesIO(bad), "lanes.csv")]},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'class="flash error"' in page and "lanes.csv" in page
    assert rows(app, datasets) == 1  # only acme's no-air dataset
    # without the CSRF token the form is refused
    refused = client.post(
        "/datasets",
        data={"files": [(io.BytesIO(lanes_without_air()), "lanes.csv")]},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400


def company_json() -> bytes:
    """A JSON dataset merged over the shipped tables: a new factory F-DONGGUAN (F-SHENZHEN's
    row with another id, name and place), its road lane to CAN (ROAD-F-SHENZHEN-CAN's row from
    the new hub, distance left to the distance rules), and USD at 7.2 CNY instead of 7.1884."""
    import json

    hub = next(csv.DictReader(io.StringIO((DATA_DIR / "hubs.csv").read_text())))
    assert hub["hub_id"] == "F-SHENZHEN"
    hub |= {"hub_id": "F-DONGGUAN", "name": "Factory Dongguan", "lat": "23.0207", "lon": "113.7518"}
    lane = next(r for r in _lanes()[1] if r["lane_id"] == "ROAD-F-SHENZHEN-CAN")
    lane |= {"lane_id": "ROAD-DONGGUAN-CAN", "origin": "F-DONGGUAN", "distance_km": ""}
    fx = next(
        r
        for r in csv.DictReader(io.StringIO((DATA_DIR / "fx_rates.csv").read_text()))
        if r["currency"] == "USD"
    )
    fx["cny_per_unit"] = "7.2"
    doc = {
        "tables": {"hubs": [hub], "lanes": [lane], "fx_rates": [fx]},
        "mode": {"hubs": "merge", "lanes": "merge", "fx_rates": "merge"},
    }
    return json.dumps(doc).encode()


def test_json_dataset_adds_a_factory_that_plans_can_start_from(client, orgs):
    headers = bearer(orgs["acme"])
    resp = upload(client, headers, {"company.json": company_json()}, "Dongguan")
    assert resp.status_code == 201, resp.get_json()
    ds = resp.get_json()
    assert ds["upload_format"] == "json"
    assert ds["tables"]["hubs"] == {
        "mode": "merge",
        "rows": 1,  # rows given; merged over the 92 shipped hubs
        "added": 1,
        "removed": 0,
        "changed": 0,
    }
    changes = ds["changes_vs_in_force"]["tables"]
    assert changes["hubs"]["added_ids"] == ["F-DONGGUAN"]
    assert changes["lanes"]["added_ids"] == ["ROAD-DONGGUAN-CAN"]
    # another table: counts only (USD changed)
    assert changes["fx_rates"] == {"added": 0, "removed": 0, "changed": 1}

    book = [shipment("DG-1", "F-DONGGUAN", "C-MADRID", 5)]
    shipped = client.post("/api/v1/plans", json={"shipments": book}, headers=headers)
    assert shipped.status_code == 422
    assert shipped.get_json()["field"] == "shipments[0].origin"
    plan = client.post(
        "/api/v1/plans",
        json={"shipments": book, "options": {"dataset_id": ds["id"]}},
        headers=headers,
    )
    assert plan.status_code == 201, plan.get_json()
    legs = plan.get_json()["shipments"][0]["legs"]
    assert legs[0]["origin"] == "F-DONGGUAN" and legs[0]["mode"] == "road"
    assert legs[0]["lane_id"] == "ROAD-DONGGUAN-CAN"
    # the plan page names the new factory from the dataset's hubs
    from test_ui import login

    login(client, orgs["acme"])
    page = client.get(f"/plans/{plan.get_json()['id']}").get_data(as_text=True)
    assert "Factory Dongguan" in page


def test_pdf_and_xlsx_name_the_dataset(client, orgs, no_air):
    from openpyxl import load_workbook
    from pypdf import PdfReader
    from test_ui import login

    headers = bearer(orgs["acme"])
    book = [shipment("S1", "F-NANJING", "C-MADRID", 3)]
    plan = client.post(
        "/api/v1/plans",
        json={"shipments": book, "options": {"dataset_id": no_air["id"]}},
        headers=headers,
    ).get_json()
    pdf = client.get(plan["links"]["report_pdf"], headers=headers)
    assert pdf.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert f"dataset {no_air['id']}" in text
    assert no_air["sha256"][:40] in text.replace("\n", "")
    login(client, orgs["acme"])
    xlsx = client.get(f"/plans/{plan['id']}/shipments.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data))["Provenance"]
    about = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert about["dataset_id"] == no_air["id"]
    assert about["dataset_sha256"] == no_air["sha256"]
    assert about["plan_id"] == plan["id"]


def test_the_same_tables_as_a_workbook_are_the_same_dataset(client, orgs, no_air):
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    sheet.title = "lanes"
    for cells in csv.reader(io.StringIO(lanes_without_air().decode())):
        sheet.append(cells)  # text cells, as in the CSV file
    buf = io.BytesIO()
    wb.save(buf)
    resp = upload(client, bearer(orgs["acme"]), {"no_air.xlsx": buf.getvalue()})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["id"] == no_air["id"]
    assert resp.get_json()["sha256"] == no_air["sha256"]


def test_a_job_plans_on_the_dataset_and_only_its_organisation_sees_it(client, orgs, no_air):
    from webapp_helpers import wait_job

    headers = bearer(orgs["acme"])
    book = [shipment("S1", "F-SHENZHEN", "C-FRANKFURT", 2, due_at="2026-12-12T00:00:00Z")]
    resp = client.post(
        "/api/v1/plans",
        json={
            "shipments": book,
            "async": True,
            "options": {"dataset_id": no_air["id"], "due_dates": "soft"},
        },
        headers=headers,
    )
    assert resp.status_code == 202, resp.get_json()
    url = resp.headers["Location"]
    assert client.get(url, headers=bearer(orgs["globex"])).status_code == 404
    job = wait_job(client, url, headers)
    assert job["status"] == "done", job
    plan = client.get(job["result_url"], headers=headers).get_json()
    assert plan["dataset"] == {"id": no_air["id"], "sha256": no_air["sha256"]}
    assert all(leg["mode"] != "air" for s in plan["shipments"] for leg in s["legs"])
