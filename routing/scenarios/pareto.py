"""The cost-vs-CO2e trade-off curve by the epsilon-constraint method.

The two ends are the cheapest plan and the greenest plan (lexicographic: least CO2e, then
least cost). Between them, ``points - 2`` caps on total WTW CO2e are spaced evenly, and each
is solved for least cost on the same model, each solve starting from the plans already found
(the model's pool). The curve is the lower-left envelope of every plan found: a plan that
another plan beats on cost and CO2e is dropped, as is a duplicate. When that leaves fewer
than ``points`` plans and the curve's time budget is not spent, the widest CO2e gap between
neighbouring points is split by one more cap (the gap's midpoint), until ``points`` plans
are kept, the budget is spent or no gap is left to split. Every point is a plan.

Reference: Haimes, Lasdon & Wismer (1971), "On a bicriterion formulation of the problems of
integrated system identification and system optimization", IEEE Trans. SMC 1(3), 296-297
(the epsilon-constraint method).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import replace

from greenlane.emissions.errors import InputError
from greenlane.routing.network.graph import Network
from greenlane.routing.planner.cpsat import build_model
from greenlane.routing.planner.plan import Plan
from greenlane.routing.planner.problem import PlanOptions, build_problem
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.planner.solve import solve_problem

MIN_GAP_SHARE = 0.02
"""A CO2e gap narrower than this share of the curve's CO2e range is not split [-]."""
MIN_SOLVE_SHARE = 0.5
"""An extra cap is solved only while at least this share of one solve's limit is left [-]."""
SAME_CO2E_KG = 1e-6
"""Two plans closer than this in CO2e are at the same CO2e [kg]."""


def pareto(
    shipments: Sequence[Shipment],
    network: Network,
    options: PlanOptions | None = None,
    points: int = 8,
) -> list[Plan]:
    """Non-dominated plans from cheapest to greenest (cost ascending, CO2e descending).

    Time: each solve has ``options.solver.time_limit_s`` [s]; the solves together (the
    ``points`` planned ones and any extra caps) have ``points`` x that budget, counted from
    the first solve. Candidate enumeration and the model build come before it.
    """
    if not 2 <= points <= 50:
        raise InputError("must lie in 2..50", field="points")
    base = replace(
        options or PlanOptions(),
        carbon_price_cny_per_t=0.0,
        target_year=None,
        co2e_cap_kg=None,
        objective="cost",
    )
    problem = build_problem(shipments, network, base)
    model = build_model(problem, base)
    limit_s = base.solver.time_limit_s
    deadline = time.perf_counter() + points * limit_s
    solves_left = points

    def solve(opts: PlanOptions) -> Plan:
        nonlocal solves_left
        now = time.perf_counter()
        share = max(0.0, deadline - now) / max(1, solves_left)
        solves_left = max(1, solves_left - 1)
        return solve_problem(problem, opts, model, deadline=now + min(limit_s, share))

    cheapest = solve(base)
    greenest = solve(replace(base, objective="co2e"))
    plans = [cheapest, greenest]
    hi, lo = cheapest.co2e_wtw_kg, greenest.co2e_wtw_kg
    tried = [hi, lo]
    for i in range(1, points - 1):
        cap = hi - (hi - lo) * i / (points - 1)
        tried.append(cap)
        plans.append(solve(replace(base, co2e_cap_kg=cap)))
    curve = frontier(plans)
    while len(curve) < points and deadline - time.perf_counter() >= MIN_SOLVE_SHARE * limit_s:
        split = _widest_gap(curve, tried, MIN_GAP_SHARE * (hi - lo))
        if split is None:
            break
        tried.append(split)
        plans.append(solve(replace(base, co2e_cap_kg=split)))
        curve = frontier(plans)
    return curve


def _widest_gap(curve: Sequence[Plan], tried: Sequence[float], min_gap_kg: float) -> float | None:
    """Midpoint [kg] of the widest CO2e gap between neighbouring points of ``curve`` (cost
    ascending) that is at least ``min_gap_kg`` wide and whose middle half holds no cap
    already ``tried`` (a cap solved there gave nothing new: no second try nearby)."""
    best: tuple[float, float] | None = None
    for a, b in itertools.pairwise(curve):
        upper, lower = a.co2e_wtw_kg, b.co2e_wtw_kg
        width = upper - lower
        if width < max(min_gap_kg, SAME_CO2E_KG):
            continue
        mid = lower + width / 2
        if any(abs(cap - mid) < width / 4 for cap in tried):
            continue
        if best is None or width > best[0]:
            best = (width, mid)
    return None if best is None else best[1]


def frontier(plans: Sequence[Plan]) -> list[Plan]:
    """Remove dominated and duplicate plans; serving fewer shipments is never better."""
    usable = [p for p in plans if p.shipments]
    best_served = max((len(p.shipments) for p in usable), default=0)
    usable = [p for p in usable if len(p.shipments) == best_served]
    usable.sort(key=lambda p: (p.cost_cny, p.co2e_wtw_kg))
    out: list[Plan] = []
    for p in usable:
        if out and p.co2e_wtw_kg >= out[-1].co2e_wtw_kg - SAME_CO2E_KG:
            continue
        out.append(p)
    return out
