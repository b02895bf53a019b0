"""Report downloads (CSV, GeoJSON, PDF, iLEAP) and partner scoping through shares."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from webapp_helpers import book

FORMATS = ("csv", "geojson", "pdf", "ileap.json")


def report(client: Any, headers: dict, plan_id: str, fmt: str, shipment: str | None = None) -> Any:
    base = f"/api/v1/plans/{plan_id}"
    if shipment:
        base += f"/shipments/{shipment}"
    return client.get(f"{base}/report.{fmt}", headers=headers)


def csv_rows(resp: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(resp.get_data().decode("utf-8-sig"))))


@pytest.fixture
def two_plans(client, auth) -> dict[str, Any]:
    """Plan 1 (S1, S2): S1 shared with carrier-a. Plan 2 (S1): shared whole with carrier-b."""
    p1 = client.post("/api/v1/plans", json={"shipments": book(2)}, headers=auth()).get_json()
    p2 = client.post("/api/v1/plans", json={"shipments": book(1)}, headers=auth()).get_json()
    r = client.post(
        f"/api/v1/plans/{p1['id']}/shares",
        json={"partner_id": "carrier-a", "shipment_ids": ["S1"]},
        headers=auth(),
    )
    assert r.status_code == 201, r.get_json()
    r = client.post(
        f"/api/v1/plans/{p2['id']}/shares",
        json={"partner_id": "carrier-b"},
        headers=auth(),
    )
    assert r.status_code == 201
    assert r.get_json()["shares"][0]["shipment_id"] is None
    return {"p1": p1, "p2": p2}


@pytest.mark.parametrize("fmt", FORMATS)
def test_planner_downloads_every_format(client, auth, planned, fmt):
    resp = report(client, auth(), planned["id"], fmt)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Disposition"].startswith("attachment; filename=")
    assert len(resp.get_data()) > 100


def test_csv_has_one_row_per_tce_matching_the_plan(client, auth, planned):
    rows = csv_rows(report(client, auth(), planned["id"], "csv"))
    assert {r["shipment_id"] for r in rows} == {"S1", "S2"}
    for ship in planned["shipments"]:
        mine = [r for r in rows if r["shipment_id"] == ship["shipment_id"]]
        assert len(mine) == len(ship["footprint"]["legs"])
        total = sum(float(r["co2e_wtw_kg"]) for r in mine)
        assert total == pytest.approx(ship["co2e_wtw_kg"], abs=0.01)


def test_geojson_draws_legs_along_their_geometry(client, auth, planned):
    resp = report(client, auth(), planned["id"], "geojson")
    assert resp.mimetype == "application/geo+json"
    doc = resp.get_json()
    lines = [f for f in doc["features"] if f["geometry"]["type"].endswith("LineString")]
    assert lines and all(f["properties"]["stroke"] for f in lines)
    assert any(len(f["geometry"]["coordinates"]) > 2 for f in lines)  # sea legs follow lanes
    assert doc["properties"]["plan_id"] == planned["id"]


def test_pdf_report_is_a_pdf(client, auth, planned):
    resp = report(client, auth(), planned["id"], "pdf")
    assert resp.mimetype == "application/pdf"
    assert resp.get_data().startswith(b"%PDF")


def test_ileap_exports_validate(client, auth, planned, ileap_schema):
    one = report(client, auth(), planned["id"], "ileap.json", "S1").get_json()
    ileap_schema("shipment-footprint.json").validate(one)
    assert one["shipmentId"] == "S1"
    plan_doc = report(client, auth(), planned["id"], "ileap.json").get_json()
    assert len(plan_doc["data"]) == 2
    pcf = ileap_schema("pcf-shipment-footprint.json")
    for pf in plan_doc["data"]:
        pcf.validate(pf)


def test_reports_are_reproducible(client, auth, planned):
    for fmt in ("csv", "geojson", "ileap.json"):
        a = report(client, auth(), planned["id"], fmt).get_data()
        b = report(client, auth(), planned["id"], fmt).get_data()
        assert a == b, fmt


def test_shipment_report_of_unknown_shipment_is_404(client, auth, planned):
    assert report(client, auth(), planned["id"], "csv", "NOPE").status_code == 404


def test_unknown_format_is_rejected(client, auth, planned):
    resp = client.get(f"/api/v1/plans/{planned['id']}/report.xml", headers=auth())
    assert resp.status_code in (404, 422)
    assert resp.mimetype == "application/problem+json"


# ----------------------------------------------------------------------------- partner scoping


def test_partner_a_gets_404_on_partner_b_report(client, auth, two_plans):
    p2 = two_plans["p2"]["id"]
    for fmt in FORMATS:
        assert report(client, auth("partner_b"), p2, fmt).status_code == 200
        resp = report(client, auth("partner_a"), p2, fmt)
        assert resp.status_code == 404, fmt
        assert resp.mimetype == "application/problem+json"
        assert report(client, auth("partner_a"), p2, fmt, "S1").status_code == 404


def test_partner_sees_only_the_shared_shipment(client, auth, two_plans):
    p1 = two_plans["p1"]["id"]
    assert report(client, auth("partner_a"), p1, "csv", "S1").status_code == 200
    assert report(client, auth("partner_a"), p1, "csv", "S2").status_code == 404
    rows = csv_rows(report(client, auth("partner_a"), p1, "csv"))
    assert {r["shipment_id"] for r in rows} == {"S1"}
    doc = report(client, auth("partner_a"), p1, "ileap.json").get_json()
    assert [pf["extensions"][0]["data"]["shipmentId"] for pf in doc["data"]] == ["S1"]
    assert report(client, auth("partner_b"), p1, "csv").status_code == 404


def test_partner_may_not_read_plans_or_share(client, auth, two_plans):
    p1 = two_plans["p1"]["id"]
    assert client.get(f"/api/v1/plans/{p1}", headers=auth("partner_a")).status_code == 403
    resp = client.post(
        f"/api/v1/plans/{p1}/shares", json={"partner_id": "carrier-a"}, headers=auth("partner_a")
    )
    assert resp.status_code == 403


def test_partner_lists_what_is_shared(client, auth, two_plans):
    items = client.get("/api/v1/shared", headers=auth("partner_a")).get_json()["items"]
    assert [(i["plan_id"], i["shipment_id"]) for i in items] == [(two_plans["p1"]["id"], "S1")]
    link = items[0]["reports"]["csv"]
    assert client.get(link, headers=auth("partner_a")).status_code == 200
    assert client.get("/api/v1/shared", headers=auth("planner")).status_code == 403


def test_sharing_is_idempotent_and_listed(client, auth, two_plans):
    p1 = two_plans["p1"]["id"]
    body = {"partner_id": "carrier-a", "shipment_ids": ["S1"]}
    client.post(f"/api/v1/plans/{p1}/shares", json=body, headers=auth())
    shares = client.get(f"/api/v1/plans/{p1}/shares", headers=auth()).get_json()["shares"]
    assert [(s["partner_id"], s["shipment_id"]) for s in shares] == [("carrier-a", "S1")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"partner_id": "carrier-a", "shipment_ids": ["NOPE"]}, "shipment_ids[0]"),
        ({"partner_id": "bad id with spaces"}, "partner_id"),
        ({"partner_id": "carrier-a", "shipment_ids": []}, "shipment_ids"),
        ({}, "partner_id"),
    ],
)
def test_bad_share_is_422(client, auth, planned, body, field):
    resp = client.post(f"/api/v1/plans/{planned['id']}/shares", json=body, headers=auth())
    assert resp.status_code == 422
    assert resp.get_json()["field"] == field


def test_share_of_unknown_plan_is_404(client, auth):
    resp = client.post("/api/v1/plans/pl_nope/shares", json={"partner_id": "x"}, headers=auth())
    assert resp.status_code == 404


def test_csv_carries_each_legs_cost_by_component(client, auth, planned):
    rows = csv_rows(report(client, auth(), planned["id"], "csv"))
    for ship in planned["shipments"]:
        legs = [r for r in rows if r["shipment_id"] == ship["shipment_id"] and r["kind"] == "leg"]
        assert len(legs) == len(ship["legs"])
        for row, leg in zip(legs, ship["legs"], strict=True):
            assert row["price_basis"] == leg["price_basis"] == "operating_cost"
            assert float(row["cost_cny"]) == pytest.approx(leg["cost_cny"])
            parts = [float(row[f"cost_{k}_cny"]) for k in leg["cost_breakdown"]]
            assert sum(parts) == pytest.approx(leg["cost_cny"], abs=0.05)
        hubs = [r for r in rows if r["shipment_id"] == ship["shipment_id"] and r["kind"] == "hub"]
        assert all(r["cost_cny"] == "" for r in hubs)
