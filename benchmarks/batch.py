"""Batch planning benchmark: one ``greenlane plan`` vs ``greenlane batch`` on 1 and 2 workers.

    python benchmarks/batch.py                           # 2,000-shipment synthetic year
    python benchmarks/batch.py --target-year 2030        # the same with the 2030 cap
    python benchmarks/batch.py --shipments 10000 --workers 2      # batch rows only (see below)
    python benchmarks/batch.py --shipments 10000 --workers 2 --plan-api --plan-time-limit 60
    python benchmarks/batch.py --shipments 100000 --workers 2 --skip-plan   # the year
    python benchmarks/batch.py --adversarial 10000       # solver time limits on a hostile book

The book is ``synthetic_year(network, --shipments, seed=0)``
(``routing.scenarios.batch``) written as a CSV book. Each run is the command-line program in
its own process, timed from start to exit, back to back on the same book: ``greenlane plan
BOOK --time-limit T``, then ``greenlane batch BOOK --workers W`` (a Dask LocalCluster on
127.0.0.1; the journal is cleared first, so nothing is resumed; no chart is drawn, which
takes ~3 s more). Printed as a Markdown
table: wall time, shipments/s, speed-up over the plan, planned, cost and its difference to
the plan, WTW intensity, whether the target cap holds, the carbon price the coordinator
found, the peak RSS of a worker process and the load average around each run (this
machine is shared). CPU is the user + system time of the command and every process it
started (``RUSAGE_CHILDREN``); "busiest worker's task CPU" is the largest sum of task CPU
time on one worker over every task it computed (repair trials included), what bounds a
batch run on free cores. ``greenlane plan`` refuses books
above ``MAX_BOOK_ROWS`` (5,000) shipments, so larger books get batch rows only, or with
``--plan-api`` a first row that plans the book through the Python API (``routing.plan``,
in its own process, with the options ``greenlane plan`` passes); without it the first row
is then the reference of "speed-up" and "cost vs first". The partition size is the
command's own (one partition per worker within 250..1,000) unless ``--partition-size`` is
given.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(
    r"cost\s+([\d,.]+) CNY\s+CO2e\s+([\d,.]+) kg WTW\s+intensity\s+([\d.]+) g/tkm.*"
    r"\bplanned (\d+)"
)
PHASE = re.compile(r"partitions in ([\d.]+) s")
WORKER_CPU = re.compile(r"task CPU per worker \[s\]: ([\d.]+)")
PRICE = re.compile(r"carbon price found ([\d,.]+) CNY/t CO2e(?:, duality gap ([\d.-]+) %)?")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def _python(argv: list[str], what: str, ok: tuple[int, ...] = (0, 1)) -> tuple[float, float, str]:
    """Run ``python argv`` from the project root: wall [s], CPU of it and its children [s],
    stdout + stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cpu0 = _children_cpu_s()
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    wall = time.perf_counter() - t0
    if done.returncode not in ok:
        raise SystemExit(f"{what} failed:\n{done.stderr[-2000:]}")
    return wall, _children_cpu_s() - cpu0, done.stdout + done.stderr


def _greenlane(*args: str) -> tuple[float, float, str]:
    return _python(["-m", "greenlane", *args], f"greenlane {' '.join(args)}")


def _children_cpu_s() -> float:
    """User + system CPU time of finished child processes and their descendants [s]."""
    import resource

    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def write_book(path: Path, n: int) -> int:
    """The synthetic year of ``n`` shipments (seed 0) as a CSV book; returns its length."""
    from greenlane.routing import load_network
    from greenlane.routing.scenarios import batch

    year = batch.synthetic_year(load_network(), n, seed=0)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["shipment_id", "origin", "destination", "mass_t", "ready_at", "due_at"])
        for s in year:
            out.writerow(
                [
                    s.shipment_id,
                    s.origin,
                    s.destination,
                    s.mass_t,
                    s.ready_at.isoformat(),
                    s.due_at.isoformat(),
                ]
            )
    return len(year)


def _cap_met(intensity: float, target_year: int | None) -> str:
    if target_year is None:
        return "-"
    from greenlane.emissions.intensity import default_target

    cap = default_target().intensity_g_per_tkm(target_year)
    return "yes" if intensity <= cap * (1 + 1e-9) else f"no (cap {cap:.2f})"


