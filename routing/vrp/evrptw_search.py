"""Adaptive large-neighbourhood search for the E-VRPTW with partial recharging.

The search works on customer sequences; each route's stations are chosen by a fixed-route
station-insertion step (:class:`RouteEvaluator`): a depth-limited search that inserts a station
before the first arc the battery cannot reach, trying the stations with the smallest detour on
each arc since the last charge (any station, the one on the depot included, any number of times,
by any vehicle). Recharging is partial: a vehicle takes just the energy it needs to reach the
next charging point (or, as a second try, fills up), recharge time = g x energy, or the
piecewise-linear charging curve of the instance. Arc energy counts the load on board when the
instance makes consumption load-dependent. Evaluations are cached per customer sequence.

Phases (objective ``"vehicles"``: vehicles first, then distance):

1. construction: greedy insertion, opening a route when no existing route can take a customer;
2. route minimisation: remove a route, put its customers into a pool and run destroy/repair
   iterations with the fleet capped until the pool is empty (one vehicle less) or the phase's
   time share is spent;
3. distance: destroy/repair with simulated-annealing acceptance at the fleet size reached.

With objective ``"distance"`` phase 2 is skipped and new routes cost nothing extra.
Deterministic for a given seed and iteration count; with a time limit the iteration count
depends on the machine.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any

from greenlane.routing.vrp.evrptw import EvrptwInstance, charge_hours, check_routes

EPS = 1e-7
"""Numerical slack on time windows and battery in the search [instance units]."""
STATION_CANDIDATES = 4
"""Stations tried per arc when inserting a charging stop (smallest detour first) [-]."""
STATION_DEPTH = 4
"""Most charging stops the station-insertion step adds to one route [-]."""
INSERT_TRUE_EVALS = 10
"""Insertion positions evaluated with stations per customer (best station-free delta first)."""
INSERT_FULL_EVALS = 1
INSERT_LOCAL_FIXES = 2
"""Insertion positions per customer where a charging stop may be added to the route."""
"""Of those, positions whose stations are re-planned from scratch (the rest keep theirs)."""
LOCAL_STATION_DEPTH = 2
"""Charging stops added to a route's existing ones when an insertion runs the battery out."""
BRANCHING = (6, 3, 2, 2)
"""Station placements tried at each depth of the station-insertion search [-]."""
PYVRP_SCALE = 1000
"""Solver units per distance unit in the PyVRP seed [-]."""
SEED_SHARE = 0.1
"""Share of the time limit given to the PyVRP seed [-]."""
SEED_CHARGE_SHARE = 0.3
"""Share of the recharge time of a route's energy added to its travel times in the seed [-]."""
Q_MAX = 16
"""Most customers removed by one destroy step [-]."""
OBJECTIVES = ("vehicles", "distance")


@dataclass
class Route:
    """A route: customers in order, the path with stations, its distance and TW arrays."""

    seq: tuple[int, ...]
    path: list[int]
    dist: float
    load: float
    es: list[float] = field(default_factory=list)
    """Earliest service start on the station-free path [0, *seq, 0]."""
    ls: list[float] = field(default_factory=list)
    """Latest service start on the station-free path keeping the rest feasible."""
    pos: list[int] = field(default_factory=list)
    """Index in ``path`` of each customer of ``seq``."""


