"""``greenlane vrp``: solve VRPLIB / Solomon benchmark instances and print JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from greenlane.emissions.errors import GreenlaneError


@click.group()
def vrp() -> None:
    """Vehicle routing: benchmark instances (VRPLIB, Solomon)."""


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
    "--iterations", type=int, default=None, help="PyVRP iteration limit (reproducible runs)."
)
def solve(
    instance: Path,
    time_limit: float,
    seed: int,
    engine: str,
    rounding: str | None,
    solution_limit: int | None,
    iterations: int | None,
) -> None:
    """Solve INSTANCE (.vrp or Solomon .txt); print routes, distance, vehicles as JSON."""
    from greenlane.routing.vrp.core import VrpParams
    from greenlane.routing.vrp.vrplib_io import solve_benchmark

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
