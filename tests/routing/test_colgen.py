"""Column generation, the Lagrangian bound, the greedy start and the pruning shortcut on
hand-made models whose answers are worked out by hand."""

from __future__ import annotations

import time

from greenlane.routing.planner import colgen
from greenlane.routing.planner.exact import Duals, Limits, LinearModel, priced_objective
from greenlane.routing.planner.model_data import ModelData, TruckGroup
from greenlane.routing.planner.search import Search, _undominated

T10 = 10_000
"""10 t [kg]."""


def _departure_book() -> ModelData:
    """Three 10 t shipments; each may take scheduled departure D (100 fen, room for 20 t)
    or a road path of its own (300 fen); unserved costs 10,000 fen.

    Integer optimum and LP value: two on D, one by road = 100 + 100 + 300 = 500 fen."""
    return ModelData(
        sids=["A", "B", "C"],
        cols=[("A", 0), ("A", 1), ("B", 0), ("B", 1), ("C", 0), ("C", 1)],
        col_ship=[0, 0, 1, 1, 2, 2],
        ship_cols=[range(0, 2), range(2, 4), range(4, 6)],
        cost_fen=[100, 300] * 3,
        co2_g=[0] * 6,
        late_fen=[0] * 6,
        pen_fen=[10_000] * 3,
        pen_g=[0] * 3,
        tkm=[1] * 3,
        mass_kg=[T10] * 3,
        caps=[(("D", 0), 2 * T10, [0, 2, 4], [T10] * 3)],
        groups=[],
        folded={},
    )


def _truck_book() -> ModelData:
    """Two 6 t shipments; each may ride a shared road departure (trucks of 10 t at 1,000
    fen each, nothing else) or its own path (900 fen); unserved costs 10,000 fen.

    Integer optimum: both on their own paths, 1,800 fen (sharing needs 2 trucks = 2,000; one
    shared, one own = 1,900). LP: both shared with 1.2 trucks = 1,200 fen."""
    group = TruckGroup(
        key=("R", "truck", "diesel", 0),  # type: ignore[arg-type]
        payload_kg=T10,
        ub=2,
        cost_fen=1_000,
        co2_g=0,
        cols=[0, 2],
        weights=[6_000, 6_000],
        links=[(1, [0]), (1, [2])],
        knapsack=True,
    )
    return ModelData(
        sids=["A", "B"],
        cols=[("A", 0), ("A", 1), ("B", 0), ("B", 1)],
        col_ship=[0, 0, 1, 1],
        ship_cols=[range(0, 2), range(2, 4)],
        cost_fen=[0, 900, 0, 900],
        co2_g=[0] * 4,
        late_fen=[0] * 4,
        pen_fen=[10_000] * 2,
        pen_g=[0] * 2,
        tkm=[1] * 2,
        mass_kg=[6_000] * 2,
        caps=[],
        groups=[group],
        folded={},
    )


def _search(data: ModelData) -> Search:
    return Search(data, priced_objective(0.0), Limits())


def test_zero_duals_give_the_bound_without_capacities():
    # every shipment on its cheapest column, capacity ignored: 3 x 100 = 300 <= 500
    search = _search(_departure_book())
    bound, prices = colgen.lagrangian_bound(search, Duals([0.0] * 3, {}, {}, {}, []))
    assert bound == 300
    assert prices == [100, 300] * 3


def test_capacity_dual_prices_the_departure():
    # y = -0.02 fen/kg on D: its columns cost 100 + 0.02 x 10,000 = 300, like the road;
    # L = 3 x 300 - 0.02 x 20,000 = 500, the optimum
    search = _search(_departure_book())
    bound, prices = colgen.lagrangian_bound(search, Duals([300.0] * 3, {0: -0.02}, {}, {}, []))
    assert abs(bound - 500) < 1e-9
    assert [round(p, 9) for p in prices] == [300] * 6


def test_a_dual_of_the_wrong_sign_is_clipped_so_the_bound_stays_valid():
    # a capacity row (<=) with a positive dual would make D look cheaper than free
    search = _search(_departure_book())
    bound, _ = colgen.lagrangian_bound(search, Duals([0.0] * 3, {0: 5.0}, {}, {}, []))
    assert bound == 300


