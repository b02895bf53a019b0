"""Plans: the chosen legs of every shipment, their TCEs and footprints, totals, solver facts.

A plan's numbers come from ``emissions``: each leg becomes a TCE (energy allocated to the
shipment by mass share of its truck or at the scheduled service's average load), each hub a
hub TCE, and each shipment a footprint. The plan totals are sums of those footprints.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from greenlane.emissions.chain import (
    footprint,
    hub_tce,
    primary_data_share,
    tce_from_energy,
    tce_from_intensity,
)
from greenlane.emissions.model import TCE, DataType, FactorRef, Footprint, Method
from greenlane.emissions.report import footprint_to_dict
from greenlane.emissions.report._decimal import num
from greenlane.emissions.tables import dataset_ref
from greenlane.emissions.units import KG_PER_T, S_PER_H, intensity_g_per_tkm
from greenlane.fleet.regulation import COST_KEYS, REGULATORY_KEYS
from greenlane.routing.network.transit_risk import arrival_sd_h, on_time_probability
from greenlane.routing.planner.candidates import hours_since_epoch
from greenlane.routing.planner.pricing import HOURS_PER_WEEK
from greenlane.routing.planner.problem import HELD_PREFIX, PlanOptions, Problem, Unplanned

if TYPE_CHECKING:
    from greenlane.routing.planner.candidates import Candidate

_CNY = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class PlannedLeg:
    """One leg of a planned shipment: lane, vehicle, carrier, times, cost [CNY], TCE."""

    lane_id: str
    mode: str
    origin: str
    destination: str
    vehicle_id: str
    energy_carrier: str
    departure_at: datetime
    arrival_at: datetime
    cost_cny: float
    vehicles: int
    shared_with: int
    tce: TCE
    cost_breakdown: tuple[tuple[str, float], ...] = ()
    """``cost_cny`` by component (freight, energy, toll, eu_ets, fueleu, saf_mandate, ets2)
    [CNY]; they add up to ``cost_cny``."""
    price_basis: str = "operating_cost"
    regulatory_rules: tuple[str, ...] = ()
    slot: int | None = None
    """Departure slot of a scheduled leg (lane id, slot keys its capacity); None on road."""
    service_id: str = ""
    """Timetabled service boarded (``schedules.csv``); empty on lanes without a timetable."""
    cutoff_at: datetime | None = None
    """Cut-off of the timetabled departure: arrival + handling at the port by then."""
    capacity_t: float | None = None
    """Capacity of the departure [t] (scheduled legs)."""
    carrier: str | None = None
    """The carrier selling the lane's service (``lanes.csv`` ``carrier``), if named."""
    price_rules: tuple[str, ...] = ()
    """How a rate card priced the leg: rate, fx rate and its date, surcharges."""
    customs_dwell_h: float = 0.0
    """Customs dwell at the leg's origin hub before it departs [h] (``border_dwell.csv``)."""
    customs_rule: str = ""
    """Why: border crossing and/or EU/EEA entry, default or the hub's own row."""
    customs_en_route_h: float = 0.0
    """Customs at the borders the lane crosses on the way [h] (in ``arrival_at``)."""
    customs_en_route_rule: str = ""
    """Why: the customs territories the lane crosses."""
    truck_slot: int | None = None
    """Day slot of an own-truck leg: (lane id, vehicle, carrier, slot) keys its trucks."""
    truck_load_t: float = 0.0
    """Tonnes the leg's trucks carry, this shipment's and those sharing them [t]."""

    def departure_slot(self, departures_per_week: float) -> int:
        """The departure slot this leg loads: ``slot``, else the uniform weekly slot nearest
        its departure (``168 h / departures_per_week`` apart)."""
        if self.slot is not None:
            return self.slot
        interval = HOURS_PER_WEEK / departures_per_week
        return math.floor(hours_since_epoch(self.departure_at) / interval + 0.5)


