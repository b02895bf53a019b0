"""Validate a VrpProblem and resolve it into places, distances and priced vehicle specs.

Shared by the model builder (:mod:`routing.vrp.solve`) and the checker
(:mod:`routing.vrp.check`), so both see the same distances, prices and factors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from greenlane.data import DATA_DIR
from greenlane.emissions.distance import convert_distance_km, gcd_km
from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import co2e_of_energy_kg, load_factors
from greenlane.emissions.model import DistanceBasis, EnergyCarrier, Mode
from greenlane.emissions.units import KG_PER_T, MJ_PER_KWH
from greenlane.fleet import leg_cost_cny, regional_carrier, vehicle_type
from greenlane.fleet.model import VehicleType
from greenlane.routing.vrp.model import (
    STATION_KINDS,
    STOP_KINDS,
    FleetEntry,
    Station,
    Stop,
    VrpProblem,
    load_stations,
)

DIMS = ("kg", "m3", "pallets")
"""Load dimensions, in the order of ``Stop.mass_kg``, ``volume_m3``, ``pallets``."""


@dataclass(frozen=True, slots=True)
class Place:
    """A depot, stop or station position."""

    place_id: str
    kind: str
    lat: float
    lon: float


@dataclass(frozen=True)
class VehicleSpec:
    """One fleet entry resolved: vehicle, carrier, prices [CNY/MJ], factors [kg/MJ], store.

    ``store_*`` are in ``store_unit`` (kWh for batteries, kg for hydrogen);
    ``mj_per_store_unit`` converts energy to it; ``refill_per_h`` is the vehicle's own rate.
    """

    index: int
    entry: FleetEntry
    depot_id: str
    vehicle: VehicleType
    carrier: EnergyCarrier
    region: str
    depot: int
    end_depot: int
    price_cny_per_mj: float
    wtt_kg_per_mj: float
    ttw_kg_per_mj: float
    capacity: dict[str, float]
    store_unit: str | None
    store_capacity: float
    mj_per_store_unit: float
    refill_per_h: float
    shift_h: float | None
    charge_curve: tuple[tuple[float, float], ...] = ()
    """Charging curve: ``(battery level up to [kWh], power [kW])`` segments (empty: linear at
    ``refill_per_h``)."""

    @property
    def label(self) -> str:
        """``type@depot`` name of the entry."""
        return f"{self.vehicle.type_id}@{self.depot_id}"

    @property
    def wtw_kg_per_mj(self) -> float:
        """Well-to-wheel emissions of the carrier [kg CO2e/MJ]."""
        return self.wtt_kg_per_mj + self.ttw_kg_per_mj

    def cost_per_mj(self, carbon_price_cny_per_t: float) -> float:
        """Energy price + carbon price x WTW [CNY/MJ]."""
        return self.price_cny_per_mj + carbon_price_cny_per_t * self.wtw_kg_per_mj / KG_PER_T

    def energy_mj(self, distance_km: float, payload_t: float) -> float:
        """Energy over a distance at a payload, linear in payload [km, t -> MJ]."""
        v = self.vehicle
        return (v.empty_energy_mj_per_km + v.energy_slope_mj_per_tkm * payload_t) * distance_km

    def serves(self, station: Station) -> bool:
        """True if the station can refill this vehicle."""
        if self.store_unit == "kWh":
            return station.kind in ("charging", "swap")
        return self.store_unit == "kg" and station.kind == "hydrogen"

    def station_rate_per_h(self, station: Station) -> float:
        """Refill rate at a station [store unit/h]: the lower of vehicle and station (with a
        charging curve: its slowest segment, a rate that never overstates the speed)."""
        own = self.refill_per_h
        given = station.power_kw if self.store_unit == "kWh" else station.h2_kg_per_h
        return min(own, given) if given else own

    def charge_segments(self, station: Station) -> list[tuple[float, float, float]]:
        """``(from level, to level, rate)`` [store unit, store unit/h] of refilling at a
        station: the curve's segments (or one at the vehicle's rate), each capped by the
        station's power."""
        given = station.power_kw if self.store_unit == "kWh" else station.h2_kg_per_h
        curve = self.charge_curve or ((self.store_capacity, self.refill_per_h),)
        out, lo = [], 0.0
        for hi, rate in curve:
            out.append((lo, hi, min(rate, given) if given else rate))
            lo = hi
        return out

    def refill_h(self, station: Station, level: float, target: float) -> float:
        """Time to refill from ``level`` to ``target`` at a station [h] (swaps excluded)."""
        hours = 0.0
        for lo, hi, rate in self.charge_segments(station):
            part = min(target, hi) - max(level, lo)
            if part > 0:
                hours += part / rate
        return hours


