"""Side-by-side VRP benchmark: greenlane, plain OR-Tools, PyVRP and VROOM.

Each solver gets the same instance in the same integer units (see :mod:`routing.vrp.vrplib_io`),
the same time limit and one thread; every returned plan is checked in exact arithmetic and
scored in the convention of its best-known (DIMACS 1-decimal truncation for the Solomon
distance-only BKS, rounded Euclidean for CVRPLIB X). Prints a Markdown table of gaps.

    python benchmarks/vrp.py --time-limit 30            # the measured subset (12 instances)
    python benchmarks/vrp.py --quick                    # 4 instances at 5 s
    python benchmarks/vrp.py --instances 'solomon/R1*.txt' --time-limit 10
    python benchmarks/vrp.py --rich --time-limit 10     # the first/last-mile model itself
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from greenlane.routing.vrp import VrpProblem  # noqa: E402
from greenlane.routing.vrp.core import CoreProblem, VrpParams, solve_core  # noqa: E402
from greenlane.routing.vrp.vrplib_io import (  # noqa: E402
    BenchmarkInstance,
    benchmark_dir,
    best_known,
    check_routes,
    dimacs_cost,
    read_instance,
    route_distance,
    to_core,
)

DEFAULT_INSTANCES = (
    "solomon/C101.txt",
    "solomon/C104.txt",
    "solomon/R101.txt",
    "solomon/R104.txt",
    "solomon/RC101.txt",
    "solomon/RC104.txt",
    "cvrplib-x/X-n101-k25.vrp",
    "cvrplib-x/X-n120-k6.vrp",
    "cvrplib-x/X-n143-k7.vrp",
    "cvrplib-x/X-n162-k11.vrp",
    "cvrplib-x/X-n181-k23.vrp",
    "cvrplib-x/X-n200-k36.vrp",
)
"""Tight (x01) and loose (x04) windows of C1/R1/RC1; X spread over 100-200 customers."""
QUICK_INSTANCES = (
    "solomon/R101.txt",
    "solomon/RC105.txt",
    "cvrplib-x/X-n101-k25.vrp",
    "cvrplib-x/X-n143-k7.vrp",
)
SOLVERS = ("greenlane", "ortools", "pyvrp", "vroom")

Routes = list[list[int]]


@dataclass
class Run:
    """One solver on one instance."""

    solver: str
    routes: Routes
    wall_s: float
    note: str = ""


def run_greenlane(inst: BenchmarkInstance, core: CoreProblem, limit: float, seed: int) -> Run:
    """greenlane's core, engine 'auto' (PyVRP-seeded OR-Tools on these plain problems)."""
    sol = solve_core(core, VrpParams(time_limit_s=limit, seed=seed))
    stages = ", ".join(f"{e} {o}" for e, o, _ in sol.stages)
    return Run(
        "greenlane", [r for _, r in sorted(sol.routes.items()) if r], sol.wall_time_s, stages
    )


