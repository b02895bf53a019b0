"""The planning problem as data: options, shipments resolved to hubs and their candidates.

:func:`build_problem` resolves places, enumerates and prices the candidate paths of every
shipment and drops what cannot be served (with the reason); the :class:`Problem` it returns is
built once and solved many times (:func:`routing.planner.solve.solve_problem`).
"""

from __future__ import annotations

import gc
import threading
import time
from bisect import insort
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, cast

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import Factors, load_factors
from greenlane.emissions.intensity import Target, default_target
from greenlane.fleet.model import EnergyPrices
from greenlane.fleet.regulation import Regulation
from greenlane.routing.network.graph import Network
from greenlane.routing.network.model import Hub
from greenlane.routing.network.places import Place, resolve_all
from greenlane.routing.network.transit_risk import arrival_sd_h, required_margin_h
from greenlane.routing.planner.candidates import (
    MAX_WAIT_DEPARTURES,
    WAIT_COPIES_PER_SHIPMENT,
    Candidate,
    CandidateBuilder,
    CandidateRow,
    LegTiming,
    built,
    hours_since_epoch,
    route_independent_tkm,
)
from greenlane.routing.planner.params import SolverParams
from greenlane.routing.planner.pricing import LaneOption
from greenlane.routing.planner.shipments import Shipment

