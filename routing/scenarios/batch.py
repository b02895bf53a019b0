"""Batch planning: many books or a scenario sweep, partitioned by lane group, on Dask.

Every unit of work is one *partition* of one book under one *scenario*, planned by
``routing.plan`` -- the same code as a single run. Partitions group shipments by lane group
(origin hub > destination region) and ready week, then split in chunks of at most
``max_partition`` shipments: consolidation happens within a lane and a departure day, so
little is lost by cutting there, and each CP-SAT model stays small enough to solve well
inside its time limit.

Scenarios are the cartesian product of sweep axes:

* ``carbon_price`` [CNY/t CO2e] -> ``PlanOptions.carbon_price_cny_per_t``;
* ``fleet`` (``all`` | ``fossil``) -> ``PlanOptions.carriers``;
* ``fuel_price`` [-] multiplies the price of fossil energy carriers (rows of
  ``data/energy_prices.csv`` whose carriers are all of fossil or mixed origin) ->
  ``PlanOptions.energy_prices``, a price table passed to the planner as data;
* ``target_year`` (a year or ``none``) -> ``PlanOptions.target_year``.

Execution: ``workers=0`` plans in this process (debugging, tests); otherwise a Dask
``LocalCluster`` on 127.0.0.1 with ``workers`` single-threaded worker processes, or the
scheduler at ``scheduler`` (``tcp://host:port``; its workers need greenlane installed). A
script that starts a local cluster needs an ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from greenlane.emissions.errors import GreenlaneError, InputError
from greenlane.emissions.units import G_PER_KG
from greenlane.fleet.cost import scale_energy_prices
from greenlane.routing.network.graph import Network, load_network
from greenlane.routing.network.model import Hub, HubKind
from greenlane.routing.planner.candidates import resolve_place
from greenlane.routing.planner.params import SolverParams
from greenlane.routing.planner.problem import PlanOptions
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.planner.solve import plan

DEFAULT_MAX_PARTITION = 80
"""Largest partition planned as one CP-SAT model [shipments]."""
SWEEP_AXES = ("carbon_price", "fleet", "fuel_price", "target_year", "eua_price")
"""Axes a scenario sweep may vary."""
FOSSIL_PRICE_ORIGINS = frozenset({"fossil", "mixed"})
"""Carrier origins whose prices ``fuel_price`` scales."""
MB_PER_KB = 1024
"""``ru_maxrss`` is in KiB on Linux [KiB/MiB]."""

Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each finished task."""


# ----------------------------------------------------------------------------- scenarios


@dataclass(frozen=True, slots=True)
class Scenario:
    """One point of a sweep: carbon price [CNY/t CO2e], fleet, fuel price factor [-], year,
    EUA price [EUR/t CO2e] of the EU ETS costs the legs pay."""

    carbon_price_cny_per_t: float | None = None
    fleet: str | None = None
    fuel_price: float = 1.0
    target_year: int | None = None
    eua_eur_per_t: float | None = None

    @property
    def name(self) -> str:
        """Short label, e.g. ``cp200 fleet=fossil fuel×1.5 2030`` (``base`` if nothing set)."""
        parts = []
        if self.carbon_price_cny_per_t is not None:
            parts.append(f"cp{self.carbon_price_cny_per_t:g}")
        if self.fleet is not None:
            parts.append(f"fleet={self.fleet}")
        if self.fuel_price != 1.0:
            parts.append(f"fuel×{self.fuel_price:g}")
        if self.target_year is not None:
            parts.append(str(self.target_year))
        if self.eua_eur_per_t is not None:
            parts.append(f"EUA{self.eua_eur_per_t:g}")
        return " ".join(parts) or "base"

    def options(self, base: PlanOptions) -> PlanOptions:
        """``base`` with this scenario's settings applied.

        ``fuel_price`` becomes ``energy_prices``: the base table (default: the shipped one)
        with the fossil carriers' rows scaled, passed to the planner as data.
        """
        changes: dict[str, Any] = {}
        if self.fuel_price != 1.0:
            changes["energy_prices"] = scale_energy_prices(
                self.fuel_price, FOSSIL_PRICE_ORIGINS, base.energy_prices
            )
        if self.carbon_price_cny_per_t is not None:
            changes["carbon_price_cny_per_t"] = self.carbon_price_cny_per_t
        if self.fleet is not None:
            changes["carriers"] = self.fleet
        if self.target_year is not None:
            changes["target_year"] = self.target_year
        if self.eua_eur_per_t is not None:
            changes["eua_eur_per_t"] = self.eua_eur_per_t
        return replace(base, **changes)


