"""First/last-mile routing and the benchmark core: small instances, solution limits.

Searches are bounded by solution/iteration limits (time limits are only a backstop), so the
results do not depend on machine speed.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from greenlane.emissions.errors import InputError
from greenlane.emissions.units import KG_PER_T
from greenlane.fleet import vehicle_type
from greenlane.routing.vrp import (
    Depot,
    DistanceMatrix,
    FleetEntry,
    Station,
    Stop,
    VrpParams,
    VrpProblem,
    check_solution,
    solve_vrp,
)

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT.parent / "shared" / "benchmarks" / "vrp"
needs_bench = pytest.mark.skipif(
    not BENCH.is_dir(),
    reason=f"benchmark instances not found at {BENCH} (CI clones shared/ beside the repo)",
)

FAST = VrpParams(time_limit_s=60.0, engine="ortools", solution_limit=100)
"""Reproducible: the solution limit ends the search long before the time backstop."""
TINY = VrpParams(time_limit_s=60.0, engine="ortools", metaheuristic="GREEDY_DESCENT")
"""For one- or two-stop problems: descent stops at its local optimum (guided local search
would run to the time limit looking for a 100th solution that does not exist)."""


def _ev() -> object:
    """A 200 kWh battery truck using exactly 1 kWh/km at any load, 50 km/h, 400 kW."""
    return replace(
        vehicle_type("truck_40t_bev"),
        battery_kwh=200.0,
        empty_energy_mj_per_km=3.6,
        energy_slope_mj_per_tkm=0.0,
        refuel_power_kw=400.0,
        speed_kmh=50.0,
    )


def _charge_once_problem(stations: tuple[Station, ...]) -> VrpProblem:
    depot = Depot("D", 31.0, 118.0, 0.0, 24.0, "CN-East")
    stop = Stop("S", 31.0, 119.5, mass_kg=5000.0, service_h=0.5)
    km = DistanceMatrix(
        ("D", "S", "C", "F"),
        ((0, 150, 145, 400), (150, 0, 10, 400), (145, 10, 0, 400), (400, 400, 400, 0)),
    )
    return VrpProblem(
        (depot,),
        (stop,),
        (FleetEntry("ev", 1, vehicle=_ev()),),
        stations=stations,
        distance_matrix=km,
    )


CHARGER = Station("C", "charger near S", "charging", 31.0, 119.4, power_kw=100.0)
FAR = Station("F", "charger far away", "charging", 35.0, 118.0, power_kw=100.0)


def test_ev_must_charge_once() -> None:
    """D-S is 150 km, a round trip needs 300 kWh of a 200 kWh battery; C is 10 km from S.

    Best: D -> C (145 km, 55 kWh left; +145 kWh at min(400, 100) kW = 1.45 h) -> S -> D:
    305 km, 1098 MJ, 305 / 50 + 1.45 + 0.5 service = 8.05 h, 40 kWh left at the end.
    """
    sol = solve_vrp(_charge_once_problem((CHARGER, FAR)), TINY)
    assert not sol.dropped
    (route,) = sol.routes
    stations = [v for v in route.visits if v.kind == "station"]
    assert [v.place_id for v in stations] == ["C"]
    assert route.distance_km == pytest.approx(305.0)
    assert route.energy_mj == pytest.approx(305 * 3.6)
    assert stations[0].level_arrival == pytest.approx(55.0)
    assert stations[0].refilled == pytest.approx(145.0)
    assert stations[0].departure_h - stations[0].start_h == pytest.approx(1.45)
    assert route.duration_h == pytest.approx(8.05)
    assert route.visits[-1].level_arrival == pytest.approx(40.0)
    assert min(v.level_arrival for v in route.visits if v.level_arrival is not None) >= 0
    assert check_solution(_charge_once_problem((CHARGER, FAR)), sol) == []


def test_ev_without_station_is_reported_out_of_range() -> None:
    sol = solve_vrp(_charge_once_problem(()), TINY)
    assert sol.routes == ()
    (dropped,) = sol.dropped
    assert dropped.stop_id == "S" and "out of range" in dropped.reason


def _one_stop(fleet: tuple[FleetEntry, ...], carbon_price: float) -> VrpProblem:
    depot = Depot("NKG", 31.953, 118.84, 0.0, 24.0, "CN-East")
    stop = Stop("C1", 32.20, 119.05, mass_kg=10_000.0, service_h=0.5)
    return VrpProblem((depot,), (stop,), fleet, carbon_price_cny_per_t=carbon_price)


def _alone(entry: FleetEntry, carbon_price: float) -> tuple[float, float]:
    """(cost without carbon [CNY], WTW [kg]) of serving the stop with this entry only."""
    sol = solve_vrp(_one_stop((entry,), carbon_price), TINY)
    (route,) = sol.routes
    return route.cost_cny - route.carbon_cny, route.co2e_wtw_kg


def test_grey_hydrogen_loses_to_diesel_and_bev_wins_at_a_carbon_price() -> None:
    """81 km round trip, 10 t: without a carbon price diesel is cheapest (the BEV's higher
    hourly cost outweighs its cheaper energy); at 1000 CNY/t the BEV wins, and grey hydrogen,
    dearer and with more WTW CO2e per km than diesel, loses to diesel at any price."""
    diesel, fcev, bev = (
        FleetEntry("truck_40t_diesel"),
        FleetEntry("truck_40t_fcev", carrier="hydrogen_grey"),
        FleetEntry("truck_40t_bev"),
    )
    for price, winner in ((0.0, "truck_40t_diesel"), (1000.0, "truck_40t_bev")):
        alone = {e.type_id: _alone(e, price) for e in (diesel, fcev, bev)}
        (d_cost, d_co2), (h_cost, h_co2), (_, b_co2) = alone.values()
        assert h_co2 > d_co2 > b_co2 and h_cost > d_cost
        sol = solve_vrp(_one_stop((fcev, diesel), price), TINY)
        assert [r.type_id for r in sol.routes] == ["truck_40t_diesel"]
        sol = solve_vrp(_one_stop((fcev, diesel, bev), price), TINY)
        assert [r.type_id for r in sol.routes] == [winner]
        totals = {t: c + price * co2 / KG_PER_T for t, (c, co2) in alone.items()}
        assert min(totals, key=totals.__getitem__) == winner
        assert sol.cost_cny == pytest.approx(totals[winner])


def test_energy_prices_are_an_input_of_the_problem() -> None:
    """The same diesel route under the shipped prices and under fossil fuel x2: only the
    energy cost doubles; the shipped table is untouched."""
    from greenlane.fleet import energy_price, scale_energy_prices

    diesel = FleetEntry("truck_40t_diesel")
    dear_prices = scale_energy_prices(2.0, ("fossil", "mixed"))
    base = solve_vrp(_one_stop((diesel,), 0.0), TINY)
    table = energy_price(base.routes[0].carrier, "CN-East").price_cny_per_unit
    dear = solve_vrp(replace(_one_stop((diesel,), 0.0), energy_prices=dear_prices), TINY)
    (r0,), (r1,) = base.routes, dear.routes
    assert r1.energy_mj == pytest.approx(r0.energy_mj)
    assert (r1.fixed_cny, r1.distance_cny, r1.time_cny) == pytest.approx(
        (r0.fixed_cny, r0.distance_cny, r0.time_cny)
    )
    assert r1.energy_cny == pytest.approx(2 * r0.energy_cny, abs=0.02)
    assert r1.carrier == r0.carrier
    assert energy_price(r0.carrier, "CN-East").price_cny_per_unit == table


def test_carbon_price_turns_a_cheap_grey_hydrogen_truck_into_the_loser() -> None:
    """An FCEV without per-km/per-h cost beats diesel on money; its extra WTW CO2e per km makes
    it lose once carbon costs more than the money it saves (breakeven = d cost / d CO2e)."""
    cheap = replace(
        vehicle_type("truck_40t_fcev"), cost_cny_per_km=Decimal(0), cost_cny_per_h=Decimal(0)
    )
    fcev = FleetEntry("truck_40t_fcev", carrier="hydrogen_grey", vehicle=cheap)
    diesel = FleetEntry("truck_40t_diesel")
    (d_cost, d_co2), (h_cost, h_co2) = _alone(diesel, 0.0), _alone(fcev, 0.0)
    assert h_cost < d_cost and h_co2 > d_co2
    breakeven = (d_cost - h_cost) / (h_co2 - d_co2) * KG_PER_T  # [CNY/t]
    low = solve_vrp(_one_stop((diesel, fcev), 0.5 * breakeven), TINY)
    high = solve_vrp(_one_stop((diesel, fcev), 1.5 * breakeven), TINY)
    assert [r.type_id for r in low.routes] == ["truck_40t_fcev"]
    assert [r.type_id for r in high.routes] == ["truck_40t_diesel"]


def _city_problem() -> VrpProblem:
    """12 stops around a Shenzhen depot: deliveries, pickups, a pickup->delivery pair."""
    depot = Depot("F-SHENZHEN", 22.6567, 114.0297, 6.0, 20.0, "CN-South")
    spots = [
        (0.05, 0.10),
        (-0.08, 0.12),
        (0.12, -0.05),
        (-0.10, -0.09),
        (0.02, 0.20),
        (0.15, 0.15),
        (-0.15, 0.02),
        (0.07, -0.18),
        (-0.04, -0.22),
        (0.20, -0.02),
        (-0.18, 0.18),
        (0.10, 0.05),
    ]
    stops = []
    for i, (dlat, dlon) in enumerate(spots):
        kind = "pickup" if i in (3, 7, 10) else "delivery"
        start = 7.0 + (i % 4) * 2.0
        stops.append(
            Stop(
                f"S{i}",
                22.6567 + dlat,
                114.0297 + dlon,
                kind=kind,
                mass_kg=1500.0 + 250.0 * (i % 5),
                pallets=2.0 + i % 3,
                service_h=0.3,
                tw_start_h=start,
                tw_end_h=start + 2.5,
            )
        )
    pickup = Stop(
        "P",
        22.70,
        113.95,
        kind="pickup",
        mass_kg=3000.0,
        pallets=4.0,
        service_h=0.3,
        tw_start_h=7.0,
        tw_end_h=12.0,
    )
    drop = Stop("Q", 22.55, 114.15, kind="delivery", service_h=0.3, tw_start_h=8.0, tw_end_h=16.0)
    fleet = (
        FleetEntry("rigid_18t_diesel", 2, pallets=18, shift_h=10.0),
        FleetEntry("rigid_18t_bev", 2, pallets=18, shift_h=10.0),
    )
    return VrpProblem(
        (depot,), (*stops, pickup, drop), fleet, pairs=(("P", "Q"),), carbon_price_cny_per_t=100.0
    )


def test_time_windows_capacities_and_precedence_hold() -> None:
    problem = _city_problem()
    sol = solve_vrp(problem, FAST)
    assert check_solution(problem, sol) == []
    assert not sol.dropped
    stops = {s.stop_id: s for s in problem.stops}
    for route in sol.routes:
        cap_kg = vehicle_type(route.type_id).payload_max_t * KG_PER_T
        for v in route.visits:
            assert 0 <= v.load_kg <= cap_kg + 1e-6 and 0 <= v.load_pallets <= 18 + 1e-9
            if v.kind == "stop":
                s = stops[v.place_id]
                assert s.tw_start_h - 1e-9 <= v.start_h <= s.tw_end_h + 1e-9
        assert route.duration_h <= 10.0 + 1e-9
    route = sol.route_of("P")
    assert route is not None and route is sol.route_of("Q")
    order = route.stop_ids()
    assert order.index("P") < order.index("Q")
    # the reported CO2e is the sum of the exact per-arc values with the actual payload
    for r in sol.routes:
        assert r.co2e_wtw_kg == pytest.approx(sum(a.co2e_wtw_kg for a in r.arcs))


def test_checker_catches_a_broken_plan() -> None:
    from greenlane.routing.vrp.model import VrpSolution
    from greenlane.routing.vrp.prepare import prepare
    from greenlane.routing.vrp.solve import _route

    problem = _city_problem()
    prep = prepare(problem)
    spec = prep.specs[0]
    everything = [prep.index[s.stop_id] for s in problem.stops if s.stop_id not in "PQ"]
    route = _route(prep, spec, 1, [spec.depot, *everything, spec.depot])
    bad = VrpSolution((route,), (), "tampered", "none", 0.0, 0.0)
    issues = check_solution(problem, bad)
    assert any("load" in i for i in issues)  # 12 stops overload an 18 t rigid
    assert any("window" in i for i in issues)
    assert any("neither served nor reported" in i for i in issues)  # P and Q vanished


def test_infeasible_stops_are_reported_with_their_reason() -> None:
    depot = Depot("D", 22.6567, 114.0297, 6.0, 18.0, "CN-South")
    stops = (
        Stop("OK", 22.70, 114.10, mass_kg=2000.0, service_h=0.2),
        Stop("HEAVY", 22.70, 114.00, mass_kg=40_000.0),
        Stop("EARLY", 23.40, 114.90, mass_kg=500.0, tw_start_h=6.0, tw_end_h=6.2),
        Stop("OPTIONAL", 23.50, 115.20, mass_kg=500.0, drop_penalty_cny=1.0),
    )
    problem = VrpProblem((depot,), stops, (FleetEntry("rigid_18t_diesel", 1),))
    sol = solve_vrp(problem, TINY)
    assert [r.stop_ids() for r in sol.routes] == [["OK"]]
    reasons = {d.stop_id: d.reason for d in sol.dropped}
    assert set(reasons) == {"HEAVY", "EARLY", "OPTIONAL"}
    assert "40000 kg > capacity 10000 kg" in reasons["HEAVY"]
    assert "window" in reasons["EARLY"]
    assert "drop penalty of 1 CNY" in reasons["OPTIONAL"]
    assert check_solution(problem, sol) == []


def test_bad_input_names_the_field() -> None:
    from greenlane.emissions.errors import InputError

    depot = Depot("D", 22.6, 114.0, region="CN-South")
    with pytest.raises(InputError) as err:
        solve_vrp(
            VrpProblem(
                (depot,), (Stop("S", 22.7, 114.1, kind="drop"),), (FleetEntry("rigid_18t_diesel"),)
            ),
            FAST,
        )
    assert err.value.field == "stops[0].kind"
    with pytest.raises(InputError) as err:
        solve_vrp(
            VrpProblem(
                (depot,),
                (Stop("S", 22.7, 114.1, volume_m3=3.0),),
                (FleetEntry("rigid_18t_diesel"),),
            ),
            FAST,
        )
    assert err.value.field == "fleet[0].volume_m3"


@needs_bench
def test_read_and_solve_solomon_instance() -> None:
    import vrplib

    from greenlane.routing.vrp.vrplib_io import (
        best_known,
        check_routes,
        dimacs_cost,
        read_instance,
        solve_benchmark,
    )

    path = BENCH / "solomon" / "C101.txt"
    inst = read_instance(path)
    assert (inst.kind, inst.rounding, inst.num_nodes, inst.capacity, inst.num_vehicles) == (
        "vrptw",
        "exact",
        101,
        200,
        25,
    )
    bks = best_known(path)
    assert bks is not None and (bks.cost, bks.convention) == (827.3, "dimacs")
    routes = vrplib.read_solution(str(path.with_suffix(".sol")))["routes"]
    assert dimacs_cost(inst, routes) == pytest.approx(827.3)
    result = solve_benchmark(
        path, VrpParams(time_limit_s=60.0, pyvrp_iterations=300, solution_limit=20)
    )
    assert result.violations == [] and check_routes(inst, result.routes) == []
    assert result.vehicles == 10 and result.gap_pct is not None and result.gap_pct < 2.0


@needs_bench
def test_read_and_solve_x_instance() -> None:
    import vrplib

    from greenlane.routing.vrp.vrplib_io import read_instance, route_distance, solve_benchmark

    path = BENCH / "cvrplib-x" / "X-n101-k25.vrp"
    inst = read_instance(path)
    assert (inst.kind, inst.rounding, inst.num_nodes, inst.capacity) == ("cvrp", "nint", 101, 206)
    routes = vrplib.read_solution(str(path.with_suffix(".sol")))["routes"]
    assert route_distance(inst, routes) == 27591  # the BKS, in rounded Euclidean
    result = solve_benchmark(
        path, VrpParams(time_limit_s=60.0, pyvrp_iterations=300, solution_limit=20)
    )
    assert result.violations == []
    assert result.gap_pct is not None and 0 <= result.gap_pct < 5.0


@needs_bench
def test_cli_prints_json() -> None:
    import json

    from click.testing import CliRunner

    from greenlane.webapp.cli_vrp import vrp

    out = CliRunner().invoke(
        vrp,
        [
            "solve",
            str(BENCH / "solomon" / "C101.txt"),
            "--engine",
            "ortools",
            "--solution-limit",
            "5",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["vehicles"] == len(doc["routes"]) and doc["violations"] == []


EV = VrpParams(time_limit_s=1.0, engine="evrptw")


def test_ev_charges_only_what_the_route_needs() -> None:
    """As test_ev_must_charge_once on the E-VRPTW engine (partial recharging): 305 km either
    way round (D-C-S-D or D-S-C-D); 305 kWh needed, 200 on board: 105 kWh at min(400, 100)
    kW = 1.05 h; 305 / 50 + 0.5 + 1.05 = 7.65 h; the battery is empty on return."""
    problem = _charge_once_problem((CHARGER, FAR))
    sol = solve_vrp(problem, EV)
    assert sol.engine == "evrptw" and sol.status == "success" and not sol.dropped
    (route,) = sol.routes
    (station,) = [v for v in route.visits if v.kind == "station"]
    assert station.place_id == "C" and station.refilled == pytest.approx(105.0, abs=1e-4)
    assert station.departure_h - station.start_h == pytest.approx(1.05, abs=1e-6)
    assert route.distance_km == pytest.approx(305.0)
    assert route.duration_h == pytest.approx(7.65, abs=1e-6)
    assert route.visits[-1].level_arrival == pytest.approx(0.0, abs=1e-4)
    assert check_solution(problem, sol) == []


def test_fleet_entry_battery_consumption_and_charging_curve() -> None:
    """The entry sets 160 kWh, 1 kWh/km and 100 kW to 50 % (80 kWh), 50 kW above. The
    matrix makes C -> D 400 km (one way), so the route is D -> C -> S -> D (305 km): 15 kWh
    left at C, 160 needed to get home: full. 15 -> 80 kWh at 100 kW = 0.65 h, 80 -> 160 at
    50 kW = 1.6 h: 2.25 h (1.45 h at a flat 100 kW); 305 / 50 + 0.5 + 2.25 = 8.85 h."""
    base = _charge_once_problem((CHARGER,))
    km = DistanceMatrix(("D", "S", "C"), ((0, 150, 145), (150, 0, 10), (400, 10, 0)))
    entry = FleetEntry(
        "truck_40t_bev",
        1,
        battery_kwh=160.0,
        consumption_kwh_per_km=1.0,
        consumption_kwh_per_tkm=0.0,
        charge_curve=((0.5, 100.0), (1.0, 50.0)),
    )
    problem = replace(base, fleet=(replace(entry, vehicle=_ev()),), distance_matrix=km)
    sol = solve_vrp(problem, EV)
    (route,) = sol.routes
    assert [v.place_id for v in route.visits] == ["D", "C", "S", "D"]
    station = route.visits[1]
    assert station.level_arrival == pytest.approx(15.0)
    assert station.refilled == pytest.approx(145.0, abs=1e-4)
    assert station.departure_h - station.start_h == pytest.approx(2.25, abs=1e-5)
    assert route.duration_h == pytest.approx(8.85, abs=1e-5)
    assert route.energy_mj == pytest.approx(305 * 3.6)
    assert check_solution(problem, sol) == []
    # the OR-Tools engine charges to full at the curve's slowest power: the same 145 kWh
    # take 145 / 50 = 2.9 h in its model, the exact re-simulation follows the curve (2.25 h)
    ort = solve_vrp(problem, TINY)
    assert ort.routes[0].visits[1].departure_h - ort.routes[0].visits[1].start_h == (
        pytest.approx(2.25, abs=1e-5)
    )


def test_fleet_entry_overrides_are_validated() -> None:
    base = _charge_once_problem((CHARGER,))
    for entry, field in (
        (FleetEntry("truck_40t_diesel", battery_kwh=100.0), "fleet[0].battery_kwh"),
        (FleetEntry("truck_40t_bev", charge_power_kw=0.0), "fleet[0].charge_power_kw"),
        (
            FleetEntry("truck_40t_bev", charge_curve=((0.8, 50.0), (1.0, 100.0))),
            "fleet[0].charge_curve[1]",
        ),
        (FleetEntry("truck_40t_bev", charge_curve=((0.8, 50.0),)), "fleet[0].charge_curve"),
    ):
        with pytest.raises(InputError) as err:
            solve_vrp(replace(base, fleet=(entry,)), EV)
        assert err.value.field == field


def test_mixed_fleet_keeps_the_cheaper_engine_plan() -> None:
    """auto with diesel and battery trucks runs the E-VRPTW search (battery entries) and
    OR-Tools (all entries): without a carbon price diesel is cheapest (as in
    test_grey_hydrogen_loses_to_diesel_and_bev_wins_at_a_carbon_price) and OR-Tools' plan is
    kept; at 1000 CNY/t the BEV wins, both engines find the same single route and the tie
    keeps the E-VRPTW plan."""
    fleet = (FleetEntry("truck_40t_diesel"), FleetEntry("truck_40t_bev"))
    auto = VrpParams(time_limit_s=2.0, metaheuristic="GREEDY_DESCENT")
    cheap = solve_vrp(_one_stop(fleet, 0.0), auto)
    assert cheap.engine != "evrptw" and cheap.routes[0].type_id == "truck_40t_diesel"
    green = solve_vrp(_one_stop(fleet, 1000.0), auto)
    assert green.engine == "evrptw" and green.routes[0].type_id == "truck_40t_bev"
    alone = solve_vrp(_one_stop((fleet[1],), 1000.0), TINY)
    assert green.cost_cny == pytest.approx(alone.cost_cny, rel=1e-9)


def test_pickup_route_energy_grows_with_the_load() -> None:
    """First mile: a 5 t pickup at S on a 250 kWh entry using 1 kWh/km + 0.1 kWh/tkm. The
    one-way matrix forces D -> S -> C -> D: D-S 150 km empty = 150 kWh (100 left), S-C 10 km
    at 5 t = 1.5 x 10 = 15 (85 left at C), C-D 145 km at 5 t = 217.5: charge 132.5 kWh at
    100 kW = 1.325 h; 305 / 50 + 0.5 + 1.325 = 7.925 h; 382.5 kWh = 1377 MJ."""
    base = _charge_once_problem((CHARGER,))
    km = DistanceMatrix(("D", "S", "C"), ((0, 150, 400), (150, 0, 10), (145, 10, 0)))
    entry = FleetEntry("ev", 1, vehicle=_ev(), battery_kwh=250.0, consumption_kwh_per_tkm=0.1)
    stop = replace(base.stops[0], kind="pickup")
    problem = replace(base, fleet=(entry,), stops=(stop,), distance_matrix=km)
    sol = solve_vrp(problem, EV)
    (route,) = sol.routes
    assert [v.place_id for v in route.visits] == ["D", "S", "C", "D"]
    assert route.visits[2].level_arrival == pytest.approx(85.0)
    assert route.visits[2].refilled == pytest.approx(132.5, abs=1e-4)
    assert route.energy_mj == pytest.approx(382.5 * 3.6)
    assert route.duration_h == pytest.approx(7.925, abs=1e-5)
    assert check_solution(problem, sol) == []
