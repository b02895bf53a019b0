"""Levers: a marginal abatement cost curve (MACC) for a book of shipments, from the planner.

How a lever is evaluated (one change at a time, everything else equal):

1. The **reference** is the planner's plan of the book under ``options`` (by default least
   cost, no carbon price, the fleet ``options.carriers`` allows).
2. A **lever** changes the candidates of the problem the reference was solved on, and
   nothing else:

   * ``road_bev`` (a trade lane ``origin>destination``): every road leg of the trade lane's
     shipments runs a battery-electric truck where the network lane offers one
     (``lanes.csv`` ``vehicle_types``), on the grid of the leg's origin region;
   * ``air_saf`` (a network air lane): the lane's flights burn the SAF blend of the first row
     of ``data/saf_blends.csv`` (30 % by energy); the planner picks the SAF pathway;
   * ``rail_for_air`` (a trade lane): the trade lane's shipments may not fly; their paths are
     searched again without air (rail, sea, inland water, road), due dates still hard;
   * ``sea_wind`` (a network sea lane): wind-assisted vessels (``vehicle_types.csv``
     ``wind_assist_saving_share``) on the fuel of each option, plus the rotor-sail capital
     cost per vessel-day of ``data/levers.csv``;
   * ``sea_lng`` (a network sea lane): LNG dual-fuel vessels (the fossil LNG engine
     technologies of ``energy_carriers.csv``) plus the newbuild premium of ``levers.csv``.

   Every candidate that uses an affected leg is re-dressed with the lever's options
   (cheapest, greenest and best at the carbon price, alone and pooled, as
   ``routing.planner.candidates`` does), so a lever never leaves its scope on the old fleet;
   candidates without affected legs are kept unchanged.
3. The changed problem is solved with the same options, seed and time limit. ``Δcost`` and
   ``ΔCO2e`` are lever plan minus reference plan over the whole book, so consolidation and
   re-routing effects are included; the MACC height is ``Δcost / abatement`` [CNY/t CO2e].
4. Levers are evaluated against the reference one at a time: they are **not additive**
   where they overlap (SAF on an air lane and rail instead of air on a trade lane that uses
   it). A lever plan serving fewer shipments than the reference is reported ``infeasible``,
   not priced; one the planner routes around entirely is ``not_applied``.

Costs are the planner's (``fleet.cost``: vehicle fixed/km/h costs and energy prices) plus the
lever capital costs of ``levers.csv``; the LNG premium there is a tanker proxy (see the row).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import Factors, co2e_of_energy_kg
from greenlane.emissions.ledger import lane_key
from greenlane.emissions.model import Mode
from greenlane.emissions.tables import TableRow, Text, Year, read_table
from greenlane.emissions.units import H_PER_DAY, KG_PER_T
from greenlane.fleet import fx_rates, leg_cost_cny, profile, vehicle_type
from greenlane.fleet.model import EnergyPrices
from greenlane.routing.network.graph import Network
from greenlane.routing.network.model import Hub, Lane
from greenlane.routing.planner.candidates import (
    CHOICES,
    Candidate,
    hours_since_epoch,
    hub_carriers,
)
from greenlane.routing.planner.plan import Plan
from greenlane.routing.planner.pricing import LaneOption, price_lane, saf_blend_shares
from greenlane.routing.planner.problem import (
    PlanOptions,
    Problem,
    Unplanned,
    build_problem,
    is_usable,
)
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.planner.solve import solve_problem

KINDS = ("road_bev", "air_saf", "rail_for_air", "sea_wind", "sea_lng")
"""The lever kinds, in the order they are proposed."""
LEVERS_TABLE = "levers.csv"
MIN_ABATEMENT_T = 1e-6
"""Below this abatement [t CO2e] a lever is reported as giving none."""
_DESCRIBE = {
    "road_bev": "road legs of {scope} by battery-electric truck",
    "air_saf": "{share:.0%} SAF on air lane {scope}",
    "rail_for_air": "no air freight on {scope} (rail, sea or road instead)",
    "sea_wind": "wind-assisted vessels on sea lane {scope}",
    "sea_lng": "LNG dual-fuel vessels on sea lane {scope}",
}


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class VesselCapex:
    """Capital cost of a vessel-level lever, spread over its sailing days [CNY/vessel-day]."""

    lever: str
    vessel_capex: float
    currency: str
    lifetime_years: float
    discount_rate: float
    sailing_days_per_year: float
    source: str
    year: int
    note: str

    def cny_per_vessel_day(self) -> float:
        """Annuity of the capex (capital recovery factor) per sailing day [CNY/day]."""
        r, n = self.discount_rate, self.lifetime_years
        crf = r * (1 + r) ** n / ((1 + r) ** n - 1) if r > 0 else 1 / n
        rate = fx_rates()[self.currency].cny_per_unit
        capex_cny = float(Decimal(str(self.vessel_capex)) * rate)
        return capex_cny * crf / self.sailing_days_per_year


class LeverRow(TableRow):
    """A row of ``levers.csv``: the vessel capital cost of a lever and how it is spread."""

    lever: Text
    vessel_capex: Annotated[float, Field(gt=0.0)]
    currency: Text
    lifetime_years: Annotated[float, Field(gt=0.0)]
    discount_rate: Annotated[float, Field(ge=0.0)]
    sailing_days_per_year: Annotated[float, Field(gt=0.0)]
    data_quality: str
    source: Text
    year: Year
    note: str = ""


@cache
def lever_costs(data_dir: Path = DATA_DIR) -> dict[str, VesselCapex]:
    """Vessel capital costs of the levers from ``data/levers.csv`` [cached]."""
    out: dict[str, VesselCapex] = {}
    for row in read_table(data_dir / LEVERS_TABLE, LeverRow):
        if row.currency not in fx_rates():
            raise row.error("currency", f"no exchange rate for {row.currency}")
        out[row.lever] = VesselCapex(
            lever=row.lever,
            vessel_capex=row.vessel_capex,
            currency=row.currency,
            lifetime_years=row.lifetime_years,
            discount_rate=row.discount_rate,
            sailing_days_per_year=row.sailing_days_per_year,
            source=row.source,
            year=row.year,
            note=row.note,
        )
    return out


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Lever:
    """A change to evaluate: its kind, scope (trade lane or network lane) and what it touches.

    ``touched_co2e_kg`` is the reference plan's WTW on the legs (or, for ``rail_for_air``, the
    shipments) the lever changes [kg CO2e]; levers are proposed in that order.
    """

    lever_id: str
    kind: str
    scope: str
    description: str
    touched_co2e_kg: float = 0.0


@dataclass(frozen=True, slots=True)
class LeverResult:
    """One lever against the reference: totals, deltas [CNY, kg CO2e] and CNY per t CO2e.

    ``status``: ``ok`` (abates), ``no_abatement``, ``not_applied`` (the planner kept the
    reference legs) or ``infeasible`` (fewer shipments served).
    """

    lever: Lever
    status: str
    cost_cny: float | None
    co2e_wtw_kg: float | None
    delta_cost_cny: float | None
    delta_co2e_kg: float | None
    abatement_t: float
    cny_per_t: float | None
    legs_changed: int
    solver_status: str
    note: str = ""


@dataclass(frozen=True)
class Macc:
    """The curve: the reference plan and every lever's result, cheapest abatement first."""

    reference: Plan
    results: tuple[LeverResult, ...]
    settings: dict[str, Any] = field(default_factory=dict)

    def curve(self) -> list[dict[str, Any]]:
        """Bars of the abating levers: ``x0``..``x1`` cumulative t CO2e, height CNY/t."""
        out, x = [], 0.0
        for r in self.results:
            if r.status != "ok" or r.cny_per_t is None:
                continue
            out.append(
                {
                    "lever_id": r.lever.lever_id,
                    "label": r.lever.description,
                    "x0": x,
                    "x1": x + r.abatement_t,
                    "cny_per_t": r.cny_per_t,
                }
            )
            x += r.abatement_t
        return out


