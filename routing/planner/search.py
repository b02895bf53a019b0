"""LP-guided large neighbourhood search: the planner's engine for big books.

CP-SAT proves small books optimal, but on thousands of shipments its presolve alone eats
the time limit and it rarely finds a good first plan. For those the planner solves the same
model (``routing.planner.model_data.ModelData``: same candidates, same integer cost and CO2e
coefficients, same capacities and truck groups) in four steps, all on OR-Tools:

1. **Bound**: the LP relaxation (HiGHS through pywraplp) of the strong formulation. Its value
   is a valid lower bound, so every plan reports a proven gap. When the full LP does not fit
   the time, a capacity-aware greedy plan (``Search.greedy``) is built first and the LP is
   solved by column generation (``routing.planner.colgen``: GLOP over each shipment's few
   cheapest columns and the greedy's, priced with its duals); its bound is the Lagrangian
   bound of the last duals, valid even when it stops before the LP value.
2. **Start**: each shipment takes its largest LP column; departures over capacity and side
   limits (CO2e cap, intensity cap) are repaired greedily; known plans (the hint, earlier
   points of a sweep, the greedy plan) compete as starts.
3. **Local search**: single-shipment moves with exact deltas (trucks are whole: a move that
   empties a truck saves it, one that overfills a truck pays another).
4. **LNS**: a neighbourhood of related shipments (sharing truck departures or scheduled
   departures) is freed, the rest fixed, and the sub-model is solved exactly by CP-SAT
   (one worker, a deterministic-time limit); improvements are kept. It stops at the time
   limit, at the requested relative gap, or after many neighbourhoods without improvement.

Columns that can never beat another column of the same shipment are pruned first: column j
goes if some column k of the shipment costs, even with its own trucks, no more than j costs
with free trucks, uses no scheduled departure j does not use, and (under side limits) adds
no more to each limit. An optimal plan never needs a pruned column, so the bound stays valid.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from greenlane.routing.planner import colgen
from greenlane.routing.planner.exact import Limits, LinearModel, Objective
from greenlane.routing.planner.model_data import ModelData

Choice = list[int | None]
"""A plan as a column per shipment (None: unserved)."""

SUB_DETERMINISTIC_S = 0.1
"""Deterministic-time limit of one neighbourhood solve [CP-SAT deterministic seconds]."""
FIRST_NEIGHBOURHOOD = 8
"""Shipments freed by the first neighbourhood of a book larger than MAX_NEIGHBOURHOOD;
adapted between 8 and MAX_NEIGHBOURHOOD."""
MAX_NEIGHBOURHOOD = 40
SUB_PARAMETERS: dict[str, int | bool] = {
    "linearization_level": 2,
    "cp_model_probing_level": 0,
    "symmetry_level": 0,
}
"""CP-SAT parameters of a neighbourhood solve (small models: no probing, no symmetry)."""
IDLE_ROUNDS = 4.0
"""Stop after this many rounds (neighbourhoods covering the book once) without improvement."""
LP_SHARE = 0.6
"""Largest share of the time left that the LP relaxation (build + solve) may take [-]."""
LP_S_PER_COLUMN = 0.8e-4
"""Prior for the LP's build + solve time per allowed column [s] (measured 0.7-0.9e-4 s of
CPU at 1 000 and 10 000 shipments), used until an LP has run on the model."""
COLGEN_SHARE = 0.9
"""Largest share of the time left that the greedy start and the LP by column generation
(when the full LP does not fit LP_SHARE) may take [-]: a rounded LP start is worth more
than local search from the greedy plan (1,000-shipment benchmark book: the start after two
rounds is 28.7 M CNY, after one 37-38 M, the greedy plan 45.7 M; local search gains
0.2-3 M in the few tenths of a second left)."""
START_GRACE_S = 0.2
"""Time a start may take past the deadline when no plan exists yet [s]."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Best plan found, its objective and the LP bound [objective units]."""

    choice: Choice
    objective: float
    bound: float
    status: str
    wall_s: float
    lp_s: float
    iterations: int
    improved: int
    timed_out: bool = False
    """The deadline stopped the search (not the gap, convergence or a deterministic limit)."""
    lp_kind: str = "none"
    """How the LP ran: "full" (every allowed column, HiGHS), "columns" (column generation
    stopped by the time: its bound is a Lagrangian bound from the last duals), "columns
    (full LP value)" (column generation until no column priced out), or "none"."""


IMPROVE_ABS = 0.5
"""Smallest change of the objective that counts as an improvement [objective units: fen, or
g CO2e for the greenest plan]. An absolute tolerance: a relative one of 1e-6 on a
1,000-shipment partition (1.4e11 fen) ignored gains below 1,411 CNY, so the search counted
rounds that still improved as idle and stopped 1,400-3,500 CNY above the optimum."""


def _tol(obj: float) -> float:
    """Tolerance of an objective comparison: IMPROVE_ABS, or float noise on huge values."""
    return max(IMPROVE_ABS, 1e-12 * abs(obj))


