"""E-VRPTW benchmark: greenlane and RoutingBlocks side by side on Schneider et al. (2014).

Each solver runs in its own process with the same wall-clock budget and one thread:
greenlane through its CLI (``greenlane vrp solve FILE --time-limit T``), RoutingBlocks through
its published EVRPTW example (``routingblocks-example/`` beside the instances) with one
starting solution and ``--time-limit T``. Every route set is re-checked by the independent
checker (:func:`greenlane.routing.vrp.evrptw.check_routes`), which scores the published
best-known route sets at exactly their published distances. Gaps are against Schiffer et al.
(2017) partial-recharge best-knowns and are counted only where a solution uses no more vehicles
than the best known (the published tables are vehicles first).

    python benchmarks/evrptw.py --time-limit 30 --jobs 2                  # all 56 instances
    python benchmarks/evrptw.py --time-limit 10 --instances c101 r101 rc101
    python benchmarks/evrptw.py --time-limit 60 --no-peer --instances c101 c201
    python benchmarks/evrptw.py ... --markdown out.md --json out.json

RoutingBlocks is the peer only (``pip install routingblocks``, the ``bench`` extra); without it
(or with ``--no-peer``) its columns stay empty.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from greenlane.routing.vrp.evrptw import benchmark_dir, check_routes, read_evrptw  # noqa: E402

SOLVERS = ("greenlane", "routingblocks")
RB_STARTING_SOLUTIONS = 1
"""RoutingBlocks' stock 10 starting solutions alone exceed 30 s per 100-customer instance here."""
GRACE_S = 60.0
"""Wall time allowed beyond the budget before a solver process is killed [s]."""


@dataclass
class Run:
    """One solver on one instance, as scored by the independent checker."""

    instance: str
    solver: str
    vehicles: int | None = None
    distance: float | None = None
    served: int = 0
    customers: int = 0
    feasible: bool = False
    wall_s: float = 0.0
    error: str = ""


def best_known(ev_dir: Path) -> dict[str, tuple[int, float]]:
    """Schiffer et al. (2017) partial-recharge best-knowns: instance -> (vehicles, distance)."""
    with (ev_dir / "bks-schiffer2017-pr.csv").open() as f:
        return {r["Instance"].lower(): (int(r["k"]), float(r["Best"])) for r in csv.DictReader(f)}


def _greenlane(path: Path, budget: float, seed: int, work: Path) -> tuple[list[list[str]], str]:
    out = work / f"gl-{path.stem}.json"
    cmd = [sys.executable, "-m", "greenlane", "vrp", "solve", str(path)]
    cmd += ["--time-limit", str(budget), "--seed", str(seed), "--output", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=budget + GRACE_S, check=False
    )
    if not out.exists():
        return [], f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}"
    return json.loads(out.read_text())["routes"], ""


def _routingblocks(
    path: Path, budget: float, seed: int, work: Path, ev_dir: Path
) -> tuple[list[list[str]], str]:
    pkg = work / "rb" / "evrptw"
    if not pkg.exists():
        shutil.copytree(ev_dir / "routingblocks-example", pkg)
        config = json.loads((pkg / "config.json").read_text())
        config["num_starting_solutions"] = RB_STARTING_SOLUTIONS
        (work / "rb" / "config1.json").write_text(json.dumps(config))
    out = work / "rb-out" / path.stem
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "evrptw", str(path), "--config-path", "config1.json"]
    cmd += ["--output-path", str(out), "--time-limit", str(round(budget)), "--seed", str(seed)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        cmd,
        cwd=work / "rb",
        env=env,
        capture_output=True,
        text=True,
        timeout=budget + GRACE_S,
        check=False,
    )
    sol = out / f"solution-{path.stem}.json"
    if not sol.exists():
        return [], f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}"
    data = json.loads(sol.read_text())["solution"]
    return [r["nodes"] for r in data["routes"] if len(r["nodes"]) > 2], ""


def run_one(solver: str, path: Path, budget: float, seed: int, work: Path, ev_dir: Path) -> Run:
    inst = read_evrptw(path)
    run = Run(instance=path.stem.split("_")[0], solver=solver, customers=len(inst.customers))
    start = time.monotonic()
    try:
        if solver == "greenlane":
            routes, err = _greenlane(path, budget, seed, work)
        else:
            routes, err = _routingblocks(path, budget, seed, work, ev_dir)
    except subprocess.TimeoutExpired:
        routes, err = [], f"killed after {budget + GRACE_S:.0f} s"
    run.wall_s = time.monotonic() - start
    run.error = err
    if routes:
        chk = check_routes(inst, routes)
        run.vehicles, run.distance = chk.vehicles, chk.distance
        run.feasible = chk.feasible
        run.served = run.customers - len(chk.unserved)
        if chk.violations:
            run.error = "; ".join(chk.violations)[:200]
    return run


def _gap(run: Run | None, bks: tuple[int, float] | None) -> float | None:
    if run is None or bks is None or not run.feasible or run.served < run.customers:
        return None
    if run.vehicles is None or run.distance is None or run.vehicles > bks[0]:
        return None
    return 100.0 * (run.distance - bks[1]) / bks[1]


def _cell(run: Run | None, bks: tuple[int, float] | None) -> str:
    if run is None:
        return " | | | "
    if run.distance is None:
        return f" – | – | – | 0/{run.customers} {run.error[:40]}"
    gap = _gap(run, bks)
    if gap is not None and abs(gap) < 0.005:
        gap = 0.0  # no "-0.00" from rounding noise
    gap_s = f"{gap:+.2f}" if gap is not None else "(more veh.)"
    flag = "" if run.feasible else " INFEASIBLE"
    return f" {run.vehicles} | {run.distance:.2f} | {gap_s} | {run.served}/{run.customers}{flag}"