@dataclass(frozen=True)
class Prepared:
    """A validated problem: places (depots, stops, stations), distances [km], vehicle specs."""

    problem: VrpProblem
    places: tuple[Place, ...]
    index: dict[str, int]
    km: np.ndarray
    from_matrix: np.ndarray
    basis_rule: str
    specs: tuple[VehicleSpec, ...]
    stations: tuple[Station, ...]
    stops: dict[str, Stop]
    pair_of: dict[str, tuple[str, str]]
    horizon_h: float

    def stop_payload(self, stop: Stop) -> dict[str, float]:
        """Demand of a stop by load dimension."""
        return {"kg": stop.mass_kg, "m3": stop.volume_m3, "pallets": stop.pallets}


def _check_ids(problem: VrpProblem) -> None:
    ids: list[str] = [d.depot_id for d in problem.depots] + [s.stop_id for s in problem.stops]
    seen: set[str] = set()
    for pid in ids:
        if not isinstance(pid, str) or not pid:
            raise InputError("ids must be non-empty strings", field="stops")
        if pid in seen:
            raise InputError(f"duplicate id {pid!r}", field="stops")
        seen.add(pid)
    if not problem.depots:
        raise InputError("at least one depot is needed", field="depots")
    if not problem.fleet:
        raise InputError("at least one fleet entry is needed", field="fleet")
    for i, d in enumerate(problem.depots):
        if not d.open_h <= d.close_h:
            raise InputError("open_h must be <= close_h", field=f"depots[{i}].close_h")
    depot_ids = {d.depot_id for d in problem.depots}
    for i, s in enumerate(problem.stops):
        where = f"stops[{i}]"
        if s.kind not in STOP_KINDS:
            raise InputError(f"kind must be one of {STOP_KINDS}", field=f"{where}.kind")
        for name in ("mass_kg", "volume_m3", "pallets", "service_h", "tw_start_h"):
            value = getattr(s, name)
            if not math.isfinite(value) or value < 0:
                raise InputError("must be a finite number >= 0", field=f"{where}.{name}")
        if s.tw_end_h is not None and s.tw_end_h < s.tw_start_h:
            raise InputError("tw_end_h must be >= tw_start_h", field=f"{where}.tw_end_h")
        if s.drop_penalty_cny is not None and s.drop_penalty_cny < 0:
            raise InputError("must be >= 0", field=f"{where}.drop_penalty_cny")
        if s.depot_id is not None and s.depot_id not in depot_ids:
            raise InputError(f"unknown depot {s.depot_id!r}", field=f"{where}.depot_id")
        if not (-90 <= s.lat <= 90 and -180 <= s.lon <= 180):
            raise InputError("lat/lon out of range", field=f"{where}.lat")
    if problem.carbon_price_cny_per_t < 0:
        raise InputError("must be >= 0", field="carbon_price_cny_per_t")
    if problem.station_copies < 0 or problem.max_stations < 0:
        raise InputError("must be >= 0", field="station_copies")


def _pairs(problem: VrpProblem, stops: dict[str, Stop]) -> dict[str, tuple[str, str]]:
    pair_of: dict[str, tuple[str, str]] = {}
    for i, (p, d) in enumerate(problem.pairs):
        where = f"pairs[{i}]"
        if p not in stops or d not in stops:
            raise InputError("pairs name unknown stops", field=where)
        if p in pair_of or d in pair_of or p == d:
            raise InputError("a stop may be in one pair only", field=where)
        if stops[p].kind != "pickup" or stops[d].kind != "delivery":
            raise InputError("a pair is (pickup stop, delivery stop)", field=where)
        sp, sd = stops[p], stops[d]
        for a, b in (
            (sp.mass_kg, sd.mass_kg),
            (sp.volume_m3, sd.volume_m3),
            (sp.pallets, sd.pallets),
        ):
            if b not in (0, a):
                raise InputError(
                    "the delivery of a pair carries the pickup's demand: leave it 0 or equal",
                    field=where,
                )
        pair_of[p] = pair_of[d] = (p, d)
    return pair_of


