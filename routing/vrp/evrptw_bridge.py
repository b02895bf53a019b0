"""First/last-mile problems on the E-VRPTW search (:mod:`routing.vrp.evrptw_search`).

A :class:`VrpProblem` with one depot, every stop a delivery or every stop a pickup, mass the
only demand, no pairs and no optional stops is, for its battery-electric fleet entries that
leave fully charged, the E-VRPTW with partial recharging: each such entry becomes an
:class:`EvrptwInstance` in km, h and kWh (consumption empty + slope x load on board, battery
above the reserve, the entry's charging curve capped by each charging station's power, the
shift as the longest route) and is solved by the same search as the Schneider benchmark.
The routes' recharge amounts come from the independent checker's plan, so the exact
re-simulation (:func:`routing.vrp.check.simulate`) reproduces a feasible schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from greenlane.emissions.errors import GreenlaneError
from greenlane.emissions.units import KG_PER_T, MJ_PER_KWH
from greenlane.routing.vrp.evrptw import EvrptwInstance, check_routes
from greenlane.routing.vrp.evrptw_search import solve_evrptw
from greenlane.routing.vrp.prepare import Prepared, VehicleSpec


class VrpError(GreenlaneError):
    """A returned plan broke a rule the model should enforce (a bug, never user input)."""


MARGIN = 1e-5
"""Tightening of due times and the shift handed to the search [h], so that the checker's plan
(exact to 1e-6 h) passes the exact re-simulation's time tolerance (1e-6 h); battery levels
need none (that tolerance is 1e-6 x the battery)."""


def unsuitable(prep: Prepared, live: list[str]) -> str | None:
    """Why the problem is not an E-VRPTW (None: it is)."""
    problem = prep.problem
    specs = prep.specs
    if not live:
        return "no stop to route"
    if problem.pairs:
        return "pickup-and-delivery pairs"
    if len({(s.depot, s.end_depot) for s in specs}) > 1 or specs[0].depot != specs[0].end_depot:
        return "more than one depot"
    kinds = {prep.stops[s].kind for s in live}
    if len(kinds) > 1:
        return "deliveries and pickups mixed"
    stops = [prep.stops[s] for s in live]
    if any(s.volume_m3 or s.pallets for s in stops):
        return "volume or pallet demands"
    if any(s.drop_penalty_cny is not None for s in stops):
        return "optional stops"
    if not any(ev_capable(s) for s in specs):
        return "no battery-electric fleet entry leaving fully charged"
    return None


def ev_capable(spec: VehicleSpec) -> bool:
    """True for a battery-electric entry leaving fully charged (the E-VRPTW's vehicle)."""
    return spec.store_unit == "kWh" and spec.entry.initial_charge_share >= 1.0


@dataclass
class EntryPlan:
    """One fleet entry's routes: place indices (depot..depot) and refills by position."""

    spec: VehicleSpec
    routes: list[tuple[list[int], dict[int, float]]]
    unserved: dict[str, str]
    """Stop id -> what binds, as the search names it."""


def instance_for(prep: Prepared, spec: VehicleSpec, live: list[str]) -> EvrptwInstance:
    """The E-VRPTW of one fleet entry serving the ``live`` stops (km, h, kWh, kg)."""
    problem = prep.problem
    depot = problem.depots[spec.depot]
    stations = [
        st
        for st in prep.stations
        if st.kind == "charging" and spec.serves(st) and spec.station_rate_per_h(st) > 0
    ]
    places = [spec.depot, *(prep.index[st.station_id] for st in stations)]
    places += [prep.index[s] for s in live]
    n_st = len(stations)
    horizon = prep.horizon_h
    ready = [depot.open_h] + [0.0] * n_st
    due = [depot.close_h - MARGIN] + [horizon] * n_st
    service = [0.0] * (1 + n_st)
    demand = [0.0] * (1 + n_st)
    for s_id in live:
        stop = prep.stops[s_id]
        ready.append(stop.tw_start_h)
        end = stop.tw_end_h if stop.tw_end_h is not None else horizon
        due.append(max(stop.tw_start_h, end - MARGIN))
        service.append(stop.service_h)
        demand.append(stop.mass_kg)
    reserve = spec.store_capacity * spec.entry.reserve_share
    battery = spec.store_capacity - reserve
    curve = tuple(
        (level - reserve, 1.0 / power) for level, power in spec.charge_curve if level - reserve > 0
    )
    if curve:
        curve = (*curve[:-1], (battery, curve[-1][1]))
    own = spec.refill_per_h
    g_station = [0.0] * len(places)
    for k, st in enumerate(stations, start=1):
        given = st.power_kw
        g_station[k] = 1.0 / given if given else 0.0
    v = spec.vehicle
    idx = np.asarray(places)
    return EvrptwInstance(
        name=f"{spec.label}",
        ids=tuple(prep.places[p].place_id for p in places),
        kinds=("d",) + ("f",) * n_st + ("c",) * len(live),
        xy=np.zeros((len(places), 2)),
        demand=np.asarray(demand, dtype=float),
        ready=np.asarray(ready, dtype=float),
        due=np.asarray(due, dtype=float),
        service=np.asarray(service, dtype=float),
        battery=battery,
        capacity=spec.capacity["kg"],
        consumption=v.empty_energy_mj_per_km / MJ_PER_KWH,
        recharge_time=1.0 / own if own > 0 else math.inf,
        velocity=v.speed_kmh,
        dist=prep.km[np.ix_(idx, idx)],
        load_consumption=v.energy_slope_mj_per_tkm / MJ_PER_KWH / KG_PER_T,
        collect=prep.stops[live[0]].kind == "pickup",
        station_recharge_time=tuple(g_station),
        max_duration=math.inf if spec.shift_h is None else spec.shift_h - MARGIN,
        curve=curve,
    )


def solve_entry(
    prep: Prepared, spec: VehicleSpec, live: list[str], time_limit_s: float, seed: int
) -> EntryPlan:
    """Routes of one fleet entry (at most ``entry.count``) by the E-VRPTW search."""
    inst = instance_for(prep, spec, live)
    res = solve_evrptw(
        inst, time_limit_s, seed, objective="vehicles", max_vehicles=spec.entry.count
    )
    chk = check_routes(inst, res.routes)
    if chk.violations:  # never expected: the search returns checked routes only
        raise VrpError("; ".join(chk.violations), field="solution")
    routes = []
    index = inst.index()
    for rc in chk.routes:
        seq = [prep.index[p] for p in rc.nodes]
        seq[0], seq[-1] = spec.depot, spec.end_depot
        refills = {
            pos: max(0.0, amount)
            for pos, (node, amount) in enumerate(zip(rc.nodes, rc.recharges, strict=True))
            if inst.kinds[index[node]] == "f"
        }
        routes.append((seq, refills))
    causes = {}
    for part in res.reason.split("; ") if res.unserved else ():
        sid, _, why = part.partition(": ")
        causes[sid] = why
    return EntryPlan(spec, routes, {s: causes.get(s, res.reason) for s in res.unserved})
