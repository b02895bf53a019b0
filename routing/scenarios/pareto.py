"""The cost-vs-CO2e trade-off curve by the epsilon-constraint method.

The two ends are the cheapest plan and the greenest plan (lexicographic: least CO2e, then
least cost). Between them, ``points - 2`` caps on total WTW CO2e are spaced evenly, and each
is solved for least cost. Dominated and duplicate points are removed; every point is a plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from greenlane.emissions.errors import InputError
from greenlane.routing.network.graph import Network
from greenlane.routing.planner.cpsat import build_model
from greenlane.routing.planner.plan import Plan
from greenlane.routing.planner.problem import PlanOptions, build_problem
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.planner.solve import solve_problem


def pareto(
    shipments: Sequence[Shipment],
    network: Network,
    options: PlanOptions | None = None,
    points: int = 8,
) -> list[Plan]:
    """Non-dominated plans from cheapest to greenest (cost ascending, CO2e descending)."""
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
    cheapest = solve_problem(problem, base, model)
    greenest = solve_problem(problem, replace(base, objective="co2e"), model)
    plans = [cheapest, greenest]
    hi, lo = cheapest.co2e_wtw_kg, greenest.co2e_wtw_kg
    for i in range(1, points - 1):
        cap = hi - (hi - lo) * i / (points - 1)
        plans.append(solve_problem(problem, replace(base, co2e_cap_kg=cap), model))
    return frontier(plans)


def frontier(plans: Sequence[Plan]) -> list[Plan]:
    """Remove dominated and duplicate plans; serving fewer shipments is never better."""
    usable = [p for p in plans if p.shipments]
    best_served = max((len(p.shipments) for p in usable), default=0)
    usable = [p for p in usable if len(p.shipments) == best_served]
    usable.sort(key=lambda p: (p.cost_cny, p.co2e_wtw_kg))
    out: list[Plan] = []
    for p in usable:
        if out and p.co2e_wtw_kg >= out[-1].co2e_wtw_kg - 1e-6:
            continue
        out.append(p)
    return out
