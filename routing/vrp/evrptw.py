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
from typing import Any

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
    load_consumption: float = 0.0
    """Extra energy per unit of distance per demand unit on board (0: load-independent)."""
    collect: bool = False
    """True: demands are picked up (the load grows from 0); False: delivered from the depot."""
    station_recharge_time: tuple[float, ...] = ()
    """Per node: the station's own time per energy unit (its power limit; empty: ``g`` at
    every station). The vehicle's curve or ``g`` applies where it is slower."""
    max_duration: float = math.inf
    """Longest route from departure to return [time units] (a shift; inf: the depot window only)."""
    curve: tuple[tuple[float, float], ...] = ()
    """Optional piecewise-linear charging: segments ``(upper battery level, time per energy
    unit)`` in increasing level order, the last reaching ``battery``; the time per unit must
    not decrease with the level (charging slows as the battery fills: a concave curve)."""

    def __post_init__(self) -> None:
        if self.curve:
            validate_curve(self.curve, self.battery, "curve")
        if self.station_recharge_time and len(self.station_recharge_time) != len(self.ids):
            raise InputError("one station time per node", field="station_recharge_time")

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

    def charge_segments(self, station: int) -> list[tuple[float, float, float]]:
        """``(from level, to level, time per energy unit)`` of charging at ``station``, the
        slower of the vehicle (curve or ``g``) and the station on each segment."""
        own = self.station_recharge_time[station] if self.station_recharge_time else 0.0
        segs = self.curve or ((self.battery, self.recharge_time),)
        out: list[tuple[float, float, float]] = []
        lo = 0.0
        for hi, g in segs:
            out.append((lo, min(hi, self.battery), max(g, own)))
            lo = hi
            if lo >= self.battery:
                break
        return out

    def arc_energy(self, seq: list[int]) -> list[float]:
        """Energy of each arc of a depot-to-depot node sequence, with the load on board."""
        load = 0.0 if self.collect else float(sum(self.demand[n] for n in seq))
        out = []
        for a, b in itertools.pairwise(seq):
            out.append((self.consumption + self.load_consumption * load) * float(self.dist[a, b]))
            load += float(self.demand[b]) if self.collect else -float(self.demand[b])
        return out


def charge_hours(segments: list[tuple[float, float, float]], start: float, end: float) -> float:
    """Time to charge from level ``start`` to ``end`` over piecewise-linear ``segments``
    ``(from, to, time per energy unit)`` [instance time units]."""
    total = 0.0
    for lo, hi, g in segments:
        part = min(end, hi) - max(start, lo)
        if part > 0:
            total += g * part
    return total


def validate_curve(curve: tuple[tuple[float, float], ...], battery: float, where: str) -> None:
    """Raise InputError unless ``curve`` has increasing levels reaching ``battery`` and times
    per energy unit that are positive and do not decrease (a concave charging curve)."""
    prev_level, prev_g = 0.0, 0.0
    for k, (level, g) in enumerate(curve):
        if not (math.isfinite(level) and math.isfinite(g)) or level <= prev_level or g <= 0:
            raise InputError(
                "charging curve levels must increase and times per unit be > 0",
                field=f"{where}[{k}]",
            )
        if g < prev_g:
            raise InputError(
                "charging power must not rise with the battery level (concave curve)",
                field=f"{where}[{k}]",
            )
        prev_level, prev_g = level, g
    if curve and prev_level < battery - CHECK_TOLERANCE:
        raise InputError("the last curve segment must reach the full battery", field=where)


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
    recharges: list[float] = field(default_factory=list)
    """That plan's recharge at each node of ``nodes`` (0 except at stations)."""


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


