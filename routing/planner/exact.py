"""The planner's selection model as a MIP (or its LP relaxation) through OR-Tools' pywraplp.

Built from the same :class:`routing.planner.model_data.ModelData` as the CP-SAT model: the same
candidates, the same integer cost [fen] and WTW CO2e [g] coefficients, the same capacity rows
and truck groups (with the strong rows ``n >= need x Σ x``). ``solve_exact`` solves it with
SCIP or HiGHS to proven optimality within a long limit: the yardstick of
``benchmarks/planner.py``. The planner itself uses the LP relaxation (``integer=False``,
HiGHS) for its bound and its first plan (``routing.planner.search``).

OR-Tools 9.15 quirks worked around here: pywraplp reports HiGHS runs stopped by the time
limit as not solved and returns no incumbent (google/or-tools#5016), and a solution hint
crashes its HiGHS interface, so hints go to SCIP only; large objective coefficients make
HiGHS warn, so the objective is scaled by ``OBJECTIVE_SCALE`` inside the solver.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.linear_solver import pywraplp

from greenlane.emissions.errors import InputError
from greenlane.emissions.units import G_PER_KG, KG_PER_T
from greenlane.routing.planner.model_data import FEN_PER_CNY, ModelData, model_data
from greenlane.routing.planner.problem import PlanOptions, Problem

OBJECTIVE_SCALE = 1e-4
"""Objective coefficients are multiplied by this inside the solver (HiGHS warns above ~1e9)."""
QUIET_HIGHS = "output_flag=false\n"
"""HiGHS parameters that keep its banner and log off stdout (``SuppressOutput`` does not)."""


@dataclass(frozen=True, slots=True)
class Objective:
    """Weights of the model's parts: cost [fen], unserved penalty [fen], lateness [fen],
    unserved penalty in CO2e [g] and WTW CO2e [g]."""

    cost: float = 1.0
    penalty_fen: float = 1.0
    late: float = 1.0
    penalty_g: float = 0.0
    co2: float = 0.0


@dataclass(frozen=True, slots=True)
class Limits:
    """Side constraints: total WTW CO2e <= ``co2e_max_g`` [g]; and, with ``intensity_milli``,
    ``CO2e x cap_scale <= intensity_milli x served tkm`` (the target cap)."""

    co2e_max_g: int | None = None
    intensity_milli: int | None = None
    cap_scale: int = 1000


@dataclass(frozen=True, slots=True)
class LinearResult:
    """Values of a solve: ``x`` per column, ``u`` per shipment, ``n`` per truck group."""

    status: str
    objective: float
    bound: float
    x: list[float]
    u: list[float]
    n: list[float]
    wall_s: float

    @property
    def ok(self) -> bool:
        """A solution is available."""
        return self.status in ("OPTIMAL", "FEASIBLE")


class LinearModel:
    """pywraplp model of ``data`` under an objective and limits (MIP or LP relaxation)."""

    def __init__(
        self,
        data: ModelData,
        objective: Objective = Objective(),
        limits: Limits = Limits(),
        integer: bool = True,
        solver: str = "HIGHS",
        columns: Sequence[Sequence[int]] | None = None,
        deadline: float | None = None,
    ) -> None:
        """Build the model; raise TimeoutError once ``deadline`` [time.perf_counter() s]
        has passed (checked every few thousand rows)."""
        self.solver_name = solver.upper()
        s = pywraplp.Solver.CreateSolver(self.solver_name)
        if s is None:
            raise InputError(f"solver {solver!r} is not available in OR-Tools", field="solver")
        s.SuppressOutput()
        if self.solver_name == "HIGHS":
            s.SetSolverSpecificParametersAsString(QUIET_HIGHS)
        late = _clock(deadline)
        self.data, self.solver, self.integer = data, s, integer
        inf = s.infinity()
        k = OBJECTIVE_SCALE
        # ``columns``: the columns allowed per shipment (the others are left out, i.e. 0)
        self.ship_cols = (
            [list(r) for r in data.ship_cols] if columns is None else [list(c) for c in columns]
        )
        allowed = {j for cols in self.ship_cols for j in cols}
        var = s.BoolVar if integer else (lambda name: s.NumVar(0, 1, name))
        self.x: list[pywraplp.Variable | None] = [
            var("") if j in allowed else None for j in range(len(data.cols))
        ]
        self.u = [var("") for _ in data.sids]
        self.n = [s.IntVar(0, g.ub, "") if integer else s.NumVar(0, g.ub, "") for g in data.groups]
        obj = s.Objective()
        w = objective
        for j, v in enumerate(self.x):
            if v is None:
                continue
            c = w.cost * data.cost_fen[j] + w.late * data.late_fen[j] + w.co2 * data.co2_g[j]
            if c:
                obj.SetCoefficient(v, c * k)
        for i, v in enumerate(self.u):
            pen = w.penalty_fen * data.pen_fen[i] + w.penalty_g * data.pen_g[i]
            obj.SetCoefficient(v, pen * k)
        for g, v in zip(data.groups, self.n, strict=True):
            obj.SetCoefficient(v, (w.cost * g.cost_fen + w.co2 * g.co2_g) * k)
        obj.SetMinimization()
        x = self.x
        # the rows by role, for duals (a row left out because it cannot bind is absent)
        self.ship_rows: list[pywraplp.Constraint] = []
        self.cap_rows: dict[int, pywraplp.Constraint] = {}
        self.knap_rows: dict[int, pywraplp.Constraint] = {}
        self.link_rows: dict[tuple[int, int], pywraplp.Constraint] = {}
        for i, r in enumerate(self.ship_cols):
            if i % 512 == 0:
                late()
            row = s.RowConstraint(1, 1, "")
            self.ship_rows.append(row)
            row.SetCoefficient(self.u[i], 1)
            for j in r:
                row.SetCoefficient(x[j], 1)
        for c in range(len(data.caps)):
            self._cap_row(c)
        for gi, (g, n) in enumerate(zip(data.groups, self.n, strict=True)):
            if gi % 512 == 0:
                late()
            if g.knapsack:
                row = s.RowConstraint(0, inf, "")
                self.knap_rows[gi] = row
                row.SetCoefficient(n, g.payload_kg)
                for j, wt in zip(g.cols, g.weights, strict=True):
                    if x[j] is not None:
                        row.SetCoefficient(x[j], -wt)
            for li, (need, js) in enumerate(g.links):
                live = [x[j] for j in js if x[j] is not None]
                if live:
                    row = s.RowConstraint(0, inf, "")
                    self.link_rows[gi, li] = row
                    row.SetCoefficient(n, 1)
                    for v in live:
                        row.SetCoefficient(v, -need)
        self.side_rows: list[pywraplp.Constraint] = []
        self._side_scales: list[int] = []
        self._weights = objective
        if limits.co2e_max_g is not None:
            self._side_scales.append(1)
            self.side_rows.append(self._co2_row(-inf, limits.co2e_max_g, 1))
        if limits.intensity_milli is not None:
            # CO2e x scale <= milli x (Σ tkm - Σ tkm_i u_i)
            row = self._co2_row(-inf, limits.intensity_milli * sum(data.tkm), limits.cap_scale)
            self.side_rows.append(row)
            self._side_scales.append(limits.cap_scale)
            for i, v in enumerate(self.u):
                row.SetCoefficient(v, limits.intensity_milli * data.tkm[i])

    def add_columns(self, new: Sequence[int]) -> None:
        """Add columns (of the LP relaxation) to the built model, in every row they belong
        to; a capacity or truck link row left out so far is added once it can bind. A
        simplex solver (GLOP) then re-solves from its last basis."""
        if self.integer:
            raise ValueError("add_columns is for the LP relaxation")
        s, d, w, k = self.solver, self.data, self._weights, OBJECTIVE_SCALE
        obj = s.Objective()
        fresh = [j for j in dict.fromkeys(new) if self.x[j] is None]
        for j in fresh:
            v = s.NumVar(0, 1, "")
            self.x[j] = v
            i = d.col_ship[j]
            self.ship_cols[i].append(j)
            c = w.cost * d.cost_fen[j] + w.late * d.late_fen[j] + w.co2 * d.co2_g[j]
            if c:
                obj.SetCoefficient(v, c * k)
            self.ship_rows[i].SetCoefficient(v, 1)
            if d.co2_g[j]:
                for row, scale in zip(self.side_rows, self._side_scales, strict=True):
                    row.SetCoefficient(v, scale * d.co2_g[j])
            m = d.mass_kg[i]
            for g in d.col_groups[j]:
                if g in self.knap_rows:
                    self.knap_rows[g].SetCoefficient(v, -m)
        new_set = set(fresh)
        touched_caps = {c for j in fresh for c in d.col_caps[j]}
        for c in sorted(touched_caps):
            if c in self.cap_rows:
                row = self.cap_rows[c]
                _, _, js, ws = d.caps[c]
                for j, wt in zip(js, ws, strict=True):
                    if j in new_set:
                        row.SetCoefficient(self.x[j], wt)
            else:
                self._cap_row(c)
        touched_groups = {g for j in fresh for g in d.col_groups[j]}
        for g in sorted(touched_groups):
            grp = d.groups[g]
            for li, (need, js) in enumerate(grp.links):
                add = [j for j in js if j in new_set]
                if not add:
                    continue
                row = self.link_rows.get((g, li))
                if row is None:
                    row = s.RowConstraint(0, s.infinity(), "")
                    row.SetCoefficient(self.n[g], 1)
                    self.link_rows[g, li] = row
                for j in add:
                    row.SetCoefficient(self.x[j], -need)

    def _cap_row(self, c: int) -> None:
        """Add the capacity row of departure ``c`` over the columns in the model, unless
        they cannot fill it (the row could not bind)."""
        _, limit, js, ws = self.data.caps[c]
        terms = [(self.x[j], wt) for j, wt in zip(js, ws, strict=True) if self.x[j] is not None]
        if sum(wt for _, wt in terms) > limit:
            row = self.solver.RowConstraint(-self.solver.infinity(), limit, "")
            self.cap_rows[c] = row
            for v, wt in terms:
                row.SetCoefficient(v, wt)

    def _co2_row(self, lo: float, hi: float, scale: int) -> pywraplp.Constraint:
        row = self.solver.RowConstraint(lo, hi, "")
        for j, v in enumerate(self.x):
            if v is not None and self.data.co2_g[j]:
                row.SetCoefficient(v, scale * self.data.co2_g[j])
        for g, v in zip(self.data.groups, self.n, strict=True):
            if g.co2_g:
                row.SetCoefficient(v, scale * g.co2_g)
        return row

    def add_truck_cuts(
        self, x: Sequence[float], n: Sequence[float], min_violation: float = 1e-3
    ) -> int:
        """Add mixed-integer rounding cuts on the truck groups that ``x``, ``n`` violate.

        For shipments T that may share group g, with A = Σ_T w_s / P = k + r (0 < r < 1):
        trucks >= k + 1 - Σ_T F(w_s / P) (1 - X_s), X_s = the shipment's columns through g and
        F(a) = floor(a) + min(1, frac(a) / r) (MIR). Valid for every integer plan; it cuts off
        the LP's fractional trucks. T is tried as every shipment the LP puts on g, and as
        those it puts there by at least a half. Returns the number of cuts added.
        """
        s, d = self.solver, self.data
        added = 0
        for g, (grp, nv) in enumerate(zip(d.groups, self.n, strict=True)):
            ng = n[g]
            if abs(ng - round(ng)) < 1e-6 and ng >= 1 - 1e-9:
                continue
            per_ship: list[tuple[float, float, list[int]]] = []
            for _, js in grp.links:
                live = [j for j in js if self.x[j] is not None]
                xs = sum(x[j] for j in live)
                if xs > 1e-6:
                    per_ship.append((xs, d.mass_kg[d.col_ship[js[0]]] / grp.payload_kg, live))
            for floor_x in (1e-6, 0.5):
                tset = [t for t in per_ship if t[0] >= floor_x]
                total = sum(a for _, a, _ in tset)
                k = int(total)
                r = total - k
                if r < 1e-3 or r > 1 - 1e-3:
                    continue
                beta = [int(a) + min(1.0, (a - int(a)) / r) for _, a, _ in tset]
                rhs = k + 1 - sum(beta)
                lhs = ng - sum(b * xs for b, (xs, _, _) in zip(beta, tset, strict=True))
                if lhs >= rhs - min_violation:
                    continue
                row = s.RowConstraint(rhs, s.infinity(), "")
                row.SetCoefficient(nv, 1)
                for b, (_, _, live) in zip(beta, tset, strict=True):
                    for j in live:
                        row.SetCoefficient(self.x[j], -b)
                added += 1
        return added

    def solve(
        self,
        time_limit_s: float,
        threads: int = 1,
        relative_gap: float = 0.0,
        hint: Sequence[int | None] | None = None,
        log: bool = False,
    ) -> LinearResult:
        """Solve within ``time_limit_s``; ``hint`` is a column per shipment (None: unserved)."""
        s = self.solver
        s.SetTimeLimit(max(1, int(time_limit_s * 1000)))
        s.SetNumThreads(threads)
        if log:
            s.EnableOutput()
            if self.solver_name == "HIGHS":
                s.SetSolverSpecificParametersAsString("output_flag=true\n")
        if hint is not None and self.integer and self.solver_name != "HIGHS":
            chosen = {j for j in hint if j is not None}
            live = [(v, 1.0 if j in chosen else 0.0) for j, v in enumerate(self.x) if v is not None]
            s.SetHint(
                [v for v, _ in live] + self.u,
                [h for _, h in live] + [1.0 if j is None else 0.0 for j in hint],
            )
        params = pywraplp.MPSolverParameters()
        if self.integer:
            params.SetDoubleParam(params.RELATIVE_MIP_GAP, relative_gap)
        t0 = time.perf_counter()
        status = s.Solve(params)
        wall = time.perf_counter() - t0
        names = {
            s.OPTIMAL: "OPTIMAL",
            s.FEASIBLE: "FEASIBLE",
            s.INFEASIBLE: "INFEASIBLE",
            s.UNBOUNDED: "UNBOUNDED",
            s.ABNORMAL: "ABNORMAL",
            s.NOT_SOLVED: "NOT_SOLVED",
        }
        name = names.get(status, "UNKNOWN")
        if name not in ("OPTIMAL", "FEASIBLE"):
            return LinearResult(name, float("nan"), float("nan"), [], [], [], wall)
        obj = s.Objective().Value() / OBJECTIVE_SCALE
        bound = s.Objective().BestBound() / OBJECTIVE_SCALE if self.integer else obj
        return LinearResult(
            name,
            obj,
            bound,
            [0.0 if v is None else v.solution_value() for v in self.x],
            [v.solution_value() for v in self.u],
            [v.solution_value() for v in self.n],
            wall,
        )


@dataclass(frozen=True, slots=True)
class Duals:
    """Row duals of an LP solve [objective units per unit of row activity]: one per
    shipment row, per capacity row, per truck knapsack row, per truck link row (group,
    link index) and per side-limit row (CO2e, then intensity); rows the model left out
    (they could not bind) are absent."""

    ship: list[float]
    cap: dict[int, float]
    knap: dict[int, float]
    link: dict[tuple[int, int], float]
    side: list[float]


def duals_of(model: LinearModel) -> Duals:
    """The duals of ``model``'s last LP solve (pywraplp's convention: reduced cost =
    objective coefficient - Σ dual x row coefficient), in objective units."""
    k = 1.0 / OBJECTIVE_SCALE
    return Duals(
        [r.dual_value() * k for r in model.ship_rows],
        {i: r.dual_value() * k for i, r in model.cap_rows.items()},
        {i: r.dual_value() * k for i, r in model.knap_rows.items()},
        {i: r.dual_value() * k for i, r in model.link_rows.items()},
        [r.dual_value() * k for r in model.side_rows],
    )


def _clock(deadline: float | None):
    """A check that raises TimeoutError once ``deadline`` [perf_counter s] has passed."""

    def late() -> None:
        if deadline is not None and time.perf_counter() > deadline:
            raise TimeoutError("model build passed its deadline")

    return late


def choice_of(data: ModelData, x: Sequence[float]) -> list[int | None]:
    """The column per shipment with x > 0.5 (None: unserved)."""
    return [next((j for j in r if x[j] > 0.5), None) for r in data.ship_cols]


def priced_objective(carbon_price_cny_per_t: float) -> Objective:
    """cost + penalty + lateness + carbon price x WTW CO2e, in fen (the planner's objective)."""
    return Objective(co2=carbon_price_cny_per_t / KG_PER_T / G_PER_KG * FEN_PER_CNY)


@dataclass(frozen=True, slots=True)
class ExactResult:
    """The exact optimum of a problem under the priced objective [fen], with its proof."""

    status: str
    objective: float
    bound: float
    gap: float
    choice: list[int | None]
    build_s: float
    solve_s: float
    solver: str


def solve_exact(
    problem: Problem,
    options: PlanOptions,
    time_limit_s: float = 3600.0,
    solver: str = "SCIP",
    threads: int = 1,
    hint: Sequence[int | None] | None = None,
    log: bool = False,
    relative_gap: float = 0.0,
) -> ExactResult:
    """Solve the full MIP (every candidate) of ``problem`` under ``options``' priced objective.

    It stops proven optimal, at ``relative_gap`` [-], or at ``time_limit_s`` [s]; ``log``
    prints the solver's log (its bound as it goes) on stdout.

    ``options.co2e_cap_kg`` is honoured; target mode is not (use the planner). The result's
    objective is on the same scale as the CP-SAT objective of ``routing.planner.cpsat``.
    """
    t0 = time.perf_counter()
    data = model_data(problem, options)
    limits = Limits(
        co2e_max_g=None if options.co2e_cap_kg is None else round(options.co2e_cap_kg * G_PER_KG)
    )
    model = LinearModel(
        data, priced_objective(options.carbon_price_cny_per_t), limits, integer=True, solver=solver
    )
    build = time.perf_counter() - t0
    res = model.solve(time_limit_s, threads=threads, hint=hint, log=log, relative_gap=relative_gap)
    if not res.ok:
        return ExactResult(
            res.status, float("nan"), float("nan"), float("nan"), [], build, res.wall_s, solver
        )
    gap = abs(res.objective - res.bound) / max(abs(res.objective), 1e-9)
    return ExactResult(
        res.status, res.objective, res.bound, gap, choice_of(data, res.x), build, res.wall_s, solver
    )
