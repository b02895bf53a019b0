"""The multimodal planner: one candidate path per shipment, cost + carbon optimal.

- :mod:`~routing.planner.shipments`: the shipment book;
- :mod:`~routing.planner.pricing`, :mod:`~routing.planner.candidates`: priced lane options and
  candidate paths;
- :mod:`~routing.planner.problem`: the problem as immutable data (:class:`PlanOptions`,
  :class:`Problem`, :func:`build_problem`);
- :mod:`~routing.planner.model_data`: the selection model as integer data;
- :mod:`~routing.planner.cpsat`, :mod:`~routing.planner.search`,
  :mod:`~routing.planner.exact`: CP-SAT, the LP-guided neighbourhood search, the exact MIP;
- :mod:`~routing.planner.plan`: plans, their TCEs and footprints, and their JSON;
- :mod:`~routing.planner.stops`: stop-level first/last-mile routing of a plan;
- :mod:`~routing.planner.solve`: the orchestrator (:func:`plan`, :func:`solve_problem`).
"""

from greenlane.routing.planner.candidates import Candidate, CandidateBuilder
from greenlane.routing.planner.cpsat import SelectionModel, build_model
from greenlane.routing.planner.exact import priced_objective, solve_exact
from greenlane.routing.planner.model_data import FEN_PER_CNY, ModelData, model_data
from greenlane.routing.planner.params import SolverParams
from greenlane.routing.planner.plan import (
    DroppedLeg,
    Plan,
    PlannedLeg,
    RouteStop,
    ShipmentPlan,
    StopRoute,
    build_plan,
    plan_to_dict,
)
from greenlane.routing.planner.problem import (
    PlanOptions,
    Problem,
    Unplanned,
    build_problem,
    with_options,
)
from greenlane.routing.planner.shipments import Shipment, parse_shipments, read_book
from greenlane.routing.planner.solve import plan, solve_problem
from greenlane.routing.planner.stops import route_stops

__all__ = [
    "FEN_PER_CNY",
    "Candidate",
    "CandidateBuilder",
    "DroppedLeg",
    "ModelData",
    "Plan",
    "PlanOptions",
    "PlannedLeg",
    "Problem",
    "RouteStop",
    "SelectionModel",
    "Shipment",
    "ShipmentPlan",
    "SolverParams",
    "StopRoute",
    "Unplanned",
    "build_model",
    "build_plan",
    "build_problem",
    "model_data",
    "parse_shipments",
    "plan",
    "plan_to_dict",
    "priced_objective",
    "read_book",
    "route_stops",
    "solve_exact",
    "solve_problem",
    "with_options",
]
