"""Re-planning after a disruption: how long does a 1 000-shipment plan take to re-plan its hit
shipments? (issue: <= 5 s for a ~100-shipment impact).

Run: ``python benchmarks/replan.py [--size 1000] [--time-limit 5]``. The book and the capacity
scaling come from ``benchmarks/planner.py``; the disruption closes one sea lane (the
Shanghai-Valencia service) and, as a second scenario, Suez + Bab-el-Mandeb. Prints a table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from planner import bench_network, book

from greenlane.routing import PlanOptions, SolverParams, load_network, plan
from greenlane.routing.scenarios.disruptions import parse_disruptions
from greenlane.routing.scenarios.replan import impact

WINDOW = {"start": "2026-11-01T00:00:00Z", "end": "2027-06-01T00:00:00Z"}
SCENARIOS = {
    "lane SEA-CNSHA-ESVLC closed": [
        {"disruption_id": "L", "kind": "lane", "ref": "SEA-CNSHA-ESVLC", **WINDOW}
    ],
    "Suez + Bab-el-Mandeb closed": [
        {"disruption_id": "S", "kind": "passage", "ref": "suez", **WINDOW},
        {"disruption_id": "B", "kind": "passage", "ref": "babalmandab", **WINDOW},
    ],
}


def main() -> None:
    """Plan the book once, then time each scenario's impact + re-plan."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--time-limit", type=float, default=5.0)
    args = parser.parse_args()
    network = bench_network(load_network(), args.size)
    shipments = book(network, args.size)
    options = PlanOptions(solver=SolverParams(time_limit_s=args.time_limit, seed=0, workers=1))
    t = time.perf_counter()
    base = plan(shipments, network, options)
    print(f"base plan: {len(base.shipments)} planned in {time.perf_counter() - t:.1f} s")
    print(
        f"{'scenario':<30} {'hit':>5} {'re-plan s':>10} {'unserved':>9} "
        f"{'dCost CNY':>12} {'dCO2e t':>9}"
    )
    for name, items in SCENARIOS.items():
        ds = parse_disruptions(items, network)
        t = time.perf_counter()
        result = impact(base, shipments, network, ds, options)
        wall = time.perf_counter() - t
        unserved = sum(1 for h in result.hits if h.after is None)
        print(
            f"{name:<30} {len(result.hits):>5} {wall:>10.2f} {unserved:>9} "
            f"{result.delta_cost_cny:>12,.0f} {result.delta_co2e_wtw_kg / 1000:>9.1f}"
        )


if __name__ == "__main__":
    main()