def parse_sweep(items: Iterable[str]) -> dict[str, list[str]]:
    """``["carbon_price=0,200", "fleet=all,fossil"]`` -> axis -> values (InputError names it)."""
    axes: dict[str, list[str]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"{item!r} is not AXIS=V1,V2,...", field="sweep")
        if key not in SWEEP_AXES:
            raise InputError(
                f"unknown axis {key!r}; axes: {', '.join(SWEEP_AXES)}", field=f"sweep.{key}"
            )
        if key in axes:
            raise InputError("axis given twice", field=f"sweep.{key}")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not vals:
            raise InputError("no values", field=f"sweep.{key}")
        axes[key] = vals
    return axes


def _number(text: str, axis: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{text!r} is not a number", field=f"sweep.{axis}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise InputError(f"{text!r} must lie in {low:g}..{high:g}", field=f"sweep.{axis}")
    return value


def scenarios(axes: Mapping[str, Sequence[str]]) -> list[Scenario]:
    """The cartesian product of the sweep axes as scenarios (validated)."""
    values: dict[str, list[Any]] = {}
    for axis, texts in axes.items():
        if axis == "carbon_price":
            values[axis] = [_number(t, axis, 0, 1e6) for t in texts]
        elif axis == "fuel_price":
            values[axis] = [_number(t, axis, 0.01, 100) for t in texts]
        elif axis == "fleet":
            for t in texts:
                if t not in ("all", "fossil"):
                    raise InputError(f"{t!r} must be 'all' or 'fossil'", field="sweep.fleet")
            values[axis] = list(texts)
        elif axis == "target_year":
            values[axis] = [
                None if t.lower() == "none" else int(_number(t, axis, 2000, 2100)) for t in texts
            ]
        elif axis == "eua_price":
            values[axis] = [_number(t, axis, 0, 10_000) for t in texts]
        else:
            raise InputError(f"unknown axis {axis!r}", field=f"sweep.{axis}")
    keys = list(values)
    out = []
    for combo in itertools.product(*(values[k] for k in keys)):
        point = dict(zip(keys, combo, strict=True))
        out.append(
            Scenario(
                carbon_price_cny_per_t=point.get("carbon_price"),
                fleet=point.get("fleet"),
                fuel_price=point.get("fuel_price", 1.0),
                target_year=point.get("target_year"),
                eua_eur_per_t=point.get("eua_price"),
            )
        )
    return out or [Scenario()]


# ----------------------------------------------------------------------------- partitions


@dataclass(frozen=True, slots=True)
class Partition:
    """Shipments planned together: ``lane_group`` (origin > destination region), week, chunk."""

    book: str
    key: str
    lane_group: str
    shipments: tuple[Shipment, ...]


def lane_group(origin: Hub, destination: Hub) -> str:
    """``F-NANJING>ES``: the origin hub and the destination's region."""
    return f"{origin.hub_id}>{destination.region}"


def partition_book(
    book: str,
    shipments: Sequence[Shipment],
    network: Network,
    max_partition: int = DEFAULT_MAX_PARTITION,
) -> list[Partition]:
    """Split a book by lane group and ready week into chunks of <= ``max_partition``.

    Places are resolved here, so an unknown place is an InputError naming
    ``<book>[i].origin`` before any work is sent out.
    """
    if max_partition < 1:
        raise InputError("must be >= 1", field="max_partition")
    places: dict[str, Hub] = {}

    def place(ref: str, where: str) -> Hub:
        if ref not in places:
            places[ref] = resolve_place(network, ref, where)
        return places[ref]

    groups: dict[tuple[str, str], list[Shipment]] = defaultdict(list)
    for i, s in enumerate(shipments):
        at = f"{book}: {s.where}" if s.where else f"{book}[{i}]"
        o = place(s.origin, f"{at}.origin")
        d = place(s.destination, f"{at}.destination")
        iso = s.ready_at.isocalendar()
        groups[(lane_group(o, d), f"{iso.year}-W{iso.week:02d}")].append(s)
    out = []
    for (group, week), members in sorted(groups.items()):
        members.sort(key=lambda s: (s.ready_at, s.shipment_id))
        chunks = math.ceil(len(members) / max_partition)
        bounds = [len(members) * c // chunks for c in range(chunks + 1)]
        for c in range(chunks):
            part = tuple(members[bounds[c] : bounds[c + 1]])
            key = f"{group}|{week}" + (f"|{c + 1}" if chunks > 1 else "")
            out.append(Partition(book, key, group, part))
    return out


# ----------------------------------------------------------------------------- tasks


@dataclass(frozen=True, slots=True)
class Task:
    """One partition under one scenario."""

    partition: Partition
    scenario: Scenario
    options: PlanOptions
    cache_dir: str | None = None


@dataclass(frozen=True, slots=True)
class TaskResult:
    """What a task sends back: one partition row and its shipment rows."""

    row: dict[str, Any]
    shipments: list[dict[str, Any]] = field(default_factory=list)


def _max_rss_mb() -> float:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB_PER_KB
    except (ImportError, OSError):  # pragma: no cover - not Linux
        return float("nan")


def run_task(task: Task) -> TaskResult:
    """Plan one partition (in a Dask worker or in process); errors become a row, not a crash."""
    t0 = time.perf_counter()
    part, sc = task.partition, task.scenario
    row: dict[str, Any] = {
        "book": part.book,
        "scenario": sc.name,
        "carbon_price_cny_per_t": task.options.carbon_price_cny_per_t,
        "fleet": task.options.carriers,
        "fuel_price": sc.fuel_price,
        "target_year": task.options.target_year,
        "eua_eur_per_t": task.options.eua_eur_per_t,
        "partition": part.key,
        "lane_group": part.lane_group,
        "shipments": len(part.shipments),
    }
    ships: list[dict[str, Any]] = []
    try:
        network = load_network(cache_dir=task.cache_dir) if task.cache_dir else load_network()
        result = plan(part.shipments, network, task.options)
        row.update(
            status=result.status,
            planned=len(result.shipments),
            unplanned=len(result.unplanned),
            cost_cny=result.cost_cny,
            regulatory_cost_cny=result.regulatory_cost_cny,
            co2e_wtw_kg=result.co2e_wtw_kg,
            co2e_ttw_kg=result.co2e_ttw_kg,
            tkm=result.tkm,
            tkm_gcd=result.tkm_gcd,
            on_time=sum(s.on_time for s in result.shipments),
            solver_status=str(result.facts.get("status", "")),
            solve_wall_s=float(result.facts.get("wall_s", 0.0)),  # type: ignore[arg-type]
            error="",
        )
        masses = {s.shipment_id: s.mass_t for s in part.shipments}
        ships = [
            {
                "book": part.book,
                "scenario": sc.name,
                "partition": part.key,
                "shipment_id": s.shipment_id,
                "planned": True,
                "path": s.label,
                "mass_t": s.mass_t,
                "cost_cny": s.cost_cny,
                "co2e_wtw_kg": s.footprint.totals.co2e_wtw_kg,
                "tkm_gcd": s.tkm_gcd,
                "on_time": s.on_time,
                "reason": "",
            }
            for s in result.shipments
        ] + [
            {
                "book": part.book,
                "scenario": sc.name,
                "partition": part.key,
                "shipment_id": u.shipment_id,
                "planned": False,
                "path": "",
                "mass_t": masses.get(u.shipment_id, float("nan")),
                "cost_cny": 0.0,
                "co2e_wtw_kg": 0.0,
                "tkm_gcd": 0.0,
                "on_time": False,
                "reason": "; ".join(u.reasons),
            }
            for u in result.unplanned
        ]
    except Exception as exc:  # one bad partition must not sink the batch
        kind = "" if isinstance(exc, GreenlaneError) else f"{type(exc).__name__}: "
        row.update(
            status="error",
            planned=0,
            unplanned=len(part.shipments),
            cost_cny=0.0,
            co2e_wtw_kg=0.0,
            co2e_ttw_kg=0.0,
            tkm=0.0,
            tkm_gcd=0.0,
            on_time=0,
            solver_status="",
            solve_wall_s=0.0,
            error=f"{kind}{exc}",
        )
    row.update(
        task_wall_s=time.perf_counter() - t0,
        worker=f"{os.uname().nodename}:{os.getpid()}",
        worker_max_rss_mb=_max_rss_mb(),
    )
    return TaskResult(row, ships)


# ----------------------------------------------------------------------------- running


@dataclass
class BatchResult:
    """Partition rows, shipment rows, wall time [s] and how it ran."""

    partitions: list[dict[str, Any]]
    shipments: list[dict[str, Any]]
    wall_s: float
    workers: int
    scheduler: str

    def partition_frame(self) -> Any:
        """Partition rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.partitions)

    def shipment_frame(self) -> Any:
        """Shipment rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.shipments)

    def summary(self) -> Any:
        """Totals per book and scenario, with the WTW intensity [g/tkm on GCD]."""
        frame = self.partition_frame()
        if frame.empty:
            return frame
        keys = ["book", "scenario", "carbon_price_cny_per_t", "fleet", "fuel_price", "target_year"]
        sums = [
            "shipments",
            "planned",
            "unplanned",
            "on_time",
            "cost_cny",
            "co2e_wtw_kg",
            "co2e_ttw_kg",
            "tkm_gcd",
        ]
        out = frame.groupby(keys, dropna=False, sort=False)[sums].sum().reset_index()
        out["partitions"] = frame.groupby(keys, dropna=False, sort=False).size().values
        out["errors"] = (
            frame.assign(err=frame["status"].eq("error"))
            .groupby(keys, dropna=False, sort=False)["err"]
            .sum()
            .values
        )
        out["intensity_g_per_tkm"] = (out["co2e_wtw_kg"] * G_PER_KG / out["tkm_gcd"]).where(
            out["tkm_gcd"] > 0
        )
        return out


def make_tasks(
    books: Mapping[str, Sequence[Shipment]],
    network: Network,
    base: PlanOptions,
    sweep: Sequence[Scenario] = (),
    max_partition: int = DEFAULT_MAX_PARTITION,
    cache_dir: str | None = None,
) -> list[Task]:
    """Every partition of every book under every scenario (options validated here)."""
    chosen = list(sweep) or [Scenario()]
    per_scenario = [(sc, sc.options(base)) for sc in chosen]
    for _, options in per_scenario:
        options.validate()
    tasks: list[Task] = []
    for name, shipments in books.items():
        for part in partition_book(name, shipments, network, max_partition):
            tasks.extend(Task(part, sc, options, cache_dir) for sc, options in per_scenario)
    return tasks


def local_cluster(workers: int) -> Any:
    """A Dask LocalCluster on loopback: ``workers`` processes x 1 thread, no dashboard.

    The scheduler's small HTTP server (health, metrics) would otherwise take port 8787 on
    every interface; it is put on a free loopback port instead.
    """
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )


