"""POST /api/v1/quotes: one shipment priced four ways (cheapest, greenest, fastest, carbon)."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from webapp_helpers import shipment

from greenlane.emissions.units import KG_PER_T, S_PER_H

CHOICES = ("cheapest", "greenest", "fastest", "carbon_price")


def _quote(client: Any, auth: Any, role: str = "integration", **body: Any) -> Any:
    return client.post("/api/v1/quotes", json=body, headers=auth(role))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_four_choices_are_each_best_by_their_measure(client, auth):
    price = 500.0
    resp = _quote(client, auth, shipment=shipment(), carbon_price_cny_per_t=price)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["origin"], body["destination"], body["mass_t"]) == ("F-NANJING", "C-MADRID", 10)
    assert body["candidates"] >= body["on_time_candidates"] >= 4
    q = body["quotes"]
    assert set(q) == set(CHOICES)
    for name in CHOICES:
        assert q["cheapest"]["cost_cny"] <= q[name]["cost_cny"]
        assert q["greenest"]["co2e_wtw_kg"] <= q[name]["co2e_wtw_kg"]
        assert q["fastest"]["transit_h"] <= q[name]["transit_h"]
        carbon = q["carbon_price"]["cost_cny"] + price / KG_PER_T * q["carbon_price"]["co2e_wtw_kg"]
        assert carbon <= q[name]["cost_cny"] + price / KG_PER_T * q[name]["co2e_wtw_kg"] + 1e-6
    # the picks really differ on this lane: air is fastest, sea greenest
    assert "air" in q["fastest"]["path"] and "air" not in q["greenest"]["path"]
    assert q["fastest"]["transit_h"] < q["cheapest"]["transit_h"]
    for name, option in q.items():
        legs = option["legs"]
        assert legs[0]["lane_id"] and option["path"] == " > ".join(leg["mode"] for leg in legs)
        assert option["hubs"][0] == "F-NANJING" and option["hubs"][-1] == "C-MADRID"
        assert 0 < option["co2e_ttw_kg"] <= option["co2e_wtw_kg"], name
        assert option["co2e_wtt_kg"] == pytest.approx(
            option["co2e_wtw_kg"] - option["co2e_ttw_kg"], abs=0.002
        )
        hours = (_time(option["arrival_at"]) - _time(body["ready_at"])).total_seconds() / S_PER_H
        assert option["transit_h"] == pytest.approx(hours, abs=0.001)
        assert option["arrival_at"] == legs[-1]["arrival_at"]
        for a, b in pairwise(legs):  # legs run one after the other
            assert _time(a["arrival_at"]) <= _time(b["departure_at"])
        assert option["on_time"] is True and 0.5 < option["on_time_probability"] <= 1


def test_without_a_carbon_price_the_carbon_choice_is_the_cheapest(client, auth):
    body = _quote(client, auth, shipment=shipment()).get_json()
    assert body["quotes"]["carbon_price"] == body["quotes"]["cheapest"]


def test_allowed_modes_and_a_tight_due_date(client, auth):
    rail = _quote(client, auth, shipment=shipment(allowed_modes=["rail"])).get_json()
    for option in rail["quotes"].values():  # road is always allowed for the first/last mile
        assert {leg["mode"] for leg in option["legs"]} == {"road", "rail"}
    tight = shipment(due_at="2026-12-03T00:00:00Z")  # 48 h from Nanjing to Madrid
    late = _quote(client, auth, shipment=tight).get_json()
    assert late["on_time_candidates"] == 0
    for option in late["quotes"].values():
        assert option["on_time"] is False and option["on_time_probability"] < 0.5


@pytest.mark.parametrize(
    ("ship", "status", "field"),
    [
        (shipment(origin="XX-NOWHERE"), 422, "shipment.origin"),
        (shipment(destination="YY-NOWHERE"), 422, "shipment.destination"),
        (shipment(max_co2e_kg=0.001), 422, "shipment"),
        (shipment(allowed_modes=["road"]), 422, "shipment"),  # no road-only way to Madrid
        (shipment(mass_t=-1), 422, "shipment.mass_t"),
    ],
)
def test_bad_quotes_name_the_field(client, auth, ship, status, field):
    resp = _quote(client, auth, shipment=ship)
    assert resp.status_code == status and resp.mimetype == "application/problem+json"
    assert resp.get_json()["field"] == field


def test_quotes_need_a_planner_or_integration_token(client, auth):
    assert client.post("/api/v1/quotes", json={"shipment": shipment()}).status_code == 401
    partner = _quote(client, auth, "partner_a", shipment=shipment())
    assert partner.status_code == 403
    assert _quote(client, auth, "planner", shipment=shipment()).status_code == 200


def test_an_idempotency_key_is_ignored(client, auth):
    headers = auth("integration", **{"Idempotency-Key": "q-1"})
    first = client.post("/api/v1/quotes", json={"shipment": shipment(mass_t=5)}, headers=headers)
    other = client.post("/api/v1/quotes", json={"shipment": shipment(mass_t=9)}, headers=headers)
    assert first.status_code == other.status_code == 200
    assert (first.get_json()["mass_t"], other.get_json()["mass_t"]) == (5, 9)


def test_any_place_is_quoted_with_its_resolution(client, auth):
    """A city and a searoute port outside hubs.csv: the quote plans from a Berlin site."""
    body = _quote(
        client, auth, shipment=shipment(origin="Berlin", destination="C-MADRID")
    ).get_json()
    assert body["origin"] == "SITE-52.5244-13.4105", body
    assert body["origin_resolved"]["kind"] == "city"
    assert body["origin_resolved"]["name"] == "Berlin, DE"
    assert body["destination_resolved"]["kind"] == "hub"
    first = body["quotes"]["cheapest"]["legs"][0]
    assert first["mode"] == "road" and first["lane_id"].startswith("ROAD-SITE-52.5244-13.4105-")
    resp = _quote(client, auth, shipment=shipment(origin="0;0", destination="C-MADRID"))
    assert resp.status_code == 422
    assert "GHTKD" in resp.get_json()["detail"]
