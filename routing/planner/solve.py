"""The planner's orchestrator: :func:`plan` and :func:`solve_problem`.

Picks one candidate per shipment (CP-SAT, or the LP-guided search for large models), builds
the plan and, with ``stop_level_routing``, routes its first/last-mile road legs as vehicle
tours (:func:`routing.planner.stops.route_stops`).

Minimises cost + carbon price x WTW CO2e under lane capacity per departure, with road legs
consolidated into whole trucks, due dates hard (or soft at a stated penalty), an optional cap
on the plan's intensity (the target trajectory) and an optional cap on total CO2e (the
epsilon-constraint of the trade-off curve). Shipments that cannot be served are returned with
the reason; the model itself stays feasible by letting a shipment go unserved at a penalty
far above any path's cost.
"""

from __future__ import annotations

import math
import time
from collections.abc import Container, Sequence
from dataclasses import dataclass, replace

from greenlane.emissions.intensity import Target
from greenlane.emissions.units import G_PER_KG, KG_PER_T, intensity_g_per_tkm
from greenlane.routing.network.graph import Network
from greenlane.routing.planner.cpsat import (
    CAP_SCALE,
    SelectionModel,
    Solved,
    build_model,
    solve_selection,
)
from greenlane.routing.planner.exact import Limits, Objective
from greenlane.routing.planner.model_data import FEN_PER_CNY, ModelData
from greenlane.routing.planner.params import SolverParams
from greenlane.routing.planner.plan import Plan, build_plan
from greenlane.routing.planner.problem import (
    PlanOptions,
    Problem,
    Unplanned,
    build_problem,
    gc_paused,
    time_limit_reason,
)
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.planner.stops import recheck_target, route_stops

SHADOW_RELAXATION = 0.01
"""Relative relaxation of the intensity cap used to measure its shadow price [-]."""

PLAN_S_PER_SHIPMENT = 3e-4
"""Time kept back from the solves to turn the answer into a plan, per shipment [s]
(footprints and TCEs: measured 0.2-0.3 ms)."""
PLAN_SHARE_MAX = 0.2
"""Largest share of the time limit kept back for that [-]."""


def _priced(options: PlanOptions) -> Objective:
    """cost + penalties + lateness + carbon price x WTW CO2e [fen]."""
    return Objective(co2=options.carbon_price_cny_per_t / KG_PER_T / G_PER_KG * FEN_PER_CNY)


GREEN = Objective(cost=0.0, penalty_fen=0.0, late=0.0, penalty_g=1.0, co2=1.0)
"""First stage of the greenest plan: unserved penalty in CO2e + WTW CO2e [g]."""
CHEAP = Objective()
"""cost + penalties + lateness [fen] (second stage of the greenest plan)."""


def _greedy_hint(problem: Problem, options: PlanOptions) -> dict[str, int]:
    price = options.carbon_price_cny_per_t / KG_PER_T
    return {
        sid: min(cands, key=lambda c: (c.alone_cost_cny + price * c.alone_wtw_kg, c.index)).index
        for sid, cands in problem.candidates.items()
    }


def _target_intensity(options: PlanOptions) -> tuple[Target, float] | None:
    if options.target_year is None:
        return None
    target = options.company_target()
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
    problem: Problem,
    options: PlanOptions,
    cp: SelectionModel | None = None,
    deadline: float | None = None,
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
        return _build_plan(
            problem, {}, {}, _facts(options, "NO_CANDIDATES", None, t0, 0.0), options
        )
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


def _build_plan(
    problem: Problem,
    choice: dict[str, int],
    trucks: dict[tuple[str, str, str, int], int],
    facts: dict[str, object],
    options: PlanOptions,
    status: str | None = None,
) -> Plan:
    """``build_plan``, then with ``options.stop_level_routing`` the first/last-mile road legs
    routed as multi-stop tours (:func:`routing.planner.stops.route_stops`)."""
    result = build_plan(problem, choice, trucks, facts, options, status=status)
    if options.stop_level_routing and result.shipments:
        result = route_stops(problem, result, options)
        recheck_target(result)
    return result


def _no_time_plan(problem: Problem, options: PlanOptions, t0: float) -> Plan:
    """The plan when the time limit passed before the model was built: nobody is placed."""
    result = _build_plan(problem, {}, {}, _facts(options, "TIME_LIMIT", None, t0, 0.0), options)
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
    solved: Solved,
    facts: dict[str, object],
    options: PlanOptions,
    cp: SelectionModel,
    status: str | None = None,
) -> Plan:
    """``build_plan`` with honest reasons: a shipment left unserved by a solve that the time
    limit stopped, while one of its candidates still fits every departure, gets the
    ``time_limit`` reason instead of ``capacity``."""
    result = _build_plan(problem, solved.choice, solved.trucks, facts, options, status=status)
    if not solved.timed_out:
        return result
    late = _unplaced(cp.data, solved)
    return _out_of_time(result, late, options) if late else result


def _unplaced(data: ModelData, solved: Solved) -> set[str]:
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
    cp: SelectionModel,
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
        solved = solve_selection(cp, params, priced, base, hint, budget.until(1))
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
    tight = replace(
        base, intensity_milli=math.floor(cap_g_per_tkm * CAP_SCALE), cap_scale=CAP_SCALE
    )
    relaxed = replace(
        base,
        intensity_milli=math.floor(cap_g_per_tkm * (1 + SHADOW_RELAXATION) * CAP_SCALE),
        cap_scale=CAP_SCALE,
    )
    solved = solve_selection(cp, params, priced, tight, green.choice, budget.until(2))
    looser = solve_selection(cp, params, priced, relaxed, solved.choice, budget.until(1))
    extra["shadow_price_cny_per_t"] = _shadow_price(solved, looser)
    facts = _facts(options, solved.status, solved, t0, cp.build_s)
    return _served_plan(problem, solved, {**facts, **extra}, options, cp)


def _green(
    cp: SelectionModel,
    params: SolverParams,
    hint: dict[str, int],
    limits: Limits,
    budget: _Budget,
    stages: int,
) -> Solved:
    """Lexicographic: minimum penalty + CO2e, then minimum cost at that CO2e (the first two
    of ``stages`` solves sharing ``budget``)."""
    first = solve_selection(cp, params, GREEN, limits, hint, budget.until(stages))
    if not first.choice:
        return first
    at_most = round(first.co2e_kg * G_PER_KG)
    if limits.co2e_max_g is not None:
        at_most = min(at_most, limits.co2e_max_g)
    second = solve_selection(
        cp,
        params,
        CHEAP,
        replace(limits, co2e_max_g=at_most),
        first.choice,
        budget.until(stages - 1),
    )
    return second if second.choice else first


def _shadow_price(tight: Solved, looser: Solved) -> float:
    """CNY per t CO2e that the last tonne saved cost: Δcost / ΔCO2e between the cap and the
    cap relaxed by SHADOW_RELAXATION; 0 when the cap does not bind."""
    saved_t = (looser.co2e_kg - tight.co2e_kg) / KG_PER_T
    if not looser.choice or saved_t <= 1e-6:
        return 0.0
    return max(0.0, (tight.cost_cny - looser.cost_cny) / saved_t)


def _facts(
    options: PlanOptions, status: str, solved: Solved | None, t0: float, build_s: float
) -> dict[str, object]:
    from ortools import __version__ as ortools_version  # type: ignore[attr-defined]

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


__all__ = ["plan", "solve_problem"]