_gc_lock = threading.Lock()
_gc_depth = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large acyclic structures.

    Candidate lists and model data are millions of small objects; each collection of the
    young generation rescans them, which doubled the build time of a 10 000-shipment book.
    Re-entrant and thread-safe: the collector resumes when the outermost user leaves.
    """
    global _gc_depth, _gc_was_enabled
    with _gc_lock:
        if _gc_depth == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_enabled:
                gc.enable()


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What a plan request asks for.

    ``carbon_price_cny_per_t`` [CNY/t CO2e] prices WTW emissions in the objective.
    ``target_year`` caps the plan's intensity (WTW g/tkm on the great-circle distance) at the
    target trajectory for that year. ``due_dates='soft'`` allows lateness at
    ``late_penalty_cny_per_t_day`` [CNY per t per day]. ``objective='co2e'`` minimises WTW
    CO2e first and cost second. ``stop_level_routing`` re-plans the road legs at both ends
    as multi-stop vehicle routes per terminal and day (``routing.planner.stops``).
    ``energy_prices`` is the energy price table of a scenario (None: the shipped table); it is
    data passed down to every pricing call of the plan. ``regulatory_costs`` adds the EU ETS,
    FuelEU, ReFuelEU, ETS2 and German toll costs of ``travel_year`` (None: the year of the
    book's earliest ready date) to every leg's cost (:mod:`greenlane.fleet.regulation`);
    ``eua_eur_per_t`` / ``ets2_eur_per_t`` [EUR/t] override the dated default prices. The
    carbon price applies on top of them. ``price_basis='rate_card'`` prices scheduled services
    a carrier sells (sea, rail, air with a card in ``data/rate_cards.csv``) at the card; road
    legs are the company's own fleet at operating cost either way. ``rate_card_index`` [-]
    multiplies every card's rate (a market scenario, e.g. 1.2). ``data_dir`` is the
    folder of every table the plan reads (a dataset's ``data_dir``; None: the shipped
    ``data/``; the network passed to the planner must be loaded from it too), and
    ``dataset_id`` the id the plan records with the tables' hash (None: ``default`` for
    ``data/``, else ``ds-`` + the hash).
    """

    carbon_price_cny_per_t: float = 0.0
    target_year: int | None = None
    target: Target | None = None
    due_dates: Literal["hard", "soft"] = "hard"
    late_penalty_cny_per_t_day: float = 200.0
    objective: Literal["cost", "co2e"] = "cost"
    co2e_cap_kg: float | None = None
    k_paths: int = 4
    carriers: Literal["all", "fossil"] = "all"
    on_time_probability: float | None = None
    factor_sets: tuple[str, ...] = ()
    solver: SolverParams = field(default_factory=SolverParams)
    stop_level_routing: bool = False
    energy_prices: EnergyPrices | None = None
    regulatory_costs: bool = True
    travel_year: int | None = None
    eua_eur_per_t: float | None = None
    ets2_eur_per_t: float | None = None
    price_basis: Literal["operating_cost", "rate_card"] = "operating_cost"
    rate_card_index: float = 1.0
    data_dir: Path | None = None
    dataset_id: str | None = None

    def company_target(self) -> Target:
        """``target``, else the company target of ``targets.csv`` in ``data_dir``."""
        if self.target is not None:
            return self.target
        if self.data_dir is None:
            return default_target()
        return default_target(self.data_dir / "targets.csv")

    @property
    def tables_dir(self) -> Path:
        """The folder of the tables the plan reads (``data_dir``, else the shipped data/)."""
        return self.data_dir or DATA_DIR

    def regulation(self, shipments: Sequence[Shipment]) -> Regulation:
        """The regulatory scenario of a plan of ``shipments`` (year of travel, prices)."""
        year = self.travel_year
        if year is None:
            year = min((s.ready_at.year for s in shipments), default=2026)
        reg = Regulation(year, self.eua_eur_per_t, self.ets2_eur_per_t, self.regulatory_costs)
        reg.validate()
        return reg

    def validate(self) -> None:
        """Raise InputError naming the option at fault."""
        if self.carbon_price_cny_per_t < 0:
            raise InputError("must be >= 0", field="carbon_price_cny_per_t")
        if self.target_year is not None:
            target = self.company_target()
            first, last = target.baseline_year, target.target_year
            if not first <= self.target_year <= last:
                where = (
                    "the request's target"
                    if self.target
                    else "data/targets.csv"
                    if self.data_dir is None
                    else "the dataset's targets.csv"
                )
                raise InputError(
                    f"{self.target_year} is outside the target trajectory: {where} has "
                    f"the years {first}-{last}",
                    field="target_year",
                )
        if self.due_dates not in ("hard", "soft"):
            raise InputError("must be 'hard' or 'soft'", field="due_dates")
        if self.late_penalty_cny_per_t_day < 0:
            raise InputError("must be >= 0", field="late_penalty_cny_per_t_day")
        if self.objective not in ("cost", "co2e"):
            raise InputError("must be 'cost' or 'co2e'", field="objective")
        if self.price_basis not in ("operating_cost", "rate_card"):
            raise InputError("must be 'operating_cost' or 'rate_card'", field="price_basis")
        if not 0 < self.rate_card_index <= 100:
            raise InputError("must lie in (0, 100]", field="rate_card_index")
        if self.carriers not in ("all", "fossil"):
            raise InputError("must be 'all' or 'fossil'", field="carriers")
        if self.on_time_probability is not None and not 0.5 <= self.on_time_probability < 1:
            raise InputError("must lie in [0.5, 1)", field="on_time_probability")
        if not 1 <= self.k_paths <= 20:
            raise InputError("must lie in 1..20", field="k_paths")
        if self.solver.time_limit_s <= 0:
            raise InputError("must be > 0", field="time_limit_s")


@dataclass(frozen=True, slots=True)
class Unplanned:
    """A shipment that cannot be served, with the reasons."""

    shipment_id: str
    reasons: tuple[str, ...]


HELD_PREFIX = "\x00held|"
"""Shipment id prefix of stand-ins for load held by other shipments (never a real id): on a
scheduled departure while waiting copies are added, on own trucks while solving."""


@dataclass(frozen=True)
class Problem:
    """Shipments resolved to hubs with their candidates; built once, solved many times.

    Immutable: a variant (e.g. capacity ``reserved_t`` held by other shipments) is a
    ``dataclasses.replace`` copy."""

    network: Network
    factors: Factors
    shipments: list[Shipment]
    places: dict[str, tuple[Hub, Hub]]
    candidates: dict[str, list[Candidate]]
    unplanned: dict[str, Unplanned]
    tkm_gcd: dict[str, float]
    builder: CandidateBuilder
    reserved_t: dict[tuple[str, int], float] = field(default_factory=dict)
    """Tonnes already held per scheduled departure (lane id, slot) by shipments kept out of
    this solve (re-planning after a disruption)."""
    resolved: dict[str, tuple[Place, Place]] = field(default_factory=dict)
    """Where each shipment's origin and destination resolved (``routing.network.places``)."""