def _better(a: Run, b: Run) -> bool:
    """a beats b: complete where b is not, or fewer vehicles, or equal and shorter."""
    ok_a = a.feasible and a.served == a.customers
    ok_b = b.feasible and b.served == b.customers
    if ok_a != ok_b:
        return ok_a
    if not ok_a:
        return False
    assert a.vehicles is not None and b.vehicles is not None
    assert a.distance is not None and b.distance is not None
    if a.vehicles != b.vehicles:
        return a.vehicles < b.vehicles
    return a.distance < b.distance - 1e-6


def summarise(runs: list[Run], bks: dict[str, tuple[int, float]], solvers: list[str]) -> str:
    by = {(r.instance, r.solver): r for r in runs}
    names = sorted({r.instance for r in runs}, key=lambda s: (s.rstrip("0123456789"), s))
    head = "| instance | BKS veh. | BKS dist. |"
    sep = "|---|---|---|"
    for s in solvers:
        head += f" {s} veh. | dist. | gap % | served |"
        sep += "---|---|---|---|"
    lines = [head, sep]
    for n in names:
        b = bks.get(n)
        row = f"| {n} | {b[0] if b else '–'} | {b[1] if b else '–'} |"
        for s in solvers:
            row += _cell(by.get((n, s)), b) + " |"
        lines.append(row)
    lines.append("")
    for s in solvers:
        mine = [by[(n, s)] for n in names if (n, s) in by]
        complete = [r for r in mine if r.feasible and r.served == r.customers]
        gaps = [g for r in mine if (g := _gap(r, bks.get(r.instance))) is not None]
        more = sum(
            1
            for r in complete
            if r.instance in bks and r.vehicles is not None and r.vehicles > bks[r.instance][0]
        )
        fewer = sum(
            1
            for r in complete
            if r.instance in bks and r.vehicles is not None and r.vehicles < bks[r.instance][0]
        )
        raw = [
            100.0 * (r.distance - bks[r.instance][1]) / bks[r.instance][1]
            for r in complete
            if r.instance in bks and r.distance is not None
        ]
        walls = [r.wall_s for r in mine]
        lines.append(
            f"- **{s}**: {len(complete)}/{len(mine)} instances feasible with every customer "
            f"served; {len(gaps)} at no more vehicles than the best known, mean distance gap "
            f"{statistics.fmean(gaps) if gaps else float('nan'):+.2f} % (max "
            f"{max(gaps) if gaps else float('nan'):+.2f} %); {more} with more vehicles, "
            f"{fewer} with fewer; distance gap over all complete solutions regardless of "
            f"vehicles {statistics.fmean(raw) if raw else float('nan'):+.2f} %; vehicles "
            f"{sum(r.vehicles or 0 for r in complete)} in total against "
            f"{sum(bks[r.instance][0] for r in complete if r.instance in bks)} best known; "
            f"wall time per instance {statistics.fmean(walls) if walls else 0:.1f} s "
            f"(process start, reading and checking included)."
        )
    if len(solvers) == 2:
        a, b = solvers
        both = [n for n in names if (n, a) in by and (n, b) in by]
        wins = sum(_better(by[(n, a)], by[(n, b)]) for n in both)
        losses = sum(_better(by[(n, b)], by[(n, a)]) for n in both)
        lines.append(
            f"- head to head ({a} vs {b}; fewer vehicles first, then distance): {wins} wins, "
            f"{losses} losses, {len(both) - wins - losses} ties over {len(both)} instances."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=30.0, help="budget per solver run [s]")
    ap.add_argument("--instances", nargs="*", default=None, help="names like c101 (default all)")
    ap.add_argument("--jobs", type=int, default=2, help="solver processes in parallel")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-peer", action="store_true", help="greenlane only")
    ap.add_argument("--markdown", type=Path, default=None, help="write the table here")
    ap.add_argument("--json", type=Path, default=None, help="write the runs here")
    args = ap.parse_args(argv)
    ev_dir = benchmark_dir(os.environ.get("GREENLANE_EVRPTW_DIR"))
    files = sorted((ev_dir / "100").glob("*_21.txt"))
    if args.instances:
        wanted = {n.lower() for n in args.instances}
        files = [f for f in files if f.stem.split("_")[0].lower() in wanted]
    if not files:
        print(f"no instances found under {ev_dir / '100'}", file=sys.stderr)
        return 2
    solvers = ["greenlane"]
    if not args.no_peer:
        try:
            import routingblocks  # noqa: F401

            solvers.append("routingblocks")
        except ImportError:
            print("routingblocks not installed: greenlane only", file=sys.stderr)
    bks = best_known(ev_dir)
    tasks = [(s, f) for f in files for s in solvers]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        work = Path(tmp)
        (work / "rb").mkdir()
        futures = [
            pool.submit(run_one, s, f, args.time_limit, args.seed, work, ev_dir) for s, f in tasks
        ]
        for fut in futures:
            run = fut.result()
            runs.append(run)
            print(
                f"{run.instance:8s} {run.solver:14s} veh={run.vehicles} dist={run.distance} "
                f"served={run.served}/{run.customers} feasible={run.feasible} "
                f"wall={run.wall_s:.1f}s {run.error}",
                flush=True,
            )
    table = summarise(runs, bks, solvers)
    print(table)
    if args.markdown:
        cmd = "python benchmarks/evrptw.py " + " ".join(argv if argv is not None else sys.argv[1:])
        args.markdown.write_text(
            f"Command: `{cmd}`\n\nBudget {args.time_limit:g} s per solver and instance, "
            f"{args.jobs} solver processes in parallel, one thread each.\n\n{table}\n"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
