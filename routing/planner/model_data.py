"""The selection model as plain integer data, shared by CP-SAT, the LNS and the exact MIP.

One column per usable candidate with integer cost [fen], WTW CO2e [g] and lateness penalty
[fen]; capacity rows per scheduled departure; road legs consolidated into whole trucks.

CO2e is rounded to whole grams (+-0.5 g per column), served tkm down to whole tkm, and the
intensity cap in mg/tkm down (``routing.planner.solve``): the tkm dropped, on average 0.5 tkm
x the cap per shipment (100 g at 200 g/tkm), outweighs the CO2e rounding 200 times, so a
plan within the cap on the integers is within it on the floats the plan reports. With tkm
rounded to nearest, a 100-shipment book packed against a 200 g/tkm cap reported 200.00007
g/tkm.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from greenlane.emissions.units import G_PER_KG, KG_PER_T
from greenlane.routing.planner.pricing import LaneOption
from greenlane.routing.planner.problem import PlanOptions, Problem, gc_paused

FEN_PER_CNY = 100
"""Integer scale of money in the solver [fen/CNY]."""

UNSERVED_FACTOR = 20.0
"""Penalty for leaving a shipment unserved, as a multiple of its dearest candidate."""

TruckKey = tuple[str, str, str, int]
"""A road departure: (lane id, vehicle type, energy carrier, day slot)."""
_Truck = tuple[int, tuple[str, str, str], LaneOption]
_Sched = tuple[int, str, int]


@dataclass
class TruckGroup:
    """Shipments that may share the trucks of one road departure.

    ``links`` are the strong rows ``n >= need x Σ x`` per shipment (need = its own trucks);
    ``knapsack`` is False when every candidate together fits the group's ``ub`` trucks
    without the capacity row (it is then implied by the links).
    """

    key: TruckKey
    payload_kg: int
    ub: int
    cost_fen: int
    co2_g: int
    cols: list[int]
    weights: list[int]
    links: list[tuple[int, list[int]]]
    knapsack: bool


@dataclass
class ModelData:
    """The selection model as plain integer data, shared by CP-SAT and the exact MIP.

    Column ``j`` is candidate ``cols[j]`` = (shipment id, candidate index) with cost [fen],
    WTW CO2e [g] and lateness penalty [fen]. A road departure used by one shipment only is
    folded into that shipment's columns (its trucks are then the shipment's own,
    ``folded[j]``); the others are ``groups`` with an integer truck count. ``caps`` are the
    scheduled departures whose candidates could exceed their capacity [kg].
    """

    sids: list[str]
    cols: list[tuple[str, int]]
    col_ship: list[int]
    ship_cols: list[range]
    cost_fen: list[int]
    co2_g: list[int]
    late_fen: list[int]
    pen_fen: list[int]
    pen_g: list[int]
    tkm: list[int]
    mass_kg: list[int]
    caps: list[tuple[tuple[str, int], int, list[int], list[int]]]
    groups: list[TruckGroup]
    folded: dict[int, list[tuple[TruckKey, int, int, int]]]
    col_groups: list[list[int]] = field(default_factory=list)
    col_caps: list[list[int]] = field(default_factory=list)
    group_ships: list[list[int]] = field(default_factory=list)
    cap_ships: list[list[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Index the rows by column (truck groups, capacities) and groups by shipment."""
        self.col_groups = [[] for _ in self.cols]
        for g, grp in enumerate(self.groups):
            for j in grp.cols:
                self.col_groups[j].append(g)
        self.col_caps = [[] for _ in self.cols]
        for k, (_, _, js, _) in enumerate(self.caps):
            for j in js:
                self.col_caps[j].append(k)
        self.group_ships = [[self.col_ship[js[0]] for _, js in grp.links] for grp in self.groups]
        self.cap_ships = [sorted({self.col_ship[j] for j in js}) for _, _, js, _ in self.caps]

    def evaluate(self, choice: Sequence[int | None]) -> dict[str, object]:
        """Cost, CO2e, lateness and penalties of a choice (column per shipment or None).

        Trucks per group are the fewest that carry the chosen load; capacity is not checked
        (see :meth:`overloaded`).
        """
        cost = co2 = late = pen = pen_g = tkm = 0
        chosen = set()
        for i, j in enumerate(choice):
            if j is None:
                pen += self.pen_fen[i]
                pen_g += self.pen_g[i]
                continue
            chosen.add(j)
            cost += self.cost_fen[j]
            co2 += self.co2_g[j]
            late += self.late_fen[j]
            tkm += self.tkm[i]
        trucks: dict[TruckKey, int] = {}
        for g in self.groups:
            load = sum(w for j, w in zip(g.cols, g.weights, strict=True) if j in chosen)
            if load:
                n = -(-load // g.payload_kg)
                trucks[g.key] = n
                cost += n * g.cost_fen
                co2 += n * g.co2_g
        for j in chosen:
            for key, n, _, _ in self.folded.get(j, ()):
                trucks[key] = n
        return {
            "cost_fen": cost,
            "co2_g": co2,
            "late_fen": late,
            "penalty_fen": pen,
            "penalty_g": pen_g,
            "served_tkm": tkm,
            "trucks": trucks,
        }

    def overloaded(self, choice: Sequence[int | None]) -> list[tuple[str, int]]:
        """Scheduled departures whose capacity the choice exceeds."""
        chosen = {j for j in choice if j is not None}
        return [
            key
            for key, limit, cols, ws in self.caps
            if sum(w for j, w in zip(cols, ws, strict=True) if j in chosen) > limit
        ]


def model_data(problem: Problem, options: PlanOptions, deadline: float | None = None) -> ModelData:
    """Columns, capacity rows and truck groups of a problem, with integer coefficients.

    Raises TimeoutError once ``deadline`` [time.perf_counter() s] has passed."""
    with gc_paused():
        return _model_data(problem, options, deadline)


def _model_data(problem: Problem, options: PlanOptions, deadline: float | None = None) -> ModelData:
    by_id = {s.shipment_id: s for s in problem.shipments}
    sids = sorted(problem.candidates)
    cols: list[tuple[str, int]] = []
    col_ship: list[int] = []
    ship_cols: list[range] = []
    cost: list[int] = []
    co2: list[int] = []
    late: list[int] = []
    pen: list[int] = []
    pen_g: list[int] = []
    tkm: list[int] = []
    mass: list[int] = []
    cap_cols: dict[tuple[str, int], list[int]] = defaultdict(list)
    cap_limit: dict[tuple[str, int], int] = {}
    truck_cols: dict[TruckKey, dict[int, list[int]]] = defaultdict(dict)
    truck_option: dict[TruckKey, LaneOption] = {}
    penalty = options.late_penalty_cny_per_t_day
    # per options tuple (kept with it, so that its id stays its own): its legs (:func:`_legs`)
    info: dict[int, tuple[tuple[LaneOption, ...], tuple[_Truck, ...], tuple[_Sched, ...]]] = {}
    for i, sid in enumerate(sids):
        if deadline is not None and i % 256 == 0 and time.perf_counter() > deadline:
            raise TimeoutError("model build passed its deadline")
        s, cands = by_id[sid], problem.candidates[sid]
        mass_kg = round(s.mass_t * KG_PER_T)
        mass.append(mass_kg)
        tkm.append(math.floor(problem.tkm_gcd[sid]))
        worst = max(c.alone_cost_cny for c in cands)
        pen.append(round(UNSERVED_FACTOR * max(worst, 1.0) * FEN_PER_CNY))
        dirtiest = max(c.alone_wtw_kg for c in cands)
        pen_g.append(round(UNSERVED_FACTOR * max(dirtiest, 1.0) * G_PER_KG))
        first = len(cols)
        for c in cands:
            opts = c.options
            found = info.get(id(opts))
            if found is None or found[0] is not opts:
                found = info[id(opts)] = (opts, *_legs(opts))
            _, trucks, scheduled = found
            tms = c.timings
            # the scheduled departures: a candidate heavier than a whole departure of one of
            # its services is left out (the truck and the capacity rows are separate maps, so
            # filling them leg type by leg type keeps the order of each)
            departures = []
            for k, lane_id, cap_kg in scheduled:
                tm = tms[k]
                if tm.capacity_t is not None:
                    cap_kg = round(tm.capacity_t * KG_PER_T)
                if cap_kg < mass_kg:
                    break
                departures.append(((lane_id, tm.slot), cap_kg))
            else:
                j = len(cols)
                cols.append((sid, c.index))
                col_ship.append(i)
                cost.append(round(c.var_cost_cny * FEN_PER_CNY))
                co2.append(round(c.var_wtw_kg * G_PER_KG))
                late.append(
                    round(penalty * s.mass_t * (c.late_h / 24) * FEN_PER_CNY) if c.late_h > 0 else 0
                )
                for k, (lane_id, vehicle_id, carrier), o in trucks:
                    key = (lane_id, vehicle_id, carrier, tms[k].slot)
                    per = truck_cols[key]
                    if i in per:
                        per[i].append(j)
                    else:
                        per[i] = [j]
                        truck_option[key] = o
                for key2, cap_kg in departures:
                    cap_cols[key2].append(j)
                    cap_limit[key2] = cap_kg
        ship_cols.append(range(first, len(cols)))
    for key2, held_t in problem.reserved_t.items():
        if key2 in cap_limit:
            cap_limit[key2] = max(0, cap_limit[key2] - round(held_t * KG_PER_T))
    caps = []
    for key2, js in sorted(cap_cols.items()):
        ws = [mass[col_ship[j]] for j in js]
        if _most_load(js, ws, col_ship) > cap_limit[key2]:
            caps.append((key2, cap_limit[key2], js, ws))
    groups: list[TruckGroup] = []
    folded: dict[int, list[tuple[TruckKey, int, int, int]]] = defaultdict(list)
    for key, per_ship in sorted(truck_cols.items()):
        o = truck_option[key]
        payload_kg = round(o.vehicle_payload_t * KG_PER_T)
        vcost, vco2 = round(o.vehicle_cost_cny * FEN_PER_CNY), round(o.vehicle_wtw_kg * G_PER_KG)
        if len(per_ship) == 1:
            ((i, js),) = per_ship.items()
            need = -(-mass[i] // payload_kg)
            for j in js:
                cost[j] += need * vcost
                co2[j] += need * vco2
                folded[j].append((key, need, vcost, vco2))
            continue
        gcols = [j for js in per_ship.values() for j in js]
        weights = [mass[col_ship[j]] for j in gcols]
        total = sum(mass[i] for i in per_ship)
        ub = -(-total // payload_kg)
        links = [(-(-mass[i] // payload_kg), js) for i, js in per_ship.items()]
        knapsack = ub > max(need for need, _ in links)
        groups.append(TruckGroup(key, payload_kg, ub, vcost, vco2, gcols, weights, links, knapsack))
    return ModelData(
        sids,
        cols,
        col_ship,
        ship_cols,
        cost,
        co2,
        late,
        pen,
        pen_g,
        tkm,
        mass,
        caps,
        groups,
        dict(folded),
    )


def _legs(opts: Sequence[LaneOption]) -> tuple[tuple[_Truck, ...], tuple[_Sched, ...]]:
    """The legs of a candidate's options: on own trucks (leg index, (lane id, vehicle type,
    carrier), option) and scheduled (leg index, lane id, capacity per departure [kg])."""
    return (
        tuple(
            (k, (o.lane.lane_id, o.vehicle_id, o.carrier), o)
            for k, o in enumerate(opts)
            if o.dedicated
        ),
        tuple(
            (k, o.lane.lane_id, round(o.capacity_t * KG_PER_T))
            for k, o in enumerate(opts)
            if not o.dedicated
        ),
    )


def _most_load(cols: list[int], weights: list[int], col_ship: list[int]) -> int:
    """The largest load the columns can put on a departure (one column per shipment)."""
    best: dict[int, int] = {}
    for j, w in zip(cols, weights, strict=True):
        i = col_ship[j]
        best[i] = max(best.get(i, 0), w)
    return sum(best.values())
