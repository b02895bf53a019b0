"""Re-planning only what a disruption hits: the Red Sea, a border crossing, an airport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from greenlane.routing import PlanOptions, SolverParams, load_network, plan
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.scenarios.disruptions import parse_disruptions
from greenlane.routing.scenarios.replan import impact, impact_to_dict

READY = datetime(2026, 12, 1, tzinfo=UTC)
FAST = SolverParams(time_limit_s=20, seed=0, workers=1)
WINDOW = {"start": "2026-11-01T00:00:00Z", "end": "2027-06-01T00:00:00Z"}


@pytest.fixture(scope="module")
def network():
    """The shipped network."""
    return load_network()


def _d(did, kind, ref):
    return {"disruption_id": did, "kind": kind, "ref": ref, **WINDOW}


def test_red_sea_closure_replans_shanghai_valencia_round_the_cape(network):
    book = [
        Shipment(
            "SEA",
            "CNSHA",
            "ESVLC",
            10,
            READY,
            READY + timedelta(days=80),
            allowed_modes=frozenset({"sea"}),
        ),
        Shipment("ASIA", "F-SHENZHEN", "C-SINGAPORE", 5, READY, READY + timedelta(days=30)),
    ]
    before = plan(book, network, PlanOptions(solver=FAST))
    sea = next(s for s in before.shipments if s.shipment_id == "SEA")
    assert any("suez" in network.lane(leg.lane_id).passages for leg in sea.legs)
    ds = parse_disruptions(
        [_d("RS-SUEZ", "passage", "suez"), _d("RS-BAM", "passage", "babalmandab")], network
    )
    result = impact(before, book, network, ds, PlanOptions(solver=FAST))
    assert [h.shipment_id for h in result.hits] == ["SEA"]
    assert [s.shipment_id for s in result.unaffected] == ["ASIA"]
    (hit,) = result.hits
    sea_after = next(leg for leg in hit.after.legs if leg.mode == "sea")
    sea_before = next(leg for leg in hit.before.legs if leg.mode == "sea")
    assert sea_after.tce.distance_km > sea_before.tce.distance_km + 5000
    assert min(lat for _, lat in sea_after.tce.geometry) < -33  # south of Africa
    assert hit.delta_co2e_wtw_kg > 0 and hit.delta_arrival_h > 5 * 24
    doc = impact_to_dict(result)
    assert doc["summary"]["shipments_hit"] == 1
    assert doc["summary"]["delta_co2e_wtw_kg"] == pytest.approx(hit.delta_co2e_wtw_kg, abs=1e-3)


def test_closed_border_crossing_shifts_rail(network):
    book = [
        Shipment(
            "RAIL",
            "F-XIAN",
            "C-WARSAW",
            8,
            READY,
            READY + timedelta(days=30),
            allowed_modes=frozenset({"rail"}),
        )
    ]
    before = plan(book, network, PlanOptions(solver=FAST))
    used = {h for leg in before.shipments[0].legs for h in (leg.origin, leg.destination)}
    crossing = next(h for h in used if h.startswith("X-") and h != "X-MALASZEWICZE")
    ds = parse_disruptions([_d("BORDER", "hub", crossing)], network)
    result = impact(before, book, network, ds, PlanOptions(solver=FAST))
    (hit,) = result.hits
    assert hit.after is not None
    after_hubs = {h for leg in hit.after.legs for h in (leg.origin, leg.destination)}
    assert crossing not in after_hubs


def test_airport_closure_reroutes_the_urgent_shipment(network):
    book = [Shipment("URGENT", "F-NANJING", "C-MADRID", 2, READY, READY + timedelta(days=6))]
    before = plan(book, network, PlanOptions(solver=FAST))
    airports = [leg.origin for leg in before.shipments[0].legs if leg.mode == "air"]
    ds = parse_disruptions([_d("AIRPORT", "hub", airports[0])], network)
    hard = impact(before, book, network, ds, PlanOptions(solver=FAST))
    (hit,) = hard.hits
    assert hit.after is None and hit.due_date_risk == "unserved"
    assert "due date" in " ".join(hit.reasons)  # no other airport makes 6 days
    urgent = PlanOptions(solver=FAST, due_dates="soft", late_penalty_cny_per_t_day=20_000)
    soft = impact(before, book, network, ds, urgent)
    (late,) = soft.hits
    assert late.after is not None and late.due_date_risk == "late"
    assert airports[0] not in {leg.origin for leg in late.after.legs}
    assert any(leg.mode == "air" for leg in late.after.legs)
