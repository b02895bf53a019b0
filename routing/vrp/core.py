"""Integer routing core on OR-Tools (pywrapcp), optionally seeded by PyVRP.

Everything here works on integer matrices in solver units (the caller scales): cost units,
time units and store units (Wh or g H2). The benchmark reader (:mod:`routing.vrp.vrplib_io`) and
the first/last-mile model (:mod:`routing.vrp.solve`) both build a :class:`CoreProblem`.

Engines (``VrpParams.engine``):

- ``"ortools"``: OR-Tools routing alone: a first solution (savings for CVRP, parallel cheapest
  insertion with time windows, pairs or stations), then guided local search; with stations,
  stops left out are re-inserted together with station detours and the search goes on.
- ``"pyvrp"``: PyVRP's iterated local search alone (plain problems only).
- ``"hybrid"`` (= ``"auto"``): PyVRP first, its routes read into OR-Tools as the first
  solution, guided local search for the rest. On a plain problem PyVRP gets ``pyvrp_share`` of
  the time and solves the problem itself; otherwise it gets ``pyvrp_share_relaxed`` on the
  :func:`relax` ation and OR-Tools starts from scratch if the seed breaks a rule of the full
  model.

*Plain* means nothing PyVRP cannot express: no energy store, no stations, no per-kg carry cost,
no vehicle restrictions (PyVRP sees each profile's arc cost as its distance).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from greenlane.emissions.errors import InputError

Matrix = np.ndarray
"""A square int64 matrix over nodes."""

ENGINES = ("auto", "hybrid", "ortools", "pyvrp", "evrptw")
BIG_CAPACITY = 2**40
"""Dimension bound used where a quantity is unconstrained [solver units]."""


@dataclass(frozen=True, slots=True)
class CoreStation:
    """A refill node: the store is filled to full; time = missing amount / rate.

    ``rate_per_h`` is in store units per hour; with ``fixed_time`` > 0 the refill takes that
    long whatever the level (a battery swap) [time units].
    """

    rate_per_h: int = 0
    fixed_time: int = 0


@dataclass(frozen=True, slots=True)
class CorePair:
    """A pickup-and-delivery pair: ``amount`` loaded at ``pickup``, unloaded at ``delivery``."""

    pickup: int
    delivery: int
    amount: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CoreVehicle:
    """One vehicle in solver units.

    ``profile`` indexes ``CoreProblem.arc_cost``/``travel_time``/``distance``; ``store_*``
    describe a battery or hydrogen tank (``store_capacity`` 0 = no range limit) whose
    consumption per arc is ``CoreProblem.consumption[consumption_profile]``; ``carry_profile``
    indexes ``CoreProblem.carry_cost`` (cost per carried mass unit per arc).
    """

    start: int
    end: int
    capacity: tuple[int, ...] = ()
    fixed_cost: int = 0
    profile: int = 0
    unit_time_cost: int = 0
    max_duration: int | None = None
    store_capacity: int = 0
    store_initial: int | None = None
    store_reserve: int = 0
    consumption_profile: int = 0
    carry_profile: int | None = None


@dataclass(frozen=True)
class CoreProblem:
    """A rich VRP in integer solver units.

    ``delivery``/``pickup`` are (nodes x dims) amounts loaded at / returned to the depot;
    ``penalty[i]`` is the drop cost of node ``i`` (``-1``: mandatory, depots ignored);
    ``carry_out[i]``/``carry_in[i]`` are the masses carried from the depot to ``i`` / from ``i``
    to the depot, priced by the vehicle's ``carry_cost`` matrix per mass unit.
    """

    vehicles: tuple[CoreVehicle, ...]
    arc_cost: tuple[Matrix, ...]
    distance: tuple[Matrix, ...] | None = None
    travel_time: tuple[Matrix, ...] | None = None
    service_time: np.ndarray | None = None
    time_windows: np.ndarray | None = None
    delivery: np.ndarray | None = None
    pickup: np.ndarray | None = None
    pairs: tuple[CorePair, ...] = ()
    penalty: np.ndarray | None = None
    allowed_vehicles: dict[int, tuple[int, ...]] = field(default_factory=dict)
    consumption: tuple[Matrix, ...] = ()
    stations: dict[int, CoreStation] = field(default_factory=dict)
    carry_cost: tuple[Matrix, ...] = ()
    carry_out: np.ndarray | None = None
    carry_in: np.ndarray | None = None
    names: tuple[str, ...] = ()
    time_units_per_h: int = 3600

    @property
    def num_nodes(self) -> int:
        """Number of nodes (depots, stops, station copies)."""
        return int(self.arc_cost[0].shape[0])

    @property
    def num_dims(self) -> int:
        """Number of load dimensions."""
        return 0 if self.delivery is None else int(self.delivery.shape[1])

    def depots(self) -> set[int]:
        """Nodes where some vehicle starts or ends."""
        return {v.start for v in self.vehicles} | {v.end for v in self.vehicles}

    def is_plain(self) -> bool:
        """True if PyVRP can express the problem exactly (see module docstring)."""
        return (
            not self.stations
            and not self.allowed_vehicles
            and not any(v.store_capacity for v in self.vehicles)
            and not any(v.carry_profile is not None for v in self.vehicles)
        )

    def dist(self, profile: int) -> Matrix:
        """Distance matrix of a profile (the arc cost when no distance is given)."""
        return self.arc_cost[profile] if self.distance is None else self.distance[profile]


@dataclass(frozen=True, slots=True)
class VrpParams:
    """Vehicle-routing search settings: engine, limits and tuning (the planner's CP-SAT
    settings are :class:`routing.planner.SolverParams`).

    ``time_limit_s`` bounds the wall time [s]; ``solution_limit`` (OR-Tools) and
    ``pyvrp_iterations`` make a run reproducible regardless of machine speed.
    """

    time_limit_s: float = 10.0
    seed: int = 0
    engine: str = "auto"
    solution_limit: int | None = None
    pyvrp_iterations: int | None = None
    pyvrp_share: float = 0.9
    pyvrp_share_relaxed: float = 0.4
    gls_lambda: float = 0.1
    first_solution: str | None = None
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    log: bool = False

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise InputError(f"unknown engine {self.engine!r}; use one of {ENGINES}", "engine")
        if self.time_limit_s <= 0:
            raise InputError("time limit must be > 0", field="time_limit_s")
        if not 0 <= self.pyvrp_share <= 1:
            raise InputError("pyvrp_share must lie in [0, 1]", field="pyvrp_share")


@dataclass(frozen=True, slots=True)
class CoreSolution:
    """Routes (node lists without the start/end depots) per vehicle index, and facts."""

    routes: dict[int, list[int]]
    objective: int
    dropped: tuple[int, ...]
    engine: str
    status: str
    wall_time_s: float
    stages: tuple[tuple[str, int, float], ...] = ()

    def used_vehicles(self) -> list[int]:
        """Vehicle indices with at least one visit."""
        return [v for v, r in self.routes.items() if r]


# --------------------------------------------------------------------------- OR-Tools model


@dataclass
class _Model:
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time_dim: pywrapcp.RoutingDimension | None
    has_tw: bool


def _as_lists(matrix: Matrix) -> list[list[int]]:
    return np.asarray(matrix, dtype=np.int64).tolist()


def _mandatory_penalty(problem: CoreProblem) -> int:
    """A drop cost larger than any route plan, kept far from int64 overflow."""
    worst = max(int(np.abs(m).max()) for m in problem.arc_cost) * (problem.num_nodes + 1)
    worst += sum(v.fixed_cost for v in problem.vehicles)
    return int(min(max(worst * 10, 10**6), 10**15))


def build_ortools(problem: CoreProblem) -> _Model:
    """Translate a CoreProblem into an OR-Tools RoutingModel (no Python callbacks)."""
    n, vehicles = problem.num_nodes, problem.vehicles
    manager = pywrapcp.RoutingIndexManager(
        n, len(vehicles), [v.start for v in vehicles], [v.end for v in vehicles]
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    depots = problem.depots()

    cost_cb = [routing.RegisterTransitMatrix(_as_lists(m)) for m in problem.arc_cost]
    for k, v in enumerate(vehicles):
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[v.profile], k)
        routing.SetFixedCostOfVehicle(int(v.fixed_cost), k)

    # Loads: with deliveries only, the load profile is the mirror of a pickup profile.
    dims = problem.num_dims
    mixed = False
    if dims:
        assert problem.delivery is not None and problem.pickup is not None
        has_del = bool(problem.delivery.any())
        has_pick = bool(problem.pickup.any()) or bool(problem.pairs)
        mixed = has_del and has_pick
        for d in range(dims):
            delta = problem.pickup[:, d] - (
                problem.delivery[:, d] if mixed else -problem.delivery[:, d]
            )
            delta = delta.astype(np.int64).copy()
            for pair in problem.pairs:
                delta[pair.pickup] += pair.amount[d]
                delta[pair.delivery] -= pair.amount[d]
            cb = routing.RegisterUnaryTransitVector([int(x) for x in delta])
            caps = [int(v.capacity[d]) for v in vehicles]
            routing.AddDimensionWithVehicleCapacity(cb, 0, caps, not mixed, f"load{d}")
            if mixed:
                load = routing.GetDimensionOrDie(f"load{d}")
                out = routing.RegisterUnaryTransitVector([int(x) for x in problem.delivery[:, d]])
                routing.AddDimensionWithVehicleCapacity(out, 0, caps, True, f"loaded{d}")
                loaded = routing.GetDimensionOrDie(f"loaded{d}")
                for k in range(len(vehicles)):
                    # goods for the route's deliveries are on board when it leaves the depot
                    solver.Add(load.CumulVar(routing.Start(k)) == loaded.CumulVar(routing.End(k)))

    # Time: transit = service at the tail + travel.
    time_dim = None
    has_tw = problem.time_windows is not None
    if problem.travel_time is not None:
        service = (
            problem.service_time
            if problem.service_time is not None
            else np.zeros(n, dtype=np.int64)
        )
        time_cb = [
            routing.RegisterTransitMatrix(_as_lists(t + service[:, None]))
            for t in problem.travel_time
        ]
        tw = problem.time_windows
        horizon = int(tw[:, 1].max()) if tw is not None else BIG_CAPACITY
        routing.AddDimensionWithVehicleTransits(
            [time_cb[v.profile] for v in vehicles], horizon, horizon, False, "time"
        )
        time_dim = routing.GetDimensionOrDie("time")
        if tw is not None:
            for node in range(n):
                if node in depots:
                    continue
                time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(
                    int(tw[node, 0]), int(tw[node, 1])
                )
            for k, v in enumerate(vehicles):
                time_dim.CumulVar(routing.Start(k)).SetRange(
                    int(tw[v.start, 0]), int(tw[v.start, 1])
                )
                time_dim.CumulVar(routing.End(k)).SetRange(int(tw[v.end, 0]), int(tw[v.end, 1]))
        for k, v in enumerate(vehicles):
            if v.unit_time_cost:
                time_dim.SetSpanCostCoefficientForVehicle(int(v.unit_time_cost), k)
            if v.max_duration is not None:
                time_dim.SetSpanUpperBoundForVehicle(int(v.max_duration), k)
            routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.Start(k)))
            routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(k)))

    _add_store(problem, routing, manager, time_dim)
    _add_carry(problem, routing, manager)

    # Pickup-and-delivery precedence.
    for pair in problem.pairs:
        p, d = manager.NodeToIndex(pair.pickup), manager.NodeToIndex(pair.delivery)
        routing.AddPickupAndDelivery(p, d)
        solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
        if time_dim is not None:
            solver.Add(time_dim.CumulVar(p) <= time_dim.CumulVar(d))

    # Vehicle restrictions (station copies per vehicle type, user restrictions).
    for node, allowed in problem.allowed_vehicles.items():
        banned = [k for k in range(len(vehicles)) if k not in set(allowed)]
        if banned:  # SetAllowedVehiclesForIndex's Span binding is broken in ortools 9.15
            routing.VehicleVar(manager.NodeToIndex(node)).RemoveValues(banned)

    # Optional nodes: drop penalties (mandatory stops get a huge one, so that a plan always
    # exists and an infeasible stop is reported instead of failing the whole solve).
    big = _mandatory_penalty(problem)
    paired = {p.pickup: p for p in problem.pairs} | {p.delivery: p for p in problem.pairs}
    done: set[int] = set()
    for node in range(n):
        if node in depots or node in done:
            continue
        pen = int(problem.penalty[node]) if problem.penalty is not None else -1
        if node in problem.stations:
            routing.AddDisjunction([manager.NodeToIndex(node)], 0)
            continue
        pen = big if pen < 0 else pen
        if node in paired:
            pair = paired[node]
            other = pair.delivery if node == pair.pickup else pair.pickup
            pen_other = int(problem.penalty[other]) if problem.penalty is not None else -1
            pen = max(pen, big if pen_other < 0 else pen_other)
            routing.AddDisjunction([manager.NodeToIndex(pair.pickup)], pen)
            routing.AddDisjunction([manager.NodeToIndex(pair.delivery)], pen)
            solver.Add(
                routing.ActiveVar(manager.NodeToIndex(pair.pickup))
                == routing.ActiveVar(manager.NodeToIndex(pair.delivery))
            )
            done.update((pair.pickup, pair.delivery))
            continue
        routing.AddDisjunction([manager.NodeToIndex(node)], pen)
    return _Model(manager, routing, time_dim, has_tw)


def _add_store(
    problem: CoreProblem,
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    time_dim: pywrapcp.RoutingDimension | None,
) -> None:
    """Battery / hydrogen level as a dimension: cumul = level, transit = -consumption.

    A station node adds slack (the refill) and its copy is restricted to one vehicle type, so
    refill-to-full is ``slack + level == capacity``; the time slack there covers the refill.
    """
    vehicles = problem.vehicles
    if not any(v.store_capacity for v in vehicles):
        return
    neg = [
        routing.RegisterTransitMatrix(_as_lists(-np.asarray(m, dtype=np.int64)))
        for m in problem.consumption
    ]
    zero = routing.RegisterTransitMatrix(_as_lists(np.zeros_like(problem.arc_cost[0])))
    cbs = [neg[v.consumption_profile] if v.store_capacity else zero for v in vehicles]
    caps = [int(v.store_capacity) if v.store_capacity else BIG_CAPACITY for v in vehicles]
    cap_max = max(caps)
    routing.AddDimensionWithVehicleTransitAndCapacity(cbs, cap_max, caps, False, "store")
    store = routing.GetDimensionOrDie("store")
    solver = routing.solver()
    for k, v in enumerate(vehicles):
        store.SlackVar(routing.Start(k)).SetValue(0)
        start = v.store_capacity if v.store_initial is None else v.store_initial
        if v.store_capacity:
            store.CumulVar(routing.Start(k)).SetValue(int(start))
            store.CumulVar(routing.End(k)).SetMin(int(v.store_reserve))
        else:
            store.CumulVar(routing.Start(k)).SetValue(BIG_CAPACITY)
    for node in range(problem.num_nodes):
        if node in problem.depots():
            continue
        idx = manager.NodeToIndex(node)
        station = problem.stations.get(node)
        if station is None:
            store.SlackVar(idx).SetValue(0)
            continue
        allowed = problem.allowed_vehicles.get(node, ())
        cap = {vehicles[k].store_capacity for k in allowed}
        if len(cap) != 1:
            raise InputError(
                "a station copy must be restricted to vehicles of one store size", field="stations"
            )
        full = int(cap.pop())
        active = routing.ActiveVar(idx)
        solver.Add(store.SlackVar(idx) + store.CumulVar(idx) == full * active)
        if time_dim is not None:
            if station.fixed_time:
                solver.Add(time_dim.SlackVar(idx) >= station.fixed_time * active)
            elif station.rate_per_h:
                solver.Add(
                    time_dim.SlackVar(idx) * station.rate_per_h
                    >= store.SlackVar(idx) * problem.time_units_per_h
                )


def _add_carry(
    problem: CoreProblem, routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager
) -> None:
    """Exact load-dependent arc cost for depot deliveries and depot pickups.

    ``carry_fwd`` accumulates the vehicle's per-mass-unit carry cost from the start: the cost
    of carrying ``m`` from the depot to stop ``i`` is ``m x cumul(i)`` (a soft upper bound 0
    with coefficient ``m``). ``carry_bwd`` is fixed to ``C`` at the end, so ``C - cumul(i)`` is
    the cost per mass unit from ``i`` back to the depot (a soft lower bound ``C``).
    """
    vehicles = problem.vehicles
    if not any(v.carry_profile is not None for v in vehicles):
        return
    mats = [routing.RegisterTransitMatrix(_as_lists(m)) for m in problem.carry_cost]
    zero = routing.RegisterTransitMatrix(_as_lists(np.zeros_like(problem.arc_cost[0])))
    cbs = [zero if v.carry_profile is None else mats[v.carry_profile] for v in vehicles]
    bound = (
        int(sum(int(np.asarray(m).max()) for m in problem.carry_cost) * (problem.num_nodes + 1)) + 1
    )
    depots = problem.depots()
    if problem.carry_out is not None and problem.carry_out.any():
        routing.AddDimensionWithVehicleTransits(cbs, 0, bound, True, "carry_fwd")
        fwd = routing.GetDimensionOrDie("carry_fwd")
        for node, mass in enumerate(problem.carry_out):
            if mass > 0 and node not in depots:
                fwd.SetCumulVarSoftUpperBound(manager.NodeToIndex(node), 0, int(mass))
    if problem.carry_in is not None and problem.carry_in.any():
        routing.AddDimensionWithVehicleTransits(cbs, 0, bound, False, "carry_bwd")
        bwd = routing.GetDimensionOrDie("carry_bwd")
        for k in range(len(vehicles)):
            bwd.CumulVar(routing.End(k)).SetValue(bound)
        for node, mass in enumerate(problem.carry_in):
            if mass > 0 and node not in depots:
                bwd.SetCumulVarSoftLowerBound(manager.NodeToIndex(node), bound, int(mass))


def _search_params(
    problem: CoreProblem, params: VrpParams, time_limit_s: float, model: _Model
) -> pywrapcp.RoutingSearchParameters:
    sp = pywrapcp.DefaultRoutingSearchParameters()
    fss = params.first_solution
    if fss is None:
        fss = (
            "PARALLEL_CHEAPEST_INSERTION"
            if (model.has_tw or problem.pairs or problem.stations)
            else "SAVINGS"
        )
    sp.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, fss)
    sp.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, params.metaheuristic
    )
    sp.guided_local_search_lambda_coefficient = params.gls_lambda
    secs = max(time_limit_s, 0.01)
    sp.time_limit.seconds = int(secs)
    sp.time_limit.nanos = int((secs - int(secs)) * 1e9)
    if params.solution_limit is not None:
        sp.solution_limit = int(params.solution_limit)
    sp.log_search = params.log
    return sp


def _routes_of(
    model: _Model, assignment: pywrapcp.Assignment, num_vehicles: int
) -> dict[int, list[int]]:
    routing, manager = model.routing, model.manager
    routes: dict[int, list[int]] = {}
    for k in range(num_vehicles):
        idx = routing.Start(k)
        nodes: list[int] = []
        idx = assignment.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            nodes.append(manager.IndexToNode(idx))
            idx = assignment.Value(routing.NextVar(idx))
        routes[k] = nodes
    return routes


_STATUS = {
    v: k.removeprefix("ROUTING_").lower()
    for k, v in routing_enums_pb2.RoutingSearchStatus.Value.items()
}


def _read_routes(
    model: _Model, routes: list[list[int]], partial: bool = True
) -> pywrapcp.Assignment | None:
    """Routes as an assignment; if the whole set breaks a rule and ``partial``, the routes
    that are feasible on their own (their other stops start unperformed)."""
    routing = model.routing
    start = routing.ReadAssignmentFromRoutes(routes, True)
    if start is not None or not partial:
        return start
    empty: list[list[int]] = [[] for _ in routes]
    kept = [
        r
        if r
        and routing.ReadAssignmentFromRoutes(
            [r if j == k else [] for j in range(len(routes))], True
        )
        is not None
        else []
        for k, r in enumerate(routes)
    ]
    return routing.ReadAssignmentFromRoutes(kept, True) if kept != empty else None


STATION_PHASE_SHARE = 0.5
"""Share of the OR-Tools time spent before station-aware repair on problems with stations."""
REPAIR_TRIES = 300
"""Feasibility checks per dropped stop in the station-aware repair."""


def _blocks(stop: int, copies: list[int]) -> list[tuple[int, ...]]:
    blocks: list[tuple[int, ...]] = [(stop,)]
    for s in copies:
        blocks += [(s, stop), (stop, s)]
    blocks += [(s, stop, t) for s in copies for t in copies if s != t]
    return blocks


def _insert_with_stations(
    problem: CoreProblem, model: _Model, routes: dict[int, list[int]], missing: list[int]
) -> dict[int, list[int]]:
    """Insert each missing stop together with station visits (before, after or around it),
    cheapest arc-cost first, keeping the first insertion OR-Tools accepts as feasible.

    Single-node insertion (all local search can do) cannot add a stop that is out of range
    without a detour to a station, which costs more than it saves until the stop is in.
    """
    nveh = len(problem.vehicles)
    used = {n for r in routes.values() for n in r}
    for stop in missing:
        allowed_stop = problem.allowed_vehicles.get(stop)
        candidates: list[tuple[int, int, int, tuple[int, ...]]] = []
        for k, v in enumerate(problem.vehicles):
            if allowed_stop is not None and k not in allowed_stop:
                continue
            copies = [
                s
                for s in problem.stations
                if s not in used and k in problem.allowed_vehicles.get(s, ())
            ]
            m = problem.arc_cost[v.profile]
            route = routes.get(k, [])
            path = [v.start, *route, v.end]
            extra = 0 if route else v.fixed_cost
            for i in range(len(path) - 1):
                a, b = path[i], path[i + 1]
                for block in _blocks(stop, copies):
                    seq = (a, *block, b)
                    delta = sum(int(m[x, y]) for x, y in pairwise(seq)) - int(m[a, b]) + extra
                    candidates.append((delta, k, i, block))
        candidates.sort()
        for _, k, i, block in candidates[:REPAIR_TRIES]:
            trial = dict(routes)
            trial[k] = [*routes.get(k, [])[:i], *block, *routes.get(k, [])[i:]]
            if (
                model.routing.ReadAssignmentFromRoutes(
                    [trial.get(j, []) for j in range(nveh)], True
                )
                is not None
            ):
                routes = trial
                used.update(block)
                break
    return routes


def solve_ortools(
    problem: CoreProblem,
    params: VrpParams,
    time_limit_s: float | None = None,
    initial: dict[int, list[int]] | None = None,
    partial_seed: bool = True,
) -> CoreSolution:
    """Solve with OR-Tools routing, optionally starting from ``initial`` routes.

    With stations, half the time goes to a first search; mandatory stops it leaves out are
    then inserted with station detours (:func:`_insert_with_stations`) and the search goes on.
    """
    t0 = time.perf_counter()
    limit = params.time_limit_s if time_limit_s is None else time_limit_s
    model = build_ortools(problem)
    routing = model.routing
    nveh = len(problem.vehicles)
    first = limit * STATION_PHASE_SHARE if problem.stations else limit
    sp = _search_params(problem, params, first, model)
    assignment = None
    if initial is not None:
        start = _read_routes(model, [initial.get(k, []) for k in range(nveh)], partial_seed)
        if start is not None:
            assignment = routing.SolveFromAssignmentWithParameters(start, sp)
    if assignment is None:
        assignment = routing.SolveWithParameters(sp)
    status = _STATUS.get(routing.status(), str(routing.status()))
    if assignment is not None and problem.stations:
        routes = _routes_of(model, assignment, nveh)
        served = {node for r in routes.values() for node in r}
        missing = [
            i
            for i in range(problem.num_nodes)
            if i not in served
            and i not in problem.depots()
            and i not in problem.stations
            and (problem.penalty is None or problem.penalty[i] < 0)
            and not any(i in (p.pickup, p.delivery) for p in problem.pairs)
        ]
        # a model that has been solved rejects most route reads: continue on a fresh one
        model2 = build_ortools(problem)
        if missing:
            routes = _insert_with_stations(problem, model2, routes, missing)
        rest = limit - (time.perf_counter() - t0)
        start = model2.routing.ReadAssignmentFromRoutes(
            [routes.get(k, []) for k in range(nveh)], True
        )
        if rest > 0.05 and start is not None:
            more = model2.routing.SolveFromAssignmentWithParameters(
                start, _search_params(problem, params, rest, model2)
            )
            if more is not None and more.ObjectiveValue() <= assignment.ObjectiveValue():
                model, assignment = model2, more
                status = _STATUS.get(model2.routing.status(), str(model2.routing.status()))
    wall = time.perf_counter() - t0
    if assignment is None:
        return CoreSolution({}, -1, (), "ortools", status, wall)
    routes = _routes_of(model, assignment, nveh)
    served = {node for r in routes.values() for node in r}
    dropped = tuple(
        i
        for i in range(problem.num_nodes)
        if i not in served and i not in problem.depots() and i not in problem.stations
    )
    return CoreSolution(routes, int(assignment.ObjectiveValue()), dropped, "ortools", status, wall)


# ------------------------------------------------------------------------------- PyVRP


def _pyvrp_data(
    problem: CoreProblem,
) -> tuple[Any, list[int], list[tuple[CoreVehicle, list[int]]], int, int]:
    """ProblemData of a plain CoreProblem; clients are the non-depot nodes in order."""
    import pyvrp

    n = problem.num_nodes
    depots = sorted(problem.depots())
    depot_pos = {node: i for i, node in enumerate(depots)}
    paired = {p.pickup for p in problem.pairs} | {p.delivery for p in problem.pairs}
    clients = [i for i in range(n) if i not in depot_pos and i not in paired]
    order = depots + clients + [i for i in range(n) if i in paired]
    tw = problem.time_windows
    svc = problem.service_time
    dims = problem.num_dims
    scale = _pyvrp_cost_divisor(problem)
    big = _mandatory_penalty(problem) // scale
    locs = [pyvrp.Location(0.0, 0.0, name=str(i)) for i in order]
    loc_of = {node: pos for pos, node in enumerate(order)}

    def tws(i: int) -> dict[str, Any]:
        if tw is None:
            return {}
        return {"tw_early": int(tw[i, 0]), "tw_late": int(tw[i, 1])}

    depot_objs = [pyvrp.Depot(loc_of[d], **tws(d)) for d in depots]
    delivery = problem.delivery if problem.delivery is not None else np.zeros((n, 0), int)
    pickup = problem.pickup if problem.pickup is not None else np.zeros((n, 0), int)
    client_objs = []
    for i in clients:
        pen = -1 if problem.penalty is None else int(problem.penalty[i])
        client_objs.append(
            pyvrp.Client(
                loc_of[i],
                delivery=[int(x) for x in delivery[i]] if dims else [],
                pickup=[int(x) for x in pickup[i]] if dims else [],
                service_duration=int(svc[i]) if svc is not None else 0,
                prize=0 if pen < 0 else pen // scale,
                required=pen < 0,
                **tws(i),
            )
        )
    shipments = []
    for p in problem.pairs:
        pen = -1 if problem.penalty is None else int(problem.penalty[p.pickup])
        extra: dict[str, Any] = {}
        if tw is not None:
            extra = {
                "pickup_tw_early": int(tw[p.pickup, 0]),
                "pickup_tw_late": int(tw[p.pickup, 1]),
                "delivery_tw_early": int(tw[p.delivery, 0]),
                "delivery_tw_late": int(tw[p.delivery, 1]),
            }
        shipments.append(
            pyvrp.Shipment(
                loc_of[p.pickup],
                loc_of[p.delivery],
                pickup_service_duration=int(svc[p.pickup]) if svc is not None else 0,
                delivery_service_duration=int(svc[p.delivery]) if svc is not None else 0,
                amount=list(p.amount),
                prize=0 if pen < 0 else min(pen // scale, big),
                required=pen < 0,
                **extra,
            )
        )
    # group identical vehicles into types
    types: list[tuple[CoreVehicle, list[int]]] = []
    for k, v in enumerate(problem.vehicles):
        for proto, members in types:
            if proto == v:
                members.append(k)
                break
        else:
            types.append((v, [k]))
    vtypes = []
    for proto, members in types:
        kw: dict[str, Any] = {}
        if proto.max_duration is not None:
            kw["shift_duration"] = int(proto.max_duration)
        if tw is not None:
            kw["tw_early"], kw["tw_late"] = int(tw[proto.start, 0]), int(tw[proto.end, 1])
        vtypes.append(
            pyvrp.VehicleType(
                len(members),
                capacity=list(proto.capacity) if dims else [],
                start_depot=depot_pos[proto.start],
                end_depot=depot_pos[proto.end],
                fixed_cost=int(proto.fixed_cost) // scale,
                unit_distance_cost=1,
                unit_duration_cost=round(proto.unit_time_cost / scale),
                profile=proto.profile,
                **kw,
            )
        )
    idx = np.asarray(order)
    dist = [
        np.ascontiguousarray(
            np.rint(np.asarray(m, dtype=np.int64)[np.ix_(idx, idx)] / scale).astype(np.int64)
        )
        for m in problem.arc_cost
    ]
    for m in dist:
        np.fill_diagonal(m, 0)
    if problem.travel_time is not None:
        dur = [
            np.ascontiguousarray(np.asarray(t, dtype=np.int64)[np.ix_(idx, idx)])
            for t in problem.travel_time
        ]
    else:
        dur = [np.zeros_like(d) for d in dist]
    data = pyvrp.ProblemData(locs, client_objs, depot_objs, vtypes, dist, dur, shipments=shipments)  # type: ignore[arg-type]
    return data, order, types, len(depots), scale


PYVRP_COST_SCALE = 10**6
"""Largest arc cost handed to PyVRP; bigger costs are divided by a power of ten so that its
penalties for load and time warp stay in proportion (its penalty bounds are absolute)."""


def _pyvrp_cost_divisor(problem: CoreProblem) -> int:
    worst = max(int(np.abs(m).max()) for m in problem.arc_cost)
    divisor = 1
    while worst / divisor > PYVRP_COST_SCALE:
        divisor *= 10
    return divisor


def solve_pyvrp(
    problem: CoreProblem, params: VrpParams, time_limit_s: float | None = None
) -> CoreSolution:
    """Solve a plain problem with PyVRP's iterated local search."""
    import pyvrp
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    if not problem.is_plain():
        raise InputError(
            "PyVRP cannot express this problem (range, stations, restrictions or "
            "load-dependent cost); use engine 'ortools'",
            field="engine",
        )
    t0 = time.perf_counter()
    limit = params.time_limit_s if time_limit_s is None else time_limit_s
    data, order, types, n_depots, scale = _pyvrp_data(problem)
    stop: Any = MaxRuntime(max(limit, 0.01))
    if params.pyvrp_iterations is not None:
        stop = MultipleCriteria([MaxIterations(params.pyvrp_iterations), stop])
    with warnings.catch_warnings():  # PyVRP warns when it struggles; the result says so
        warnings.simplefilter("ignore")
        result = pyvrp.solve(data, stop=stop, seed=params.seed, collect_stats=False)
    wall = time.perf_counter() - t0
    if not result.is_feasible():
        return CoreSolution({}, -1, (), "pyvrp", "infeasible", wall)
    routes: dict[int, list[int]] = {k: [] for k in range(len(problem.vehicles))}
    next_member = [0] * len(types)
    for route in result.best.routes():
        t = route.vehicle_type()
        k = types[t][1][next_member[t]]
        next_member[t] += 1
        nodes = []
        for act in route.schedule():
            if act.is_depot():
                continue
            if act.is_client():
                nodes.append(order[n_depots + act.idx])
            else:
                pair = problem.pairs[act.idx]
                nodes.append(pair.pickup if act.is_pickup() else pair.delivery)
        routes[k] = nodes
    served = {node for r in routes.values() for node in r}
    dropped = tuple(
        i for i in range(problem.num_nodes) if i not in served and i not in problem.depots()
    )
    return CoreSolution(routes, round(result.cost()) * scale, dropped, "pyvrp", "success", wall)


