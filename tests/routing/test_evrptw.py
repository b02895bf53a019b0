"""E-VRPTW (Schneider et al. 2014 format): reader, independent checker, search and CLI.

The hand-made instance (depot at the origin, station S1 at (50, 0), Q = 120, g = 2, v = 1):
C2 at (90, 0) is 90 away, so D0-C2-D0 (180) needs a charge; D0-S1-C2-S1-D0 (also 180) works
with partial recharging: 10 units at the first S1 visit and 50 at the second (60 = 180 - 120).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from greenlane.emissions.errors import InputError
from greenlane.routing.vrp.evrptw import (
    benchmark_dir,
    charge_hours,
    check_routes,
    is_evrptw_file,
    parse_configuration,
    read_evrptw,
    validate_curve,
)
from greenlane.routing.vrp.evrptw_search import RouteEvaluator, solve_evrptw

EV = benchmark_dir(os.environ.get("GREENLANE_EVRPTW_DIR"))
needs_ev = pytest.mark.skipif(
    not EV.is_dir(),
    reason=f"E-VRPTW instances not found at {EV} (set GREENLANE_EVRPTW_DIR or clone shared/)",
)

HEADER = "StringID   Type       x          y          demand     ReadyTime  DueDate    ServiceTime"


def _instance(tmp_path: Path, rows: list[str], depot_due: float = 1000.0, q: float = 120.0) -> Path:
    lines = [
        HEADER,
        f"D0 d 0 0 0 0 {depot_due} 0",
        f"S0 f 0 0 0 0 {depot_due} 0",
        f"S1 f 50 0 0 0 {depot_due} 0",
        *rows,
        "",
        f"Q Vehicle fuel tank capacity /{q}/",
        "C Vehicle load capacity /100.0/",
        "r fuel consumption rate /1.0/",
        "g inverse refueling rate /2.0/",
        "v average Velocity /1.0/",
    ]
    path = tmp_path / "hand.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reader_parses_nodes_and_parameters(tmp_path: Path) -> None:
    inst = read_evrptw(_instance(tmp_path, ["C1 c 30 40 10 0 1000 10"]))
    assert inst.ids == ("D0", "S0", "S1", "C1")
    assert inst.kinds == ("d", "f", "f", "c")
    assert (inst.battery, inst.capacity, inst.consumption, inst.recharge_time) == (
        120.0,
        100.0,
        1.0,
        2.0,
    )
    assert inst.customers == [3] and inst.stations == [1, 2]
    assert inst.dist[0, 3] == pytest.approx(50.0)  # 3-4-5 triangle
    assert is_evrptw_file(tmp_path / "hand.txt")


def test_reader_errors_name_the_line(tmp_path: Path) -> None:
    path = _instance(tmp_path, ["C1 c 30 forty 10 0 1000 10"])
    with pytest.raises(InputError, match=r"hand.txt:5: non-numeric"):
        read_evrptw(path)
    path.write_text(HEADER + "\nD0 d 0 0 0 0 1000 0\nC1 c 1 1 1 0 10 0\n")
    with pytest.raises(InputError, match="missing parameter line"):
        read_evrptw(path)
    assert not is_evrptw_file(path)


def test_checker_partial_recharge_by_hand(tmp_path: Path) -> None:
    # depot closes at 320: charging what the next leg needs returns at 310
    inst = read_evrptw(_instance(tmp_path, ["C2 c 90 0 10 0 1000 10"], depot_due=320))
    ok = check_routes(inst, [["D0", "S1", "C2", "S1", "D0"]])
    assert ok.complete and ok.vehicles == 1
    assert ok.distance == pytest.approx(180.0)
    assert ok.routes[0].recharged == pytest.approx(60.0)
    # without the station the battery binds and the checker says so
    bad = check_routes(inst, [["D0", "C2", "D0"]])
    assert not bad.feasible and "battery" in bad.violations[0]
    # D0-C2-S1 is 130 > Q before the first charge
    assert not check_routes(inst, [["D0", "C2", "S1", "D0"]]).feasible
    # the search's fixed-route evaluation agrees
    assert RouteEvaluator(inst).simulate([0, 2, 3, 2, 0]) == (0, -1)


def test_checker_finds_charge_early_plans(tmp_path: Path) -> None:
    # C2 opens at 200: filling up (50) at the first S1 visit uses time spent waiting anyway and
    # returns at 320; charging only what the next leg needs (10, then 50) returns at 400 > 330
    inst = read_evrptw(_instance(tmp_path, ["C2 c 90 0 10 200 1000 10"], depot_due=330))
    assert check_routes(inst, [["D0", "S1", "C2", "S1", "D0"]]).complete
    ev = RouteEvaluator(inst)
    assert ev.simulate([0, 2, 3, 2, 0])[0] == 2
    assert ev.simulate([0, 2, 3, 2, 0], full=True) == (0, -1)
    res = solve_evrptw(inst, time_limit_s=1.0, iterations=20)
    assert res.status == "success"
    assert res.routes == [["D0", "S1", "C2", "S1", "D0"]]
    assert res.distance == pytest.approx(180.0)


def test_checker_counts_duplicates_unknown_and_windows(tmp_path: Path) -> None:
    inst = read_evrptw(_instance(tmp_path, ["C1 c 30 40 10 0 1000 10", "C2 c 30 20 10 0 40 10"]))
    res = check_routes(inst, [["D0", "C1", "D0"], ["C1", "C9"]])
    assert any("unknown StringID(s) C9" in v for v in res.violations)
    res = check_routes(inst, [["D0", "C1", "D0"], ["D0", "C1", "D0"]])
    assert "customer C1 served by routes 0 and 1" in res.violations
    assert res.unserved == ["C2"]
    res = check_routes(inst, [["D0", "C1", "C2", "D0"]])
    assert any("time window: C2" in v for v in res.violations)


def test_search_serves_a_station_route_and_names_what_binds(tmp_path: Path) -> None:
    rows = [
        "C2 c 90 0 10 0 1000 10",
        "C3 c 10 0 200 0 1000 10",  # demand 200 > capacity 100
        "C4 c 0 400 10 0 1000 10",  # 400 from the depot and every station, Q = 120
        "C5 c 0 50 10 0 20 10",  # due 20 but 50 away at velocity 1
    ]
    inst = read_evrptw(_instance(tmp_path, rows))
    res = solve_evrptw(inst, time_limit_s=1.0, iterations=20)
    assert res.status == "partial"
    assert res.unserved == ["C3", "C4", "C5"]
    assert res.routes == [["D0", "S1", "C2", "S1", "D0"]]
    assert res.distance == pytest.approx(180.0)
    assert "C3: capacity" in res.reason
    assert "C4: battery" in res.reason
    assert "C5: time window" in res.reason
    assert "fleet" not in res.reason


@needs_ev
def test_checker_scores_published_best_known_routes_exactly() -> None:
    """All 56 Erdelic (2022) partial-recharge route sets: feasible, complete, published
    distance to 1e-4 and vehicle count."""
    with (EV / "bks-erdelic2022-pr.tsv").open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) == 56
    for row in rows:
        inst = read_evrptw(EV / "100" / f"{row['INSTANCE'].lower()}_21.txt")
        res = check_routes(inst, parse_configuration(row["CONFIGURATION"]))
        assert res.complete, (row["INSTANCE"], res.violations)
        assert res.distance == pytest.approx(float(row["TOTAL_DISTANCE"]), abs=1e-4)
        assert res.vehicles == int(row["NUM_VEHICLES"])
        assert sum(r.recharged for r in res.routes) <= float(row["RECHARGING_AMOUNT"]) + 1e-4


@needs_ev
def test_search_finds_published_optimum_of_c101c5() -> None:
    # Schneider et al. (2014), Table: c101C5, 2 vehicles, 257.75
    inst = read_evrptw(EV / "5" / "c101C5.txt")
    res = solve_evrptw(inst, time_limit_s=2.0, seed=0, iterations=300)
    assert res.status == "success" and res.unserved == []
    assert res.vehicles == 2
    assert res.distance == pytest.approx(257.75, abs=0.01)
    assert check_routes(inst, res.routes).complete


@needs_ev
def test_fleet_size_is_named_only_when_it_binds() -> None:
    inst = read_evrptw(EV / "5" / "c101C5.txt")
    res = solve_evrptw(inst, time_limit_s=1.0, max_vehicles=1, iterations=50)
    assert res.status == "partial" and res.vehicles == 1 and res.unserved
    assert "fleet size" in res.reason


@needs_ev
def test_cli_solves_evrptw_and_writes_json(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from greenlane.webapp.cli_vrp import vrp

    out = tmp_path / "sol.json"
    args = ["solve", str(EV / "5" / "c101C5.txt"), "--time-limit", "1", "--iterations", "50"]
    result = CliRunner().invoke(vrp, [*args, "--output", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["status"] == "success" and data["unserved"] == []
    assert data["vehicles"] == len(data["routes"]) == 2
    assert all(r[0] == "D0" and r[-1] == "D0" for r in data["routes"])
    served = sorted(s for r in data["routes"] for s in r if s.startswith("C"))
    assert served == ["C100", "C12", "C30", "C64", "C85"]
    inst = read_evrptw(EV / "5" / "c101C5.txt")
    assert check_routes(inst, data["routes"]).distance == pytest.approx(data["distance"], 1e-6)
    forced = CliRunner().invoke(vrp, [*args, "--format", "evrptw"])
    assert forced.exit_code == 0 and json.loads(forced.output)["vehicles"] == 2


def test_cli_rejects_a_broken_evrptw_file(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from greenlane.webapp.cli_vrp import vrp

    path = _instance(tmp_path, ["C1 c 30 40 ten 0 1000 10"])
    result = CliRunner().invoke(vrp, ["solve", str(path), "--format", "evrptw"])
    assert result.exit_code == 2
    assert "hand.txt:5: non-numeric" in result.output
    assert "Traceback" not in result.output


def test_benchmark_scores_gaps_only_at_best_known_vehicles() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "evrptw_bench", Path(__file__).resolve().parents[2] / "benchmarks" / "evrptw.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["evrptw_bench"] = bench  # dataclasses resolve annotations through it
    spec.loader.exec_module(bench)
    bks = {"c101": (12, 1000.0), "r101": (18, 1600.0)}
    mk = bench.Run
    runs = [
        mk("c101", "greenlane", 12, 1010.0, 100, 100, True),  # +1.00 %
        mk("c101", "routingblocks", 15, 1350.0, 100, 100, True),  # more vehicles: no gap
        mk("r101", "greenlane", 18, 1640.0, 100, 100, True),  # +2.50 %
        mk("r101", "routingblocks", 18, 1600.0, 99, 100, True),  # one customer unserved
    ]
    assert bench._gap(runs[0], bks["c101"]) == pytest.approx(1.0)
    assert bench._gap(runs[1], bks["c101"]) is None
    assert bench._gap(runs[3], bks["r101"]) is None
    assert bench._better(runs[0], runs[1]) and bench._better(runs[2], runs[3])
    text = bench.summarise(runs, bks, ["greenlane", "routingblocks"])
    assert "| c101 | 12 | 1000.0 | 12 | 1010.00 | +1.00 | 100/100 |" in text
    assert "2/2 instances feasible with every customer served; 2 at no more vehicles" in text
    assert "mean distance gap +1.75 % (max +2.50 %)" in text
    assert "2 wins, 0 losses, 0 ties over 2 instances" in text


# --- charging curve and load-dependent consumption ------------------------------------------


def test_charge_hours_piecewise_by_hand() -> None:
    # 100 kWh battery, 100 kW to 80 % (0.01 h/kWh), 50 kW above (0.02 h/kWh):
    # 70 % -> 90 % = 10 kWh / 100 kW + 10 kWh / 50 kW = 0.1 h + 0.2 h = 0.3 h
    segs = [(0.0, 80.0, 0.01), (80.0, 100.0, 0.02)]
    assert charge_hours(segs, 70.0, 90.0) == pytest.approx(0.3)
    assert charge_hours(segs, 10.0, 30.0) == pytest.approx(0.2)  # 20 kWh / 100 kW
    validate_curve(((80.0, 0.01), (100.0, 0.02)), 100.0, "curve")
    with pytest.raises(InputError, match="concave"):
        validate_curve(((80.0, 0.02), (100.0, 0.01)), 100.0, "curve")
    with pytest.raises(InputError, match="full battery"):
        validate_curve(((80.0, 0.01),), 100.0, "curve")


def test_instance_rejects_a_rising_power_curve(tmp_path: Path) -> None:
    inst = read_evrptw(_instance(tmp_path, ["C1 c 30 40 10 0 1000 10"]))
    with pytest.raises(InputError) as err:
        replace(inst, curve=((60.0, 4.0), (120.0, 2.0)))
    assert err.value.field == "curve[1]"


def test_curve_segments_take_the_slower_of_vehicle_and_station(tmp_path: Path) -> None:
    inst = read_evrptw(_instance(tmp_path, ["C1 c 110 0 10 0 1000 0"]))
    curved = replace(
        inst, curve=((96.0, 2.0), (120.0, 4.0)), station_recharge_time=(0.0, 3.0, 0.0, 0.0)
    )
    # S0 (node 1) is limited to 1/3 power: max(2, 3) = 3 below 96, max(4, 3) = 4 above
    assert curved.charge_segments(1) == [(0.0, 96.0, 3.0), (96.0, 120.0, 4.0)]
    assert curved.charge_segments(2) == [(0.0, 96.0, 2.0), (96.0, 120.0, 4.0)]


def test_checker_and_search_with_a_charging_curve(tmp_path: Path) -> None:
    # C1 at (110, 0): S1 (50, 0) -> C1 -> S1 is 120 = Q, so the vehicle leaves S1 full.
    # D0-S1 50: arrive with 70. Linear (g = 2): 50 units = 100; curve (g = 2 to 96, 4 above):
    # 26 x 2 + 24 x 4 = 148. Back at S1 with 0, 50 more to reach D0: 50 x 2 = 100 both ways.
    # Route time = 220 driving + 200 (linear) or 248 (curve) = 420 or 468.
    path = _instance(tmp_path, ["C1 c 110 0 10 0 1000 0"], depot_due=450.0)
    route = [["D0", "S1", "C1", "S1", "D0"]]
    linear = read_evrptw(path)
    assert check_routes(linear, route).feasible
    curved = replace(linear, curve=((96.0, 2.0), (120.0, 4.0)))
    chk = check_routes(curved, route)
    assert not chk.feasible and "time windows with the recharging time" in chk.violations[0]
    loose = replace(read_evrptw(_instance(tmp_path, ["C1 c 110 0 10 0 1000 0"], 470.0)))
    loose = replace(loose, curve=curved.curve)
    chk = check_routes(loose, route)
    assert chk.feasible and chk.routes[0].recharged == pytest.approx(100.0)  # 50 + 50
    assert chk.routes[0].recharges == pytest.approx([0.0, 50.0, 0.0, 50.0, 0.0])
    res = solve_evrptw(loose, time_limit_s=1.0, iterations=10)
    assert res.status == "success" and res.routes == route
    ev = RouteEvaluator(loose)
    assert ev.simulate([0, 2, 3, 2, 0]) == (0, -1)
    ev_tight = RouteEvaluator(curved)
    assert ev_tight.simulate([0, 2, 3, 2, 0])[0] == 2  # the window of D0 fails at 468


def test_load_dependent_consumption_by_hand(tmp_path: Path) -> None:
    # C1 at (30, 40), 50 away, demand 50; r = 1, 0.01 per demand unit on board:
    # delivered: out (1 + 0.5) x 50 = 75, back 1 x 50 = 50 (125 > Q = 120);
    # collected: out 50, back 75. Q = 130 makes both feasible without charging.
    inst = replace(
        read_evrptw(_instance(tmp_path, ["C1 c 30 40 50 0 1000 0"])), load_consumption=0.01
    )
    assert inst.arc_energy([0, 3, 0]) == pytest.approx([75.0, 50.0])
    assert replace(inst, collect=True).arc_energy([0, 3, 0]) == pytest.approx([50.0, 75.0])
    assert RouteEvaluator(inst).arc_energy([0, 3, 0]) == pytest.approx([75.0, 50.0])
    chk = check_routes(inst, [["D0", "C1", "D0"]])
    assert not chk.feasible and "battery: 125.00 needed" in chk.violations[0]
    assert check_routes(replace(inst, battery=130.0), [["D0", "C1", "D0"]]).feasible
    # the search charges at S0 on the depot? No: it must use a station on the way, S1 (50, 0)
    res = solve_evrptw(inst, time_limit_s=1.0, iterations=10)
    assert res.status == "success" and "S1" in res.routes[0]


def test_route_duration_counts_a_late_departure(tmp_path: Path) -> None:
    # C1 at (30, 40), 50 from D0, opens at 200: leave at 150, serve at 200, back at 250,
    # so the shortest duration is 100 (leaving at 0 would wait 150 and last 250)
    inst = read_evrptw(_instance(tmp_path, ["C1 c 30 40 10 200 1000 0"]))
    route = [["D0", "C1", "D0"]]
    assert check_routes(replace(inst, max_duration=100.0), route).feasible
    chk = check_routes(replace(inst, max_duration=99.0), route)
    assert not chk.feasible and "route duration" in chk.violations[0]
    assert RouteEvaluator(replace(inst, max_duration=100.0)).simulate([0, 3, 0]) == (0, -1)
    assert RouteEvaluator(replace(inst, max_duration=99.0)).simulate([0, 3, 0])[0] == 2
    res = solve_evrptw(replace(inst, max_duration=99.0), time_limit_s=1.0, iterations=5)
    assert res.status == "partial" and res.unserved == ["C1"]
    assert res.reason == "C1: route duration (longer than the shift even alone)"
