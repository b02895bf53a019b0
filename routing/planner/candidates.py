"""Candidate paths: k good, mode-diverse ways to move each shipment, priced and timed.

Paths come from k-shortest simple paths (Yen, via networkx) on weightings that do not depend
on the request (neither its carbon price nor its fleet: lanes are weighted by the best option
of every carrier) — cost, WTW CO2e, time, and cost + CO2e at the reference carbon prices
:data:`PATH_PRICES_CNY_PER_T` (per tonne at a reference load) — plus, for each main-haul mode,
the cheapest, greenest and fastest path restricted to road + that mode (the fastest keeps a
direct train whose border stops are in its published transit time beside a chain of trains
through border hubs, which the cost weighting, blind to hub handling, may prefer). Other
companies' sites (factories, warehouses, customer sites) are never transit points: only a
shipment's own ends may be such hubs.

Technology is left to the optimizer: each lane path is dressed with **every combination of
lane options (vehicle type x energy carrier) that is the cheapest at some carbon price** —
the supported points of the path's cost/CO2e frontier. A path's cost and CO2e are sums over
its legs, so the combination that minimises cost + p x CO2e is the per-leg minimiser, which
changes only at a leg's breakpoint (where the leg's lower convex hull turns); the combinations
at price 0 and at every breakpoint are therefore all of them, exactly (no price grid). This is
done twice, once with road legs valued alone (own trucks) and once pooled (full trucks).
Any carbon price, intensity cap (its dual is a price) or Pareto point thus chooses among the
same columns, so answers under different prices are consistent.

Departures are a decision too: the first departure after the shipment is ready is the
candidate's default (on a lane with a timetable in ``schedules.csv``, the first whose cut-off
the shipment reaches after the hub's handling, with the timetable's transit time; other
scheduled lanes depart every ``168 h / departures_per_week``); where the departures a book
may use can be overfilled, candidates that wait for later departures are added
(:func:`add_departure_choices`).
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice, pairwise
from pathlib import Path
from typing import Any

import networkx as nx

from greenlane.data import DATA_DIR
from greenlane.emissions.carriers import (
    CARRIER_TABLE,
    CarrierIntensities,
    CarrierIntensity,
    load_carrier_intensities,
)
from greenlane.emissions.distance import gcd_km
from greenlane.emissions.factors import Factors, load_factors
from greenlane.emissions.model import Mode
from greenlane.emissions.units import KG_PER_T, S_PER_H
from greenlane.fleet.model import EnergyPrices
from greenlane.fleet.regulation import Regulation
from greenlane.routing.network.border import (
    BORDER_TABLE,
    border_dwell,
    lane_customs_h,
    path_dwells_h,
)
from greenlane.routing.network.graph import Network
from greenlane.routing.network.model import Hub, HubKind
from greenlane.routing.network.places import resolve
from greenlane.routing.network.schedules import SCHEDULE_TABLE, LaneSchedule, load_schedules
from greenlane.routing.network.segments import SEGMENT_TABLE, lane_segments
from greenlane.routing.planner.pricing import HubOperation, LaneOption, hub_operations, price_lane
from greenlane.routing.planner.shipments import Shipment

EPOCH = datetime(2023, 1, 2, tzinfo=UTC)
"""Anchor of every departure schedule (a Monday, 00:00 UTC): departures are at k x interval."""
HOURS_PER_DAY = 24.0
REFERENCE_MASS_T = 10.0
"""Load at which lanes are weighted for path search [t] (GLEC default TEU mass)."""
MAIN_MODES = (Mode.SEA, Mode.RAIL, Mode.AIR, Mode.INLAND_WATER)
CHOICES = ("cost", "co2e", "price", "cost_pooled", "co2e_pooled", "price_pooled")
"""Named option picks (cheapest, greenest, best at a carbon price; alone or pooled), used by
the levers of ``routing.scenarios.levers``; candidates take every frontier combination."""
PATH_PRICES_CNY_PER_T = (1000.0,)
"""Reference carbon prices of the cost + CO2e path searches [CNY/t CO2e WTW]: the same for
every request, so the paths offered do not depend on the carbon price asked."""
PRIVATE_KINDS = frozenset({"factory", "warehouse", "customer_site"})
"""Hub kinds that are a company's own site: a path may start or end there, never pass."""
MAX_WAIT_DEPARTURES = 14
"""Most departures a candidate may wait for on one scheduled leg beyond its first [-]."""
WAIT_COPIES_PER_SHIPMENT = 24
"""Most waiting copies of candidates added per shipment [-] (bounds the model's size)."""
_MISSING: Any = object()
"""Marks a memo miss (a memo may hold None)."""
LEG_MEMO_SIZE = 2_000_000
"""Most leg and path timings a builder memoises before starting afresh [-] (bounds its
memory)."""


