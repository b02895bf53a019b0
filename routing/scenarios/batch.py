"""Batch planning: many books or a scenario sweep, partitioned by shared resources, on Dask.

Every unit of work is one *partition* of one book under one *scenario*, solved by the
planner's own ``build_problem`` + ``solve_problem`` (what ``routing.plan`` runs). Partitions
group shipments by the resources they can share -- origins whose lanes reach common
gateway hubs draw on the same trucks and departures, origins shipping to a common
destination meet on the arrival side -- and cut each group into runs of about
``partition_size`` shipments by ready time, between days (by default one run per worker,
250..1,000 shipments, fewer in dense books: :func:`auto_partition_size`), so every task
works for seconds. A worker process loads the network and factor tables once and keeps its
candidate builder (priced lanes, paths) and the partitions' problems for the tasks that
follow.

What partitions still share is held by the coordinator (``routing.scenarios.coordinate``):
a network-wide intensity cap (``target_year``) or CO2e budget (``co2e_cap_kg``) by one
carbon price for all partitions, searched until the book meets it; scheduled departures
loaded above capacity by several partitions by re-planning them in parallel rounds, each
with the others' load held back (:func:`repair_capacity`).

Scenarios are the cartesian product of sweep axes:

* ``carbon_price`` [CNY/t CO2e] -> ``PlanOptions.carbon_price_cny_per_t``;
* ``fleet`` (``all`` | ``fossil``) -> ``PlanOptions.carriers``;
* ``fuel_price`` [-] multiplies the price of fossil energy carriers (rows of
  ``data/energy_prices.csv`` whose carriers are all of fossil or mixed origin) ->
  ``PlanOptions.energy_prices``, a price table passed to the planner as data;
* ``target_year`` (a year or ``none``) -> ``PlanOptions.target_year``;
* ``eua_price`` [EUR/t CO2e] -> ``PlanOptions.eua_eur_per_t`` (the EU ETS costs legs pay);
* ``bunker_price`` [-] multiplies the fossil marine bunker prices (VLSFO, HFO, ULSFO, LFO,
  MGO, LNG; ``fleet.cost.BUNKER_FAMILIES``) and ``jet_price`` [-] the fossil jet fuel price
  of the energy price table (SAF keeps its own price, so the ReFuelEU premium shrinks);
* ``rate_card_index`` [-] multiplies every rate card (``PlanOptions.rate_card_index``; it
  moves legs priced at a card, i.e. with ``price_basis='rate_card'``).

Execution: ``workers=0`` plans in this process (debugging, tests); otherwise a Dask
``LocalCluster`` on 127.0.0.1 with ``workers`` single-threaded worker processes, or the
scheduler at ``scheduler`` (``tcp://host:port``; its workers need greenlane installed). A
script that starts a local cluster needs an ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import os
import pickle
import random
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import GreenlaneError, InputError
from greenlane.emissions.factors import load_factors
from greenlane.emissions.tables import dataset_ref
from greenlane.emissions.units import G_PER_KG
from greenlane.fleet.cost import market_prices, scale_energy_prices
from greenlane.fleet.regulation import COST_KEYS, REGULATORY_KEYS
from greenlane.routing.network.graph import Network, load_network
from greenlane.routing.network.model import Hub, HubKind
from greenlane.routing.planner.candidates import (
    CandidateBuilder,
    hours_since_epoch,
    resolve_place,
)
from greenlane.routing.planner.model_data import TruckKey
from greenlane.routing.planner.params import SolverParams
from greenlane.routing.planner.plan import Plan
from greenlane.routing.planner.problem import (
    HELD_PREFIX,
    PlanOptions,
    Problem,
    add_departure_choices,
    build_problem,
    gc_paused,
)
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.planner.solve import solve_problem
from greenlane.routing.scenarios.coordinate import (
    MAX_BISECTIONS,
    PRICE_MAX_CNY_PER_T,
    Constraint,
    Outcome,
    TruckUse,
    accept_repairs,
    held_by_others,
    independent,
    lagrangian_cny,
    merge_trucks,
    next_price,
    overbooked,
    polish,
    repair_order,
    total_loads,
)

DEFAULT_PARTITION_SIZE = 250
"""Least shipments per partition when sized automatically: a task then works for seconds,
not milliseconds."""
MAX_PARTITION_SIZE = 1000
"""Most shipments per partition when sized automatically."""
DENSITY_BUDGET = 13_750.0
"""Shipments per partition x shipments ready per day that one automatically sized partition
may reach [shipments^2/day]: partitions of 500 at 27.5 a day (the 10,000-shipment synthetic
year), whose solves stayed within a 10 s limit at a gap of 0.001."""
DEFAULT_GAP = 0.0
"""Relative optimality gap at which a partition solve stops [-]. 0: as ``greenlane plan``,
the search runs until ``IDLE_ROUNDS`` rounds of neighbourhoods improve nothing (or the
limit); its LP bound is 0.02 % below the optimum on the synthetic year, so a gap of 0.001
stops at the first plan, 1,400-3,500 CNY above each 1,000-shipment partition's optimum."""
PARTITION_S_PER_SHIPMENT = 0.01
"""Default solve time limit of a partition per shipment in it [s]: what one ``greenlane plan
--time-limit 20`` gives each shipment of the 2,000-shipment year. A task holds
:func:`partition_time_limit`; on the 10,000-shipment year (partitions of 500) 5 s instead of
10 s took 107 s instead of 194 s for 0.004 % more cost."""
PARTITION_MIN_S = 2.0
"""Least default solve time limit of a partition [s]."""
PARTITION_MAX_S = 10.0
"""Most default solve time limit of a partition [s]."""
SWEEP_AXES = (
    "carbon_price",
    "fleet",
    "fuel_price",
    "target_year",
    "eua_price",
    "bunker_price",
    "jet_price",
    "rate_card_index",
)
"""Axes a scenario sweep may vary."""
FOSSIL_PRICE_ORIGINS = frozenset({"fossil", "mixed"})
"""Carrier origins whose prices ``fuel_price`` scales."""
HOURS_PER_DAY = 24
"""Own trucks leave in day slots of this many hours [h]."""
MB_PER_KB = 1024
"""``ru_maxrss`` is in KiB on Linux [KiB/MiB]."""

Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each finished task."""


# ----------------------------------------------------------------------------- scenarios


@dataclass(frozen=True, slots=True)
class Scenario:
    """One point of a sweep: carbon price [CNY/t CO2e], fleet, fuel price factor [-], year,
    EUA price [EUR/t CO2e] of the EU ETS costs the legs pay, bunker and jet price factors
    [-] and the rate-card index [-]."""

    carbon_price_cny_per_t: float | None = None
    fleet: str | None = None
    fuel_price: float = 1.0
    target_year: int | None = None
    eua_eur_per_t: float | None = None
    bunker_price: float = 1.0
    jet_price: float = 1.0
    rate_card_index: float = 1.0

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
        if self.bunker_price != 1.0:
            parts.append(f"bunker×{self.bunker_price:g}")
        if self.jet_price != 1.0:
            parts.append(f"jet×{self.jet_price:g}")
        if self.rate_card_index != 1.0:
            parts.append(f"cards×{self.rate_card_index:g}")
        return " ".join(parts) or "base"

    def options(self, base: PlanOptions) -> PlanOptions:
        """``base`` with this scenario's settings applied.

        ``fuel_price`` becomes ``energy_prices``: the base table (default: the one of the
        base's ``data_dir``) with the fossil carriers' rows scaled, passed to the planner as
        data; so do ``bunker_price`` and ``jet_price`` (their rows scaled after it).
        """
        changes: dict[str, Any] = {}
        prices = base.energy_prices
        if self.fuel_price != 1.0:
            prices = scale_energy_prices(
                self.fuel_price,
                FOSSIL_PRICE_ORIGINS,
                prices,
                data_dir=base.data_dir or DATA_DIR,
            )
        prices = market_prices(
            self.bunker_price, self.jet_price, prices, data_dir=base.data_dir or DATA_DIR
        )
        if prices is not base.energy_prices:
            changes["energy_prices"] = prices
        if self.rate_card_index != 1.0:
            changes["rate_card_index"] = self.rate_card_index
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
        elif axis in ("bunker_price", "jet_price", "rate_card_index"):
            values[axis] = [_number(t, axis, 0.01, 100) for t in texts]
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
                bunker_price=point.get("bunker_price", 1.0),
                jet_price=point.get("jet_price", 1.0),
                rate_card_index=point.get("rate_card_index", 1.0),
            )
        )
    return out or [Scenario()]


# ----------------------------------------------------------------------------- partitions


@dataclass(frozen=True, slots=True)
class Partition:
    """Shipments planned together: a resource ``group`` of origins and a run of ready times."""

    book: str
    key: str
    group: str
    shipments: tuple[Shipment, ...]


def resource_groups(
    network: Network, origins: Iterable[str], pairs: Iterable[tuple[str, str]] = ()
) -> dict[str, str]:
    """Origin hub id -> its resource group, e.g. ``F-CHANGSHA+F-HEYUAN+F-SHENZHEN``.

    Two origins are in one group when a lane joins them or their lanes reach a common hub:
    they then draw on the same trucks, gateway terminals and scheduled departures. With
    ``pairs`` (origin, destination hub ids of a book) two origins are also in one group when
    they ship to a common destination: their shipments then meet on the arrival side (the
    last-mile trucks into that destination, the departures towards it).
    """
    ids = sorted(set(origins))
    parent = {o: o for o in ids}

    def root(o: str) -> str:
        while parent[o] != o:
            parent[o] = parent[parent[o]]
            o = parent[o]
        return o

    def join(a: str, b: str) -> None:
        a, b = root(a), root(b)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first_hop: dict[str, str] = {}
    for lane in network.lanes:
        if lane.origin not in parent:
            continue
        for hub in (lane.origin, lane.destination):
            join(first_hop.setdefault(hub, lane.origin), lane.origin)
    into: dict[str, str] = {}
    for origin, destination in pairs:
        if origin in parent:
            join(into.setdefault(destination, origin), origin)
    members: dict[str, list[str]] = defaultdict(list)
    for o in ids:
        members[root(o)].append(o)
    return {o: "+".join(members[root(o)]) for o in ids}


def partition_book(
    book: str,
    shipments: Sequence[Shipment],
    network: Network,
    partition_size: int | None = None,
    workers: int = 1,
) -> list[Partition]:
    """Split a book by resource group, then by ready time into runs of ~``partition_size``.

    ``partition_size`` None sizes the runs of each group by :func:`auto_partition_size` for
    ``workers`` task slots.

    Consolidation (shared trucks, departures) happens between shipments of one group close
    in time, so cutting between groups and between runs of ready times loses little; what
    partitions still share (a departure at a cut) is held by the coordinator
    (:func:`run_batch`). Groups join origins that share first hops or destinations
    (:func:`resource_groups`). Each cut is moved, by at most a tenth of a run, to the widest
    gap in ready times that crosses a day (own trucks leave in day slots, so shipments ready
    on one day stay together). Places are resolved here, so an unknown place is an
    InputError naming ``<book>[i].origin`` before any work is sent out.
    """
    if partition_size is not None and partition_size < 1:
        raise InputError("must be >= 1", field="partition_size")
    places: dict[str, Hub] = {}

    def place(ref: str, where: str) -> Hub:
        if ref not in places:
            places[ref] = resolve_place(network, ref, where)
        return places[ref]

    origin_of: list[str] = []
    pairs: set[tuple[str, str]] = set()
    for i, s in enumerate(shipments):
        at = f"{book}: {s.where}" if s.where else f"{book}[{i}]"
        origin_of.append(place(s.origin, f"{at}.origin").hub_id)
        pairs.add((origin_of[-1], place(s.destination, f"{at}.destination").hub_id))
    group_of = resource_groups(network, origin_of, sorted(pairs))
    groups: dict[str, list[Shipment]] = defaultdict(list)
    for s, o in zip(shipments, origin_of, strict=True):
        groups[group_of[o]].append(s)
    out = []
    for group, members in sorted(groups.items()):
        members.sort(key=lambda s: (s.ready_at, s.shipment_id))
        days = (members[-1].ready_at - members[0].ready_at) / timedelta(days=1)
        size = partition_size or auto_partition_size(
            len(members), workers, len(members) / max(1.0, days)
        )
        chunks = max(1, round(len(members) / size))
        bounds = _cuts([hours_since_epoch(s.ready_at) for s in members], chunks)
        for c in range(chunks):
            part = tuple(members[bounds[c] : bounds[c + 1]])
            key = f"{group}|{part[0].ready_at:%Y-%m-%d}|{c + 1}/{chunks}"
            out.append(Partition(book, key, group, part))
    return out


def partition_time_limit(shipments: int) -> float:
    """Default solve time limit of a partition of ``shipments`` [s]: PARTITION_S_PER_SHIPMENT
    each, within PARTITION_MIN_S..PARTITION_MAX_S."""
    return min(PARTITION_MAX_S, max(PARTITION_MIN_S, PARTITION_S_PER_SHIPMENT * shipments))


def auto_partition_size(shipments: int, workers: int = 1, per_day: float = 0.0) -> int:
    """Shipments per partition for a group of ``shipments`` on ``workers`` task slots, ready
    at ``per_day`` shipments a day: one run per slot, at least DEFAULT_PARTITION_SIZE and at
    most DENSITY_BUDGET / ``per_day`` (a denser book solves slower per shipment), within
    MAX_PARTITION_SIZE.

    Larger partitions lose less consolidation at the cuts and pay the per-task set-up
    (the baseline fleet's lane pricing, a worker's first paths) fewer times; on the
    2,000-shipment synthetic year (5.5 a day) two partitions of 1,000 cost 0.004 % less than
    eight of 250 and took 10 % less CPU, their solves ending in about a second. On 10,000
    (27.5 a day) partitions of 1,000 ran into the 10 s solve limit (median 5.7 s) and those
    of 500 did not (median 3.2 s) and planned cheaper.
    """
    cap = MAX_PARTITION_SIZE
    if per_day > 0:
        cap = max(DEFAULT_PARTITION_SIZE, min(cap, int(DENSITY_BUDGET / per_day)))
    per_slot = -(-shipments // max(1, workers))
    return max(DEFAULT_PARTITION_SIZE, min(cap, per_slot))


def _cuts(ready_h: Sequence[float], chunks: int) -> list[int]:
    """Bounds of ``chunks`` runs of sorted ready times [h]: equal runs, each inner cut moved
    by at most a tenth of a run to a gap that crosses a day (the widest, then the nearest)."""
    n = len(ready_h)
    bounds = [n * c // chunks for c in range(chunks + 1)]
    reach = max(0, n // chunks // 10)
    for c in range(1, chunks):
        target = bounds[c]
        best: tuple[bool, float, int] | None = None
        for i in range(max(bounds[c - 1] + 1, target - reach), min(n - 1, target + reach) + 1):
            day = math.floor(ready_h[i] / HOURS_PER_DAY) != math.floor(
                ready_h[i - 1] / HOURS_PER_DAY
            )
            score = (day, ready_h[i] - ready_h[i - 1], -abs(i - target))
            if best is None or score > best:
                best, bounds[c] = score, i
    return bounds


# ----------------------------------------------------------------------------- tasks


@dataclass(frozen=True, slots=True)
class Task:
    """One partition under one scenario.

    ``price_cny_per_t`` set: the coordinator's carbon price replaces the scenario's, and the
    network-wide constraints (``target_year``, ``co2e_cap_kg``) are left to the coordinator;
    ``greenest`` plans CO2e first; ``reserved_t`` [t] is capacity held per scheduled
    departure (lane id, slot) by other partitions, ``held_trucks_t`` [t] the load other
    partitions already put on own-truck departures (lane id, vehicle, carrier, day slot),
    whose trucks the partition may share; ``truck_reach`` asks for the shipments that could
    use each own-truck departure (to find the shipments at a cut). ``network`` is planned on
    instead of the shipped one (loaded once per worker) when given. ``share_kg`` caps the
    partition's own WTW CO2e [kg] (its share of the network's budget, in the coordinator's
    final step).
    """

    partition: Partition
    scenario: Scenario
    options: PlanOptions
    cache_dir: str | None = None
    price_cny_per_t: float | None = None
    greenest: bool = False
    reserved_t: tuple[tuple[tuple[str, int], float], ...] = ()
    network: Network | None = None
    share_kg: float | None = None
    held_trucks_t: tuple[tuple[TruckKey, float], ...] = ()
    truck_reach: bool = False
    auto_time_limit: bool = False

    def solve_options(self) -> PlanOptions:
        """The options the partition is solved with (``auto_time_limit``: the solve time
        limit by :func:`partition_time_limit` of its size)."""
        options = self.options
        if self.auto_time_limit:
            limit = partition_time_limit(len(self.partition.shipments))
            options = replace(options, solver=replace(options.solver, time_limit_s=limit))
        if self.price_cny_per_t is None:
            return options
        return replace(
            options,
            carbon_price_cny_per_t=self.price_cny_per_t,
            target_year=None,
            co2e_cap_kg=self.share_kg,
            objective="co2e" if self.greenest else self.options.objective,
        )

    @property
    def coupled(self) -> bool:
        """True when the scenario sets a network-wide cap (held by price coordination)."""
        o = self.options
        return o.objective == "cost" and (o.target_year is not None or o.co2e_cap_kg is not None)

    def digest(self) -> str:
        """A stable id of the work (partition, options, price, reservations) for resuming."""
        body = pickle.dumps(
            (
                self.partition,
                self.options,
                self.price_cny_per_t,
                self.greenest,
                self.reserved_t,
                None if self.network is None else self.network.data_sha256,
                self.share_kg,
                self.held_trucks_t,
                self.truck_reach,
                self.auto_time_limit,
            ),
            protocol=5,
        )
        return hashlib.sha256(body).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class TaskResult:
    """What a task sends back: one partition row, its shipment rows, departure loads [t] and
    capacities [t], ``reach``: every scheduled departure its candidates could load
    (None when the problem could not be built), ``trucks``: its own-truck departures,
    ``ship_departures``: the scheduled departures of each planned shipment, and
    ``truck_reach`` (when the task asked): own-truck departure -> shipments that could use it.
    """

    row: dict[str, Any]
    shipments: list[dict[str, Any]] = field(default_factory=list)
    loads_t: dict[tuple[str, int], float] = field(default_factory=dict)
    caps_t: dict[tuple[str, int], float] = field(default_factory=dict)
    reach: frozenset[tuple[str, int]] | None = None
    trucks: dict[TruckKey, TruckUse] = field(default_factory=dict)
    ship_departures: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    truck_reach: dict[TruckKey, tuple[str, ...]] | None = None

    def outcome(self) -> Outcome:
        """Totals, loads and reach for the coordinator."""
        r = self.row
        return Outcome(
            r["cost_cny"],
            r["co2e_wtw_kg"],
            r["tkm_gcd"],
            r["planned"],
            self.loads_t,
            self.caps_t,
            getattr(self, "reach", None),  # None in journals written without it
        )


def _max_rss_mb() -> float:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB_PER_KB
    except (ImportError, OSError):  # pragma: no cover - not Linux
        return float("nan")


# Per worker process: the network, candidate builders and built problems are set up once and
# reused by every task the process runs (the model set-up is paid per worker, not per task).
_BUILDERS: dict[Any, CandidateBuilder] = {}
_PROBLEMS: OrderedDict[Any, Problem] = OrderedDict()
PROBLEMS_KEPT = 64
"""Built partition problems kept per worker process (coordination rounds re-solve them)."""


def warm_up(cache_dir: str | None = None) -> str:
    """Load the network and factor tables into this process (run once per Dask worker)."""
    network = _network(cache_dir)
    load_factors()
    return f"{len(network.lanes)} lanes"


def _network(cache_dir: str | None, data_dir: Path | None = None) -> Network:
    """The network of ``data_dir`` (None: the shipped one), loaded once per process."""
    if data_dir is not None:
        return load_network(data_dir, cache_dir=cache_dir)
    return load_network(cache_dir=cache_dir) if cache_dir else load_network()


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _builder(
    network: Network, options: PlanOptions, shipments: Sequence[Shipment]
) -> CandidateBuilder:
    regulation = options.regulation(shipments)
    key = (
        network.data_sha256,
        options.factor_sets,
        options.k_paths,
        options.carbon_price_cny_per_t,
        options.carriers,
        _hashable(options.energy_prices),
        regulation,
        options.price_basis,
        options.data_dir,
        options.rate_card_index,
    )
    if key not in _BUILDERS:
        _BUILDERS[key] = CandidateBuilder(
            network,
            load_factors(options.factor_sets)
            if options.data_dir is None
            else load_factors(options.factor_sets, data_dir=options.data_dir),
            options.k_paths,
            options.carbon_price_cny_per_t,
            options.carriers,
            options.energy_prices,
            regulation=regulation,
            rate_cards=options.price_basis == "rate_card",
            data_dir=options.data_dir,
            rate_card_index=options.rate_card_index,
        )
    return _BUILDERS[key]


def _problem(task: Task, network: Network) -> Problem:
    """The partition's problem at the scenario's options (cached per worker process)."""
    options = task.options
    key = (
        network.data_sha256,
        task.partition.book,
        task.partition.key,
        tuple(s.shipment_id for s in task.partition.shipments),
        _hashable(replace(options, solver=SolverParams())),
    )
    problem = _PROBLEMS.get(key)
    if problem is None:
        problem = build_problem(
            task.partition.shipments,
            network,
            options,
            builder=_builder(network, options, task.partition.shipments),
        )
        _PROBLEMS[key] = problem
        while len(_PROBLEMS) > PROBLEMS_KEPT:
            _PROBLEMS.popitem(last=False)
    else:
        _PROBLEMS.move_to_end(key)
    if task.reserved_t or task.held_trucks_t:
        problem = held_back(
            problem, dict(task.reserved_t), options, dict(task.held_trucks_t) or None
        )
    return problem


def held_back(
    problem: Problem,
    held_t: Mapping[tuple[str, int], float],
    options: PlanOptions,
    trucks_t: Mapping[TruckKey, float] | None = None,
) -> Problem:
    """The problem with ``held_t`` [t] per scheduled departure held by other partitions, and
    waiting copies of its candidates wherever the held load and its own could overfill a
    departure; with ``trucks_t`` [t] already on own-truck departures (lane id, vehicle,
    carrier, day slot) by other partitions, which its shipments may share.

    A partition built alone got waiting copies (``add_departure_choices``) only where its own
    shipments could overfill a departure; with the others' load held back, a departure it
    could fill alone may be full, and without a copy that waits for the next departure a
    shipment would have to change path. Each held departure the partition could use stands
    in as one extra shipment of the held tonnes with a one-leg candidate on it, marked as a
    waiting copy (so never copied itself); the departure choices are added again with those
    stand-ins, which are then dropped, and the new copies (not those the partition had) are
    appended to each shipment's candidates.

    Held truck load stays in the problem as one stand-in shipment per truck departure the
    partition could use: one candidate on that leg alone, at no cost but its trucks, and a
    penalty for leaving it that always exceeds them, so the solver counts the trucks it
    already runs and fills their spare room first (the plan leaves the stand-ins out but
    allocates the trucks over all they carry). The cached problem is left as it was.
    """
    by_id = {s.shipment_id: s for s in problem.shipments}
    cands = {sid: list(cs) for sid, cs in problem.candidates.items()}
    stand_in: dict[tuple[str, int], Any] = {}
    for sid, cs in problem.candidates.items():
        for c in cs:
            for o, tm in zip(c.options, c.timings, strict=True):
                key = (o.lane.lane_id, tm.slot)
                if o.dedicated or key in stand_in or held_t.get(key, 0.0) <= 0:
                    continue
                fake = f"{HELD_PREFIX}{key[0]}|{key[1]}"
                stand_in[key] = fake
                by_id[fake] = replace(by_id[sid], shipment_id=fake, mass_t=held_t[key])
                cands[fake] = [
                    replace(c, shipment_id=fake, options=(o,), timings=(tm,), waits=(1,))
                ]
    out: dict[str, list[Any]] = {sid: list(cs) for sid, cs in problem.candidates.items()}
    if stand_in:
        with gc_paused():
            add_departure_choices(cands, by_id, problem.builder, options)
        for sid, before in problem.candidates.items():
            kept = out[sid]
            seen = {(tuple(o.key for o in c.options), c.timings) for c in kept}
            for c in cands[sid][len(before) :]:
                ident = (tuple(o.key for o in c.options), c.timings)
                if ident not in seen:  # a copy the partition alone had already
                    seen.add(ident)
                    kept.append(replace(c, index=len(kept)))
    shipments = list(problem.shipments)
    tkm = problem.tkm_gcd
    if trucks_t:
        tkm = dict(tkm)
        trucks_in: set[TruckKey] = set()
        for sid, cs in problem.candidates.items():
            for c in cs:
                for o, tm in zip(c.options, c.timings, strict=True):
                    tkey = (o.lane.lane_id, o.vehicle_id, o.carrier, tm.slot)
                    if not o.dedicated or tkey in trucks_in or trucks_t.get(tkey, 0.0) <= 0:
                        continue
                    trucks_in.add(tkey)
                    mass = trucks_t[tkey]
                    fake = f"{HELD_PREFIX}truck|{'|'.join(map(str, tkey))}"
                    n = o.vehicles_for(mass)
                    shipments.append(replace(by_id[sid], shipment_id=fake, mass_t=mass))
                    tkm[fake] = 0.0
                    out[fake] = [
                        replace(
                            c,
                            shipment_id=fake,
                            index=0,
                            options=(o,),
                            timings=(tm,),
                            hubs=(o.lane.origin, o.lane.destination),
                            arrival_h=tm.arrive_h,
                            late_h=0.0,
                            var_cost_cny=0.0,
                            var_wtw_kg=0.0,
                            var_ttw_kg=0.0,
                            alone_cost_cny=n * o.vehicle_cost_cny,
                            alone_wtw_kg=n * o.vehicle_wtw_kg,
                            waits=(),
                        )
                    ]
    if not stand_in and not trucks_t:
        return replace(problem, reserved_t=dict(held_t))
    return replace(
        problem, candidates=out, reserved_t=dict(held_t), shipments=shipments, tkm_gcd=tkm
    )


def departure_loads(
    result: Plan, network: Network, per_shipment: dict[str, Any] | None = None
) -> tuple[dict[tuple[str, int], float], dict[tuple[str, int], float]]:
    """Tonnes per scheduled departure (lane id, slot) of a plan, and those departures'
    capacities [t]. Own trucks (road legs with vehicles) share nothing and are left out.
    ``per_shipment`` (if given) receives each shipment's departures."""
    loads: dict[tuple[str, int], float] = defaultdict(float)
    caps: dict[tuple[str, int], float] = {}
    for s in result.shipments:
        mine = []
        for leg in s.legs:
            if leg.vehicles:
                continue
            lane = network.lane(leg.lane_id)
            slot = leg.departure_slot(lane.departures_per_week)
            loads[(leg.lane_id, slot)] += s.mass_t
            caps[(leg.lane_id, slot)] = leg.capacity_t or lane.capacity_t_per_departure
            mine.append((leg.lane_id, slot))
        if per_shipment is not None:
            per_shipment[s.shipment_id] = tuple(mine)
    return dict(loads), caps