def run_batch(
    tasks: Sequence[Task],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    progress: Progress | None = None,
    client: Any = None,
) -> BatchResult:
    """Run the tasks; ``workers=0`` in process, else Dask (a local cluster or ``scheduler``).

    Tasks are submitted largest first so the last ones to finish are short.
    """
    note = progress or (lambda _d, _t: None)
    order = sorted(tasks, key=lambda t: -len(t.partition.shipments))
    results: list[TaskResult] = []
    t0 = time.perf_counter()
    if client is None and scheduler is None and workers <= 0:
        for i, task in enumerate(order, 1):
            results.append(run_task(task))
            note(i, len(order))
        return _collect(results, time.perf_counter() - t0, 0, "in-process")
    with contextlib.ExitStack() as stack:
        if client is None:
            from distributed import Client

            if scheduler is not None:
                client = stack.enter_context(Client(scheduler, timeout="10s"))
            else:
                cluster = stack.enter_context(local_cluster(workers))
                client = stack.enter_context(Client(cluster))
        from distributed import as_completed

        address = str(client.scheduler.address)
        n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
        futures = client.map(run_task, order, pure=False)
        for i, future in enumerate(as_completed(futures), 1):
            results.append(future.result())
            note(i, len(order))
            future.release()
    return _collect(results, time.perf_counter() - t0, n_workers, address)


