"""The multimodal planner: hand-checkable optimum, monotonicity, target mode, capacities."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import NormalDist

import networkx as nx
import pytest
from routing_helpers import make_lane

from greenlane.emissions.chain import totals
from greenlane.emissions.model import Mode
from greenlane.routing import PlanOptions, SolverParams, load_network, pareto, plan, read_book
from greenlane.routing.network.graph import Network
from greenlane.routing.network.model import Hub, HubKind
from greenlane.routing.planner.candidates import hours_since_epoch
from greenlane.routing.planner.problem import build_problem
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.planner.solve import solve_problem

ROOT = Path(__file__).resolve().parents[2]
READY = datetime(2026, 12, 1, tzinfo=UTC)
FAST = SolverParams(time_limit_s=20, seed=0, workers=1)


@pytest.fixture(scope="module")
def tiny() -> Network:
    """Two seaports 10 000 km apart: a weekly ship with 20 t free, or a daily flight."""
    hubs = {
        "P": Hub(
            "P",
            "Port P",
            HubKind.SEAPORT,
            31.2,
            121.5,
            "CN",
            "CN-East",
            (Mode.SEA, Mode.AIR),
            "test",
        ),
        "Q": Hub(
            "Q", "Port Q", HubKind.SEAPORT, 39.4, -0.3, "ES", "ES", (Mode.SEA, Mode.AIR), "test"
        ),
    }
    lanes = (
        make_lane("SEA-PQ", "P", "Q", Mode.SEA, "ship_container_24000teu", 16000, 1, 20, 600),
        make_lane("AIR-PQ", "P", "Q", Mode.AIR, "aircraft_freighter_b777f", 10000, 7, 100, 14),
    )
    g = nx.MultiDiGraph()
    for h in hubs.values():
        g.add_node(h.hub_id, hub=h)
    for lane in lanes:
        g.add_edge(lane.origin, lane.destination, key=lane.lane_id, lane=lane)
    return Network(hubs=hubs, lanes=lanes, graph=g, data_sha256="test")


@pytest.fixture(scope="module")
def network() -> Network:
    """The shipped network."""
    return load_network()


@pytest.fixture(scope="module")
def demo_book() -> list[Shipment]:
    """The demo book of data/examples/shipments.csv."""
    return read_book(ROOT / "data" / "examples" / "shipments.csv")


def _ship(sid, mass, days, origin="P", dest="Q", **kw) -> Shipment:
    return Shipment(sid, origin, dest, mass, READY, READY + timedelta(days=days), **kw)


def test_small_instance_optimum_known_by_hand(tiny):
    # both shipments are ready for the same weekly sailing, which has 20 t free: 15 t + 10 t
    # cannot both sail. Per-tonne prices are linear, so the heavier one saves more by sailing.
    # Due one day after that sailing lands, so the next sailing (a week later) is too late.
    first = build_problem([_ship("S", 1, 90)], tiny, PlanOptions(solver=FAST))
    lands_h = next(c for c in first.candidates["S"] if c.label == "sea").arrival_h
    days = (lands_h - hours_since_epoch(READY)) / 24 + 1
    book = [_ship("S15", 15, days), _ship("S10", 10, days)]
    problem = build_problem(book, tiny, PlanOptions(solver=FAST))
    cands = problem.candidates
    sea = {sid: next(c for c in cs if c.label == "sea") for sid, cs in cands.items()}
    air = {sid: next(c for c in cs if c.label == "air") for sid, cs in cands.items()}
    assert sea["S15"].timings[0].slot == sea["S10"].timings[0].slot  # same departure
    result = plan(book, tiny, PlanOptions(solver=FAST))
    chosen = result.choice()
    assert chosen == {"S15": "sea", "S10": "air"}
    # brute force over all combinations that respect the 20 t capacity
    best = min(
        (sea[a].var_cost_cny + air[b].var_cost_cny, a)
        for a, b in itertools.permutations(["S15", "S10"])
    )
    assert best[1] == "S15"
    assert result.cost_cny == pytest.approx(best[0], rel=1e-6)
    assert result.unplanned == ()


def test_capacity_never_exceeded(tiny):
    book = [_ship(f"S{i}", 6, 40) for i in range(6)]  # 36 t for a 20 t departure
    result = plan(book, tiny, PlanOptions(solver=FAST))
    load: dict[tuple[str, int], float] = defaultdict(float)
    for s in result.shipments:
        for leg in s.legs:
            if leg.mode == "sea":
                load[(leg.lane_id, leg.departure_at)] += s.mass_t
    assert load and max(load.values()) <= 20 + 1e-9
    # 3 x 6 t fit a sailing; the other three wait for the next weekly sailing (in time for
    # the 40-day due date) instead of flying: departures are a decision of the model
    assert sum(1 for s in result.shipments if s.label == "sea") == 6
    first, second = sorted(load)
    assert load[first] == load[second] == 18
    assert second[1] - first[1] == timedelta(days=7)


def test_due_date_short_flies_long_sails(network):
    book = [
        Shipment("D5", "F-NANJING", "C-MADRID", 2, READY, READY + timedelta(days=5)),
        Shipment("D45", "F-NANJING", "C-MADRID", 10, READY, READY + timedelta(days=45)),
    ]
    result = plan(book, network, PlanOptions(solver=FAST))
    modes = {s.shipment_id: {leg.mode for leg in s.legs} for s in result.shipments}
    assert "air" in modes["D5"]
    assert "air" not in modes["D45"]
    assert all(s.on_time for s in result.shipments)


def test_raising_the_carbon_price_never_raises_co2e(network, demo_book):
    co2e = [
        plan(demo_book, network, PlanOptions(carbon_price_cny_per_t=p, solver=FAST)).co2e_wtw_kg
        for p in (0, 200, 1000, 5000, 20000)
    ]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(co2e))
    assert co2e[-1] < co2e[0]


def test_target_mode_meets_the_cap(network, demo_book):
    result = plan(demo_book, network, PlanOptions(target_year=2030, solver=FAST))
    cap = result.facts["target_intensity_g_per_tkm"]
    assert cap == pytest.approx(30.62 * 0.8)  # data/targets.csv: baseline x (1 - 20 %) = 24.496
    assert result.intensity_g_per_tkm <= cap * (1 + 1e-6)
    assert result.intensity_g_per_tkm >= cap * 0.97  # the cap binds: no needless spending
    cheapest = plan(demo_book, network, PlanOptions(solver=FAST))
    assert cheapest.intensity_g_per_tkm > cap
    assert result.facts["shadow_price_cny_per_t"] > 0


def test_target_mode_reports_infeasibility(network):
    book = [Shipment("AIR", "F-NANJING", "C-MADRID", 5, READY, READY + timedelta(days=4))]
    result = plan(book, network, PlanOptions(target_year=2030, solver=FAST))
    assert result.status == "target_infeasible"
    assert "above the 2030 target" in result.facts["message"]


def test_unplanned_shipments_say_why(network):
    book = [
        Shipment(
            "BARGE",
            "F-NANJING",
            "C-MADRID",
            5,
            READY,
            READY + timedelta(days=60),
            allowed_modes=frozenset({Mode.INLAND_WATER}),
        ),
        Shipment("TOO-SOON", "F-NANJING", "C-MADRID", 5, READY, READY + timedelta(hours=20)),
    ]
    result = plan(book, network, PlanOptions(solver=FAST))
    reasons = {u.shipment_id: " ".join(u.reasons) for u in result.unplanned}
    assert "no path" in reasons["BARGE"]
    assert "due date" in reasons["TOO-SOON"]


def test_plan_numbers_are_the_footprints(network, demo_book):
    result = plan(demo_book, network, PlanOptions(solver=FAST))
    for s in result.shipments:
        again = totals(s.footprint.tces)
        assert again.co2e_wtw_kg == pytest.approx(s.footprint.totals.co2e_wtw_kg)
        assert sum(leg.tce.co2e_wtw_kg for leg in s.legs) <= s.footprint.totals.co2e_wtw_kg
        assert hours_since_epoch(s.arrival_at) >= hours_since_epoch(s.legs[0].departure_at)
    assert result.co2e_wtw_kg == pytest.approx(
        sum(t.co2e_wtw_kg for s in result.shipments for t in s.footprint.tces)
    )


def test_deterministic(network, demo_book):
    a = plan(demo_book, network, PlanOptions(carbon_price_cny_per_t=500, solver=FAST))
    b = plan(demo_book, network, PlanOptions(carbon_price_cny_per_t=500, solver=FAST))
    assert a.choice() == b.choice()
    assert a.cost_cny == b.cost_cny


def test_pareto_frontier(network, demo_book):
    plans = pareto(demo_book, network, PlanOptions(solver=FAST), points=8)
    assert len(plans) == 8  # gaps left by duplicate points are split by extra caps
    costs = [p.cost_cny for p in plans]
    co2e = [p.co2e_wtw_kg for p in plans]
    assert costs == sorted(costs)
    assert all(b < a for a, b in itertools.pairwise(co2e))
    cheapest = plan(demo_book, network, PlanOptions(solver=FAST))
    assert plans[0].cost_cny == pytest.approx(cheapest.cost_cny, rel=1e-6)


def test_reserved_capacity_is_respected(tiny):
    book = [_ship("S15", 15, 40)]
    problem = build_problem(book, tiny, PlanOptions(solver=FAST))
    sea = next(c for c in problem.candidates["S15"] if c.label == "sea")
    assert solve_problem(problem, PlanOptions(solver=FAST)).choice() == {"S15": "sea"}
    problem = replace(
        problem, reserved_t={("SEA-PQ", sea.timings[0].slot): 10.0}
    )  # 10 of 20 t held
    assert solve_problem(problem, PlanOptions(solver=FAST)).choice() == {"S15": "air"}


def test_on_time_probability_requirement(tiny):
    probe = build_problem([_ship("P", 5, 60)], tiny, PlanOptions(solver=FAST))
    sea = next(c for c in probe.candidates["P"] if c.label == "sea")
    due = READY + timedelta(hours=sea.arrival_h - hours_since_epoch(READY) + 24)  # 1 day slack
    book = [Shipment("S", "P", "Q", 5, READY, due)]
    mean_plan = plan(book, tiny, PlanOptions(solver=FAST))
    assert mean_plan.choice() == {"S": "sea"}
    (s,) = mean_plan.shipments
    sd = 0.12 * 600  # data/transit_variability.csv: sea cv 0.12 x 600 h transit
    assert s.on_time_probability == pytest.approx(NormalDist().cdf(24 / sd), abs=1e-3)  # 0.63
    sure = plan(book, tiny, PlanOptions(solver=FAST, on_time_probability=0.95))
    assert sure.choice() == {"S": "air"}
    assert sure.shipments[0].on_time_probability > 0.95


def test_the_widest_co2e_gap_is_split_once():
    """Three points at 100, 60 and 0 kg: the widest gap (60 -> 0) is split at 30 kg; with a
    cap already tried at 35 kg (inside its middle half) the next gap (100 -> 60) at 80 kg; with
    both tried, or gaps narrower than the minimum, nothing is left to split."""
    from types import SimpleNamespace

    from greenlane.routing.scenarios.pareto import _widest_gap

    curve = [SimpleNamespace(co2e_wtw_kg=kg) for kg in (100.0, 60.0, 0.0)]
    assert _widest_gap(curve, [100.0, 0.0], 1.0) == pytest.approx(30.0)
    assert _widest_gap(curve, [100.0, 0.0, 35.0], 1.0) == pytest.approx(80.0)
    assert _widest_gap(curve, [100.0, 0.0, 35.0, 79.0], 1.0) is None
    assert _widest_gap(curve, [100.0, 0.0], 61.0) is None
