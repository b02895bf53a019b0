"""The multimodal planner: pick one candidate per shipment with CP-SAT.

Minimises cost + carbon price x WTW CO2e under lane capacity per departure, with road legs
consolidated into whole trucks, due dates hard (or soft at a stated penalty), an optional cap
on the plan's intensity (the target trajectory) and an optional cap on total CO2e (the
epsilon-constraint of the trade-off curve). Shipments that cannot be served are returned with
the reason; the model itself stays feasible by letting a shipment go unserved at a penalty
far above any path's cost.
"""

from __future__ import annotations

import gc
import math
import threading
import time
from collections import defaultdict
from collections.abc import Container, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Literal

from ortools.sat.python import cp_model

from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import Factors, load_factors
from greenlane.emissions.intensity import Target, default_target
from greenlane.emissions.units import G_PER_KG, KG_PER_T, intensity_g_per_tkm
from greenlane.routing.candidates import (
    Candidate,
    CandidateBuilder,
    hours_since_epoch,
    resolve_place,
    route_independent_tkm,
)
from greenlane.routing.exact import Limits, Objective
from greenlane.routing.model import Hub
from greenlane.routing.network import Network
from greenlane.routing.plan import Plan, Unplanned, build_plan
from greenlane.routing.pricing import LaneOption
from greenlane.routing.shipments import Shipment
from greenlane.routing.stop import SolverParams
from greenlane.routing.transit_risk import arrival_sd_h, required_margin_h

FEN_PER_CNY = 100
"""Integer scale of money in the solver [fen/CNY]."""
CAP_SCALE = 1000
"""Integer scale of the intensity cap in the solver [milli-g/tkm per g/tkm]."""
SHADOW_RELAXATION = 0.01
"""Relative relaxation of the intensity cap used to measure its shadow price [-]."""
UNSERVED_FACTOR = 20.0
"""Penalty for leaving a shipment unserved, as a multiple of its dearest candidate."""


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
    as multi-stop vehicle routes per terminal and day (``routing.stops``).
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


@dataclass
class Problem:
    """Shipments resolved to hubs with their candidates; built once, solved many times."""

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
) -> Problem:
    """Resolve places, enumerate and price candidates, drop what cannot be served.

    Shipments not reached by ``deadline`` [time.perf_counter() s] are left unplanned with
    the ``time_limit`` reason."""
    with gc_paused():
        return _build_problem(shipments, network, options, deadline)


def _build_problem(
    shipments: Sequence[Shipment],
    network: Network,
    options: PlanOptions,
    deadline: float | None = None,
) -> Problem:
    options.validate()
    factors = load_factors(options.factor_sets)
    builder = CandidateBuilder(
        network, factors, options.k_paths, options.carbon_price_cny_per_t, options.carriers
    )
    places: dict[str, tuple[Hub, Hub]] = {}
    cands: dict[str, list[Candidate]] = {}
    unplanned: dict[str, Unplanned] = {}
    tkm: dict[str, float] = {}
    for i, s in enumerate(shipments):
        o = resolve_place(network, s.origin, f"{s.where or f'shipments[{i}]'}.origin")
        d = resolve_place(network, s.destination, f"{s.where or f'shipments[{i}]'}.destination")
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
        usable = [c for c in found if _usable(s, c, options)]
        if usable:
            cands[s.shipment_id] = usable
        else:
            unplanned[s.shipment_id] = Unplanned(s.shipment_id, reasons)
    return Problem(network, factors, list(shipments), places, cands, unplanned, tkm, builder)


def time_limit_reason(limit_s: float, what: str = "placed") -> str:
    """The reason of a shipment the solver had no time for (``what``: placed, enumerated)."""
    return f"time_limit: not {what} before the solver's time limit of {limit_s:g} s"


def _usable(s: Shipment, c: Candidate, options: PlanOptions) -> bool:
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


TruckKey = tuple[str, str, str, int]
"""A road departure: (lane id, vehicle type, energy carrier, day slot)."""


@dataclass
class TruckGroup:
    """Shipments that may share the trucks of one road departure.

    ``links`` are the strong rows ``n >= need x Σ x`` per shipment (need = its own trucks);
    ``knapsack`` is False when every candidate together fits the group's ``ub`` trucks
    without the capacity row (it is then implied by the links).
    """

    key: TruckKey
    payload_kg: int
    ub: int
    cost_fen: int
    co2_g: int
    cols: list[int]
    weights: list[int]
    links: list[tuple[int, list[int]]]
    knapsack: bool