def build_problem(
    shipments: Sequence[Shipment],
    network: Network,
    options: PlanOptions,
    deadline: float | None = None,
    builder: CandidateBuilder | None = None,
) -> Problem:
    """Resolve places, enumerate and price candidates, drop what cannot be served.

    Shipments not reached by ``deadline`` [time.perf_counter() s] are left unplanned with
    the ``time_limit`` reason. ``builder`` reuses the priced lanes and paths of an earlier
    build with the same network and options (batch workers keep one per process)."""
    with gc_paused():
        return _build_problem(shipments, network, options, deadline, builder)


def _fossil_builder(
    builder: CandidateBuilder, factors: Factors, options: PlanOptions
) -> CandidateBuilder:
    """The baseline (fossil) fleet's builder beside ``builder``: same network, tables and
    prices, carbon price 0 [cached on ``builder``, so a builder re-used across books (batch
    workers) prices the baseline's lanes once]."""
    key = (options.k_paths, id(options.energy_prices), options.data_dir, id(factors))
    kept = builder.__dict__.get("_fossil")
    if kept is not None and kept[0] == key:
        return cast(CandidateBuilder, kept[1])
    fossil = CandidateBuilder(
        builder.network,
        factors,
        options.k_paths,
        0.0,
        "fossil",
        options.energy_prices,
        regulation=builder.regulation,
        rate_cards=builder.rate_cards,
        data_dir=options.data_dir,
        schedules=builder.schedules,
        intensities=builder.intensities,
        rate_card_index=builder.rate_card_index,
    )
    builder.__dict__["_fossil"] = (key, fossil, options.energy_prices, factors)
    return fossil


def _build_problem(
    shipments: Sequence[Shipment],
    network: Network,
    options: PlanOptions,
    deadline: float | None = None,
    builder: CandidateBuilder | None = None,
) -> Problem:
    options.validate()
    factors = (
        load_factors(options.factor_sets)
        if options.data_dir is None
        else load_factors(options.factor_sets, data_dir=options.data_dir)
    )
    # places that are not hubs (ports, airports, sites) extend the network for this build
    network, found_places = resolve_all(
        network,
        (
            (ref, f"{s.where or f'shipments[{i}]'}.{end}")
            for i, s in enumerate(shipments)
            for ref, end in ((s.origin, "origin"), (s.destination, "destination"))
        ),
        ((s.origin, s.destination) for s in shipments),
        options.data_dir,
    )
    if builder is not None and builder.network is not network:
        builder = None  # priced on the network without the new places
    builder = builder or CandidateBuilder(
        network,
        factors,
        options.k_paths,
        options.carbon_price_cny_per_t,
        options.carriers,
        options.energy_prices,
        regulation=options.regulation(shipments),
        rate_cards=options.price_basis == "rate_card",
        data_dir=options.data_dir,
        rate_card_index=options.rate_card_index,
    )
    fossil = None if options.carriers == "fossil" else _fossil_builder(builder, factors, options)
    if fossil is not None:
        fossil.share_paths(builder)
    places: dict[str, tuple[Hub, Hub]] = {}
    cands: dict[str, list[Candidate]] = {}
    unplanned: dict[str, Unplanned] = {}
    tkm: dict[str, float] = {}
    resolved: dict[str, tuple[Place, Place]] = {}
    # shipments of the same ends, modes and mass share their priced combinations
    left = Counter(
        (
            found_places[s.origin].hub.hub_id,
            found_places[s.destination].hub.hub_id,
            s.allowed_modes,
            s.mass_t,
        )
        for s in shipments
    )
    for s in shipments:
        po, pd = found_places[s.origin], found_places[s.destination]
        o, d = po.hub, pd.hub
        places[s.shipment_id] = (o, d)
        resolved[s.shipment_id] = (po, pd)
        tkm[s.shipment_id] = route_independent_tkm(s.mass_t, o, d)
        if o.hub_id == d.hub_id:
            unplanned[s.shipment_id] = Unplanned(
                s.shipment_id, (f"origin and destination resolve to the same hub {o.hub_id}",)
            )
            continue
        if deadline is not None and time.perf_counter() > deadline:
            unplanned[s.shipment_id] = Unplanned(
                s.shipment_id, (time_limit_reason(options.solver.time_limit_s, "enumerated"),)
            )
            continue
        same = (o.hub_id, d.hub_id, s.allowed_modes, s.mass_t)
        left[same] -= 1
        rows = builder.rows(s, o, d, keep=left[same] > 0)
        kept = _undominated_rows([r for r in rows if _row_usable(s, r, options)])
        if fossil is not None:
            # the candidates of the baseline (fossil) fleet too, so that the cheapest plan
            # is never dearer than the baseline: its model is a subset of this one
            seen = {(r[0].keys, r[1]) for r in kept}
            base = [r for r in fossil.rows(s, o, d, left[same] > 0) if _row_usable(s, r, options)]
            kept += [r for r in _undominated_rows(base) if (r[0].keys, r[1]) not in seen]
        if kept:
            # numbered in order: the fleet's kept candidates, then the baseline's added ones
            cands[s.shipment_id] = [built(s, i, r) for i, r in enumerate(kept)]
        else:
            found = [built(s, i, r) for i, r in enumerate(rows)]
            unplanned[s.shipment_id] = Unplanned(s.shipment_id, _filter_reasons(s, found, options))
    builder.forget()
    if fossil is not None:
        fossil.forget()
    by_id = {s.shipment_id: s for s in shipments}
    add_departure_choices(cands, by_id, builder, options, deadline)
    return Problem(
        network, factors, list(shipments), places, cands, unplanned, tkm, builder, resolved=resolved
    )