def _spec(
    i: int,
    entry: FleetEntry,
    problem: VrpProblem,
    depot_index: dict[str, int],
    uses: dict[str, bool],
) -> VehicleSpec:
    where = f"fleet[{i}]"
    if entry.count < 1:
        raise InputError("count must be >= 1", field=f"{where}.count")
    data_dir = problem.data_dir or DATA_DIR
    vehicle = _battery_overrides(
        entry, entry.vehicle or vehicle_type(entry.type_id, f"{where}.type_id", data_dir), where
    )
    if vehicle.mode is not Mode.ROAD:
        raise InputError(f"{vehicle.type_id} is not a road vehicle", field=f"{where}.type_id")
    depot_id = entry.depot_id or problem.depots[0].depot_id
    end_id = entry.end_depot_id or depot_id
    for name, did in (("depot_id", depot_id), ("end_depot_id", end_id)):
        if did not in depot_index:
            raise InputError(f"unknown depot {did!r}", field=f"{where}.{name}")
    depot = problem.depots[depot_index[depot_id]]
    region = problem.region or depot.region
    if not region:
        raise InputError(
            "give the problem or depot region (energy prices, grid mix)", field="region"
        )
    key = entry.carrier or regional_carrier(vehicle, region, data_dir, prices=problem.energy_prices)
    if key not in vehicle.energy_carriers:
        raise InputError(f"{vehicle.type_id} cannot use {key!r}", field=f"{where}.carrier")
    factors = load_factors(tuple(problem.factor_sets), data_dir=data_dir)
    carrier = factors.carrier(key, f"{where}.carrier")
    price = float(
        leg_cost_cny(
            vehicle,
            key,
            region,
            0.0,
            0.0,
            factors=factors,
            data_dir=data_dir,
            prices=problem.energy_prices,
        ).price_cny_per_mj
    )
    wtt, ttw = co2e_of_energy_kg(carrier, 1.0)
    capacity = {"kg": vehicle.payload_max_t * KG_PER_T}
    for dim, given in (("m3", entry.volume_m3), ("pallets", entry.pallets)):
        if given is not None:
            if given < 0:
                raise InputError("must be >= 0", field=f"{where}.{dim}")
            capacity[dim] = given
        elif uses[dim]:
            raise InputError(
                f"stops state {dim}; give the vehicles' {dim} capacity",
                field=f"{where}.{'volume_m3' if dim == 'm3' else dim}",
            )
    for name in ("initial_charge_share", "reserve_share"):
        share = getattr(entry, name)
        if not 0 <= share <= 1:
            raise InputError("must lie in [0, 1]", field=f"{where}.{name}")
    if entry.reserve_share > entry.initial_charge_share:
        raise InputError("reserve above the initial level", field=f"{where}.reserve_share")
    unit, cap, mj_per, rate = None, 0.0, 1.0, 0.0
    curve: tuple[tuple[float, float], ...] = ()
    if vehicle.battery_kwh is not None:
        unit, cap, mj_per = "kWh", vehicle.battery_kwh, MJ_PER_KWH
        rate = vehicle.refuel_power_kw or 0.0
        curve = tuple((share * cap, power) for share, power in entry.charge_curve)
        if curve:
            rate = curve[-1][1]
    elif vehicle.tank_kg_h2 is not None:
        if not carrier.lhv_mj_per_kg:
            raise InputError(f"{key} has no heating value", field=f"{where}.carrier")
        unit, cap, mj_per = "kg", vehicle.tank_kg_h2, carrier.lhv_mj_per_kg
        rate = vehicle.refuel_kg_h2_per_h or 0.0
    if entry.shift_h is not None and entry.shift_h <= 0:
        raise InputError("must be > 0", field=f"{where}.shift_h")
    return VehicleSpec(
        i,
        entry,
        depot_id,
        vehicle,
        carrier,
        region,
        depot_index[depot_id],
        depot_index[end_id],
        price,
        wtt,
        ttw,
        capacity,
        unit,
        cap,
        mj_per,
        rate,
        entry.shift_h,
        curve,
    )


def _battery_overrides(entry: FleetEntry, vehicle: VehicleType, where: str) -> VehicleType:
    """The vehicle with the entry's battery, consumption and charging power (validated)."""
    fields = {
        "battery_kwh": entry.battery_kwh,
        "consumption_kwh_per_km": entry.consumption_kwh_per_km,
        "consumption_kwh_per_tkm": entry.consumption_kwh_per_tkm,
        "charge_power_kw": entry.charge_power_kw,
    }
    given = {k: v for k, v in fields.items() if v is not None}
    if not given and not entry.charge_curve:
        return vehicle
    if vehicle.battery_kwh is None:
        name = next(iter(given), "charge_curve")
        raise InputError(f"{vehicle.type_id} is not battery-electric", field=f"{where}.{name}")
    for name, value in given.items():
        low_ok = value >= 0 if name.startswith("consumption") else value > 0
        if not (math.isfinite(value) and low_ok):
            raise InputError(
                "must be a finite number " + (">= 0" if "consumption" in name else "> 0"),
                field=f"{where}.{name}",
            )
    prev_share, prev_power = 0.0, math.inf
    for k, seg in enumerate(entry.charge_curve):
        if len(seg) != 2:
            raise InputError("segments are (share, power_kw)", field=f"{where}.charge_curve[{k}]")
        share, power = seg
        if not (prev_share < share <= 1.0) or not (0 < power <= prev_power):
            raise InputError(
                "states of charge must rise to 1.0 and power be > 0 and never rise",
                field=f"{where}.charge_curve[{k}]",
            )
        prev_share, prev_power = share, power
    if entry.charge_curve and prev_share != 1.0:
        raise InputError("the last segment must end at 1.0", field=f"{where}.charge_curve")
    return replace(
        vehicle,
        battery_kwh=entry.battery_kwh or vehicle.battery_kwh,
        refuel_power_kw=entry.charge_power_kw or vehicle.refuel_power_kw,
        empty_energy_mj_per_km=(
            vehicle.empty_energy_mj_per_km
            if entry.consumption_kwh_per_km is None
            else entry.consumption_kwh_per_km * MJ_PER_KWH
        ),
        energy_slope_mj_per_tkm=(
            vehicle.energy_slope_mj_per_tkm
            if entry.consumption_kwh_per_tkm is None
            else entry.consumption_kwh_per_tkm * MJ_PER_KWH
        ),
    )