def run_ortools(inst: BenchmarkInstance, core: CoreProblem, limit: float, seed: int) -> Run:
    """Textbook OR-Tools: PATH_CHEAPEST_ARC + GUIDED_LOCAL_SEARCH.

    Every customer gets a disjunction with a prohibitive penalty (the OR-Tools guide's remedy
    when the first-solution heuristic cannot place all customers, which happens on tight
    Solomon windows); a plan that still drops customers is reported as infeasible.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    t0 = time.perf_counter()
    n, k = core.num_nodes, len(core.vehicles)
    manager = pywrapcp.RoutingIndexManager(n, k, 0)
    routing = pywrapcp.RoutingModel(manager)
    dist = routing.RegisterTransitMatrix(core.arc_cost[0].tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(dist)
    assert core.delivery is not None
    demand = routing.RegisterUnaryTransitVector([int(x) for x in core.delivery[:, 0]])
    routing.AddDimension(demand, 0, inst.capacity, True, "load")
    if core.travel_time is not None and core.time_windows is not None:
        assert core.service_time is not None
        tmat = core.travel_time[0] + core.service_time[:, None]
        cb = routing.RegisterTransitMatrix(tmat.tolist())
        horizon = int(core.time_windows[0, 1])
        routing.AddDimension(cb, horizon, horizon, False, "time")
        tdim = routing.GetDimensionOrDie("time")
        for node in range(1, n):
            tdim.CumulVar(manager.NodeToIndex(node)).SetRange(
                int(core.time_windows[node, 0]), int(core.time_windows[node, 1])
            )
        for v in range(k):
            tdim.CumulVar(routing.Start(v)).SetRange(0, horizon)
            tdim.CumulVar(routing.End(v)).SetRange(0, horizon)
    penalty = int(core.arc_cost[0].max()) * n * 100
    for node in range(1, n):
        routing.AddDisjunction([manager.NodeToIndex(node)], penalty)
    sp = pywrapcp.DefaultRoutingSearchParameters()
    sp.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    sp.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    sp.time_limit.FromMilliseconds(int(limit * 1000))
    sol = routing.SolveWithParameters(sp)
    routes: Routes = []
    if sol is not None:
        for v in range(k):
            idx, route = sol.Value(routing.NextVar(routing.Start(v))), []
            while not routing.IsEnd(idx):
                route.append(manager.IndexToNode(idx))
                idx = sol.Value(routing.NextVar(idx))
            if route:
                routes.append(route)
    return Run(
        "ortools", routes, time.perf_counter() - t0, "" if sol is not None else "no solution"
    )


def run_pyvrp(inst: BenchmarkInstance, core: CoreProblem, limit: float, seed: int) -> Run:
    """PyVRP's iterated local search on the same integer matrices."""
    sol = solve_core(core, VrpParams(time_limit_s=limit, seed=seed, engine="pyvrp"))
    return Run("pyvrp", [r for _, r in sorted(sol.routes.items()) if r], sol.wall_time_s)


def run_vroom(inst: BenchmarkInstance, core: CoreProblem, limit: float, seed: int) -> Run:
    """VROOM (pyvroom), exploration level 5, one thread, timeout = the time limit."""
    import vroom

    t0 = time.perf_counter()
    vi = vroom.Input()
    tmat = core.arc_cost[0] if core.travel_time is None else core.travel_time[0]
    vi.set_durations_matrix(profile="car", matrix_input=np.asarray(tmat, dtype=np.uint32))
    tw = core.time_windows
    horizon = None if tw is None else vroom.TimeWindow(int(tw[0, 0]), int(tw[0, 1]))
    vi.add_vehicle(
        [
            vroom.Vehicle(v + 1, start=0, end=0, capacity=[inst.capacity], time_window=horizon)
            for v in range(len(core.vehicles))
        ]
    )
    assert core.delivery is not None
    jobs = []
    for node in range(1, core.num_nodes):
        kw: dict[str, object] = {}
        if tw is not None:
            assert core.service_time is not None
            kw = {
                "default_service": int(core.service_time[node]),
                "time_windows": [vroom.TimeWindow(int(tw[node, 0]), int(tw[node, 1]))],
            }
        jobs.append(vroom.Job(node, location=node, delivery=[int(core.delivery[node, 0])], **kw))
    vi.add_job(jobs)
    sol = vi.solve(exploration_level=5, nb_threads=1, timeout=timedelta(seconds=limit))
    routes: Routes = []
    df = sol.routes
    for _, grp in df.groupby("vehicle_id", sort=True):
        route = [int(x) for x in grp[grp["type"] == "job"]["id"]]
        if route:
            routes.append(route)
    return Run("vroom", routes, time.perf_counter() - t0)


RUNNERS: dict[str, Callable[[BenchmarkInstance, CoreProblem, float, int], Run]] = {
    "greenlane": run_greenlane,
    "ortools": run_ortools,
    "pyvrp": run_pyvrp,
    "vroom": run_vroom,
}