def undominated(cands: list[Candidate], mass_t: float) -> list[Candidate]:
    """The candidates no other candidate of the shipment beats: one is dropped when another
    costs and emits no more, alone (own trucks) and pooled (full trucks), and arrives no
    later (order kept; of equal ones the first is kept). Departures are chosen later, among
    the kept (:func:`add_departure_choices`)."""
    ordered = sorted(cands, key=lambda c: c.index)
    dropped = _dominated([_merit(c, mass_t) for c in ordered])
    return [c for c, d in zip(ordered, dropped, strict=True) if not d]


def _merit(c: Candidate, mass_t: float) -> tuple[float, float, float, float, float]:
    """(cost, WTW alone [CNY, kg], cost, WTW pooled into full trucks, arrival [h]); pooled,
    each leg on own trucks adds its vehicle's cost and WTW per tonne of payload x mass, as
    the builder's rows do (``_Template.pool_terms``)."""
    pc, pw = c.var_cost_cny, c.var_wtw_kg
    for o in c.options:
        if o.dedicated:
            pc += o.vehicle_cost_cny / o.vehicle_payload_t * mass_t
            pw += o.vehicle_wtw_kg / o.vehicle_payload_t * mass_t
    return (c.alone_cost_cny, c.alone_wtw_kg, pc, pw, c.arrival_h)


def _undominated_rows(rows: list[CandidateRow]) -> list[CandidateRow]:
    """:func:`undominated` on candidate rows in order (``CandidateRow``: their merit is
    (alone cost, alone WTW, pooled cost, pooled WTW, arrival), rows 6 to 10)."""
    dropped = _dominated([r[6:] for r in rows])  # type: ignore[misc]
    return [r for r, d in zip(rows, dropped, strict=True) if not d]


def _dominated(merits: Sequence[tuple[float, float, float, float, float]]) -> list[bool]:
    """Per candidate (in order; merit terms to minimise), whether it is dropped: when an
    earlier one in (merit, order) order is no worse on every term.

    Only the kept ones need checking: an earlier one that was dropped is beaten by a kept
    one, which then beats the later one too; and an earlier one in that order is never
    worse on the first term."""
    dropped = [False] * len(merits)
    kept: list[tuple[float, float, float, float]] = []
    for i in sorted(range(len(merits)), key=merits.__getitem__):  # stable: ties in order
        _, a1, a2, a3, a4 = merits[i]
        for k1, k2, k3, k4 in kept:
            if k1 <= a1 and k4 <= a4 and k3 <= a3 and k2 <= a2:
                dropped[i] = True
                break
        else:
            kept.append((a1, a2, a3, a4))
    return dropped


