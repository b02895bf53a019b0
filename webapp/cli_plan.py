"""``greenlane plan``, ``greenlane pareto`` and ``greenlane baseline`` on a shipment book."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from greenlane.emissions.errors import GreenlaneError

if TYPE_CHECKING:
    from greenlane.routing import Network, Plan, PlanOptions

BOOK = click.Path(exists=True, dir_okay=False, path_type=Path)

dataset_option = click.option(
    "--dataset",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Plan on your own tables: a folder of CSV files, an XLSX workbook or a JSON "
    "document in the shapes of data/ (see data/README.md); tables left out are the shipped "
    "ones.",
)


def on_dataset(options: PlanOptions, dataset: Path | None) -> tuple[PlanOptions, Network]:
    """``options`` reading the tables of ``dataset`` (None: the shipped data) and the network
    loaded from them; a bad dataset raises DatasetError naming table, row and column."""
    from dataclasses import replace

    from greenlane.routing import load_network

    if dataset is None:
        return options, load_network()
    from greenlane.routing import load_dataset

    ds = load_dataset(dataset)
    return replace(options, data_dir=ds.data_dir, dataset_id=ds.dataset_id), load_network(
        ds.data_dir
    )


def _options(
    carbon_price: float,
    target_year: int | None,
    time_limit: float,
    seed: int,
    workers: int,
    due_dates: str,
    objective: str,
    carriers: str = "all",
    deterministic_time: float | None = None,
) -> PlanOptions:
    from greenlane.routing import PlanOptions, SolverParams

    return PlanOptions(
        carbon_price_cny_per_t=carbon_price,
        target_year=target_year,
        due_dates=due_dates,  # type: ignore[arg-type]
        objective=objective,  # type: ignore[arg-type]
        carriers=carriers,  # type: ignore[arg-type]
        solver=SolverParams(
            time_limit_s=time_limit,
            seed=seed,
            workers=workers,
            deterministic_time=deterministic_time,
        ),
    )


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed(
        [
            click.option(
                "--carbon-price",
                type=float,
                default=0.0,
                show_default=True,
                help="Carbon price [CNY per t CO2e WTW].",
            ),
            click.option(
                "--target-year",
                type=int,
                default=None,
                help="Cap the plan's intensity at the target trajectory of this year.",
            ),
            click.option(
                "--time-limit",
                type=float,
                default=10.0,
                show_default=True,
                help="Solver wall-clock limit per solve [s].",
            ),
            click.option("--seed", type=int, default=0, show_default=True),
            click.option(
                "--workers",
                type=int,
                default=1,
                show_default=True,
                help="CP-SAT workers (1 = deterministic).",
            ),
            click.option(
                "--due-dates",
                type=click.Choice(["hard", "soft"]),
                default="hard",
                show_default=True,
            ),
            click.option(
                "--deterministic-time",
                type=click.FloatRange(min=0, min_open=True),
                default=None,
                help="Stop the search after this much solver work [CP-SAT deterministic "
                "s]: same book and seed, same plan, however busy the machine "
                "(the time limit still applies).",
            ),
            click.option(
                "--output",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="Write the full JSON here ('-' = stdout; the summary then goes to stderr).",
            ),
        ]
    ):
        f = opt(f)
    return f


def _fail(exc: GreenlaneError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


def _summary_line(p: Plan) -> str:
    return (
        f"{p.status:<18} cost {p.cost_cny:>14,.2f} CNY  CO2e {p.co2e_wtw_kg:>12,.1f} kg WTW  "
        f"intensity {p.intensity_g_per_tkm:8.2f} g/tkm  on time {p.on_time_share:.0%}  "
        f"planned {len(p.shipments)}  unplanned {len(p.unplanned)}"
    )


@click.command("plan")
@click.argument("book", type=BOOK)
@_common
@click.option(
    "--objective",
    type=click.Choice(["cost", "co2e"]),
    default="cost",
    show_default=True,
    help="cost (+ carbon price) or least CO2e.",
)
@click.option(
    "--on-time-probability",
    type=float,
    default=None,
    help="Require this probability of arriving by the due date (e.g. 0.95).",
)
@click.option(
    "--stop-level-routing",
    is_flag=True,
    default=False,
    help="Route the first/last-mile road legs as multi-stop tours per terminal and "
    "day (vehicle routing; allocated by tkm).",
)
@click.option(
    "--late-penalty-cny-per-t-day",
    type=click.FloatRange(min=0),
    default=200.0,
    show_default=True,
    help="Penalty for arriving after the due date with --due-dates soft [CNY per t per day].",
)
@click.option(
    "--travel-year",
    type=click.IntRange(2000, 2100),
    default=None,
    help="Year of travel for the regulatory carbon costs (default: year of the earliest "
    "ready date).",
)
@click.option(
    "--eua-price",
    type=click.FloatRange(min=0),
    default=None,
    help="EUA price [EUR/t CO2e] for EU ETS (default: the dated price of "
    "data/regulatory_costs.csv).",
)
@click.option(
    "--price-basis",
    type=click.Choice(["operating_cost", "rate_card"]),
    default="operating_cost",
    show_default=True,
    help="rate_card: price sea, rail and air services at the carriers' rate cards "
    "(data/rate_cards.csv); road stays at operating cost (own fleet).",
)
@click.option(
    "--bunker-price",
    type=click.FloatRange(min=0.01, max=100),
    default=1.0,
    show_default=True,
    help="Factor on the fossil marine bunker prices of data/energy_prices.csv (1.3: +30 %).",
)
@click.option(
    "--jet-price",
    type=click.FloatRange(min=0.01, max=100),
    default=1.0,
    show_default=True,
    help="Factor on the fossil jet fuel price of data/energy_prices.csv.",
)
@click.option(
    "--rate-card-index",
    type=click.FloatRange(min=0.01, max=100),
    default=1.0,
    show_default=True,
    help="Factor on every rate card of data/rate_cards.csv (with --price-basis rate_card).",
)
@click.option(
    "--no-regulatory-costs",
    is_flag=True,
    default=False,
    help="Leave out EU ETS, FuelEU, ReFuelEU, ETS2 and German tolls (for comparison).",
)
@dataset_option
def plan_cmd(
    book: Path,
    carbon_price: float,
    target_year: int | None,
    time_limit: float,
    seed: int,
    workers: int,
    due_dates: str,
    deterministic_time: float | None,
    output: Path | None,
    objective: str,
    on_time_probability: float | None,
    stop_level_routing: bool,
    travel_year: int | None,
    eua_price: float | None,
    price_basis: str,
    bunker_price: float,
    jet_price: float,
    rate_card_index: float,
    no_regulatory_costs: bool,
    late_penalty_cny_per_t_day: float,
    dataset: Path | None,
) -> None:
    """Plan a shipment book (CSV or JSON): one path per shipment, cost + carbon optimal."""
    from dataclasses import replace

    from greenlane.fleet.cost import market_prices
    from greenlane.routing import plan, plan_to_dict, read_book

    try:
        shipments = read_book(book)
        options = replace(
            _options(
                carbon_price,
                target_year,
                time_limit,
                seed,
                workers,
                due_dates,
                objective,
                deterministic_time=deterministic_time,
            ),
            on_time_probability=on_time_probability,
            stop_level_routing=stop_level_routing,
            regulatory_costs=not no_regulatory_costs,
            travel_year=travel_year,
            eua_eur_per_t=eua_price,
            price_basis=price_basis,  # type: ignore[arg-type]
            rate_card_index=rate_card_index,
            late_penalty_cny_per_t_day=late_penalty_cny_per_t_day,
        )
        options, network = on_dataset(options, dataset)
        options = replace(
            options,
            energy_prices=market_prices(bunker_price, jet_price, data_dir=options.tables_dir),
        )
        result = plan(shipments, network, options)
    except GreenlaneError as exc:
        _fail(exc)
        return
    with _summary_stream(output):
        _echo_plan(result, stop_level_routing)
    _write_json(output, plan_to_dict(result))


def _echo_plan(result: Plan, stop_level_routing: bool) -> None:
    """Print the plan summary: totals, one line per shipment, unplanned with reasons."""
    click.echo(_summary_line(result))
    if result.dataset.get("id", "default") != "default":
        click.echo(f"  dataset {result.dataset['id']} (sha256 {result.dataset['sha256'][:12]})")
    parts = ", ".join(f"{k} {v:,.2f}" for k, v in result.cost_breakdown_cny().items() if v)
    click.echo(
        f"  cost by component [CNY]: {parts}; regulatory carbon {result.regulatory_cost_cny:,.2f}"
        f"; internal carbon price {result.internal_carbon_cost_cny:,.2f} (not in cost)"
    )
    if result.primary_data_share:
        click.echo(
            f"  primary data (carriers' own TOCs/HOCs): {result.primary_data_share:.1%} of WTW CO2e"
        )
    for s in result.shipments:
        click.echo(
            f"  {s.shipment_id:<20} {s.label:<40} {s.cost_cny:>12,.2f} CNY "
            f"{s.footprint.totals.co2e_wtw_kg:>10,.1f} kg  arrives "
            f"{s.arrival_at:%Y-%m-%d}{'' if s.on_time else ' LATE'} "
            f"(P on time {s.on_time_probability:.0%})"
        )
    for u in result.unplanned:
        click.echo(f"  {u.shipment_id:<20} UNPLANNED: {'; '.join(u.reasons)}")
    if stop_level_routing:
        _echo_stop_routes(result)
    if "message" in result.facts:
        click.echo(f"note: {result.facts['message']}")
    if "shadow_price_cny_per_t" in result.facts:
        click.echo(
            f"target {result.facts['target_intensity_g_per_tkm']:.2f} g/tkm; "
            f"shadow price {result.facts['shadow_price_cny_per_t']:,.0f} CNY/t CO2e"
        )


def _summary_stream(output: Path | None) -> contextlib.AbstractContextManager[object]:
    """Send the human summary to stderr when the JSON goes to stdout (``--output -``)."""
    if output is not None and str(output) == "-":
        return contextlib.redirect_stdout(sys.stderr)
    return contextlib.nullcontext()


def _write_json(output: Path | None, doc: object) -> None:
    """Write ``doc`` as JSON to ``output`` (``-`` = stdout)."""
    if output is None:
        return
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if str(output) == "-":
        click.echo(text)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}")


def _echo_stop_routes(p: Plan) -> None:
    facts = p.facts.get("stop_routing", {})
    click.echo(
        f"stop-level routing: {len(p.stop_routes)} routes for {facts.get('legs', 0)} "
        f"end legs in {facts.get('groups', 0)} terminal-day groups "
        f"({facts.get('wall_s', 0):.1f} s), {len(p.stop_dropped)} dropped"
    )
    for r in p.stop_routes:
        click.echo(
            f"  {r.route_id:<6} {r.leg:<10} {r.depot:<14} {r.day} {r.vehicle_type:<17} "
            f"{r.energy_carrier:<15} {r.distance_km:>8,.1f} km {r.co2e_wtw_kg:>8,.1f} kg "
            f"{r.cost_cny:>9,.2f} CNY  {' > '.join(r.shipment_ids)}"
        )
    for d in p.stop_dropped:
        click.echo(f"  dropped {d.shipment_id} ({d.leg} at {d.depot}): {d.reason}")


@click.command("pareto")
@click.argument("book", type=BOOK)
@_common
@click.option("--points", type=int, default=8, show_default=True)
@dataset_option
def pareto_cmd(
    book: Path,
    carbon_price: float,
    target_year: int | None,
    time_limit: float,
    seed: int,
    workers: int,
    due_dates: str,
    deterministic_time: float | None,
    output: Path | None,
    points: int,
    dataset: Path | None,
) -> None:
    """The cost-vs-CO2e trade-off curve of a book (epsilon-constraint sweep)."""
    from greenlane.routing import pareto, plan_to_dict, read_book

    try:
        options = _options(
            carbon_price,
            target_year,
            time_limit,
            seed,
            workers,
            due_dates,
            "cost",
            deterministic_time=deterministic_time,
        )
        options, network = on_dataset(options, dataset)
        plans = pareto(read_book(book), network, options, points=points)
    except GreenlaneError as exc:
        _fail(exc)
        return
    with _summary_stream(output):
        click.echo(f"{'point':>5} {'cost CNY':>16} {'CO2e kg WTW':>14} {'g/tkm':>9}")
        for i, p in enumerate(plans):
            click.echo(
                f"{i:>5} {p.cost_cny:>16,.2f} {p.co2e_wtw_kg:>14,.1f} {p.intensity_g_per_tkm:>9.2f}"
            )
    _write_json(output, [plan_to_dict(p, include_footprints=False) for p in plans])


@click.command("baseline")
@click.argument("book", type=BOOK)
@click.option("--time-limit", type=float, default=10.0, show_default=True)
@dataset_option
def baseline_cmd(book: Path, time_limit: float, dataset: Path | None) -> None:
    """Model a 2023 baseline: the book at least cost on the fossil (2023) fleet [g/tkm]."""
    from greenlane.routing import plan, read_book

    try:
        options = _options(0.0, None, time_limit, 0, 1, "hard", "cost", carriers="fossil")
        options, network = on_dataset(options, dataset)
        result = plan(read_book(book), network, options)
    except GreenlaneError as exc:
        _fail(exc)
        return
    click.echo(_summary_line(result))
    click.echo(f"baseline intensity {result.intensity_g_per_tkm:.2f} g CO2e WTW per tkm (GCD)")
    if dataset is not None:
        click.echo(f"dataset {result.dataset['id']} (sha256 {result.dataset['sha256']})")
