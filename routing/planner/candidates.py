"""Candidate paths: k good, mode-diverse ways to move each shipment, priced and timed.

Paths come from k-shortest simple paths (Yen, via networkx) on three weightings — cost, WTW
CO2e and time per tonne at a reference load — plus, for each main-haul mode, the best path
restricted to road + that mode. Each lane path is then dressed with lane options (vehicle and
carrier) three ways: cheapest, greenest and best at the request's carbon price.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice, pairwise

import networkx as nx

from greenlane.emissions.distance import gcd_km
from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import Factors, load_factors
from greenlane.emissions.model import Mode
from greenlane.emissions.units import KG_PER_T, S_PER_H
from greenlane.fleet.model import EnergyPrices
from greenlane.fleet.regulation import Regulation
from greenlane.routing.network.graph import Network
from greenlane.routing.network.model import Hub
from greenlane.routing.planner.pricing import HubOperation, LaneOption, hub_operations, price_lane
from greenlane.routing.planner.shipments import Shipment

EPOCH = datetime(2023, 1, 2, tzinfo=UTC)
"""Anchor of every departure schedule (a Monday, 00:00 UTC): departures are at k x interval."""
HOURS_PER_DAY = 24.0
REFERENCE_MASS_T = 10.0
"""Load at which lanes are weighted for path search [t] (GLEC default TEU mass)."""
MAIN_MODES = (Mode.SEA, Mode.RAIL, Mode.AIR, Mode.INLAND_WATER)
CHOICES = ("cost", "co2e", "price", "cost_pooled", "co2e_pooled", "price_pooled")
"""How a lane path is dressed with options: cheapest, greenest or best at the carbon price,
each for the shipment travelling alone or pooled into full trucks (consolidation)."""


@dataclass(frozen=True, slots=True)
class LegTiming:
    """When a candidate's leg runs [h since EPOCH] and which departure slot it uses."""

    depart_h: float
    arrive_h: float
    slot: int


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

    @property
    def modes(self) -> tuple[Mode, ...]:
        """Modes of the legs, in order."""
        return tuple(o.lane.mode for o in self.options)

    @property
    def label(self) -> str:
        """Short description, e.g. ``road > sea > road``."""
        return " > ".join(str(m) for m in self.modes)


def hours_since_epoch(when: datetime) -> float:
    """Hours from EPOCH to ``when`` [h]."""
    return (when - EPOCH).total_seconds() / S_PER_H


def datetime_at(hours: float) -> datetime:
    """The instant ``hours`` after EPOCH."""
    from datetime import timedelta

    return EPOCH + timedelta(hours=hours)


def resolve_place(network: Network, ref: str, field: str) -> Hub:
    """A hub by id, UN/LOCODE, IATA code, or the nearest hub to ``lat;lon``."""
    ref = ref.strip()
    if ref in network.hubs:
        return network.hubs[ref]
    upper = ref.upper()
    for hub in network.hubs.values():
        if upper in (hub.locode, hub.iata):
            return hub
    if ";" in ref or "," in ref:
        parts = ref.replace(",", ";").split(";")
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            raise InputError(f"{ref!r} is not 'lat;lon'", field=field) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InputError(f"{ref!r} is out of range", field=field)
        return min(network.hubs.values(), key=lambda h: gcd_km(lat, lon, h.lat, h.lon))
    raise InputError(f"unknown place {ref!r} (hub id, UN/LOCODE, IATA or 'lat;lon')", field=field)