def add_departure_choices(
    cands: dict[str, list[Candidate]],
    by_id: dict[str, Shipment],
    builder: CandidateBuilder,
    options: PlanOptions,
    deadline: float | None = None,
) -> None:
    """Let the solver choose departures: where the candidates of a book could overfill a
    scheduled departure, add copies of the candidates using it that wait there for the next
    departures (in place, indices following on).

    Breadth first: each round, every candidate (cheapest alone first) whose departure on a
    scheduled leg can be overfilled gets a copy waiting one more departure on that leg (its
    later legs take their first departure after arrival), while the copy is usable (the due
    date when hard; at most ``MAX_WAIT_DEPARTURES``) and the shipment has fewer than
    ``WAIT_COPIES_PER_SHIPMENT`` copies. Rounds repeat while a copy reached a departure that
    can still be overfilled (the copies' load counts), until ``deadline``
    [time.perf_counter() s]. Waiting costs time (and the lateness penalty when due dates are
    soft); price and CO2e are those of the service."""
    copies = dict.fromkeys(cands, 0)
    # per shipment, its candidates without waits (cheapest alone first) with their
    # scheduled legs as (leg, lane id, slot) and the departures waited by each leg's latest
    # copy (-1: done); legs on own trucks never wait
    order = {
        sid: [
            (
                c,
                legs := [
                    (i, o.lane.lane_id, tm.slot)
                    for i, (o, tm) in enumerate(zip(c.options, c.timings, strict=True))
                    if not o.dedicated
                ],
                [0] * len(legs),
            )
            for c in sorted(
                (c for c in cs if not c.waits), key=lambda c: (c.alone_cost_cny, c.index)
            )
        ]
        for sid, cs in cands.items()
    }
    seen = _Loads()
    for _ in range(MAX_WAIT_DEPARTURES):
        full = _overfillable(cands, by_id, seen)
        added = False
        for sid, cs in cands.items():
            if deadline is not None and time.perf_counter() > deadline:
                return
            if copies[sid] >= WAIT_COPIES_PER_SHIPMENT:
                continue
            s = by_id[sid]
            for c, scheduled, reach in order[sid]:
                for j, (leg, lane_id, slot) in enumerate(scheduled):
                    if copies[sid] >= WAIT_COPIES_PER_SHIPMENT:
                        break
                    k = reach[j]
                    if k < 0 or (lane_id, slot + k) not in full:
                        continue
                    waits = tuple(k + 1 if i == leg else 0 for i in range(len(c.options)))
                    v = builder.retimed(s, c, waits, index=len(cs))
                    if v is None or not is_usable(s, v, options):
                        reach[j] = -1
                        continue
                    reach[j] = k + 1 if k + 1 < MAX_WAIT_DEPARTURES else -1
                    cs.append(v)
                    copies[sid] += 1
                    added = True
        if not added:
            return


def _overfillable(
    cands: dict[str, list[Candidate]],
    by_id: dict[str, Shipment],
    seen: _Loads | None = None,
) -> set[tuple[str, int]]:
    """Scheduled departures (lane id, slot) the shipments' candidates could overfill: the
    masses of the shipments using it, summed in book order, exceed its capacity [t] (that
    of the last candidate using it, in book order).

    ``seen`` keeps what earlier calls read (candidates are only ever appended), so that a
    later call reads only the new candidates and re-sums only the departures they use."""
    seen = _Loads() if seen is None else seen
    dirty: set[tuple[str, int]] = set()
    for pos, (sid, cs) in enumerate(cands.items()):
        n, used = seen.read.get(sid, (0, set()))
        if n == len(cs):
            continue
        mass_t = by_id[sid].mass_t
        for c in cs[n:]:
            for o, tm in zip(c.options, c.timings, strict=True):
                if not o.dedicated:
                    key = (o.lane.lane_id, tm.slot)
                    cap = o.capacity_t if tm.capacity_t is None else tm.capacity_t
                    owner = seen.cap.get(key)
                    if owner is None or owner[0] < pos or (owner[0] == pos and owner[1] != cap):
                        seen.cap[key] = (pos, cap)
                    if key not in used:
                        used.add(key)
                        insort(seen.users.setdefault(key, []), (pos, mass_t))
                        dirty.add(key)
        seen.read[sid] = (len(cs), used)
    for key in dirty:
        load = 0.0
        for _, mass_t in seen.users[key]:
            load += mass_t
        seen.load[key] = load
    return {key for key, t in seen.load.items() if t > seen.cap[key][1] + 1e-9}


