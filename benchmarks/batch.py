"""Batch planning benchmark: speed-up from 1 to 2 Dask workers, memory per worker, a full year.

    python benchmarks/batch.py                       # 1 vs 2 workers on the first 4 weeks
    python benchmarks/batch.py --weeks 53 --only 2   # the whole synthetic year on 2 workers
    python benchmarks/batch.py --adversarial 10000   # solver time limits on a hostile book

A synthetic year of ``--shipments`` shipments (``routing.scenarios.batch.synthetic_year``,
seed 0) is cut to its first ``--weeks`` ready weeks, partitioned by lane group and week, and
planned on a
Dask LocalCluster on 127.0.0.1 with 1 and then 2 single-threaded worker processes. Printed:
wall time, partitions/s, shipments/s, speed-up, the peak RSS of each worker process (from
``getrusage`` inside the tasks) and the load average, since this machine is shared.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shipments", type=int, default=100_000, help="Shipments in the synthetic year."
    )
    parser.add_argument("--weeks", type=int, default=4, help="Ready weeks planned (1..52).")
    parser.add_argument("--time-limit", type=float, default=5.0, help="Per partition [s].")
    parser.add_argument("--max-partition", type=int, default=80)
    parser.add_argument(
        "--only",
        type=int,
        default=None,
        help="Run with this many workers only (default: 1 then 2).",
    )
    parser.add_argument(
        "--output",
        default=None,
        help="Write the last run's Parquet + chart here (e.g. year.parquet).",
    )
    parser.add_argument(
        "--adversarial",
        type=int,
        default=None,
        metavar="N",
        help="Instead: N shipments to one small hub; wall time vs the limit.",
    )
    args = parser.parse_args()
    if args.adversarial:
        adversarial(args.adversarial)
        return

    from pathlib import Path

    from greenlane.routing import load_network
    from greenlane.routing.scenarios import batch

    network = load_network()
    year = batch.synthetic_year(network, args.shipments, seed=0)
    start = min(s.ready_at for s in year)
    end = start + timedelta(weeks=args.weeks)
    book = [s for s in year if s.ready_at < end]
    options = batch.default_options(args.time_limit)
    tasks = batch.make_tasks({"year": book}, network, options, max_partition=args.max_partition)
    sizes = sorted(len(t.partition.shipments) for t in tasks)
    print(f"machine: {os.cpu_count()} cores; load avg (1/5 min) before: {_load()}")
    print(
        f"book: {len(book)} shipments (ready in the first {args.weeks} week(s) of a "
        f"{args.shipments}-shipment year), {len(tasks)} partitions (median "
        f"{sizes[len(sizes) // 2]}, max {sizes[-1]} shipments), time limit "
        f"{args.time_limit} s, gap 1 %"
    )
    rows = []
    base_wall = None
    result = None
    for workers in [args.only] if args.only else [1, 2]:
        t0 = time.perf_counter()
        result = batch.run_batch(tasks, workers=workers)
        wall = time.perf_counter() - t0
        frame = result.partition_frame()
        rss = frame.groupby("worker")["worker_max_rss_mb"].max()
        errors = int(frame["status"].eq("error").sum())
        if errors:
            first = frame[frame["status"].eq("error")].iloc[0]
            print(f"{workers} worker(s): {errors} failed partition(s); first: {first['error']}")
        planned = int(frame["planned"].sum())
        base_wall = base_wall or wall
        rows.append(
            (
                workers,
                wall,
                len(tasks) / wall,
                len(book) / wall,
                base_wall / wall,
                rss.max(),
                len(rss),
                planned,
                errors,
                _load(),
            )
        )
    print()
    print(
        "| workers | wall [s] | partitions/s | shipments/s | speed-up | peak RSS per worker "
        "[MiB] | planned | errors | load avg after |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for w, wall, pps, sps, up, rss, _n, planned, errors, load in rows:
        print(
            f"| {w} | {wall:.1f} | {pps:.2f} | {sps:.1f} | {up:.2f}x | {rss:.0f} | "
            f"{planned}/{len(book)} | {errors} | {load} |"
        )
    if args.output and result is not None:
        out = Path(args.output)
        written = batch.write_parquet(result, out)
        png = batch.summary_chart(result, out.with_suffix(".png"))
        print("wrote", ", ".join(str(p) for p in [*written, png]))


def adversarial(n: int, limits: tuple[float, ...] = (1.0, 5.0)) -> None:
    """N same-window shipments Nanjing -> Nairobi: build, model and solve times vs limit."""
    from datetime import UTC, datetime

    from greenlane.routing import PlanOptions, SolverParams, load_network
    from greenlane.routing.planner.cpsat import build_model
    from greenlane.routing.planner.problem import build_problem
    from greenlane.routing.planner.shipments import Shipment
    from greenlane.routing.planner.solve import solve_problem

    ready = datetime(2026, 3, 2, tzinfo=UTC)
    book = [
        Shipment(f"A{i}", "F-NANJING", "C-NAIROBI", 5.0 + i % 7, ready, ready + timedelta(days=30))
        for i in range(n)
    ]
    network = load_network()
    print(f"machine: {os.cpu_count()} cores; load avg (1/5 min) before: {_load()}")
    print(f"adversarial book: {n} shipments F-NANJING -> C-NAIROBI, one ready time, 30 days")
    print()
    print(
        "| time limit [s] | objective | solves | build_problem [s] | build_model [s] | "
        "solve_problem [s] | status | planned |"
    )
    print("|---:|---|---:|---:|---:|---:|---|---:|")
    for limit in limits:
        for changes, solves in (({}, 1), ({"target_year": 2030}, 4)):
            opts = PlanOptions(solver=SolverParams(time_limit_s=limit, workers=1), **changes)
            t0 = time.perf_counter()
            problem = build_problem(book, network, opts)
            t1 = time.perf_counter()
            cp = build_model(problem, opts)
            t2 = time.perf_counter()
            plan = solve_problem(problem, opts, cp)
            t3 = time.perf_counter()
            label = "cost" if not changes else "cost, 2030 target cap"
            print(
                f"| {limit:g} | {label} | {solves} | {t1 - t0:.1f} | {t2 - t1:.1f} | "
                f"{t3 - t2:.1f} | {plan.status} | {len(plan.shipments)}/{n} |"
            )
    print()
    print(f"load avg after: {_load()}")


if __name__ == "__main__":
    main()
