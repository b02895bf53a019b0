"""``greenlane batch``: many books or a scenario sweep on Dask, results as Parquet + a chart.

    greenlane batch BOOK...
    greenlane batch --sweep carbon_price=0,200,500 fleet=all,fossil target_year=2026,2030 [BOOK...]
    greenlane batch --synthetic 100000 --workers 2 --output year.parquet

Each book is partitioned by the resources its shipments share (origins reaching common
gateway hubs or destinations) and by ready time into runs of about ``--partition-size``
shipments (default: one per worker, 250..1,000, fewer in dense books); every partition is
planned under every scenario. With ``--target-year`` or ``--max-co2e-t`` the cap
holds for the whole book: the partitions are planned at one carbon price that the
coordinator searches until the book meets it (the price found is printed with the duality
gap); scheduled departures that partitions overbook together are repaired by re-planning
partitions in parallel rounds, then by re-planning the shipments beyond capacity together;
the shipments at the cuts of a book of at most 16 partitions are re-planned together, and
trucks of one departure run once for all partitions (mass-share allocation). Finished
partitions are written to ``<output stem>.parts/`` as they finish and read back by a re-run.
``--workers 0`` plans in this process; otherwise a Dask LocalCluster on 127.0.0.1, or
``--scheduler tcp://host:port``.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path
from typing import Any

import click

from greenlane.emissions.errors import GreenlaneError, InputError
from greenlane.webapp.cli_plan import dataset_option

MAX_BATCH_BOOK_ROWS = 2_000_000
"""Most shipments in one batch book (a year of a large network; ``--synthetic`` has the same
bound). ``greenlane plan`` and the API keep ``emissions.limits.MAX_BOOK_ROWS``."""


def _fail(exc: GreenlaneError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


def _progress(enabled: bool) -> tuple[Any, Any]:
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=0, unit="task", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

    def note(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return bar, note


@click.command("batch")
@click.argument("items", nargs=-1)
@click.option(
    "--sweep",
    is_flag=True,
    help="ITEMS of the form AXIS=V1,V2 are sweep axes: carbon_price [CNY/t], "
    "fleet (all|fossil), fuel_price [factor on fossil energy prices], "
    "target_year (year|none), eua_price [EUR/t CO2e of the EU ETS costs legs pay], "
    "bunker_price and jet_price [factors on fossil bunker / jet fuel prices], "
    "rate_card_index [factor on rate cards; with --price-basis rate_card]. "
    "Other ITEMS are books.",
)
@click.option(
    "--synthetic",
    type=int,
    default=None,
    metavar="N",
    help="Add a synthetic year of N shipments (seeded) as a book.",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="A running Dask scheduler [default: a local cluster on 127.0.0.1].",
)
@click.option(
    "--workers",
    type=int,
    default=2,
    show_default=True,
    help="Local cluster worker processes (1 thread each); 0 = in this process.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("batch-results.parquet"),
    show_default=True,
    help="Partition rows; shipment rows go to <stem>.shipments.parquet.",
)
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Summary chart PNG [default: <output stem>.png].",
)
@click.option(
    "--draw-chart/--no-chart", "draw", default=True, show_default=True, help="Draw the chart."
)
@click.option(
    "--partition-size",
    type=int,
    default=None,
    help="Shipments per partition aimed at (one model each) [default: one partition per "
    "worker, within 250..1000].",
)
@click.option(
    "--time-limit",
    type=float,
    default=None,
    help="Solver wall-clock limit per partition solve [s] [default: 0.01 s per shipment of "
    "the partition, within 2..10 s].",
)
@click.option(
    "--gap",
    type=float,
    default=0.0,  # batch.DEFAULT_GAP (not imported here: it loads Dask)
    show_default=True,
    help="Relative optimality gap at which a partition solve stops [-] (0: the planner's own "
    "stop rule, as greenlane plan).",
)
@click.option(
    "--carbon-price",
    type=float,
    default=0.0,
    show_default=True,
    help="Base carbon price [CNY/t CO2e] (a sweep axis overrides it).",
)
@click.option(
    "--target-year",
    type=int,
    default=None,
    help="Cap the intensity of the whole book at this year's target.",
)
@click.option(
    "--max-co2e-t",
    type=float,
    default=None,
    help="Cap the WTW CO2e of each whole book [t].",
)
@click.option(
    "--journal",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of finished tasks [default: <output stem>.parts]; a re-run resumes from it.",
)
@click.option(
    "--price-basis",
    type=click.Choice(["operating_cost", "rate_card"]),
    default="operating_cost",
    show_default=True,
    help="rate_card: carrier-sold sea, rail and air services at data/rate_cards.csv.",
)
@click.option("--resume/--no-resume", default=True, show_default=True)
@click.option("--k-paths", type=int, default=4, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--progress/--no-progress", default=True, show_default=True)
@dataset_option
def batch_cmd(
    items: tuple[str, ...],
    sweep: bool,
    synthetic: int | None,
    scheduler: str | None,
    workers: int,
    output: Path,
    chart: Path | None,
    draw: bool,
    partition_size: int | None,
    time_limit: float | None,
    gap: float,
    carbon_price: float,
    target_year: int | None,
    max_co2e_t: float | None,
    journal: Path | None,
    price_basis: str,
    resume: bool,
    k_paths: int,
    seed: int,
    progress: bool,
    dataset: Path | None,
) -> None:
    """Plan many books, or sweep scenarios over them, on Dask."""
    from greenlane.data import DATA_DIR
    from greenlane.emissions.units import KG_PER_T
    from greenlane.routing import read_book
    from greenlane.routing.scenarios import batch

    try:
        axes = [i for i in items if sweep and "=" in i]
        paths = [Path(i) for i in items if i not in axes]
        for p in paths:
            if not p.is_file():
                raise InputError("no such book file", field=str(p))
        if not paths and synthetic is None:
            if not sweep:
                raise InputError("give at least one BOOK, --sweep or --synthetic N", field="BOOK")
            paths = [DATA_DIR / "examples" / "shipments.csv"]
        sweep_points = batch.scenarios(batch.parse_sweep(axes)) if sweep else []
    except GreenlaneError as exc:
        _fail(exc)
        return
    try:
        network, cluster, ds = _setup(workers, scheduler, dataset)
    except GreenlaneError as exc:
        _fail(exc)
        return
    try:
        books: dict[str, Any] = {}
        for p in paths:
            name = p.stem if p.stem not in books else str(p)
            books[name] = read_book(p, max_rows=MAX_BATCH_BOOK_ROWS)
        if synthetic is not None:
            if not 1 <= synthetic <= MAX_BATCH_BOOK_ROWS:
                raise InputError(f"must lie in 1..{MAX_BATCH_BOOK_ROWS}", field="--synthetic")
            books[f"synthetic-{synthetic}"] = batch.synthetic_year(network, synthetic, seed=seed)
        base = batch.default_options(
            batch.PARTITION_MAX_S if time_limit is None else time_limit,
            gap,
            seed,
            carbon_price_cny_per_t=carbon_price,
            target_year=target_year,
            k_paths=k_paths,
            co2e_cap_kg=None if max_co2e_t is None else max_co2e_t * KG_PER_T,
            data_dir=None if ds is None else ds.data_dir,
            dataset_id=None if ds is None else ds.dataset_id,
            price_basis=price_basis,
        )
        if max_co2e_t is not None and not max_co2e_t > 0:
            raise InputError("must be > 0", field="--max-co2e-t")
        tasks = batch.make_tasks(
            books,
            network,
            base,
            sweep_points,
            partition_size,
            workers=_slots(workers, cluster),
            auto_time_limit=time_limit is None,
        )
    except GreenlaneError as exc:
        if cluster is not None:
            cluster.close()
        _fail(exc)
        return
    n_ship = sum(len(b) for b in books.values())
    click.echo(
        f"{len(books)} book(s), {n_ship} shipments, {len(sweep_points) or 1} "
        f"scenario(s): {len(tasks)} partition tasks",
        err=True,
    )
    folder = journal or output.with_name(output.stem + ".parts")
    if not resume and folder.is_dir():
        for old in folder.glob("*.pkl"):
            old.unlink()
    bar, note = _progress(progress)
    try:
        result = batch.run_batch(
            tasks,
            workers=workers,
            scheduler=scheduler,
            progress=note,
            journal=folder,
            client=None if cluster is None else cluster.client(),
        )
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        click.echo(f"error: --scheduler: cannot reach {scheduler}: {exc}", err=True)
        sys.exit(2)
    except BaseException:
        if cluster is not None:
            cluster.close()
        raise
    finally:
        if bar is not None:
            bar.close()
    # the workers stop while the results are written
    closing = cluster.close_in_background() if cluster is not None else None
    written = batch.write_parquet(result, output)
    if draw:
        written.append(batch.summary_chart(result, chart or output.with_suffix(".png")))
    summary = result.summary()
    cols = [
        "book",
        "scenario",
        "shipments",
        "planned",
        "cost_cny",
        "co2e_wtw_kg",
        "intensity_g_per_tkm",
        "errors",
    ]
    with _pandas_display():
        click.echo(summary[cols].to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    for row in result.coordination:
        click.echo(_coordination_line(row))
    click.echo("\n".join(_run_lines(result, folder)))
    click.echo("wrote " + ", ".join(str(p) for p in written))
    if closing is not None:
        closing.join()
    missed = _warn_missed(result.coordination)
    if int(summary["errors"].sum()):
        first = next(r for r in result.partitions if r["status"] == "error")
        click.echo(
            f"warning: {int(summary['errors'].sum())} partition(s) failed; first: "
            f"{first['partition']}: {first['error']}",
            err=True,
        )
        sys.exit(1)
    if missed:
        sys.exit(1)


def _run_lines(result: Any, folder: Path) -> list[str]:
    """How the run went: partitions, wall time [s], workers, tasks, peak RSS [MiB] and the
    task CPU [s] of each worker (busiest first)."""
    rss = max((r.get("worker_max_rss_mb", 0.0) for r in result.partitions), default=0.0)
    lines = [
        f"{len(result.partitions)} partitions in {result.wall_s:.1f} s on "
        f"{result.workers or 1} worker(s) ({result.scheduler}); {result.computed} task(s) "
        f"planned, {result.resumed} read from {folder}; peak RSS per worker {rss:.0f} MiB"
    ]
    if result.worker_cpu_s:
        cpu = ", ".join(f"{v:.1f}" for v in sorted(result.worker_cpu_s.values(), reverse=True))
        lines.append(f"task CPU per worker [s]: {cpu}")
    return lines


def _slots(workers: int, cluster: Any) -> int:
    """Tasks that run at once: the local workers, or the threads of a scheduler's workers
    (1 if it cannot be reached yet; the run then reports the error)."""
    if cluster is None or cluster.local:
        return max(1, workers)
    try:
        info = cluster.client().scheduler_info(n_workers=-1)["workers"].values()
    except OSError:
        return 1
    return max(1, sum(int(w.get("nthreads", 1)) for w in info))


def _setup(
    workers: int, scheduler: str | None, dataset: Path | None = None
) -> tuple[Any, Any, Any]:
    """The network (of ``dataset``; None: the shipped one), the Dask cluster (None in
    process) and the dataset (None: the shipped data).

    Local workers are forked once this process holds the network and factor tables, so the
    set-up is paid once per machine; a remote scheduler connects while the books are read.
    """
    from greenlane.routing import load_network
    from greenlane.routing.scenarios import batch

    ds = None
    if dataset is not None:
        from greenlane.routing import load_dataset

        ds = load_dataset(dataset)
    batch.warm_up()
    network = load_network() if ds is None else load_network(ds.data_dir)
    if not scheduler and workers <= 0:
        return network, None, ds
    linux = sys.platform.startswith("linux")  # fork is unsafe with macOS system libraries
    start = "fork" if linux and "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return network, batch.Cluster(workers, scheduler, start_method=start), ds


def _warn_missed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Warn about each book x scenario whose cap or a departure capacity is not held."""
    missed = [r for r in rows if r.get("cap_met") is False or r["overbooked_left"]]
    for r in missed:
        click.echo(
            f"warning: {r['book']} / {r['scenario']}: the network-wide cap or a departure "
            "capacity is not held",
            err=True,
        )
    return missed