def _r(value: float | None, nd: int = 3) -> float | None:
    return None if value is None else round(value, nd)


def macc_to_dict(m: Macc) -> dict[str, Any]:
    """The MACC as JSON (API, CLI, UI chart)."""
    ref = m.reference
    return {
        "reference": {
            "status": ref.status,
            "shipments_planned": len(ref.shipments),
            "cost_cny": _r(ref.cost_cny, 2),
            "co2e_wtw_kg": _r(ref.co2e_wtw_kg),
            "tkm_gcd": _r(ref.tkm_gcd),
            "intensity_g_per_tkm": _r(ref.intensity_g_per_tkm, 4),
            "data_sha256": dict(ref.data_sha256),
        },
        "levers": [
            {
                "lever_id": r.lever.lever_id,
                "kind": r.lever.kind,
                "scope": r.lever.scope,
                "description": r.lever.description,
                "status": r.status,
                "cost_cny": _r(r.cost_cny, 2),
                "co2e_wtw_kg": _r(r.co2e_wtw_kg),
                "delta_cost_cny": _r(r.delta_cost_cny, 2),
                "delta_co2e_kg": _r(r.delta_co2e_kg),
                "abatement_t": _r(r.abatement_t, 6),
                "cny_per_t_co2e": _r(r.cny_per_t, 2),
                "legs_changed": r.legs_changed,
                "touched_co2e_kg": _r(r.lever.touched_co2e_kg),
                "solver_status": r.solver_status,
                "note": r.note,
            }
            for r in m.results
        ],
        "curve": m.curve(),
        "settings": m.settings,
        "method": (
            "each lever re-plans the book with the same candidate paths (re-dressed where the "
            "lever applies), options, seed and time limit; deltas are lever plan minus "
            "reference plan; levers are not additive where they overlap"
        ),
    }