@dataclass
class _Loads:
    """What :func:`_overfillable` read: per shipment, how many of its candidates and the
    departures they use; per departure, its users (book position, mass [t]) in book order,
    their load [t] and the capacity [t] of its last user (book position, capacity)."""

    read: dict[str, tuple[int, set[tuple[str, int]]]] = field(default_factory=dict)
    users: dict[tuple[str, int], list[tuple[int, float]]] = field(default_factory=dict)
    load: dict[tuple[str, int], float] = field(default_factory=dict)
    cap: dict[tuple[str, int], tuple[int, float]] = field(default_factory=dict)


def time_limit_reason(limit_s: float, what: str = "placed") -> str:
    """The reason of a shipment the solver had no time for (``what``: placed, enumerated)."""
    return f"time_limit: not {what} before the solver's time limit of {limit_s:g} s"


def is_usable(s: Shipment, c: Candidate, options: PlanOptions) -> bool:
    """Whether ``c`` meets the due date (when hard), the on-time probability and the
    shipment's CO2e limit."""
    return _usable(s, c.late_h, c.arrival_h, c.options, c.timings, c.alone_wtw_kg, options)


def _row_usable(s: Shipment, r: CandidateRow, options: PlanOptions) -> bool:
    """:func:`is_usable` of a candidate row."""
    return _usable(s, r[2], r[10], r[0].options, r[1], r[7], options)


def _usable(
    s: Shipment,
    late_h: float,
    arrival_h: float,
    opts: Sequence[LaneOption],
    timings: Sequence[LegTiming],
    alone_wtw_kg: float,
    options: PlanOptions,
) -> bool:
    if options.due_dates == "hard" and late_h > 0:
        return False
    if options.on_time_probability is not None:
        sd = arrival_sd_h(
            ((o.lane.mode, tm.arrive_h - tm.depart_h) for o, tm in zip(opts, timings, strict=True)),
            options.tables_dir,
        )
        margin = required_margin_h(options.on_time_probability, sd)
        if arrival_h + margin > hours_since_epoch(s.due_at):
            return False
    return s.max_co2e_kg is None or alone_wtw_kg <= s.max_co2e_kg


def _filter_reasons(s: Shipment, found: list[Candidate], options: PlanOptions) -> tuple[str, ...]:
    if not found:
        modes = ", ".join(sorted(s.allowed_modes)) if s.allowed_modes else "any mode"
        return (f"no path in the network from {s.origin} to {s.destination} by {modes}",)
    reasons = []
    fastest = min(found, key=lambda c: c.arrival_h)
    if options.due_dates == "hard" and fastest.late_h > 0:
        reasons.append(
            f"due date: the fastest path ({fastest.label}) arrives "
            f"{fastest.late_h / 24:.1f} days after {s.due_at.isoformat()}"
        )
    if s.max_co2e_kg is not None:
        greenest = min(c.alone_wtw_kg for c in found)
        if greenest > s.max_co2e_kg:
            reasons.append(
                f"max_co2e_kg: the greenest path emits {greenest:.1f} kg > {s.max_co2e_kg:g} kg"
            )
    return tuple(reasons) or ("no candidate satisfies the due date and max_co2e_kg together",)


def with_options(options: PlanOptions, **changes: object) -> PlanOptions:
    """A copy of ``options`` with fields changed."""
    return replace(options, **changes)  # type: ignore[arg-type]


__all__ = [
    "PlanOptions",
    "Problem",
    "Unplanned",
    "add_departure_choices",
    "build_problem",
    "gc_paused",
    "is_usable",
    "time_limit_reason",
    "undominated",
    "with_options",
]
