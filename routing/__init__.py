"""Routing: the multimodal network, candidate paths, the planner and the trade-off curve.

Subpackages: :mod:`routing.network` (hubs, lanes, graph, geometry), :mod:`routing.datasets`
(a company's own tables over the shipped ``data/``), :mod:`routing.planner`
(problem, candidates, CP-SAT / search / exact MIP, plans, the orchestrator),
:mod:`routing.vrp` (first/last-mile vehicle routing, VRPLIB benchmarks) and
:mod:`routing.scenarios` (Pareto curve, levers, disruptions, re-planning, batch runs).
"""

from greenlane.routing.datasets import (
    Dataset,
    DatasetDiff,
    DatasetError,
    TableChange,
    cached_dataset,
    default_dataset,
    diff_datasets,
    load_dataset,
    load_dataset_files,
)
from greenlane.routing.network import Hub, HubKind, Lane, Network, load_network
from greenlane.routing.planner import (
    Plan,
    PlanOptions,
    Shipment,
    ShipmentPlan,
    SolverParams,
    Unplanned,
    parse_shipments,
    plan,
    plan_to_dict,
    read_book,
)
from greenlane.routing.scenarios import pareto
from greenlane.routing.vrp import VrpParams

__all__ = [
    "Dataset",
    "DatasetDiff",
    "DatasetError",
    "Hub",
    "HubKind",
    "Lane",
    "Network",
    "Plan",
    "PlanOptions",
    "Shipment",
    "ShipmentPlan",
    "SolverParams",
    "TableChange",
    "Unplanned",
    "VrpParams",
    "cached_dataset",
    "default_dataset",
    "diff_datasets",
    "load_dataset",
    "load_dataset_files",
    "load_network",
    "pareto",
    "parse_shipments",
    "plan",
    "plan_to_dict",
    "read_book",
]