def truck_uses(result: Plan, problem: Problem) -> dict[TruckKey, TruckUse]:
    """The plan's own-truck departures (lane id, vehicle, carrier, day slot): trucks, the
    tonnes they carry (held stand-ins included), its shipments on them and per-truck cost
    [CNY] by component and WTW, TTW CO2e [kg] of the lane option."""
    legs: dict[TruckKey, tuple[int, float, list[tuple[str, float]]]] = {}
    for s in result.shipments:
        for leg in s.legs:
            if leg.truck_slot is None or not leg.vehicles:
                continue
            key = (leg.lane_id, leg.vehicle_id, leg.energy_carrier, leg.truck_slot)
            if key not in legs:
                legs[key] = (leg.vehicles, leg.truck_load_t, [])
            legs[key][2].append((s.shipment_id, s.mass_t))
    wanted = {k[:3] for k in legs}
    option: dict[tuple[str, str, str], Any] = {}
    for cands in problem.candidates.values():
        for c in cands:
            for o in c.options:
                k3 = (o.lane.lane_id, o.vehicle_id, o.carrier)
                if o.dedicated and k3 in wanted and k3 not in option:
                    option[k3] = o
        if len(option) == len(wanted):
            break
    out = {}
    for key, (n, load, members) in sorted(legs.items()):
        o = option[key[:3]]
        split = o.vehicle_split_cny or (o.vehicle_cost_cny, *[0.0] * (len(COST_KEYS) - 1))
        out[key] = TruckUse(
            n,
            load,
            tuple(members),
            o.vehicle_payload_t,
            tuple(zip(COST_KEYS, split, strict=True)),
            o.vehicle_wtw_kg,
            o.vehicle_ttw_kg,
        )
    return out


