"""Stop-level first/last-mile routing of a plan: a hand-checkable milk run, exact allocation,
dropped stops with their reason, and the plan JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import pairwise

import networkx as nx
import pytest
from routing_helpers import make_lane

from greenlane.emissions.distance import gcd_km
from greenlane.emissions.model import Mode
from greenlane.emissions.units import KG_PER_T
from greenlane.fleet import vehicle_type
from greenlane.routing import PlanOptions, SolverParams, plan, plan_to_dict
from greenlane.routing.network.graph import Network
from greenlane.routing.network.model import Hub, HubKind
from greenlane.routing.planner.shipments import Shipment

READY = datetime(2026, 12, 1, tzinfo=UTC)
DUE = datetime(2027, 1, 30, tzinfo=UTC)
FAST = SolverParams(time_limit_s=2, seed=0, workers=1)
ROAD_DAF = 1.2 * 1.05
"""GCD -> actual road distance of data/distance_rules.csv (detour 1.2, then SFD x 1.05)."""

# Port Q (Valencia area) and two customer sites ~28 km north, ~5 km apart.
Q = (39.40, -0.30)
C1 = (39.65, -0.30)
C2 = (39.65, -0.24)


@pytest.fixture(scope="module")
def milk_run() -> Network:
    """Port P (CN) -> weekly ship -> port Q (ES) -> diesel trucks to customer sites C1, C2."""
    hubs = {
        "P": Hub(
            "P",
            "Port P",
            HubKind.SEAPORT,
            31.2,
            121.5,
            "CN",
            "CN-East",
            (Mode.SEA, Mode.ROAD),
            "test",
        ),
        "Q": Hub("Q", "Port Q", HubKind.SEAPORT, *Q, "ES", "ES", (Mode.SEA, Mode.ROAD), "test"),
        "C1": Hub("C1", "Customer 1", HubKind.CUSTOMER_SITE, *C1, "ES", "ES", (Mode.ROAD,), "test"),
        "C2": Hub("C2", "Customer 2", HubKind.CUSTOMER_SITE, *C2, "ES", "ES", (Mode.ROAD,), "test"),
    }
    lanes = [make_lane("SEA-PQ", "P", "Q", Mode.SEA, "ship_container_24000teu", 16000, 1, 5000)]
    for c in ("C1", "C2"):
        sfd = gcd_km(*Q, hubs[c].lat, hubs[c].lon) * 1.2
        lanes.append(make_lane(f"ROAD-Q-{c}", "Q", c, Mode.ROAD, "truck_40t_diesel", sfd, 98, 25))
    g = nx.MultiDiGraph()
    for h in hubs.values():
        g.add_node(h.hub_id, hub=h)
    for lane in lanes:
        g.add_edge(lane.origin, lane.destination, key=lane.lane_id, lane=lane)
    return Network(hubs=hubs, lanes=tuple(lanes), graph=g, data_sha256="test")


def _book(*items: tuple[str, str, float]) -> list[Shipment]:
    return [Shipment(sid, "P", dest, mass, READY, DUE) for sid, dest, mass in items]


def _road_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return gcd_km(*a, *b) * ROAD_DAF


def test_two_deliveries_share_one_tour_and_split_it_by_tkm(milk_run):
    book = _book(("S1", "C1", 5.0), ("S2", "C2", 5.0))
    base = plan(book, milk_run, PlanOptions(solver=FAST))
    routed = plan(book, milk_run, PlanOptions(solver=FAST, stop_level_routing=True))
    assert not routed.stop_dropped
    (route,) = routed.stop_routes
    assert route.leg == "last_mile" and route.depot == "Q"
    assert set(route.shipment_ids) == {"S1", "S2"}
    assert route.vehicle_type == "truck_40t_diesel"

    # the tour Q -> first -> second -> Q, by hand, is shorter than two out-and-back legs
    d1, d2, d12 = _road_km(Q, C1), _road_km(Q, C2), _road_km(C1, C2)
    assert route.distance_km == pytest.approx(d1 + d12 + d2, rel=1e-9)
    assert route.distance_km < 2 * (d1 + d2)
    # energy by hand: E(L) = E0 + slope x L [MJ/km], 10 t out, 5 t between, empty back
    v = vehicle_type("truck_40t_diesel")
    first, last = (d1, d2) if route.shipment_ids[0] == "S1" else (d2, d1)
    e0, slope = v.empty_energy_mj_per_km, v.energy_slope_mj_per_tkm
    energy = (e0 + slope * 10) * first + (e0 + slope * 5) * d12 + e0 * last
    assert route.energy_mj == pytest.approx(energy, rel=1e-9)
    carrier = routed.shipments[0].legs[-1].tce
    assert carrier.energy_carrier == route.energy_carrier

    # allocation by mass x own distance; the shares sum to the route exactly
    legs = {s.shipment_id: s.legs[-1] for s in routed.shipments}
    share1 = 5 * d1 / (5 * d1 + 5 * d2)
    by_stop = {s.shipment_id: s for s in route.stops}
    assert by_stop["S1"].share == pytest.approx(share1, rel=1e-9)
    assert legs["S1"].tce.co2e_wtw_kg == pytest.approx(share1 * route.co2e_wtw_kg, rel=1e-9)
    assert sum(leg.tce.co2e_wtw_kg for leg in legs.values()) == pytest.approx(
        route.co2e_wtw_kg, rel=1e-12
    )
    assert sum(leg.tce.co2e_ttw_kg for leg in legs.values()) == pytest.approx(
        route.co2e_ttw_kg, rel=1e-12
    )
    assert sum(leg.tce.energy_mj for leg in legs.values()) == pytest.approx(
        route.energy_mj, rel=1e-12
    )
    assert sum(leg.cost_cny for leg in legs.values()) == pytest.approx(route.cost_cny, rel=1e-12)
    # d1 is driven (actual = GCD x 1.2 x 1.05); the activity is on the SFD, d1 / 1.05
    assert legs["S1"].tce.distance_actual_km == pytest.approx(d1, rel=1e-9)
    assert legs["S1"].tce.distance_km == pytest.approx(d1 / 1.05, rel=1e-9)
    assert legs["S1"].tce.activity_tkm == pytest.approx(5 * d1 / 1.05, rel=1e-9)
    assert legs["S1"].shared_with == 2

    # the plan's totals follow the allocated legs, and the milk run saves CO2e
    for s in routed.shipments:
        assert s.footprint.totals.co2e_wtw_kg == pytest.approx(
            sum(t.co2e_wtw_kg for t in s.footprint.tces), rel=1e-12
        )
    before = {s.shipment_id: s.legs[-1] for s in base.shipments}
    delta = sum(legs[k].tce.co2e_wtw_kg - before[k].tce.co2e_wtw_kg for k in legs)
    assert routed.co2e_wtw_kg == pytest.approx(base.co2e_wtw_kg + delta, rel=1e-9)
    assert routed.co2e_wtw_kg < base.co2e_wtw_kg
    assert routed.intensity_g_per_tkm < base.intensity_g_per_tkm
    delta_cost = sum(legs[k].cost_cny - before[k].cost_cny for k in legs)
    assert routed.cost_cny == pytest.approx(base.cost_cny + delta_cost, rel=1e-9)

    doc = json.loads(json.dumps(plan_to_dict(routed)))
    (out,) = doc["stop_routes"]
    assert out["depot"] == "Q" and out["vehicle_type"] == "truck_40t_diesel"
    assert [s["shipment_id"] for s in out["stops"]] == list(route.shipment_ids)
    assert out["co2e_wtw_kg"] == pytest.approx(route.co2e_wtw_kg, abs=1e-3)
    assert doc["options"]["stop_level_routing"] is True
    assert doc["summary"]["co2e_wtw_kg"] == pytest.approx(routed.co2e_wtw_kg, abs=1e-3)
    assert doc["solver"]["stop_routing"]["routes"] == 1
    assert plan_to_dict(base)["stop_routes"] == []


def test_a_stop_no_vehicle_can_take_is_dropped_with_its_reason(milk_run):
    # 30 t needs two 25 t trucks point to point; a stop cannot be split across vehicles
    book = _book(("BIG", "C1", 30.0), ("S2", "C2", 5.0))
    routed = plan(book, milk_run, PlanOptions(solver=FAST, stop_level_routing=True))
    (dropped,) = routed.stop_dropped
    assert dropped.shipment_id == "BIG" and dropped.leg == "last_mile" and dropped.depot == "Q"
    assert "capacity" in dropped.reason and f"{30 * KG_PER_T:g} kg" in dropped.reason
    big = next(s for s in routed.shipments if s.shipment_id == "BIG")
    assert big.legs[-1].vehicles == 2  # kept its point-to-point leg
    assert [r.shipment_ids for r in routed.stop_routes] == [("S2",)]  # a single stop is routed
    doc = plan_to_dict(routed)
    assert doc["stop_dropped"][0]["reason"] == dropped.reason


def test_target_mode_rechecks_the_cap_after_routing():
    """The cap binds the point-to-point plan; the routed plan is checked again and told."""
    from pathlib import Path

    from greenlane.routing import load_network, read_book

    book = read_book(Path(__file__).resolve().parents[2] / "data" / "examples" / "shipments.csv")
    opts = PlanOptions(
        target_year=2030, stop_level_routing=True, solver=SolverParams(time_limit_s=10)
    )
    p = plan(book, load_network(), opts)
    cap = p.facts["target_intensity_g_per_tkm"]
    met = p.facts["target_met_after_stop_routing"]
    assert met == (p.intensity_g_per_tkm <= cap * (1 + 1e-9))
    if not met:
        assert f"{p.intensity_g_per_tkm:.2f} g/tkm" in p.facts["message"]


# Port of Antwerp (BE) and two sites near Essen (DE), ~230 km by road: a rigid battery truck
# (336 kWh) cannot do the round trip of ~480 km and charges at the real NL-VENLO-MCS station
# of data/charging_stations.csv (51.397, 6.15; 400 kW), on the way.
ANR = (51.26, 4.40)
ESSEN1 = (51.45, 7.00)
ESSEN2 = (51.51, 7.10)
VENLO = (51.397, 6.15)


def test_battery_truck_charges_on_the_way_on_the_evrptw_engine():
    hubs = {
        "P": Hub("P", "Port P", HubKind.SEAPORT, 31.2, 121.5, "CN", "CN-East", (Mode.SEA,), "test"),
        "A": Hub("A", "Port A", HubKind.SEAPORT, *ANR, "BE", "BE", (Mode.SEA, Mode.ROAD), "t"),
        "E1": Hub("E1", "Site 1", HubKind.CUSTOMER_SITE, *ESSEN1, "DE", "DE", (Mode.ROAD,), "t"),
        "E2": Hub("E2", "Site 2", HubKind.CUSTOMER_SITE, *ESSEN2, "DE", "DE", (Mode.ROAD,), "t"),
    }
    lanes = [make_lane("SEA-PA", "P", "A", Mode.SEA, "ship_container_24000teu", 16000, 1, 5000)]
    for c in ("E1", "E2"):
        sfd = gcd_km(*ANR, hubs[c].lat, hubs[c].lon) * 1.2
        lanes.append(make_lane(f"ROAD-A-{c}", "A", c, Mode.ROAD, "rigid_18t_bev", sfd, 98, 8))
    g = nx.MultiDiGraph()
    for h in hubs.values():
        g.add_node(h.hub_id, hub=h)
    for lane in lanes:
        g.add_edge(lane.origin, lane.destination, key=lane.lane_id, lane=lane)
    net = Network(hubs=hubs, lanes=tuple(lanes), graph=g, data_sha256="test")
    book = [Shipment("S1", "P", "E1", 3.0, READY, DUE), Shipment("S2", "P", "E2", 3.0, READY, DUE)]
    routed = plan(book, net, PlanOptions(solver=FAST, stop_level_routing=True))
    assert not routed.stop_dropped
    (route,) = routed.stop_routes
    assert route.vehicle_type == "rigid_18t_bev" and route.refills == 1
    assert route.geometry[1] == (VENLO[1], VENLO[0])  # the charging stop, before the sites
    sites = [ESSEN1, ESSEN2] if route.shipment_ids == ("S1", "S2") else [ESSEN2, ESSEN1]
    path = [ANR, VENLO, *sites, ANR]
    km = [_road_km(a, b) for a, b in pairwise(path)]
    assert route.distance_km == pytest.approx(sum(km), rel=1e-9)
    # energy [kWh] at the load on board: 6 t to Venlo and the first site, 3 t, then empty
    v = vehicle_type("rigid_18t_bev")
    kwh = [
        (v.empty_energy_mj_per_km + v.energy_slope_mj_per_tkm * t) * d / 3.6
        for t, d in zip((6, 6, 3, 0), km, strict=True)
    ]
    assert route.energy_mj == pytest.approx(sum(kwh) * 3.6, rel=1e-9)
    assert sum(kwh) > v.battery_kwh  # ~435 kWh: the 336 kWh battery needs a charge
    # partial recharging: only the missing ~99 kWh, at min(150 kW truck, 400 kW station);
    # duration = driving at 50 km/h + two 1 h stops + charging (a full charge would be longer)
    charge_h = (sum(kwh) - v.battery_kwh) / 150.0
    hours = (route.return_at - route.departure_at).total_seconds() / 3600
    assert hours == pytest.approx(sum(km) / v.speed_kmh + 2 * 1.0 + charge_h, abs=1e-6)
    leg = next(s for s in routed.shipments if s.shipment_id == "S1").legs[-1]
    assert any(f.source == "routing.vrp evrptw" for f in leg.tce.factors)