def _plan_row(run: str, wall: float, cpu: float, text: str, before: str) -> dict[str, object]:
    """The table row of one plan from its summary line."""
    m = SUMMARY.search(text)
    if m is None:
        raise SystemExit(f"no summary line in the plan output:\n{text[-2000:]}")
    shadow = re.search(r"shadow price\D*([\d,.]+)", text)
    return {
        "run": run,
        "workers": 1,
        "wall": wall,
        "cpu": f"{cpu:.1f}",
        "worker_cpu": "-",
        "cost": float(m.group(1).replace(",", "")),
        "intensity": float(m.group(3)),
        "planned": int(m.group(4)),
        "price": shadow.group(1) + " (shadow)" if shadow else "-",
        "rss": "-",
        "load": f"{before} / {_load()}",
    }


def run_plan(book: Path, args: argparse.Namespace) -> dict[str, object]:
    """One ``greenlane plan`` of the book."""
    extra = ["--target-year", str(args.target_year)] if args.target_year else []
    before = _load()
    wall, cpu, text = _greenlane(
        "plan", str(book), "--time-limit", str(args.plan_time_limit), *extra
    )
    return _plan_row(f"plan --time-limit {args.plan_time_limit:g}", wall, cpu, text, before)


PLAN_API = """
import sys
from pathlib import Path
from greenlane.routing import load_network, plan, read_book
from greenlane.routing.planner.params import SolverParams
from greenlane.routing.planner.problem import PlanOptions
from greenlane.webapp.cli_batch import MAX_BATCH_BOOK_ROWS
book = read_book(Path(sys.argv[1]), max_rows=MAX_BATCH_BOOK_ROWS)
year = min(s.ready_at.year for s in book)
target = None if sys.argv[3] == "-" else int(sys.argv[3])
options = PlanOptions(
    solver=SolverParams(time_limit_s=float(sys.argv[2])), travel_year=year, target_year=target
)
p = plan(book, load_network(), options)
print(f"cost {p.cost_cny:,.2f} CNY  CO2e {p.co2e_wtw_kg:,.1f} kg WTW  intensity "
      f"{p.intensity_g_per_tkm:.2f} g/tkm  planned {len(p.shipments)}")
"""
"""One plan of a book above the command line's limit, through the Python API in its own
process (``routing.plan``, the options ``greenlane plan`` passes)."""


def run_plan_api(book: Path, args: argparse.Namespace) -> dict[str, object]:
    """One ``routing.plan`` of the book (books above ``greenlane plan``'s limit)."""
    before = _load()
    target = str(args.target_year or "-")
    wall, cpu, text = _python(
        ["-c", PLAN_API, str(book), str(args.plan_time_limit), target], "routing.plan", ok=(0,)
    )
    run = f"routing.plan (Python API), time limit {args.plan_time_limit:g} s"
    return _plan_row(run, wall, cpu, text, before)


