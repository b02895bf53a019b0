"""E-VRPTW instances (Schneider, Stenger and Goeke 2014) and an independent solution checker.

The format (one line per node: ``StringID Type x y demand ReadyTime DueDate ServiceTime``, type
``d`` depot, ``f`` recharging station, ``c`` customer; then the lines ``Q … /value/`` battery
capacity, ``C`` load capacity, ``r`` consumption per unit of distance, ``g`` time to recharge
one unit of energy, ``v`` velocity). Distances are Euclidean and unrounded; travel time is
distance / v; recharge time is g x energy recharged (partial recharging: any amount).

:func:`check_routes` decides, for each route given as StringIDs in visit order, whether some
recharge plan makes it feasible. It is independent of the search: the recharge amounts and
service start times of a route are the variables of a small linear program (GLOP), with
waiting allowed anywhere, so a route is accepted exactly when a feasible partial-recharge
plan exists (up to :data:`CHECK_TOLERANCE`).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from greenlane.emissions.errors import InputError

CHECK_TOLERANCE = 1e-6
"""Slack allowed on time windows, battery and load bounds in the checker [instance units]."""
_PARAM = re.compile(r"^\s*([QCrgv])\s.*/\s*([-+0-9.eE]+)\s*/\s*$")
_HEADER = "StringID"


def benchmark_dir(override: str | Path | None = None) -> Path:
    """E-VRPTW instances: ``override`` (the callers pass ``$GREENLANE_EVRPTW_DIR``) or
    ``<repo>/../shared/benchmarks/evrptw``."""
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "evrptw"


@dataclass(frozen=True)
class EvrptwInstance:
    """An E-VRPTW instance; node 0 is the depot, then stations, then customers (file order)."""

    name: str
    ids: tuple[str, ...]
    kinds: tuple[str, ...]
    """Per node: ``d`` depot, ``f`` station, ``c`` customer."""
    xy: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray
    battery: float
    """Q: battery capacity [energy units]."""
    capacity: float
    """C: load capacity [demand units]."""
    consumption: float
    """r: energy per unit of distance."""
    recharge_time: float
    """g: time per unit of energy recharged (inverse recharging rate)."""
    velocity: float
    """v: distance per unit of time."""
    dist: np.ndarray = field(repr=False, compare=False, default_factory=lambda: np.zeros((0, 0)))

    @property
    def customers(self) -> list[int]:
        """Node indices of the customers."""
        return [i for i, k in enumerate(self.kinds) if k == "c"]

    @property
    def stations(self) -> list[int]:
        """Node indices of the recharging stations (including the one on the depot)."""
        return [i for i, k in enumerate(self.kinds) if k == "f"]

    def index(self) -> dict[str, int]:
        """StringID -> node index."""
        return {s: i for i, s in enumerate(self.ids)}


def is_evrptw_file(path: str | Path) -> bool:
    """True when the file looks like a Schneider E-VRPTW instance (header and ``Q`` line)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return False
    head = text.lstrip().split(None, 2)
    has_q = any(_PARAM.match(line) and line.strip().startswith("Q") for line in text.splitlines())
    return bool(head) and head[0] == _HEADER and "Type" in head[1:2] and has_q


