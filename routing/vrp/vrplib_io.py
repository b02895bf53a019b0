"""Read VRPLIB (CVRPLIB X, G&H VRPTW) and Solomon benchmark instances; score routes.

Distance conventions (``rounding``):

- ``"nint"``: Euclidean rounded to the nearest integer (CVRPLIB X, TSPLIB ``EUC_2D``);
- ``"exact"``: Euclidean, unrounded (Solomon and VRPTW by default); the solver works on
  distances x :data:`EXACT_SCALE` (cost rounded, travel times rounded up, so a route feasible
  for the solver is feasible in exact arithmetic); totals are reported to 2 decimals;
- ``"explicit"``: the instance's own ``EDGE_WEIGHT_SECTION``.

:func:`dimacs_cost` re-scores routes in the DIMACS convention (each arc truncated to one
decimal), the convention of the CVRPLIB distance-only VRPTW best-knowns in ``bks.csv``.
Routes are lists of node indices, depot 0, as in VRPLIB ``.sol`` files.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from greenlane.emissions.errors import InputError
from greenlane.routing.vrp.core import CoreProblem, CoreVehicle, VrpParams, solve_core

EXACT_SCALE = 1000
"""Solver units per distance unit for unrounded Euclidean instances [-]."""
DIMACS_DECIMALS = 1
"""Decimals kept per arc in the DIMACS VRPTW convention [-]."""
CVRP_FLEET_SLACK = 0.1
"""Extra vehicles beyond ceil(demand / capacity) offered on unlimited-fleet CVRPs [-]."""
ROUNDINGS = ("nint", "exact", "explicit")


def benchmark_dir() -> Path:
    """``<repo>/../shared/benchmarks/vrp``, where CI and developers keep the instances."""
    return Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "vrp"


@dataclass(frozen=True)
class BenchmarkInstance:
    """A CVRP or VRPTW benchmark instance; node 0 is the depot."""

    name: str
    path: Path
    kind: str
    rounding: str
    capacity: int
    demand: np.ndarray
    coords: np.ndarray | None
    explicit: np.ndarray | None
    num_vehicles: int
    time_windows: np.ndarray | None = None
    service_time: np.ndarray | None = None

    @property
    def num_nodes(self) -> int:
        """Nodes including the depot."""
        return int(self.demand.shape[0])

    def distances(self) -> np.ndarray:
        """Distance matrix in the instance's convention [float]."""
        if self.rounding == "explicit":
            assert self.explicit is not None
            return self.explicit.astype(float)
        assert self.coords is not None
        diff = self.coords[:, None, :] - self.coords[None, :, :]
        exact = np.sqrt((diff.astype(float) ** 2).sum(axis=2))
        return np.floor(exact + 0.5) if self.rounding == "nint" else exact

    def scale(self) -> int:
        """Solver units per distance unit."""
        return EXACT_SCALE if self.rounding == "exact" else 1


def read_instance(path: str | Path, rounding: str | None = None) -> BenchmarkInstance:
    """Read a Solomon ``.txt`` or VRPLIB ``.vrp`` file.

    ``rounding`` defaults to ``"exact"`` for time-window instances, ``"nint"`` for
    ``EUC_2D`` CVRPs and ``"explicit"`` for instances with an edge-weight section.
    """
    import vrplib

    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such instance file: {path}", field="instance")
    fmt = "solomon" if path.suffix.lower() == ".txt" else "vrplib"
    try:
        raw = vrplib.read_instance(str(path), instance_format=fmt, compute_edge_weights=False)
    except Exception as exc:  # vrplib raises bare ValueErrors/IndexErrors on bad files
        raise InputError(f"cannot read {fmt} instance: {exc}", field="instance") from None
    demand = np.asarray(raw["demand"], dtype=np.int64)
    n = demand.shape[0]
    depots = np.atleast_1d(raw.get("depot", [0]))
    if len(depots) != 1 or int(depots[0]) != 0:
        raise InputError(
            "only single-depot instances with the depot first are supported", field="instance"
        )
    tw = raw.get("time_window")
    service = raw.get("service_time")
    if service is not None and np.ndim(service) == 0:
        service = np.full(n, float(service))
        service[0] = 0.0
    kind = "vrptw" if tw is not None else "cvrp"
    explicit = raw.get("edge_weight") if raw.get("edge_weight_type") == "EXPLICIT" else None
    if rounding is None:
        rounding = "explicit" if explicit is not None else ("exact" if kind == "vrptw" else "nint")
    if rounding not in ROUNDINGS:
        raise InputError(f"unknown rounding {rounding!r}; use one of {ROUNDINGS}", "rounding")
    if rounding == "explicit" and explicit is None:
        raise InputError("the instance has no explicit edge weights", field="rounding")
    capacity = int(np.atleast_1d(raw["capacity"])[0])
    vehicles = raw.get("vehicles")
    if vehicles is None:
        k_min = math.ceil(int(demand.sum()) / capacity)
        vehicles = k_min + max(2, math.ceil(CVRP_FLEET_SLACK * k_min))
    coords = raw.get("node_coord")
    return BenchmarkInstance(
        name=str(raw.get("name", path.stem)).strip(),
        path=path,
        kind=kind,
        rounding=rounding,
        capacity=capacity,
        demand=demand,
        coords=None if coords is None else np.asarray(coords, dtype=float),
        explicit=None if explicit is None else np.asarray(explicit, dtype=float),
        num_vehicles=int(vehicles),
        time_windows=None if tw is None else np.asarray(tw, dtype=float),
        service_time=None if service is None else np.asarray(service, dtype=float),
    )


