"""First/last-mile vehicle routing with range, charging and load-aware emissions.

``solve_vrp(problem, params)`` plans routes for a :class:`VrpProblem`; every plan it returns
has passed :func:`check_solution`. The integer core (:mod:`routing.vrp.core`) also solves
the standard benchmarks (:mod:`routing.vrplib_io`).
"""

from routing.vrp.check import check_solution as check_solution
from routing.vrp.core import SolveParams as SolveParams
from routing.vrp.model import Depot as Depot
from routing.vrp.model import DistanceMatrix as DistanceMatrix
from routing.vrp.model import DroppedStop as DroppedStop
from routing.vrp.model import FleetEntry as FleetEntry
from routing.vrp.model import RouteArc as RouteArc
from routing.vrp.model import Station as Station
from routing.vrp.model import Stop as Stop
from routing.vrp.model import VehicleRoute as VehicleRoute
from routing.vrp.model import Visit as Visit
from routing.vrp.model import VrpProblem as VrpProblem
from routing.vrp.model import VrpSolution as VrpSolution
from routing.vrp.model import load_stations as load_stations
from routing.vrp.model import read_distance_matrix as read_distance_matrix
from routing.vrp.solve import VrpError as VrpError
from routing.vrp.solve import solve_vrp as solve_vrp

__all__ = [
    "Depot", "DistanceMatrix", "DroppedStop", "FleetEntry", "RouteArc", "SolveParams",
    "Station", "Stop", "VehicleRoute", "Visit", "VrpError", "VrpProblem", "VrpSolution",
    "check_solution", "load_stations", "read_distance_matrix", "solve_vrp",
]