def _coordination_line(row: dict[str, Any]) -> str:
    """One line per book and scenario: the cap, the price found, the gap, repairs."""
    head = f"{row['book']} / {row['scenario']}:"
    parts = []
    if row.get("constraint"):
        price = row.get("price_cny_per_t")
        found = "none" if price is None else f"{price:,.1f} CNY/t CO2e"
        gap = row.get("duality_gap")
        parts.append(
            f"{row['constraint']} {row['status']}"
            + (" (held)" if row.get("cap_met") else " (NOT held)")
            + f"; carbon price found {found}"
            + ("" if gap is None else f", duality gap {100 * gap:.2f} %")
            + f" after {row['rounds']} round(s)"
        )
    parts.append(
        f"{row['overbooked_found']} overbooked departure(s) repaired by re-planning "
        f"{row['partitions_replanned']} partition(s) in {row.get('repair_rounds', 0)} "
        f"parallel round(s) of {row.get('repair_tasks', 0)} task(s)"
        + (
            f", {row['bumped_shipments']} shipment(s) taken off and re-planned together"
            if row.get("bumped_shipments")
            else ""
        )
        + f", {row['overbooked_left']} left"
    )
    if "seam_shipments" in row:
        saved = row.get("seam_saved_cny", 0.0)
        parts.append(
            f"{row['seam_shipments']} shipment(s) at the cuts re-planned together, "
            + (f"{saved:,.2f} CNY saved" if row.get("seam_kept") else "not kept (no saving)")
        )
    if "trucks" in row:
        parts.append(
            f"{row['trucks']} truck(s), {row['truck_departures_shared']} truck departure(s) "
            "shared across partitions"
        )
    return head + " " + "; ".join(parts)


def _pandas_display() -> Any:
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 20)


COMMANDS = (batch_cmd,)
"""The commands the ``greenlane`` group registers."""