@dataclass(frozen=True, slots=True)
class LegTiming:
    """When a candidate's leg runs [h since EPOCH] and which departure slot it uses; on a
    timetabled lane also the service, its cut-off [h before departure] and its capacity [t]."""

    depart_h: float
    arrive_h: float
    slot: int
    service_id: str = ""
    cutoff_h: float | None = None
    capacity_t: float | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One priced, timed way to move a shipment (a path + an option per lane)."""

    shipment_id: str
    index: int
    options: tuple[LaneOption, ...]
    timings: tuple[LegTiming, ...]
    hubs: tuple[str, ...]
    arrival_h: float
    late_h: float
    var_cost_cny: float
    var_wtw_kg: float
    var_ttw_kg: float
    alone_cost_cny: float
    alone_wtw_kg: float
    waits: tuple[int, ...] = ()
    """Departures waited for per leg beyond the first after arrival (empty: none) [-]."""

    @property
    def modes(self) -> tuple[Mode, ...]:
        """Modes of the legs, in order."""
        return tuple(o.lane.mode for o in self.options)

    @property
    def label(self) -> str:
        """Short description, e.g. ``road > sea > road``."""
        return " > ".join(str(m) for m in self.modes)


CandidateRow = tuple[
    "_Template",
    tuple[LegTiming, ...],
    float,
    float,
    float,
    float,
    float,
    float,
    float,
    float,
    float,
]
"""A candidate before it is built (:func:`built`): (template, timings,
lateness [h], cost, WTW, TTW, alone cost, alone WTW, pooled cost, pooled WTW [CNY, kg],
arrival [h since EPOCH]); pooled = with its own trucks' share of full trucks
(``problem._merit``)."""


def hours_since_epoch(when: datetime) -> float:
    """Hours from EPOCH to ``when`` [h]."""
    return (when - EPOCH).total_seconds() / S_PER_H


def datetime_at(hours: float) -> datetime:
    """The instant ``hours`` after EPOCH."""
    from datetime import timedelta

    return EPOCH + timedelta(hours=hours)


def resolve_place(network: Network, ref: str, field: str) -> Hub:
    """The hub serving a place reference (``routing.network.places.resolve``): a hub by id,
    UN/LOCODE or IATA code, else a new port, airport or site hub (not in ``network``)."""
    return resolve(network, ref, field).hub


class CandidateBuilder:
    """Prices lanes once and enumerates candidates per shipment (cached per OD and modes).

    ``energy_prices`` is the energy price table lanes are priced with (None: the shipped one);
    ``regulation`` the year of travel and prices of the regulatory carbon costs (None: none);
    ``rate_cards`` prices carrier-sold scheduled services at their rate card, multiplied by
    ``rate_card_index`` [-]; ``data_dir``
    holds every table lanes and hubs are priced with (None: the shipped ``data/``);
    ``schedules`` are the timetabled lanes (None: those of ``data_dir/schedules.csv``);
    ``intensities`` the carriers' own TOCs and HOCs (None: ``data_dir/carrier_intensities.csv``).
    """

    def __init__(
        self,
        network: Network,
        factors: Factors | None = None,
        k_paths: int = 4,
        carbon_price_cny_per_t: float = 0.0,
        carriers: str = "all",
        energy_prices: EnergyPrices | None = None,
        regulation: Regulation | None = None,
        rate_cards: bool = False,
        schedules: Mapping[str, LaneSchedule] | None = None,
        data_dir: Path | None = None,
        intensities: CarrierIntensities | None = None,
        rate_card_index: float = 1.0,
    ) -> None:
        self.network = network
        self.data_dir = data_dir or DATA_DIR
        self.schedules = (
            schedules if schedules is not None else load_schedules(network, EPOCH, self.data_dir)
        )
        self.intensities = (
            intensities
            if intensities is not None
            else load_carrier_intensities(self.data_dir, frozenset(str(k) for k in HubKind))
        )
        self.data_sha256 = {
            "schedules": "given"
            if schedules is not None
            else _file_sha256(self.data_dir / SCHEDULE_TABLE),
            "carrier_intensities": (
                "given" if intensities is not None else _file_sha256(self.data_dir / CARRIER_TABLE)
            ),
        }
        """sha256 of the timetable and carrier tables used ("absent": no such table; "given":
        passed as objects)."""
        self.factors = factors or load_factors(data_dir=self.data_dir)
        self.k_paths = k_paths
        self.carbon_price_cny_per_t = carbon_price_cny_per_t
        self.carriers = carriers
        self.energy_prices = energy_prices
        self.regulation = regulation
        self.rate_cards = rate_cards
        self.rate_card_index = rate_card_index
        self.hub_ops = hub_operations(self.data_dir)
        self.border = border_dwell(self.data_dir)
        self.data_sha256["border_dwell"] = _file_sha256(self.data_dir / BORDER_TABLE)
        self.data_sha256["lane_segments"] = _file_sha256(self.data_dir / SEGMENT_TABLE)
        self.segments = lane_segments(self.data_dir)
        self._customs: dict[tuple[str, ...], _Customs] = {}
        self._options: dict[str, list[LaneOption]] = {}
        self._paths: dict[tuple[str, str, frozenset[Mode]], list[tuple[str, ...]]] = {}
        self._tables: dict[str, _PickTable] = {}
        self._hull_cache: dict[tuple[str, float], _Hulls] = {}
        self._hub_rows: dict[tuple[str, str], tuple[float, float, float, float, bool]] = {}
        self._templates: dict[tuple[str, ...], _Template] = {}
        self._dressed: dict[
            tuple[str, ...], dict[tuple[int, ...], tuple[tuple[str, ...], _Template]]
        ] = {}
        """Per lane path, its option keys and template per option index of each lane."""
        self._paths_info: dict[tuple[str, ...], _PathInfo] = {}
        self._lane_weights: dict[tuple[str, str, str], float] = {}
        self._kept: dict[tuple[str, str, frozenset[Mode], float], list[list[_Priced]]] = {}
        """Priced combinations per lane path kept by :meth:`rows` for a shipment to come,
        by (origin, destination, modes, mass [t])."""
        self._loose: dict[int, tuple[tuple[LaneOption, ...], _Template, int]] = {}
        """Templates built for options whose keys had no stored template (by the id of the
        options tuple), with the number of stored templates then."""
        self._by_options: dict[int, tuple[tuple[LaneOption, ...], _Template]] = {}
        """The template of a candidate's options tuple (candidates share it), by its id, with
        the tuple (which keeps the id its own)."""
        self._leg_ids: dict[tuple[float, bool, float, float, int, float], int] = {}
        self._leg_memo: dict[tuple[int, float, int], tuple[LegTiming, float] | tuple[()]] = {}
        """Timing of one leg by (leg id, ready [h since EPOCH], waits): (timing, arrival [h])
        or () when its timetable has no such departure."""
        self._path_memo: dict[
            tuple[tuple[int, ...], float, tuple[int, ...]], tuple[LegTiming, ...] | None
        ] = {}
        """Timings of a path by (leg ids, ready [h since EPOCH], waits per leg)."""

    def options(self, lane_id: str) -> list[LaneOption]:
        """Priced options of a lane [cached]."""
        if lane_id not in self._options:
            self._options[lane_id] = self._price(lane_id, self.carriers)
        return self._options[lane_id]

    def _price(self, lane_id: str, carriers: str) -> list[LaneOption]:
        """The lane's options for ``carriers`` at this builder's prices and tables."""
        lane = self.network.lane(lane_id)
        return price_lane(
            lane,
            self.network.hubs[lane.origin],
            self.factors,
            carriers,
            self.energy_prices,
            destination=self.network.hubs[lane.destination],
            regulation=self.regulation,
            rate_cards=self.rate_cards,
            data_dir=self.data_dir,
            intensities=self.intensities,
            rate_card_index=self.rate_card_index,
        )

    def hub_op(self, hub_id: str) -> HubOperation:
        """The hub operation applying at ``hub_id`` (by its kind)."""
        return self.hub_ops[str(self.network.hubs[hub_id].kind)]

    def customs(self, lane_ids: tuple[str, ...]) -> _Customs:
        """Customs of a path of lanes (``border_dwell.csv``): (dwell [h], why) at each hub
        (border crossings, the shipment's first EU/EEA hub) and on each lane (the borders a
        through lane crosses on the way) [cached per path]."""
        found = self._customs.get(lane_ids)
        if found is None:
            lanes = [self.network.lane(i) for i in lane_ids]
            ends = (lanes[0].origin, *(x.destination for x in lanes))
            hubs = [self.network.hubs[h] for h in ends]
            en_route = [
                lane_customs_h(
                    [s.country for s in self.segments.get(x.reverse_of or x.lane_id, ())],
                    hubs[i],
                    hubs[i + 1],
                    self.border,
                    in_transit_h=x.transit_rule.startswith("data:"),
                )
                for i, x in enumerate(lanes)
            ]
            found = self._customs[lane_ids] = _Customs(
                path_dwells_h(hubs, self.border, [e[2] for e in en_route]),
                tuple((e[0], e[1]) for e in en_route),
            )
        return found

    def _score(self, option: LaneOption, weight: str) -> float:
        """Weight of an option per tonne: ``cost``, ``co2e``, ``time`` or ``price:<CNY/t>``."""
        m = REFERENCE_MASS_T
        if weight == "cost":
            return option.alone_cost_cny(m) / m
        if weight == "co2e":
            return option.alone_wtw_kg(m) / m
        if weight == "time":
            sched = None if option.dedicated else self.schedules.get(option.lane.lane_id)
            if sched is not None:
                return sched.mean_transit_h + sched.mean_wait_h
            return option.transit_h + option.interval_h / 2
        price = float(weight.split(":")[1]) / KG_PER_T
        return (option.alone_cost_cny(m) + price * option.alone_wtw_kg(m)) / m

    def path_options(self, lane_id: str) -> list[LaneOption]:
        """The options a lane is weighted by in path search: every carrier, whatever the fleet
        asked, so the paths of a shipment are the same for every fleet [cached]."""
        if self.carriers == "all":
            return self.options(lane_id)
        cache = self.__dict__.setdefault("_path_options", {})
        if lane_id not in cache:
            cache[lane_id] = self._price(lane_id, "all")
        return cache[lane_id]

    def share_paths(self, other: CandidateBuilder) -> None:
        """Use ``other``'s path cache (same network, so the same paths whatever the fleet)."""
        self._paths = other._paths

    def _digraph(self, weight: str, modes: frozenset[Mode]) -> nx.DiGraph:
        """Lanes between hubs open to transit, weighted by their best option for ``weight``
        (see :meth:`_score`); a company site's lanes join per search (:meth:`_od_edges`)."""
        g: nx.DiGraph[str] = nx.DiGraph()
        private = self._private()
        for u, v, key, data in self.network.graph.edges(keys=True, data=True):
            if data["lane"].mode in modes and u not in private and v not in private:
                w = self._lane_weight(key, v, weight)
                if not g.has_edge(u, v) or g[u][v]["w"] > w:
                    g.add_edge(u, v, w=w, lane_id=key)
        return g

    def _lane_weight(self, lane_id: str, to: str, weight: str) -> float:
        """Weight of a lane into ``to`` in path search (:meth:`_score` of its best option;
        by time, plus the dwell at ``to``) [cached]."""
        key = (lane_id, to, weight)
        found = self._lane_weights.get(key)
        if found is None:
            found = min(self._score(o, weight) for o in self.path_options(lane_id))
            if weight == "time":
                hub = self.network.hubs[to]
                found = found + self.hub_op(to).dwell_h + self.border.at(hub, False)[0]
            self._lane_weights[key] = found
        return found

    def _private(self) -> frozenset[str]:
        """Hubs that are a company's own site (never a transit point) [cached]."""
        found = self.__dict__.get("_private_ids")
        if found is None:
            hubs = self.network.hubs
            found = frozenset(h for h, hub in hubs.items() if str(hub.kind) in PRIVATE_KINDS)
            self.__dict__["_private_ids"] = found
        return found

    def _od_edges(
        self, weight: str, modes: frozenset[Mode], origin: str, destination: str
    ) -> dict[tuple[str, str], tuple[float, str]]:
        """Best lane per (u, v) out of a private origin and into a private destination,
        other company sites left out: the edges :meth:`_digraph` leaves out that a path
        between these two may use."""
        private = self._private()
        graph = self.network.graph
        ends: list[tuple[str, str, str, dict[str, Any]]] = []
        if origin in private:
            ends += graph.out_edges(origin, keys=True, data=True)
        if destination in private:
            ends += graph.in_edges(destination, keys=True, data=True)
        out: dict[tuple[str, str], tuple[float, str]] = {}
        for u, v, key, data in ends:
            if data["lane"].mode not in modes:
                continue
            if (u in private and u != origin) or (v in private and v != destination):
                continue
            w = self._lane_weight(key, v, weight)
            if (u, v) not in out or out[(u, v)][0] > w:
                out[(u, v)] = (w, key)
        return out

    def lane_paths(
        self, origin: str, destination: str, modes: frozenset[Mode]
    ) -> list[tuple[str, ...]]:
        """Lane-id sequences from origin to destination [cached per OD and modes]."""
        key = (origin, destination, modes)
        if key in self._paths:
            return self._paths[key]
        found: dict[tuple[str, ...], None] = {}
        weights: tuple[str, ...] = (
            "cost",
            "co2e",
            "time",
            *(f"price:{p:g}" for p in PATH_PRICES_CNY_PER_T),
        )
        searches: list[tuple[str, frozenset[Mode], int]] = [
            (w, modes, self.k_paths) for w in weights
        ]
        for main in MAIN_MODES:
            if main in modes:
                sub = frozenset({Mode.ROAD, main}) & modes
                searches += [("cost", sub, 1), ("co2e", sub, 1), ("time", sub, 1)]

        for weight, allowed, k in searches:
            g = self._graph(weight, allowed)
            # the shared graph plus this pair's own site lanes, removed again afterwards
            added = self._od_edges(weight, allowed, origin, destination)
            touched = {n for edge in added for n in edge} | {origin, destination}
            new_nodes = [n for n in touched if n not in g]
            for (u, v), (w, lane_id) in added.items():
                g.add_edge(u, v, w=w, lane_id=lane_id)
            try:
                if origin in g and destination in g:
                    paths = nx.shortest_simple_paths(g, origin, destination, "w")
                    for nodes in islice(paths, k):
                        found[tuple(g[a][b]["lane_id"] for a, b in pairwise(nodes))] = None
            except nx.NetworkXNoPath:
                pass
            finally:
                g.remove_edges_from(added)
                g.remove_nodes_from([n for n in new_nodes if n in g])
        self._paths[key] = list(found)
        return self._paths[key]

    def _graph(self, weight: str, modes: frozenset[Mode]) -> nx.DiGraph:
        cache = self.__dict__.setdefault("_graphs", {})
        if (weight, modes) not in cache:
            cache[(weight, modes)] = self._digraph(weight, modes)
        return cache[(weight, modes)]

    def candidates(self, shipment: Shipment, origin: Hub, destination: Hub) -> list[Candidate]:
        """Priced, timed candidates of one shipment (late ones included, flagged)."""
        rows = self.rows(shipment, origin, destination)
        return [built(shipment, i, r) for i, r in enumerate(rows)]

    def rows(
        self, shipment: Shipment, origin: Hub, destination: Hub, keep: bool = False
    ) -> list[CandidateRow]:
        """The candidates of :meth:`candidates` as rows, in the same order, without building
        them (build the ones kept with :func:`built`).

        ``keep``: another shipment of the same ends, modes and mass follows, so the priced
        combinations are kept for it (its call takes them back; :meth:`forget` drops the
        ones left)."""
        modes = frozenset((shipment.allowed_modes or frozenset(Mode)) | {Mode.ROAD})
        out: list[CandidateRow] = []
        m = shipment.mass_t
        volume = shipment.volume_m3
        ready, due = hours_since_epoch(shipment.ready_at), hours_since_epoch(shipment.due_at)
        memo = self._path_memo
        key = (origin.hub_id, destination.hub_id, modes, m)
        priced = self._kept.pop(key, None)
        if priced is None:
            paths = self.lane_paths(origin.hub_id, destination.hub_id, modes)
            priced = [self._priced(path, m) for path in paths]
        if keep:
            self._kept[key] = priced
        for combos in priced:
            for tpl, cost, wtw, ttw, alone_cost, alone_wtw, pool_cost, pool_wtw in combos:
                timings = memo.get((tpl.leg_ids, ready, ()), _MISSING)
                if timings is _MISSING:
                    timings = self._timed(tpl, ready, ())
                if timings is None:
                    continue  # a timetable on the path has no departure left
                t = timings[-1].arrive_h  # type: ignore[index]
                if tpl.carded:
                    # rate-card terms per shipment: chargeable weight and minimum charge [CNY]
                    extra = sum(o.shipment_extra_cny(m, volume) for o in tpl.options)
                    cost += extra
                    alone_cost += extra
                    pool_cost = cost
                    for per_t_cost, _ in tpl.pool_terms:
                        pool_cost += per_t_cost * m
                out.append(
                    (
                        tpl,
                        timings,  # type: ignore[arg-type]
                        max(0.0, t - due),
                        cost,
                        wtw,
                        ttw,
                        alone_cost,
                        alone_wtw,
                        pool_cost,
                        pool_wtw,
                        t,
                    )
                )
        return out

    def forget(self) -> None:
        """Drop the priced combinations kept by :meth:`rows`."""
        self._kept.clear()

    def _priced(self, path: tuple[str, ...], m: float) -> list[_Priced]:
        """The option combinations of a lane path for ``m`` [t] (each once, in order of the
        frontier: :func:`_frontier_combos`) with their mass-dependent terms: (template, cost,
        WTW, TTW, alone cost, alone WTW, pooled cost, pooled WTW) [CNY, kg], rate-card
        terms per shipment left out."""
        hulls = [self._hulls(lid, m) for lid in path]
        dressed = self._dressed.get(path)
        if dressed is None:
            dressed = self._dressed[path] = {}
        out = []
        seen: set[tuple[str, ...]] = set()
        rows: tuple[tuple[float, float, float, bool], ...] | None = None
        hub_cost = hub_wtw = hub_ttw = 0.0
        # equal combinations have equal keys: only the first is kept either way; different
        # ones have different keys when every lane's option keys are distinct
        distinct = all(h.table.distinct for h in hulls)
        for combo in dict.fromkeys(_frontier_combos(hulls)):
            found = dressed.get(combo)
            if found is None:
                found = dressed[combo] = self._dress(hulls, combo)
            keys, tpl = found
            if not distinct:
                if keys in seen:
                    continue
                seen.add(keys)
            if tpl.hub_rows is not rows:  # the same for every template of a path
                rows = tpl.hub_rows
                hub_cost = hub_wtw = hub_ttw = 0.0
                for handling, wtw_t, ttw_t, has_hoc in rows:
                    hub_cost += handling * m
                    if has_hoc:
                        hub_wtw += wtw_t * m
                        hub_ttw += ttw_t * m
            alone = [h.alone[i] for h, i in zip(hulls, combo, strict=True)]
            cost = tpl.cost_per_t * m + hub_cost + 0
            wtw = tpl.wtw_per_t * m + hub_wtw
            pool_cost, pool_wtw = cost, wtw
            for per_t_cost, per_t_wtw in tpl.pool_terms:
                pool_cost += per_t_cost * m
                pool_wtw += per_t_wtw * m
            out.append(
                (
                    tpl,
                    cost,
                    wtw,
                    tpl.ttw_per_t * m + hub_ttw,
                    sum([a[0] for a in alone]) + hub_cost + 0,
                    sum([a[1] for a in alone]) + hub_wtw,
                    pool_cost,
                    pool_wtw,
                )
            )
        return out

    def _dress(
        self, hulls: Sequence[_Hulls], combo: tuple[int, ...]
    ) -> tuple[tuple[str, ...], _Template]:
        """(option keys, template) of a path's lanes dressed with option ``combo[i]`` of
        lane ``i``."""
        tables = [h.table for h in hulls]
        keys = tuple([t.keys[i] for t, i in zip(tables, combo, strict=True)])
        tpl = self._templates.get(keys)
        if tpl is None:
            opts = tuple([t.options[i] for t, i in zip(tables, combo, strict=True)])
            tpl = self._templates[keys] = self._template(opts, keys)
            self._by_options[id(tpl.options)] = (tpl.options, tpl)
        return keys, tpl

    def retimed(
        self, shipment: Shipment, c: Candidate, waits: tuple[int, ...], index: int | None = None
    ) -> Candidate | None:
        """``c`` waiting ``waits[i]`` more departures on its scheduled leg ``i`` [same price],
        at position ``index`` (None: ``c``'s); None when a timetable has no such departure."""
        found = self._by_options.get(id(c.options))
        if found is not None and found[0] is c.options:
            tpl = found[1]
        else:
            loose = self._loose.get(id(c.options))
            if loose is not None and loose[0] is c.options and loose[2] == len(self._templates):
                tpl = loose[1]  # no template stored since: still none for these keys
            else:
                stored = self._templates.get(tuple(o.key for o in c.options))
                if stored is not None:  # stored templates are never replaced
                    self._by_options[id(c.options)] = (c.options, stored)
                    tpl = stored
                else:
                    tpl = self._template(c.options)
                    self._loose[id(c.options)] = (c.options, tpl, len(self._templates))
        timings = self._timed(tpl, hours_since_epoch(shipment.ready_at), waits)
        if timings is None:
            return None
        arrival = timings[-1].arrive_h
        late = max(0.0, arrival - hours_since_epoch(shipment.due_at))
        return Candidate(
            c.shipment_id,
            c.index if index is None else index,
            c.options,
            timings,
            c.hubs,
            arrival,
            late,
            c.var_cost_cny,
            c.var_wtw_kg,
            c.var_ttw_kg,
            c.alone_cost_cny,
            c.alone_wtw_kg,
            waits,
        )

    def timings(
        self, opts: tuple[LaneOption, ...], ready_h: float, waits: tuple[int, ...] = ()
    ) -> tuple[LegTiming, ...] | None:
        """When each leg of ``opts`` runs for a shipment ready at ``ready_h`` [h since EPOCH]
        (None when a timetable has no departure left)."""
        tpl = self._templates.get(tuple(o.key for o in opts)) or self._template(opts)
        return self._timed(tpl, ready_h, waits)

    def _timed(
        self, tpl: _Template, ready_h: float, waits: Sequence[int]
    ) -> tuple[LegTiming, ...] | None:
        """Departure, arrival [h since EPOCH] and slot of each leg (:func:`_leg_timing`), the
        hub dwell added before every leg but the first; None when a timetable has no such
        departure [memoised per leg, ready time and waits]."""
        if len(self._leg_memo) + len(self._path_memo) > LEG_MEMO_SIZE:
            self._leg_memo.clear()
            self._path_memo.clear()
        whole = (tpl.leg_ids, ready_h, tuple(waits))
        if whole not in self._path_memo:
            self._path_memo[whole] = self._legs_timed(tpl, ready_h, waits)
        return self._path_memo[whole]

    def _legs_timed(
        self, tpl: _Template, ready_h: float, waits: Sequence[int]
    ) -> tuple[LegTiming, ...] | None:
        memo = self._leg_memo
        t = ready_h
        timings = []
        for i, leg in enumerate(tpl.legs):
            if i > 0:
                t += leg[0]
            wait = waits[i] if waits else 0
            key = (tpl.leg_ids[i], t, wait)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = _leg_timing(leg, t, wait)
            if not hit:
                return None
            timing, t = hit
            timings.append(timing)
        return tuple(timings)

    def _table(self, lane_id: str) -> _PickTable:
        table = self._tables.get(lane_id)
        if table is None:
            table = self._tables[lane_id] = _PickTable(self.options(lane_id))
        return table

    def _hulls(self, lane_id: str, mass_t: float) -> _Hulls:
        """The options of a lane on the lower convex hull of (cost, WTW CO2e) for ``mass_t``,
        alone and pooled, with the carbon price from which each is the cheapest
        [memoised per lane and mass].

        Ties are broken by (score, option key), as ``min(options, key=_pick)`` would."""
        found = self._hull_cache.get((lane_id, mass_t))
        if found is not None:
            return found
        table = self._table(lane_id)
        m = mass_t
        alone: list[tuple[float, float]] = []
        pooled: list[tuple[float, float]] = []
        for dedicated, payload, vc, cpt, vw, wpt, pool, _key in table.rows:
            if dedicated:
                n = -int(-m // payload)
                if n < 1:
                    n = 1
                ac = n * vc + cpt * m
                aw = n * vw + wpt * m
                pooled.append(pool)
            else:
                ac = 0 * vc + cpt * m
                aw = 0 * vw + wpt * m
                pooled.append((ac / m, aw / m))
            alone.append((ac, aw))
        alone_hull = _lower_hull(alone, table.keys)
        pooled_hull = table.pooled_hull or _lower_hull(pooled, table.keys)
        found = _Hulls(
            table,
            alone_hull,
            pooled_hull,
            tuple(alone),
            tuple([p for p, _ in alone_hull]),
            tuple([p for p, _ in pooled_hull]),
        )
        self._hull_cache[(lane_id, mass_t)] = found
        return found

    def hub_hoc(self, hub_id: str, carrier: str | None) -> CarrierIntensity | None:
        """The HOC of ``carrier`` at hubs of this hub's kind (None: it has none)."""
        if not carrier or not self.intensities:
            return None
        return self.intensities.hoc(carrier, str(self.network.hubs[hub_id].kind))

    def hub_row(
        self, hub_id: str, carrier: str | None = None
    ) -> tuple[float, float, float, float, bool]:
        """(dwell [h], handling [CNY/t], HOC WTW and TTW [kg/t], has a HOC) of a hub passed
        on the lanes of ``carrier`` (its own HOC there when it has one, else the default)."""
        key = (hub_id, carrier or "")
        row = self._hub_rows.get(key)
        if row is None:
            op = self.hub_op(hub_id)
            own = self.hub_hoc(hub_id, carrier)
            if own is not None:
                row = (op.dwell_h, op.handling_cost_cny_per_t, own.wtw, own.ttw, True)
            elif op.hoc_id:
                hoc = self.factors.hoc(op.hoc_id)
                row = (
                    op.dwell_h,
                    op.handling_cost_cny_per_t,
                    hoc.wtw_kg_per_t,
                    hoc.ttw_kg_per_t,
                    True,
                )
            else:
                row = (op.dwell_h, op.handling_cost_cny_per_t, 0.0, 0.0, False)
            self._hub_rows[key] = row
        return row

    def _pick(self, option: LaneOption, choice: str, mass_t: float) -> tuple[float, str]:
        """Sort key of an option: alone (own trucks) or pooled (full trucks, per tonne)."""
        if choice.endswith("pooled"):
            full = option.vehicle_payload_t if option.dedicated else mass_t
            cost, wtw = option.alone_cost_cny(full) / full, option.alone_wtw_kg(full) / full
        else:
            cost, wtw = option.alone_cost_cny(mass_t), option.alone_wtw_kg(mass_t)
        price = self.carbon_price_cny_per_t / KG_PER_T
        score = {"cost": cost, "co2e": wtw}.get(choice.split("_")[0], cost + price * wtw)
        return (score, option.key)

    def _template(
        self, opts: tuple[LaneOption, ...], keys: tuple[str, ...] | None = None
    ) -> _Template:
        """What a candidate on these lane options shares with every shipment taking them; the
        dwell before a leg is the hub's handling dwell + its customs dwell (``keys``: the
        options' keys, when known)."""
        lane_ids = tuple([o.lane.lane_id for o in opts])
        hubs, hub_rows, dwells, en_route, leg_cache = self._path_info(lane_ids, opts)
        legs = []
        leg_ids = []
        for i, o in enumerate(opts):
            found = leg_cache[i].get(id(o))
            if found is None or found[0] is not o:
                leg = (
                    dwells[i],
                    o.dedicated,
                    o.interval_h,
                    o.transit_h,
                    None if o.dedicated else self.schedules.get(o.lane.lane_id),
                    en_route[i],
                )
                dwell, d, interval, transit, sched, on_way = leg
                # every input of a leg's timing, its dwell included: equal ids, equal timings
                ids = self._leg_ids
                leg_id = ids.setdefault((dwell, d, interval, transit, id(sched), on_way), len(ids))
                found = leg_cache[i][id(o)] = (o, leg, leg_id)
            legs.append(found[1])
            leg_ids.append(found[2])
        return _Template(
            opts,
            hubs,
            tuple(legs),
            hub_rows,
            sum(o.cost_cny_per_t for o in opts),
            sum(o.wtw_kg_per_t for o in opts),
            sum(o.ttw_kg_per_t for o in opts),
            any(o.card_cny_per_t for o in opts),
            tuple(leg_ids),
            keys if keys is not None else tuple(o.key for o in opts),
            tuple(
                (o.vehicle_cost_cny / o.vehicle_payload_t, o.vehicle_wtw_kg / o.vehicle_payload_t)
                for o in opts
                if o.dedicated
            ),
        )

    def _path_info(self, lane_ids: tuple[str, ...], opts: Sequence[LaneOption]) -> _PathInfo:
        """What the templates of a lane path share whatever its options: its hubs, their
        rows (:meth:`hub_row`, with the carrier of the lanes: :func:`hub_carriers`), the
        dwell before each leg (hub handling + customs [h], 0 before the first), the customs
        on the way of each leg [h], and per leg its timing inputs per option [cached per
        path]."""
        found = self._paths_info.get(lane_ids)
        if found is None:
            hubs = (opts[0].lane.origin, *(o.lane.destination for o in opts))
            customs = self.customs(lane_ids)
            carriers = hub_carriers(opts)
            found = self._paths_info[lane_ids] = (
                hubs,
                tuple(self.hub_row(h, carriers[i])[1:] for i, h in enumerate(hubs)),
                tuple(
                    self.hub_row(o.lane.origin)[0] + customs.hubs[i][0] if i else 0.0
                    for i, o in enumerate(opts)
                ),
                tuple(customs.lanes[i][0] for i in range(len(opts))),
                tuple({} for _ in opts),
            )
        return found


def built(shipment: Shipment, index: int, row: CandidateRow) -> Candidate:
    """The candidate of ``shipment`` at position ``index`` that ``row`` describes."""
    tpl = row[0]
    return Candidate(
        shipment.shipment_id,
        index,
        tpl.options,
        row[1],
        tpl.hubs,
        row[10],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
    )


def _leg_timing(
    leg: tuple[float, bool, float, float, LaneSchedule | None, float], ready_h: float, wait: int
) -> tuple[LegTiming, float] | tuple[()]:
    """(timing, arrival [h since EPOCH]) of a template's leg for a shipment at its hub at
    ``ready_h`` (after the hub's dwell), () when a timetable has no such departure: road legs
    leave at once (day slots); a leg's arrival adds the customs of the borders it crosses on
    the way; scheduled legs take the first departure after ``ready_h`` plus ``wait``: on a
    timetabled lane the first whose cut-off the shipment reaches (arrival + handling <=
    departure - cut-off) with the timetable's transit, else every ``interval`` hours."""
    _, dedicated, interval, transit, schedule, en_route = leg
    if dedicated:
        depart, slot = ready_h, math.floor(ready_h / HOURS_PER_DAY)
    elif schedule is not None:
        boarded = schedule.board(ready_h, wait)
        if boarded is None:
            return ()
        slot, dep = boarded
        t = dep.depart_h + dep.transit_h + en_route
        return LegTiming(dep.depart_h, t, slot, dep.service_id, dep.cutoff_h, dep.capacity_t), t
    else:
        slot = math.ceil(ready_h / interval - 1e-9) + wait
        depart = slot * interval
    t = depart + transit + en_route
    return LegTiming(depart, t, slot), t


def _lower_hull(
    points: Sequence[tuple[float, float]], keys: Sequence[str]
) -> tuple[tuple[float, int], ...]:
    """(carbon price from which it is the cheapest [CNY/kg], option index) along the lower
    convex hull of (cost, CO2e) points, from the cheapest (price 0) to the greenest: from
    each point, the next is the greener one reached at the lowest price (ties: the greener,
    then by key)."""
    pts = [(c, w, keys[i], i) for i, (c, w) in enumerate(points)]
    cur = min(pts)[3]
    out = [(0.0, cur)]
    c0, w0 = points[cur]
    # only points greener than the current one can follow it (its CO2e only decreases)
    rest = [r for r in pts if r[1] < w0]
    while rest:
        # the least (p, w, key), p = max(0, slope), compared term by term as tuples are
        bp, bw, bk, bi = math.inf, math.inf, "", -1
        first = True
        for c, w, key, i in rest:
            p = (c - c0) / (w0 - w)
            if not p > 0.0:
                p = 0.0
            if first or p < bp or (p == bp and (w < bw or (w == bw and key < bk))):
                bp, bw, bk, bi = p, w, key, i
                first = False
        cur = bi
        out.append((bp, cur))
        c0, w0 = points[cur]
        rest = [r for r in rest if r[1] < w0]
    return tuple(out)


def _frontier_combos(hulls: Sequence[_Hulls]) -> list[tuple[int, ...]]:
    """Option index per leg of every combination that is the cheapest at some carbon price,
    alone then pooled, in order of price (duplicates kept for the caller to skip).

    At each price, each leg takes the last option of its hull whose price is no higher (a
    hull starts at price 0, so a leg with one option keeps it)."""
    out: list[tuple[int, ...]] = []
    for legs, prices in (
        ([h.alone_hull for h in hulls], [h.alone_prices for h in hulls]),
        ([h.pooled_hull for h in hulls], [h.pooled_prices for h in hulls]),
    ):
        base = [leg[0][1] for leg in legs]
        pairs = enumerate(zip(prices, legs, strict=True))
        multi = [(j, ps, leg) for j, (ps, leg) in pairs if len(leg) > 1]
        if not multi:
            out.append(tuple(base))
            continue
        for p in sorted({p for _, ps, _ in multi for p in ps}):
            for j, ps, leg in multi:
                base[j] = leg[bisect_right(ps, p) - 1][1]
            out.append(tuple(base))
    return out


@dataclass(frozen=True, slots=True)
class _Template:
    """Lane options of a candidate with their mass-free parts: legs as (dwell before [h],
    dedicated, departure interval [h], transit [h], timetable or None, customs on the way
    [h]), hubs as (handling
    [CNY/t], HOC WTW and TTW [kg/t], has a HOC), and per-tonne sums [CNY/t, kg/t]."""

    options: tuple[LaneOption, ...]
    hubs: tuple[str, ...]
    legs: tuple[tuple[float, bool, float, float, LaneSchedule | None, float], ...]
    hub_rows: tuple[tuple[float, float, float, bool], ...]
    cost_per_t: float
    wtw_per_t: float
    ttw_per_t: float
    carded: bool = False
    """Some leg is priced at a rate card (per-shipment terms apply)."""
    leg_ids: tuple[int, ...] = ()
    """Per leg, the builder's id of its timing inputs (the key of its timing memo)."""
    keys: tuple[str, ...] = ()
    """The options' keys."""
    pool_terms: tuple[tuple[float, float], ...] = ()
    """Per leg on own trucks, in order, its vehicle's cost and WTW per tonne of payload
    [CNY/t, kg/t]: what pooling into full trucks adds per tonne (``problem._merit``)."""


_Priced = tuple["_Template", float, float, float, float, float, float, float]
"""A combination of a lane path priced for a mass (:meth:`CandidateBuilder._priced`)."""
_PathInfo = tuple[
    tuple[str, ...],
    tuple[tuple[float, float, float, bool], ...],
    tuple[float, ...],
    tuple[float, ...],
    tuple[dict[int, tuple[LaneOption, tuple[float, bool, float, float, Any, float], int]], ...],
]
"""See :meth:`CandidateBuilder._path_info`."""


@dataclass(frozen=True, slots=True)
class _Customs:
    """Customs of a path: (dwell [h], why) at each hub and on each lane."""

    hubs: tuple[tuple[float, str], ...]
    lanes: tuple[tuple[float, str], ...]


class _PickTable:
    """A lane's options as plain tuples for the option pick (keys computed once)."""

    __slots__ = ("distinct", "keys", "options", "pooled_hull", "rows")

    def __init__(self, options: Sequence[LaneOption]) -> None:
        self.options = tuple(options)
        self.keys = tuple(o.key for o in self.options)
        self.distinct = len(set(self.keys)) == len(self.keys)
        """No two options share a key."""
        rows = []
        for o, key in zip(self.options, self.keys, strict=True):
            p = o.vehicle_payload_t
            pooled = (o.alone_cost_cny(p) / p, o.alone_wtw_kg(p) / p) if o.dedicated else (0.0, 0.0)
            rows.append(
                (
                    o.dedicated,
                    p,
                    o.vehicle_cost_cny,
                    o.cost_cny_per_t,
                    o.vehicle_wtw_kg,
                    o.wtw_kg_per_t,
                    pooled,
                    key,
                )
            )
        self.rows = tuple(rows)
        self.pooled_hull = (
            _lower_hull([r[6] for r in self.rows], self.keys)
            if self.rows and all(r[0] for r in self.rows)
            else None
        )
        """The pooled lower hull when every option is a vehicle (full trucks: the same for
        every mass), else None."""


@dataclass(frozen=True, slots=True)
class _Hulls:
    """A lane's options on the lower convex hull for one mass: (price from which it is the
    cheapest [CNY/kg CO2e], option index), alone and pooled; (cost, WTW) alone per option."""

    table: _PickTable
    alone_hull: tuple[tuple[float, int], ...]
    pooled_hull: tuple[tuple[float, int], ...]
    alone: tuple[tuple[float, float], ...]
    alone_prices: tuple[float, ...]
    """The prices of ``alone_hull`` [CNY/kg CO2e]."""
    pooled_prices: tuple[float, ...]
    """The prices of ``pooled_hull`` [CNY/kg CO2e]."""


def _file_sha256(path: Path) -> str:
    """sha256 of a table's bytes ("absent" when there is no such file)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "absent"


def hub_carriers(opts: Sequence[LaneOption]) -> tuple[str | None, ...]:
    """The carrier whose HOC applies at each hub of a path: the carrier of the lane leaving
    it, at the last hub the carrier of the lane arriving."""
    return (*(o.lane.carrier for o in opts), opts[-1].lane.carrier)


def route_independent_tkm(shipment_mass_t: float, origin: Hub, destination: Hub) -> float:
    """Activity on the great-circle distance origin -> destination [tkm] (KPI denominator)."""
    return shipment_mass_t * gcd_km(origin.lat, origin.lon, destination.lat, destination.lon)


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats."""
    return list(dict.fromkeys(items))