def truck_reach(problem: Problem) -> dict[TruckKey, tuple[str, ...]]:
    """Own-truck departure (lane id, vehicle, carrier, day slot) -> the shipments whose
    candidates could use it (held stand-ins left out)."""
    out: dict[TruckKey, set[str]] = defaultdict(set)
    for sid, cands in problem.candidates.items():
        if sid.startswith(HELD_PREFIX):
            continue
        for c in cands:
            for o, tm in zip(c.options, c.timings, strict=True):
                if o.dedicated:
                    out[(o.lane.lane_id, o.vehicle_id, o.carrier, tm.slot)].add(sid)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def reach(problem: Problem) -> frozenset[tuple[str, int]]:
    """Every scheduled departure (lane id, slot) a candidate of the problem could load
    (legs on own trucks share nothing and are left out, as in :func:`departure_loads`)."""
    out: set[tuple[str, int]] = set()
    for cands in problem.candidates.values():
        for c in cands:
            for o, tm in zip(c.options, c.timings, strict=True):
                if not o.dedicated:
                    out.add((o.lane.lane_id, tm.slot))
    return frozenset(out)


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return ""


def _breakdown(s: Any) -> dict[str, float]:
    """A shipment plan's freight, energy and regulatory cost [CNY] (as the plan's)."""
    out: dict[str, float] = defaultdict(float)
    for leg in s.legs:
        for k, v in leg.cost_breakdown:
            out[k] += v
    return {
        "freight_cost_cny": out["freight"],
        "energy_cost_cny": out["energy"],
        "regulatory_cost_cny": sum(out[k] for k in REGULATORY_KEYS),
    }


