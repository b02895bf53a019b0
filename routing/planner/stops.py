"""Stop-level first/last-mile routing of a solved multimodal plan (issue #5).

After the long-haul selection, the road legs at both ends of each shipment path are re-planned
as vehicle routes (:mod:`routing.vrp`) instead of one point-to-point truck per shipment:

- **first mile**: a leading road leg (origin site -> first terminal) of a path with more than
  one leg; the shipment is a *pickup* brought to the terminal (the depot);
- **last mile**: a trailing road leg (last terminal -> destination site); a *delivery* loaded
  at the terminal.

Legs are grouped by (direction, terminal, UTC day of the road leg's departure) and each group
is one VRP: depot = the terminal; fleet = every road vehicle type the network offers on the
group's lanes (``data/lanes.csv`` -> ``data/vehicle_types.csv``), each with its best carrier
among the lane's priced options (lowest energy price + carbon price x WTW per MJ, or lowest
WTW under ``objective='co2e'``, where the VRP also prices CO2e at
:data:`GREEN_CARBON_PRICE_CNY_PER_T`: the same vehicle on a dearer carrier is dominated),
enough of each type that on-demand trucking rarely limits the fleet; distances great-circle x the
road rules of ``data/distance_rules.csv`` to the *actual* basis (the same km as the
point-to-point legs); stations from ``data/charging_stations.csv`` (battery trucks are routed
by the E-VRPTW search with partial recharging, see :func:`routing.vrp.solve_vrp`). A route
is one duty day
(:data:`SHIFT_H`) with :data:`SERVICE_H` at each stop; it returns to its terminal, so its
empty km are driven explicitly (the point-to-point legs carry the vehicle's default
empty-running share instead).

Time windows: a pickup is served from the shipment's ready time (its vehicle may leave the
terminal up to one shift earlier) and every first-mile route is back at the terminal by the
group's earliest cut-off
(next departure - hub dwell), conservative for the others; last-mile routes leave when the
last shipment of the group is available at the terminal and each delivery is made by its due
date (or, if the plan already had it late, no later than the point-to-point arrival).

Allocation (ISO 14083:2023 §5.6 allocation within a transport operation, activity per §5.4.2
as mass x shortest feasible distance; CLECAT 2024 Guide to ISO 14083, Example 3, collection
and delivery rounds): each route's energy, WTT and TTW CO2e and operating cost [CNY] go to its
shipments in proportion to mass [t] x their own terminal <-> site road distance [km], not the
distance driven; the last share takes the remainder so the shipments' sum equals the route
total. A stop the VRP drops is reported with its reason and keeps its point-to-point leg.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from greenlane.emissions.chain import footprint, tce_from_energy
from greenlane.emissions.distance import convert_distance_km, gcd_km
from greenlane.emissions.errors import GreenlaneError
from greenlane.emissions.model import DataType, DistanceBasis, FactorRef, Method, Mode
from greenlane.emissions.units import G_PER_KG, KG_PER_T, S_PER_H
from greenlane.fleet import vehicle_type
from greenlane.fleet.regulation import COST_KEYS
from greenlane.routing.network.graph import ROAD_DAILY_REST_H, TRANSIT_RULES
from greenlane.routing.network.transit_risk import arrival_sd_h, on_time_probability
from greenlane.routing.planner.plan import (
    DroppedLeg,
    LegEnd,
    Plan,
    PlannedLeg,
    RouteStop,
    ShipmentPlan,
    StopRoute,
)
from greenlane.routing.vrp import (
    Depot,
    FleetEntry,
    Stop,
    VrpParams,
    VrpProblem,
    load_stations,
    solve_vrp,
)

if TYPE_CHECKING:
    from greenlane.routing.planner.problem import PlanOptions, Problem

HOURS_PER_DAY = 24.0
VRP_S_PER_STOP = 0.1
"""VRP time limit per stop of a group [s] (between the min and max below)."""
VRP_MIN_S = 0.1
"""Shortest VRP time limit of a group [s]."""
VRP_MAX_S = 5.0
"""Longest VRP time limit of a group [s] (never above the planner's own limit)."""
SHIFT_H = 24.0 - ROAD_DAILY_REST_H
"""Longest stop route [h]: one duty day between two daily rests (Regulation (EC) 561/2006
Art. 8); end legs that need longer keep their point-to-point leg (with its rests)."""
SERVICE_H = TRANSIT_RULES[Mode.ROAD].dwell_h / 2
"""Loading or unloading at a stop [h]: the site's half of the road lanes' handling time."""
GREEN_CARBON_PRICE_CNY_PER_T = 100_000.0
"""Carbon price the VRP uses under ``objective='co2e'`` [CNY/t CO2e]: 100 CNY per kg makes
WTW CO2e dominate its objective, cost only breaks ties (the API's largest carbon price)."""
RETURN_ALLOWANCE_H = 24.0
"""Time a last-mile vehicle has to return to its terminal after the latest due date [h]."""
ISO_RULE = (
    "allocated by tkm share on the terminal-site distance (ISO 14083:2023 §5.6, "
    "§5.4.2; CLECAT 2024 Example 3)"
)


@dataclass(frozen=True, slots=True)
class _End:
    """One end leg of a shipment waiting to be routed (times in h since EPOCH)."""

    plan_index: int
    leg_index: int
    leg: LegEnd
    depot: str
    site: str
    shipment_id: str
    mass_t: float
    earliest_h: float
    latest_h: float


def route_stops(problem: Problem, plan: Plan, options: PlanOptions) -> Plan:
    """The plan with its end road legs routed as multi-stop tours (see the module doc).

    Shipment legs, footprints, costs [CNY] and arrival times take the allocated route values;
    the plan gains ``stop_routes``, ``stop_dropped`` and ``facts['stop_routing']``.
    """
    from greenlane.routing.planner.candidates import hours_since_epoch

    t0 = time.perf_counter()
    by_id = {s.shipment_id: s for s in problem.shipments}
    groups: dict[tuple[LegEnd, str, int], list[_End]] = defaultdict(list)
    for p_i, sp in enumerate(plan.shipments):
        legs = sp.legs
        if len(legs) < 2:
            continue
        first, last = legs[0], legs[-1]
        if first.mode == Mode.ROAD:
            dwell = problem.builder.hub_op(first.destination).dwell_h
            ready = hours_since_epoch(first.departure_at)
            cutoff = hours_since_epoch(legs[1].departure_at) - dwell
            groups["first_mile", first.destination, math.floor(ready / HOURS_PER_DAY)].append(
                _End(
                    p_i,
                    0,
                    "first_mile",
                    first.destination,
                    first.origin,
                    sp.shipment_id,
                    sp.mass_t,
                    ready,
                    max(cutoff, hours_since_epoch(first.arrival_at)),
                )
            )
        if last.mode == Mode.ROAD:
            avail = hours_since_epoch(last.departure_at)
            due = max(
                hours_since_epoch(by_id[sp.shipment_id].due_at), hours_since_epoch(last.arrival_at)
            )
            groups["last_mile", last.origin, math.floor(avail / HOURS_PER_DAY)].append(
                _End(
                    p_i,
                    len(legs) - 1,
                    "last_mile",
                    last.origin,
                    last.destination,
                    sp.shipment_id,
                    sp.mass_t,
                    avail,
                    due,
                )
            )
    shipments = list(plan.shipments)
    routes: list[StopRoute] = []
    dropped: list[DroppedLeg] = []
    vrp_s = p2p_cost = p2p_wtw = 0.0
    offered: Counter[str] = Counter()
    for key in sorted(groups):
        ends = groups[key]
        got, lost, new_legs, wall = _route_group(
            problem, plan, options, key, ends, len(routes), offered
        )
        vrp_s += wall
        routes += got
        dropped += lost
        for (p_i, l_i), (leg, delivered_at) in new_legs.items():
            old = shipments[p_i].legs[l_i]
            p2p_cost += old.cost_cny
            p2p_wtw += old.tce.co2e_wtw_kg
            shipments[p_i] = _with_leg(problem, shipments[p_i], l_i, leg, delivered_at)
    facts = dict(plan.facts)
    facts["stop_routing"] = {
        "groups": len(groups),
        "legs": sum(len(v) for v in groups.values()),
        "routes": len(routes),
        "dropped": len(dropped),
        "vrp_s": round(vrp_s, 3),
        "replaced_point_to_point": {
            "cost_cny": round(p2p_cost, 2),
            "co2e_wtw_kg": round(p2p_wtw, 3),
        },
        "stop_routes_total": {
            "cost_cny": round(sum(r.cost_cny for r in routes), 2),
            "co2e_wtw_kg": round(sum(r.co2e_wtw_kg for r in routes), 3),
            "distance_km": round(sum(r.distance_km for r in routes), 3),
        },
        "wall_s": round(time.perf_counter() - t0, 3),
        "fleet_offered": dict(sorted(offered.items())),
        "fleet_source": (
            "vehicle types of the groups' road lanes (data/lanes.csv), vehicle data "
            "data/vehicle_types.csv; per group and type min(stops, 2 x vehicles "
            "needed by mass or stop time + 1); vehicle-type/carrier: vehicles "
            "offered summed over groups"
        ),
        "shift_h": SHIFT_H,
        "service_h_per_stop": SERVICE_H,
        "distance_rule": "road GCD x DAF to the actual basis (data/distance_rules.csv)",
        "allocation": ISO_RULE,
    }
    return replace(
        plan,
        shipments=tuple(shipments),
        facts=facts,
        stop_routes=tuple(routes),
        stop_dropped=tuple(dropped),
    )


def _road_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Road distance on the actual basis, as the VRP and the point-to-point legs use [km]."""
    gcd = gcd_km(a_lat, a_lon, b_lat, b_lon)
    if not gcd:
        return 0.0
    return convert_distance_km(gcd, Mode.ROAD, DistanceBasis.GCD, DistanceBasis.ACTUAL)[0]


def _fleet(
    problem: Problem, options: PlanOptions, lanes: list[str], depot: Any, ends: list[_End]
) -> list[FleetEntry]:
    """One entry per road vehicle type offered on the lanes, with its best priced carrier.

    A vehicle type's carriers differ only in price and factors per MJ, so the one with the
    lowest energy price + carbon price x WTW [CNY/MJ] (lowest WTW for ``objective='co2e'``)
    dominates the others on every route. Count per type: twice the vehicles the group needs
    by mass or by stop time per shift, plus one, at most one per stop (on-demand trucking).
    """
    from greenlane.fleet import leg_cost_cny

    price = options.carbon_price_cny_per_t / KG_PER_T
    best: dict[str, tuple[tuple[float, float], str]] = {}
    for lane_id in dict.fromkeys(lanes):
        for o in problem.builder.options(lane_id):
            if not o.dedicated or o.lane.mode != Mode.ROAD:
                continue
            try:
                e_price = float(
                    leg_cost_cny(
                        vehicle_type(o.vehicle_id, "vehicle_types", problem.builder.data_dir),
                        o.carrier,
                        depot.country,
                        0.0,
                        0.0,
                        factors=problem.factors,
                        data_dir=problem.builder.data_dir,
                        prices=options.energy_prices,
                    ).price_cny_per_mj
                )
            except GreenlaneError:
                continue  # not priced where the terminal is
            wtw = o.carrier_obj.wtw_g_per_mj / G_PER_KG  # [kg/MJ]
            score = (wtw, e_price) if options.objective == "co2e" else (e_price + price * wtw, wtw)
            if o.vehicle_id not in best or score < best[o.vehicle_id][0]:
                best[o.vehicle_id] = (score, o.carrier)
    out = []
    mass_t = sum(e.mass_t for e in ends)
    for vid, (_, key) in sorted(best.items()):
        need = max(
            mass_t / vehicle_type(vid, "vehicle_types", problem.builder.data_dir).payload_max_t,
            len(ends) * SERVICE_H / SHIFT_H,
        )
        count = min(len(ends), 2 * math.ceil(need) + 1)
        out.append(
            FleetEntry(
                type_id=vid, count=count, depot_id=depot.hub_id, carrier=key, shift_h=SHIFT_H
            )
        )
    return out


def _vrp_seconds(options: PlanOptions, stops: int) -> float:
    """VRP time limit of a group [s]."""
    return min(options.solver.time_limit_s, VRP_MAX_S, max(VRP_MIN_S, VRP_S_PER_STOP * stops))


def _route_group(
    problem: Problem,
    plan: Plan,
    options: PlanOptions,
    key: tuple[LegEnd, str, int],
    ends: list[_End],
    numbered: int,
    offered: Counter[str],
) -> tuple[list[StopRoute], list[DroppedLeg], dict[tuple[int, int], tuple[PlannedLeg, Any]], float]:
    """Solve one (direction, terminal, day) group and allocate its routes to the shipments."""
    from greenlane.routing.planner.candidates import datetime_at

    direction, depot_id, day = key
    hubs = problem.network.hubs
    depot_hub = hubs[depot_id]
    # VRP clock [h]: a first-mile vehicle may leave its terminal up to one shift before the
    # group day, to be at the site when the goods are ready
    t0 = day * HOURS_PER_DAY - (SHIFT_H if direction == "first_mile" else 0.0)
    stops: list[Stop] = []
    by_stop: dict[str, _End] = {}
    for e in ends:
        site = hubs[e.site]
        stop_id = e.shipment_id
        by_stop[stop_id] = e
        if direction == "first_mile":
            stops.append(
                Stop(
                    stop_id,
                    site.lat,
                    site.lon,
                    kind="pickup",
                    mass_kg=e.mass_t * KG_PER_T,
                    service_h=SERVICE_H,
                    tw_start_h=e.earliest_h - t0,
                )
            )
        else:
            stops.append(
                Stop(
                    stop_id,
                    site.lat,
                    site.lon,
                    kind="delivery",
                    mass_kg=e.mass_t * KG_PER_T,
                    service_h=SERVICE_H,
                    tw_end_h=e.latest_h - t0,
                )
            )
    if direction == "first_mile":
        depot = Depot(
            depot_id,
            depot_hub.lat,
            depot_hub.lon,
            0.0,
            min(e.latest_h for e in ends) - t0,
            depot_hub.region,
        )
    else:
        open_h = max(e.earliest_h for e in ends) - t0
        depot = Depot(
            depot_id,
            depot_hub.lat,
            depot_hub.lon,
            open_h,
            max(open_h, max(e.latest_h for e in ends) - t0) + RETURN_ALLOWANCE_H,
            depot_hub.region,
        )
    lanes = [plan.shipments[e.plan_index].legs[e.leg_index].lane_id for e in ends]
    fleet = _fleet(problem, options, lanes, depot_hub, ends)
    for f in fleet:
        offered[f"{f.type_id}/{f.carrier}"] += f.count
    started = time.perf_counter()
    try:
        if not fleet:
            raise GreenlaneError(
                f"no road vehicle of the lanes is priced in {depot_hub.country}", field="fleet"
            )
        vrp = VrpProblem(
            depots=(depot,),
            stops=tuple(stops),
            fleet=tuple(fleet),
            carbon_price_cny_per_t=(
                GREEN_CARBON_PRICE_CNY_PER_T
                if options.objective == "co2e"
                else options.carbon_price_cny_per_t
            ),
            region=depot_hub.country,
            distance_basis=DistanceBasis.ACTUAL,
            factor_sets=tuple(options.factor_sets),
            energy_prices=options.energy_prices,
            data_dir=problem.builder.data_dir,
        )
        solution = solve_vrp(
            vrp,
            VrpParams(time_limit_s=_vrp_seconds(options, len(stops)), seed=options.solver.seed),
        )
    except GreenlaneError as exc:
        wall = time.perf_counter() - started
        lost = [
            DroppedLeg(e.shipment_id, direction, depot_id, f"stop-level routing failed: {exc}")
            for e in ends
        ]
        return [], lost, {}, wall
    wall = time.perf_counter() - started
    stations = {st.station_id: st for st in load_stations(problem.builder.data_dir)}
    routes: list[StopRoute] = []
    new_legs: dict[tuple[int, int], tuple[PlannedLeg, Any]] = {}
    for r in solution.routes:
        served = [(v, by_stop[v.place_id]) for v in r.visits if v.kind == "stop"]
        own = {
            e.shipment_id: _road_km(
                depot_hub.lat, depot_hub.lon, hubs[e.site].lat, hubs[e.site].lon
            )
            for _, e in served
        }
        weights = [e.mass_t * own[e.shipment_id] for _, e in served]
        if sum(weights) <= 0:
            weights = [e.mass_t for _, e in served]
        total_w = sum(weights)
        op_cost = r.fixed_cny + r.distance_cny + r.time_cny + r.energy_cny
        route_id = f"SR-{numbered + len(routes) + 1}"
        shares = [w / total_w for w in weights]
        parts = _split([r.energy_mj, r.co2e_wtt_kg, r.co2e_ttw_kg, op_cost, r.energy_cny], shares)
        carrier = problem.factors.carrier(r.carrier)
        route_stops_: list[RouteStop] = []
        for (visit, e), share, (mj, wtt, ttw, cost, energy_cost) in zip(
            served, shares, parts, strict=True
        ):
            sp = plan.shipments[e.plan_index]
            old = sp.legs[e.leg_index]
            served_at = datetime_at(t0 + visit.start_h)
            site = hubs[e.site]
            km = own[e.shipment_id]
            origin, dest = (site, depot_hub) if direction == "first_mile" else (depot_hub, site)
            tce = tce_from_energy(
                tce_id=old.tce.tce_id,
                shipment_id=e.shipment_id,
                mode=Mode.ROAD,
                mass_t=e.mass_t,
                distance_km=km,
                distance_basis=DistanceBasis.ACTUAL,
                uses=[(carrier, mj)],
                method=Method.MODELLED,
                data_type=DataType.MODELLED,
                refs=(
                    FactorRef(
                        "stop_route",
                        route_id,
                        r.distance_km,
                        "km",
                        f"routing.vrp {solution.engine}",
                    ),
                ),
                rules=(
                    f"{direction.replace('_', ' ')} route {route_id}: {r.type_id} on "
                    f"{r.carrier}, {len(served)} stop(s), {r.distance_km:.3f} km driven, "
                    f"{r.energy_mj:.3f} MJ at the actual load on every arc",
                    f"share {share:.6f} = {e.mass_t:g} t x {km:.3f} km / "
                    f"{total_w:.3f} tkm; {ISO_RULE}",
                ),
                origin=origin.location(),
                destination=dest.location(),
                toc_id=r.type_id,
            )
            tce = replace(
                tce,
                co2e_wtt_kg=wtt,
                co2e_ttw_kg=ttw,
                prev_tce_ids=old.tce.prev_tce_ids,
                geometry=(origin.lonlat, dest.lonlat),
            )
            if direction == "first_mile":
                depart, arrive = served_at, datetime_at(t0 + r.visits[-1].arrival_h)
            else:
                depart, arrive = datetime_at(t0 + r.visits[0].departure_h), served_at
            tce = replace(tce, departure_at=depart.isoformat(), arrival_at=arrive.isoformat())
            leg = replace(
                old,
                vehicle_id=r.type_id,
                energy_carrier=r.carrier,
                departure_at=depart,
                arrival_at=arrive,
                cost_cny=cost,
                vehicles=1,
                shared_with=len(served),
                tce=tce,
                # the tour's operating cost only: tolls and ETS2 are not priced on tours
                cost_breakdown=tuple(
                    (k, {"freight": cost - energy_cost, "energy": energy_cost}.get(k, 0.0))
                    for k in COST_KEYS
                ),
                regulatory_rules=(),
            )
            new_legs[e.plan_index, e.leg_index] = (
                leg,
                served_at if direction == "last_mile" else None,
            )
            route_stops_.append(
                RouteStop(
                    e.shipment_id,
                    e.site,
                    "pickup" if direction == "first_mile" else "delivery",
                    site.lat,
                    site.lon,
                    served_at,
                    e.mass_t,
                    km,
                    share,
                    wtt + ttw,
                    ttw,
                    cost,
                )
            )
        geometry = []
        for v in r.visits:
            if v.kind == "depot":
                geometry.append(depot_hub.lonlat)
            elif v.kind == "stop":
                geometry.append(hubs[by_stop[v.place_id].site].lonlat)
            else:
                st = stations[v.place_id]
                geometry.append((st.lon, st.lat))
        routes.append(
            StopRoute(
                route_id=route_id,
                leg=direction,
                depot=depot_id,
                day=datetime_at(day * HOURS_PER_DAY).date(),
                vehicle_type=r.type_id,
                energy_carrier=r.carrier,
                departure_at=datetime_at(t0 + r.visits[0].departure_h),
                return_at=datetime_at(t0 + r.visits[-1].arrival_h),
                stops=tuple(route_stops_),
                distance_km=r.distance_km,
                energy_mj=r.energy_mj,
                co2e_wtt_kg=r.co2e_wtt_kg,
                co2e_ttw_kg=r.co2e_ttw_kg,
                cost_cny=op_cost,
                refills=sum(1 for v in r.visits if v.kind == "station"),
                geometry=tuple(geometry),
            )
        )
    lost = [DroppedLeg(d.stop_id, direction, depot_id, d.reason) for d in solution.dropped]
    return routes, lost, new_legs, wall


def _split(totals: list[float], shares: list[float]) -> list[tuple[float, ...]]:
    """Each total split by the shares; the last part takes the remainder (sums are exact)."""
    out: list[list[float]] = [[] for _ in shares]
    for total in totals:
        given = 0.0
        for i, share in enumerate(shares):
            part = total - given if i == len(shares) - 1 else total * share
            given += part
            out[i].append(part)
    return [tuple(p) for p in out]


def _with_leg(
    problem: Problem,
    sp: ShipmentPlan,
    leg_index: int,
    leg: PlannedLeg,
    delivered_at: datetime | None,
) -> ShipmentPlan:
    """A shipment plan with one leg replaced: footprint, cost [CNY] and arrival follow."""
    old = sp.legs[leg_index]
    legs = tuple(leg if i == leg_index else x for i, x in enumerate(sp.legs))
    tces = tuple(leg.tce if t.tce_id == old.tce.tce_id else t for t in sp.footprint.tces)
    fp = footprint(
        tces,
        shipment_id=sp.shipment_id,
        mass_t=sp.mass_t,
        factors=problem.factors,
        meta=sp.footprint.meta,
    )
    arrival = delivered_at if delivered_at is not None else sp.arrival_at
    sd = arrival_sd_h(
        ((Mode(x.mode), (x.arrival_at - x.departure_at).total_seconds() / S_PER_H) for x in legs),
        problem.builder.data_dir,
    )
    slack_h = (sp.due_at - arrival).total_seconds() / S_PER_H
    return replace(
        sp,
        legs=legs,
        footprint=fp,
        cost_cny=sp.cost_cny - old.cost_cny + leg.cost_cny,
        arrival_at=arrival,
        on_time_probability=on_time_probability(slack_h, sd),
    )


def recheck_target(result: Plan) -> None:
    """Say whether a target-mode plan still meets its cap after stop-level routing.

    The selection enforces the cap on the point-to-point road legs; the routed tours replace
    them afterwards, so the routed intensity [g/tkm] is checked again and reported in facts.
    """
    cap = result.facts.get("target_intensity_g_per_tkm")
    if not isinstance(cap, float | int):
        return
    routed = result.intensity_g_per_tkm
    met = routed <= cap * (1 + 1e-9)
    result.facts["target_met_after_stop_routing"] = met
    if not met and result.status != "target_infeasible":
        result.facts["message"] = (
            f"stop-level routing raised the intensity to {routed:.2f} g/tkm, above the "
            f"{result.facts.get('target_year')} target {cap:.2f} g/tkm met by the "
            "point-to-point plan"
        )