def read_evrptw(path: str | Path) -> EvrptwInstance:
    """Read a Schneider E-VRPTW ``.txt`` file; errors name the file and line."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a text file") from exc
    rows: list[tuple[str, str, float, float, float, float, float, float]] = []
    params: dict[str, float] = {}
    started = False
    for lineno, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        if parts[0] == _HEADER:
            started = True
            continue
        m = _PARAM.match(line)
        if m:
            params[m.group(1)] = float(m.group(2))
            continue
        if not started:
            raise InputError(f"{path}:{lineno}: expected the header line starting with StringID")
        if len(parts) != 8 or parts[1] not in ("d", "f", "c"):
            raise InputError(
                f"{path}:{lineno}: expected 'StringID Type(d/f/c) x y demand ReadyTime DueDate "
                f"ServiceTime', got {line.strip()!r}"
            )
        try:
            vals = [float(p) for p in parts[2:]]
        except ValueError as exc:
            raise InputError(f"{path}:{lineno}: non-numeric field ({exc})") from exc
        if not all(math.isfinite(v) for v in vals):
            raise InputError(f"{path}:{lineno}: non-finite number")
        if vals[2] < 0 or vals[4] < vals[3] or vals[5] < 0:
            raise InputError(
                f"{path}:{lineno}: demand and ServiceTime must be >= 0 and DueDate >= ReadyTime"
            )
        rows.append((parts[0], parts[1], *vals))  # type: ignore[arg-type]
    missing = [k for k in "QCrgv" if k not in params]
    if missing:
        raise InputError(f"{path}: missing parameter line(s) {', '.join(missing)}")
    if params["v"] <= 0 or params["Q"] <= 0 or params["C"] <= 0 or params["r"] < 0:
        raise InputError(f"{path}: Q, C and v must be > 0 and r >= 0")
    if params["g"] < 0:
        raise InputError(f"{path}: g must be >= 0")
    depots = [r for r in rows if r[1] == "d"]
    if len(depots) != 1:
        raise InputError(f"{path}: expected exactly one depot (type d), found {len(depots)}")
    ids = [r[0] for r in rows]
    if len(set(ids)) != len(ids):
        dup = sorted({s for s in ids if ids.count(s) > 1})
        raise InputError(f"{path}: duplicate StringID(s) {', '.join(dup)}")
    rows.sort(key=lambda r: {"d": 0, "f": 1, "c": 2}[r[1]])
    xy = np.array([[r[2], r[3]] for r in rows], dtype=float)
    diff = xy[:, None, :] - xy[None, :, :]
    return EvrptwInstance(
        name=path.stem,
        ids=tuple(r[0] for r in rows),
        kinds=tuple(r[1] for r in rows),
        xy=xy,
        demand=np.array([r[4] for r in rows], dtype=float),
        ready=np.array([r[5] for r in rows], dtype=float),
        due=np.array([r[6] for r in rows], dtype=float),
        service=np.array([r[7] for r in rows], dtype=float),
        battery=params["Q"],
        capacity=params["C"],
        consumption=params["r"],
        recharge_time=params["g"],
        velocity=params["v"],
        dist=np.sqrt((diff**2).sum(axis=2)),
    )


@dataclass
class RouteCheck:
    """Outcome of checking one route."""

    nodes: list[str]
    distance: float
    load: float
    violations: list[str]
    recharged: float = 0.0
    """Energy recharged by the feasible plan the checker found [energy units]."""


@dataclass
class SolutionCheck:
    """Outcome of :func:`check_routes`."""

    routes: list[RouteCheck]
    distance: float
    vehicles: int
    unserved: list[str]
    violations: list[str]

    @property
    def feasible(self) -> bool:
        """Every route feasible and no customer served twice or unknown."""
        return not self.violations

    @property
    def complete(self) -> bool:
        """Feasible and every customer served."""
        return self.feasible and not self.unserved


def _recharge_plan(inst: EvrptwInstance, seq: list[int]) -> tuple[float | None, str]:
    """Energy recharged by a feasible plan for route ``seq`` (depot..depot), or None and why.

    Linear program: service start ``T_i`` in its window, recharge ``x_i >= 0`` at stations,
    battery on arrival ``y_i >= 0`` with ``y_i + x_i <= Q`` and ``y_0 = Q``;
    ``T_{i+1} >= T_i + s_i + g x_i + d_{i,i+1} / v`` (waiting allowed). Minimises energy
    recharged, then nothing else: feasibility is what the checker decides.
    """
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("GLOP")
    eps = CHECK_TOLERANCE
    m = len(seq)
    t = [solver.NumVar(float(inst.ready[n]) - eps, float(inst.due[n]) + eps, "") for n in seq]
    y = [solver.NumVar(-eps, inst.battery + eps, "") for _ in seq]
    x = [
        solver.NumVar(0.0, inst.battery if inst.kinds[n] == "f" and 0 < i < m - 1 else 0.0, "")
        for i, n in enumerate(seq)
    ]
    solver.Add(y[0] == inst.battery)
    for i in range(m - 1):
        a, b = seq[i], seq[i + 1]
        d = float(inst.dist[a, b])
        solver.Add(y[i] + x[i] <= inst.battery + eps)
        solver.Add(y[i + 1] == y[i] + x[i] - inst.consumption * d)
        solver.Add(
            t[i + 1]
            >= t[i] + float(inst.service[a]) + inst.recharge_time * x[i] + d / inst.velocity
        )
    solver.Minimize(sum(x))
    status = solver.Solve()
    if status != pywraplp.Solver.OPTIMAL:
        return None, _why_infeasible(inst, seq)
    return float(solver.Objective().Value()), ""


def _why_infeasible(inst: EvrptwInstance, seq: list[int]) -> str:
    """Name what binds on an infeasible route: a station-free hop beyond the battery, a time
    window missed even without recharging, or the two together."""
    q = inst.battery
    energy_since_charge = 0.0
    for a, b in itertools.pairwise(seq):
        energy_since_charge += inst.consumption * float(inst.dist[a, b])
        if energy_since_charge > q + CHECK_TOLERANCE:
            return f"battery: {energy_since_charge:.2f} needed between charges before {inst.ids[b]}"
        if inst.kinds[b] == "f":
            energy_since_charge = 0.0
    time = 0.0
    for a, b in itertools.pairwise(seq):
        arrive = time + float(inst.service[a]) + float(inst.dist[a, b]) / inst.velocity
        time = max(arrive, float(inst.ready[b]))
        if time > float(inst.due[b]) + CHECK_TOLERANCE:
            return f"time window: {inst.ids[b]} reached at {time:.2f} > due {inst.due[b]:g}"
    return "time windows with the recharging time needed for the battery"


def check_routes(inst: EvrptwInstance, routes: list[list[str]]) -> SolutionCheck:
    """Check routes given as StringIDs in visit order (the depot at both ends may be omitted).

    Returns the distance (unrounded Euclidean sum), the vehicles used (non-empty routes), the
    customers not served and every violation found (unknown IDs, customers served twice, load,
    battery and time windows under the best partial-recharge plan).
    """
    index = inst.index()
    depot = inst.ids[0]
    violations: list[str] = []
    checked: list[RouteCheck] = []
    seen: dict[str, int] = {}
    for k, route in enumerate(routes):
        nodes = list(route)
        if not nodes or nodes[0] != depot:
            nodes.insert(0, depot)
        if nodes[-1] != depot or len(nodes) == 1:
            nodes.append(depot)
        unknown = [s for s in nodes if s not in index]
        if unknown:
            violations.append(f"route {k}: unknown StringID(s) {', '.join(unknown)}")
            continue
        seq = [index[s] for s in nodes]
        if any(inst.kinds[n] == "d" for n in seq[1:-1]):
            violations.append(f"route {k}: the depot {depot} inside the route (use a station)")
            continue
        if not any(inst.kinds[n] == "c" for n in seq):
            continue
        for s in nodes:
            if inst.kinds[index[s]] == "c":
                if s in seen:
                    violations.append(f"customer {s} served by routes {seen[s]} and {k}")
                seen[s] = k
        dist = float(sum(inst.dist[a, b] for a, b in itertools.pairwise(seq)))
        load = float(sum(inst.demand[n] for n in seq))
        rv: list[str] = []
        if load > inst.capacity + CHECK_TOLERANCE:
            rv.append(f"route {k}: load {load:g} > capacity {inst.capacity:g}")
        recharged, why = _recharge_plan(inst, seq)
        if recharged is None:
            rv.append(f"route {k}: {why}")
        violations.extend(rv)
        checked.append(RouteCheck(nodes, dist, load, rv, recharged or 0.0))
    unserved = [inst.ids[c] for c in inst.customers if inst.ids[c] not in seen]
    return SolutionCheck(
        routes=checked,
        distance=float(sum(r.distance for r in checked)),
        vehicles=len(checked),
        unserved=unserved,
        violations=violations,
    )


def parse_configuration(text: str) -> list[list[str]]:
    """Split a published route set ``D0;C1;…;D0;D0;…;D0`` into routes of StringIDs."""
    routes: list[list[str]] = []
    current: list[str] = []
    for tok in (t.strip() for t in text.split(";")):
        if not tok:
            continue
        current.append(tok)
        if len(current) > 1 and tok.startswith("D"):
            routes.append(current)
            current = []
    if current:
        routes.append(current)
    return routes