@dataclass(frozen=True, slots=True)
class ShipmentPlan:
    """A served shipment: its legs, footprint, cost [CNY] and KPI activity [tkm]."""

    shipment_id: str
    origin: str
    destination: str
    mass_t: float
    legs: tuple[PlannedLeg, ...]
    footprint: Footprint
    cost_cny: float
    arrival_at: datetime
    due_at: datetime
    tkm_gcd: float
    label: str
    on_time_probability: float = 1.0
    origin_resolved: dict[str, Any] | None = None
    """Where the origin reference resolved (``routing.network.places.Place.to_dict``)."""
    destination_resolved: dict[str, Any] | None = None

    @property
    def on_time(self) -> bool:
        """Arrives by the due date."""
        return self.arrival_at <= self.due_at

    @property
    def intensity_g_per_tkm(self) -> float:
        """WTW CO2e per tkm on the route-independent distance [g/tkm]."""
        return intensity_g_per_tkm(self.footprint.totals.co2e_wtw_kg, self.tkm_gcd)


LegEnd = Literal["first_mile", "last_mile"]


@dataclass(frozen=True, slots=True)
class RouteStop:
    """A shipment served on a stop route: its site, service time, own road distance [km]
    (terminal <-> site), allocation share [-] and allocated CO2e [kg] and cost [CNY]."""

    shipment_id: str
    site: str
    kind: str
    lat: float
    lon: float
    served_at: datetime
    mass_t: float
    own_distance_km: float
    share: float
    co2e_wtw_kg: float
    co2e_ttw_kg: float
    cost_cny: float


@dataclass(frozen=True, slots=True)
class StopRoute:
    """One vehicle's first- or last-mile tour from a terminal, with exact route totals:
    distance [km], energy [MJ], WTT/TTW CO2e [kg], operating cost [CNY] (fixed, km, hours,
    energy; the carbon price is not a cost), refills at stations and the polyline (lon, lat)."""

    route_id: str
    leg: LegEnd
    depot: str
    day: date
    vehicle_type: str
    energy_carrier: str
    departure_at: datetime
    return_at: datetime
    stops: tuple[RouteStop, ...]
    distance_km: float
    energy_mj: float
    co2e_wtt_kg: float
    co2e_ttw_kg: float
    cost_cny: float
    refills: int
    geometry: tuple[tuple[float, float], ...]

    @property
    def co2e_wtw_kg(self) -> float:
        """Well-to-wheel emissions [kg CO2e]."""
        return self.co2e_wtt_kg + self.co2e_ttw_kg

    @property
    def shipment_ids(self) -> tuple[str, ...]:
        """Shipments on the route, in visiting order."""
        return tuple(s.shipment_id for s in self.stops)


