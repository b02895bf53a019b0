"""Stop-level routing through the API, the planner UI and the ``greenlane plan`` flag."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from click.testing import CliRunner
from test_ui import csrf, plan_data, run_plan
from webapp_helpers import shipment

from greenlane.webapp.cli import main

# Two shipments from one factory to two sites near Jebel Ali: one first-mile group at the
# Shenzhen terminal, one last-mile group at the Jebel Ali terminal.
BOOK = [shipment("A", "F-SHENZHEN", "C-DUBAI", 6), shipment("B", "F-SHENZHEN", "W-JAFZA", 8)]


def _check_allocation(doc: dict[str, Any]) -> None:
    """Every routed leg carries its route's allocated CO2e; each route's shares sum to it."""
    legs = {
        (s["shipment_id"], leg["origin"], leg["destination"]): leg
        for s in doc["shipments"]
        for leg in s["legs"]
    }
    for r in doc["stop_routes"]:
        assert sum(s["share"] for s in r["stops"]) == pytest.approx(1, abs=1e-6)
        assert sum(s["co2e_wtw_kg"] for s in r["stops"]) == pytest.approx(
            r["co2e_wtw_kg"], abs=1e-2
        )
        for s in r["stops"]:
            ends = (s["site"], r["depot"]) if r["leg"] == "first_mile" else (r["depot"], s["site"])
            leg = legs[(s["shipment_id"], *ends)]
            assert leg["co2e_wtw_kg"] == pytest.approx(s["co2e_wtw_kg"], abs=1e-3)
            assert leg["vehicle_id"] == r["vehicle_type"]


def test_api_round_trip_with_stop_level_routing(client, auth):
    resp = client.post(
        "/api/v1/plans",
        headers=auth("integration"),
        json={"shipments": BOOK, "options": {"stop_level_routing": True, "time_limit_s": 3}},
    )
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    assert doc["options"]["stop_level_routing"] is True
    assert doc["stop_routes"] and doc["stop_dropped"] == []
    routed = {s["shipment_id"] for r in doc["stop_routes"] for s in r["stops"]}
    assert routed == {"A", "B"}
    assert {r["leg"] for r in doc["stop_routes"]} == {"first_mile", "last_mile"}
    _check_allocation(doc)
    total = sum(s["co2e_wtw_kg"] for s in doc["shipments"])
    assert doc["summary"]["co2e_wtw_kg"] == pytest.approx(total, abs=1e-2)
    again = client.get(f"/api/v1/plans/{doc['id']}", headers=auth()).get_json()
    assert again["stop_routes"] == doc["stop_routes"]
    # the partner/ERP report is built from the same (allocated) footprints
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"/api/v1/plans/{doc['id']}/report.csv", headers=auth())
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    legs = [r for r in rows if r["kind"] == "leg"]
    assert sum(float(r["co2e_wtw_kg"]) for r in rows) == pytest.approx(total, abs=0.05)
    first = next(r for r in legs if r["shipment_id"] == "A")
    assert first["toc_id"] == doc["stop_routes"][0]["vehicle_type"]
    geo = client.get(f"/api/v1/plans/{doc['id']}/report.geojson", headers=auth()).get_json()
    geo_legs = [f for f in geo["features"] if f["properties"].get("kind") == "leg"]
    assert sum(f["properties"]["co2e_wtw_kg"] for f in geo["features"]) == pytest.approx(
        total, abs=0.05
    )
    assert len(geo_legs) == sum(len(s["legs"]) for s in doc["shipments"])
    for fmt in ("ileap.json", "pdf"):
        resp = client.get(f"/api/v1/plans/{doc['id']}/report.{fmt}", headers=auth())
        assert resp.status_code == 200, fmt
    plain = client.post(
        "/api/v1/plans",
        headers=auth("integration"),
        json={"shipments": BOOK, "options": {"time_limit_s": 3}},
    ).get_json()
    assert plain["stop_routes"] == [] and plain["options"]["stop_level_routing"] is False
    bad = client.post(
        "/api/v1/plans",
        headers=auth("integration"),
        json={"shipments": BOOK, "options": {"stop_level_routing": "maybe"}},
    )
    assert bad.status_code == 422


def test_ui_checkbox_lists_and_draws_the_stop_routes(client, tokens):
    from test_ui import login

    login(client, tokens["planner"])
    assert 'name="stop_level_routing"' in client.get("/").get_data(as_text=True)
    form = {
        "shipment_id": ["A", "B"],
        "origin": ["F-SHENZHEN", "F-SHENZHEN"],
        "destination": ["C-DUBAI", "W-JAFZA"],
        "mass_t": ["6", "8"],
        "ready_at": ["2026-12-01", "2026-12-01"],
        "due_at": ["2027-01-20", "2027-01-20"],
        "objective": "cheapest",
        "stop_level_routing": "1",
    }
    url = run_plan(client, form)
    page = client.get(url).get_data(as_text=True)
    assert 'id="stop-routes"' in page and "SR-1" in page
    routes = plan_data(page)["stop_routes"]
    assert routes and all(len(r["geometry"]) >= 3 for r in routes)
    assert "greenlane.stopRoutes(" in page
    assert csrf(client, url)


def test_cli_flag_prints_and_writes_the_stop_routes(tmp_path):
    book = tmp_path / "book.json"
    book.write_text(json.dumps({"shipments": BOOK}))
    target = tmp_path / "plan.json"
    out = CliRunner().invoke(
        main,
        ["plan", str(book), "--time-limit", "3", "--stop-level-routing", "--output", str(target)],
    )
    assert out.exit_code == 0, out.output
    assert "stop-level routing:" in out.output and "SR-1" in out.output
    doc = json.loads(target.read_text())
    assert doc["options"]["stop_level_routing"] is True and doc["stop_routes"]
    _check_allocation(doc)
    plain = CliRunner().invoke(main, ["plan", str(book), "--time-limit", "3"])
    assert plain.exit_code == 0 and "stop-level routing" not in plain.output


def test_disruption_replan_keeps_the_routes_of_unaffected_shipments(client, auth):
    from test_disruptions_api import RED_SEA, _sea_book

    resp = client.post(
        "/api/v1/plans",
        headers=auth("integration"),
        json={"shipments": _sea_book(), "options": {"time_limit_s": 3, "stop_level_routing": True}},
    )
    assert resp.status_code == 201, resp.get_json()
    before = resp.get_json()
    asia = [r for r in before["stop_routes"] if r["stops"][0]["shipment_id"] == "ASIA"]
    assert {r["leg"] for r in asia} == {"first_mile", "last_mile"}
    doc = client.post(
        f"/api/v1/plans/{before['id']}/disruptions",
        json={"disruptions": RED_SEA},
        headers=auth("planner"),
    ).get_json()
    assert doc["summary"]["shipments_hit"] == 1
    replan = client.get(doc["links"]["replan"], headers=auth("planner")).get_json()
    assert replan["stop_routes"] == asia  # SEA has no road end legs; ASIA keeps its routes
    _check_allocation(replan)
