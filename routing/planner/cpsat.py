"""The CP-SAT selection model: pick one candidate per shipment (or leave it unserved).

Lane capacity per departure, road legs consolidated into whole trucks, an optional cap on total
CO2e and on the plan's intensity. The model stays feasible by letting a shipment go unserved at
a penalty far above any path's cost. Models above :data:`CP_SAT_MAX_COLUMNS` are solved by
the LP-guided neighbourhood search of :mod:`routing.planner.search`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from greenlane.emissions.units import G_PER_KG
from greenlane.routing.planner.exact import Limits, Objective
from greenlane.routing.planner.model_data import FEN_PER_CNY, ModelData, TruckKey, model_data
from greenlane.routing.planner.params import SolverParams
from greenlane.routing.planner.problem import PlanOptions, Problem
from greenlane.routing.planner.search import Search

CAP_SCALE = 1000
"""Integer scale of the intensity cap in the solver [milli-g/tkm per g/tkm]."""


class SelectionModel:
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


def build_model(
    problem: Problem, options: PlanOptions, deadline: float | None = None
) -> SelectionModel:
    """The selection model of a problem (its data; the CP-SAT model is built when needed).

    Raises TimeoutError once ``deadline`` [time.perf_counter() s] has passed."""
    t0 = time.perf_counter()
    data = model_data(problem, options, deadline)
    return SelectionModel(data, time.perf_counter() - t0)


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
when time allows); larger ones by the LP-guided neighbourhood search of
``routing.planner.search``."""
ROW_LP_FACTOR = 5.0
"""How much slower the LP gets with a CO2e or intensity row (measured: 3-5x) [-]."""
PLAN_S_PER_SHIPMENT = 3e-4
"""Time kept back from the solves to turn the answer into a plan, per shipment [s]
(footprints and TCEs: measured 0.2-0.3 ms)."""
PLAN_SHARE_MAX = 0.2
"""Largest share of the time limit kept back for that [-]."""


@dataclass(frozen=True, slots=True)
class Solved:
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


def solve_selection(
    cp: SelectionModel,
    params: SolverParams,
    objective: Objective,
    limits: Limits,
    hint: dict[str, int] | None,
    until: float,
) -> Solved:
    """One solve, finished by ``until`` [time.perf_counter() s]."""
    if len(cp.data.cols) <= CP_SAT_MAX_COLUMNS:
        solved = _solve_sat(cp, params, objective, limits, hint, until)
    else:
        solved = _solve_search(cp, params, objective, limits, hint, until)
    if solved.columns:
        cp.pool.append(list(solved.columns))
    return solved


def _solve_search(
    cp: SelectionModel,
    params: SolverParams,
    objective: Objective,
    limits: Limits,
    hint: dict[str, int] | None,
    until: float,
) -> Solved:
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
    if not rows and res.lp_kind == "full" and res.lp_s and res.bound == res.bound:
        cp.lp_s = max(cp.lp_s or 0.0, res.lp_s)
    ev = cp.data.evaluate(res.choice)
    return Solved(
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
    expr: cp_model.LinearExpr | int = 0
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
    cp: SelectionModel,
    params: SolverParams,
    objective: Objective,
    limits: Limits,
    hint: dict[str, int] | None,
    until: float,
) -> Solved:
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
        return Solved(
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
    return Solved(
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


def _cap_switch(cp: SelectionModel, milli: int) -> cp_model.IntVar:
    """An intensity cap CO2e x CAP_SCALE <= milli x served tkm, enforced only when its switch
    is fixed to 1 [one switch per cap value, kept on the model]."""
    if milli not in cp._switches:
        sat = cp.sat
        switch = sat.model.new_bool_var(f"cap[{milli}]")
        _fix(cp, switch, 0)
        sat.model.add(sat.co2e_var * CAP_SCALE <= milli * sat.served_tkm).only_enforce_if(switch)
        cp._switches[milli] = switch
    return cp._switches[milli]


def _fix(cp: SelectionModel, var: cp_model.IntVar, value: int) -> None:
    domain = cp.sat.model.proto.variables[var.index].domain
    domain[0] = value
    domain[1] = value