def _recharge_plan(inst: EvrptwInstance, seq: list[int]) -> tuple[list[float] | None, str]:
    """Energy recharged at each node by a feasible plan for ``seq`` (depot..depot), or None
    and why.

    Linear charging (one rate per station): a linear program (GLOP) in the service starts
    ``T_i`` (within windows), recharges ``x_i >= 0`` at stations and battery levels on arrival
    ``y_i >= 0`` with ``y_i + x_i <= Q``, ``y_0 = Q``, ``y_{i+1} = y_i + x_i - e_i`` (``e_i``
    the arc energy at the load on board) and ``T_{i+1} >= T_i + s_i + tau_i + d_i / v``
    (waiting allowed), ``tau_i = g_i x_i``. Piecewise-linear charging ``Phi`` (time to charge
    from empty; convex, because power falls as the battery fills) gives ``tau_i = Phi(y_i +
    x_i) - Phi(y_i)``. The departure level is split over the segments freely (``tau_i`` only
    has to be at least the split's time, and the cheapest split is ``Phi`` itself), which is
    exact and linear; ``Phi(y_i)`` is linear once the segment holding the arrival level is
    fixed, so one LP is solved per combination of arrival segments at the route's station
    visits (exact; 2 segments and 3 visits are 8 LPs). Minimises energy recharged:
    feasibility is what the checker decides.
    """
    m = len(seq)
    segs = {
        i: inst.charge_segments(n)
        for i, n in enumerate(seq)
        if inst.kinds[n] == "f" and 0 < i < m - 1
    }
    curved = [i for i, sg in segs.items() if len(sg) > 1]
    best: list[float] | None = None
    for choice in itertools.product(*(range(len(segs[i])) for i in curved)):
        plan = _recharge_lp(inst, seq, segs, dict(zip(curved, choice, strict=True)))
        if plan is not None and (best is None or sum(plan) < sum(best) - CHECK_TOLERANCE):
            best = plan
    if best is None:
        return None, _why_infeasible(inst, seq)
    return best, ""


def _recharge_lp(
    inst: EvrptwInstance,
    seq: list[int],
    segs: dict[int, list[tuple[float, float, float]]],
    arrival_segment: dict[int, int],
) -> list[float] | None:
    """The LP of :func:`_recharge_plan` with each curved visit's arrival segment fixed."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("GLOP")
    eps = CHECK_TOLERANCE
    m = len(seq)
    energy = inst.arc_energy(seq)
    t = [solver.NumVar(float(inst.ready[n]) - eps, float(inst.due[n]) + eps, "") for n in seq]
    y = [solver.NumVar(-eps, inst.battery + eps, "") for _ in seq]
    x = [solver.NumVar(0.0, inst.battery if i in segs else 0.0, "") for i in range(m)]
    tau: list[Any] = [0.0] * m
    for i, sg in segs.items():
        if len(sg) == 1:
            tau[i] = sg[0][2] * x[i]
            continue
        k = arrival_segment[i]
        lo, hi, g = sg[k]
        solver.Add(y[i] >= lo - eps)
        solver.Add(y[i] <= hi + eps)
        phi_arrival = sum(g_j * (hi_j - lo_j) for lo_j, hi_j, g_j in sg[:k]) + g * (y[i] - lo)
        dep = [solver.NumVar(0.0, hi_j - lo_j, "") for lo_j, hi_j, _ in sg]
        solver.Add(sum(dep) >= y[i] + x[i] - eps)
        tau[i] = sum(g_j * d for (_, _, g_j), d in zip(sg, dep, strict=True)) - phi_arrival
    solver.Add(y[0] == inst.battery)
    for i in range(m - 1):
        a, b = seq[i], seq[i + 1]
        d = float(inst.dist[a, b])
        solver.Add(y[i] + x[i] <= inst.battery + eps)
        solver.Add(y[i + 1] == y[i] + x[i] - energy[i])
        solver.Add(t[i + 1] >= t[i] + float(inst.service[a]) + tau[i] + d / inst.velocity)
    if math.isfinite(inst.max_duration):
        solver.Add(t[m - 1] - t[0] <= inst.max_duration + eps)
    solver.Minimize(sum(x))
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    return [float(v.solution_value()) for v in x]


def _why_infeasible(inst: EvrptwInstance, seq: list[int]) -> str:
    """Name what binds on an infeasible route: a station-free hop beyond the battery, a time
    window missed even without recharging, or the two together."""
    q = inst.battery
    energy_since_charge = 0.0
    for (_a, b), e in zip(itertools.pairwise(seq), inst.arc_energy(seq), strict=True):
        energy_since_charge += e
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
    if math.isfinite(inst.max_duration):
        return "time windows and route duration with the recharging time needed for the battery"
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
        plan, why = _recharge_plan(inst, seq)
        if plan is None:
            rv.append(f"route {k}: {why}")
        violations.extend(rv)
        checked.append(RouteCheck(nodes, dist, load, rv, sum(plan or ()), plan or []))
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
