"""Scenarios on top of the planner: the cost-vs-CO2e curve, abatement levers, disruptions and
re-planning, and batch runs (many books or a sweep of scenarios on Dask)."""

from greenlane.routing.scenarios.batch import BatchResult, Scenario, run_batch
from greenlane.routing.scenarios.disruptions import (
    Disruption,
    affects,
    apply_disruptions,
    parse_disruptions,
)
from greenlane.routing.scenarios.levers import Lever, LeverResult, Macc, macc, macc_to_dict
from greenlane.routing.scenarios.pareto import frontier, pareto
from greenlane.routing.scenarios.replan import Impact, ShipmentImpact, impact, impact_to_dict

__all__ = [
    "BatchResult",
    "Disruption",
    "Impact",
    "Lever",
    "LeverResult",
    "Macc",
    "Scenario",
    "ShipmentImpact",
    "affects",
    "apply_disruptions",
    "frontier",
    "impact",
    "impact_to_dict",
    "macc",
    "macc_to_dict",
    "pareto",
    "parse_disruptions",
    "run_batch",
]