def to_core(inst: BenchmarkInstance) -> CoreProblem:
    """The instance as a CoreProblem in solver units (distance x :meth:`scale`)."""
    scale = inst.scale()
    dist = inst.distances() * scale
    cost = np.rint(dist).astype(np.int64)
    vehicles = tuple(
        CoreVehicle(start=0, end=0, capacity=(inst.capacity,)) for _ in range(inst.num_vehicles)
    )
    delivery = inst.demand.reshape(-1, 1).astype(np.int64)
    travel = tw = service = None
    if inst.time_windows is not None:
        # travel times rounded up: solver-feasible implies feasible in exact arithmetic
        travel = (np.ceil(dist - 1e-9).astype(np.int64),)
        tw = np.rint(inst.time_windows * scale).astype(np.int64)
        svc = inst.service_time if inst.service_time is not None else np.zeros(inst.num_nodes)
        service = np.rint(svc * scale).astype(np.int64)
    return CoreProblem(
        vehicles=vehicles,
        arc_cost=(cost,),
        travel_time=travel,
        service_time=service,
        time_windows=tw,
        delivery=delivery,
        pickup=np.zeros_like(delivery),
    )


def _arcs(routes: list[list[int]]) -> list[tuple[int, int]]:
    arcs: list[tuple[int, int]] = []
    for route in routes:
        path = [0, *route, 0]
        arcs.extend(pairwise(path))
    return arcs


def route_distance(inst: BenchmarkInstance, routes: list[list[int]]) -> float:
    """Total distance of routes in the instance's convention."""
    d = inst.distances()
    return float(sum(d[a, b] for a, b in _arcs([r for r in routes if r])))


def dimacs_cost(inst: BenchmarkInstance, routes: list[list[int]]) -> float:
    """Total distance with each Euclidean arc truncated to one decimal (DIMACS VRPTW)."""
    if inst.coords is None:
        return route_distance(inst, routes)
    diff = inst.coords[:, None, :] - inst.coords[None, :, :]
    exact = np.sqrt((diff**2).sum(axis=2))
    unit = 10**DIMACS_DECIMALS
    trunc = np.floor(exact * unit + 1e-9) / unit
    return round(
        float(sum(trunc[a, b] for a, b in _arcs([r for r in routes if r]))), DIMACS_DECIMALS
    )