def _shipment_rows(task: Task, result: Plan) -> list[dict[str, Any]]:
    part, sc = task.partition, task.scenario
    masses = {s.shipment_id: s.mass_t for s in part.shipments}
    common = {"book": part.book, "scenario": sc.name, "partition": part.key}
    return [
        {
            **common,
            "shipment_id": s.shipment_id,
            "planned": True,
            "path": s.label,
            "mass_t": s.mass_t,
            "cost_cny": s.cost_cny,
            **_breakdown(s),
            "co2e_wtw_kg": s.footprint.totals.co2e_wtw_kg,
            "co2e_ttw_kg": s.footprint.totals.co2e_ttw_kg,
            "tkm": s.footprint.totals.tkm,
            "tkm_gcd": s.tkm_gcd,
            "on_time": s.on_time,
            "reason": "",
        }
        for s in result.shipments
    ] + [
        {
            **common,
            "shipment_id": u.shipment_id,
            "planned": False,
            "path": "",
            "mass_t": masses.get(u.shipment_id, float("nan")),
            "cost_cny": 0.0,
            "freight_cost_cny": 0.0,
            "energy_cost_cny": 0.0,
            "regulatory_cost_cny": 0.0,
            "co2e_wtw_kg": 0.0,
            "co2e_ttw_kg": 0.0,
            "tkm": 0.0,
            "tkm_gcd": 0.0,
            "on_time": False,
            "reason": "; ".join(u.reasons),
        }
        for u in result.unplanned
    ]


def run_task(task: Task) -> TaskResult:
    """Plan one partition (in a Dask worker or in process); errors become a row, not a crash."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    part, sc = task.partition, task.scenario
    options = task.solve_options()
    ref = dataset_ref(task.options.data_dir, task.options.dataset_id)
    row: dict[str, Any] = {
        "book": part.book,
        "scenario": sc.name,
        "carbon_price_cny_per_t": task.options.carbon_price_cny_per_t,
        "fleet": task.options.carriers,
        "fuel_price": sc.fuel_price,
        "target_year": task.options.target_year,
        "eua_eur_per_t": task.options.eua_eur_per_t,
        "bunker_price": sc.bunker_price,
        "jet_price": sc.jet_price,
        "rate_card_index": sc.rate_card_index,
        "partition": part.key,
        "dataset": ref["id"],
        "dataset_sha256": ref["sha256"],
        "group": part.group,
        "shipments": len(part.shipments),
        "price_cny_per_t": options.carbon_price_cny_per_t,
        "reserved_departures": len(task.reserved_t),
    }
    ships: list[dict[str, Any]] = []
    loads: dict[tuple[str, int], float] = {}
    caps: dict[tuple[str, int], float] = {}
    could: frozenset[tuple[str, int]] | None = None
    trucks: dict[TruckKey, TruckUse] = {}
    per_ship: dict[str, tuple[tuple[str, int], ...]] = {}
    could_truck: dict[TruckKey, tuple[str, ...]] | None = None
    try:
        network = task.network or _network(task.cache_dir, task.options.data_dir)
        problem = _problem(task, network)
        could = reach(problem)
        result = solve_problem(problem, options)
        row.update(
            status=result.status,
            planned=len(result.shipments),
            unplanned=len(result.unplanned),
            cost_cny=result.cost_cny,
            regulatory_cost_cny=result.regulatory_cost_cny,
            freight_cost_cny=result.cost_breakdown_cny().get("freight", 0.0),
            energy_cost_cny=result.cost_breakdown_cny().get("energy", 0.0),
            co2e_wtw_kg=result.co2e_wtw_kg,
            co2e_ttw_kg=result.co2e_ttw_kg,
            tkm=result.tkm,
            tkm_gcd=result.tkm_gcd,
            on_time=sum(s.on_time for s in result.shipments),
            solver_status=str(result.facts.get("status", "")),
            solve_wall_s=float(result.facts.get("wall_s", 0.0)),  # type: ignore[arg-type]
            error="",
        )
        ships = _shipment_rows(task, result)
        # the problem's network: with the lanes of places that are not hubs
        loads, caps = departure_loads(result, problem.network, per_ship)
        trucks = truck_uses(result, problem)
        if task.truck_reach:
            could_truck = truck_reach(problem)
    except Exception as exc:  # one bad partition must not sink the batch
        kind = "" if isinstance(exc, GreenlaneError) else f"{type(exc).__name__}: "
        row.update(
            status="error",
            planned=0,
            unplanned=len(part.shipments),
            cost_cny=0.0,
            regulatory_cost_cny=0.0,
            freight_cost_cny=0.0,
            energy_cost_cny=0.0,
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
        task_cpu_s=time.process_time() - cpu0,
        worker=f"{os.uname().nodename}:{os.getpid()}",
        worker_address=_worker_address(),
        worker_max_rss_mb=_max_rss_mb(),
    )
    return TaskResult(row, ships, loads, caps, could, trucks, per_ship, could_truck)


# ----------------------------------------------------------------------------- running


@dataclass
class BatchResult:
    """Partition rows, shipment rows, coordination rows, wall time [s] and how it ran.

    ``coordination`` has one row per book and scenario: the carbon price found, the
    constraint, the duality gap, departures repaired, rounds; ``departures`` the load and
    capacity [t] of every scheduled departure used; ``computed`` and ``resumed``
    count tasks run and tasks read back from the journal; ``worker_cpu_s`` is the task CPU
    time [s] of every task computed (repair trials and replaced rounds included) per worker.
    """

    partitions: list[dict[str, Any]]
    shipments: list[dict[str, Any]]
    wall_s: float
    workers: int
    scheduler: str
    coordination: list[dict[str, Any]] = field(default_factory=list)
    departures: list[dict[str, Any]] = field(default_factory=list)
    computed: int = 0
    resumed: int = 0
    worker_cpu_s: dict[str, float] = field(default_factory=dict)

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
            *(k for k in ("energy_cost_cny", "regulatory_cost_cny") if k in frame),
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
    partition_size: int | None = None,
    cache_dir: str | None = None,
    on_network: bool = False,
    workers: int = 1,
    auto_time_limit: bool = False,
) -> list[Task]:
    """Every partition of every book under every scenario (options validated here).

    ``auto_time_limit``: each partition (and each re-plan of shipments across partitions)
    is solved within :func:`partition_time_limit` of its size instead of the options' limit.

    ``partition_size`` None: sized by :func:`auto_partition_size` for ``workers`` slots.
    Books of at most :data:`SEAM_MAX_PARTITIONS` partitions ask for ``truck_reach``, so that
    the shipments at their cuts are re-planned together (:func:`seam_pass`).

    ``on_network``: the tasks carry ``network`` and plan on it (a network that is not the
    shipped one, e.g. in tests); otherwise every worker loads the shipped network once."""
    chosen = list(sweep) or [Scenario()]
    per_scenario = [(sc, sc.options(base)) for sc in chosen]
    for _, options in per_scenario:
        options.validate()
    tasks: list[Task] = []
    for name, shipments in books.items():
        # every partition travels in the book's year, as one plan of the whole book would
        year = min((s.ready_at.year for s in shipments), default=None)
        parts = partition_book(name, shipments, network, partition_size, workers)
        for part in parts:
            tasks.extend(
                Task(
                    part,
                    sc,
                    options
                    if options.travel_year is not None or year is None
                    else replace(options, travel_year=year),
                    cache_dir,
                    network=network if on_network else None,
                    truck_reach=len(parts) <= SEAM_MAX_PARTITIONS,
                    auto_time_limit=auto_time_limit,
                )
                for sc, options in per_scenario
            )
    return tasks


def local_cluster(workers: int, start_method: str = "spawn") -> Any:
    """A Dask LocalCluster on loopback: ``workers`` processes x 1 thread, no dashboard.

    The scheduler's small HTTP server (health, metrics) would otherwise take port 8787 on
    every interface; it is put on a free loopback port instead. ``start_method="fork"``
    starts the workers as copies of this process: what it has imported and loaded (greenlane,
    the network, the factor tables) is then not imported and loaded again by every worker.
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.worker.multiprocessing-method": start_method}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=40,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        )


