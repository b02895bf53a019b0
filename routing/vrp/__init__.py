"""First/last-mile vehicle routing with range, charging and load-aware emissions.

``solve_vrp(problem, params)`` plans routes for a :class:`VrpProblem`; every plan it returns
has passed :func:`check_solution`. The integer core (:mod:`routing.vrp.core`) also solves
the standard benchmarks (:mod:`routing.vrp.vrplib_io`). Electric-vehicle routing with time windows
and partial recharging on the Schneider et al. (2014) instances: :mod:`routing.vrp.evrptw`
(reader, independent checker) and :mod:`routing.vrp.evrptw_search` (the search).
"""

from greenlane.routing.vrp.check import check_solution as check_solution
from greenlane.routing.vrp.core import VrpParams as VrpParams
from greenlane.routing.vrp.model import Depot as Depot
from greenlane.routing.vrp.model import DistanceMatrix as DistanceMatrix
from greenlane.routing.vrp.model import DroppedStop as DroppedStop
from greenlane.routing.vrp.model import FleetEntry as FleetEntry
from greenlane.routing.vrp.model import RouteArc as RouteArc
from greenlane.routing.vrp.model import Station as Station
from greenlane.routing.vrp.model import Stop as Stop
from greenlane.routing.vrp.model import VehicleRoute as VehicleRoute
from greenlane.routing.vrp.model import Visit as Visit
from greenlane.routing.vrp.model import VrpProblem as VrpProblem
from greenlane.routing.vrp.model import VrpSolution as VrpSolution
from greenlane.routing.vrp.model import load_stations as load_stations
from greenlane.routing.vrp.model import read_distance_matrix as read_distance_matrix
from greenlane.routing.vrp.solve import VrpError as VrpError
from greenlane.routing.vrp.solve import solve_vrp as solve_vrp

__all__ = [
    "Depot",
    "DistanceMatrix",
    "DroppedStop",
    "FleetEntry",
    "RouteArc",
    "Station",
    "Stop",
    "VehicleRoute",
    "Visit",
    "VrpError",
    "VrpParams",
    "VrpProblem",
    "VrpSolution",
    "check_solution",
    "load_stations",
    "read_distance_matrix",
    "solve_vrp",
]