class CandidateBuilder:
    """Prices lanes once and enumerates candidates per shipment (cached per OD and modes).

    ``energy_prices`` is the energy price table lanes are priced with (None: the shipped one);
    ``regulation`` the year of travel and prices of the regulatory carbon costs (None: none);
    ``rate_cards`` prices carrier-sold scheduled services at their rate card.
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
    ) -> None:
        self.network = network
        self.factors = factors or load_factors()
        self.k_paths = k_paths
        self.carbon_price_cny_per_t = carbon_price_cny_per_t
        self.carriers = carriers
        self.energy_prices = energy_prices
        self.regulation = regulation
        self.rate_cards = rate_cards
        self.hub_ops = hub_operations()
        self._options: dict[str, list[LaneOption]] = {}
        self._paths: dict[tuple[str, str, frozenset[Mode]], list[tuple[str, ...]]] = {}
        self._tables: dict[str, _PickTable] = {}
        self._picks: dict[tuple[str, float], _Picked] = {}
        self._hub_rows: dict[str, tuple[float, float, float, float, bool]] = {}
        self._templates: dict[tuple[str, ...], _Template] = {}

    def options(self, lane_id: str) -> list[LaneOption]:
        """Priced options of a lane [cached]."""
        if lane_id not in self._options:
            lane = self.network.lane(lane_id)
            self._options[lane_id] = price_lane(
                lane,
                self.network.hubs[lane.origin],
                self.factors,
                self.carriers,
                self.energy_prices,
                destination=self.network.hubs[lane.destination],
                regulation=self.regulation,
                rate_cards=self.rate_cards,
            )
        return self._options[lane_id]

    def hub_op(self, hub_id: str) -> HubOperation:
        """The hub operation applying at ``hub_id`` (by its kind)."""
        return self.hub_ops[str(self.network.hubs[hub_id].kind)]

    def _score(self, option: LaneOption, weight: str) -> float:
        m = REFERENCE_MASS_T
        if weight == "cost":
            return option.alone_cost_cny(m) / m
        if weight == "co2e":
            return option.alone_wtw_kg(m) / m
        if weight == "time":
            return option.transit_h + option.interval_h / 2
        price = self.carbon_price_cny_per_t / KG_PER_T
        return (option.alone_cost_cny(m) + price * option.alone_wtw_kg(m)) / m

    def _digraph(self, weight: str, modes: frozenset[Mode]) -> nx.DiGraph:
        g: nx.DiGraph[str] = nx.DiGraph()
        for u, v, key, data in self.network.graph.edges(keys=True, data=True):
            lane = data["lane"]
            if lane.mode not in modes:
                continue
            w = min(self._score(o, weight) for o in self.options(key))
            w += self.hub_op(v).dwell_h if weight == "time" else 0.0
            if not g.has_edge(u, v) or g[u][v]["w"] > w:
                g.add_edge(u, v, w=w, lane_id=key)
        return g

    def lane_paths(
        self, origin: str, destination: str, modes: frozenset[Mode]
    ) -> list[tuple[str, ...]]:
        """Lane-id sequences from origin to destination [cached per OD and modes]."""
        key = (origin, destination, modes)
        if key in self._paths:
            return self._paths[key]
        found: dict[tuple[str, ...], None] = {}
        # at a carbon price of 0 the "price" weights equal the "cost" weights bit for bit
        # (x + 0.0 * y == x), so its paths would repeat the cost search's
        weights = (
            ("cost", "co2e", "time")
            if self.carbon_price_cny_per_t == 0
            else ("cost", "co2e", "time", "price")
        )
        searches: list[tuple[str, frozenset[Mode], int]] = [
            (w, modes, self.k_paths) for w in weights
        ]
        for main in MAIN_MODES:
            if main in modes:
                sub = frozenset({Mode.ROAD, main}) & modes
                searches += [("cost", sub, 1), ("co2e", sub, 1)]
        for weight, allowed, k in searches:
            g = self._graph(weight, allowed)
            if origin not in g or destination not in g:
                continue
            try:
                for nodes in islice(nx.shortest_simple_paths(g, origin, destination, "w"), k):
                    found[tuple(g[a][b]["lane_id"] for a, b in pairwise(nodes))] = None
            except nx.NetworkXNoPath:
                continue
        self._paths[key] = list(found)
        return self._paths[key]

    def _graph(self, weight: str, modes: frozenset[Mode]) -> nx.DiGraph:
        cache = self.__dict__.setdefault("_graphs", {})
        if (weight, modes) not in cache:
            cache[(weight, modes)] = self._digraph(weight, modes)
        return cache[(weight, modes)]

    def candidates(self, shipment: Shipment, origin: Hub, destination: Hub) -> list[Candidate]:
        """Priced, timed candidates of one shipment (late ones included, flagged)."""
        modes = shipment.allowed_modes or frozenset(Mode)
        modes = modes | {Mode.ROAD}
        out: list[Candidate] = []
        seen: set[tuple[str, ...]] = set()
        m = shipment.mass_t
        ready, due = hours_since_epoch(shipment.ready_at), hours_since_epoch(shipment.due_at)
        templates = self._templates
        for path in self.lane_paths(origin.hub_id, destination.hub_id, frozenset(modes)):
            picked = [self._picked(lid, m) for lid in path]
            for ci in range(len(CHOICES)):
                chosen = [p.chosen[ci] for p in picked]
                keys = tuple(p.table.keys[i] for p, i in zip(picked, chosen, strict=True))
                if keys in seen:
                    continue
                seen.add(keys)
                tpl = templates.get(keys)
                if tpl is None:
                    opts = tuple(p.table.options[i] for p, i in zip(picked, chosen, strict=True))
                    tpl = templates[keys] = self._template(opts)
                alone = [p.alone[i] for p, i in zip(picked, chosen, strict=True)]
                out.append(self._candidate(shipment, len(out), tpl, alone, ready, due))
        return out

    def _table(self, lane_id: str) -> _PickTable:
        table = self._tables.get(lane_id)
        if table is None:
            table = self._tables[lane_id] = _PickTable(self.options(lane_id))
        return table

    def _picked(self, lane_id: str, mass_t: float) -> _Picked:
        """The option each of CHOICES picks on a lane for ``mass_t`` [memoised per lane, mass].

        Same arithmetic as :meth:`_pick` (and ``LaneOption.alone_*``) in the same order, so
        the result is identical to ``min(options, key=_pick)`` for every choice.
        """
        found = self._picks.get((lane_id, mass_t))
        if found is not None:
            return found
        table = self._table(lane_id)
        price = self.carbon_price_cny_per_t / KG_PER_T
        m = mass_t
        best: list[tuple[float, str] | None] = [None] * len(CHOICES)
        chosen = [0] * len(CHOICES)
        alone: list[tuple[float, float]] = []
        for i, (dedicated, payload, vc, cpt, vw, wpt, pooled, key) in enumerate(table.rows):
            n = max(1, -int(-m // payload)) if dedicated else 0
            ac = n * vc + cpt * m
            aw = n * vw + wpt * m
            alone.append((ac, aw))
            if dedicated:
                pc, pw = pooled
            else:
                pc, pw = ac / m, aw / m
            for ci, score in enumerate((ac, aw, ac + price * aw, pc, pw, pc + price * pw)):
                b = best[ci]
                if b is None or (score, key) < b:
                    best[ci] = (score, key)
                    chosen[ci] = i
        found = _Picked(table, tuple(chosen), {i: alone[i] for i in set(chosen)})
        self._picks[(lane_id, mass_t)] = found
        return found

    def _hub_row(self, hub_id: str) -> tuple[float, float, float, float, bool]:
        """(dwell [h], handling [CNY/t], HOC WTW and TTW [kg/t], has a HOC) of a hub."""
        row = self._hub_rows.get(hub_id)
        if row is None:
            op = self.hub_op(hub_id)
            if op.hoc_id:
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
            self._hub_rows[hub_id] = row
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

    def _template(self, opts: tuple[LaneOption, ...]) -> _Template:
        """What a candidate on these lane options shares with every shipment taking them."""
        legs = tuple(
            (self._hub_row(o.lane.origin)[0] if i else 0.0, o.dedicated, o.interval_h, o.transit_h)
            for i, o in enumerate(opts)
        )
        hubs = (opts[0].lane.origin, *(o.lane.destination for o in opts))
        return _Template(
            opts,
            hubs,
            legs,
            tuple(self._hub_row(h)[1:] for h in hubs),
            sum(o.cost_cny_per_t for o in opts),
            sum(o.wtw_kg_per_t for o in opts),
            sum(o.ttw_kg_per_t for o in opts),
        )

    def _candidate(
        self,
        s: Shipment,
        index: int,
        tpl: _Template,
        alone: Sequence[tuple[float, float]],
        ready_h: float,
        due_h: float,
    ) -> Candidate:
        t = ready_h
        timings = []
        for i, (dwell, dedicated, interval, transit) in enumerate(tpl.legs):
            if i > 0:
                t += dwell
            if dedicated:
                depart, slot = t, math.floor(t / HOURS_PER_DAY)
            else:
                slot = math.ceil(t / interval - 1e-9)
                depart = slot * interval
            t = depart + transit
            timings.append(LegTiming(depart, t, slot))
        m = s.mass_t
        hub_cost = hub_wtw = hub_ttw = 0.0
        for handling, wtw_t, ttw_t, has_hoc in tpl.hub_rows:
            hub_cost += handling * m
            if has_hoc:
                hub_wtw += wtw_t * m
                hub_ttw += ttw_t * m
        return Candidate(
            s.shipment_id,
            index,
            tpl.options,
            tuple(timings),
            tpl.hubs,
            t,
            max(0.0, t - due_h),
            tpl.cost_per_t * m + hub_cost,
            tpl.wtw_per_t * m + hub_wtw,
            tpl.ttw_per_t * m + hub_ttw,
            sum(a[0] for a in alone) + hub_cost,
            sum(a[1] for a in alone) + hub_wtw,
        )


@dataclass(frozen=True, slots=True)
class _Template:
    """Lane options of a candidate with their mass-free parts: legs as (dwell before [h],
    dedicated, departure interval [h], transit [h]), hubs as (handling [CNY/t], HOC WTW and
    TTW [kg/t], has a HOC), and per-tonne sums [CNY/t, kg/t]."""

    options: tuple[LaneOption, ...]
    hubs: tuple[str, ...]
    legs: tuple[tuple[float, bool, float, float], ...]
    hub_rows: tuple[tuple[float, float, float, bool], ...]
    cost_per_t: float
    wtw_per_t: float
    ttw_per_t: float


class _PickTable:
    """A lane's options as plain tuples for the option pick (keys computed once)."""

    __slots__ = ("keys", "options", "rows")

    def __init__(self, options: Sequence[LaneOption]) -> None:
        self.options = tuple(options)
        self.keys = tuple(o.key for o in self.options)
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


@dataclass(frozen=True, slots=True)
class _Picked:
    """The option index per choice on one lane for one mass, and their (cost, WTW) alone."""

    table: _PickTable
    chosen: tuple[int, ...]
    alone: dict[int, tuple[float, float]]


def route_independent_tkm(shipment_mass_t: float, origin: Hub, destination: Hub) -> float:
    """Activity on the great-circle distance origin -> destination [tkm] (KPI denominator)."""
    return shipment_mass_t * gcd_km(origin.lat, origin.lon, destination.lat, destination.lon)


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats."""
    return list(dict.fromkeys(items))