class RouteEvaluator:
    """Fixed-route evaluation: feasibility, stations and distance of a customer sequence."""

    def __init__(self, inst: EvrptwInstance) -> None:
        self.inst = inst
        n = len(inst.ids)
        self.n = n
        self.D = inst.dist.tolist()
        self.T = (inst.dist / inst.velocity).tolist()
        self.ready = inst.ready.tolist()
        self.due = inst.due.tolist()
        self.service = inst.service.tolist()
        self.demand = inst.demand.tolist()
        self.is_station = [k == "f" for k in inst.kinds]
        self.stations = inst.stations
        self.Q = inst.battery
        self.r = inst.consumption
        self.g = inst.recharge_time
        self.max_duration = inst.max_duration
        self.r_load = inst.load_consumption
        self.collect = inst.collect
        # per station: one time per energy unit (linear charging) or curve segments
        self.g_at = [inst.recharge_time] * n
        self.segs_at: list[list[tuple[float, float, float]] | None] = [None] * n
        for s in inst.stations:
            segs = inst.charge_segments(s)
            if len(segs) == 1:
                self.g_at[s] = segs[0][2]
            else:
                self.segs_at[s] = segs
        self.C = inst.capacity
        self._arc_stations: dict[int, list[int]] = {}
        self.cache: dict[tuple[int, ...], tuple[float, list[int]] | None] = {}

    def arc_stations(self, a: int, b: int) -> list[int]:
        """Stations by detour on arc a->b (excluding a and b themselves)."""
        key = a * self.n + b
        got = self._arc_stations.get(key)
        if got is None:
            D = self.D
            base = D[a][b]
            cands = sorted(
                (D[a][s] + D[s][b] - base, s) for s in self.stations if s != a and s != b
            )
            got = [s for _, s in cands[:STATION_CANDIDATES]]
            self._arc_stations[key] = got
        return got

    def simulate(self, path: list[int], full: bool = False) -> tuple[int, int]:
        """Simulate ``path`` (depot..depot). Returns (0, -1) when feasible, (1, i) when the
        battery runs out on arc i (path[i] -> path[i+1]), (2, i) when a time window fails at
        path[i+1]. Recharging takes the energy needed to reach the next charging point
        (``full=False``) or fills up, capped at the energy the rest of the route needs
        (``full=True``: charging early can move charging time into later waiting time)."""
        D, T, r, Q = self.D, self.T, self.r, self.Q
        is_st = self.is_station
        m = len(path)
        if self.r_load:
            E = self.arc_energy(path)
        else:
            E = [r * D[path[i]][path[i + 1]] for i in range(m - 1)]
        need = [0.0] * m
        acc = 0.0
        total = 0.0
        for i in range(m - 2, -1, -1):
            e = E[i]
            acc += e
            total += e
            if is_st[path[i]] and i > 0:
                need[i] = total if full else acc
                acc = 0.0
        t = self.ready[path[0]]
        b = Q
        wait = 0.0
        push = math.inf
        ready, due, service = self.ready, self.due, self.service
        for i in range(m - 1):
            a = path[i]
            nxt = path[i + 1]
            if i > 0 and is_st[a]:
                target = need[i] if need[i] < Q else Q
                if target > b:
                    segs = self.segs_at[a]
                    t += (
                        self.g_at[a] * (target - b)
                        if segs is None
                        else charge_hours(segs, b, target)
                    )
                    b = target
            t += service[a] + T[a][nxt]
            b -= E[i]
            if b < -EPS:
                return 1, i
            if t < ready[nxt]:
                wait += ready[nxt] - t
                t = ready[nxt]
            elif t > due[nxt] + EPS:
                return 2, i
            if due[nxt] - t + wait < push:
                push = due[nxt] - t + wait
        # shift: leaving later absorbs waiting (as long as no window is missed)
        if t - self.ready[path[0]] - min(wait, push) > self.max_duration + EPS:
            return 2, m - 2
        return 0, -1

    def arc_energy(self, path: list[int]) -> list[float]:
        """Energy of each arc of ``path`` at the load on board."""
        D, r, k, demand = self.D, self.r, self.r_load, self.demand
        load = 0.0 if self.collect else sum(demand[n] for n in path)
        sign = 1.0 if self.collect else -1.0
        out = []
        for i in range(len(path) - 1):
            a, b = path[i], path[i + 1]
            out.append((r + k * load) * D[a][b])
            load += sign * demand[b]
        return out

    def path_dist(self, path: list[int]) -> float:
        D = self.D
        return sum(D[path[i]][path[i + 1]] for i in range(len(path) - 1))

    def feasible_path(self, path: list[int]) -> bool:
        return self.simulate(path)[0] == 0 or self.simulate(path, full=True)[0] == 0

    def evaluate(self, seq: tuple[int, ...]) -> tuple[float, list[int]] | None:
        """(distance, path with stations) of the customer sequence, or None if infeasible."""
        got = self.cache.get(seq, False)
        if got is not False:
            return got  # type: ignore[return-value]
        res = self._evaluate(seq)
        self.cache[seq] = res
        return res

    def _evaluate(self, seq: tuple[int, ...]) -> tuple[float, list[int]] | None:
        demand = self.demand
        if sum(demand[c] for c in seq) > self.C + EPS:
            return None
        path = [0, *seq, 0]
        # Time windows without recharging are necessary (stations only add time).
        T, ready, due, service = self.T, self.ready, self.due, self.service
        t = ready[0]
        for i in range(len(path) - 1):
            a, b = path[i], path[i + 1]
            t = max(t + service[a] + T[a][b], ready[b])
            if t > due[b] + EPS:
                return None
        best = self._insert_stations(path, STATION_DEPTH)
        if best is None:
            return None
        best = self._drop_stations(best)
        return self.path_dist(best), best

    def _drop_stations(self, path: list[int]) -> list[int]:
        """Remove stations the route does not need (largest saving first)."""
        D = self.D
        while True:
            options = sorted(
                (
                    D[path[i - 1]][path[i + 1]] - D[path[i - 1]][path[i]] - D[path[i]][path[i + 1]],
                    i,
                )
                for i in range(1, len(path) - 1)
                if self.is_station[path[i]]
            )
            for _, i in options:
                shorter = path[:i] + path[i + 1 :]
                if self.feasible_path(shorter):
                    path = shorter
                    break
            else:
                return path

    def _insert_stations(self, path: list[int], depth: int, level: int = 0) -> list[int] | None:
        kind, fail = self.simulate(path)
        if kind == 0:
            return path
        if kind == 2:
            # a missed window: filling up earlier may move charging time into waiting time
            return path if self.simulate(path, full=True)[0] == 0 else None
        if depth == 0:
            return None
        last = 0
        for i in range(fail, 0, -1):
            if self.is_station[path[i]]:
                last = i
                break
        D = self.D
        cands: list[tuple[float, int, int]] = []
        for gap in range(last, fail + 1):
            a, b = path[gap], path[gap + 1]
            base = D[a][b]
            for s in self.arc_stations(a, b):
                # a station on the depot or on another station charges nothing new
                if (D[a][s] < EPS and (a == 0 or self.is_station[a])) or (
                    D[s][b] < EPS and (gap + 1 == len(path) - 1 or self.is_station[b])
                ):
                    continue
                cands.append((D[a][s] + D[s][b] - base, gap, s))
        cands.sort()
        width = BRANCHING[min(level, len(BRANCHING) - 1)]
        enough = 2 if level == 0 else 1
        found: list[tuple[float, list[int]]] = []
        tried = 0
        rQ = self.Q / self.r if self.r > 0 else math.inf
        for _, gap, s in cands:
            if tried >= width or len(found) >= enough:
                break
            newp = [*path[: gap + 1], s, *path[gap + 1 :]]
            # the leg from the last charge to the new station must be reachable
            if sum(D[newp[i]][newp[i + 1]] for i in range(last, gap + 1)) > rQ + EPS:
                continue
            tried += 1
            res = self._insert_stations(newp, depth - 1, level + 1)
            if res is not None:
                found.append((self.path_dist(res), res))
        if not found:
            return None
        return min(found, key=lambda x: x[0])[1]

    def make_route(
        self, seq: tuple[int, ...], known: tuple[float, list[int]] | None = None
    ) -> Route:
        """A :class:`Route` for a feasible sequence (evaluated unless ``known``)."""
        res = known if known is not None else self.evaluate(seq)
        assert res is not None
        P = [0, *seq, 0]
        T, ready, due, service = self.T, self.ready, self.due, self.service
        es = [ready[0]] * len(P)
        for i in range(1, len(P)):
            es[i] = max(es[i - 1] + service[P[i - 1]] + T[P[i - 1]][P[i]], ready[P[i]])
        ls = [due[0]] * len(P)
        for i in range(len(P) - 2, -1, -1):
            ls[i] = min(due[P[i]], ls[i + 1] - T[P[i]][P[i + 1]] - service[P[i]])
        pos = [i for i, n in enumerate(res[1]) if not self.is_station[n] and n != 0]
        return Route(seq, res[1], res[0], sum(self.demand[c] for c in seq), es, ls, pos)