@dataclass(frozen=True, slots=True)
class DroppedLeg:
    """A first/last-mile leg the VRP left out (the shipment keeps its point-to-point leg)."""

    shipment_id: str
    leg: LegEnd
    depot: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A plan: served shipments, unplanned ones with reasons, totals and solver facts.

    With stop-level routing, ``stop_routes`` are the first/last-mile vehicle tours whose
    allocated values replaced the shipments' end road legs, and ``stop_dropped`` the end legs
    the routing left out (with the reason; those keep their point-to-point legs).
    """

    status: str
    shipments: tuple[ShipmentPlan, ...]
    unplanned: tuple[Unplanned, ...]
    facts: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    data_sha256: dict[str, str] = field(default_factory=dict)
    stop_routes: tuple[StopRoute, ...] = ()
    stop_dropped: tuple[DroppedLeg, ...] = ()
    dataset: dict[str, str] = field(default_factory=dict)
    """``{"id", "sha256"}`` of the tables the plan read (``routing.datasets``)."""

    @property
    def cost_cny(self) -> float:
        """Total cost [CNY]."""
        return sum(s.cost_cny for s in self.shipments)

    @property
    def co2e_wtw_kg(self) -> float:
        """Total WTW emissions [kg CO2e]."""
        return sum(s.footprint.totals.co2e_wtw_kg for s in self.shipments)

    @property
    def co2e_ttw_kg(self) -> float:
        """Total TTW emissions [kg CO2e]."""
        return sum(s.footprint.totals.co2e_ttw_kg for s in self.shipments)

    @property
    def tkm(self) -> float:
        """Transport activity on the legs' distances [tkm]."""
        return sum(s.footprint.totals.tkm for s in self.shipments)

    @property
    def tkm_gcd(self) -> float:
        """Activity on the route-independent great-circle distance [tkm] (KPI basis)."""
        return sum(s.tkm_gcd for s in self.shipments)

    @property
    def intensity_g_per_tkm(self) -> float:
        """Plan KPI: WTW g CO2e per tkm on the great-circle distance [g/tkm]."""
        return intensity_g_per_tkm(self.co2e_wtw_kg, self.tkm_gcd)

    @property
    def primary_data_share(self) -> float:
        """Share of the plan's WTW emissions computed from primary data (ISO 14083
        data-quality type ``primary``: carriers' own TOCs and HOCs) [-]."""
        return primary_data_share(t for s in self.shipments for t in s.footprint.tces)

    @property
    def on_time_share(self) -> float:
        """Share of served shipments arriving by their due date [-]."""
        if not self.shipments:
            return 0.0
        return sum(s.on_time for s in self.shipments) / len(self.shipments)

    def cost_breakdown_cny(self) -> dict[str, float]:
        """Plan cost by component [CNY]: the legs' components plus hub ``handling``."""
        out = dict.fromkeys((*COST_KEYS, "handling"), 0.0)
        for s in self.shipments:
            legs = 0.0
            for leg in s.legs:
                for k, v in leg.cost_breakdown:
                    out[k] += v
                legs += leg.cost_cny
            out["handling"] += s.cost_cny - legs
        return out

    @property
    def regulatory_cost_cny(self) -> float:
        """Carbon regulation paid on the legs (EU ETS, FuelEU, ReFuelEU, ETS2) [CNY]; the
        German toll's CO2 part is in ``toll``."""
        b = self.cost_breakdown_cny()
        return sum(b[k] for k in REGULATORY_KEYS)

    @property
    def internal_carbon_cost_cny(self) -> float:
        """The planner's internal carbon price x WTW emissions [CNY]: a shadow price in the
        objective on top of the regulatory costs, not paid and not in ``cost_cny``."""
        price = float(self.options.get("carbon_price_cny_per_t", 0.0) or 0.0)
        return price * self.co2e_wtw_kg / KG_PER_T

    def choice(self) -> dict[str, str]:
        """Shipment id -> path label (for comparisons)."""
        return {s.shipment_id: s.label for s in self.shipments}


def build_plan(
    problem: Problem,
    choice: dict[str, int],
    trucks: dict[tuple[str, str, str, int], int],
    facts: dict[str, Any],
    options: PlanOptions,
    status: str | None = None,
) -> Plan:
    """Turn a solver choice into a plan with TCEs and footprints (allocation by mass share)."""
    from greenlane.routing.planner.candidates import datetime_at

    by_id = {s.shipment_id: s for s in problem.shipments}
    chosen: dict[str, Candidate] = {
        sid: next(c for c in problem.candidates[sid] if c.index == idx)
        for sid, idx in sorted(choice.items())
    }
    group_mass: dict[tuple[str, str, str, int], float] = defaultdict(float)
    group_members: dict[tuple[str, str, str, int], int] = defaultdict(int)
    for sid, c in chosen.items():
        for o, tm in zip(c.options, c.timings, strict=True):
            if o.dedicated:
                key = (o.lane.lane_id, o.vehicle_id, o.carrier, tm.slot)
                group_mass[key] += by_id[sid].mass_t
                group_members[key] += 1
    served = []
    for sid, c in chosen.items():
        if sid.startswith(HELD_PREFIX):  # load held by other partitions: shares the trucks
            continue
        s = by_id[sid]
        served.append(_shipment_plan(problem, s, c, trucks, group_mass, group_members, datetime_at))
    unplanned = dict(problem.unplanned)
    for sid in problem.candidates:
        if sid not in chosen and not sid.startswith(HELD_PREFIX):
            unplanned[sid] = Unplanned(sid, (_unserved_reason(options),))
    plan_status = status or (
        "optimal"
        if facts.get("status") == "OPTIMAL"
        else "feasible"
        if facts.get("status") == "FEASIBLE"
        else str(facts.get("status", "unknown")).lower()
    )
    return Plan(
        status=plan_status,
        shipments=tuple(served),
        unplanned=tuple(unplanned[k] for k in sorted(unplanned)),
        facts=facts,
        options=_options_dict(options),
        data_sha256={
            "network": problem.network.data_sha256,
            "factors": problem.factors.data_sha256,
            **problem.builder.data_sha256,
        },
        dataset=dataset_ref(options.data_dir, options.dataset_id),
    )