class Cluster:
    """A Dask client for a batch: a local cluster or the scheduler at ``scheduler``.

    A remote scheduler is connected in the background, while the books are read and
    partitioned; ``client()`` waits for it (re-raising a connection error). A local cluster
    with ``start_method="fork"`` is started at once, its workers forked from this process
    while it waits (so they inherit the imported code and the loaded network and factor
    tables, and no other thread of this program runs during the fork); with ``"spawn"`` it
    starts in the background and the workers import greenlane and load the network
    (:func:`warm_up`). ``close()`` shuts down what was started.
    """

    def __init__(
        self,
        workers: int,
        scheduler: str | None = None,
        cache_dir: str | None = None,
        start_method: str = "spawn",
    ):
        import threading

        self._start_method = start_method
        self.local = scheduler is None
        self._stack = contextlib.ExitStack()
        self._client: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._start, args=(workers, scheduler, cache_dir), daemon=True
        )
        if start_method == "fork" and scheduler is None:
            self._start(workers, scheduler, cache_dir)  # fork while this thread waits
        else:
            self._thread.start()

    def _start(self, workers: int, scheduler: str | None, cache_dir: str | None) -> None:
        try:
            from distributed import Client

            # closed by callbacks, not ``with``: the client's context is bound to this thread
            if scheduler is not None:
                client = Client(scheduler, timeout="10s")
            else:
                cluster = local_cluster(workers, self._start_method)
                self._stack.callback(cluster.close)
                client = Client(cluster)
            self._stack.callback(client.close)
            client.run(warm_up, cache_dir)
            self._client = client
        except BaseException as exc:  # handed to the caller of client()
            self._error = exc

    def client(self) -> Any:
        """The connected client (waits for the start)."""
        if self._thread.is_alive():
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._client

    def close(self) -> None:
        """Close the client and the local cluster, if started."""
        if self._thread.is_alive():
            self._thread.join()
        self._stack.close()

    def close_in_background(self) -> Any:
        """Start closing (worker processes take seconds to stop); ``join()`` the thread
        returned before the program exits."""
        import threading

        closing = threading.Thread(target=self.close, daemon=False)
        closing.start()
        return closing


