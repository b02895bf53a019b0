"""First/last-mile routing: build the OR-Tools model from a VrpProblem, solve, report exactly.

What the solver sees (all integers, see :mod:`routing.vrp.core`):

- arc cost per vehicle: km x (cost per km + empty energy per km x (energy price + carbon price
  x WTW)) + fixed cost + cost per hour x route span;
- the load-dependent part of energy, slope x payload x km, **exactly** for goods loaded at the
  depot (a cumul dimension priced per kg carried to the stop) and for pickups brought back to
  the depot (the same, counted backwards from the end); for a pickup-and-delivery pair it is
  priced on the direct pickup -> delivery distance (a lower bound of the carried distance);
- range: battery [Wh] or hydrogen [g] level with consumption at the **planned payload**
  min(payload capacity, all demand) — an upper bound of the actual load, so a route the solver
  accepts never runs empty; a station copy refills to full, taking missing energy / rate.

The returned routes are then re-driven with the actual load on every arc
(:func:`routing.vrp.check.simulate`): energy, CO2e (WTT + TTW from the ``emissions`` factors),
cost and levels are exact, and :func:`routing.vrp.check.check_solution` must find no violation.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import load_factors
from greenlane.emissions.units import KG_PER_T, L_PER_M3, S_PER_H
from greenlane.routing.vrp.check import best_departure, check_solution
from greenlane.routing.vrp.core import (
    CorePair,
    CoreProblem,
    CoreStation,
    CoreVehicle,
    VrpParams,
    solve_core,
)
from greenlane.routing.vrp.evrptw_bridge import VrpError, ev_capable, solve_entry, unsuitable
from greenlane.routing.vrp.model import DroppedStop, VehicleRoute, VrpProblem, VrpSolution
from greenlane.routing.vrp.prepare import DIMS, Prepared, VehicleSpec, prepare

COST_UNITS_PER_CNY = 1_000_000
"""Solver cost resolution [units/CNY] (fine enough for per-kg carry costs on short arcs)."""
STORE_UNITS = 1000
"""Solver units per kWh of battery or per kg of hydrogen (Wh, g)."""
PALLET_UNITS = 100
"""Solver units per pallet (a hundredth of a pallet)."""
LOAD_UNITS = {"kg": 1.0, "m3": L_PER_M3, "pallets": float(PALLET_UNITS)}
"""Solver units per unit of each load dimension (kg, litres, 1/100 pallet)."""


def _hours(h: float) -> int:
    return math.ceil(h * S_PER_H - 1e-9)


def _cost(cny: float) -> int:
    return round(cny * COST_UNITS_PER_CNY)


class _Builder:
    """Nodes of the core model: one per depot, one per live stop, station copies."""

    def __init__(self, prep: Prepared, live: list[str], allowed: dict[str, list[int]]) -> None:
        self.prep = prep
        problem = prep.problem
        used = sorted({s.depot for s in prep.specs} | {s.end_depot for s in prep.specs})
        self.depot_node = {place: node for node, place in enumerate(used)}
        self.node_place: list[int] = list(used)
        self.node_place += [prep.index[s] for s in live]
        self.station_of: dict[int, tuple[int, int]] = {}  # node -> (station idx, spec idx)
        for s_i, station in enumerate(prep.stations):
            for spec in prep.specs:
                if spec.serves(station):
                    for _ in range(problem.station_copies):
                        self.station_of[len(self.node_place)] = (s_i, spec.index)
                        self.node_place.append(prep.index[station.station_id])
        self.live = live
        self.allowed = allowed
        self.vehicle_spec: list[int] = []
        for spec in prep.specs:
            self.vehicle_spec += [spec.index] * spec.entry.count

    def planned_payload_t(self, spec: VehicleSpec) -> float:
        """Payload assumed for range [t]: an upper bound of the load on any arc."""
        total_kg = sum(
            self.prep.stops[s].mass_kg
            for s in self.live
            if not (s in self.prep.pair_of and self.prep.pair_of[s][1] == s)
        )
        return min(spec.vehicle.payload_max_t, total_kg / KG_PER_T)

    def build(self) -> CoreProblem:
        prep, problem = self.prep, self.prep.problem
        idx = np.asarray(self.node_place)
        km = prep.km[np.ix_(idx, idx)]
        n = len(idx)
        price = problem.carbon_price_cny_per_t
        dims = [
            d
            for d in DIMS
            if d == "kg" or any(prep.stop_payload(prep.stops[s])[d] for s in self.live)
        ]
        arc_cost, travel, consumption, carry = [], [], [], []
        for spec in prep.specs:
            v = spec.vehicle
            per_mj = spec.cost_per_mj(price)
            per_km = float(v.cost_cny_per_km) + v.empty_energy_mj_per_km * per_mj
            cost = np.rint(km * per_km * COST_UNITS_PER_CNY).astype(np.int64)
            slope_cny_per_tkm = v.energy_slope_mj_per_tkm * per_mj
            for p_id, d_id in problem.pairs:
                if p_id in self.live and d_id in self.live:
                    p, d = self._node(p_id), self._node(d_id)
                    extra = slope_cny_per_tkm * prep.stops[p_id].mass_kg / KG_PER_T * km[p, d]
                    cost[p, :] += _cost(extra)
                    cost[p, p] = 0
            arc_cost.append(cost)
            travel.append(np.ceil(km / v.speed_kmh * S_PER_H - 1e-9).astype(np.int64))
            planned = spec.energy_mj(1.0, self.planned_payload_t(spec))
            use = km * planned / spec.mj_per_store_unit * STORE_UNITS
            consumption.append(np.ceil(use - 1e-9).astype(np.int64))
            carry.append(
                np.rint(km * slope_cny_per_tkm / KG_PER_T * COST_UNITS_PER_CNY).astype(np.int64)
            )
        service = np.zeros(n, dtype=np.int64)
        tw = np.zeros((n, 2), dtype=np.int64)
        tw[:, 1] = math.floor(prep.horizon_h * S_PER_H)
        for place, node in self.depot_node.items():
            depot = problem.depots[place]
            tw[node] = (_hours(depot.open_h), math.floor(depot.close_h * S_PER_H))
        delivery = np.zeros((n, len(dims)), dtype=np.int64)
        pickup = np.zeros_like(delivery)
        carry_out = np.zeros(n, dtype=np.int64)
        carry_in = np.zeros(n, dtype=np.int64)
        penalty = np.full(n, -1, dtype=np.int64)
        pairs: list[CorePair] = []
        allowed: dict[int, tuple[int, ...]] = {}
        for s_id in self.live:
            node, stop = self._node(s_id), prep.stops[s_id]
            service[node] = _hours(stop.service_h)
            end = stop.tw_end_h if stop.tw_end_h is not None else prep.horizon_h
            tw[node] = (_hours(stop.tw_start_h), math.floor(end * S_PER_H))
            amounts = [math.ceil(prep.stop_payload(stop)[d] * LOAD_UNITS[d] - 1e-9) for d in dims]
            if stop.drop_penalty_cny is not None:
                penalty[node] = _cost(stop.drop_penalty_cny)
            if s_id in prep.pair_of:
                p_id, d_id = prep.pair_of[s_id]
                if s_id == p_id:
                    pairs.append(CorePair(node, self._node(d_id), tuple(amounts)))
            elif stop.kind == "delivery":
                delivery[node] = amounts
                carry_out[node] = math.ceil(stop.mass_kg)
            else:
                pickup[node] = amounts
                carry_in[node] = math.ceil(stop.mass_kg)
            able = self._vehicles_of(self.allowed[s_id])
            if len(able) < len(self.vehicle_spec):
                allowed[node] = able
        stations: dict[int, CoreStation] = {}
        for node, (s_i, spec_i) in self.station_of.items():
            station, spec = prep.stations[s_i], prep.specs[spec_i]
            allowed[node] = self._vehicles_of([spec_i])
            if station.kind == "swap" and station.swap_time_h:
                service[node] = _hours(station.swap_time_h)
                stations[node] = CoreStation(fixed_time=service[node])
            else:
                rate = spec.station_rate_per_h(station) * STORE_UNITS
                stations[node] = CoreStation(rate_per_h=max(1, math.floor(rate)))
        fleet: list[CoreVehicle] = []
        for spec_i in self.vehicle_spec:
            spec = prep.specs[spec_i]
            cap_store = math.floor(spec.store_capacity * STORE_UNITS)
            fleet.append(
                CoreVehicle(
                    start=self.depot_node[spec.depot],
                    end=self.depot_node[spec.end_depot],
                    capacity=tuple(math.floor(spec.capacity[d] * LOAD_UNITS[d]) for d in dims),
                    fixed_cost=_cost(float(spec.vehicle.fixed_cost_cny_per_departure)),
                    profile=spec_i,
                    unit_time_cost=round(
                        float(spec.vehicle.cost_cny_per_h) * COST_UNITS_PER_CNY / S_PER_H
                    ),
                    max_duration=None
                    if spec.shift_h is None
                    else math.floor(spec.shift_h * S_PER_H),
                    store_capacity=cap_store if spec.store_unit else 0,
                    store_initial=math.floor(cap_store * spec.entry.initial_charge_share),
                    store_reserve=math.ceil(cap_store * spec.entry.reserve_share),
                    consumption_profile=spec_i,
                    carry_profile=spec_i,
                )
            )
        return CoreProblem(
            vehicles=tuple(fleet),
            arc_cost=tuple(arc_cost),
            travel_time=tuple(travel),
            service_time=service,
            time_windows=tw,
            delivery=delivery,
            pickup=pickup,
            pairs=tuple(pairs),
            penalty=penalty,
            allowed_vehicles=allowed,
            consumption=tuple(consumption),
            stations=stations,
            carry_cost=tuple(carry),
            carry_out=carry_out,
            carry_in=carry_in,
            names=tuple(prep.places[p].place_id for p in self.node_place),
            time_units_per_h=int(S_PER_H),
        )

    def _node(self, stop_id: str) -> int:
        return len(self.depot_node) + self.live.index(stop_id)

    def _vehicles_of(self, spec_indices: list[int]) -> tuple[int, ...]:
        wanted = set(spec_indices)
        return tuple(k for k, s in enumerate(self.vehicle_spec) if s in wanted)


def _alone(prep: Prepared, spec: VehicleSpec, stop_ids: list[str]) -> str | None:
    """Why ``spec`` cannot serve these stops on a route of their own (None: it can)."""
    problem = prep.problem
    for s_id in stop_ids:
        stop = prep.stops[s_id]
        if stop.depot_id is not None and stop.depot_id != problem.depots[spec.depot].depot_id:
            return f"{s_id} is served from {stop.depot_id} only"
        for dim, amount in prep.stop_payload(stop).items():
            cap = spec.capacity.get(dim, math.inf)
            if amount > cap:
                return f"{s_id} demand {amount:g} {dim} > capacity {cap:g} {dim}"
    seq = [spec.depot, *(prep.index[s] for s in stop_ids), spec.end_depot]
    sim = best_departure(prep, spec, seq)
    issues = [m for m in sim.issues if "out of range" not in m or not prep.stations]
    return issues[0] if issues else None


def _precheck(prep: Prepared) -> tuple[list[str], dict[str, list[int]], dict[str, str]]:
    """Stops some vehicle can serve alone (and which), and a reason for each other stop."""
    live: list[str] = []
    allowed: dict[str, list[int]] = {}
    reasons: dict[str, str] = {}
    groups: list[list[str]] = []
    for stop in prep.problem.stops:
        pair = prep.pair_of.get(stop.stop_id)
        if pair is None:
            groups.append([stop.stop_id])
        elif stop.stop_id == pair[0]:
            groups.append(list(pair))
    for group in groups:
        why: dict[str, int] = {}
        ok = []
        for spec in prep.specs:
            reason = _alone(prep, spec, group)
            if reason is None:
                ok.append(spec.index)
            else:
                why.setdefault(f"{spec.label}: {reason}", spec.index)
        if ok:
            live += group
            for s in group:
                allowed[s] = ok
        else:
            text = "no vehicle can serve it even on a route of its own: " + "; ".join(why)
            for s in group:
                reasons[s] = text
    return live, allowed, reasons


def _route(
    prep: Prepared,
    spec: VehicleSpec,
    k: int,
    seq: list[int],
    refills: dict[int, float] | None = None,
) -> VehicleRoute:
    sim = best_departure(prep, spec, seq, refills)
    costs = sim.costs(spec, prep.problem.carbon_price_cny_per_t)
    return VehicleRoute(
        vehicle_id=f"{spec.label}#{k}",
        fleet_index=spec.index,
        type_id=spec.vehicle.type_id,
        carrier=spec.carrier.key,
        depot_id=prep.places[spec.depot].place_id,
        end_depot_id=prep.places[spec.end_depot].place_id,
        store_unit=spec.store_unit,
        visits=tuple(sim.visits),
        arcs=tuple(sim.arcs),
        distance_km=sim.distance_km,
        duration_h=sim.duration_h,
        energy_mj=sim.energy_mj,
        co2e_wtt_kg=sim.wtt_kg,
        co2e_ttw_kg=sim.ttw_kg,
        **costs,
    )


NOTES = (
    "distances: {rule} unless a user matrix gives the pair",
    "solver arc cost uses empty-vehicle energy; the payload term is exact for depot deliveries "
    "and pickups (cumul x kg), and priced on the direct pickup->delivery distance for pairs",
    "solver range uses energy at the planned payload {planned} (an upper bound of the actual "
    "load); reported energy, CO2e, levels and cost use the actual load on every arc",
    "a station visit refills to full: time = missing energy / min(vehicle, station) rate",
)
EV_NOTES = (
    "distances: {rule} unless a user matrix gives the pair",
    "E-VRPTW search (the engine of the Schneider et al. 2014 benchmark): fewest vehicles, "
    "then distance, per fleet entry; the cheapest complete entry plan is kept",
    "battery energy at the actual load on every arc; partial recharging at charging "
    "stations (any number of visits), time by the vehicle's charging curve or power, "
    "capped by the station's power",
)


def _solve_ev(
    prep: Prepared, live: list[str], params: VrpParams, specs: list[VehicleSpec]
) -> tuple[list[VehicleRoute], dict[str, str]]:
    """Routes by the E-VRPTW search, one run per battery fleet entry sharing the time limit;
    the plan serving the most stops, then the cheapest, is kept (routes and the unserved
    stops' reasons)."""
    share = params.time_limit_s / len(specs)
    best: tuple[tuple[int, float], list[VehicleRoute], dict[str, str]] | None = None
    for spec in specs:
        plan = solve_entry(prep, spec, live, share, params.seed)
        routes = [
            _route(prep, spec, k, seq, refills)
            for k, (seq, refills) in enumerate(plan.routes, start=1)
        ]
        score = (len(plan.unserved), sum(r.cost_cny for r in routes))
        if best is None or score < best[0]:
            reasons = {s: f"{spec.label}: {why}" for s, why in plan.unserved.items()}
            best = (score, routes, reasons)
    assert best is not None
    return best[1], best[2]


def _solve_ortools(
    prep: Prepared, builder: _Builder, live: list[str], params: VrpParams
) -> tuple[list[VehicleRoute], dict[str, str], str, str, float]:
    """Routes by the OR-Tools core: routes, reasons, status, engine, objective [CNY]."""
    core = builder.build()
    sol = solve_core(core, params)
    objective = sol.objective / COST_UNITS_PER_CNY if sol.objective >= 0 else math.nan
    counter = dict.fromkeys(range(len(prep.specs)), 0)
    routes: list[VehicleRoute] = []
    for k, nodes in sorted(sol.routes.items()):
        if not nodes:
            continue
        spec = prep.specs[builder.vehicle_spec[k]]
        counter[spec.index] += 1
        seq = [spec.depot]
        for n in nodes:  # two copies of one station in a row are one visit
            place = builder.node_place[n]
            if place != seq[-1] or prep.places[place].kind != "station":
                seq.append(place)
        seq.append(spec.end_depot)
        routes.append(_route(prep, spec, counter[spec.index], seq))
    reasons = {}
    if not sol.routes:
        reasons = {s: f"no plan found by the solver ({sol.status})" for s in live}
    return routes, reasons, sol.status, sol.engine, objective


def _served(routes: list[VehicleRoute]) -> set[str]:
    return {v.place_id for r in routes for v in r.visits if v.kind == "stop"}


def solve_vrp(problem: VrpProblem, params: VrpParams | None = None) -> VrpSolution:
    """Plan first/last-mile routes; every returned plan has passed :func:`check_solution`.

    Engines: battery-electric fleets on an E-VRPTW (see :mod:`routing.vrp.evrptw_bridge`) go
    to the E-VRPTW search (``engine="auto"`` or ``"evrptw"``); with a mixed fleet ``auto``
    gives half the time to it (battery entries only) and half to OR-Tools (all entries) and
    keeps the plan serving more stops, then the cheaper; anything else goes to OR-Tools.
    Raises InputError (bad input, naming the field) or VrpError (a plan broke a rule).
    """
    t0 = time.perf_counter()
    params = params or VrpParams(time_limit_s=5.0)
    prep = prepare(problem)
    live, allowed, reasons = _precheck(prep)
    builder = _Builder(prep, live, allowed)
    routes: list[VehicleRoute] = []
    status, engine, objective = "success", "none", 0.0
    why_not_ev = unsuitable(prep, live)
    if params.engine == "evrptw" and why_not_ev and live:
        raise InputError(f"the evrptw engine needs a battery E-VRPTW: {why_not_ev}", "engine")
    ev_specs = [s for s in prep.specs if ev_capable(s)]
    use_ev = why_not_ev is None and params.engine in ("auto", "evrptw")
    both = use_ev and params.engine == "auto" and len(ev_specs) < len(prep.specs)
    if use_ev:
        ev_params = replace(params, time_limit_s=params.time_limit_s / (2 if both else 1))
        routes, unserved = _solve_ev(prep, live, ev_params, ev_specs)
        engine = "evrptw"
        status = "success" if not unserved else "partial"
        objective = sum(r.cost_cny for r in routes)
        if both:
            elapsed = time.perf_counter() - t0
            rest = replace(params, time_limit_s=max(0.1, params.time_limit_s - elapsed))
            other = _solve_ortools(prep, builder, live, rest)
            ev_score = (len(unserved), objective)
            or_score = (len(live) - len(_served(other[0])), sum(r.cost_cny for r in other[0]))
            if or_score < ev_score:
                routes, unserved, status, engine, objective = other
                use_ev = False
        reasons.update(unserved)
    elif live:
        routes, unserved, status, engine, objective = _solve_ortools(prep, builder, live, params)
        reasons.update(unserved)
    served = _served(routes)
    dropped = []
    for stop in problem.stops:
        if stop.stop_id in served:
            continue
        reason = reasons.get(stop.stop_id)
        if reason is None:
            if stop.drop_penalty_cny is not None:
                reason = (
                    f"optional stop left out: serving it costs more than its drop "
                    f"penalty of {stop.drop_penalty_cny:g} CNY, or no vehicle had "
                    "capacity, time or range left"
                )
            else:
                reason = (
                    "could not be fitted with the other stops (fleet size, capacity, time "
                    "windows, shift or range together); add vehicles or widen windows"
                )
        dropped.append(DroppedStop(stop.stop_id, reason, stop.drop_penalty_cny))
    planned = (
        ", ".join(
            f"{s.label} {builder.planned_payload_t(s):.3g} t" for s in prep.specs if s.store_unit
        )
        or "n/a (no range-limited vehicle)"
    )
    notes = tuple(
        n.format(rule=prep.basis_rule, planned=planned) for n in (EV_NOTES if use_ev else NOTES)
    )
    solution = VrpSolution(
        routes=tuple(routes),
        dropped=tuple(dropped),
        status=status,
        engine=engine,
        objective_cny=objective,
        wall_time_s=time.perf_counter() - t0,
        notes=notes,
        data_sha256=load_factors(
            tuple(problem.factor_sets), data_dir=problem.data_dir or DATA_DIR
        ).data_sha256,
    )
    violations = check_solution(problem, solution)
    if violations:
        raise VrpError("; ".join(violations), field="solution")
    return solution