@dataclass
class ModelData:
    """The selection model as plain integer data, shared by CP-SAT and the exact MIP.

    Column ``j`` is candidate ``cols[j]`` = (shipment id, candidate index) with cost [fen],
    WTW CO2e [g] and lateness penalty [fen]. A road departure used by one shipment only is
    folded into that shipment's columns (its trucks are then the shipment's own,
    ``folded[j]``); the others are ``groups`` with an integer truck count. ``caps`` are the
    scheduled departures whose candidates could exceed their capacity [kg].
    """

    sids: list[str]
    cols: list[tuple[str, int]]
    col_ship: list[int]
    ship_cols: list[range]
    cost_fen: list[int]
    co2_g: list[int]
    late_fen: list[int]
    pen_fen: list[int]
    pen_g: list[int]
    tkm: list[int]
    mass_kg: list[int]
    caps: list[tuple[tuple[str, int], int, list[int], list[int]]]
    groups: list[TruckGroup]
    folded: dict[int, list[tuple[TruckKey, int, int, int]]]
    col_groups: list[list[int]] = field(default_factory=list)
    col_caps: list[list[int]] = field(default_factory=list)
    group_ships: list[list[int]] = field(default_factory=list)
    cap_ships: list[list[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Index the rows by column (truck groups, capacities) and groups by shipment."""
        self.col_groups = [[] for _ in self.cols]
        for g, grp in enumerate(self.groups):
            for j in grp.cols:
                self.col_groups[j].append(g)
        self.col_caps = [[] for _ in self.cols]
        for k, (_, _, js, _) in enumerate(self.caps):
            for j in js:
                self.col_caps[j].append(k)
        self.group_ships = [[self.col_ship[js[0]] for _, js in grp.links] for grp in self.groups]
        self.cap_ships = [sorted({self.col_ship[j] for j in js}) for _, _, js, _ in self.caps]

    def evaluate(self, choice: Sequence[int | None]) -> dict[str, object]:
        """Cost, CO2e, lateness and penalties of a choice (column per shipment or None).

        Trucks per group are the fewest that carry the chosen load; capacity is not checked
        (see :meth:`overloaded`).
        """
        cost = co2 = late = pen = pen_g = tkm = 0
        chosen = set()
        for i, j in enumerate(choice):
            if j is None:
                pen += self.pen_fen[i]
                pen_g += self.pen_g[i]
                continue
            chosen.add(j)
            cost += self.cost_fen[j]
            co2 += self.co2_g[j]
            late += self.late_fen[j]
            tkm += self.tkm[i]
        trucks: dict[TruckKey, int] = {}
        for g in self.groups:
            load = sum(w for j, w in zip(g.cols, g.weights, strict=True) if j in chosen)
            if load:
                n = -(-load // g.payload_kg)
                trucks[g.key] = n
                cost += n * g.cost_fen
                co2 += n * g.co2_g
        for j in chosen:
            for key, n, _, _ in self.folded.get(j, ()):
                trucks[key] = n
        return {
            "cost_fen": cost,
            "co2_g": co2,
            "late_fen": late,
            "penalty_fen": pen,
            "penalty_g": pen_g,
            "served_tkm": tkm,
            "trucks": trucks,
        }

    def overloaded(self, choice: Sequence[int | None]) -> list[tuple[str, int]]:
        """Scheduled departures whose capacity the choice exceeds."""
        chosen = {j for j in choice if j is not None}
        return [
            key
            for key, limit, cols, ws in self.caps
            if sum(w for j, w in zip(cols, ws, strict=True) if j in chosen) > limit
        ]


def model_data(problem: Problem, options: PlanOptions, deadline: float | None = None) -> ModelData:
    """Columns, capacity rows and truck groups of a problem, with integer coefficients.

    Raises TimeoutError once ``deadline`` [time.perf_counter() s] has passed."""
    with gc_paused():
        return _model_data(problem, options, deadline)


def _model_data(problem: Problem, options: PlanOptions, deadline: float | None = None) -> ModelData:
    by_id = {s.shipment_id: s for s in problem.shipments}
    sids = sorted(problem.candidates)
    cols: list[tuple[str, int]] = []
    col_ship: list[int] = []
    ship_cols: list[range] = []
    cost: list[int] = []
    co2: list[int] = []
    late: list[int] = []
    pen: list[int] = []
    pen_g: list[int] = []
    tkm: list[int] = []
    mass: list[int] = []
    cap_cols: dict[tuple[str, int], list[int]] = defaultdict(list)
    cap_limit: dict[tuple[str, int], int] = {}
    truck_cols: dict[TruckKey, dict[int, list[int]]] = defaultdict(dict)
    truck_option: dict[TruckKey, LaneOption] = {}
    penalty = options.late_penalty_cny_per_t_day
    info: dict[int, tuple[bool, tuple[str, ...], int]] = {}  # per option object
    for i, sid in enumerate(sids):
        if deadline is not None and i % 256 == 0 and time.perf_counter() > deadline:
            raise TimeoutError("model build passed its deadline")
        s, cands = by_id[sid], problem.candidates[sid]
        mass_kg = round(s.mass_t * KG_PER_T)
        mass.append(mass_kg)
        tkm.append(round(problem.tkm_gcd[sid]))
        worst = max(c.alone_cost_cny for c in cands)
        pen.append(round(UNSERVED_FACTOR * max(worst, 1.0) * FEN_PER_CNY))
        dirtiest = max(c.alone_wtw_kg for c in cands)
        pen_g.append(round(UNSERVED_FACTOR * max(dirtiest, 1.0) * G_PER_KG))
        first = len(cols)
        for c in cands:
            legs = []
            for o in c.options:
                row = info.get(id(o))
                if row is None:
                    row = info[id(o)] = (
                        o.dedicated,
                        (o.lane.lane_id, o.vehicle_id, o.carrier)
                        if o.dedicated
                        else (o.lane.lane_id,),
                        round(o.capacity_t * KG_PER_T),
                    )
                legs.append(row)
            if any(not ded and cap_kg < mass_kg for ded, _, cap_kg in legs):
                continue  # heavier than a whole departure of one of its services
            j = len(cols)
            cols.append((sid, c.index))
            col_ship.append(i)
            cost.append(round(c.var_cost_cny * FEN_PER_CNY))
            co2.append(round(c.var_wtw_kg * G_PER_KG))
            late.append(
                round(penalty * s.mass_t * (c.late_h / 24) * FEN_PER_CNY) if c.late_h > 0 else 0
            )
            for (ded, prefix, cap_kg), o, tm in zip(legs, c.options, c.timings, strict=True):
                if ded:
                    key = (*prefix, tm.slot)
                    per = truck_cols[key]
                    if i in per:
                        per[i].append(j)
                    else:
                        per[i] = [j]
                        truck_option[key] = o
                else:
                    key2 = (prefix[0], tm.slot)
                    cap_cols[key2].append(j)
                    cap_limit[key2] = cap_kg
        ship_cols.append(range(first, len(cols)))
    for key2, held_t in problem.reserved_t.items():
        if key2 in cap_limit:
            cap_limit[key2] = max(0, cap_limit[key2] - round(held_t * KG_PER_T))
    caps = []
    for key2, js in sorted(cap_cols.items()):
        ws = [mass[col_ship[j]] for j in js]
        if _most_load(js, ws, col_ship) > cap_limit[key2]:
            caps.append((key2, cap_limit[key2], js, ws))
    groups: list[TruckGroup] = []
    folded: dict[int, list[tuple[TruckKey, int, int, int]]] = defaultdict(list)
    for key, per_ship in sorted(truck_cols.items()):
        o = truck_option[key]
        payload_kg = round(o.vehicle_payload_t * KG_PER_T)
        vcost, vco2 = round(o.vehicle_cost_cny * FEN_PER_CNY), round(o.vehicle_wtw_kg * G_PER_KG)
        if len(per_ship) == 1:
            ((i, js),) = per_ship.items()
            need = -(-mass[i] // payload_kg)
            for j in js:
                cost[j] += need * vcost
                co2[j] += need * vco2
                folded[j].append((key, need, vcost, vco2))
            continue
        gcols = [j for js in per_ship.values() for j in js]
        weights = [mass[col_ship[j]] for j in gcols]
        total = sum(mass[i] for i in per_ship)
        ub = -(-total // payload_kg)
        links = [(-(-mass[i] // payload_kg), js) for i, js in per_ship.items()]
        knapsack = ub > max(need for need, _ in links)
        groups.append(TruckGroup(key, payload_kg, ub, vcost, vco2, gcols, weights, links, knapsack))
    return ModelData(
        sids,
        cols,
        col_ship,
        ship_cols,
        cost,
        co2,
        late,
        pen,
        pen_g,
        tkm,
        mass,
        caps,
        groups,
        dict(folded),
    )


def _most_load(cols: list[int], weights: list[int], col_ship: list[int]) -> int:
    """The largest load the columns can put on a departure (one column per shipment)."""
    best: dict[int, int] = {}
    for j, w in zip(cols, weights, strict=True):
        i = col_ship[j]
        best[i] = max(best.get(i, 0), w)
    return sum(best.values())


class _Cp:
    """A built model: its data, the CP-SAT model (built on first use) and known plans.

    ``pool`` keeps the plans solved on this model (a column per shipment), so later solves
    of a sweep can start from them.
    """

    def __init__(self, data: ModelData, build_s: float) -> None:
        self.data = data
        self.build_s = build_s
        self.pool: list[list[int | None]] = []
        self.lp_s: float | None = None
        self.col_of = {col: j for j, col in enumerate(data.cols)}
        self._sat: _Sat | None = None
        self._switches: dict[int, cp_model.IntVar] = {}

    @property
    def sat(self) -> _Sat:
        """The CP-SAT model of ``data`` [built on first use]."""
        if self._sat is None:
            t0 = time.perf_counter()
            self._sat = _build_sat(self.data)
            self.build_s += time.perf_counter() - t0
        return self._sat

    def columns(self, choice: dict[str, int]) -> list[int | None]:
        """A plan as shipment id -> candidate index, as a column per shipment."""
        return [
            None if sid not in choice else self.col_of.get((sid, choice[sid]))
            for sid in self.data.sids
        ]

    def choice(self, columns: Sequence[int | None]) -> dict[str, int]:
        """A column per shipment as shipment id -> candidate index."""
        return {self.data.cols[j][0]: self.data.cols[j][1] for j in columns if j is not None}


@dataclass
class _Sat:
    model: cp_model.CpModel
    xs: list[cp_model.IntVar]
    us: list[cp_model.IntVar]
    trucks: dict[TruckKey, cp_model.IntVar]
    cost_fen: cp_model.LinearExpr
    co2e_var: cp_model.IntVar
    penalty_fen: cp_model.LinearExpr
    penalty_g: cp_model.LinearExpr
    late_fen: cp_model.LinearExpr
    served_tkm: cp_model.LinearExpr


def build_model(problem: Problem, options: PlanOptions, deadline: float | None = None) -> _Cp:
    """The selection model of a problem (its data; the CP-SAT model is built when needed).

    Raises TimeoutError once ``deadline`` [time.perf_counter() s] has passed."""
    t0 = time.perf_counter()
    data = model_data(problem, options, deadline)
    return _Cp(data, time.perf_counter() - t0)


def _build_sat(data: ModelData) -> _Sat:
    """The CP-SAT model: assignment, capacities, trucks, cost and CO2e expressions."""
    m = cp_model.CpModel()
    ws = cp_model.LinearExpr.weighted_sum
    xs = [m.new_bool_var(f"x[{sid},{idx}]") for sid, idx in data.cols]
    us = [m.new_bool_var(f"u[{sid}]") for sid in data.sids]
    for i, r in enumerate(data.ship_cols):
        m.add_exactly_one([*xs[r.start : r.stop], us[i]])
    for _, limit, js, wts in data.caps:
        m.add(ws([xs[j] for j in js], wts) <= limit)
    trucks: dict[TruckKey, cp_model.IntVar] = {}
    t_vars, t_cost, t_co2, t_ub = [], [], [], []
    for g in data.groups:
        n = m.new_int_var(0, g.ub, f"n[{'|'.join(map(str, g.key))}]")
        trucks[g.key] = n
        if g.knapsack:
            m.add(ws([n, *(xs[j] for j in g.cols)], [g.payload_kg, *(-w for w in g.weights)]) >= 0)
        for need, js in g.links:
            m.add(ws([n, *(xs[j] for j in js)], [1, *([-need] * len(js))]) >= 0)
        t_vars.append(n)
        t_cost.append(g.cost_fen)
        t_co2.append(g.co2_g)
        t_ub.append(g.ub)
    cost = ws([*xs, *t_vars], [*data.cost_fen, *t_cost])
    co2 = ws([*xs, *t_vars], [*data.co2_g, *t_co2])
    ub_co2 = (
        sum(abs(w) for w in data.co2_g)
        + sum(abs(w) * ub for w, ub in zip(t_co2, t_ub, strict=True))
        + 1
    )
    co2_var = m.new_int_var(-ub_co2, ub_co2, "co2e_g")
    m.add(co2_var == co2)
    pen = ws(us, data.pen_fen)
    pen_g = ws(us, data.pen_g)
    late_idx = [j for j, w in enumerate(data.late_fen) if w]
    late = ws([xs[j] for j in late_idx], [data.late_fen[j] for j in late_idx])
    served = ws(us, [-t for t in data.tkm]) + sum(data.tkm)
    return _Sat(m, xs, us, trucks, cost, co2_var, pen, pen_g, late, served)


CP_SAT_MAX_COLUMNS = 4000
"""Models up to this many candidate columns are solved by CP-SAT outright (proven optimal
when time allows); larger ones by the LP-guided neighbourhood search of ``routing.search``."""
ROW_LP_FACTOR = 5.0
"""How much slower the LP gets with a CO2e or intensity row (measured: 3-5x) [-]."""
PLAN_S_PER_SHIPMENT = 3e-4
"""Time kept back from the solves to turn the answer into a plan, per shipment [s]
(footprints and TCEs: measured 0.2-0.3 ms)."""
PLAN_SHARE_MAX = 0.2
"""Largest share of the time limit kept back for that [-]."""


@dataclass(frozen=True, slots=True)
class _Solved:
    choice: dict[str, int]
    trucks: dict[tuple[str, str, str, int], int]
    status: str
    objective: float
    bound: float
    wall_s: float
    cost_cny: float
    co2e_kg: float
    engine: str = "CP-SAT"
    columns: tuple[int | None, ...] = ()
    timed_out: bool = False


def _priced(options: PlanOptions) -> Objective:
    """cost + penalties + lateness + carbon price x WTW CO2e [fen]."""
    return Objective(co2=options.carbon_price_cny_per_t / KG_PER_T / G_PER_KG * FEN_PER_CNY)


GREEN = Objective(cost=0.0, penalty_fen=0.0, late=0.0, penalty_g=1.0, co2=1.0)
"""First stage of the greenest plan: unserved penalty in CO2e + WTW CO2e [g]."""
CHEAP = Objective()
"""cost + penalties + lateness [fen] (second stage of the greenest plan)."""


def _solve(
    cp: _Cp,
    params: SolverParams,
    objective: Objective,
    limits: Limits,
    hint: dict[str, int] | None,
    until: float,
) -> _Solved:
    """One solve, finished by ``until`` [time.perf_counter() s]."""
    if len(cp.data.cols) <= CP_SAT_MAX_COLUMNS:
        solved = _solve_sat(cp, params, objective, limits, hint, until)
    else:
        solved = _solve_search(cp, params, objective, limits, hint, until)
    if solved.columns:
        cp.pool.append(list(solved.columns))
    return solved


def _solve_search(
    cp: _Cp,
    params: SolverParams,
    objective: Objective,
    limits: Limits,
    hint: dict[str, int] | None,
    until: float,
) -> _Solved:
    from greenlane.routing.search import Search

    starts = list(reversed(cp.pool))
    if hint:
        starts.append(cp.columns(hint))
    search = Search(
        cp.data, objective, limits, seed=params.seed, workers=params.workers, deadline=until
    )
    rows = limits.co2e_max_g is not None or limits.intensity_milli is not None
    # a CO2e or intensity row makes the LP several times slower; without the time for it
    # the search starts from known plans (the bound is then unknown)
    estimate = None if cp.lp_s is None else cp.lp_s * (ROW_LP_FACTOR if rows else 1.0)
    res = search.run(
        max(0.0, until - time.perf_counter()),
        starts=starts,
        relative_gap=params.relative_gap,
        deterministic_s=params.deterministic_time,
        deadline=until,
        lp_estimate_s=estimate,
    )
    if not rows and res.lp_s and res.bound == res.bound:
        cp.lp_s = max(cp.lp_s or 0.0, res.lp_s)
    ev = cp.data.evaluate(res.choice)
    return _Solved(
        cp.choice(res.choice),
        ev["trucks"],  # type: ignore[arg-type]
        res.status,
        res.objective,
        res.bound,
        res.wall_s,
        ev["cost_fen"] / FEN_PER_CNY,  # type: ignore[operator]
        ev["co2_g"] / G_PER_KG,  # type: ignore[operator]
        engine="LP-guided LNS (HiGHS LP + CP-SAT)",
        columns=tuple(res.choice),
        timed_out=res.timed_out,
    )


def _sat_objective(sat: _Sat, w: Objective) -> cp_model.LinearExprT:
    parts = [
        (w.cost, sat.cost_fen),
        (w.penalty_fen, sat.penalty_fen),
        (w.late, sat.late_fen),
        (w.penalty_g, sat.penalty_g),
    ]
    expr: cp_model.LinearExprT = 0
    for weight, part in parts:
        if weight == 1:
            expr = expr + part
        elif weight:
            expr = expr + part * weight
    if w.co2 == 1:
        expr = expr + sat.co2e_var
    elif w.co2:
        expr = expr + cp_model.LinearExpr.weighted_sum([sat.co2e_var], [w.co2])
    return expr


def _solve_sat(
    cp: _Cp,
    params: SolverParams,
    objective: Objective,
    limits: Limits,
    hint: dict[str, int] | None,
    until: float,
) -> _Solved:
    sat = cp.sat
    model = sat.model
    domain = model.proto.variables[sat.co2e_var.index].domain
    full_upper = domain[1]
    if limits.co2e_max_g is not None:
        domain[1] = min(full_upper, limits.co2e_max_g)
    switch = None
    if limits.intensity_milli is not None:
        switch = _cap_switch(cp, limits.intensity_milli)
        _fix(cp, switch, 1)
    try:
        model.minimize(_sat_objective(sat, objective))
        model.clear_hints()
        if hint:
            for (sid, idx), v in zip(cp.data.cols, sat.xs, strict=True):
                model.add_hint(v, 1 if hint.get(sid) == idx else 0)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.01, until - time.perf_counter())
        solver.parameters.num_workers = params.workers
        solver.parameters.random_seed = params.seed
        solver.parameters.relative_gap_limit = params.relative_gap
        solver.parameters.linearization_level = 2
        if params.deterministic_time is not None:
            solver.parameters.max_deterministic_time = params.deterministic_time
        t0 = time.perf_counter()
        status = solver.solve(model)
        wall = time.perf_counter() - t0
    finally:
        domain[1] = full_upper
        if switch is not None:
            _fix(cp, switch, 0)
    name = status.name
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _Solved(
            {},
            {},
            name,
            float("nan"),
            float("nan"),
            wall,
            0.0,
            0.0,
            timed_out=status == cp_model.UNKNOWN,
        )
    columns = [next((j for j in r if solver.value(sat.xs[j])), None) for r in cp.data.ship_cols]
    trucks = {k: int(solver.value(n)) for k, n in sat.trucks.items() if solver.value(n)}
    for j in columns:
        if j is not None and j in cp.data.folded:
            trucks.update((key, need) for key, need, _, _ in cp.data.folded[j])
    return _Solved(
        cp.choice(columns),
        trucks,
        name,
        solver.objective_value,
        solver.best_objective_bound,
        wall,
        solver.value(sat.cost_fen) / FEN_PER_CNY,
        solver.value(sat.co2e_var) / G_PER_KG,
        columns=tuple(columns),
        timed_out=status != cp_model.OPTIMAL and time.perf_counter() >= until - 0.1,
    )


def _greedy_hint(problem: Problem, options: PlanOptions) -> dict[str, int]:
    price = options.carbon_price_cny_per_t / KG_PER_T
    return {
        sid: min(cands, key=lambda c: (c.alone_cost_cny + price * c.alone_wtw_kg, c.index)).index
        for sid, cands in problem.candidates.items()
    }


def _target_intensity(options: PlanOptions) -> tuple[Target, float] | None:
    if options.target_year is None:
        return None
    target = options.target or default_target()
    return target, target.intensity_g_per_tkm(options.target_year)


def plan(
    shipments: Sequence[Shipment], network: Network, options: PlanOptions | None = None
) -> Plan:
    """Plan a book of shipments: the cheapest (cost + carbon price x CO2e) feasible assignment.

    With ``options.target_year`` the plan's intensity is capped at the target trajectory; the
    plan then reports the shadow price of the cap [CNY per t CO2e], found by re-solving with
    the cap relaxed by 1 %. If even the greenest plan misses the cap, the plan's status is
    ``target_infeasible`` and it is that greenest plan.

    ``options.solver.time_limit_s`` bounds everything after candidate enumeration (model
    build, LP, search, the plan; see :func:`solve_problem`); enumeration is deterministic and
    left whole, so the same book gives the same problem on any machine. For one limit over
    both, pass the same ``deadline`` to :func:`build_problem` and :func:`solve_problem`.
    """
    options = options or PlanOptions()
    problem = build_problem(shipments, network, options)
    return solve_problem(problem, options)


def solve_problem(
    problem: Problem, options: PlanOptions, cp: _Cp | None = None, deadline: float | None = None
) -> Plan:
    """Solve a built problem under ``options``; ``cp`` reuses a built model (Pareto sweep).

    Everything (model build, every solve of the mode, the plan) is done by ``deadline``
    [time.perf_counter() s], by default ``options.solver.time_limit_s`` from the call; the
    solves of a mode (two for ``objective='co2e'``, four in target mode) share the time.
    """
    t0 = time.perf_counter()
    if deadline is None:
        deadline = t0 + options.solver.time_limit_s
    if not problem.candidates:
        return build_plan(problem, {}, {}, _facts(options, "NO_CANDIDATES", None, t0, 0.0), options)
    with gc_paused():
        keep = min(
            PLAN_SHARE_MAX * options.solver.time_limit_s,
            PLAN_S_PER_SHIPMENT * len(problem.candidates),
        )
        try:
            cp = cp or build_model(problem, options, deadline - keep)
        except TimeoutError:
            return _no_time_plan(problem, options, t0)
        cap = None if options.co2e_cap_kg is None else round(options.co2e_cap_kg * G_PER_KG)
        return _solve_modes(problem, options, cp, t0, cap, _Budget(deadline - keep))


def _no_time_plan(problem: Problem, options: PlanOptions, t0: float) -> Plan:
    """The plan when the time limit passed before the model was built: nobody is placed."""
    result = build_plan(problem, {}, {}, _facts(options, "TIME_LIMIT", None, t0, 0.0), options)
    return _out_of_time(result, problem.candidates.keys(), options)


def _out_of_time(result: Plan, shipment_ids: Container[str], options: PlanOptions) -> Plan:
    """``result`` with the unplanned ``shipment_ids`` given the ``time_limit`` reason."""
    reason = (time_limit_reason(options.solver.time_limit_s),)
    return replace(
        result,
        unplanned=tuple(
            Unplanned(u.shipment_id, reason) if u.shipment_id in shipment_ids else u
            for u in result.unplanned
        ),
    )


@dataclass(frozen=True, slots=True)
class _Budget:
    """The instant the solves must be done by [time.perf_counter() s], shared by stages."""

    deadline: float

    def until(self, stages_left: int) -> float:
        """End of the next stage: an equal share of the time left [perf_counter s]."""
        now = time.perf_counter()
        return now + max(0.0, self.deadline - now) / max(1, stages_left)


def _served_plan(
    problem: Problem,
    solved: _Solved,
    facts: dict[str, object],
    options: PlanOptions,
    cp: _Cp,
    status: str | None = None,
) -> Plan:
    """``build_plan`` with honest reasons: a shipment left unserved by a solve that the time
    limit stopped, while one of its candidates still fits every departure, gets the
    ``time_limit`` reason instead of ``capacity``."""
    result = build_plan(problem, solved.choice, solved.trucks, facts, options, status=status)
    if not solved.timed_out:
        return result
    late = _unplaced(cp.data, solved)
    return _out_of_time(result, late, options) if late else result


def _unplaced(data: ModelData, solved: _Solved) -> set[str]:
    """Unserved shipments of a solve with a column that fits every scheduled departure."""
    columns = solved.columns or tuple(None for _ in data.sids)
    loads = [0] * len(data.caps)
    for i, j in enumerate(columns):
        if j is not None:
            for k in data.col_caps[j]:
                loads[k] += data.mass_kg[i]
    out = set()
    for i, j in enumerate(columns):
        if j is None and any(
            all(loads[k] + data.mass_kg[i] <= data.caps[k][1] for k in data.col_caps[c])
            for c in data.ship_cols[i]
        ):
            out.add(data.sids[i])
    return out


def _solve_modes(
    problem: Problem,
    options: PlanOptions,
    cp: _Cp,
    t0: float,
    cap_g: int | None,
    budget: _Budget,
) -> Plan:
    priced = _priced(options)
    base = Limits(co2e_max_g=cap_g)
    params = options.solver
    hint = _greedy_hint(problem, options)
    target = _target_intensity(options)
    if options.objective == "co2e":
        green = _green(cp, params, hint, base, budget, 2)
        return _served_plan(
            problem, green, _facts(options, green.status, green, t0, cp.build_s), options, cp
        )
    if target is None:
        solved = _solve(cp, params, priced, base, hint, budget.until(1))
        facts = _facts(options, solved.status, solved, t0, cp.build_s)
        return _served_plan(problem, solved, facts, options, cp)
    tgt, cap_g_per_tkm = target
    green = _green(cp, params, hint, base, budget, 4)
    served_tkm = sum(problem.tkm_gcd[sid] for sid in green.choice)
    best_intensity = intensity_g_per_tkm(green.co2e_kg, served_tkm)
    extra: dict[str, object] = {
        "target_year": options.target_year,
        "target_intensity_g_per_tkm": cap_g_per_tkm,
        "baseline_year": tgt.baseline_year,
        "baseline_intensity_g_per_tkm": tgt.baseline_intensity_g_per_tkm,
        "greenest_intensity_g_per_tkm": best_intensity,
    }
    if best_intensity > cap_g_per_tkm * (1 + 1e-9):
        facts = _facts(options, "TARGET_INFEASIBLE", green, t0, cp.build_s)
        facts["message"] = (
            f"the greenest feasible plan reaches {best_intensity:.2f} g/tkm, "
            f"above the {options.target_year} target {cap_g_per_tkm:.2f} g/tkm"
        )
        return _served_plan(
            problem, green, {**facts, **extra}, options, cp, status="target_infeasible"
        )
    tight = replace(base, intensity_milli=round(cap_g_per_tkm * CAP_SCALE), cap_scale=CAP_SCALE)
    relaxed = replace(
        base,
        intensity_milli=round(cap_g_per_tkm * (1 + SHADOW_RELAXATION) * CAP_SCALE),
        cap_scale=CAP_SCALE,
    )
    solved = _solve(cp, params, priced, tight, green.choice, budget.until(2))
    looser = _solve(cp, params, priced, relaxed, solved.choice, budget.until(1))
    extra["shadow_price_cny_per_t"] = _shadow_price(solved, looser)
    facts = _facts(options, solved.status, solved, t0, cp.build_s)
    return _served_plan(problem, solved, {**facts, **extra}, options, cp)


def _green(
    cp: _Cp,
    params: SolverParams,
    hint: dict[str, int],
    limits: Limits,
    budget: _Budget,
    stages: int,
) -> _Solved:
    """Lexicographic: minimum penalty + CO2e, then minimum cost at that CO2e (the first two
    of ``stages`` solves sharing ``budget``)."""
    first = _solve(cp, params, GREEN, limits, hint, budget.until(stages))
    if not first.choice:
        return first
    at_most = round(first.co2e_kg * G_PER_KG)
    if limits.co2e_max_g is not None:
        at_most = min(at_most, limits.co2e_max_g)
    second = _solve(
        cp,
        params,
        CHEAP,
        replace(limits, co2e_max_g=at_most),
        first.choice,
        budget.until(stages - 1),
    )
    return second if second.choice else first


def _cap_switch(cp: _Cp, milli: int) -> cp_model.IntVar:
    """An intensity cap CO2e x CAP_SCALE <= milli x served tkm, enforced only when its switch
    is fixed to 1 [one switch per cap value, kept on the model]."""
    if milli not in cp._switches:
        sat = cp.sat
        switch = sat.model.new_bool_var(f"cap[{milli}]")
        _fix(cp, switch, 0)
        sat.model.add(sat.co2e_var * CAP_SCALE <= milli * sat.served_tkm).only_enforce_if(switch)
        cp._switches[milli] = switch
    return cp._switches[milli]


def _fix(cp: _Cp, var: cp_model.IntVar, value: int) -> None:
    domain = cp.sat.model.proto.variables[var.index].domain
    domain[0] = value
    domain[1] = value


def _shadow_price(tight: _Solved, looser: _Solved) -> float:
    """CNY per t CO2e that the last tonne saved cost: Δcost / ΔCO2e between the cap and the
    cap relaxed by SHADOW_RELAXATION; 0 when the cap does not bind."""
    saved_t = (looser.co2e_kg - tight.co2e_kg) / KG_PER_T
    if not looser.choice or saved_t <= 1e-6:
        return 0.0
    return max(0.0, (tight.cost_cny - looser.cost_cny) / saved_t)


def _facts(
    options: PlanOptions, status: str, solved: _Solved | None, t0: float, build_s: float
) -> dict[str, object]:
    from ortools import __version__ as ortools_version

    facts: dict[str, object] = {
        "solver": "OR-Tools " + (solved.engine if solved is not None else "CP-SAT"),
        "solver_version": ortools_version,
        "status": status,
        "seed": options.solver.seed,
        "workers": options.solver.workers,
        "time_limit_s": options.solver.time_limit_s,
        "model_build_s": round(build_s, 3),
        "wall_s": round(time.perf_counter() - t0, 3),
    }
    if solved is not None and solved.choice:
        facts.update(objective=solved.objective, solve_s=round(solved.wall_s, 3))
        if math.isfinite(solved.bound):  # the search may skip its LP (no bound then)
            gap = abs(solved.objective - solved.bound) / max(abs(solved.objective), 1e-9)
            facts.update(bound=solved.bound, gap=round(gap, 6))
    return facts


def with_options(options: PlanOptions, **changes: object) -> PlanOptions:
    """A copy of ``options`` with fields changed."""
    return replace(options, **changes)  # type: ignore[arg-type]


__all__ = [
    "PlanOptions",
    "Problem",
    "build_problem",
    "hours_since_epoch",
    "plan",
    "solve_problem",
    "with_options",
]
