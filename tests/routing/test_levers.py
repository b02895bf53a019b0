"""Levers and the marginal abatement cost curve: each lever re-plans a small book with one
change, is priced against the reference plan, and the curve is sorted by CNY per t CO2e."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from greenlane.emissions.errors import InputError
from greenlane.routing import PlanOptions, SolverParams, load_network, plan
from greenlane.routing.planner.problem import build_problem
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.planner.solve import solve_problem
from greenlane.routing.scenarios.levers import (
    KINDS,
    Lever,
    evaluate,
    lever_costs,
    macc,
    macc_to_dict,
    propose,
)

READY = datetime(2026, 12, 1, tzinfo=UTC)
# without regulatory costs: with 2026 EU ETS + FuelEU the cheapest plan already sails the
# Shenzhen -> Rotterdam leg on LNG (HFO's 91.6 g/MJ WtW pays the FuelEU penalty), so the
# sea_lng lever would not apply; the lever set is checked on the unregulated HFO plan
OPTS = PlanOptions(solver=SolverParams(time_limit_s=5, workers=1, seed=0), regulatory_costs=False)


def ship(sid: str, o: str, d: str, mass_t: float, days: float) -> Shipment:
    return Shipment(sid, o, d, mass_t, READY, READY + timedelta(days=days))


@pytest.fixture(scope="module")
def net():
    return load_network()


@pytest.fixture(scope="module")
def book():
    """An urgent air shipment, a sea shipment to Venlo, a rail shipment to Warsaw."""
    return [
        ship("U", "F-NANJING", "C-MADRID", 2, 5),
        ship("V", "F-SHENZHEN", "W-VENLO", 14, 50),
        ship("W", "F-XIAN", "C-WARSAW", 6, 50),
    ]


@pytest.fixture(scope="module")
def curve(net, book):
    return macc(book, net, OPTS, max_levers=40)


def test_reference_is_the_planners_plan(curve, net, book):
    again = plan(book, net, OPTS)
    assert curve.reference.choice() == again.choice()
    assert curve.reference.cost_cny == pytest.approx(again.cost_cny)


def test_levers_are_proposed_where_they_apply(curve):
    ids = {r.lever.lever_id for r in curve.results}
    assert "air_saf:AIR-PVG-MAD" in ids  # the urgent shipment flies
    assert "rail_for_air:F-NANJING>C-MADRID" in ids
    assert any(i.startswith("road_bev:") for i in ids)
    assert any(i.startswith("sea_wind:") for i in ids) and any(
        i.startswith("sea_lng:") for i in ids
    )
    touched = [r.lever.touched_co2e_kg for r in curve.results]
    assert all(t > 0 for t in touched)


def test_curve_is_sorted_and_priced(curve):
    doc = macc_to_dict(curve)
    ok = [lv for lv in doc["levers"] if lv["status"] == "ok"]
    assert ok, doc["levers"]
    assert [lv["cny_per_t_co2e"] for lv in ok] == sorted(lv["cny_per_t_co2e"] for lv in ok)
    statuses = [lv["status"] for lv in doc["levers"]]
    assert statuses == sorted(
        statuses, key=["ok", "no_abatement", "not_applied", "infeasible"].index
    )
    for lv in ok:
        assert lv["delta_co2e_kg"] < 0
        assert lv["cny_per_t_co2e"] == pytest.approx(
            lv["delta_cost_cny"] / lv["abatement_t"], rel=1e-2, abs=1.0
        )
        assert lv["solver_status"] == "OPTIMAL"
    bars = doc["curve"]
    assert [b["lever_id"] for b in bars] == [lv["lever_id"] for lv in ok]
    assert bars[0]["x0"] == 0
    for a, b in pairwise(bars):
        assert b["x0"] == pytest.approx(a["x1"])
    assert bars[-1]["x1"] == pytest.approx(sum(lv["abatement_t"] for lv in ok), rel=1e-6)


def test_saf_lever_flies_the_blend_at_a_positive_price(curve):
    saf = next(r for r in curve.results if r.lever.lever_id == "air_saf:AIR-PVG-MAD")
    assert saf.status == "ok"
    assert saf.delta_cost_cny > 0 and saf.delta_co2e_kg < 0
    # 30 % SAF by energy cuts the flight's WTW by a share well below 30 %, never above it
    assert 0 < -saf.delta_co2e_kg < 0.3 * saf.lever.touched_co2e_kg


def test_wind_assist_saves_fuel_and_pays_its_rotor_capex(curve, net, book, monkeypatch):
    import greenlane.routing.scenarios.levers as levers

    wind = [r for r in curve.results if r.lever.kind == "sea_wind" and r.status == "ok"]
    assert wind
    for r in wind:
        # at most the vessels' wind-assist saving share of the lane's sea emissions
        assert 0 < -r.delta_co2e_kg <= 0.0821 * r.lever.touched_co2e_kg + 1e-6
    capex = lever_costs()["sea_wind"]
    assert capex.cny_per_vessel_day() > 0 and "Norsepower" in capex.source
    # the rotor capex is in the price: without it the same lever is cheaper
    problem = build_problem(book, net, OPTS)
    reference = solve_problem(problem, OPTS)
    free = {**lever_costs(), "sea_wind": replace(capex, vessel_capex=1e-9)}
    monkeypatch.setattr(levers, "lever_costs", lambda: free)
    cheap = evaluate(problem, reference, OPTS, wind[0].lever)
    assert cheap.delta_co2e_kg == pytest.approx(wind[0].delta_co2e_kg, rel=1e-6)
    assert cheap.delta_cost_cny < wind[0].delta_cost_cny - 0.01


def test_no_air_for_an_urgent_shipment_is_infeasible_not_priced(curve):
    r = next(r for r in curve.results if r.lever.lever_id == "rail_for_air:F-NANJING>C-MADRID")
    assert r.status == "infeasible" and r.cny_per_t is None
    assert "U" in r.note


def test_rail_instead_of_air_when_the_due_date_allows(net):
    # the fastest path without air is rail from Yiwu via Erenhot, Malaszewicze and Duisburg to
    # Madrid, 27.05 days with the customs stops (factories are no transit points, so not
    # trucked through F-XIAN), and it is cheaper than flying: with
    # 28 days the cheapest plan already takes rail and the lever has nothing to replace;
    # with 27 days grounding the shipment leaves it unserved
    book = [ship("A", "F-NANJING", "C-MADRID", 0.3, 28)]
    m = macc(book, net, OPTS, kinds=("rail_for_air",))
    assert [s.label for s in m.reference.shipments] == ["road > rail > rail > rail > rail > road"]
    assert m.results == ()
    book = [ship("A", "F-NANJING", "C-MADRID", 0.3, 27)]
    m = macc(book, net, OPTS, kinds=("rail_for_air",))
    assert [s.label for s in m.reference.shipments] == ["road > air > road"]
    (r,) = m.results
    assert r.status == "infeasible" and r.cny_per_t is None


def test_a_lever_missing_the_book_is_not_applied(net, book):
    problem = build_problem(book, net, OPTS)
    reference = solve_problem(problem, OPTS)
    lever = Lever("road_bev:X>Y", "road_bev", "X>Y", "nowhere")
    r = evaluate(problem, reference, OPTS, lever)
    assert r.status == "not_applied" and r.legs_changed == 0
    assert r.delta_cost_cny == pytest.approx(0.0, abs=0.01)


def test_kinds_and_bounds_are_checked(curve, net, book):
    assert {r.lever.kind for r in curve.results} <= set(KINDS)
    with pytest.raises(InputError) as err:
        propose(curve.reference, net, ("nuclear",))
    assert err.value.field == "kinds"
    with pytest.raises(InputError):
        macc(book, net, OPTS, max_levers=0)
    only = propose(curve.reference, net, ("sea_wind",))
    assert only and {lv.kind for lv in only} == {"sea_wind"}


def test_deterministic(net, book):
    a = macc_to_dict(macc(book, net, OPTS, kinds=("road_bev", "sea_lng"), max_levers=3))
    b = macc_to_dict(macc(book, net, OPTS, kinds=("road_bev", "sea_lng"), max_levers=3))
    assert a["levers"] == b["levers"]
    assert len(a["levers"]) == 3


def test_fossil_reference_fleet(net, book):
    fossil = replace(OPTS, carriers="fossil")
    m = macc(book, net, fossil, kinds=("air_saf",))
    assert m.settings["carriers"] == "fossil"
    (r,) = m.results
    assert r.status == "ok"  # SAF offered by the lever even though the reference fleet is fossil
