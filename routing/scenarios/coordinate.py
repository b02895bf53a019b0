"""Network-wide constraints over independently planned partitions: prices and capacities.

A book planned in partitions couples them in two ways, both handled here as plain data so
that the batch coordinator (``routing.scenarios.batch``) only moves results around:

* **the intensity cap of a target year and a CO2e budget** hold for the whole book. They are
  relaxed with one carbon price lambda [CNY/t CO2e] shared by every partition (Lagrangian
  decomposition): each partition minimises cost + lambda x WTW CO2e on its own, the
  coordinator searches the smallest lambda at which the sum meets the constraint
  (:func:`next_price`), then :func:`polish` moves partitions back to the cheaper answer of the
  price just below wherever the network keeps its slack. The Lagrangian value
  (:func:`lagrangian_cny`) of every price tried bounds the constrained optimum from below
  (up to the partitions' own solver gap); the duality gap is reported against it.
* **scheduled departures** (a vessel, a train, a flight) carry a capacity per departure that
  partitions may share. :func:`overbooked` finds departures loaded above capacity; each
  repair round re-plans, in parallel, partitions that load them, every one with the others'
  load held back (``Problem.reserved_t``), and :func:`accept_repairs` keeps the cheapest
  re-plans among which no two could use a common departure (:func:`conflict`), until no
  departure is overbooked.
* **own trucks** leave per lane, vehicle, carrier and day slot. Partitions that load the same
  truck departure run its trucks once for all (:func:`merge_trucks`): the fewest trucks
  that carry their tonnes together, allocated by mass share over everything they carry.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from greenlane.emissions.units import G_PER_KG, KG_PER_T

Departure = tuple[str, int]
"""A scheduled departure: (lane id, slot)."""
TruckDeparture = tuple[str, str, str, int]
"""An own-truck departure: (lane id, vehicle type, energy carrier, day slot)."""

PRICE_START_CNY_PER_T = 100.0
"""First carbon price tried above the scenario's own when the constraint does not hold."""
PRICE_MAX_CNY_PER_T = 100_000.0
"""Highest carbon price tried; above it the partitions are planned greenest-first."""
PRICE_TOLERANCE = 0.02
"""Bisection stops when the price bracket is narrower than this share of its top [-]..."""
PRICE_TOLERANCE_CNY_PER_T = 2.0
"""... or than this [CNY/t CO2e]."""
MAX_BISECTIONS = 8
"""Most bisection rounds after the bracket is found."""
OVERBOOK_TOLERANCE_T = 1e-6
"""Load above capacity that still counts as within it (float sums) [t]."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the coordinator needs of one planned partition: totals and departure loads.

    ``cost_cny`` [CNY], ``co2e_wtw_kg`` [kg], ``tkm_gcd`` [t km on the great-circle distance]
    of the served shipments, ``loads_t`` [t] per scheduled departure and ``caps_t`` [t] the
    capacity of those departures. ``reach`` is every scheduled departure the partition's
    candidates could load (None: unknown, i.e. possibly any).
    """

    cost_cny: float
    co2e_wtw_kg: float
    tkm_gcd: float
    planned: int
    loads_t: Mapping[Departure, float]
    caps_t: Mapping[Departure, float]
    reach: frozenset[Departure] | None = None


@dataclass(frozen=True, slots=True)
class Constraint:
    """The network-wide cap: intensity [g CO2e/tkm GCD] and/or total WTW CO2e [kg]."""

    intensity_g_per_tkm: float | None = None
    co2e_max_kg: float | None = None

    def excess_kg(self, outcomes: Iterable[Outcome]) -> float:
        """How far the outcomes are above the cap [kg CO2e] (<= 0: met)."""
        items = list(outcomes)
        co2e = sum(o.co2e_wtw_kg for o in items)
        excess = float("-inf")
        if self.intensity_g_per_tkm is not None:
            allowed = self.intensity_g_per_tkm * sum(o.tkm_gcd for o in items) / G_PER_KG
            excess = max(excess, co2e - allowed)
        if self.co2e_max_kg is not None:
            excess = max(excess, co2e - self.co2e_max_kg)
        return excess

    def met(self, outcomes: Iterable[Outcome]) -> bool:
        """True when the outcomes meet the cap (1e-9 relative slack for float sums)."""
        items = list(outcomes)
        scale = max(1.0, sum(o.co2e_wtw_kg for o in items))
        return self.excess_kg(items) <= 1e-9 * scale

    def slack_term_kg(self, outcome: Outcome) -> float:
        """A partition's share of the Lagrangian term [kg CO2e]: its CO2e less what the
        intensity cap allows its served tonne-km (CO2e alone for a budget)."""
        if self.intensity_g_per_tkm is not None:
            return outcome.co2e_wtw_kg - self.intensity_g_per_tkm * outcome.tkm_gcd / G_PER_KG
        return outcome.co2e_wtw_kg

    def constant_kg(self) -> float:
        """The budget side of the Lagrangian [kg CO2e] (0 for an intensity cap)."""
        if self.intensity_g_per_tkm is None and self.co2e_max_kg is not None:
            return self.co2e_max_kg
        return 0.0


