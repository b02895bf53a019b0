"""``greenlane vrp``: solve VRPLIB / Solomon / E-VRPTW benchmark instances and print JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from greenlane.emissions.errors import GreenlaneError


@click.group()
def vrp() -> None:
    """Vehicle routing: benchmark instances (VRPLIB, Solomon, Schneider E-VRPTW)."""


@vrp.command()
@click.argument("instance", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--time-limit",
    "time_limit",
    type=float,
    default=10.0,
    show_default=True,
    help="Wall-time limit [s].",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (PyVRP).")
@click.option(
    "--engine",
    type=click.Choice(["auto", "hybrid", "ortools", "pyvrp"]),
    default="auto",
    show_default=True,
    help="auto/hybrid: PyVRP seeds OR-Tools; or one engine alone.",
)
@click.option(
    "--rounding",
    type=click.Choice(["nint", "exact", "explicit"]),
    default=None,
    help="Distance convention (default: exact for VRPTW, nint for EUC_2D CVRP).",
)
@click.option(
    "--solution-limit", type=int, default=None, help="OR-Tools solution limit (reproducible runs)."
)
@click.option(
    "--iterations",
    type=int,
    default=None,
    help="PyVRP iteration limit; E-VRPTW: destroy/repair iterations (reproducible runs).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "evrptw", "vrplib"]),
    default="auto",
    show_default=True,
    help="Instance format: auto-detect, Schneider E-VRPTW, or VRPLIB/Solomon.",
)
@click.option(
    "--objective",
    type=click.Choice(["vehicles", "distance"]),
    default="vehicles",
    show_default=True,
    help="E-VRPTW: fewest vehicles then distance, or distance alone.",
)
@click.option(
    "--max-vehicles",
    type=click.IntRange(min=1),
    default=None,
    help="E-VRPTW fleet size (default: unlimited).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the JSON to this file instead of standard output.",
)
def solve(
    instance: Path,
    time_limit: float,
    seed: int,
    engine: str,
    rounding: str | None,
    solution_limit: int | None,
    iterations: int | None,
    fmt: str,
    objective: str,
    max_vehicles: int | None,
    output: Path | None,
) -> None:
    """Solve INSTANCE (.vrp, Solomon or E-VRPTW .txt); print routes, distance, vehicles as JSON.

    E-VRPTW routes are lists of StringIDs in visit order, stations included; the exit code is
    1 when a customer stays unserved or a route fails the independent checker.
    """
    from greenlane.routing.vrp.core import VrpParams
    from greenlane.routing.vrp.evrptw import is_evrptw_file
    from greenlane.routing.vrp.vrplib_io import solve_benchmark

    if time_limit <= 0:
        click.echo("error: --time-limit must be > 0", err=True)
        sys.exit(2)
    if fmt == "evrptw" or (fmt == "auto" and is_evrptw_file(instance)):
        _solve_evrptw(instance, time_limit, seed, iterations, objective, max_vehicles, output)
        return
    try:
        params = VrpParams(
            time_limit_s=time_limit,
            seed=seed,
            engine=engine,
            solution_limit=solution_limit,
            pyvrp_iterations=iterations,
        )
        result = solve_benchmark(instance, params, rounding)
    except GreenlaneError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(json.dumps(result.to_dict(), indent=1))
    if result.violations:
        sys.exit(1)


def _solve_evrptw(
    instance: Path,
    time_limit: float,
    seed: int,
    iterations: int | None,
    objective: str,
    max_vehicles: int | None,
    output: Path | None,
) -> None:
    from greenlane.routing.vrp.evrptw import read_evrptw
    from greenlane.routing.vrp.evrptw_search import solve_evrptw

    try:
        inst = read_evrptw(instance)
    except GreenlaneError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    result = solve_evrptw(inst, time_limit, seed, objective, max_vehicles, iterations)
    text = json.dumps(result.to_dict(), indent=1)
    if output is None:
        click.echo(text)
    else:
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(output)
    if result.status != "success":
        sys.exit(1)
