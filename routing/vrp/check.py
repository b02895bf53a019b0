"""Exact route evaluation and the solution checker.

:func:`simulate` drives a route with the actual load on every arc: loads, earliest times from a
departure, battery/hydrogen levels (refill to full at a station, or the amount a route
reports; charging time follows the vehicle's charging curve), energy, emissions and cost.
:func:`check_solution` re-simulates every returned route from the problem alone and lists
every violated rule: coverage, fleet size, capacity, time windows, depot hours, shift, range,
pickup-before-delivery and the reported totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from greenlane.emissions.units import KG_PER_T
from greenlane.routing.vrp.model import RouteArc, Visit, VrpProblem, VrpSolution
from greenlane.routing.vrp.prepare import DIMS, Prepared, VehicleSpec, prepare

TOL_H = 1e-6
"""Time tolerance of the checks [h]."""
TOL = 1e-6
"""Relative tolerance on loads, levels and reported totals [-]."""


@dataclass
class Simulation:
    """A simulated route; ``issues`` lists every rule it breaks."""

    visits: list[Visit] = field(default_factory=list)
    arcs: list[RouteArc] = field(default_factory=list)
    distance_km: float = 0.0
    duration_h: float = 0.0
    energy_mj: float = 0.0
    wtt_kg: float = 0.0
    ttw_kg: float = 0.0
    waiting_h: float = 0.0
    push_h: float = float("inf")
    issues: list[str] = field(default_factory=list)

    def costs(self, spec: VehicleSpec, carbon_price_cny_per_t: float) -> dict[str, float]:
        """Cost components [CNY]."""
        v = spec.vehicle
        return {
            "fixed_cny": float(v.fixed_cost_cny_per_departure),
            "distance_cny": float(v.cost_cny_per_km) * self.distance_km,
            "time_cny": float(v.cost_cny_per_h) * self.duration_h,
            "energy_cny": spec.price_cny_per_mj * self.energy_mj,
            "carbon_cny": carbon_price_cny_per_t * (self.wtt_kg + self.ttw_kg) / KG_PER_T,
        }


def _start_load(prep: Prepared, seq: list[int]) -> dict[str, float]:
    load = dict.fromkeys(DIMS, 0.0)
    for p in seq:
        place = prep.places[p]
        if place.kind != "stop":
            continue
        stop = prep.stops[place.place_id]
        if stop.kind == "delivery" and stop.stop_id not in prep.pair_of:
            for dim, amount in prep.stop_payload(stop).items():
                load[dim] += amount
    return load


def simulate(
    prep: Prepared,
    spec: VehicleSpec,
    seq: list[int],
    depart_h: float,
    refills: dict[int, float] | None = None,
) -> Simulation:
    """Drive ``seq`` (place indices, start and end depot included) leaving at ``depart_h``.

    ``refills`` maps positions in ``seq`` of station visits to the amount refilled there
    (partial recharging); other station visits refill to full.
    """
    sim = Simulation()
    problem = prep.problem
    load = _start_load(prep, seq)
    level = spec.store_capacity * spec.entry.initial_charge_share
    reserve = spec.store_capacity * spec.entry.reserve_share
    first = prep.places[seq[0]]
    sim.visits.append(
        Visit(
            first.place_id,
            "depot",
            depart_h,
            depart_h,
            depart_h,
            load["kg"],
            load["m3"],
            load["pallets"],
            level if spec.store_unit else None,
            None,
        )
    )
    t = depart_h
    depot_open = problem.depots[seq[0]].open_h
    if depart_h < depot_open - TOL_H:
        sim.issues.append(f"leaves {first.place_id} at {depart_h:.3f} h before it opens")
    cum_wait = 0.0
    station_at = {st.station_id: st for st in prep.stations}
    for pos, (a, b) in enumerate(pairwise(seq), start=1):
        km = float(prep.km[a, b])
        payload_t = load["kg"] / KG_PER_T
        energy = spec.energy_mj(km, payload_t)
        wtt, ttw = spec.wtt_kg_per_mj * energy, spec.ttw_kg_per_mj * energy
        rule = "user matrix" if prep.from_matrix[a, b] else prep.basis_rule
        sim.arcs.append(
            RouteArc(
                prep.places[a].place_id,
                prep.places[b].place_id,
                km,
                payload_t,
                energy,
                wtt,
                ttw,
                rule,
            )
        )
        sim.distance_km += km
        sim.energy_mj += energy
        sim.wtt_kg += wtt
        sim.ttw_kg += ttw
        t += km / spec.vehicle.speed_kmh
        place = prep.places[b]
        arrival, level_in, refill = t, None, None
        if spec.store_unit:
            level -= energy / spec.mj_per_store_unit
            level_in = level
            if level < reserve - TOL * max(spec.store_capacity, 1.0):
                sim.issues.append(
                    f"out of range: the {spec.store_unit} level falls to "
                    f"{level:.3f} (reserve {reserve:.3f}) on reaching "
                    f"{place.place_id}"
                )
        start = t
        if place.kind == "stop":
            stop = prep.stops[place.place_id]
            start = max(t, stop.tw_start_h)
            wait = start - t
            cum_wait += wait
            sim.waiting_h += wait
            end = stop.tw_end_h if stop.tw_end_h is not None else prep.horizon_h
            sim.push_h = min(sim.push_h, cum_wait + end - start)
            if start > end + TOL_H:
                sim.issues.append(
                    f"{stop.stop_id} served at {start:.3f} h after its window closes at {end:.3f} h"
                )
            sign = -1.0 if stop.kind == "delivery" else 1.0
            pair = prep.pair_of.get(stop.stop_id)
            if pair is not None:
                payload = prep.stop_payload(prep.stops[pair[0]])
                sign = 1.0 if stop.stop_id == pair[0] else -1.0
            else:
                payload = prep.stop_payload(stop)
            for dim in DIMS:
                load[dim] += sign * payload[dim]
            t = start + stop.service_h
        elif place.kind == "station":
            station = station_at[place.place_id]
            if not spec.serves(station):
                sim.issues.append(f"{spec.label} cannot refill at {station.station_id}")
            elif spec.store_unit:
                full = spec.store_capacity - level
                refill = full if refills is None else refills.get(pos, full)
                if refill < -TOL * max(spec.store_capacity, 1.0) or refill > full + TOL * max(
                    spec.store_capacity, 1.0
                ):
                    sim.issues.append(
                        f"refill {refill:.3f} {spec.store_unit} at {place.place_id} outside "
                        f"[0, {full:.3f}]"
                    )
                if station.kind == "swap" and station.swap_time_h:
                    t += station.swap_time_h
                else:
                    t += spec.refill_h(station, level, level + refill)
                level += refill
        else:  # end depot
            close = problem.depots[b].close_h
            if t > close + TOL_H:
                sim.issues.append(
                    f"returns to {place.place_id} at {t:.3f} h after it closes at {close:.3f} h"
                )
            sim.push_h = min(sim.push_h, cum_wait + close - t)
        for dim in DIMS:
            cap = spec.capacity.get(dim, float("inf"))
            if load[dim] > cap * (1 + TOL) + TOL or load[dim] < -TOL:
                sim.issues.append(
                    f"load {load[dim]:.3f} {dim} outside [0, {cap:g}] after {place.place_id}"
                )
        sim.visits.append(
            Visit(
                place.place_id,
                place.kind,
                arrival,
                start,
                t,
                load["kg"],
                load["m3"],
                load["pallets"],
                level_in,
                refill,
            )
        )
    sim.duration_h = t - depart_h
    if spec.shift_h is not None and sim.duration_h > spec.shift_h + TOL_H:
        sim.issues.append(f"route lasts {sim.duration_h:.3f} h > shift {spec.shift_h:g} h")
    return sim


def best_departure(
    prep: Prepared, spec: VehicleSpec, seq: list[int], refills: dict[int, float] | None = None
) -> Simulation:
    """Simulation leaving as late as the route allows without delaying its end (least span)."""
    open_h = prep.problem.depots[seq[0]].open_h
    early = simulate(prep, spec, seq, open_h, refills)
    delay = max(0.0, min(early.waiting_h, early.push_h))
    return simulate(prep, spec, seq, open_h + delay, refills) if delay > TOL_H else early


def check_solution(problem: VrpProblem, solution: VrpSolution) -> list[str]:
    """Every rule a solution breaks (empty list = valid), re-derived from the problem."""
    prep = prepare(problem)
    issues: list[str] = []
    served: dict[str, tuple[int, int]] = {}
    used = [0] * len(prep.specs)
    for r_i, route in enumerate(solution.routes):
        if not 0 <= route.fleet_index < len(prep.specs):
            issues.append(f"route {route.vehicle_id}: unknown fleet entry")
            continue
        spec = prep.specs[route.fleet_index]
        used[spec.index] += 1
        try:
            seq = [prep.index[v.place_id] for v in route.visits]
        except KeyError as exc:
            issues.append(f"route {route.vehicle_id}: unknown place {exc}")
            continue
        if seq[0] != spec.depot or seq[-1] != spec.end_depot:
            issues.append(f"route {route.vehicle_id} does not start/end at its depots")
        refills = {
            pos: v.refilled
            for pos, v in enumerate(route.visits)
            if v.kind == "station" and v.refilled is not None
        }
        sim = simulate(prep, spec, seq, route.visits[0].departure_h, refills)
        issues += [f"route {route.vehicle_id}: {msg}" for msg in sim.issues]
        for pos, p in enumerate(seq[1:-1], start=1):
            place = prep.places[p]
            if place.kind == "depot":
                issues.append(f"route {route.vehicle_id} passes a depot mid-route")
            if place.kind != "stop":
                continue
            if place.place_id in served:
                issues.append(f"{place.place_id} served twice")
            served[place.place_id] = (r_i, pos)
            stop = prep.stops[place.place_id]
            if stop.depot_id is not None and stop.depot_id != problem.depots[seq[0]].depot_id:
                issues.append(f"{stop.stop_id} served from another depot than {stop.depot_id}")
        for name, reported, exact in (
            ("distance_km", route.distance_km, sim.distance_km),
            ("co2e_wtw_kg", route.co2e_wtw_kg, sim.wtt_kg + sim.ttw_kg),
            ("energy_mj", route.energy_mj, sim.energy_mj),
        ):
            if abs(reported - exact) > TOL * max(1.0, abs(exact)):
                issues.append(
                    f"route {route.vehicle_id}: reported {name} {reported:.6g} != {exact:.6g}"
                )
    for spec, n in zip(prep.specs, used, strict=True):
        if n > spec.entry.count:
            issues.append(f"{spec.label}: {n} routes > {spec.entry.count} vehicles")
    for pick, drop in prep.problem.pairs:
        if (pick in served) != (drop in served):
            issues.append(f"pair {pick}->{drop} only half served")
        elif pick in served and (
            served[pick][0] != served[drop][0] or served[pick][1] > served[drop][1]
        ):
            issues.append(f"pair {pick}->{drop}: pickup not before delivery on one vehicle")
    dropped = {d.stop_id: d for d in solution.dropped}
    for stop_id in prep.stops:
        if stop_id in served and stop_id in dropped:
            issues.append(f"{stop_id} both served and reported dropped")
        if stop_id not in served and (stop_id not in dropped or not dropped[stop_id].reason):
            issues.append(f"{stop_id} neither served nor reported with a reason")
    return issues