def lagrangian_cny(price: float, outcomes: Sequence[Outcome], cap: Constraint) -> float:
    """L(lambda) = sum of cost + lambda x (CO2e - allowed) over the partitions [CNY].

    With every partition solved to optimality at ``price`` this is a lower bound on the
    cost of any plan meeting the cap (weak duality); with a solver gap it is within that gap.
    """
    terms = sum(o.cost_cny + price * cap.slack_term_kg(o) / KG_PER_T for o in outcomes)
    return terms - price * cap.constant_kg() / KG_PER_T


def next_price(low: float, high: float | None) -> float | None:
    """The next carbon price to try [CNY/t]: grow until one meets the cap, then bisect.

    ``low`` is the highest price known to miss the cap, ``high`` the lowest known to meet it
    (None: none yet). None when the bracket is narrow enough or the search ran out of range.
    """
    if high is None:
        nxt = max(PRICE_START_CNY_PER_T, 4.0 * low)
        return nxt if nxt <= PRICE_MAX_CNY_PER_T else None
    if high - low <= max(PRICE_TOLERANCE_CNY_PER_T, PRICE_TOLERANCE * high):
        return None
    return 0.5 * (low + high)


def polish(low: Sequence[Outcome], high: Sequence[Outcome], cap: Constraint) -> list[bool]:
    """Which partitions take their answer at the lower price (True) while the cap holds.

    Starts from every partition at the price that meets the cap and switches partitions to
    the cheaper answer of the price below, most cost saved per kg of slack used first; a
    switch that saves cost and uses no slack is always taken.
    """
    chosen = list(high)
    use_low = [False] * len(high)
    gains = []
    for i, (lo, hi) in enumerate(zip(low, high, strict=True)):
        saved = hi.cost_cny - lo.cost_cny
        used = cap.slack_term_kg(lo) - cap.slack_term_kg(hi)
        if saved <= 0 and lo.planned <= hi.planned:
            continue
        if lo.planned < hi.planned:
            continue  # never trade served shipments for cost
        ratio = float("inf") if used <= 0 else saved / used
        gains.append((-ratio, i))
    for _, i in sorted(gains):
        trial = chosen.copy()
        trial[i] = low[i]
        if cap.met(trial):
            chosen = trial
            use_low[i] = True
    return use_low


def total_loads(outcomes: Iterable[Outcome]) -> dict[Departure, float]:
    """Tonnes on each scheduled departure over all outcomes [t]."""
    loads: dict[Departure, float] = defaultdict(float)
    for o in outcomes:
        for key, t in o.loads_t.items():
            loads[key] += t
    return dict(loads)


def overbooked(outcomes: Sequence[Outcome]) -> dict[Departure, float]:
    """Departures loaded above their capacity: departure -> excess [t]."""
    loads = total_loads(outcomes)
    caps: dict[Departure, float] = {}
    for o in outcomes:
        caps.update(o.caps_t)
    return {
        key: load - caps[key]
        for key, load in sorted(loads.items())
        if key in caps and load > caps[key] + OVERBOOK_TOLERANCE_T
    }


def pick_repair(outcomes: Sequence[Outcome], over: Mapping[Departure, float]) -> int:
    """The partition to re-plan next: it loads the most overbooked departures (then the
    most tonnes on them; then the first)."""

    def score(i: int) -> tuple[int, float, int]:
        loads = outcomes[i].loads_t
        hits = [key for key in over if loads.get(key, 0.0) > 0]
        return (len(hits), sum(loads[key] for key in hits), -i)

    return max(range(len(outcomes)), key=score)


def conflict(a: Outcome, b: Outcome) -> bool:
    """True when two partitions could load a common scheduled departure (unknown reach:
    assume they could)."""
    if a.reach is None or b.reach is None:
        return True
    return not a.reach.isdisjoint(b.reach)


def repair_order(outcomes: Sequence[Outcome], over: Mapping[Departure, float]) -> list[int]:
    """The partitions that load an overbooked departure, the one to re-plan first first
    (most overbooked departures, then most tonnes on them, then the first index)."""

    def score(i: int) -> tuple[int, float, int]:
        loads = outcomes[i].loads_t
        hits = [key for key in over if loads.get(key, 0.0) > 0]
        return (len(hits), sum(loads[key] for key in hits), -i)

    involved = [i for i, o in enumerate(outcomes) if any(o.loads_t.get(k, 0.0) > 0 for k in over)]
    return sorted(involved, key=score, reverse=True)


def independent(outcomes: Sequence[Outcome], order: Sequence[int]) -> list[int]:
    """Greedily, in ``order``, the partitions of which no two could load a common departure:
    re-planned at once, each with the others' load held back, they overbook nothing."""
    chosen: list[int] = []
    for i in order:
        if all(not conflict(outcomes[i], outcomes[j]) for j in chosen):
            chosen.append(i)
    return chosen