def _trucks(load: int, payload: int) -> int:
    return -(-load // payload)


class Search:
    """The search over one model for one objective and one set of side limits."""

    def __init__(
        self,
        data: ModelData,
        objective: Objective,
        limits: Limits,
        seed: int = 0,
        workers: int = 1,
        deadline: float | None = None,
    ):
        """``deadline`` [time.perf_counter() s]: pruning stops there (the remaining
        shipments keep all their columns)."""
        self.data, self.weights, self.limits, self.seed = data, objective, limits, seed
        self.workers = max(1, workers)
        w = objective
        d = data
        self.c = [
            w.cost * d.cost_fen[j] + w.late * d.late_fen[j] + w.co2 * d.co2_g[j]
            for j in range(len(d.cols))
        ]
        self.f = [w.cost * g.cost_fen + w.co2 * g.co2_g for g in d.groups]
        self.pu = [
            w.penalty_fen * d.pen_fen[i] + w.penalty_g * d.pen_g[i] for i in range(len(d.sids))
        ]
        self.payload = [g.payload_kg for g in d.groups]
        # side limits as rows: a_col . x + a_group . n + a_unserved . u <= rhs
        self.rows: list[tuple[list[int], list[int], list[int], int]] = []
        if limits.co2e_max_g is not None:
            self.rows.append(
                (d.co2_g, [g.co2_g for g in d.groups], [0] * len(d.sids), limits.co2e_max_g)
            )
        if limits.intensity_milli is not None:
            s, milli = limits.cap_scale, limits.intensity_milli
            self.rows.append(
                (
                    [s * v for v in d.co2_g],
                    [s * g.co2_g for g in d.groups],
                    [milli * t for t in d.tkm],
                    milli * sum(d.tkm),
                )
            )
        self.allowed = self._prune(deadline)
        self._allowed_set = [set(cols) for cols in self.allowed]
        self.trace: list[tuple[str, float, float]] = []
        """(phase, seconds since the run started, objective) for benchmarks."""

    # ------------------------------------------------------------------ pruning

    def _prune(self, deadline: float | None = None) -> list[list[int]]:
        """Columns per shipment that an optimal plan may need (see the module docstring)."""
        d = self.data
        out: list[list[int]] = []
        for i, cols in enumerate(d.ship_cols):
            if deadline is not None and i % 256 == 0 and time.perf_counter() > deadline:
                out.extend(list(c) for c in d.ship_cols[i:])
                break
            m = d.mass_kg[i]
            own = {}
            for k in cols:
                extra = [(g, _trucks(m, self.payload[g])) for g in d.col_groups[k]]
                own[k] = (
                    self.c[k] + sum(self.f[g] * n for g, n in extra),
                    [a[k] + sum(ag[g] * n for g, n in extra) for a, ag, _, _ in self.rows],
                )
            if not self.rows:
                out.append(_undominated(cols, own, self.c, d.col_caps))
                continue
            order = sorted(cols, key=lambda k: (own[k][0], k))
            keep = []
            for j in cols:
                caps_j = set(d.col_caps[j])
                dominated = False
                for k in order:
                    if own[k][0] > self.c[j] or (own[k][0] == self.c[j] and k >= j):
                        break
                    if k == j or not caps_j.issuperset(d.col_caps[k]):
                        continue
                    if all(
                        ok <= a[j] for ok, (a, _, _, _) in zip(own[k][1], self.rows, strict=True)
                    ):
                        dominated = True
                        break
                if not dominated:
                    keep.append(j)
            out.append(keep)
        return out

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, choice: Choice) -> tuple[float, list[int], list[int], list[int]]:
        """Objective, group loads, capacity loads, side-limit totals of a choice."""
        d = self.data
        loads = [0] * len(d.groups)
        caps = [0] * len(d.caps)
        obj = 0.0
        tot = [0] * len(self.rows)
        for i, j in enumerate(choice):
            if j is None:
                obj += self.pu[i]
                for r, (_, _, au, _) in enumerate(self.rows):
                    tot[r] += au[i]
                continue
            obj += self.c[j]
            for r, (a, _, _, _) in enumerate(self.rows):
                tot[r] += a[j]
            m = d.mass_kg[i]
            for g in d.col_groups[j]:
                loads[g] += m
            for k in d.col_caps[j]:
                caps[k] += m
        for g, load in enumerate(loads):
            if load:
                n = _trucks(load, self.payload[g])
                obj += self.f[g] * n
                for r, (_, ag, _, _) in enumerate(self.rows):
                    tot[r] += ag[g] * n
        return obj, loads, caps, tot

    def feasible(self, choice: Choice) -> bool:
        """Capacities and side limits hold."""
        _, _, caps, tot = self.evaluate(choice)
        return all(c <= cap[1] for c, cap in zip(caps, self.data.caps, strict=True)) and all(
            t <= row[3] for t, row in zip(tot, self.rows, strict=True)
        )

    # ------------------------------------------------------------------ the run

    def run(
        self,
        time_limit_s: float,
        starts: Sequence[Choice] = (),
        relative_gap: float = 0.0,
        deterministic_s: float | None = None,
        use_lp: bool = True,
        deadline: float | None = None,
        lp_estimate_s: float | None = None,
    ) -> SearchResult:
        """Search within ``time_limit_s`` [s] (or until ``deadline``, a ``time.perf_counter``
        instant); ``starts`` are known plans (any feasibility).

        The LP (bound and first plan) runs when its estimated time (``lp_estimate_s`` [s],
        else LP_S_PER_COLUMN per allowed column) fits LP_SHARE of the time left; it is cut at
        that share. Otherwise the greedy plan is built and the LP solved by column
        generation within COLGEN_SHARE of the time left (its bound: the best Lagrangian
        bound of its rounds), except under side limits with known plans, which then start
        the search without a bound. ``use_lp=False`` skips both (no bound; the starts must do)."""
        t0 = time.perf_counter()
        deadline = t0 + time_limit_s if deadline is None else deadline
        lp_x, lp_u, bound, lp_s = None, None, float("nan"), 0.0
        lp_kind = "none"
        if use_lp:
            budget = LP_SHARE * (deadline - t0)
            estimate = (
                lp_estimate_s
                if lp_estimate_s is not None
                else LP_S_PER_COLUMN * sum(len(c) for c in self.allowed)
            )
            if estimate <= budget:
                lp_x, lp_u, bound, lp_s = self._lp(t0 + budget)
                lp_kind = "full" if bound == bound else "none"
            elif not (self.rows and starts):
                # under a side limit (CO2e or intensity cap) with known plans (a sweep, the
                # target's greenest plan) the time goes to repairing and improving those
                greedy = self.greedy(deadline)
                starts = [*starts, greedy.choice]
                cg_until = t0 + COLGEN_SHARE * (deadline - t0)
                cg = colgen.solve(self, cg_until, starts, self.workers)
                if cg is not None:
                    lp_x, lp_u, bound = cg.x, cg.u, cg.bound
                    lp_kind = "columns" if not cg.converged else "columns (full LP value)"
                    lp_s = time.perf_counter() - t0
        self.trace = [("lp", time.perf_counter() - t0, bound)]
        state: _State | None = None
        prefs: list[tuple[list[float], list[float]] | Choice] = []
        if lp_x is not None and lp_u is not None:
            prefs.append((lp_x, lp_u))
        prefs.extend(list(c) for c in starts)
        if not prefs:
            prefs.append(self._cheapest())
        self._only_start = len(prefs) == 1
        for pref in prefs:
            if state is not None and time.perf_counter() >= deadline:
                break
            st = self._start(pref, deadline)
            if st is not None and (state is None or st.obj < state.obj):
                state = st
        if state is None:  # no start in time: capacity-aware greedy until the deadline
            c = [0.0] * len(self.data.cols)
            for j in self._cheapest():
                if j is not None:
                    c[j] = 1.0
            grace = max(deadline, time.perf_counter() + START_GRACE_S)
            state = self._insert(c, [0.0] * len(self.allowed), grace)
            if not state.within_limits():
                state._repair_rows(grace)
            if not state.within_limits():
                state = _State(self, [None] * len(self.allowed))  # always feasible
        self.trace.append(("start", time.perf_counter() - t0, state.obj))
        state.local_search(deadline)
        self.trace.append(("local search", time.perf_counter() - t0, state.obj))
        iterations, improved = self._lns(state, deadline, bound, relative_gap, deterministic_s)
        self.trace.append(("lns", time.perf_counter() - t0, state.obj))
        obj = state.obj
        status = (
            "OPTIMAL" if bound == bound and obj - bound <= 1e-9 * max(1.0, abs(obj)) else "FEASIBLE"
        )
        timed_out = status != "OPTIMAL" and time.perf_counter() >= deadline - 0.1
        return SearchResult(
            list(state.choice),
            obj,
            bound,
            status,
            time.perf_counter() - t0,
            lp_s,
            iterations,
            improved,
            timed_out,
            lp_kind,
        )

    def _lp(self, until: float):
        """The LP relaxation built and solved before ``until`` [perf_counter s]: (x, u,
        bound, seconds); no solution (bound NaN) if it did not finish in time."""
        t = time.perf_counter()
        try:
            model = LinearModel(
                self.data,
                self.weights,
                self.limits,
                integer=False,
                columns=self.allowed,
                deadline=until,
            )
            res = model.solve(max(0.05, until - time.perf_counter()), threads=self.workers)
        except Exception:
            return None, None, float("nan"), time.perf_counter() - t
        if not res.ok:
            return None, None, float("nan"), time.perf_counter() - t
        return res.x, res.u, res.objective, time.perf_counter() - t

    def _start(
        self, pref: tuple[list[float], list[float]] | Choice, deadline: float
    ) -> _State | None:
        """A feasible plan from an LP solution (rounded, then departures over capacity
        repaired) or from a known plan (kept if it fits the capacities, re-inserted if it is
        the only start); side limits are then repaired. None if that fails in time."""
        if isinstance(pref, tuple):
            st = _State(self, self._round(*pref))
            st._repair_caps()  # a few departures at most: done even after the deadline
        else:
            if len(pref) != len(self.allowed):
                return None
            st = _State(
                self,
                [j if j is None or j in self._allowed_set[i] else None for i, j in enumerate(pref)],
            )
            if any(c > cap[1] for c, cap in zip(st.caps, self.data.caps, strict=True)):
                if not self._only_start:
                    return None
                ones = [0.0] * len(self.data.cols)
                unserved = [1.0] * len(self.allowed)
                for i, j in enumerate(pref):
                    if j is not None:
                        ones[j] = 1.0
                        unserved[i] = 0.0
                st = self._insert(ones, unserved, deadline)
        if not st.within_limits():
            st._repair_rows(deadline)
        return st if st.within_limits() else None

    def _round(self, x: list[float], u: list[float]) -> Choice:
        """Each shipment on its largest LP column (ties: cheaper), or unserved."""
        out: Choice = []
        for i, cols in enumerate(self.allowed):
            best = max(cols, key=lambda j: (x[j], -self.c[j], -j), default=None)
            out.append(None if best is None or u[i] > x[best] else best)
        return out

    def _insert(self, x: list[float], u: list[float], deadline: float) -> _State:
        """Capacity-aware rounding: shipments the LP (or plan) decides first, then the others
        by their largest value, each on its best column that still fits (value, then delta);
        what does not fit, or is left when time is up, stays unserved."""
        eps = 1e-6
        state = _State(self, [None] * len(self.allowed))
        order = []
        for i, cols in enumerate(self.allowed):
            top = max((x[j] for j in cols), default=0.0)
            if u[i] >= 1 - eps or not cols:
                continue
            order.append((0 if top >= 1 - eps else 1, -top, i))
        order.sort()
        for n, (_, _, i) in enumerate(order):
            if n % 256 == 0 and time.perf_counter() >= deadline:
                break
            cols = sorted(self.allowed[i], key=lambda j: (-x[j], self.c[j], j))
            done = False
            for j in cols:
                if x[j] <= eps:
                    break
                res = state.delta(i, j)
                if res is not None and state._fits_rows(res[1]):
                    state.move(i, j)
                    done = True
                    break
            if not done:
                state.move_to_best(i, cols)
        return state

    def greedy(self, deadline: float) -> _State:
        """Capacity-aware greedy plan. Shipments in order of how few of their columns use a
        scheduled departure (those that can go by road alone take their place first; ties by
        index), each on the column of least exact delta that fits its departures and side
        limits (a partly loaded truck costs nothing more, a new one its full cost), else
        unserved; then unserved shipments are served by moving others off full departures
        (``_State._insert_moves``). Shipments left when ``deadline`` [perf_counter s]
        passes stay unserved. (Measured on the 1,000-shipment benchmark book: 0 unserved,
        45.7 M CNY in 0.2 s; by regret or by mass the greedy left 4-8 unserved.)"""
        d = self.data
        order = sorted(
            (sum(1 for j in cols if d.col_caps[j]), i)
            for i, cols in enumerate(self.allowed)
            if cols
        )
        state = _State(self, [None] * len(self.allowed))
        for n, (_, i) in enumerate(order):
            if n % 64 == 0 and time.perf_counter() >= deadline:
                break
            state.move_to_best(i, self.allowed[i])
        state._insert_moves(deadline)
        return state

    def _cheapest(self) -> Choice:
        return [min(cols, key=lambda j: (self.c[j], j)) if cols else None for cols in self.allowed]

    # ------------------------------------------------------------------ LNS

    def _lns(
        self,
        state: _State,
        deadline: float,
        bound: float,
        relative_gap: float,
        deterministic_s: float | None,
    ) -> tuple[int, int]:
        d = self.data
        n_ships = len(d.sids)
        if n_ships == 0:
            return 0, 0
        rng = random.Random(self.seed)
        # a book that fits one neighbourhood is solved whole first (the start may be far off)
        size = n_ships if n_ships <= MAX_NEIGHBOURHOOD else FIRST_NEIGHBOURHOOD
        idle = 0
        iterations = improved = 0
        spent = 0.0
        while time.perf_counter() < deadline - 0.05:
            if bound == bound and state.obj - bound <= relative_gap * max(1.0, abs(state.obj)):
                break
            if idle >= IDLE_ROUNDS * max(1.0, n_ships / size):
                break
            if deterministic_s is not None and spent >= deterministic_s:
                break
            iterations += 1
            free = (
                list(range(n_ships)) if size >= n_ships else self._neighbourhood(state, rng, size)
            )
            before = state.obj
            optimal, dtime = self._solve_sub(state, free, deadline)
            spent += dtime
            if state.obj < before - _tol(before):
                improved += 1
                idle = 0
            else:
                idle += 1
            if optimal and size < min(MAX_NEIGHBOURHOOD, n_ships):
                size = min(MAX_NEIGHBOURHOOD, n_ships, size + max(1, size // 8))
            elif not optimal:
                size = max(8, size - max(1, size // 4))
        return iterations, improved

    def _neighbourhood(self, state: _State, rng: random.Random, size: int) -> list[int]:
        """Related shipments around a truck departure with room to spare (or at random).

        Seed: a used truck group drawn by its wasted cost (empty space x truck cost), then the
        shipments on it, those that could join it, and breadth-first the shipments sharing the
        departures of the freed shipments' current and possible paths.
        """
        d = self.data
        waiting = [i for i, j in enumerate(state.choice) if j is None and self.allowed[i]]
        if waiting and rng.random() < 0.5:
            return self._capacity_neighbourhood(state, rng, size, rng.choice(waiting))
        seed_group = self._waste_group(state, rng)
        if seed_group is None:
            start = [rng.randrange(len(d.sids))]
        else:
            start = list(d.group_ships[seed_group])
            rng.shuffle(start)
            on = [
                i
                for i in start
                if (ch := state.choice[i]) is not None and seed_group in d.col_groups[ch]
            ]
            start = on + [i for i in start if i not in set(on)]
        free: dict[int, None] = {}
        queue: list[int] = []
        for i in start:
            if len(free) >= size:
                break
            free[i] = None
            queue.append(i)
        head = 0
        while head < len(queue) and len(free) < size:
            i = queue[head]
            head += 1
            cur = state.choice[i]
            near = list(d.col_groups[cur]) if cur is not None else []
            rng.shuffle(near)
            far = [g for j in self.allowed[i] for g in d.col_groups[j]]
            rng.shuffle(far)
            for g in dict.fromkeys(near + far):
                ships = d.group_ships[g]
                for s in rng.sample(ships, len(ships)):
                    if s not in free:
                        free[s] = None
                        queue.append(s)
                        if len(free) >= size:
                            break
                if len(free) >= size:
                    break
        return sorted(free)

    def _capacity_neighbourhood(
        self, state: _State, rng: random.Random, size: int, start: int
    ) -> list[int]:
        """An unserved shipment and the shipments on the scheduled departures it could take
        (and, breadth-first, on the departures those could move to)."""
        d = self.data
        free = {start: None}
        queue = [start]
        head = 0
        while head < len(queue) and len(free) < size:
            i = queue[head]
            head += 1
            caps = list(dict.fromkeys(k for j in self.allowed[i] for k in d.col_caps[j]))
            rng.shuffle(caps)
            for k in caps:
                on = [o for o in d.cap_ships[k] if o not in free]
                rng.shuffle(on)
                for o in on:
                    free[o] = None
                    queue.append(o)
                    if len(free) >= size:
                        return sorted(free)
        return sorted(free)

    def _waste_group(self, state: _State, rng: random.Random) -> int | None:
        """A used truck group, drawn with weight = cost of its empty truck space."""
        weights = []
        groups = []
        for g, load in enumerate(state.loads):
            if load:
                p = self.payload[g]
                waste = self.f[g] * (_trucks(load, p) - load / p)
                if waste > 0:
                    groups.append(g)
                    weights.append(waste)
        if not groups:
            return None
        return rng.choices(groups, weights=weights)[0]

    def _solve_sub(self, state: _State, free: list[int], deadline: float) -> tuple[bool, float]:  # noqa: C901
        """Re-optimise the free shipments exactly with CP-SAT; keep the result if better."""
        d = self.data
        m = cp_model.CpModel()
        ws = cp_model.LinearExpr.weighted_sum
        x: dict[int, cp_model.IntVar] = {}
        u: dict[int, cp_model.IntVar] = {}
        obj_v: list[cp_model.IntVar] = []
        obj_c: list[float] = []
        groups: dict[int, int] = {}
        caps: dict[int, int] = {}
        row_terms: list[tuple[list[cp_model.IntVar], list[int]]] = [([], []) for _ in self.rows]
        row_free = [0] * len(self.rows)
        for i in free:
            xs = []
            cur = state.choice[i]
            mass = d.mass_kg[i]
            for j in self.allowed[i]:
                v = m.new_bool_var("")
                x[j] = v
                xs.append(v)
                obj_v.append(v)
                obj_c.append(self.c[j])
                for r, (a, _, _, _) in enumerate(self.rows):
                    if a[j]:
                        row_terms[r][0].append(v)
                        row_terms[r][1].append(a[j])
                for g in d.col_groups[j]:
                    groups.setdefault(g, 0)
                for k in d.col_caps[j]:
                    caps.setdefault(k, 0)
            uv = m.new_bool_var("")
            u[i] = uv
            obj_v.append(uv)
            obj_c.append(self.pu[i])
            for r, (_, _, au, _) in enumerate(self.rows):
                if au[i]:
                    row_terms[r][0].append(uv)
                    row_terms[r][1].append(au[i])
            m.add_exactly_one([*xs, uv])
            if cur is None:
                for r, (_, _, au, _) in enumerate(self.rows):
                    row_free[r] += au[i]
            else:
                for r, (a, _, _, _) in enumerate(self.rows):
                    row_free[r] += a[cur]
                for g in d.col_groups[cur]:
                    groups[g] = groups.get(g, 0) + mass
                for k in d.col_caps[cur]:
                    caps[k] = caps.get(k, 0) + mass
        # groups: fixed load = load - what the free shipments put there now
        current_sub: float = sum(
            self.pu[i] if (ch := state.choice[i]) is None else self.c[ch] for i in free
        )
        hint_n: list[tuple[cp_model.IntVar, int]] = []
        obj_const = 0.0
        row_const = [0] * len(self.rows)
        for g, freed in groups.items():
            grp = d.groups[g]
            fixed = state.loads[g] - freed
            p = self.payload[g]
            now = _trucks(state.loads[g], p)
            lo = _trucks(fixed, p)
            current_sub += self.f[g] * now
            for r, (_, ag, _, _) in enumerate(self.rows):
                row_free[r] += ag[g] * now
            live = [(j, wt) for j, wt in zip(grp.cols, grp.weights, strict=True) if j in x]
            if len({d.col_ship[j] for j, _ in live}) <= 1:
                # one free shipment at most: its trucks follow from its own choice
                obj_const += self.f[g] * lo
                for r, (_, ag, _, _) in enumerate(self.rows):
                    row_const[r] += ag[g] * lo
                for j, wt in live:
                    extra = _trucks(fixed + wt, p) - lo
                    if extra:
                        obj_v.append(x[j])
                        obj_c.append(self.f[g] * extra)
                        for r, (_, ag, _, _) in enumerate(self.rows):
                            if ag[g]:
                                row_terms[r][0].append(x[j])
                                row_terms[r][1].append(ag[g] * extra)
                continue
            terms = [(x[j], wt) for j, wt in live]
            top = fixed + sum(wt for _, wt in terms)
            n = m.new_int_var(lo, max(lo, _trucks(top, p)), "")
            m.add(ws([n, *(v for v, _ in terms)], [p, *(-wt for _, wt in terms)]) >= fixed)
            for need, js in grp.links:
                jj = [x[j] for j in js if j in x]
                if jj:
                    m.add(ws([n, *jj], [1, *([-need] * len(jj))]) >= 0)
            obj_v.append(n)
            obj_c.append(self.f[g])
            hint_n.append((n, now))
            for r, (_, ag, _, _) in enumerate(self.rows):
                if ag[g]:
                    row_terms[r][0].append(n)
                    row_terms[r][1].append(ag[g])
        for k, freed in caps.items():
            _, limit, js, wts = d.caps[k]
            terms = [(x[j], wt) for j, wt in zip(js, wts, strict=True) if j in x]
            room = limit - (state.caps[k] - freed)
            if sum(wt for _, wt in terms) > room:
                m.add(ws([v for v, _ in terms], [wt for _, wt in terms]) <= room)
        for r, (vs, cs) in enumerate(row_terms):
            if vs:
                room = self.rows[r][3] - (state.totals[r] - row_free[r]) - row_const[r]
                m.add(ws(vs, cs) <= room)
        for i in free:
            cur = state.choice[i]
            for j in self.allowed[i]:
                m.add_hint(x[j], 1 if j == cur else 0)
            m.add_hint(u[i], 1 if cur is None else 0)
        for n, now in hint_n:
            m.add_hint(n, now)
        if all(float(c).is_integer() for c in obj_c) and float(obj_const).is_integer():
            m.minimize(ws(obj_v, [int(c) for c in obj_c]) + int(obj_const))
        else:
            m.minimize(ws(obj_v, obj_c) + obj_const)
        solver = cp_model.CpSolver()
        sp = solver.parameters
        sp.num_workers = 1
        sp.random_seed = self.seed
        for name, value in SUB_PARAMETERS.items():
            setattr(sp, name, value)
        sp.max_deterministic_time = SUB_DETERMINISTIC_S
        sp.max_time_in_seconds = max(0.01, deadline - time.perf_counter())
        status = solver.solve(m)
        dtime = solver.deterministic_time
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False, dtime
        if solver.objective_value >= current_sub - _tol(current_sub):
            return status == cp_model.OPTIMAL, dtime
        moves = []
        for i in free:
            new = next((j for j in self.allowed[i] if solver.value(x[j])), None)
            if new != state.choice[i]:
                moves.append((i, state.choice[i], new))
        before = state.obj
        for i, _, new in moves:
            state.move(i, new)
        if state.obj > before + _tol(before) or not state.within_limits():
            for i, old, _ in reversed(moves):
                state.move(i, old)
        return status == cp_model.OPTIMAL, dtime


def _undominated(
    cols: Sequence[int],
    own: dict[int, tuple[float, list[int]]],
    c: Sequence[float],
    col_caps: Sequence[Sequence[int]],
) -> list[int]:
    """The columns of one shipment that no other dominates, without side limits: j goes
    if some k with scheduled departures ⊆ j's has (own cost of k, k) < (c_j, j). Only the
    least (own cost, k) of each distinct departure set needs checking [same answer as the
    pairwise test, in time per distinct set]."""
    least: dict[frozenset[int], tuple[float, int]] = {}
    for k in cols:
        key = frozenset(col_caps[k])
        cand = (own[k][0], k)
        cur = least.get(key)
        if cur is None or cand < cur:
            least[key] = cand
    sets = sorted(least.items(), key=lambda kv: kv[1])
    keep = []
    for j in cols:
        caps_j = set(col_caps[j])
        mine = (c[j], j)
        dominated = False
        for key, best in sets:
            if best >= mine:
                break
            if caps_j.issuperset(key):
                dominated = True
                break
        if not dominated:
            keep.append(j)
    return keep


class _State:
    """A plan with its loads, capacity use, side-limit totals and objective, kept exact."""

    def __init__(self, search: Search, choice: Choice) -> None:
        self.s = search
        self.choice = list(choice)
        self.obj, self.loads, self.caps, self.totals = search.evaluate(self.choice)
        self.dirty: set[int] = set(range(len(self.choice)))
        self._seen: dict[str, tuple[Choice, list[int], list[int]]] = {}
        """Shipments whose best single move may have changed since they were last examined
        (a move touches the loads of its truck groups and departures, so only shipments
        with a column there are affected; with side limits every move affects everyone)."""

    # moves -------------------------------------------------------------------

    def delta(self, i: int, new: int | None, check: bool = True) -> tuple[float, list[int]] | None:
        """(Δobjective, Δside totals) of moving shipment i to ``new``; None if ``check`` and a
        scheduled departure of ``new`` lacks room."""
        s, d = self.s, self.s.data
        old = self.choice[i]
        if new == old:
            return 0.0, [0] * len(s.rows)
        m = d.mass_kg[i]
        old_g = d.col_groups[old] if old is not None else ()
        new_g = d.col_groups[new] if new is not None else ()
        if check and new is not None:
            old_k = d.col_caps[old] if old is not None else ()
            for k in d.col_caps[new]:
                if k not in old_k and self.caps[k] + m > d.caps[k][1]:
                    return None
        dobj = (s.pu[i] if new is None else s.c[new]) - (s.pu[i] if old is None else s.c[old])
        drow = [0] * len(s.rows)
        for r, (a, _, au, _) in enumerate(s.rows):
            drow[r] = (au[i] if new is None else a[new]) - (au[i] if old is None else a[old])
        for g in old_g:
            if g in new_g:
                continue
            p = s.payload[g]
            dn = _trucks(self.loads[g] - m, p) - _trucks(self.loads[g], p)
            if dn:
                dobj += s.f[g] * dn
                for r, (_, ag, _, _) in enumerate(s.rows):
                    drow[r] += ag[g] * dn
        for g in new_g:
            if g in old_g:
                continue
            p = s.payload[g]
            dn = _trucks(self.loads[g] + m, p) - _trucks(self.loads[g], p)
            if dn:
                dobj += s.f[g] * dn
                for r, (_, ag, _, _) in enumerate(s.rows):
                    drow[r] += ag[g] * dn
        return dobj, drow

    def move(self, i: int, new: int | None) -> None:
        """Move shipment i to column ``new`` (None: unserved), updating everything."""
        res = self.delta(i, new, check=False)
        assert res is not None
        dobj, drow = res
        d = self.s.data
        old = self.choice[i]
        m = d.mass_kg[i]
        if old is not None:
            for g in d.col_groups[old]:
                self.loads[g] -= m
            for k in d.col_caps[old]:
                self.caps[k] -= m
        if new is not None:
            for g in d.col_groups[new]:
                self.loads[g] += m
            for k in d.col_caps[new]:
                self.caps[k] += m
        self.choice[i] = new
        self.obj += dobj
        for r, v in enumerate(drow):
            self.totals[r] += v
        dirty = self.dirty
        dirty.add(i)
        for col in (old, new):
            if col is not None:
                for g in d.col_groups[col]:
                    dirty.update(d.group_ships[g])
                for k in d.col_caps[col]:
                    dirty.update(d.cap_ships[k])

    def move_to_best(self, i: int, cols: Sequence[int]) -> None:
        """Move shipment ``i`` to the column of ``cols`` with the least exact delta that
        fits its departures and side limits, if that delta is negative [objective units]."""
        best: tuple[float, int] | None = None
        for j in cols:
            res = self.delta(i, j)
            if res is not None and self._fits_rows(res[1]) and (best is None or res[0] < best[0]):
                best = (res[0], j)
        if best is not None and best[0] < 0:
            self.move(i, best[1])

    def within_limits(self) -> bool:
        return all(t <= row[3] for t, row in zip(self.totals, self.s.rows, strict=True))

    def _fits_rows(self, drow: list[int]) -> bool:
        return all(
            v <= 0 or t + v <= row[3]
            for v, t, row in zip(drow, self.totals, self.s.rows, strict=True)
        )

    def options(self, i: int) -> list[int | None]:
        return [*self.s.allowed[i], None]

    # repair --------------------------------------------------------------------

    def _repair_caps(self) -> None:
        """Move shipments off departures over capacity, cheapest move first."""
        d = self.s.data
        on_cap: dict[int, list[int]] = {}
        for i, j in enumerate(self.choice):
            if j is not None:
                for k in d.col_caps[j]:
                    on_cap.setdefault(k, []).append(i)
        for k in range(len(d.caps)):
            limit = d.caps[k][1]
            while self.caps[k] > limit:
                best = None
                for i in on_cap.get(k, []):
                    cur = self.choice[i]
                    if cur is None or k not in d.col_caps[cur]:
                        continue
                    for b in self.options(i):
                        if b is not None and k in d.col_caps[b]:
                            continue
                        res = self.delta(i, b)
                        if res is not None and (best is None or res[0] < best[0]):
                            best = (res[0], i, b)
                assert best is not None  # leaving it unserved always fits
                _, i, b = best
                self.move(i, b)
                if b is not None:
                    for kk in d.col_caps[b]:
                        on_cap.setdefault(kk, []).append(i)

    def _repair_rows(self, deadline: float) -> None:
        """Meet the side limits: greedy by cost per unit of violation removed (lazy
        re-evaluation); serving nobody always meets them."""
        n = len(self.choice)

        def best_move(i: int) -> tuple[float, int | None] | None:
            viol = [max(0, t - row[3]) for t, row in zip(self.totals, self.s.rows, strict=True)]
            best = None
            for b in self.options(i):
                if b == self.choice[i]:
                    continue
                res = self.delta(i, b)
                if res is None:
                    continue
                dobj, drow = res
                gain = sum(
                    -v / max(1, row[3])
                    for v, row, vi in zip(drow, self.s.rows, viol, strict=True)
                    if vi > 0 and v < 0
                )
                if gain <= 0:
                    continue
                ratio = dobj / gain
                if best is None or ratio < best[0]:
                    best = (ratio, b)
            return best

        heap = []
        for i in range(n):
            if i % 256 == 0 and time.perf_counter() >= deadline:
                return
            bm = best_move(i)
            if bm is not None:
                heap.append((bm[0], i))
        heapq.heapify(heap)
        while heap and not self.within_limits() and time.perf_counter() < deadline:
            ratio, i = heapq.heappop(heap)
            bm = best_move(i)
            if bm is None:
                continue
            if bm[0] > ratio + 1e-9 * max(1.0, abs(ratio)) and heap and bm[0] > heap[0][0]:
                heapq.heappush(heap, (bm[0], i))
                continue
            self.move(i, bm[1])
            nxt = best_move(i)
            if nxt is not None:
                heapq.heappush(heap, (nxt[0], i))

    # local search ----------------------------------------------------------------

    def local_search(self, deadline: float) -> None:
        """Single-shipment moves, then compound moves on truck departures, until none
        improves (or time is up)."""
        while time.perf_counter() < deadline:
            gain = self._one_moves(deadline)
            gain += self._fill_moves(deadline)
            gain += self._empty_moves(deadline)
            gain += self._insert_moves(deadline)
            if gain >= -_tol(self.obj):
                break

    def _one_moves(self, deadline: float) -> float:
        """Best single-shipment moves, pass after pass over the shipments a move may have
        affected (all of them with side limits), until none improves."""
        start = self.obj
        improved = True
        while improved and time.perf_counter() < deadline:
            improved = False
            todo = range(len(self.choice)) if self.s.rows else sorted(self.dirty)
            self.dirty = set()
            for n, i in enumerate(todo):
                if n % 128 == 0 and time.perf_counter() >= deadline:
                    self.dirty.update(todo[n:])
                    break
                best = None
                for b in self.options(i):
                    if b == self.choice[i]:
                        continue
                    res = self.delta(i, b)
                    if res is None or not self._fits_rows(res[1]):
                        continue
                    if res[0] < -_tol(self.obj) and (best is None or res[0] < best[0]):
                        best = (res[0], b)
                if best is not None:
                    self.move(i, best[1])
                    improved = True
        return self.obj - start

    def _sequence(self, moves: list[tuple[int, int | None]]) -> bool:
        """Apply moves in order, keep the best prefix if it improves; True if it did."""
        start = self.obj
        done: list[tuple[int, int | None]] = []
        best_obj, best_len = start, 0
        for i, b in moves:
            res = self.delta(i, b)
            if res is None or not self._fits_rows(res[1]):
                continue
            done.append((i, self.choice[i]))
            self.move(i, b)
            if self.obj < best_obj - _tol(best_obj):
                best_obj, best_len = self.obj, len(done)
        for i, old in reversed(done[best_len:]):
            self.move(i, old)
        return best_len > 0

    def _groups_to_examine(self, phase: str) -> list[int]:
        """Truck groups whose compound move may differ since ``phase`` last looked: those
        whose load changed or with a shipment that moved or shares a changed group or
        departure (all of them the first time, or with side limits)."""
        d = self.s.data
        seen = self._seen.get(phase)
        self._seen[phase] = (list(self.choice), list(self.loads), list(self.caps))
        if seen is None or self.s.rows:
            return list(range(len(d.groups)))
        choice0, loads0, caps0 = seen
        ships = {i for i, (a, b) in enumerate(zip(choice0, self.choice, strict=True)) if a != b}
        hot = {g for g, (a, b) in enumerate(zip(loads0, self.loads, strict=True)) if a != b}
        for g in hot:
            ships.update(d.group_ships[g])
        for k, (a, b) in enumerate(zip(caps0, self.caps, strict=True)):
            if a != b:
                ships.update(d.cap_ships[k])
        return [
            g
            for g, members in enumerate(d.group_ships)
            if g in hot or not ships.isdisjoint(members)
        ]

    def _fill_moves(self, deadline: float) -> float:
        """Open (or fill) a truck departure with several shipments at once."""
        s, d = self.s, self.s.data
        start = self.obj
        for g in self._groups_to_examine("fill"):
            if time.perf_counter() >= deadline:
                break
            cands = []
            for i in d.group_ships[g]:
                cur = self.choice[i]
                if cur is not None and g in d.col_groups[cur]:
                    continue
                best = None
                for b in s.allowed[i]:
                    if g not in d.col_groups[b]:
                        continue
                    res = self.delta(i, b)
                    if res is None:
                        continue
                    # the move's delta without this group's trucks (shared by the set)
                    p = s.payload[g]
                    dn = _trucks(self.loads[g] + d.mass_kg[i], p) - _trucks(self.loads[g], p)
                    key = res[0] - s.f[g] * dn
                    if best is None or key < best[0]:
                        best = (key, b)
                if best is not None and best[0] < 0:
                    cands.append((best[0], i, best[1]))
            if len(cands) >= 2:
                cands.sort()
                self._sequence([(i, b) for _, i, b in cands])
        return self.obj - start

    def _insert_moves(self, deadline: float) -> float:
        """Serve unserved shipments by first moving others off the departures that are full."""
        s, d = self.s, self.s.data
        start = self.obj
        for i, cur in enumerate(self.choice):
            if cur is not None or time.perf_counter() >= deadline:
                continue
            m = d.mass_kg[i]
            options = sorted(s.allowed[i], key=lambda j: (s.c[j], j))
            for b in options:
                blocked = [k for k in d.col_caps[b] if self.caps[k] + m > d.caps[k][1]]
                if not blocked:
                    continue
                moves: list[tuple[int, int | None]] = []
                ok = True
                planned = set()
                for k in blocked:
                    need = self.caps[k] + m - d.caps[k][1]
                    alts = []
                    for o in d.cap_ships[k]:
                        oc = self.choice[o]
                        if oc is None or o in planned or k not in d.col_caps[oc]:
                            continue
                        best = None
                        for ob in s.allowed[o]:
                            if k in d.col_caps[ob]:
                                continue
                            res = self.delta(o, ob)
                            if res is not None and (best is None or res[0] < best[0]):
                                best = (res[0], ob)
                        if best is not None:
                            alts.append((best[0] / d.mass_kg[o], o, best[1]))
                    alts.sort()
                    freed = 0
                    for _, o, ob in alts:
                        if freed >= need:
                            break
                        moves.append((o, ob))
                        planned.add(o)
                        freed += d.mass_kg[o]
                    if freed < need:
                        ok = False
                        break
                if ok and self._sequence([*moves, (i, b)]) and self.choice[i] is not None:
                    break
        return self.obj - start

    def _empty_moves(self, deadline: float) -> float:
        """Empty the last truck of a departure by moving several shipments elsewhere."""
        s, d = self.s, self.s.data
        start = self.obj
        for g in self._groups_to_examine("empty"):
            if time.perf_counter() >= deadline:
                break
            load = self.loads[g]
            if not load:
                continue
            on = [
                i
                for i in d.group_ships[g]
                if (ch := self.choice[i]) is not None and g in d.col_groups[ch]
            ]
            if len(on) < 2:
                continue
            cands = []
            for i in on:
                best = None
                for b in s.allowed[i]:
                    if g in d.col_groups[b]:
                        continue
                    res = self.delta(i, b)
                    if res is None:
                        continue
                    if best is None or res[0] < best[0]:
                        best = (res[0], b)
                if best is not None:
                    cands.append((best[0], i, best[1]))
            cands.sort()
            self._sequence([(i, b) for _, i, b in cands])
        return self.obj - start