# ------------------------------------------------------------------------------- dispatcher


def solve_core(problem: CoreProblem, params: VrpParams | None = None) -> CoreSolution:
    """Solve with the engine of ``params`` (see the module docstring); never raises on a
    hard instance: an empty, ``status != success`` solution says no plan was found."""
    params = params or VrpParams()
    engine = params.engine
    if engine == "auto":
        engine = "hybrid"
    if engine == "ortools":
        return solve_ortools(problem, params)
    if engine == "pyvrp":
        return solve_pyvrp(problem, params)
    t0 = time.perf_counter()
    plain = problem.is_plain()
    share = params.pyvrp_share if plain else params.pyvrp_share_relaxed
    seed = solve_pyvrp(problem if plain else relax(problem), params, params.time_limit_s * share)
    rest = max(params.time_limit_s - (time.perf_counter() - t0), 0.05)
    polished = solve_ortools(problem, params, rest, seed.routes or None, partial_seed=plain)
    stages = (
        ("pyvrp" if plain else "pyvrp-relaxed", seed.objective, seed.wall_time_s),
        ("ortools", polished.objective, polished.wall_time_s),
    )
    best = polished
    if (
        plain
        and seed.objective >= 0
        and (polished.objective < 0 or seed.objective < polished.objective)
    ):
        best = seed  # only comparable when PyVRP solved the same problem
    wall = time.perf_counter() - t0
    return CoreSolution(
        best.routes, best.objective, best.dropped, "hybrid", best.status, wall, stages
    )