class Journal:
    """Finished tasks on disk, one pickle per task (written as each finishes, atomically).

    A re-run with the same journal reads finished tasks back instead of planning them again,
    so a killed client or worker loses no finished partition. Files are this program's own
    output; do not point the journal at files from elsewhere (pickle).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, task: Task) -> Path:
        return self.folder / f"{task.digest()}.pkl"

    def load(self, task: Task) -> TaskResult | None:
        """The stored result of ``task``, or None."""
        path = self._path(task)
        if not path.is_file():
            return None
        try:
            with path.open("rb") as fh:
                result = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            return None
        return result if isinstance(result, TaskResult) else None

    def save(self, task: Task, result: TaskResult) -> None:
        """Store ``result`` (not errors: a failed partition is tried again on a re-run)."""
        if result.row.get("status") == "error":
            return
        path = self._path(task)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(result, fh, protocol=5)
        tmp.replace(path)


class _Runner:
    """Runs lists of tasks in process or on a Dask client, with journal and progress;
    ``slots`` is how many tasks run at once (Dask workers; 1 in process)."""

    def __init__(self, client: Any, journal: Journal | None, progress: Progress | None):
        self.client = client
        self.journal = journal
        self.note = progress or (lambda _d, _t: None)
        self.done = 0
        self.total = 0
        self.computed = 0
        self.resumed = 0
        self.home: dict[tuple[str, str], str] = {}
        self.cpu_s: dict[str, float] = {}
        self.slots = 1
        if client is not None:
            workers = client.scheduler_info(n_workers=-1)["workers"].values()
            self.slots = max(1, sum(int(w.get("nthreads", 1)) for w in workers))

    def run(self, tasks: Sequence[Task]) -> list[TaskResult]:
        """Results in the order of ``tasks`` (journal first, then computed, largest first)."""
        self.total += len(tasks)
        out: list[TaskResult | None] = [None] * len(tasks)
        todo = []
        for i, task in enumerate(tasks):
            found = self.journal.load(task) if self.journal else None
            if found is not None:
                out[i] = found
                self.resumed += 1
                self._tick()
            else:
                todo.append(i)
        todo.sort(key=lambda i: -len(tasks[i].partition.shipments))
        if self.client is None:
            for i in todo:
                out[i] = self._finish(tasks[i], run_task(tasks[i]))
        else:
            self._run_dask(tasks, todo, out)
        return [r for r in out if r is not None]

    def _run_dask(self, tasks: Sequence[Task], todo: list[int], out: list[Any]) -> None:
        from distributed import as_completed

        index: dict[Any, int] = {}
        futures = []
        for i in todo:
            home = self.home.get((tasks[i].partition.book, tasks[i].partition.key))
            where = {"workers": [home], "allow_other_workers": True} if home else {}
            future = self.client.submit(run_task, tasks[i], pure=False, **where)
            index[future.key] = i
            futures.append(future)
        for future in as_completed(futures):
            i = index[future.key]
            out[i] = self._finish(tasks[i], future.result())
            future.release()

    def _finish(self, task: Task, result: TaskResult) -> TaskResult:
        if self.journal is not None:
            self.journal.save(task, result)
        if result.row.get("worker_address"):
            self.home[(task.partition.book, task.partition.key)] = result.row["worker_address"]
        self.computed += 1
        worker = str(result.row.get("worker", ""))
        self.cpu_s[worker] = self.cpu_s.get(worker, 0.0) + float(result.row.get("task_cpu_s", 0))
        self._tick()
        return result

    def _tick(self) -> None:
        self.done += 1
        self.note(self.done, self.total)


def run_batch(
    tasks: Sequence[Task],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    progress: Progress | None = None,
    client: Any = None,
    journal: Path | None = None,
) -> BatchResult:
    """Run the tasks; ``workers=0`` in process, else Dask (a local cluster or ``scheduler``).

    Per book and scenario: the partitions are planned; with a network-wide cap (target
    year, CO2e budget) the coordinator searches the carbon price at which the whole book
    meets it (:func:`coordinate`); then departures the partitions overbook together are
    repaired (:func:`repair_capacity`). ``journal`` is a folder where every finished task is
    written as it finishes; a re-run with the same folder resumes from it.
    """
    t0 = time.perf_counter()
    book_journal = Journal(journal) if journal is not None else None
    with contextlib.ExitStack() as stack:
        where, n_workers = "in-process", 0
        if client is None and (scheduler is not None or workers > 0):
            from distributed import Client

            if scheduler is not None:
                client = stack.enter_context(Client(scheduler, timeout="10s"))
            else:
                cluster = stack.enter_context(local_cluster(workers))
                client = stack.enter_context(Client(cluster))
        if client is not None:
            where = str(client.scheduler.address)
            n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
            cache_dirs = {t.cache_dir for t in tasks}
            for cache_dir in cache_dirs:
                client.run(warm_up, cache_dir)
        runner = _Runner(client, book_journal, progress)
        final, rows, departures = _run_all(tasks, runner)
    ships = [s for r in final for s in r.shipments]
    parts = sorted((r.row for r in final), key=lambda r: (r["book"], r["scenario"], r["partition"]))
    return BatchResult(
        parts,
        ships,
        time.perf_counter() - t0,
        n_workers,
        where,
        rows,
        departures,
        runner.computed,
        runner.resumed,
        runner.cpu_s,
    )


def _run_all(
    tasks: Sequence[Task], runner: _Runner
) -> tuple[list[TaskResult], list[dict[str, Any]], list[dict[str, Any]]]:
    """First round of every book x scenario at once, then coordination, repair, the cuts'
    shipments re-planned together and trucks shared across partitions, per book x scenario."""
    groups: dict[tuple[str, str], list[Task]] = defaultdict(list)
    for t in tasks:
        groups[(t.partition.book, t.scenario.name)].append(t)
    seams = {key for key, members in groups.items() if all(t.truck_reach for t in members)}
    first = [_own_price(t) for t in tasks]
    results = dict(zip(map(id, tasks), runner.run(first), strict=True))
    final: list[TaskResult] = []
    rows = []
    departures = []
    for (book, name), members in groups.items():
        start = [_own_price(t) for t in members]
        got = [results[id(t)] for t in members]
        info: dict[str, Any] = {"book": book, "scenario": name}
        if members[0].coupled:
            start, got, found = coordinate(start, got, runner)
            info.update(found)
        start, got, repaired = repair_capacity(start, got, runner)
        info.update(repaired)
        pieces = list(got)
        if overbooked([r.outcome() for r in pieces]):
            pieces, bumped = bump_overbooked(start, pieces, runner)
            info.update(bumped)
        if (book, name) in seams and not members[0].coupled:
            pieces, seamed = seam_pass(start, pieces, runner)
            info.update(seamed)
        pieces, merged = shared_trucks(pieces)
        info.update(merged)
        got = regroup(got, pieces)
        totals = [r.outcome() for r in got]
        info["overbooked_left"] = len(overbooked(totals))
        if members[0].coupled:
            info["cap_met"] = _constraint(members[0].options).met(totals)
        info["cost_cny"] = sum(o.cost_cny for o in totals)
        info["planned"] = sum(o.planned for o in totals)
        final.extend(got)
        rows.append(info)
        departures.extend(_departure_rows(book, name, totals))
    return final, rows, departures


SEAM_MAX_PARTITIONS = 16
"""Most partitions of a book x scenario for which the shipments at the cuts are re-planned
together (:func:`seam_pass`)."""
REPLAN_CHUNK = 1000
"""Most shipments re-planned in one task by :func:`replan_across` (larger sets go in
chunks, each holding the load of those before it)."""
_SUMS = (
    "cost_cny",
    "freight_cost_cny",
    "energy_cost_cny",
    "regulatory_cost_cny",
    "co2e_wtw_kg",
    "co2e_ttw_kg",
    "tkm",
    "tkm_gcd",
)


def shared_trucks(results: Sequence[TaskResult]) -> tuple[list[TaskResult], dict[str, Any]]:
    """The plans with every own-truck departure run once for all the pieces that load it
    (:func:`~routing.scenarios.coordinate.merge_trucks`): shipment rows re-allocated (cost
    by component, WTW and TTW CO2e); partition totals follow in :func:`regroup`."""
    merged = merge_trucks([r.trucks for r in results])
    out = []
    for r, deltas in zip(results, merged.deltas, strict=True):
        if not deltas:
            out.append(r)
            continue
        ships = []
        for row in r.shipments:
            d = deltas.get(row["shipment_id"])
            if d is None:
                ships.append(row)
                continue
            split, wtw, ttw = d
            ships.append(
                {
                    **row,
                    "cost_cny": row["cost_cny"] + sum(split.values()),
                    "freight_cost_cny": row["freight_cost_cny"] + split.get("freight", 0.0),
                    "energy_cost_cny": row["energy_cost_cny"] + split.get("energy", 0.0),
                    "regulatory_cost_cny": row["regulatory_cost_cny"]
                    + sum(split.get(k, 0.0) for k in REGULATORY_KEYS),
                    "co2e_wtw_kg": row["co2e_wtw_kg"] + wtw,
                    "co2e_ttw_kg": row["co2e_ttw_kg"] + ttw,
                }
            )
        out.append(replace(r, shipments=ships))
    return out, {"trucks": merged.trucks, "truck_departures_shared": merged.shared_departures}


def regroup(parts: Sequence[TaskResult], pieces: Sequence[TaskResult]) -> list[TaskResult]:
    """The partitions' results rebuilt from ``pieces`` (partitions with shipments moved out
    and the re-plans that took them): each shipment row back in its partition, totals and
    departure loads summed from the rows."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    legs: dict[str, tuple[tuple[str, int], ...]] = {}
    caps: dict[tuple[str, int], float] = {}
    for piece in pieces:
        for row in piece.shipments:
            rows[row["partition"]].append(row)
        legs.update(piece.ship_departures)
        caps.update(piece.caps_t)
    out = []
    for r in parts:
        mine = rows.get(r.row["partition"], [])
        row = dict(r.row)
        if row.get("status") != "error":
            row.update({k: sum(x[k] for x in mine) for k in _SUMS})
            row.update(
                planned=sum(1 for x in mine if x["planned"]),
                unplanned=sum(1 for x in mine if not x["planned"]),
                on_time=sum(1 for x in mine if x["on_time"]),
            )
        loads: dict[tuple[str, int], float] = defaultdict(float)
        for x in mine:
            for key in legs.get(x["shipment_id"], ()) if x["planned"] else ():
                loads[key] += x["mass_t"]
        out.append(
            replace(
                r,
                row=row,
                shipments=mine,
                loads_t=dict(loads),
                caps_t={k: caps[k] for k in loads if k in caps},
            )
        )
    return out


def _without(result: TaskResult, drop: set[str]) -> TaskResult:
    """A piece without the shipments ``drop`` (rows, departure loads, truck members)."""
    if not drop.intersection(r["shipment_id"] for r in result.shipments):
        return result
    mass = {r["shipment_id"]: r["mass_t"] for r in result.shipments}
    loads = dict(result.loads_t)
    for sid in drop.intersection(result.ship_departures):
        for dep in result.ship_departures[sid]:
            loads[dep] = loads.get(dep, 0.0) - mass[sid]
    trucks: dict[TruckKey, TruckUse] = {}
    for key, use in result.trucks.items():
        kept = tuple(m for m in use.members if m[0] not in drop)
        if kept:
            trucks[key] = replace(use, members=kept)
    return replace(
        result,
        shipments=[r for r in result.shipments if r["shipment_id"] not in drop],
        loads_t={k: t for k, t in loads.items() if t > 1e-9},
        trucks=trucks,
        ship_departures={k: v for k, v in result.ship_departures.items() if k not in drop},
    )


def _held(pieces: Sequence[TaskResult]) -> tuple[dict[tuple[str, int], float], dict[Any, float]]:
    """Tonnes the pieces hold per scheduled departure and per own-truck departure [t]."""
    trucks: dict[TruckKey, float] = defaultdict(float)
    for p in pieces:
        for key, use in p.trucks.items():
            trucks[key] += sum(m for _, m in use.members)
    return total_loads(r.outcome() for r in pieces), dict(trucks)


