"""``POST /api/v1/plans/{id}/disruptions`` and the UI's disruption form and impact page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_api import assert_problem
from test_ui import csrf, login
from webapp_helpers import shipment

WINDOW = {"start": "2026-11-01T00:00:00Z", "end": "2027-06-01T00:00:00Z"}
RED_SEA = [
    {"disruption_id": "RS-SUEZ", "kind": "passage", "ref": "suez", **WINDOW},
    {"disruption_id": "RS-BAM", "kind": "passage", "ref": "babalmandab", **WINDOW},
]


def _sea_book() -> list[dict[str, Any]]:
    return [
        shipment(
            "SEA", "CNSHA", "ESVLC", 10, due_at="2027-02-19T00:00:00Z", allowed_modes=["sea"]
        ),  # due 80 days after ready
        shipment("ASIA", "F-SHENZHEN", "C-SINGAPORE", 5, due_at="2026-12-31T00:00:00Z"),
    ]


@pytest.fixture
def sea_plan(client: Any, auth: Any) -> dict[str, Any]:
    """A stored plan with a Shanghai -> Valencia sea shipment."""
    resp = client.post(
        "/api/v1/plans",
        headers=auth("integration"),
        json={"shipments": _sea_book(), "name": "red sea", "options": {"time_limit_s": 5}},
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _sea_km(plan: dict[str, Any], sid: str) -> float:
    ship = next(s for s in plan["shipments"] if s["shipment_id"] == sid)
    return sum(leg["distance_km"] for leg in ship["legs"] if leg["mode"] == "sea")


def test_red_sea_closure_reroutes_shanghai_valencia(
    client: Any, auth: Any, sea_plan: dict[str, Any]
) -> None:
    resp = client.post(
        f"/api/v1/plans/{sea_plan['id']}/disruptions",
        json={"disruptions": RED_SEA},
        headers=auth("planner"),
    )
    assert resp.status_code == 200, resp.get_json()
    doc = resp.get_json()
    assert doc["summary"]["shipments_hit"] == 1
    assert doc["summary"]["shipments_unaffected"] == 1
    (hit,) = doc["shipments"]
    assert hit["shipment_id"] == "SEA" and set(hit["hit_by"]) <= {"RS-SUEZ", "RS-BAM"}
    assert hit["delta_co2e_wtw_kg"] > 0 and hit["path_after"]
    assert doc["summary"]["delta_co2e_wtw_kg"] > 0
    assert doc["original_plan_id"] == sea_plan["id"]
    assert doc["links"]["replan"] == f"/api/v1/plans/{doc['replan_plan_id']}"

    replan = client.get(doc["links"]["replan"], headers=auth("planner")).get_json()
    assert _sea_km(replan, "SEA") > _sea_km(sea_plan, "SEA") + 5000
    assert replan["summary"]["co2e_wtw_kg"] > sea_plan["summary"]["co2e_wtw_kg"]
    kept = {s["shipment_id"]: s for s in replan["shipments"]}
    before = {s["shipment_id"]: s for s in sea_plan["shipments"]}
    assert kept["ASIA"]["legs"] == before["ASIA"]["legs"]  # unaffected keeps its legs


def test_unknown_plan_is_404(client: Any, auth: Any) -> None:
    resp = client.post(
        "/api/v1/plans/pl_0000000000000000/disruptions",
        json={"disruptions": RED_SEA},
        headers=auth("planner"),
    )
    assert_problem(resp, 404)


def test_bad_disruption_is_422_naming_the_field(
    client: Any, auth: Any, planned: dict[str, Any]
) -> None:
    bad = {**RED_SEA[0], "ref": "kiel"}
    resp = client.post(
        f"/api/v1/plans/{planned['id']}/disruptions",
        json={"disruptions": [RED_SEA[1], bad]},
        headers=auth("planner"),
    )
    doc = assert_problem(resp, 422)
    assert doc["field"].startswith("disruptions[1]"), doc
    hub = {**RED_SEA[0], "kind": "hub", "ref": "NOWHERE"}
    resp = client.post(
        f"/api/v1/plans/{planned['id']}/disruptions",
        json={"disruptions": [hub]},
        headers=auth("planner"),
    )
    assert_problem(resp, 422, field="disruptions[0].ref")


def test_partner_may_not_disrupt(client: Any, auth: Any, planned: dict[str, Any]) -> None:
    resp = client.post(
        f"/api/v1/plans/{planned['id']}/disruptions",
        json={"disruptions": RED_SEA},
        headers=auth("partner_a"),
    )
    assert_problem(resp, 403)


def test_ui_form_and_impact_page(
    client: Any, tokens: dict[str, str], sea_plan: dict[str, Any]
) -> None:
    login(client, tokens["planner"])
    page_url = f"/plans/{sea_plan['id']}"
    page = client.get(page_url).get_data(as_text=True)
    assert 'id="disruption-form"' in page and "Disruption" in page
    form = {
        "csrf_token": csrf(client, page_url),
        "kind": "passage",
        "ref": "suez",
        "start": "2026-11-01T00:00",
        "end": "2027-06-01T00:00",
    }
    assert (
        client.post(f"{page_url}/disruptions", data={**form, "csrf_token": ""}).status_code == 400
    )  # CSRF
    resp = client.post(f"{page_url}/disruptions", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert re.search(r"/plans/pl_[0-9a-f]+/impact$", resp.headers["Location"])
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'id="impact-table"' in html and 'data-shipment="SEA"' in html
    assert "Intensity before → after" in html and 'id="map"' in html
    bad = client.post(
        f"{page_url}/disruptions", data={**form, "ref": "kiel"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "disruptions[0]" in bad and "kiel" in bad
