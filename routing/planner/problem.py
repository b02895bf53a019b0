"""The planning problem as data: options, shipments resolved to hubs and their candidates.

:func:`build_problem` resolves places, enumerates and prices the candidate paths of every
shipment and drops what cannot be served (with the reason); the :class:`Problem` it returns is
built once and solved many times (:func:`routing.planner.solve.solve_problem`).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Literal

from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import Factors, load_factors
from greenlane.emissions.intensity import Target
from greenlane.fleet.model import EnergyPrices
from greenlane.routing.network.graph import Network
from greenlane.routing.network.model import Hub
from greenlane.routing.network.transit_risk import arrival_sd_h, required_margin_h
from greenlane.routing.planner.candidates import (
    Candidate,
    CandidateBuilder,
    hours_since_epoch,
    resolve_place,
    route_independent_tkm,
)
from greenlane.routing.planner.params import SolverParams
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
    data passed down to every pricing call of the plan.
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

    def validate(self) -> None:
        """Raise InputError naming the option at fault."""
        if self.carbon_price_cny_per_t < 0:
            raise InputError("must be >= 0", field="carbon_price_cny_per_t")
        if self.target_year is not None and not 2000 <= self.target_year <= 2100:
            raise InputError("must be a year between 2000 and 2100", field="target_year")
        if self.due_dates not in ("hard", "soft"):
            raise InputError("must be 'hard' or 'soft'", field="due_dates")
        if self.late_penalty_cny_per_t_day < 0:
            raise InputError("must be >= 0", field="late_penalty_cny_per_t_day")
        if self.objective not in ("cost", "co2e"):
            raise InputError("must be 'cost' or 'co2e'", field="objective")
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


def _build_problem(
    shipments: Sequence[Shipment],
    network: Network,
    options: PlanOptions,
    deadline: float | None = None,
    builder: CandidateBuilder | None = None,
) -> Problem:
    options.validate()
    factors = load_factors(options.factor_sets)
    builder = builder or CandidateBuilder(
        network,
        factors,
        options.k_paths,
        options.carbon_price_cny_per_t,
        options.carriers,
        options.energy_prices,
    )
    places: dict[str, tuple[Hub, Hub]] = {}
    cands: dict[str, list[Candidate]] = {}
    unplanned: dict[str, Unplanned] = {}
    tkm: dict[str, float] = {}
    for i, s in enumerate(shipments):
        o = resolve_place(network, s.origin, f"shipments[{i}].origin")
        d = resolve_place(network, s.destination, f"shipments[{i}].destination")
        places[s.shipment_id] = (o, d)
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
        found = builder.candidates(s, o, d)
        reasons = _filter_reasons(s, found, options)
        usable = [c for c in found if is_usable(s, c, options)]
        if usable:
            cands[s.shipment_id] = usable
        else:
            unplanned[s.shipment_id] = Unplanned(s.shipment_id, reasons)
    return Problem(network, factors, list(shipments), places, cands, unplanned, tkm, builder)


def time_limit_reason(limit_s: float, what: str = "placed") -> str:
    """The reason of a shipment the solver had no time for (``what``: placed, enumerated)."""
    return f"time_limit: not {what} before the solver's time limit of {limit_s:g} s"


def is_usable(s: Shipment, c: Candidate, options: PlanOptions) -> bool:
    if options.due_dates == "hard" and c.late_h > 0:
        return False
    if options.on_time_probability is not None:
        sd = arrival_sd_h((o.lane.mode, o.transit_h) for o in c.options)
        margin = required_margin_h(options.on_time_probability, sd)
        if c.arrival_h + margin > hours_since_epoch(s.due_at):
            return False
    return s.max_co2e_kg is None or c.alone_wtw_kg <= s.max_co2e_kg


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
    "build_problem",
    "gc_paused",
    "is_usable",
    "time_limit_reason",
    "with_options",
]