def _unserved_reason(options: PlanOptions) -> str:
    if options.co2e_cap_kg is not None:
        return "capacity or the CO2e cap: no remaining departure can take it within the cap"
    return "capacity: every candidate departure within the due date is full"


def _shipment_plan(problem, s, c, trucks, group_mass, group_members, datetime_at) -> ShipmentPlan:
    from greenlane.routing.planner.candidates import hub_carriers

    tces: list[TCE] = []
    legs: list[PlannedLeg] = []
    cost = 0.0
    hubs = c.hubs
    carriers = hub_carriers(c.options)
    customs = problem.builder.customs(tuple(o.lane.lane_id for o in c.options))
    for i, (o, tm) in enumerate(zip(c.options, c.timings, strict=True)):
        hub_id = hubs[i]
        op = problem.builder.hub_op(hub_id)
        cost += op.handling_cost_cny_per_t * s.mass_t
        hub = _hub(problem, s, hub_id, op.hoc_id, carriers[i], len(tces))
        if hub is not None:
            tces.append(hub)
        if o.dedicated:
            key = (o.lane.lane_id, o.vehicle_id, o.carrier, tm.slot)
            share = s.mass_t / group_mass[key]
            n = trucks.get(key, o.vehicles_for(group_mass[key]))
            energy = n * o.vehicle_energy_mj * share + o.energy_mj_per_t * s.mass_t
            leg_cost = n * o.vehicle_cost_cny * share + o.cost_cny_per_t * s.mass_t
            breakdown = o.cost_breakdown_cny(n * share, s.mass_t)
            rule = (
                f"{n} x {o.vehicle_id} on this departure carry {group_mass[key]:g} t; "
                f"allocated by mass share {share:.4f}"
            )
            vehicles, shared = n, group_members[key]
        else:
            energy = o.energy_mj_per_t * s.mass_t
            extra = o.shipment_extra_cny(s.mass_t, s.volume_m3)  # chargeable weight, minimum
            leg_cost = o.cost_cny_per_t * s.mass_t + extra
            breakdown = o.cost_breakdown_cny(0.0, s.mass_t)
            breakdown["freight"] += extra
            rule = (
                f"scheduled {o.vehicle_id} at its default load: "
                f"{o.energy_mj_per_t:.4f} MJ per t over the leg"
            )
            vehicles, shared = 0, 1
        cost += leg_cost
        origin, dest = problem.network.hubs[o.lane.origin], problem.network.hubs[o.lane.destination]
        lane_ref = FactorRef("lane", o.lane.lane_id, o.lane.distance_km, "km", o.lane.source)
        if o.intensity is not None and o.intensity.distance_basis is not None:
            toc = o.intensity
            tce = tce_from_intensity(
                tce_id=f"{s.shipment_id}-{len(tces) + 1}",
                shipment_id=s.shipment_id,
                mode=o.lane.mode,
                mass_t=s.mass_t,
                distance_km=o.distance_km,
                distance_basis=o.distance_basis,
                wtw_g_per_tkm=toc.wtw,
                ttw_g_per_tkm=toc.ttw,
                intensity_basis=toc.distance_basis,
                data_type=toc.data_type,
                toc_id=toc.intensity_id,
                energy_carrier=o.carrier,
                refs=(lane_ref, toc.factor_ref()),
                rules=(*o.distance_rules, toc.rule()),
                origin=origin.location(),
                destination=dest.location(),
            )
        else:
            tce = tce_from_energy(
                tce_id=f"{s.shipment_id}-{len(tces) + 1}",
                shipment_id=s.shipment_id,
                mode=o.lane.mode,
                mass_t=s.mass_t,
                distance_km=o.distance_km,
                distance_basis=o.distance_basis,
                uses=[(o.carrier_obj, energy)],
                method=Method.MODELLED,
                data_type=DataType.MODELLED,
                refs=(lane_ref,),
                rules=(*o.distance_rules, rule),
                origin=origin.location(),
                destination=dest.location(),
                toc_id=o.vehicle_id,
            )
        tce = replace(
            tce,
            geometry=o.lane.geometry,
            departure_at=datetime_at(tm.depart_h).isoformat(),
            arrival_at=datetime_at(tm.arrive_h).isoformat(),
        )
        tces.append(tce)
        legs.append(
            PlannedLeg(
                lane_id=o.lane.lane_id,
                mode=str(o.lane.mode),
                origin=o.lane.origin,
                destination=o.lane.destination,
                vehicle_id=o.vehicle_id,
                energy_carrier=o.carrier,
                departure_at=datetime_at(tm.depart_h),
                arrival_at=datetime_at(tm.arrive_h),
                cost_cny=leg_cost,
                vehicles=vehicles,
                shared_with=shared,
                tce=tce,
                cost_breakdown=tuple(breakdown.items()),
                price_basis=o.price_basis,
                regulatory_rules=o.regulatory_rules,
                slot=None if o.dedicated else tm.slot,
                service_id=tm.service_id,
                cutoff_at=(None if tm.cutoff_h is None else datetime_at(tm.depart_h - tm.cutoff_h)),
                capacity_t=(None if o.dedicated else (tm.capacity_t or o.capacity_t)),
                carrier=o.lane.carrier,
                price_rules=o.price_rules,
                customs_dwell_h=customs.hubs[i][0],
                customs_rule=customs.hubs[i][1],
                customs_en_route_h=customs.lanes[i][0],
                customs_en_route_rule=customs.lanes[i][1],
                truck_slot=tm.slot if o.dedicated else None,
                truck_load_t=group_mass[key] if o.dedicated else 0.0,
            )
        )
    last = hubs[-1]
    op = problem.builder.hub_op(last)
    cost += op.handling_cost_cny_per_t * s.mass_t
    hub = _hub(problem, s, last, op.hoc_id, carriers[-1], len(tces))
    if hub is not None:
        tces.append(hub)
    chained = _chain(tces)
    fp = footprint(chained, shipment_id=s.shipment_id, mass_t=s.mass_t, factors=problem.factors)
    o_hub, d_hub = problem.places[s.shipment_id]
    o_place, d_place = problem.resolved.get(s.shipment_id, (None, None))
    sd = arrival_sd_h(
        (
            (o.lane.mode, tm.arrive_h - tm.depart_h)
            for o, tm in zip(c.options, c.timings, strict=True)
        ),
        problem.builder.data_dir,
    )
    slack_h = (s.due_at - datetime_at(c.arrival_h)).total_seconds() / S_PER_H
    return ShipmentPlan(
        on_time_probability=on_time_probability(slack_h, sd),
        shipment_id=s.shipment_id,
        origin=o_hub.hub_id,
        destination=d_hub.hub_id,
        mass_t=s.mass_t,
        legs=tuple(legs),
        footprint=fp,
        cost_cny=cost,
        arrival_at=datetime_at(c.arrival_h),
        due_at=s.due_at,
        tkm_gcd=problem.tkm_gcd[s.shipment_id],
        label=c.label,
        origin_resolved=o_place.to_dict() if o_place is not None else None,
        destination_resolved=d_place.to_dict() if d_place is not None else None,
    )