def test_column_generation_adds_the_road_and_reaches_the_lp_value(monkeypatch):
    # round 1 (cheapest column only): D for all, one shipment half-unserved twice over:
    # 2 x 100 + 10,000 = 10,200; the road prices out (300 < 10,000); round 2: 500
    monkeypatch.setattr(colgen, "FIRST_COLUMNS", 1)
    search = _search(_departure_book())
    res = colgen.solve(search, until=time.perf_counter() + 30)
    assert res is not None
    assert res.converged and res.rounds == 2 and res.columns == 6
    assert abs(res.value - 500) < 1e-6
    assert 500 - 1e-5 < res.bound <= 500  # a hair below: float safety margin


def test_truck_lp_bound_is_below_the_integer_optimum():
    # LP value 1,200 (1.2 trucks shared); the integer optimum is 1,800
    search = _search(_truck_book())
    res = colgen.solve(search, until=time.perf_counter() + 30)
    assert res is not None and res.converged
    assert abs(res.value - 1_200) < 1e-6
    assert 1_200 - 1e-5 < res.bound <= 1_200


def test_added_columns_bring_their_capacity_row():
    # road only: 900; adding the D columns must also add D's capacity row (500, not 300)
    data = _departure_book()
    model = LinearModel(
        data, priced_objective(0.0), integer=False, solver="GLOP", columns=[[1], [3], [5]]
    )
    assert abs(model.solve(10).objective - 900) < 1e-6
    assert not model.cap_rows  # 30 t of road columns never bind D
    model.add_columns([0, 2, 4])
    assert abs(model.solve(10).objective - 500) < 1e-6


def test_added_columns_join_their_truck_rows():
    # own paths only: 1,800; with the shared departure the LP finds 1,200
    data = _truck_book()
    model = LinearModel(
        data, priced_objective(0.0), integer=False, solver="GLOP", columns=[[1], [3]]
    )
    assert abs(model.solve(10).objective - 1_800) < 1e-6
    model.add_columns([0, 2])
    assert abs(model.solve(10).objective - 1_200) < 1e-6


def test_greedy_fills_the_departure_then_takes_the_road():
    search = _search(_departure_book())
    state = search.greedy(deadline=float("inf"))
    assert state.choice == [0, 2, 5]
    assert state.obj == 500


def test_greedy_does_not_open_a_second_truck():
    # first shipment: own path 900 < a truck 1,000; second: the same
    search = _search(_truck_book())
    state = search.greedy(deadline=float("inf"))
    assert state.choice == [1, 3]
    assert state.obj == 1_800


def test_undominated_keeps_what_no_cheaper_column_with_fewer_departures_beats():
    # column: (own cost, departures); c = own cost here
    cols = [0, 1, 2, 3]
    caps = [[], [7], [7], [7, 8]]
    own = {0: (5.0, []), 1: (3.0, []), 2: (4.0, []), 3: (6.0, [])}
    c = [5.0, 3.0, 4.0, 6.0]
    # 2 is beaten by 1 (same departure, 3 < 4); 3 by 0 (no departure, 5 < 6);
    # 0 is not beaten by 1 (1 uses departure 7, which 0 does not)
    assert _undominated(cols, own, c, caps) == [0, 1]


def test_undominated_ties_go_to_the_lower_index():
    own = {0: (4.0, []), 1: (4.0, [])}
    assert _undominated([0, 1], own, [4.0, 4.0], [[], []]) == [0]


def test_a_first_round_alone_keeps_at_least_the_capacity_free_bound(monkeypatch):
    # one round only (the next never fits): its duals give L = 3 x 300 - 0.99 x 20,000 < 0,
    # but the bound of zero duals (3 x 100 = 300) is kept
    monkeypatch.setattr(colgen, "FIRST_COLUMNS", 1)
    monkeypatch.setattr(colgen, "NEXT_ROUND_FACTOR", 1e12)
    search = _search(_departure_book())
    res = colgen.solve(search, until=time.perf_counter() + 30)
    assert res is not None and res.rounds == 1 and not res.converged
    assert abs(res.value - 10_200) < 1e-6
    assert 300 - 1e-5 < res.bound <= 300
