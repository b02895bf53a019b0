"""Plan API options for regulatory costs and rate cards: echoed, applied, bad values 422."""

from __future__ import annotations

import pytest
from webapp_helpers import book


def _plan(client, auth, options):
    return client.post(
        "/api/v1/plans",
        json={"shipments": book(2), "options": options},
        headers=auth("integration"),
    )


def test_rate_cards_and_regulation_in_the_plan(client, auth):
    resp = _plan(client, auth, {"price_basis": "rate_card", "eua_eur_per_t": 120})
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    bases = {leg["price_basis"] for s in doc["shipments"] for leg in s["legs"]}
    assert "operating_cost" in bases  # road legs: own fleet
    assert any(b.startswith("rate_card:") for b in bases)
    for s in doc["shipments"]:
        for leg in s["legs"]:
            assert sum(leg["cost_breakdown"].values()) == pytest.approx(leg["cost_cny"], abs=0.05)


def test_regulatory_costs_can_be_left_out(client, auth):
    resp = _plan(client, auth, {"regulatory_costs": False, "travel_year": 2030})
    assert resp.status_code == 201, resp.get_json()
    summary = resp.get_json()["summary"]
    assert summary["regulatory_cost_cny"] == 0
    assert summary["cost_breakdown"]["toll"] == 0


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"eua_eur_per_t": -5}, "eua_eur_per_t"),
        ({"travel_year": 1990}, "travel_year"),
        ({"price_basis": "guess"}, "price_basis"),
    ],
)
def test_bad_regulatory_options_are_422(client, auth, options, field):
    resp = _plan(client, auth, options)
    assert resp.status_code == 422
    assert field in str(resp.get_json())