def relax(problem: CoreProblem) -> CoreProblem:
    """The plain problem PyVRP can solve: no range, stations (kept as optional nodes that are
    never worth visiting), carry cost or vehicle restrictions. Its routes seed OR-Tools, which
    rejects them if they break a dropped rule (then its own first solution is used)."""
    penalty = (
        problem.penalty.copy()
        if problem.penalty is not None
        else np.full(problem.num_nodes, -1, dtype=np.int64)
    )
    for node in problem.stations:
        penalty[node] = 0
    return replace(
        problem,
        stations={},
        allowed_vehicles={},
        consumption=(),
        carry_cost=(),
        carry_out=None,
        carry_in=None,
        penalty=penalty,
        vehicles=tuple(replace(v, store_capacity=0, carry_profile=None) for v in problem.vehicles),
    )


def route_cost(problem: CoreProblem, routes: dict[int, list[int]]) -> int:
    """Arc cost + fixed cost of routes (no time, carry or penalty terms) [cost units]."""
    total = 0
    for k, nodes in routes.items():
        if not nodes:
            continue
        v = problem.vehicles[k]
        m = problem.arc_cost[v.profile]
        path = [v.start, *nodes, v.end]
        total += int(sum(m[a, b] for a, b in pairwise(path)))
        total += v.fixed_cost
    return total
