"""Routing: the multimodal network, candidate paths, the planner and the trade-off curve."""

from routing.model import Hub, HubKind, Lane
from routing.network import Network, load_network
from routing.pareto import pareto
from routing.plan import Plan, ShipmentPlan, Unplanned, plan_to_dict
from routing.planner import PlanOptions, plan
from routing.shipments import Shipment, parse_shipments, read_book
from routing.stop import SolverParams

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