def _hub(problem, s, hub_id: str, hoc_id: str | None, carrier: str | None, n: int) -> TCE | None:
    """The hub TCE: the HOC of the carrier whose lane the shipment boards there (at the last
    hub: leaves), else the hub kind's default HOC; None when there is neither."""
    hub = problem.network.hubs[hub_id]
    own = problem.builder.hub_hoc(hub_id, carrier)
    if own is not None:
        tce = hub_tce(
            tce_id=f"{s.shipment_id}-{n + 1}",
            shipment_id=s.shipment_id,
            hub=hub_id,
            mass_t=s.mass_t,
            wtw_kg_per_t=own.wtw,
            ttw_kg_per_t=own.ttw,
            data_type=own.data_type,
            hoc_id=own.intensity_id,
            refs=(own.factor_ref(),),
            location=hub.location(),
        )
        return replace(tce, rules=(*tce.rules, own.rule()))
    if not hoc_id:
        return None
    hoc = problem.factors.hoc(hoc_id)
    return hub_tce(
        tce_id=f"{s.shipment_id}-{n + 1}",
        shipment_id=s.shipment_id,
        hub=hub_id,
        mass_t=s.mass_t,
        wtw_kg_per_t=hoc.wtw_kg_per_t,
        ttw_kg_per_t=hoc.ttw_kg_per_t,
        data_type=DataType.DEFAULT,
        hoc_id=hoc_id,
        refs=(hoc.factor_ref(),),
        location=hub.location(),
    )


