"""The multimodal planner: pick one candidate per shipment with CP-SAT.

Minimises cost + carbon price x WTW CO2e under lane capacity per departure, with road legs
consolidated into whole trucks, due dates hard (or soft at a stated penalty), an optional cap
on the plan's intensity (the target trajectory) and an optional cap on total CO2e (the
epsilon-constraint of the trade-off curve). Shipments that cannot be served are returned with
the reason; the model itself stays feasible by letting a shipment go unserved at a penalty
far above any path's cost.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from ortools.sat.python import cp_model

from emissions.errors import InputError
from emissions.factors import Factors, load_factors
from emissions.intensity import Target, default_target
from emissions.units import G_PER_KG, KG_PER_T, intensity_g_per_tkm
from routing.candidates import (
    Candidate,
    CandidateBuilder,
    hours_since_epoch,
    resolve_place,
    route_independent_tkm,
)
from routing.model import Hub
from routing.network import Network
from routing.plan import Plan, Unplanned, build_plan
from routing.shipments import Shipment
from routing.stop import SolverParams

FEN_PER_CNY = 100
"""Integer scale of money in the solver [fen/CNY]."""
CAP_SCALE = 1000
"""Integer scale of the intensity cap in the solver [milli-g/tkm per g/tkm]."""
SHADOW_RELAXATION = 0.01
"""Relative relaxation of the intensity cap used to measure its shadow price [-]."""
UNSERVED_FACTOR = 20.0
"""Penalty for leaving a shipment unserved, as a multiple of its dearest candidate."""


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What a plan request asks for.

    ``carbon_price_cny_per_t`` [CNY/t CO2e] prices WTW emissions in the objective.
    ``target_year`` caps the plan's intensity (WTW g/tkm on the great-circle distance) at the
    target trajectory for that year. ``due_dates='soft'`` allows lateness at
    ``late_penalty_cny_per_t_day`` [CNY per t per day]. ``objective='co2e'`` minimises WTW
    CO2e first and cost second.
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
    factor_sets: tuple[str, ...] = ()
    solver: SolverParams = field(default_factory=SolverParams)

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


def build_problem(shipments: Sequence[Shipment], network: Network, options: PlanOptions) -> Problem:
    """Resolve places, enumerate and price candidates, drop what cannot be served."""
    options.validate()
    factors = load_factors(options.factor_sets)
    builder = CandidateBuilder(network, factors, options.k_paths, options.carbon_price_cny_per_t,
                               options.carriers)
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
        found = builder.candidates(s, o, d)
        reasons = _filter_reasons(s, found, options)
        usable = [c for c in found if _usable(s, c, options)]
        if usable:
            cands[s.shipment_id] = usable
        else:
            unplanned[s.shipment_id] = Unplanned(s.shipment_id, reasons)
    return Problem(network, factors, list(shipments), places, cands, unplanned, tkm, builder)


def _usable(s: Shipment, c: Candidate, options: PlanOptions) -> bool:
    if options.due_dates == "hard" and c.late_h > 0:
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


@dataclass
class _Cp:
    model: cp_model.CpModel
    x: dict[tuple[str, int], cp_model.IntVar]
    unserved: dict[str, cp_model.IntVar]
    trucks: dict[tuple[str, str, str, int], cp_model.IntVar]
    cost_fen: cp_model.LinearExpr
    co2e_g: cp_model.LinearExpr
    co2e_var: cp_model.IntVar
    penalty_fen: cp_model.LinearExpr
    penalty_g: cp_model.LinearExpr
    late_fen: cp_model.LinearExpr
    served_tkm: cp_model.LinearExpr
    build_s: float


def build_model(problem: Problem, options: PlanOptions) -> _Cp:
    """The CP-SAT model: assignment, capacities, trucks, cost and CO2e expressions."""
    t0 = time.perf_counter()
    m = cp_model.CpModel()
    x: dict[tuple[str, int], cp_model.IntVar] = {}
    unserved: dict[str, cp_model.IntVar] = {}
    cost_terms: list[tuple[cp_model.IntVar, int]] = []
    co2_terms: list[tuple[cp_model.IntVar, int]] = []
    pen_terms: list[tuple[cp_model.IntVar, int]] = []
    pen_g_terms: list[tuple[cp_model.IntVar, int]] = []
    late_terms: list[tuple[cp_model.IntVar, int]] = []
    cap_load: dict[tuple[str, int], list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
    cap_limit: dict[tuple[str, int], int] = {}
    truck_load: dict[tuple[str, str, str, int], list[tuple[cp_model.IntVar, int]]] = defaultdict(
        list
    )
    truck_option = {}
    ub_of: dict[int, int] = defaultdict(lambda: 1)
    by_id = {s.shipment_id: s for s in problem.shipments}
    for sid in sorted(problem.candidates):
        s, cands = by_id[sid], problem.candidates[sid]
        mass_kg = round(s.mass_t * KG_PER_T)
        u = m.new_bool_var(f"u[{sid}]")
        unserved[sid] = u
        worst = max(c.alone_cost_cny for c in cands)
        pen_terms.append((u, round(UNSERVED_FACTOR * max(worst, 1.0) * FEN_PER_CNY)))
        dirtiest = max(c.alone_wtw_kg for c in cands)
        pen_g_terms.append((u, round(UNSERVED_FACTOR * max(dirtiest, 1.0) * G_PER_KG)))
        xs = []
        for c in cands:
            v = m.new_bool_var(f"x[{sid},{c.index}]")
            x[(sid, c.index)] = v
            xs.append(v)
            cost_terms.append((v, round(c.var_cost_cny * FEN_PER_CNY)))
            co2_terms.append((v, round(c.var_wtw_kg * G_PER_KG)))
            if c.late_h > 0:
                days = c.late_h / 24
                late_terms.append(
                    (v, round(options.late_penalty_cny_per_t_day * s.mass_t * days * FEN_PER_CNY))
                )
            for o, tm in zip(c.options, c.timings, strict=True):
                if o.dedicated:
                    key = (o.lane.lane_id, o.vehicle_id, o.carrier, tm.slot)
                    truck_load[key].append((v, mass_kg))
                    truck_option[key] = o
                else:
                    key2 = (o.lane.lane_id, tm.slot)
                    cap_load[key2].append((v, mass_kg))
                    cap_limit[key2] = round(o.capacity_t * KG_PER_T)
        m.add_exactly_one([*xs, u])
    for key2, terms in sorted(cap_load.items()):
        if sum(w for _, w in terms) > cap_limit[key2]:
            m.add(sum(v * w for v, w in terms) <= cap_limit[key2])
    trucks: dict[tuple[str, str, str, int], cp_model.IntVar] = {}
    for key, terms in sorted(truck_load.items()):
        o = truck_option[key]
        payload_kg = round(o.vehicle_payload_t * KG_PER_T)
        ub = -(-sum(w for _, w in terms) // payload_kg)
        n = m.new_int_var(0, ub, f"n[{'|'.join(map(str, key))}]")
        trucks[key] = n
        ub_of[n.index] = ub
        m.add(n * payload_kg >= sum(v * w for v, w in terms))
        cost_terms.append((n, round(o.vehicle_cost_cny * FEN_PER_CNY)))
        co2_terms.append((n, round(o.vehicle_wtw_kg * G_PER_KG)))
    cost = cp_model.LinearExpr.weighted_sum([v for v, _ in cost_terms], [w for _, w in cost_terms])
    co2 = cp_model.LinearExpr.weighted_sum([v for v, _ in co2_terms], [w for _, w in co2_terms])
    ub_co2 = sum(abs(w) * ub_of[v.index] for v, w in co2_terms) + 1
    co2_var = m.new_int_var(-ub_co2, ub_co2, "co2e_g")
    m.add(co2_var == co2)
    pen = cp_model.LinearExpr.weighted_sum([v for v, _ in pen_terms], [w for _, w in pen_terms])
    pen_g = cp_model.LinearExpr.weighted_sum([v for v, _ in pen_g_terms],
                                             [w for _, w in pen_g_terms])
    late = cp_model.LinearExpr.weighted_sum([v for v, _ in late_terms], [w for _, w in late_terms])
    served = cp_model.LinearExpr.weighted_sum(
        [unserved[sid] for sid in sorted(unserved)],
        [-round(problem.tkm_gcd[sid]) for sid in sorted(unserved)],
    ) + sum(round(problem.tkm_gcd[sid]) for sid in unserved)
    return _Cp(m, x, unserved, trucks, cost, co2, co2_var, pen, pen_g, late, served,
               time.perf_counter() - t0)


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


def _solve(
    cp: _Cp,
    params: SolverParams,
    objective: cp_model.LinearExprT,
    hint: dict[str, int] | None = None,
) -> _Solved:
    cp.model.minimize(objective)
    cp.model.clear_hints()
    if hint:
        for (sid, idx), v in cp.x.items():
            cp.model.add_hint(v, 1 if hint.get(sid) == idx else 0)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = params.time_limit_s
    solver.parameters.num_workers = params.workers
    solver.parameters.random_seed = params.seed
    solver.parameters.relative_gap_limit = params.relative_gap
    solver.parameters.linearization_level = 2
    if params.deterministic_time is not None:
        solver.parameters.max_deterministic_time = params.deterministic_time
    t0 = time.perf_counter()
    status = solver.solve(cp.model)
    wall = time.perf_counter() - t0
    name = status.name
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _Solved({}, {}, name, float("nan"), float("nan"), wall, 0.0, 0.0)
    choice = {sid: idx for (sid, idx), v in cp.x.items() if solver.value(v)}
    trucks = {k: int(solver.value(n)) for k, n in cp.trucks.items() if solver.value(n)}
    return _Solved(
        choice,
        trucks,
        name,
        solver.objective_value,
        solver.best_objective_bound,
        wall,
        solver.value(cp.cost_fen) / FEN_PER_CNY,
        solver.value(cp.co2e_g) / G_PER_KG,
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
    """
    options = options or PlanOptions()
    problem = build_problem(shipments, network, options)
    return solve_problem(problem, options)