def _collect(results: list[TaskResult], wall_s: float, workers: int, where: str) -> BatchResult:
    rows = sorted(
        (r.row for r in results), key=lambda r: (r["book"], r["scenario"], r["partition"])
    )
    ships = [s for r in results for s in r.shipments]
    return BatchResult(rows, ships, wall_s, workers, where)


# ----------------------------------------------------------------------------- output


def write_parquet(result: BatchResult, path: Path) -> list[Path]:
    """``path`` (partition rows) and ``<stem>.shipments.parquet`` (shipment rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        b"greenlane.wall_s": str(result.wall_s).encode(),
        b"greenlane.workers": str(result.workers).encode(),
    }
    parts = pa.Table.from_pandas(result.partition_frame(), preserve_index=False)
    pq.write_table(parts.replace_schema_metadata({**(parts.schema.metadata or {}), **meta}), path)
    ship_path = path.with_name(path.stem + ".shipments.parquet")
    pq.write_table(pa.Table.from_pandas(result.shipment_frame(), preserve_index=False), ship_path)
    return [path, ship_path]


def summary_chart(result: BatchResult, path: Path) -> Path:
    """A PNG: cost vs WTW CO2e per scenario/book (left), intensity per scenario (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = result.summary()
    by = "scenario"
    if len(summary) == 1:  # one book, one scenario: show its lane groups instead
        by = "lane group"
        frame = result.partition_frame()
        summary = frame.groupby("lane_group")[["cost_cny", "co2e_wtw_kg", "tkm_gcd"]].sum()
        summary = summary.reset_index().rename(columns={"lane_group": "scenario"})
        summary["book"] = ""
        summary["intensity_g_per_tkm"] = (
            summary["co2e_wtw_kg"] * G_PER_KG / summary["tkm_gcd"]
        ).where(summary["tkm_gcd"] > 0)
    height = max(5.0, 0.18 * len(summary))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, height), constrained_layout=True)
    if not summary.empty:
        labels = [
            f"{b}: {s}" if summary["book"].nunique() > 1 else s
            for b, s in zip(summary["book"], summary["scenario"], strict=True)
        ]
        ax1.scatter(summary["co2e_wtw_kg"] / 1000, summary["cost_cny"] / 1e6, color="#0072B2")
        for x, y, label in zip(
            summary["co2e_wtw_kg"] / 1000, summary["cost_cny"] / 1e6, labels, strict=True
        ):
            ax1.annotate(label, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax2.barh(labels, summary["intensity_g_per_tkm"], color="#009E73")
        ax2.invert_yaxis()
        ax2.tick_params(axis="y", labelsize=7)
    ax1.set_xlabel("WTW emissions [t CO2e]")
    ax1.set_ylabel("cost [million CNY]")
    ax1.set_title("cost vs emissions")
    ax2.set_xlabel("WTW intensity [g CO2e / tkm, GCD]")
    ax2.set_title(f"intensity by {by} ({len(result.partitions)} partitions, {result.wall_s:.0f} s)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- synthetic year


def synthetic_year(
    network: Network, n: int = 100_000, year: int = 2026, seed: int = 0
) -> list[Shipment]:
    """A reproducible year of ``n`` shipments from the factories to customers and warehouses.

    Ready times are spread over the year; masses 1-24 t; due windows 12-60 days, with 3 %
    urgent (5-8 days). Only a benchmark and test fixture: no real demand behind it.
    """
    rng = random.Random(seed)
    hubs = network.hubs.values()
    factories = sorted(h.hub_id for h in hubs if h.kind == HubKind.FACTORY)
    sinks = sorted(h.hub_id for h in hubs if h.kind in (HubKind.CUSTOMER_SITE, HubKind.WAREHOUSE))
    if not factories or not sinks:
        raise InputError("the network has no factories or customer sites", field="network")
    weights = [rng.uniform(0.2, 1.0) for _ in sinks]
    start = datetime(year, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        ready = start + timedelta(hours=rng.randrange(0, 364 * 24))
        urgent = rng.random() < 0.03
        days = rng.uniform(5, 8) if urgent else rng.uniform(12, 60)
        out.append(
            Shipment(
                shipment_id=f"Y{year}-{i:06d}",
                origin=rng.choice(factories),
                destination=rng.choices(sinks, weights)[0],
                mass_t=round(rng.uniform(1, 24), 1),
                ready_at=ready,
                due_at=ready + timedelta(days=days),
            )
        )
    return out


def default_options(
    time_limit_s: float = 5.0, relative_gap: float = 0.01, seed: int = 0, **changes: Any
) -> PlanOptions:
    """Batch defaults: one solver worker, a seed, a per-partition limit and a 1 % gap."""
    return PlanOptions(
        solver=SolverParams(
            time_limit_s=time_limit_s, seed=seed, workers=1, relative_gap=relative_gap
        ),
        **changes,
    )


def scenario_dict(sc: Scenario) -> dict[str, Any]:
    """A scenario as a plain dict (with its name)."""
    return {"name": sc.name, **asdict(sc)}


__all__ = [
    "DEFAULT_MAX_PARTITION",
    "BatchResult",
    "Partition",
    "Scenario",
    "Task",
    "TaskResult",
    "default_options",
    "lane_group",
    "local_cluster",
    "make_tasks",
    "parse_sweep",
    "partition_book",
    "run_batch",
    "run_task",
    "scenarios",
    "summary_chart",
    "synthetic_year",
    "write_parquet",
]