def run_batch(
    book: Path, workers: int, folder: Path, args: argparse.Namespace
) -> dict[str, object]:
    """One ``greenlane batch`` of the book on ``workers`` local workers (nothing resumed)."""
    import pyarrow.parquet as pq

    out = folder / f"batch{workers}.parquet"
    extra = ["--target-year", str(args.target_year)] if args.target_year else []
    before = _load()
    wall, cpu, text = _greenlane(
        "batch",
        str(book),
        "--workers",
        str(workers),
        "--output",
        str(out),
        "--no-progress",
        "--no-resume",
        "--no-chart",
        *([] if args.time_limit is None else ["--time-limit", str(args.time_limit)]),
        *([] if args.partition_size is None else ["--partition-size", str(args.partition_size)]),
        *([] if args.gap is None else ["--gap", str(args.gap)]),
        *extra,
    )
    for line in text.splitlines():
        if line.startswith(f"{book.stem} / "):
            print(f"batch --workers {workers}: {line}")
    frame = pq.read_table(out).to_pandas()
    if frame["status"].eq("error").any():
        print(text[-2000:], file=sys.stderr)
    co2e, tkm = frame["co2e_wtw_kg"].sum(), frame["tkm_gcd"].sum()
    m = PRICE.search(text)
    price = "-"
    if m:
        price = m.group(1) + (f" (gap {m.group(2)} %)" if m.group(2) else "")
    return {
        "run": f"batch --workers {workers}"
        + ("" if args.time_limit is None else f" --time-limit {args.time_limit:g}")
        + ("" if args.gap is None else f" --gap {args.gap:g}")
        + ("" if args.partition_size is None else f" --partition-size {args.partition_size}")
        + f" ({len(frame)} partitions, "
        f"planning {PHASE.search(text).group(1) if PHASE.search(text) else '?'} s)",
        "workers": workers,
        "wall": wall,
        "cpu": f"{cpu:.1f}",
        "worker_cpu": (
            busy.group(1)
            if (busy := WORKER_CPU.search(text))
            else f"{frame.groupby('worker')['task_cpu_s'].sum().max():.1f}"
        ),
        "cost": float(frame["cost_cny"].sum()),
        "intensity": co2e * 1000 / tkm,
        "planned": int(frame["planned"].sum()),
        "price": price,
        "rss": f"{frame['worker_max_rss_mb'].max():.0f}",
        "load": f"{before} / {_load()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=2000, help="Synthetic year size.")
    parser.add_argument("--plan-time-limit", type=float, default=20.0, help="greenlane plan [s].")
    parser.add_argument(
        "--time-limit", type=float, default=None, help="Per partition [s] (default: the command's)."
    )
    parser.add_argument(
        "--partition-size", type=int, default=None, help="Default: the command's own."
    )
    parser.add_argument("--gap", type=float, default=None, help="Default: the command's own.")
    parser.add_argument("--target-year", type=int, default=None)
    parser.add_argument(
        "--workers", default="1,2", help="Comma-separated worker counts for batch runs."
    )
    parser.add_argument(
        "--no-plan", "--skip-plan", action="store_true", help="Skip the greenlane plan run."
    )
    parser.add_argument(
        "--plan-api",
        action="store_true",
        help="Above greenlane plan's row limit: one plan through the Python API instead.",
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
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        book = folder / f"synthetic-{args.shipments}.csv"
        n = write_book(book, args.shipments)
        print(f"machine: {os.cpu_count()} cores; uptime: {_uptime()}")
        print(f"book: synthetic_year(network, {n}, seed=0) as CSV")
        from greenlane.emissions.limits import MAX_BOOK_ROWS

        skip = args.no_plan or n > MAX_BOOK_ROWS
        if n > MAX_BOOK_ROWS and not args.no_plan and not args.plan_api:
            print(f"greenlane plan refuses books above {MAX_BOOK_ROWS} shipments: no plan row")
        rows = [] if skip else [run_plan(book, args)]
        if n > MAX_BOOK_ROWS and args.plan_api and not args.no_plan:
            rows = [run_plan_api(book, args)]
        for w in (int(x) for x in args.workers.split(",")):
            rows.append(run_batch(book, w, folder, args))
    base = rows[0]
    print(f"\ncommit {_commit()}")
    print(
        "| run | wall [s] | CPU [s] | busiest worker's task CPU [s] | shipments/s | speed-up "
        "| planned | cost [CNY] | cost vs first [CNY] "
        "| intensity [g/tkm] | cap met | carbon price [CNY/t] | peak RSS/worker [MiB] "
        "| load 1/5 min before / after |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|")
    for r in rows:
        wall, cost = float(r["wall"]), float(r["cost"])  # type: ignore[arg-type]
        first = float(base["cost"])  # type: ignore[arg-type]
        print(
            f"| {r['run']} | {wall:.1f} | {r['cpu']} | {r['worker_cpu']} | {n / wall:.1f} | "
            f"{float(base['wall']) / wall:.2f}x | {r['planned']}/{n} | {cost:,.2f} | "  # type: ignore[arg-type]
            f"{cost - first:+,.2f} ({100 * (cost / first - 1):+.4f} %) | "
            f"{r['intensity']:.2f} | "
            f"{_cap_met(float(r['intensity']), args.target_year)} | {r['price']} | "  # type: ignore[arg-type]
            f"{r['rss']} | {r['load']} |"
        )
    print(f"\nuptime after: {_uptime()}")


def _commit() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()


def _uptime() -> str:
    try:
        return subprocess.run(
            ["uptime"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return "load " + _load()


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