def solve_problem(problem: Problem, options: PlanOptions, cp: _Cp | None = None) -> Plan:
    """Solve a built problem under ``options``; ``cp`` reuses a built model (Pareto sweep)."""
    t0 = time.perf_counter()
    if not problem.candidates:
        return build_plan(problem, {}, {}, _facts(options, "NO_CANDIDATES", None, t0, 0.0), options)
    cp = cp or build_model(problem, options)
    domain = cp.model.proto.variables[cp.co2e_var.index].domain
    full_upper = domain[1]
    if options.co2e_cap_kg is not None:
        domain[1] = min(full_upper, round(options.co2e_cap_kg * G_PER_KG))
    try:
        return _solve_modes(problem, options, cp, t0)
    finally:
        domain[1] = full_upper


def _solve_modes(problem: Problem, options: PlanOptions, cp: _Cp, t0: float) -> Plan:
    price_fen_per_g = options.carbon_price_cny_per_t / KG_PER_T / G_PER_KG * FEN_PER_CNY
    priced = cp.cost_fen + cp.penalty_fen + cp.late_fen
    if price_fen_per_g:
        priced = priced + cp_model.LinearExpr.weighted_sum([cp.co2e_var], [price_fen_per_g])
    params = options.solver
    hint = _greedy_hint(problem, options)
    target = _target_intensity(options)
    if options.objective == "co2e":
        green = _green(cp, params, hint)
        return build_plan(problem, green.choice, green.trucks,
                          _facts(options, green.status, green, t0, cp.build_s), options)
    if target is None:
        solved = _solve(cp, params, priced, hint)
        facts = _facts(options, solved.status, solved, t0, cp.build_s)
        return build_plan(problem, solved.choice, solved.trucks, facts, options)
    tgt, cap_g_per_tkm = target
    green = _green(cp, params, hint)
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
        return build_plan(problem, green.choice, green.trucks, {**facts, **extra}, options,
                          status="target_infeasible")
    tight = _cap_switch(cp, cap_g_per_tkm)
    relaxed = _cap_switch(cp, cap_g_per_tkm * (1 + SHADOW_RELAXATION))
    _fix(cp, tight, 1)
    solved = _solve(cp, params, priced, green.choice)
    _fix(cp, tight, 0)
    _fix(cp, relaxed, 1)
    looser = _solve(cp, params, priced, solved.choice)
    _fix(cp, relaxed, 0)
    extra["shadow_price_cny_per_t"] = _shadow_price(solved, looser)
    facts = _facts(options, solved.status, solved, t0, cp.build_s)
    return build_plan(problem, solved.choice, solved.trucks, {**facts, **extra}, options)