# ----------------------------------------------------------------------------- proposing


def propose(reference: Plan, network: Network, kinds: Sequence[str] = KINDS) -> list[Lever]:
    """Levers worth evaluating on the reference plan, most CO2e touched first."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InputError(
            f"unknown lever kind {unknown[0]!r}; one of {', '.join(KINDS)}", field="kinds"
        )
    touched: dict[tuple[str, str], float] = {}

    def add(kind: str, scope: str, kg: float) -> None:
        if kind in kinds:
            touched[(kind, scope)] = touched.get((kind, scope), 0.0) + kg

    for s in reference.shipments:
        trade = lane_key(s.origin, s.destination)
        flies = False
        for leg in s.legs:
            wtw = leg.tce.co2e_wtw_kg
            lane = network.lane(leg.lane_id)
            if (
                leg.mode == Mode.ROAD
                and not leg.energy_carrier.startswith("electricity")
                and _lane_offers(lane, "electricity")
            ):
                add("road_bev", trade, wtw)
            elif leg.mode == Mode.AIR:
                flies = True
                if "+saf_" not in leg.energy_carrier:
                    add("air_saf", lane.lane_id, wtw)
            elif leg.mode == Mode.SEA:
                if not leg.vehicle_id.endswith("+wind") and _wind_share(lane) > 0:
                    add("sea_wind", lane.lane_id, wtw)
                if not leg.energy_carrier.startswith("lng_marine") and _lane_offers(
                    lane, "lng_marine"
                ):
                    add("sea_lng", lane.lane_id, wtw)
        if flies:
            add("rail_for_air", trade, s.footprint.totals.co2e_wtw_kg)
    order = {k: i for i, k in enumerate(KINDS)}
    items = sorted(touched.items(), key=lambda kv: (-kv[1], order[kv[0][0]], kv[0][1]))
    share = saf_blend_shares()[0]
    return [
        Lever(f"{kind}:{scope}", kind, scope, _DESCRIBE[kind].format(scope=scope, share=share), kg)
        for (kind, scope), kg in items
    ]


def _lane_offers(lane: Lane, carrier_prefix: str) -> bool:
    return any(
        c.startswith(carrier_prefix)
        for vid in lane.vehicle_types
        for c in vehicle_type(vid, "vehicle_types").energy_carriers
    )


def _wind_share(lane: Lane) -> float:
    return max(
        vehicle_type(vid, "vehicle_types").wind_assist_saving_share for vid in lane.vehicle_types
    )


# ----------------------------------------------------------------------------- lever options

Swap = Callable[[str, LaneOption], list[LaneOption] | None]
"""(shipment's trade lane, reference option) -> the lever's options for that leg, or None."""


class _Options:
    """Lever options per lane (priced once, on every carrier the vehicles may use)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.factors: Factors = problem.factors
        self.energy_prices: EnergyPrices | None = problem.builder.energy_prices
        self.data_dir: Path = problem.builder.data_dir
        self._all: dict[str, list[LaneOption]] = {}

    def all(self, lane: Lane) -> list[LaneOption]:
        if lane.lane_id not in self._all:
            origin = self.problem.network.hubs[lane.origin]
            self._all[lane.lane_id] = price_lane(
                lane, origin, self.factors, "all", self.energy_prices, data_dir=self.data_dir
            )
        return self._all[lane.lane_id]

    def origin(self, lane: Lane) -> Hub:
        return self.problem.network.hubs[lane.origin]


def _surcharge_per_t(o: LaneOption, per_day_cny: float) -> float:
    """Vessel capex per vessel-day over the departure's days, per tonne at default load."""
    return per_day_cny * (o.lane.transit_h / H_PER_DAY) / o.vehicle_payload_t


def _wind_option(
    o: LaneOption,
    origin: Hub,
    f: Factors,
    per_day_cny: float,
    prices: EnergyPrices | None = None,
    data_dir: Path = DATA_DIR,
) -> LaneOption | None:
    vehicle = vehicle_type(o.vehicle_id, "vehicle_types", data_dir)
    if vehicle.wind_assist_saving_share <= 0 or o.dedicated:
        return None
    prof = profile(o.vehicle_id, o.carrier, wind_assist=True, factors=f, data_dir=data_dir)
    e_t = prof.energy_mj_per_tkm * o.distance_km
    wtt, ttw = co2e_of_energy_kg(prof.carrier, e_t)
    cost = float(
        leg_cost_cny(
            vehicle,
            o.carrier,
            origin.country,
            o.vehicle_payload_t,
            o.distance_km,
            o.lane.transit_h,
            wind_assist=True,
            empty_running_share=vehicle.default_empty_running_share,
            factors=f,
            data_dir=data_dir,
            prices=prices,
        ).total_cny
    )
    return replace(
        o,
        vehicle_id=f"{o.vehicle_id}+wind",
        energy_mj_per_t=e_t,
        wtw_kg_per_t=wtt + ttw,
        ttw_kg_per_t=ttw,
        cost_cny_per_t=cost / o.vehicle_payload_t + _surcharge_per_t(o, per_day_cny),
    )


def _saf_share(carrier: str) -> float | None:
    if "+saf_" not in carrier or ":" not in carrier:
        return None
    try:
        return float(carrier.rsplit(":", 1)[1])
    except ValueError:
        return None


def _swap_for(
    lever: Lever, opts: _Options, builder_options: Callable[[str], list[LaneOption]]
) -> Swap:
    """The option substitution of a lever (cached per lane)."""
    cache_: dict[str, list[LaneOption] | None] = {}

    def lane_options(lane: Lane) -> list[LaneOption] | None:
        if lane.lane_id in cache_:
            return cache_[lane.lane_id]
        found: list[LaneOption] | None = None
        if lever.kind == "road_bev" and lane.mode == Mode.ROAD:
            found = [o for o in opts.all(lane) if o.carrier.startswith("electricity")]
        elif lever.kind == "air_saf" and lane.lane_id == lever.scope:
            share = saf_blend_shares(opts.data_dir)[0]
            found = [
                o
                for o in opts.all(lane)
                if (s := _saf_share(o.carrier)) is not None and abs(s - share) < 1e-9
            ]
        elif lever.kind == "sea_wind" and lane.lane_id == lever.scope:
            per_day = lever_costs()["sea_wind"].cny_per_vessel_day()
            found = [
                w
                for o in builder_options(lane.lane_id)
                if (
                    w := _wind_option(
                        o,
                        opts.origin(lane),
                        opts.factors,
                        per_day,
                        opts.energy_prices,
                        opts.data_dir,
                    )
                )
            ]
        elif lever.kind == "sea_lng" and lane.lane_id == lever.scope:
            per_day = lever_costs()["sea_lng"].cny_per_vessel_day()
            found = [
                replace(o, cost_cny_per_t=o.cost_cny_per_t + _surcharge_per_t(o, per_day))
                for o in opts.all(lane)
                if o.carrier.startswith("lng_marine")
            ]
        cache_[lane.lane_id] = found or None
        return cache_[lane.lane_id]

    def swap(trade: str, o: LaneOption) -> list[LaneOption] | None:
        if lever.kind == "road_bev" and trade != lever.scope:
            return None
        return lane_options(o.lane)

    return swap


# ----------------------------------------------------------------------------- evaluating


def _pick_key(o: LaneOption, choice: str, mass_t: float, price_per_kg: float) -> tuple[float, str]:
    """Sort key of an option for one of ``CHOICES`` (the rule of ``routing.planner.candidates``)."""
    if choice.endswith("pooled"):
        full = o.vehicle_payload_t if o.dedicated else mass_t
        cost, wtw = o.alone_cost_cny(full) / full, o.alone_wtw_kg(full) / full
    else:
        cost, wtw = o.alone_cost_cny(mass_t), o.alone_wtw_kg(mass_t)
    score = {"cost": cost, "co2e": wtw}.get(choice.split("_")[0], cost + price_per_kg * wtw)
    return (score, o.key)


def _redress(
    problem: Problem, s: Shipment, c: Candidate, trade: str, swap: Swap
) -> list[tuple[LaneOption, ...]] | None:
    """Option tuples of a candidate with the lever applied (None: the lever misses it)."""
    alts = [swap(trade, o) for o in c.options]
    if all(a is None for a in alts):
        return None
    price = problem.builder.carbon_price_cny_per_t / KG_PER_T
    out: list[tuple[LaneOption, ...]] = []
    for choice in CHOICES:

        def key(o: LaneOption, ch: str = choice) -> tuple[float, str]:
            return _pick_key(o, ch, s.mass_t, price)

        opts = tuple(min(a, key=key) if a else o for o, a in zip(c.options, alts, strict=True))
        if opts not in out:
            out.append(opts)
    return out


def _candidate(
    problem: Problem, s: Shipment, index: int, opts: tuple[LaneOption, ...]
) -> Candidate | None:
    """A priced, timed candidate from lane options (the arithmetic of
    ``routing.planner.candidates``: departures on the lanes' schedules after hub dwell; hub
    handling and HOC per tonne)."""
    builder = problem.builder
    timings = builder.timings(opts, hours_since_epoch(s.ready_at))
    if timings is None:
        return None  # a timetable on the path has no departure left
    t = timings[-1].arrive_h
    hubs = [opts[0].lane.origin, *(o.lane.destination for o in opts)]
    m = s.mass_t
    hub_cost = hub_wtw = hub_ttw = 0.0
    for h, carrier in zip(hubs, hub_carriers(opts), strict=True):
        _, handling, wtw_t, ttw_t, _ = builder.hub_row(h, carrier)
        hub_cost += handling * m
        hub_wtw += wtw_t * m
        hub_ttw += ttw_t * m
    hub_cost += sum(o.shipment_extra_cny(m, s.volume_m3) for o in opts)  # rate-card terms
    return Candidate(
        shipment_id=s.shipment_id,
        index=index,
        options=opts,
        timings=tuple(timings),
        hubs=tuple(hubs),
        arrival_h=t,
        late_h=max(0.0, t - hours_since_epoch(s.due_at)),
        var_cost_cny=sum(o.cost_cny_per_t for o in opts) * m + hub_cost,
        var_wtw_kg=sum(o.wtw_kg_per_t for o in opts) * m + hub_wtw,
        var_ttw_kg=sum(o.ttw_kg_per_t for o in opts) * m + hub_ttw,
        alone_cost_cny=sum(o.alone_cost_cny(m) for o in opts) + hub_cost,
        alone_wtw_kg=sum(o.alone_wtw_kg(m) for o in opts) + hub_wtw,
    )


def _lever_problem(
    problem: Problem, lever: Lever, options: PlanOptions, opts: _Options
) -> tuple[Problem, list[str]]:
    """The reference problem with the lever applied; also shipments it leaves unserved."""
    swap = _swap_for(lever, opts, problem.builder.options)
    by_id = {s.shipment_id: s for s in problem.shipments}
    candidates: dict[str, list[Candidate]] = {}
    unplanned = dict(problem.unplanned)
    lost: list[str] = []
    for sid, cands in problem.candidates.items():
        s = by_id[sid]
        o_hub, d_hub = problem.places[sid]
        trade = lane_key(o_hub.hub_id, d_hub.hub_id)
        tuples: list[tuple[LaneOption, ...]] = []
        if lever.kind == "rail_for_air":
            if trade != lever.scope or not any(Mode.AIR in c.modes for c in cands):
                candidates[sid] = cands
                continue
            tuples = [c.options for c in cands if Mode.AIR not in c.modes]
            modes = (s.allowed_modes or frozenset(Mode)) - {Mode.AIR}
            grounded = replace(s, allowed_modes=frozenset(modes))
            tuples += [c.options for c in problem.builder.candidates(grounded, o_hub, d_hub)]
        else:
            changed = False
            for c in cands:
                redressed = _redress(problem, s, c, trade, swap)
                if redressed is None:
                    tuples.append(c.options)
                else:
                    changed = True
                    tuples += redressed
            if not changed:
                candidates[sid] = cands
                continue
        seen: set[tuple[str, ...]] = set()
        fresh: list[Candidate] = []
        for opt_tuple in tuples:
            keys = tuple(o.key for o in opt_tuple)
            if keys in seen:
                continue
            seen.add(keys)
            cand = _candidate(problem, s, len(fresh), opt_tuple)
            if cand is not None and is_usable(s, cand, options):
                fresh.append(cand)
        if fresh:
            candidates[sid] = fresh
        else:
            lost.append(sid)
            unplanned[sid] = Unplanned(sid, (f"lever {lever.lever_id}: no usable path left",))
    return replace(problem, candidates=candidates, unplanned=unplanned), lost


def _leg_keys(plan: Plan) -> dict[str, tuple[str, ...]]:
    return {
        s.shipment_id: tuple(
            f"{leg.lane_id}|{leg.vehicle_id}|{leg.energy_carrier}" for leg in s.legs
        )
        for s in plan.shipments
    }


def _changed_legs(reference: Plan, other: Plan) -> int:
    ref, new = _leg_keys(reference), _leg_keys(other)
    n = 0
    for sid, keys in new.items():
        old = ref.get(sid, ())
        n += sum(1 for k in keys if k not in old)
    return n


def evaluate(
    problem: Problem,
    reference: Plan,
    options: PlanOptions,
    lever: Lever,
    opts: _Options | None = None,
) -> LeverResult:
    """Re-plan the book with one lever and compare it with the reference plan."""
    opts = opts or _Options(problem)
    changed, lost = _lever_problem(problem, lever, options, opts)
    plan = solve_problem(changed, options)
    solver = str(plan.facts.get("status", plan.status))
    if lost or len(plan.shipments) < len(reference.shipments) or not plan.shipments:
        missing = lost or sorted(
            {s.shipment_id for s in reference.shipments} - {s.shipment_id for s in plan.shipments}
        )
        return LeverResult(
            lever,
            "infeasible",
            None,
            None,
            None,
            None,
            0.0,
            None,
            0,
            solver,
            f"cannot serve {', '.join(missing)} with this lever",
        )
    d_cost = plan.cost_cny - reference.cost_cny
    d_co2 = plan.co2e_wtw_kg - reference.co2e_wtw_kg
    abatement = -d_co2 / KG_PER_T
    legs = _changed_legs(reference, plan)
    if legs == 0:
        status, note = "not_applied", "the planner kept the reference legs"
    elif abatement <= MIN_ABATEMENT_T:
        status, note = "no_abatement", "the lever does not lower WTW CO2e here"
    else:
        status, note = "ok", ""
    per_t = d_cost / abatement if status == "ok" else None
    return LeverResult(
        lever,
        status,
        plan.cost_cny,
        plan.co2e_wtw_kg,
        d_cost,
        d_co2,
        max(abatement, 0.0),
        per_t,
        legs,
        solver,
        note,
    )


def macc(
    shipments: Sequence[Shipment],
    network: Network,
    options: PlanOptions | None = None,
    *,
    kinds: Sequence[str] = KINDS,
    max_levers: int = 12,
    levers: Sequence[Lever] | None = None,
    progress: Callable[[float], None] | None = None,
) -> Macc:
    """The marginal abatement cost curve of a book (see the module docstring).

    ``max_levers`` bounds the solves: the levers touching the most reference CO2e are
    evaluated. ``levers`` evaluates exactly those instead. Results: abating levers by CNY per
    t CO2e ascending, then the others.
    """
    if not 1 <= max_levers <= 100:
        raise InputError("must lie in 1..100", field="max_levers")
    options = options or PlanOptions()
    problem = build_problem(shipments, network, options)
    reference = solve_problem(problem, options)
    if not reference.shipments:
        raise InputError("the reference plan serves no shipment", field="shipments")
    chosen = list(levers) if levers is not None else propose(reference, network, kinds)[:max_levers]
    opts = _Options(problem)
    results = []
    for i, lever in enumerate(chosen):
        results.append(evaluate(problem, reference, options, lever, opts))
        if progress:
            progress((i + 1) / max(len(chosen), 1))
    rank = {"ok": 0, "no_abatement": 1, "not_applied": 2, "infeasible": 3}
    results.sort(
        key=lambda r: (
            rank[r.status],
            r.cny_per_t if r.cny_per_t is not None else 0.0,
            r.lever.lever_id,
        )
    )
    settings = {
        "objective": options.objective,
        "carbon_price_cny_per_t": options.carbon_price_cny_per_t,
        "carriers": options.carriers,
        "seed": options.solver.seed,
        "time_limit_s": options.solver.time_limit_s,
        "levers_evaluated": len(chosen),
        "saf_share": saf_blend_shares()[0],
        "capex": {
            k: {
                "cny_per_vessel_day": round(v.cny_per_vessel_day(), 2),
                "source": v.source,
                "note": v.note,
            }
            for k, v in lever_costs().items()
        },
    }
    return Macc(reference, tuple(results), settings)


__all__ = [
    "KINDS",
    "Lever",
    "LeverResult",
    "Macc",
    "evaluate",
    "lever_costs",
    "macc",
    "macc_to_dict",
    "propose",
]