def replan_across(
    template: Task,
    shipments: Sequence[Shipment],
    home: Mapping[str, str],
    pieces: Sequence[TaskResult],
    runner: _Runner,
    label: str,
) -> tuple[list[TaskResult], list[TaskResult]]:
    """Re-plan ``shipments`` (from any partitions) together, with everything the other
    shipments load held: scheduled departures (``reserved_t``) and own trucks
    (``held_trucks_t``, whose spare room they may fill). Sets above :data:`REPLAN_CHUNK` go
    in chunks by ready time, each holding the load of the chunks before it. Returns the
    pieces without those shipments and the re-plans, whose rows go back to their
    partitions (``home``: shipment id -> partition key)."""
    drop = {s.shipment_id for s in shipments}
    rest = [_without(p, drop) for p in pieces]
    ordered = sorted(shipments, key=lambda s: (s.ready_at, s.shipment_id))
    new: list[TaskResult] = []
    for k in range(0, len(ordered), REPLAN_CHUNK):
        chunk = tuple(ordered[k : k + REPLAN_CHUNK])
        held_t, trucks_t = _held(rest + new)
        part = replace(template.partition, key=f"{label}-{k // REPLAN_CHUNK + 1}", shipments=chunk)
        task = replace(
            template,
            partition=part,
            reserved_t=tuple(sorted(held_t.items())),
            held_trucks_t=tuple(sorted(trucks_t.items())),
            truck_reach=False,
        )
        (got,) = runner.run([task])
        rows = [{**r, "partition": home[r["shipment_id"]]} for r in got.shipments]
        new.append(replace(got, shipments=rows))
    return rest, new


def _cost(pieces: Sequence[TaskResult]) -> tuple[int, float]:
    """Shipments planned and their cost [CNY] with trucks shared (:func:`shared_trucks`)."""
    merged, _ = shared_trucks(pieces)
    rows = [r for p in merged for r in p.shipments if r["planned"]]
    return len(rows), sum(r["cost_cny"] for r in rows)


def seam_pass(
    tasks: Sequence[Task], pieces: Sequence[TaskResult], runner: _Runner
) -> tuple[list[TaskResult], dict[str, Any]]:
    """Re-plan together the shipments at the cuts between partitions neighbouring in ready
    time: those that could use an own-truck departure the neighbour's shipments could use
    too (a truck leaving after a cut can carry shipments from both sides). One task with
    everything else held (:func:`replan_across`); kept if it serves as many shipments at
    less cost with trucks shared. Not tried when they are more than :data:`REPLAN_CHUNK`
    (chunks re-planned one after the other are not one joint re-plan: on the
    10,000-shipment year 6,161 shipments in 7 chunks saved nothing in 86 s)."""
    n = len(tasks)
    reach = [p.truck_reach for p in pieces[:n]]
    if (
        n < 2
        or any(r is None for r in reach)
        or any(p.row.get("status") == "error" for p in pieces)
    ):
        return list(pieces), {}
    first = [min((s.ready_at for s in t.partition.shipments), default=None) for t in tasks]
    order = sorted(
        (i for i in range(n) if first[i] is not None),
        key=lambda i: (tasks[i].partition.group, first[i]),
    )
    home: dict[str, str] = {}
    for a, b in itertools.pairwise(order):
        ra, rb = reach[a], reach[b]
        if tasks[a].partition.group != tasks[b].partition.group or ra is None or rb is None:
            continue
        for key in ra.keys() & rb.keys():
            home.update(dict.fromkeys(ra[key], tasks[a].partition.key))
            home.update(dict.fromkeys(rb[key], tasks[b].partition.key))
    if not home or len(home) > REPLAN_CHUNK:  # none, or too many to re-plan in one model
        return list(pieces), {"seam_shipments": len(home), "seam_kept": False}
    by_id = {s.shipment_id: s for t in tasks for s in t.partition.shipments}
    ships = [by_id[sid] for sid in sorted(home)]
    rest, new = replan_across(tasks[0], ships, home, pieces, runner, "seam")
    before, after = _cost(pieces), _cost(rest + new)
    kept = (
        all(p.row.get("status") != "error" for p in new)
        and not overbooked([r.outcome() for r in rest + new])
        and after[0] >= before[0]
        and after[1] < before[1] - 1e-6 * max(1.0, before[1])
    )
    info = {
        "seam_shipments": len(ships),
        "seam_kept": kept,
        "seam_saved_cny": before[1] - after[1] if kept else 0.0,
    }
    return (rest + new if kept else list(pieces)), info


def bump_overbooked(
    tasks: Sequence[Task], pieces: Sequence[TaskResult], runner: _Runner
) -> tuple[list[TaskResult], dict[str, Any]]:
    """Clear departures still overbooked after the repair rounds: on each, the shipments of
    the partitions latest in ready time are taken off until the rest fits (first come,
    first served), and all shipments taken off are re-planned together with everything
    else held (:func:`replan_across`), so none of them can overbook a departure again."""
    n = len(tasks)
    over = overbooked([p.outcome() for p in pieces])
    first = [min((s.ready_at for s in t.partition.shipments), default=None) for t in tasks]
    rank = {
        tasks[i].partition.key: r
        for r, i in enumerate(sorted(range(n), key=lambda i: (first[i] is None, first[i], i)))
    }
    caps: dict[tuple[str, int], float] = {}
    on: dict[tuple[str, int], list[tuple[int, str, float, str]]] = defaultdict(list)
    for p in pieces:
        caps.update(p.caps_t)
        mass = {r["shipment_id"]: r["mass_t"] for r in p.shipments}
        part = {r["shipment_id"]: r["partition"] for r in p.shipments}
        for sid, keys in p.ship_departures.items():
            for key in keys:
                if key in over:
                    on[key].append((rank.get(part[sid], n), sid, mass[sid], part[sid]))
    home: dict[str, str] = {}
    for dep in sorted(over):
        load = 0.0
        for _, sid, t, where in sorted(on[dep]):
            if sid in home:
                continue
            if load + t <= caps[dep] + 1e-6:
                load += t
            else:
                home[sid] = where
    by_id = {s.shipment_id: s for t in tasks for s in t.partition.shipments}
    ships = [by_id[sid] for sid in sorted(home)]
    if not ships:
        return list(pieces), {"bumped_shipments": 0}
    rest, new = replan_across(tasks[0], ships, home, pieces, runner, "bumped")
    return rest + new, {"bumped_shipments": len(ships), "bump_tasks": len(new)}


def _own_price(task: Task) -> Task:
    """A coupled task at the scenario's own carbon price (its cap left to the coordinator)."""
    return (
        replace(task, price_cny_per_t=task.options.carbon_price_cny_per_t) if task.coupled else task
    )