def _chain(tces: list[TCE]) -> list[TCE]:
    return [replace(t, prev_tce_ids=(tces[i - 1].tce_id,) if i else ()) for i, t in enumerate(tces)]


def _options_dict(options: PlanOptions) -> dict[str, Any]:
    return {
        "carbon_price_cny_per_t": options.carbon_price_cny_per_t,
        "target_year": options.target_year,
        "due_dates": options.due_dates,
        "late_penalty_cny_per_t_day": options.late_penalty_cny_per_t_day,
        "objective": options.objective,
        "co2e_cap_kg": options.co2e_cap_kg,
        "k_paths": options.k_paths,
        "carriers": options.carriers,
        "on_time_probability": options.on_time_probability,
        "factor_sets": list(options.factor_sets),
        "seed": options.solver.seed,
        "time_limit_s": options.solver.time_limit_s,
        "deterministic_time": options.solver.deterministic_time,
        "stop_level_routing": bool(options.stop_level_routing),
        "regulatory_costs": options.regulatory_costs,
        "travel_year": options.travel_year,
        "eua_eur_per_t": options.eua_eur_per_t,
        "ets2_eur_per_t": options.ets2_eur_per_t,
        "price_basis": options.price_basis,
        "rate_card_index": options.rate_card_index,
        **(
            {"energy_prices": options.energy_prices.label}
            if options.energy_prices is not None
            else {}
        ),
        "scenario": _scenario_dict(options),
    }


def _scenario_dict(options: PlanOptions) -> dict[str, Any]:
    """The market scenario a plan was priced in: price factors [-] and the EUA override."""
    scaled = dict(options.energy_prices.factors) if options.energy_prices is not None else {}
    return {
        "eua_eur_per_t": options.eua_eur_per_t,
        "bunker_price_factor": scaled.get("bunker_price", 1.0),
        "jet_price_factor": scaled.get("jet_price", 1.0),
        "fuel_price_factor": scaled.get("fuel_price", 1.0),
        "rate_card_index": options.rate_card_index,
    }


def plan_to_dict(plan: Plan, include_footprints: bool = True) -> dict[str, Any]:
    """The plan JSON (CLI ``--output`` and the API); ``stop_routes``/``stop_dropped`` are
    empty unless the plan was made with stop-level routing."""
    return {
        "status": plan.status,
        "summary": {
            "shipments_planned": len(plan.shipments),
            "shipments_unplanned": len(plan.unplanned),
            "cost_cny": num(plan.cost_cny, _CNY),
            "co2e_wtw_kg": num(plan.co2e_wtw_kg),
            "co2e_ttw_kg": num(plan.co2e_ttw_kg),
            "tkm": num(plan.tkm),
            "tkm_gcd": num(plan.tkm_gcd),
            "intensity_g_per_tkm": num(plan.intensity_g_per_tkm),
            "on_time_share": num(plan.on_time_share),
            "currency": "CNY",
            "cost_breakdown": {k: num(v, _CNY) for k, v in plan.cost_breakdown_cny().items()},
            "regulatory_cost_cny": num(plan.regulatory_cost_cny, _CNY),
            "internal_carbon_cost_cny": num(plan.internal_carbon_cost_cny, _CNY),
            "primary_data_share": num(plan.primary_data_share),
        },
        "shipments": [_shipment_dict(s, include_footprints) for s in plan.shipments],
        "unplanned": [
            {"shipment_id": u.shipment_id, "reasons": list(u.reasons)} for u in plan.unplanned
        ],
        "stop_routes": [stop_route_dict(r) for r in plan.stop_routes],
        "stop_dropped": [
            {"shipment_id": d.shipment_id, "leg": d.leg, "depot": d.depot, "reason": d.reason}
            for d in plan.stop_dropped
        ],
        "solver": plan.facts,
        "options": plan.options,
        "data_sha256": plan.data_sha256,
        "dataset": plan.dataset or dataset_ref(None),
    }