def _stations(problem: VrpProblem, specs: tuple[VehicleSpec, ...]) -> tuple[Station, ...]:
    if not any(s.store_unit for s in specs):
        return ()
    if problem.stations is not None:
        for i, st in enumerate(problem.stations):
            if st.kind not in STATION_KINDS:
                raise InputError(
                    f"kind must be one of {STATION_KINDS}", field=f"stations[{i}].kind"
                )
        chosen = [st for st in problem.stations if any(sp.serves(st) for sp in specs)]
        return tuple(chosen)
    anchors = [(d.lat, d.lon) for d in problem.depots] + [(s.lat, s.lon) for s in problem.stops]
    near: list[tuple[float, Station]] = []
    for st in load_stations(problem.data_dir or DATA_DIR):
        if st.status != "operating" or not any(sp.serves(st) for sp in specs):
            continue
        dist = min(gcd_km(st.lat, st.lon, a, b) for a, b in anchors)
        if dist <= problem.station_radius_km:
            near.append((dist, st))
    near.sort(key=lambda t: (t[0], t[1].station_id))
    return tuple(st for _, st in near[: problem.max_stations])


def _distances(problem: VrpProblem, places: list[Place]) -> tuple[np.ndarray, np.ndarray, str]:
    n = len(places)
    km = np.zeros((n, n))
    user = np.zeros((n, n), dtype=bool)
    rules = convert_distance_km(1.0, Mode.ROAD, DistanceBasis.GCD, problem.distance_basis)[1]
    rule = "; ".join(rules) or "gcd"
    matrix = problem.distance_matrix
    look = matrix.lookup() if matrix else {}
    for a in range(n):
        for b in range(a + 1, n):
            pa, pb = places[a], places[b]
            gcd = gcd_km(pa.lat, pa.lon, pb.lat, pb.lon)
            km[a, b] = km[b, a] = (
                convert_distance_km(gcd, Mode.ROAD, DistanceBasis.GCD, problem.distance_basis)[0]
                if gcd
                else 0.0
            )
    if matrix:
        for a in range(n):
            for b in range(n):
                ia, ib = look.get(places[a].place_id), look.get(places[b].place_id)
                if a != b and ia is not None and ib is not None:
                    km[a, b] = matrix.km[ia][ib]
                    user[a, b] = True
    return km, user, rule


def prepare(problem: VrpProblem) -> Prepared:
    """Validate and resolve a problem; errors are InputError naming the field at fault."""
    _check_ids(problem)
    stops = {s.stop_id: s for s in problem.stops}
    pair_of = _pairs(problem, stops)
    depot_index = {d.depot_id: i for i, d in enumerate(problem.depots)}
    uses = {
        "m3": any(s.volume_m3 for s in problem.stops),
        "pallets": any(s.pallets for s in problem.stops),
    }
    specs = tuple(_spec(i, e, problem, depot_index, uses) for i, e in enumerate(problem.fleet))
    stations = _stations(problem, specs)
    places = [Place(d.depot_id, "depot", d.lat, d.lon) for d in problem.depots]
    places += [Place(s.stop_id, "stop", s.lat, s.lon) for s in problem.stops]
    ids = {p.place_id for p in places}
    for st in stations:
        if st.station_id in ids:
            raise InputError(
                f"station id {st.station_id!r} clashes with a depot or stop", field="stations"
            )
        ids.add(st.station_id)
    places += [Place(st.station_id, "station", st.lat, st.lon) for st in stations]
    km, user, rule = _distances(problem, places)
    horizon = max(d.close_h for d in problem.depots)
    return Prepared(
        problem,
        tuple(places),
        {p.place_id: i for i, p in enumerate(places)},
        km,
        user,
        rule,
        specs,
        stations,
        stops,
        pair_of,
        horizon,
    )
