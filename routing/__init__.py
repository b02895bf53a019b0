"""Routing: the multimodal network, candidate paths, the planner and the trade-off curve."""

from greenlane.routing.model import Hub, HubKind, Lane
from greenlane.routing.network import Network, load_network
from greenlane.routing.pareto import pareto
from greenlane.routing.plan import Plan, ShipmentPlan, Unplanned, plan_to_dict
from greenlane.routing.planner import PlanOptions, plan
from greenlane.routing.shipments import Shipment, parse_shipments, read_book
from greenlane.routing.stop import SolverParams

__all__ = [
    "Hub",
    "HubKind",
    "Lane",
    "Network",
    "Plan",
    "PlanOptions",
    "Shipment",
    "ShipmentPlan",
    "SolverParams",
    "Unplanned",
    "load_network",
    "pareto",
    "parse_shipments",
    "plan",
    "plan_to_dict",
    "read_book",
]