def accept_repairs(outcomes: Sequence[Outcome], trials: Mapping[int, Outcome]) -> list[int]:
    """Which re-plans of a repair round to keep: greedily, fewest shipments lost then least
    cost added first, each one that could load no departure in common with one kept.

    Every trial was planned with the load of all other partitions (as in ``outcomes``)
    held back, so it fits every departure it could use; two kept re-plans share no such
    departure, so together they overbook nothing either. The first trial is always kept.
    """

    def merit(i: int) -> tuple[int, float, int]:
        new, old = trials[i], outcomes[i]
        return (old.planned - new.planned, new.cost_cny - old.cost_cny, i)

    kept: list[int] = []
    for i in sorted(trials, key=merit):
        if all(not conflict(trials[i], trials[j]) for j in kept):
            kept.append(i)
    return kept


def held_by_others(
    outcomes: Sequence[Outcome], index: int, totals: Mapping[Departure, float] | None = None
) -> dict[Departure, float]:
    """Tonnes the other partitions hold per scheduled departure [t], on the departures the
    partition ``index`` could load (all if its reach is unknown); ``totals`` are the loads
    of all partitions (:func:`total_loads`), computed once per round by the caller."""
    totals = total_loads(outcomes) if totals is None else totals
    own = outcomes[index].loads_t
    reach = outcomes[index].reach
    keys: Iterable[Departure] = totals.keys() if reach is None else reach
    held = {k: totals.get(k, 0.0) - own.get(k, 0.0) for k in keys}
    return {k: t for k, t in sorted(held.items()) if t > OVERBOOK_TOLERANCE_T}


__all__ = [
    "MAX_BISECTIONS",
    "PRICE_MAX_CNY_PER_T",
    "Constraint",
    "Departure",
    "Outcome",
    "accept_repairs",
    "conflict",
    "held_by_others",
    "independent",
    "lagrangian_cny",
    "next_price",
    "overbooked",
    "pick_repair",
    "polish",
    "repair_order",
    "total_loads",
]


# ----------------------------------------------------------------------------- own trucks


@dataclass(frozen=True, slots=True)
class TruckUse:
    """One partition's plan on one own-truck departure.

    ``vehicles`` trucks carry ``load_t`` [t]: ``members`` (shipment id, t) of the partition
    and any load held for other partitions; per truck: ``payload_t`` [t], cost by component
    ``cost_split_cny`` [CNY], WTW and TTW CO2e [kg]. Each member's plan carries
    ``vehicles x its t / load_t`` trucks.
    """

    vehicles: int
    load_t: float
    members: tuple[tuple[str, float], ...]
    payload_t: float
    cost_split_cny: tuple[tuple[str, float], ...]
    wtw_kg: float
    ttw_kg: float


@dataclass(frozen=True, slots=True)
class TruckMerge:
    """What :func:`merge_trucks` changes: per partition, shipment id -> (cost by component
    [CNY], WTW, TTW [kg]) to add; trucks run after the merge, and the truck departures that
    several partitions load."""

    deltas: list[dict[str, tuple[dict[str, float], float, float]]]
    trucks: int
    shared_departures: int


TRUCK_LOAD_TOLERANCE_T = 1e-6
"""Load above whole trucks that still fits them (float sums) [t]."""


def merge_trucks(uses: Sequence[Mapping[TruckDeparture, TruckUse]]) -> TruckMerge:
    """Run each own-truck departure once for every partition that loads it.

    ``uses`` are the partitions' truck departures. Per departure the trucks are the fewest
    that carry the partitions' shipments together, ``ceil(sum t / payload)``, and each
    shipment carries ``trucks x its t / sum t`` of them (mass share, as within one plan;
    ISO 14083 allocation by the tonnes sharing the vehicle over the same leg). A departure one
    partition loads alone, with nothing held for others, is unchanged.
    """
    by_key: dict[TruckDeparture, list[tuple[int, TruckUse]]] = defaultdict(list)
    for p, per in enumerate(uses):
        for key, use in per.items():
            by_key[key].append((p, use))
    deltas: list[dict[str, tuple[dict[str, float], float, float]]] = [{} for _ in uses]
    trucks = shared = 0
    for key in sorted(by_key):
        entries = by_key[key]
        total_t = sum(m for _, u in entries for _, m in u.members)
        first = entries[0][1]
        if total_t <= 0:
            continue
        n = max(1, math.ceil(total_t / first.payload_t - TRUCK_LOAD_TOLERANCE_T))
        trucks += n
        alone = len(entries) == 1 and abs(first.load_t - total_t) <= TRUCK_LOAD_TOLERANCE_T
        if alone and first.vehicles == n:
            continue
        shared += len(entries) > 1
        for p, use in entries:
            for sid, mass in use.members:
                d = n * mass / total_t - use.vehicles * mass / use.load_t
                if d == 0:
                    continue
                split, wtw, ttw = deltas[p].get(sid, ({}, 0.0, 0.0))
                split = dict(split)
                for k, v in use.cost_split_cny:
                    split[k] = split.get(k, 0.0) + d * v
                deltas[p][sid] = (split, wtw + d * use.wtw_kg, ttw + d * use.ttw_kg)
    return TruckMerge(deltas, trucks, shared)