def _green(cp: _Cp, params: SolverParams, hint: dict[str, int]) -> _Solved:
    """Lexicographic: minimum penalty + CO2e, then minimum cost at that CO2e."""
    first = _solve(cp, params, cp.penalty_g + cp.co2e_var, hint)
    if not first.choice:
        return first
    domain = cp.model.proto.variables[cp.co2e_var.index].domain
    old = domain[1]
    domain[1] = round(first.co2e_kg * G_PER_KG)
    second = _solve(cp, params, cp.penalty_fen + cp.cost_fen + cp.late_fen, first.choice)
    domain[1] = old
    return second if second.choice else first


def _cap_switch(cp: _Cp, cap_g_per_tkm: float) -> cp_model.IntVar:
    """An intensity cap CO2e <= cap x served tkm, enforced only when its switch is fixed to 1."""
    switch = cp.model.new_bool_var(f"cap[{cap_g_per_tkm:.6f}]")
    _fix(cp, switch, 0)
    milli = round(cap_g_per_tkm * CAP_SCALE)
    cp.model.add(cp.co2e_var * CAP_SCALE <= milli * cp.served_tkm).only_enforce_if(switch)
    return switch


def _fix(cp: _Cp, var: cp_model.IntVar, value: int) -> None:
    domain = cp.model.proto.variables[var.index].domain
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
        "solver": "OR-Tools CP-SAT",
        "solver_version": ortools_version,
        "status": status,
        "seed": options.solver.seed,
        "workers": options.solver.workers,
        "time_limit_s": options.solver.time_limit_s,
        "model_build_s": round(build_s, 3),
        "wall_s": round(time.perf_counter() - t0, 3),
    }
    if solved is not None and solved.choice:
        gap = abs(solved.objective - solved.bound) / max(abs(solved.objective), 1e-9)
        facts.update(
            objective=solved.objective,
            bound=solved.bound,
            gap=round(gap, 6),
            solve_s=round(solved.wall_s, 3),
        )
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