def _departure_rows(book: str, scenario: str, outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    caps: dict[tuple[str, int], float] = {}
    for o in outcomes:
        caps.update(o.caps_t)
    return [
        {
            "book": book,
            "scenario": scenario,
            "lane_id": lane_id,
            "slot": slot,
            "load_t": load,
            "capacity_t": caps.get((lane_id, slot), float("nan")),
        }
        for (lane_id, slot), load in sorted(total_loads(outcomes).items())
    ]


def _constraint(options: PlanOptions) -> Constraint:
    intensity = None
    if options.target_year is not None:
        target = options.company_target()
        intensity = target.intensity_g_per_tkm(options.target_year)
    return Constraint(intensity, options.co2e_cap_kg)


def _at(tasks: Sequence[Task], price: float, greenest: bool = False) -> list[Task]:
    return [
        replace(t, price_cny_per_t=price, greenest=greenest, reserved_t=(), share_kg=None)
        for t in tasks
    ]


def coordinate(
    tasks: Sequence[Task], first: Sequence[TaskResult], runner: _Runner
) -> tuple[list[Task], list[TaskResult], dict[str, Any]]:
    """Hold the scenario's network-wide cap over all partitions by one carbon price.

    ``first`` are the partitions planned at the scenario's own price. The price grows
    (x4 from 100 CNY/t) until the book meets the cap, is bisected to within 2 %, and the
    partitions whose answer at the price just below keeps the cap go back to it
    (:func:`~routing.scenarios.coordinate.polish`). If even 100,000 CNY/t misses the cap,
    the partitions are planned greenest-first. Returns the chosen tasks, their results and
    the facts: the price found [CNY/t CO2e] (the network's shadow price of the cap), the
    bracket, the Lagrangian bound and the duality gap.
    """
    cap = _constraint(tasks[0].options)
    base = tasks[0].options.carbon_price_cny_per_t
    tried: dict[float, list[TaskResult]] = {base: list(first)}
    low, high = base, None
    if cap.met(r.outcome() for r in first):
        high = base
    price = next_price(low, high) if high is None else None
    rounds = 1
    while price is not None and rounds < MAX_BISECTIONS + 12:
        got = runner.run(_at(tasks, price))
        tried[price] = got
        rounds += 1
        if cap.met(r.outcome() for r in got):
            high = price
        else:
            low = price
        price = next_price(low, high)
    facts: dict[str, Any] = {
        "constraint": _describe(cap),
        "target_intensity_g_per_tkm": cap.intensity_g_per_tkm,
        "co2e_max_kg": cap.co2e_max_kg,
        "price_low_cny_per_t": low if high != base else None,
    }
    if high is None:
        green = runner.run(_at(tasks, PRICE_MAX_CNY_PER_T, greenest=True))
        met = cap.met(r.outcome() for r in green)
        facts.update(
            status="met greenest-first" if met else "target_infeasible",
            price_cny_per_t=None,
            rounds=rounds + 1,
            dual_cny=None,
            duality_gap=None,
        )
        return _at(tasks, PRICE_MAX_CNY_PER_T, greenest=True), green, facts
    chosen_tasks = _at(tasks, high)
    chosen = list(tried[high])
    if low != high and low in tried:
        use_low = polish([r.outcome() for r in tried[low]], [r.outcome() for r in chosen], cap)
        for i, flag in enumerate(use_low):
            if flag:
                chosen[i] = tried[low][i]
                chosen_tasks[i] = replace(chosen_tasks[i], price_cny_per_t=low)
    chosen_tasks, chosen, shared = _share_slack(
        chosen_tasks, chosen, tried.get(low), tried[base], cap, runner
    )
    primal = sum(r.row["cost_cny"] for r in chosen)
    dual = max(lagrangian_cny(p, [r.outcome() for r in rs], cap) for p, rs in tried.items())
    facts.update(
        status="met",
        price_cny_per_t=high,
        rounds=rounds + (1 if shared else 0),
        partitions_given_slack=shared,
        dual_cny=dual,
        duality_gap=(primal - dual) / primal if primal > 0 else 0.0,
    )
    return chosen_tasks, chosen, facts


SLACK_STEPS = 6
"""Most partitions re-planned one by one with the slack left after the shared step."""


def _share_slack(
    tasks: list[Task],
    chosen: list[TaskResult],
    below: Sequence[TaskResult] | None,
    cheapest: Sequence[TaskResult],
    cap: Constraint,
    runner: _Runner,
) -> tuple[list[Task], list[TaskResult], int]:
    """Final step: spend the network's slack under the cap where it saves most.

    First the partitions whose answer at the price below was cheaper each get a share of
    the slack [kg CO2e] in proportion to what that answer needed; then, one at a time (at
    most ``SLACK_STEPS``, largest cost above its answer at the scenario's own price
    ``cheapest`` first), a partition gets all the slack left.
    A partition given slack is re-planned at the scenario's own price with its CO2e capped
    at its current CO2e + the slack: the cheapest plan within that budget
    (resource-directive step). A re-plan is kept only if it is cheaper and serves as many
    shipments, so the cap keeps holding.
    """
    if below is None:
        return tasks, chosen, 0
    tasks, chosen = list(tasks), list(chosen)
    lows = [r.outcome() for r in below]
    outcomes = [r.outcome() for r in chosen]
    need = {}
    for i, (now, low) in enumerate(zip(outcomes, lows, strict=True)):
        extra = cap.slack_term_kg(low) - cap.slack_term_kg(now)
        if low.cost_cny < now.cost_cny and extra > 0 and low.planned >= now.planned:
            need[i] = extra
    slack = -cap.excess_kg(outcomes)
    if slack <= 0:
        return tasks, chosen, 0
    touched = set(need)
    if need:
        scale = min(1.0, slack / sum(need.values()))
        _give(tasks, chosen, {i: scale * n for i, n in need.items()}, runner)
    dearer = {
        i: r.row["cost_cny"] - c.row["cost_cny"]
        for i, (r, c) in enumerate(zip(chosen, cheapest, strict=True))
    }
    order = sorted((i for i in dearer if dearer[i] > 0), key=lambda i: -dearer[i])
    for i in order[:SLACK_STEPS]:
        touched.add(i)
        slack = -cap.excess_kg(r.outcome() for r in chosen)
        if slack <= 1e-6 * max(1.0, sum(r.row["co2e_wtw_kg"] for r in chosen)):
            break
        _give(tasks, chosen, {i: slack}, runner)
    return tasks, chosen, len(touched)


def _give(
    tasks: list[Task], chosen: list[TaskResult], shares: Mapping[int, float], runner: _Runner
) -> None:
    """Re-plan partitions at the scenario's price with CO2e <= now + share [kg]; keep the
    cheaper answers that serve as many shipments (in place)."""
    trial = [
        replace(
            tasks[i],
            price_cny_per_t=tasks[i].options.carbon_price_cny_per_t,
            share_kg=chosen[i].row["co2e_wtw_kg"] + share,
            reserved_t=(),
        )
        for i, share in shares.items()
    ]
    for i, task, result in zip(shares, trial, runner.run(trial), strict=True):
        row, now = result.row, chosen[i].row
        if (
            row["status"] != "error"
            and row["cost_cny"] < now["cost_cny"]
            and row["planned"] >= now["planned"]
        ):
            tasks[i], chosen[i] = task, result


def _describe(cap: Constraint) -> str:
    parts = []
    if cap.intensity_g_per_tkm is not None:
        parts.append(f"intensity <= {cap.intensity_g_per_tkm:.2f} g/tkm")
    if cap.co2e_max_kg is not None:
        parts.append(f"WTW CO2e <= {cap.co2e_max_kg:,.0f} kg")
    return " and ".join(parts)


REPAIR_MAX_ROUNDS = 3
"""Parallel repair rounds before the shipments still on overbooked departures are taken off
and re-planned together (:func:`bump_overbooked`): at the density of a 100,000-shipment year
a round holds few partitions (most could meet on some departure) and rounds did not end."""


def repair_capacity(
    tasks: Sequence[Task], results: Sequence[TaskResult], runner: _Runner
) -> tuple[list[Task], list[TaskResult], dict[str, Any]]:
    """Re-plan partitions, in parallel rounds, with the other partitions' load on every
    scheduled departure held back, until no departure is loaded above its capacity.

    Each round takes the partitions that load an overbooked departure (most overbooked
    departures first) and re-plans at once a greedy set of them of which no two could load
    a common departure, topped up with the others to fill every worker; it keeps the
    cheapest re-plans (fewest shipments lost, then least cost added) of which no two could
    load a common departure (:func:`~routing.scenarios.coordinate.accept_repairs`). A kept
    re-plan fits every departure it could use into what the others leave and no other kept
    re-plan could use those, so a round overbooks nothing new and clears every overbooked
    departure a kept partition was on; a partition kept once never loads an overbooked
    departure again, so each partition is re-planned and kept at most once. At most
    :data:`REPAIR_MAX_ROUNDS` rounds; what is left goes to :func:`bump_overbooked`.
    """
    tasks, results = list(tasks), list(results)
    outcomes = [r.outcome() for r in results]
    over = overbooked(outcomes)
    found = len(over)
    repaired: set[int] = set()
    rounds = tried = 0
    while over and rounds < REPAIR_MAX_ROUNDS:
        order = [i for i in repair_order(outcomes, over) if i not in repaired]
        if not order:
            break
        first = independent(outcomes, order)
        slots = -(-len(first) // runner.slots) * runner.slots
        extra = [i for i in order if i not in first][: max(0, slots - len(first))]
        totals = total_loads(outcomes)
        trial = {
            i: replace(tasks[i], reserved_t=tuple(held_by_others(outcomes, i, totals).items()))
            for i in first + extra
        }
        got = dict(zip(trial, runner.run(list(trial.values())), strict=True))
        rounds += 1
        tried += len(trial)
        for i in accept_repairs(outcomes, {i: r.outcome() for i, r in got.items()}):
            tasks[i], results[i] = trial[i], got[i]
            outcomes[i] = got[i].outcome()
            repaired.add(i)
        over = overbooked(outcomes)
    return (
        tasks,
        results,
        {
            "overbooked_found": found,
            "partitions_replanned": len(repaired),
            "repair_rounds": rounds,
            "repair_tasks": tried,
            "overbooked_left": len(over),
        },
    )


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
    if len(summary) == 1:  # one book, one scenario: show its partitions instead
        by = "partition"
        frame = result.partition_frame()
        summary = frame.groupby("partition")[["cost_cny", "co2e_wtw_kg", "tkm_gcd"]].sum()
        summary = summary.reset_index().rename(columns={"partition": "scenario"})
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
    time_limit_s: float = 10.0, relative_gap: float = DEFAULT_GAP, seed: int = 0, **changes: Any
) -> PlanOptions:
    """Batch defaults: one solver worker, a seed, a per-partition limit and DEFAULT_GAP."""
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
    "DEFAULT_PARTITION_SIZE",
    "MAX_PARTITION_SIZE",
    "BatchResult",
    "Journal",
    "Partition",
    "Scenario",
    "Task",
    "TaskResult",
    "auto_partition_size",
    "coordinate",
    "default_options",
    "departure_loads",
    "local_cluster",
    "make_tasks",
    "parse_sweep",
    "partition_book",
    "repair_capacity",
    "resource_groups",
    "run_batch",
    "run_task",
    "scenarios",
    "summary_chart",
    "synthetic_year",
    "warm_up",
    "write_parquet",
]