def rich_problem(seed: int, n: int) -> VrpProblem:
    """A synthetic first/last-mile problem around the Shenzhen factory: ``n`` stops (every
    fifth a pickup), 4 h windows, diesel + two BEV types, stations of ``data/``, 200 CNY/t."""
    import random

    from greenlane.routing.vrp import Depot, FleetEntry, Stop

    rng = random.Random(seed)
    depot = Depot("F-SHENZHEN", 22.6567, 114.0297, 6.0, 22.0, "CN-South")
    stops = []
    for i in range(n):
        start = rng.uniform(7.0, 15.0)
        stops.append(
            Stop(
                f"S{i}",
                22.6567 + rng.uniform(-0.5, 0.5),
                114.0297 + rng.uniform(-0.7, 0.7),
                kind="pickup" if i % 5 == 0 else "delivery",
                mass_kg=rng.choice([500.0, 1000.0, 2000.0, 4000.0]),
                service_h=0.25,
                tw_start_h=start,
                tw_end_h=start + 4.0,
            )
        )
    count = max(2, n // 16)
    fleet = tuple(
        FleetEntry(t, count, shift_h=10.0)
        for t in ("truck_40t_diesel", "truck_40t_bev", "rigid_18t_bev")
    )
    return VrpProblem(
        (depot,), tuple(stops), fleet, carbon_price_cny_per_t=200.0, station_radius_km=60.0
    )


def run_rich(limit: float, sizes: tuple[int, ...] = (60, 100, 150)) -> None:
    """greenlane's own model: OR-Tools alone against the PyVRP-seeded hybrid, same time."""
    from greenlane.routing.vrp import solve_vrp

    print(
        f"\nFirst/last-mile model (rich_problem), {limit:g} s per run: plan cost incl. "
        "carbon [CNY] (stops dropped)\n"
    )
    print("| stops | OR-Tools alone | hybrid (PyVRP-relaxed seed) | hybrid vs OR-Tools |")
    print("|---:|---:|---:|---:|")
    for seed, n in enumerate(sizes, start=1):
        res = {}
        for engine in ("ortools", "hybrid"):
            sol = solve_vrp(rich_problem(seed, n), VrpParams(time_limit_s=limit, engine=engine))
            res[engine] = sol
        a, b = res["ortools"], res["hybrid"]
        print(
            f"| {n} | {a.cost_cny:.0f} ({len(a.dropped)}) | {b.cost_cny:.0f} "
            f"({len(b.dropped)}) | {(b.cost_cny / a.cost_cny - 1) * 100:+.1f} % |",
            flush=True,
        )


def score(inst: BenchmarkInstance, run: Run) -> dict[str, object]:
    """Check a run and score it in the best-known's convention."""
    bks = best_known(inst.path)
    issues = check_routes(inst, run.routes)
    dist = route_distance(inst, run.routes)
    scored = dimacs_cost(inst, run.routes) if bks and bks.convention == "dimacs" else dist
    gap = None if bks is None or issues else (scored / bks.cost - 1) * 100
    return {
        "solver": run.solver,
        "distance": round(dist, 2),
        "scored": scored,
        "vehicles": len(run.routes),
        "gap_pct": gap,
        "wall_s": round(run.wall_s, 1),
        "violations": issues,
        "note": run.note,
    }


def _fmt(res: dict[str, object]) -> str:
    if res["violations"]:
        return "infeasible"
    gap = res["gap_pct"]
    return f"{gap:.2f} ({res['vehicles']})" if isinstance(gap, float) else "-"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print Markdown tables; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=30.0, help="seconds per solver run")
    ap.add_argument("--instances", nargs="*", help="globs under the benchmark folder")
    ap.add_argument("--quick", action="store_true", help="4 instances at 5 s")
    ap.add_argument("--solvers", default=",".join(SOLVERS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bench-dir", type=Path, default=benchmark_dir())
    ap.add_argument("--json", type=Path, help="also write all results here")
    ap.add_argument(
        "--rich",
        action="store_true",
        help="instead: greenlane's first/last-mile model, OR-Tools vs hybrid",
    )
    args = ap.parse_args(argv)
    if args.rich:
        run_rich(args.time_limit)
        return 0
    limit = 5.0 if args.quick and "--time-limit" not in (argv or sys.argv) else args.time_limit
    patterns = args.instances or (QUICK_INSTANCES if args.quick else DEFAULT_INSTANCES)
    paths = sorted({p for pat in patterns for p in args.bench_dir.glob(pat)})
    if not paths:
        print(f"no instances match {patterns} under {args.bench_dir}", file=sys.stderr)
        return 2
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    t_start = time.perf_counter()
    rows: list[dict[str, object]] = []
    for path in paths:
        inst = read_instance(path)
        core = to_core(inst)
        bks = best_known(path)
        results = {}
        for name in solvers:
            results[name] = score(inst, RUNNERS[name](inst, core, limit, args.seed))
            print(
                f"  {inst.name:14s} {name:10s} {_fmt(results[name]):>14s} "
                f"dist={results[name]['distance']} t={results[name]['wall_s']}s "
                f"{results[name]['note']}",
                file=sys.stderr,
                flush=True,
            )
        rows.append(
            {
                "instance": inst.name,
                "path": str(path.relative_to(args.bench_dir)),
                "customers": inst.num_nodes - 1,
                "bks": None if bks is None else bks.cost,
                "convention": None if bks is None else bks.convention,
                "results": results,
            }
        )
    print(
        f"\nTime limit {limit:g} s per run, one thread, seed {args.seed}. "
        f"Cells: gap to BKS % (vehicles).\n"
    )
    print("| instance | n | BKS (conv.) | " + " | ".join(solvers) + " |")
    print("|---|---:|---:|" + "---:|" * len(solvers))
    for row in rows:
        res = row["results"]
        assert isinstance(res, dict)
        cells = " | ".join(_fmt(res[s]) for s in solvers)
        print(
            f"| {row['instance']} | {row['customers']} | {row['bks']} ({row['convention']}) "
            f"| {cells} |"
        )
    groups = {
        "Solomon": [r for r in rows if str(r["path"]).startswith("solomon/")],
        "X": [r for r in rows if str(r["path"]).startswith("cvrplib-x/")],
        "all": rows,
    }
    for label, grp in groups.items():
        if not grp:
            continue
        means: list[str] = []
        for s in solvers:
            gaps = [r["results"][s]["gap_pct"] for r in grp]  # type: ignore[index]
            ok = [g for g in gaps if isinstance(g, float)]
            means.append(
                f"{statistics.fmean(ok):.2f}"
                + ("" if len(ok) == len(gaps) else f" ({len(gaps) - len(ok)} failed)")
                if ok
                else "-"
            )
        print(f"| **average {label}** | | | " + " | ".join(means) + " |")
    if "greenlane" in solvers and "ortools" in solvers:
        better = sum(
            _lt(r["results"]["greenlane"], r["results"]["ortools"])  # type: ignore[index]
            for r in rows
        )
        print(f"\ngreenlane better than plain OR-Tools on {better}/{len(rows)} instances.")
    sol_rows = [r for r in rows if r["convention"] == "dimacs" and "greenlane" in solvers]
    if sol_rows:
        print(
            "\nSolomon, greenlane, unrounded Euclidean distance (the solver's objective) "
            "against the DIMACS distance-only BKS:\n"
        )
        print("| instance | distance (unrounded) | DIMACS-scored | BKS | gap unrounded % |")
        print("|---|---:|---:|---:|---:|")
        for r in sol_rows:
            g = r["results"]["greenlane"]  # type: ignore[index]
            bks_cost = float(r["bks"])  # type: ignore[arg-type]
            print(
                f"| {r['instance']} | {g['distance']:.2f} | {g['scored']:.1f} | {bks_cost} | "
                f"{(g['distance'] / bks_cost - 1) * 100:.2f} |"
            )
    print(f"\nTotal wall time {time.perf_counter() - t_start:.0f} s.")
    if args.json:
        args.json.write_text(
            json.dumps({"time_limit_s": limit, "rows": rows}, indent=1, default=str)
        )
    return 0


def _lt(a: dict[str, object], b: dict[str, object]) -> bool:
    ga, gb = a["gap_pct"], b["gap_pct"]
    if not isinstance(ga, float):
        return False
    return not isinstance(gb, float) or ga < gb - 1e-9


if __name__ == "__main__":
    raise SystemExit(main())