def _shipment_dict(s: ShipmentPlan, include_footprints: bool) -> dict[str, Any]:
    t = s.footprint.totals
    out: dict[str, Any] = {
        "shipment_id": s.shipment_id,
        "origin": s.origin,
        "destination": s.destination,
        "mass_t": s.mass_t,
        "path": s.label,
        "cost_cny": num(s.cost_cny, _CNY),
        "co2e_wtw_kg": num(t.co2e_wtw_kg),
        "co2e_ttw_kg": num(t.co2e_ttw_kg),
        "co2e_wtt_kg": num(t.co2e_wtt_kg),
        "tkm_gcd": num(s.tkm_gcd),
        "intensity_g_per_tkm": num(s.intensity_g_per_tkm),
        "arrival_at": s.arrival_at.isoformat(),
        "due_at": s.due_at.isoformat(),
        "on_time": s.on_time,
        "on_time_probability": num(s.on_time_probability),
        "origin_resolved": s.origin_resolved,
        "destination_resolved": s.destination_resolved,
        "legs": [
            {
                "lane_id": leg.lane_id,
                "mode": leg.mode,
                "origin": leg.origin,
                "destination": leg.destination,
                "vehicle_id": leg.vehicle_id,
                "energy_carrier": leg.energy_carrier,
                "departure_at": leg.departure_at.isoformat(),
                "arrival_at": leg.arrival_at.isoformat(),
                "service_id": leg.service_id or None,
                "carrier": leg.carrier,
                "data_quality": str(leg.tce.data_type),
                "cutoff_at": leg.cutoff_at.isoformat() if leg.cutoff_at else None,
                "customs_dwell_h": num(leg.customs_dwell_h),
                "customs_rule": leg.customs_rule or None,
                "customs_en_route_h": num(leg.customs_en_route_h),
                "customs_en_route_rule": leg.customs_en_route_rule or None,
                "cost_cny": num(leg.cost_cny, _CNY),
                "cost_breakdown": {k: num(v, _CNY) for k, v in leg.cost_breakdown},
                "price_basis": leg.price_basis,
                "regulatory_rules": list(leg.regulatory_rules),
                "price_rules": list(leg.price_rules),
                "vehicles": leg.vehicles,
                "shipments_sharing": leg.shared_with,
                "distance_km": num(leg.tce.distance_km),
                "co2e_wtw_kg": num(leg.tce.co2e_wtw_kg),
                "co2e_ttw_kg": num(leg.tce.co2e_ttw_kg),
            }
            for leg in s.legs
        ],
    }
    if include_footprints:
        out["footprint"] = footprint_to_dict(s.footprint)
    return out


def stop_route_dict(r: StopRoute) -> dict[str, Any]:
    """JSON-ready stop route (numbers as in ``plan_to_dict``)."""
    return {
        "route_id": r.route_id,
        "leg": r.leg,
        "depot": r.depot,
        "day": r.day.isoformat(),
        "vehicle_type": r.vehicle_type,
        "energy_carrier": r.energy_carrier,
        "departure_at": r.departure_at.isoformat(),
        "return_at": r.return_at.isoformat(),
        "distance_km": num(r.distance_km),
        "energy_mj": num(r.energy_mj),
        "co2e_wtw_kg": num(r.co2e_wtw_kg),
        "co2e_ttw_kg": num(r.co2e_ttw_kg),
        "co2e_wtt_kg": num(r.co2e_wtt_kg),
        "cost_cny": num(r.cost_cny, _CNY),
        "refills": r.refills,
        "stops": [
            {
                "shipment_id": s.shipment_id,
                "site": s.site,
                "kind": s.kind,
                "lat": s.lat,
                "lon": s.lon,
                "served_at": s.served_at.isoformat(),
                "mass_t": s.mass_t,
                "own_distance_km": num(s.own_distance_km),
                "share": num(s.share),
                "co2e_wtw_kg": num(s.co2e_wtw_kg),
                "co2e_ttw_kg": num(s.co2e_ttw_kg),
                "cost_cny": num(s.cost_cny, _CNY),
            }
            for s in r.stops
        ],
        "geometry": [list(p) for p in r.geometry],
    }