@dataclass
class EvrptwResult:
    """Routes as StringIDs (stations included), distance, vehicles, unserved, status."""

    instance: str
    routes: list[list[str]]
    distance: float
    vehicles: int
    unserved: list[str]
    status: str
    reason: str
    violations: list[str]
    runtime_s: float
    iterations: int

    def to_dict(self) -> dict[str, object]:
        return {
            "instance": self.instance,
            "format": "evrptw",
            "status": self.status,
            "reason": self.reason,
            "distance": round(self.distance, 4),
            "vehicles": self.vehicles,
            "unserved": self.unserved,
            "routes": self.routes,
            "violations": self.violations,
            "runtime_s": round(self.runtime_s, 2),
            "iterations": self.iterations,
        }


class _Search:
    def __init__(
        self,
        inst: EvrptwInstance,
        seed: int,
        objective: str,
        max_vehicles: int,
    ) -> None:
        self.inst = inst
        self.ev = RouteEvaluator(inst)
        self.rng = random.Random(seed)
        self.objective = objective
        self.max_vehicles = max_vehicles
        self.customers = inst.customers
        D = self.ev.D
        maxd = max(max(row) for row in D)
        self.pool_penalty = 10.0 * maxd
        self.vehicle_cost = 0.0
        # neighbours for related removal: distance + time-window centre distance
        self.related: dict[int, list[int]] = {}
        for c in self.customers:
            mid = 0.5 * (self.ev.ready[c] + self.ev.due[c])
            self.related[c] = sorted(
                (o for o in self.customers if o != c),
                key=lambda o: D[c][o] + 0.1 * abs(0.5 * (self.ev.ready[o] + self.ev.due[o]) - mid),
            )
        self.iterations = 0

    # --- solution helpers -------------------------------------------------------------
    def cost(self, routes: list[Route], pool: list[int]) -> float:
        return (
            sum(r.dist for r in routes)
            + self.vehicle_cost * len(routes)
            + self.pool_penalty * len(pool)
        )

    def best_insertion(self, routes: list[Route], c: int) -> tuple[float, int, tuple, object]:
        """(delta, route index, new seq, evaluation) of the cheapest feasible insertion of c
        into an existing route; route index -1 when none."""
        ev = self.ev
        D, T, ready, due, service, demand = ev.D, ev.T, ev.ready, ev.due, ev.service, ev.demand
        C = ev.C
        rc, dc, sc, dem = ready[c], due[c], service[c], demand[c]
        cands: list[tuple[float, int, int]] = []
        for ri, r in enumerate(routes):
            if r.load + dem > C + EPS:
                continue
            seq = r.seq
            es, ls = r.es, r.ls
            P_prev = 0
            for p in range(len(seq) + 1):
                a = P_prev
                b = seq[p] if p < len(seq) else 0
                tc = es[p] + service[a] + T[a][c]
                if tc < rc:
                    tc = rc
                if tc <= dc + EPS:
                    tb = tc + sc + T[c][b]
                    if tb < ready[b]:
                        tb = ready[b]
                    if tb <= ls[p + 1] + EPS:
                        cands.append((D[a][c] + D[c][b] - D[a][b], ri, p))
                P_prev = b
        if not cands:
            return math.inf, -1, (), None
        cands.sort()
        best: tuple[float, int, tuple, object] = (math.inf, -1, (), None)
        tried = full_evals = fixes = 0
        for approx, ri, p in cands:
            if tried >= INSERT_TRUE_EVALS or approx >= best[0] - EPS:
                break
            tried += 1
            r = routes[ri]
            seq = (*r.seq[:p], c, *r.seq[p:])
            res: Any = ev.cache.get(seq, False)  # (dist, path[, fixed]), None or False (unknown)
            if res is False:
                res = self._path_insert(r, p, c, fixes < INSERT_LOCAL_FIXES)
                if res is not None and res[2]:
                    fixes += 1
                if res is None:
                    if full_evals >= INSERT_FULL_EVALS:
                        continue
                    full_evals += 1
                    res = ev.evaluate(seq)
            if res is None:
                continue
            delta = res[0] - r.dist
            if delta < best[0]:
                best = (delta, ri, seq, res)
        return best

    def _path_insert(
        self, r: Route, p: int, c: int, may_fix: bool
    ) -> tuple[float, list[int], bool] | None:
        """Insert c into the route's path keeping its stations (after the predecessor, else
        before the successor when stations sit between them); ``may_fix``: add a charging stop
        where the battery runs out. Returns (distance, path, whether a stop was added)."""
        ev = self.ev
        D = ev.D
        path = r.path
        first = r.pos[p - 1] + 1 if p > 0 else 1
        last = r.pos[p] if p < len(r.seq) else len(path) - 1
        fixed: list[int] | None = None
        for k in (first, last) if last != first else (first,):
            a, b = path[k - 1], path[k]
            newp = [*path[:k], c, *path[k:]]
            kind = ev.simulate(newp)[0]
            if kind == 0 or ev.simulate(newp, full=True)[0] == 0:
                return r.dist + D[a][c] + D[c][b] - D[a][b], newp, False
            if kind == 1 and fixed is None and may_fix:
                # one more charging stop near where the battery runs out
                fixed = ev._insert_stations(newp, LOCAL_STATION_DEPTH)
        if fixed is None:
            return None
        return ev.path_dist(fixed), fixed, True

    def repair(
        self, routes: list[Route], pool: list[int], todo: list[int], allow_new: bool
    ) -> list[int]:
        """Insert ``todo`` customers greedily (order as given); returns the new pool."""
        ev = self.ev
        rng = self.rng
        for c in todo:
            delta, ri, seq, res = self.best_insertion(routes, c)
            if rng.random() < 0.02:
                delta, ri = math.inf, -1
            new_cost = math.inf
            alone = None
            if allow_new and len(routes) < self.max_vehicles:
                alone = ev.evaluate((c,))
                if alone is not None:
                    new_cost = alone[0] + self.vehicle_cost
            if ri >= 0 and delta <= new_cost:
                routes[ri] = ev.make_route(seq, res)  # type: ignore[arg-type]
            elif alone is not None and new_cost < math.inf:
                routes.append(ev.make_route((c,), alone))
            elif ri >= 0:
                routes[ri] = ev.make_route(seq, res)  # type: ignore[arg-type]
            else:
                pool.append(c)
        return pool

    def remove(self, routes: list[Route], gone: set[int]) -> list[Route]:
        """Routes without the customers in ``gone`` (empty routes dropped)."""
        ev = self.ev
        out: list[Route] = []
        for r in routes:
            if not gone.intersection(r.seq):
                out.append(r)
                continue
            seq = tuple(c for c in r.seq if c not in gone)
            if not seq:
                continue
            res: Any = ev.cache.get(seq, False)
            if res is None or res is False:
                # removing customers keeps the stations feasible (shorter legs, earlier times)
                path = [n for n in r.path if n not in gone]
                if ev.feasible_path(path):
                    path = ev._drop_stations(path)
                else:  # pragma: no cover - defensive
                    path, seq = r.path, r.seq
                res = (ev.path_dist(path), path)
            out.append(ev.make_route(seq, res))
        return out

    # --- destroy operators ------------------------------------------------------------
    def destroy(self, routes: list[Route], q: int) -> tuple[list[Route], list[int]]:
        rng = self.rng
        op = rng.random()
        served = [c for r in routes for c in r.seq]
        if not served:
            return routes, []
        q = min(q, len(served))
        if op < 0.3:
            seed = rng.choice(served)
            in_sol = set(served)
            gone = [seed, *[o for o in self.related[seed] if o in in_sol][: q - 1]]
        elif op < 0.5:
            gone = rng.sample(served, q)
        elif op < 0.7:
            ev = self.ev
            D = ev.D
            sav: list[tuple[float, int]] = []
            for r in routes:
                P = [0, *r.seq, 0]
                for i in range(1, len(P) - 1):
                    a, c, b = P[i - 1], P[i], P[i + 1]
                    sav.append((D[a][c] + D[c][b] - D[a][b], c))
            sav.sort(reverse=True)
            gone = []
            for _, c in sav:
                if len(gone) >= q:
                    break
                if rng.random() < 0.8:
                    gone.append(c)
        elif op < 0.9:
            # string removal around a seed: a few consecutive customers in neighbouring routes
            seed = rng.choice(served)
            where = {c: ri for ri, r in enumerate(routes) for c in r.seq}
            gone = []
            touched: set[int] = set()
            for o in [seed, *self.related[seed]]:
                if len(gone) >= q:
                    break
                ri = where.get(o)
                if ri is None or ri in touched:
                    continue
                touched.add(ri)
                seq = routes[ri].seq
                length = min(len(seq), rng.randint(1, max(1, min(10, q - len(gone)))))
                pos = seq.index(o)
                start = max(0, min(pos - rng.randint(0, length - 1), len(seq) - length))
                gone.extend(seq[start : start + length])
        else:
            order = sorted(range(len(routes)), key=lambda i: len(routes[i].seq))
            ri = order[min(len(order) - 1, int(rng.random() ** 2 * len(order)))]
            gone = list(routes[ri].seq)
        gs = set(gone)
        return self.remove(routes, gs), list(gs)

    def order(self, todo: list[int]) -> list[int]:
        rng = self.rng
        ev = self.ev
        op = rng.random()
        if op < 0.4:
            rng.shuffle(todo)
        elif op < 0.6:
            todo.sort(key=lambda c: ev.due[c] - ev.ready[c])
        elif op < 0.8:
            todo.sort(key=lambda c: -ev.demand[c])
        else:
            todo.sort(key=lambda c: -ev.D[0][c])
        return todo

    # --- phases -----------------------------------------------------------------------
    def construct(self) -> tuple[list[Route], list[int]]:
        todo = sorted(self.customers, key=lambda c: (self.ev.ready[c], -self.ev.D[0][c]))
        routes: list[Route] = []
        pool = self.repair(routes, [], todo, allow_new=True)
        return routes, pool

    def pyvrp_seed(
        self, time_limit_s: float, seed: int, charge_share: float
    ) -> tuple[list[Route], list[int]]:
        """Routes from PyVRP on the VRPTW without batteries (travel times inflated by
        ``charge_share`` x the recharge time of the energy they use) and the customers set
        aside where the station insertion finds no charging plan."""
        import numpy as np

        from greenlane.routing.vrp.core import CoreProblem, CoreVehicle, VrpParams, solve_pyvrp

        inst = self.inst
        nodes = [0, *self.customers]
        scale = PYVRP_SCALE
        d = inst.dist[np.ix_(nodes, nodes)]
        per_unit = 1.0 / inst.velocity + charge_share * inst.recharge_time * inst.consumption
        travel = np.ceil(d * per_unit * scale - 1e-9).astype(np.int64)
        tw = np.rint(np.stack([inst.ready[nodes], inst.due[nodes]], axis=1) * scale)
        cap = round(inst.capacity * scale)
        problem = CoreProblem(
            vehicles=tuple(
                CoreVehicle(start=0, end=0, capacity=(cap,)) for _ in range(len(nodes) - 1)
            ),
            arc_cost=(np.rint(d * scale).astype(np.int64),),
            travel_time=(travel,),
            service_time=np.rint(inst.service[nodes] * scale).astype(np.int64),
            time_windows=tw.astype(np.int64),
            delivery=np.rint(inst.demand[nodes] * scale).astype(np.int64).reshape(-1, 1),
            pickup=np.zeros((len(nodes), 1), dtype=np.int64),
        )
        sol = solve_pyvrp(problem, VrpParams(time_limit_s=time_limit_s, seed=seed))
        routes: list[Route] = []
        ev = self.ev
        aside: list[int] = []
        for r in sol.routes.values():
            part: tuple[int, ...] = ()
            for c in (nodes[i] for i in r):
                if ev.evaluate((*part, c)) is not None:
                    part = (*part, c)
                else:
                    aside.append(c)
            if part:
                routes.append(ev.make_route(part))
        return routes, aside

    def lns(
        self,
        routes: list[Route],
        pool: list[int],
        deadline: float,
        allow_new: bool,
        stop_when_pool_empty: bool = False,
        max_iters: int | None = None,
    ) -> tuple[list[Route], list[int]]:
        """Destroy/repair with simulated annealing; returns the best (routes, pool) seen."""
        rng = self.rng
        cur, cur_pool = list(routes), list(pool)
        cur_cost = self.cost(cur, cur_pool)
        best, best_pool, best_cost = list(cur), list(cur_pool), cur_cost
        start = time.monotonic()
        span = max(deadline - start, 1e-3)
        base = sum(r.dist for r in routes) or 1.0
        t0 = 0.01 * base / math.log(2)
        ncust = len(self.customers)
        it = 0
        while time.monotonic() < deadline and (max_iters is None or it < max_iters):
            it += 1
            self.iterations += 1
            frac = (time.monotonic() - start) / span
            temp = t0 * (0.01**frac)
            q = rng.randint(max(2, ncust // 50), max(3, min(Q_MAX, ncust // 6)))
            cand, removed = self.destroy(cur, q)
            cand_pool = list(cur_pool)
            todo = self.order(removed + cand_pool)
            cand_pool = self.repair(cand, [], todo, allow_new)
            c_cost = self.cost(cand, cand_pool)
            if c_cost < cur_cost - EPS or rng.random() < math.exp(
                -(c_cost - cur_cost) / max(temp, 1e-9)
            ):
                cur, cur_pool, cur_cost = cand, cand_pool, c_cost
                if c_cost < best_cost - EPS:
                    best, best_pool, best_cost = list(cand), list(cand_pool), c_cost
                    if stop_when_pool_empty and not cand_pool:
                        break
        return best, best_pool

    def minimise_routes(
        self, routes: list[Route], deadline: float
    ) -> tuple[list[Route], list[int]]:
        """Drop one route at a time while the pool can be emptied before ``deadline``."""
        best = routes
        lb = math.ceil(sum(self.ev.demand[c] for c in self.customers) / self.ev.C - EPS)
        while len(best) > max(1, lb) and time.monotonic() < deadline:
            order = sorted(range(len(best)), key=lambda i: len(best[i].seq))
            ri = order[0] if self.rng.random() < 0.7 else self.rng.choice(order[:3])
            pool = list(best[ri].seq)
            cur = [r for i, r in enumerate(best) if i != ri]
            pool = self.repair(cur, [], self.order(pool), allow_new=False)
            if pool:
                cur, pool = self.lns(
                    cur, pool, deadline, allow_new=False, stop_when_pool_empty=True
                )
            if pool:
                # the failed attempt's routes, with the pool on new routes, may be shorter
                self.max_vehicles = len(best)
                rest = self.repair(cur, [], self.order(pool), allow_new=True)
                shorter = sum(r.dist for r in cur) < sum(r.dist for r in best) - EPS
                if not rest and len(cur) <= len(best) and shorter:
                    best = cur
                break
            best = cur
        return best, []


def _unserved_reason(
    ev: RouteEvaluator, inst: EvrptwInstance, unserved: list[int], fleet_full: bool
) -> str:
    """What binds for the unserved customers: only causes that hold are named."""
    causes: list[str] = []
    unlimited: RouteEvaluator | None = None
    for c in unserved:
        cid = inst.ids[c]
        if ev.demand[c] > ev.C + EPS:
            causes.append(f"{cid}: capacity (demand {ev.demand[c]:g} > {ev.C:g})")
            continue
        t = max(ev.T[0][c], ev.ready[c])
        if t > ev.due[c] + EPS or t + ev.service[c] + ev.T[c][0] > ev.due[0] + EPS:
            causes.append(f"{cid}: time window (unreachable from the depot in time)")
            continue
        if ev.evaluate((c,)) is None:
            if unlimited is None:
                unlimited = RouteEvaluator(replace(inst, battery=math.inf, curve=()))
            if unlimited.simulate([0, c, 0])[0] != 0:
                causes.append(f"{cid}: route duration (longer than the shift even alone)")
            else:
                causes.append(f"{cid}: battery (no station plan reaches it and returns in time)")
            continue
        causes.append(
            f"{cid}: fleet size (every vehicle of the fleet is in use)"
            if fleet_full
            else f"{cid}: not inserted by the search within the time limit"
        )
    return "; ".join(causes)


def solve_evrptw(
    inst: EvrptwInstance,
    time_limit_s: float = 30.0,
    seed: int = 0,
    objective: str = "vehicles",
    max_vehicles: int | None = None,
    iterations: int | None = None,
) -> EvrptwResult:
    """Solve an E-VRPTW instance; every returned solution has passed :func:`check_routes`.

    ``objective``: ``"vehicles"`` (fewest vehicles, then distance) or ``"distance"``.
    ``max_vehicles``: fleet size (default: one vehicle per customer, i.e. unlimited).
    ``iterations``: cap on destroy/repair iterations of the distance phase (reproducible).
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    start = time.monotonic()
    deadline = start + time_limit_s
    fleet = max_vehicles if max_vehicles is not None else len(inst.customers)
    s = _Search(inst, seed, objective, fleet)
    routes, pool = s.construct()
    if time_limit_s * SEED_SHARE >= 0.5:
        seeded, aside = s.pyvrp_seed(time_limit_s * SEED_SHARE, seed, SEED_CHARGE_SHARE)
        rest = s.repair(seeded, [], aside, allow_new=True)
        shorter = sum(r.dist for r in seeded) < sum(r.dist for r in routes)
        if len(rest) <= len(pool) and shorter:
            routes, pool = seeded, rest
    if objective == "vehicles":
        s.vehicle_cost = 0.0
        routes, _ = s.minimise_routes(routes, start + 0.5 * time_limit_s)
        s.max_vehicles = len(routes)
        routes, pool = s.lns(routes, pool, deadline, allow_new=False, max_iters=iterations)
    else:
        routes, pool = s.lns(routes, pool, deadline, allow_new=True, max_iters=iterations)
    ids = inst.ids
    out = [[ids[n] for n in r.path] for r in routes if r.seq]
    chk = check_routes(inst, out)
    unserved = [inst.index()[u] for u in chk.unserved]
    if chk.violations:
        status, reason = "infeasible", "; ".join(chk.violations)
    elif unserved:
        status = "partial"
        reason = _unserved_reason(s.ev, inst, unserved, len(out) >= fleet)
    else:
        status, reason = "success", ""
    return EvrptwResult(
        instance=inst.name,
        routes=out,
        distance=chk.distance,
        vehicles=chk.vehicles,
        unserved=chk.unserved,
        status=status,
        reason=reason,
        violations=chk.violations,
        runtime_s=time.monotonic() - start,
        iterations=s.iterations,
    )
