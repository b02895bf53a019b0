"""The LP relaxation of the selection model by column generation, with a valid bound.

The full LP of a 1,000-shipment book has ~46,000 columns after pruning and takes seconds to
build and solve. Most columns are never used: the LP is solved over a restricted set (each
shipment's few cheapest columns, plus those of known plans), and the left-out columns are
priced with the restricted LP's duals; those with a negative reduced cost are added and the
LP is solved again, until none prices out (the restricted LP's value is then the full LP
value) or the time is up.

Every round gives a valid lower bound on the integer optimum, whatever the duals (Lagrangian
relaxation of the capacity, truck and side-limit rows, keeping one column per shipment):

    L(y) = Σ_i min(p_u(i), min_j p_j) + Σ_g ub_g · min(0, r_g) + Σ_k y_k · limit_k + Σ_r y_r · rhs_r

with p_j = c_j - Σ_rows y · a_j the column's price without its shipment row, p_u the
unserved option's, r_g the reduced cost of truck group g's count (0 <= n_g <= ub_g). Duals
are first clipped to the sign their row allows (<= rows: y <= 0; >= rows: y >= 0), so L(y)
never exceeds the integer optimum; when no column prices out, L(y) equals the LP value.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from greenlane.routing.planner.exact import Duals, Limits, LinearModel, Objective, duals_of
from greenlane.routing.planner.model_data import ModelData


class Search(Protocol):
    """What column generation reads of ``routing.planner.search.Search``: the model, the
    objective weights and limits, each column's cost ``c``, each truck group's cost ``f``,
    each shipment's unserved cost ``pu`` [objective units], truck payloads [kg], side-limit
    rows and the allowed columns per shipment."""

    data: ModelData
    weights: Objective
    limits: Limits
    c: list[float]
    f: list[float]
    pu: list[float]
    payload: list[int]
    rows: list[tuple[list[int], list[int], list[int], int]]
    allowed: list[list[int]]


FIRST_COLUMNS = 2
"""Columns per shipment in the first restricted LP (its cheapest by LP cost, plus those of
known plans) [-]; 2 reached the LP value within 0.1 % two rounds earlier than 4 or 8 on the
1,000-shipment benchmark book."""
ADD_COLUMNS = 4
"""Most columns added per shipment and round (the most negative reduced costs) [-]."""
LP_SOLVER = "GLOP"
"""The restricted LP's solver: GLOP reports row duals (pywraplp's HiGHS interface in
OR-Tools 9.15 returns row activities as duals)."""
FIRST_ROUND_SHARE = 0.7
"""Largest share of the time given to column generation that its first round may take [-]
(1,000-shipment benchmark book under load: 0.3-0.8 s of ~1.1 s, and 0.5 cut it once; 10,000:
> 10 s of ~7 s, so it is cut there)."""
NEXT_ROUND_FACTOR = 1.5
"""Expected time of the next round over the last one [-] (measured 1.3-2x)."""
GLOP_PARAMS = "use_dual_simplex: true"
"""GLOP parameters of the restricted LPs (dual simplex: measured 30-45 % faster on them)."""
PRICE_TOL = 1e-6
"""A column prices out when its reduced cost is below -PRICE_TOL x max(1, |price|)."""


@dataclass(frozen=True, slots=True)
class ColumnLP:
    """The result: LP values of the last restricted LP (x per column, 0 if left out; u per
    shipment), its value, the best valid bound, whether it is the full LP optimum
    (no column priced out), the rounds and the columns used."""

    x: list[float]
    u: list[float]
    value: float
    bound: float
    converged: bool
    rounds: int
    columns: int


def lp_cost(search: Search) -> dict[int, float]:
    """Each allowed column's cost with its trucks charged by its share of a truck
    (mass / payload): the least it can cost in the LP [objective units]."""
    d = search.data
    out = {}
    for i, cols in enumerate(search.allowed):
        m = d.mass_kg[i]
        for j in cols:
            out[j] = search.c[j] + sum(search.f[g] * m / search.payload[g] for g in d.col_groups[j])
    return out


def first_columns(
    search: Search, cost: dict[int, float], known: Sequence[Sequence[int | None]] = ()
) -> list[list[int]]:
    """Each shipment's FIRST_COLUMNS cheapest allowed columns by ``cost``, plus its
    columns in the ``known`` plans."""
    out = []
    for i, cols in enumerate(search.allowed):
        keep = sorted(cols, key=lambda j: (cost[j], j))[:FIRST_COLUMNS]
        here = set(cols)
        for plan in known:
            j = plan[i] if i < len(plan) else None
            if j is not None and j in here and j not in keep:
                keep.append(j)
        out.append(keep)
    return out


def prices(search: Search, duals: Duals) -> tuple[list[float], list[float], float]:
    """Column prices p_j and unserved prices p_u(i) without the shipment rows, and the
    rest of L(y) (constant and truck-count terms) [objective units], for sign-clipped duals."""
    d = search.data
    side = [min(0.0, y) for y in duals.side]
    p = list(search.c)
    pu = list(search.pu)
    const = 0.0
    for r, y in enumerate(side):
        if y:
            a, _, au, rhs = search.rows[r]
            for j, v in enumerate(a):
                if v:
                    p[j] -= y * v
            for i, v in enumerate(au):
                if v:
                    pu[i] -= y * v
            const += y * rhs
    for k, y in duals.cap.items():
        y = min(0.0, y)
        if y:
            _, limit, js, wts = d.caps[k]
            for j, w in zip(js, wts, strict=True):
                p[j] -= y * w
            const += y * limit
    rg = list(search.f)
    for g in range(len(d.groups)):
        for r, y in enumerate(side):
            if y:
                rg[g] -= y * search.rows[r][1][g]
    for g, y in duals.knap.items():
        y = max(0.0, y)
        if y:
            grp = d.groups[g]
            for j, w in zip(grp.cols, grp.weights, strict=True):
                p[j] += y * w
            rg[g] -= y * grp.payload_kg
    for (g, li), y in duals.link.items():
        y = max(0.0, y)
        if y:
            need, js = d.groups[g].links[li]
            for j in js:
                p[j] += y * need
            rg[g] -= y
    const += sum(grp.ub * min(0.0, r) for grp, r in zip(d.groups, rg, strict=True))
    return p, pu, const


def lagrangian_bound(search: Search, duals: Duals) -> tuple[float, list[float]]:
    """L(y) over the allowed columns (a valid lower bound on the integer optimum) and the
    column prices p_j [objective units]."""
    p, pu, const = prices(search, duals)
    total = const
    for i, cols in enumerate(search.allowed):
        total += min(pu[i], min((p[j] for j in cols), default=pu[i]))
    return total, p


def _below(bound: float) -> float:
    """A hair below ``bound`` (float safety: relative 1e-9) [objective units]."""
    return bound - 1e-9 * max(1.0, abs(bound))


def solve(
    search: Search,
    until: float,
    known: Sequence[Sequence[int | None]] = (),
    workers: int = 1,
) -> ColumnLP | None:
    """Column generation until no column prices out or ``until`` [perf_counter s]; None if
    not even the first restricted LP was solved in time."""
    cost = lp_cost(search)
    cols = first_columns(search, cost, known)
    best: ColumnLP | None = None
    # zero duals: every shipment on its cheapest column, capacities ignored (valid already)
    zero = Duals([0.0] * len(search.allowed), {}, {}, {}, [0.0] * len(search.rows))
    bound = _below(lagrangian_bound(search, zero)[0])
    rounds = 0
    last_s = 0.0
    # a first round that needs more than its share leaves no time for the second, which
    # gives the useful start: stop it there and leave the time to the search
    first_until = time.perf_counter() + FIRST_ROUND_SHARE * max(0.0, until - time.perf_counter())
    model = None
    new: list[int] = []
    while True:
        rounds += 1
        t_round = time.perf_counter()
        try:
            if model is None:
                model = LinearModel(
                    search.data,
                    search.weights,
                    search.limits,
                    integer=False,
                    solver=LP_SOLVER,
                    columns=cols,
                    deadline=first_until,
                )
                model.solver.SetSolverSpecificParametersAsString(GLOP_PARAMS)
            else:
                model.add_columns(new)  # GLOP re-solves from the last basis
            stop = first_until if rounds == 1 else until
            res = model.solve(max(0.05, stop - time.perf_counter()), threads=workers)
        except TimeoutError:
            return best
        if res.status != "OPTIMAL":  # stopped by the time limit: its values are not an LP optimum
            return best
        duals = duals_of(model)
        lb, p = lagrangian_bound(search, duals)
        bound = max(bound, _below(lb))
        added = 0
        new = []
        for i, allowed in enumerate(search.allowed):
            y = duals.ship[i]
            inside = set(cols[i])
            out = [
                (p[j] - y, j)
                for j in allowed
                if j not in inside and p[j] - y < -PRICE_TOL * max(1.0, abs(p[j]))
            ]
            if out:
                out.sort()
                take = [j for _, j in out[:ADD_COLUMNS]]
                cols[i].extend(take)
                new.extend(take)
                added += len(take)
        converged = added == 0
        best = ColumnLP(
            res.x,
            res.u,
            res.objective,
            bound,
            converged,
            rounds,
            sum(len(c) for c in cols),
        )
        now = time.perf_counter()
        last_s = now - t_round
        # a round cut by the time limit is lost: stop when the next one (they grow) won't fit
        if converged or now + NEXT_ROUND_FACTOR * last_s >= until:
            return best