def check_routes(inst: BenchmarkInstance, routes: list[list[int]]) -> list[str]:
    """Violations of routes in exact arithmetic: coverage, fleet, capacity, time windows."""
    issues: list[str] = []
    seen = [c for r in routes for c in r]
    missing = set(range(1, inst.num_nodes)) - set(seen)
    if missing:
        issues.append(f"{len(missing)} customers not served, e.g. {sorted(missing)[:5]}")
    if len(seen) != len(set(seen)):
        issues.append("a customer is served twice")
    if any(c <= 0 or c >= inst.num_nodes for c in seen):
        issues.append("route names a node that is not a customer")
        return issues
    used = [r for r in routes if r]
    if len(used) > inst.num_vehicles:
        issues.append(f"{len(used)} routes > {inst.num_vehicles} vehicles")
    dist = inst.distances()
    for i, route in enumerate(used):
        load = int(inst.demand[route].sum())
        if load > inst.capacity:
            issues.append(f"route {i}: load {load} > capacity {inst.capacity}")
        if inst.time_windows is None:
            continue
        tw = inst.time_windows
        svc = inst.service_time if inst.service_time is not None else np.zeros(inst.num_nodes)
        t, prev = tw[0, 0], 0
        for c in [*route, 0]:
            t = max(t + svc[prev] + dist[prev, c], tw[c, 0])
            if t > tw[c, 1] + 1e-6:
                where = "depot" if c == 0 else f"customer {c}"
                issues.append(f"route {i}: {where} reached at {t:.3f} > {tw[c, 1]:g}")
                break
            prev = c
    return issues


@dataclass(frozen=True, slots=True)
class BestKnown:
    """A best-known solution value and its convention (see the benchmark README)."""

    cost: float
    routes: int | None
    convention: str
    source: str


def best_known(path: str | Path, table: Path | None = None) -> BestKnown | None:
    """Best-known value of an instance from ``bks.csv`` (matched by path, then by name)."""
    path = Path(path).resolve()
    table = table or benchmark_dir() / "bks.csv"
    if not table.is_file():
        return None
    with open(table, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_stem = None
    for row in rows:
        candidate = (table.parent / row["instance"]).resolve()
        if candidate == path:
            by_stem = row
            break
        if by_stem is None and Path(row["instance"]).name == path.name:
            by_stem = row
    if by_stem is None:
        return None
    routes = by_stem.get("bks_routes") or ""
    return BestKnown(
        float(by_stem["bks_cost"]),
        int(routes) if routes.strip() else None,
        by_stem.get("convention", ""),
        by_stem.get("source", ""),
    )


@dataclass(frozen=True)
class BenchmarkResult:
    """Routes of a benchmark instance with their scores in the instance's convention."""

    instance: str
    rounding: str
    routes: list[list[int]]
    distance: float
    vehicles: int
    dimacs_distance: float | None
    best_known: BestKnown | None
    engine: str
    wall_time_s: float
    stages: tuple[tuple[str, int, float], ...]
    violations: list[str]

    @property
    def gap_pct(self) -> float | None:
        """Gap to the best-known, scored in the best-known's convention [%]."""
        if self.best_known is None:
            return None
        value = self.distance
        if self.best_known.convention == "dimacs" and self.dimacs_distance is not None:
            value = self.dimacs_distance
        return (value / self.best_known.cost - 1.0) * 100.0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (distance to 2 decimals)."""
        bks = self.best_known
        return {
            "instance": self.instance,
            "rounding": self.rounding,
            "distance": round(self.distance, 2),
            "vehicles": self.vehicles,
            "dimacs_distance": self.dimacs_distance,
            "best_known": None
            if bks is None
            else {"cost": bks.cost, "routes": bks.routes, "convention": bks.convention},
            "gap_pct": None if self.gap_pct is None else round(self.gap_pct, 3),
            "engine": self.engine,
            "wall_time_s": round(self.wall_time_s, 2),
            "stages": [
                {"engine": e, "objective": o, "wall_time_s": round(t, 2)} for e, o, t in self.stages
            ],
            "violations": self.violations,
            "routes": self.routes,
        }


def solve_benchmark(
    path: str | Path, params: VrpParams | None = None, rounding: str | None = None
) -> BenchmarkResult:
    """Read, solve with the greenlane core, check and score one benchmark instance."""
    inst = read_instance(path, rounding)
    sol = solve_core(to_core(inst), params or VrpParams())
    routes = [r for _, r in sorted(sol.routes.items()) if r]
    if not routes and inst.num_nodes > 1:
        violations = [f"no solution ({sol.status})"]
    else:
        violations = check_routes(inst, routes)
    return BenchmarkResult(
        instance=inst.name,
        rounding=inst.rounding,
        routes=routes,
        distance=route_distance(inst, routes),
        vehicles=len(routes),
        dimacs_distance=dimacs_cost(inst, routes) if inst.rounding == "exact" else None,
        best_known=best_known(inst.path),
        engine=sol.engine,
        wall_time_s=sol.wall_time_s,
        stages=sol.stages,
        violations=violations,
    )
