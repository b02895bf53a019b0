"""Energy use as a function of payload, range and refuelling, and the modelled profile.

A vehicle uses ``E(L) = empty_energy_mj_per_km + energy_slope_mj_per_tkm x L`` [MJ/km] with
payload ``L`` [t]. Per tonne-km, the empty share ``er`` of vehicle-km is spread over the loaded
tonne-km: ``(E(L) + er / (1 - er) x E(0)) / L`` [MJ/tkm] (GLEC v3 / ISO 14083 modelled data).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import FactorNotFound, InputError
from greenlane.emissions.factors import Factors, blend, carrier_refs, load_factors, on_basis_of
from greenlane.emissions.model import EnergyCarrier, Mode, ModelledProfile
from greenlane.emissions.units import PCT, kwh_to_mj, mj_to_kwh
from greenlane.fleet._validate import real as _real
from greenlane.fleet.catalog import vehicle_type
from greenlane.fleet.model import VehicleType

SAF_FOSSIL = "jet_kerosene"
"""Fossil carrier a SAF share is blended into."""
SAF_DEFAULT = "saf_hefa_uco"
"""SAF pathway used when ``saf_share`` is given with the fossil carrier."""
_WIND_MODES = (Mode.SEA, Mode.INLAND_WATER)
_TOL = 1e-9


def _payload(vehicle: VehicleType, payload_t: float, field_name: str = "payload_t") -> float:
    payload = _real(payload_t, field_name)
    if payload < 0 or payload > vehicle.payload_max_t * (1 + _TOL):
        raise InputError(
            f"payload {payload:g} t outside [0, {vehicle.payload_max_t:g}] t of {vehicle.type_id}",
            field=field_name,
        )
    return payload


def _wind_factor(vehicle: VehicleType, wind_assist: bool) -> float:
    if not wind_assist:
        return 1.0
    if vehicle.mode not in _WIND_MODES or vehicle.wind_assist_saving_share <= 0:
        raise InputError(f"{vehicle.type_id} has no wind-assisted propulsion", field="wind_assist")
    return 1.0 - vehicle.wind_assist_saving_share


def energy_mj_per_km(vehicle: VehicleType, payload_t: float, *, wind_assist: bool = False) -> float:
    """Energy use per vehicle-km carrying ``payload_t`` [t] -> [MJ/km].

    ``wind_assist`` applies the vessel's wind-assist saving share (ships only).
    """
    payload = _payload(vehicle, payload_t)
    energy = vehicle.empty_energy_mj_per_km + vehicle.energy_slope_mj_per_tkm * payload
    return energy * _wind_factor(vehicle, wind_assist)


def _empty_share(vehicle: VehicleType, empty_running_share: float | None) -> float:
    if empty_running_share is None:
        return vehicle.default_empty_running_share
    share = _real(empty_running_share, "empty_running_share")
    if not 0 <= share < 1:
        raise InputError(f"must lie in [0, 1), got {share:g}", field="empty_running_share")
    return share


def energy_mj_per_tkm(
    vehicle: VehicleType,
    payload_t: float,
    empty_running_share: float | None = None,
    *,
    wind_assist: bool = False,
) -> float:
    """Energy per tonne-km of payload, empty running included [t, -] -> [MJ/tkm].

    ``(E(L) + er / (1 - er) x E(0)) / L``; ``er`` defaults to the vehicle's empty running share
    [share of vehicle-km].
    """
    payload = _payload(vehicle, payload_t)
    if payload <= 0:
        raise InputError("payload must be > 0 for a per-tonne-km intensity", field="payload_t")
    share = _empty_share(vehicle, empty_running_share)
    loaded = energy_mj_per_km(vehicle, payload, wind_assist=wind_assist)
    empty = energy_mj_per_km(vehicle, 0.0, wind_assist=wind_assist)
    return (loaded + share / (1 - share) * empty) / payload


def _h2_lhv_mj_per_kg(vehicle: VehicleType, factors: Factors | None) -> float:
    lhv = (factors or load_factors()).carrier(vehicle.default_carrier).lhv_mj_per_kg
    if not lhv:
        raise InputError(f"{vehicle.default_carrier} has no heating value", field="carrier")
    return lhv


def range_km(vehicle: VehicleType, payload_t: float, factors: Factors | None = None) -> float:
    """Range on a full battery or H2 tank carrying ``payload_t`` [t] -> [km].

    BEV: ``battery_kwh`` (usable) / E(L); FCEV: ``tank_kg_h2`` x LHV / E(L). Other vehicles
    return their nominal ``range_km`` or infinity when none is given.
    """
    energy = energy_mj_per_km(vehicle, payload_t)
    if vehicle.battery_kwh is not None:
        return kwh_to_mj(vehicle.battery_kwh) / energy
    if vehicle.tank_kg_h2 is not None:
        return vehicle.tank_kg_h2 * _h2_lhv_mj_per_kg(vehicle, factors) / energy
    return vehicle.range_km if vehicle.range_km is not None else math.inf


def refuel_h(vehicle: VehicleType, energy_mj: float, factors: Factors | None = None) -> float:
    """Time to recharge or refuel ``energy_mj`` [MJ] -> [h]; 0 for liquid fuels (not modelled).

    BEV: kWh / ``refuel_power_kw``; FCEV: kg H2 / ``refuel_kg_h2_per_h``.
    """
    energy = _real(energy_mj, "energy_mj")
    if vehicle.battery_kwh is not None and vehicle.refuel_power_kw:
        return mj_to_kwh(energy) / vehicle.refuel_power_kw
    if vehicle.tank_kg_h2 is not None and vehicle.refuel_kg_h2_per_h:
        return energy / _h2_lhv_mj_per_kg(vehicle, factors) / vehicle.refuel_kg_h2_per_h
    return 0.0


def refuel_stops(
    vehicle: VehicleType, payload_t: float, distance_km: float, factors: Factors | None = None
) -> tuple[int, float]:
    """Stops and hours to recharge/refuel on a leg that starts full [t, km] -> (n, [h]).

    Each stop refills the energy of one full range; 0 stops if the leg fits in one range.
    """
    distance = _real(distance_km, "distance_km")
    reach = range_km(vehicle, payload_t, factors)
    if distance <= reach or math.isinf(reach):
        return 0, 0.0
    stops = math.ceil(distance / reach) - 1
    full_mj = reach * energy_mj_per_km(vehicle, payload_t)
    return stops, stops * refuel_h(vehicle, full_mj, factors)


def _pct(share: float) -> str:
    return f"{share * PCT:.4g} %"


def _load(
    vehicle: VehicleType, load_t: float | None, load_factor: float | None
) -> tuple[float, str]:
    cap = vehicle.payload_max_t
    if load_t is not None and load_factor is not None:
        raise InputError("give load_t or load_factor, not both", field="load_t")
    if load_t is not None:
        load = _real(load_t, "load_t")
        if not 0 < load <= cap * (1 + _TOL):
            raise InputError(
                f"must lie in (0, {cap:g}] t (payload of {vehicle.type_id})", field="load_t"
            )
        return load, f"load {load:g} t stated ({_pct(load / cap)} of {cap:g} t payload)"
    how = "stated" if load_factor is not None else "default"
    factor = (
        vehicle.default_load_factor if load_factor is None else _real(load_factor, "load_factor")
    )
    if not 0 < factor <= 1:
        raise InputError(f"must lie in (0, 1], got {factor:g}", field="load_factor")
    return cap * factor, f"load {_pct(factor)} of {cap:g} t payload = {cap * factor:g} t ({how})"


def _carrier(
    vehicle: VehicleType, carrier_key: str, saf_share: float | None, factors: Factors
) -> tuple[EnergyCarrier, str]:
    def get(key: str) -> EnergyCarrier:
        if key not in vehicle.energy_carriers:
            raise InputError(
                f"{vehicle.type_id} cannot use {key!r}; allowed: "
                f"{', '.join(vehicle.energy_carriers)}",
                field="carrier_key",
            )
        try:
            return factors.carrier(key)
        except FactorNotFound as exc:
            raise InputError(exc.message, field="carrier_key") from None

    if saf_share is None:
        return get(carrier_key), ""
    share = _real(saf_share, "saf_share")
    if vehicle.mode is not Mode.AIR:
        raise InputError("saf_share applies to aircraft only", field="saf_share")
    if not 0 <= share <= 1:
        raise InputError(f"must lie in [0, 1], got {share:g}", field="saf_share")
    saf_key = carrier_key if carrier_key.startswith("saf_") else SAF_DEFAULT
    if carrier_key not in (SAF_FOSSIL, saf_key):
        raise InputError(
            f"saf_share blends {SAF_FOSSIL} with a saf_* carrier, not {carrier_key!r}",
            field="carrier_key",
        )
    get(SAF_FOSSIL)
    saf = get(saf_key)
    fossil = on_basis_of(SAF_FOSSIL, saf, factors)  # one fossil baseline with the SAF values
    mix = blend([(fossil, 1 - share), (saf, share)], key=f"{SAF_FOSSIL}+{saf_key}:{share:g}")
    return mix, (
        f"SAF {_pct(share)} by energy ({saf_key}) blended with {SAF_FOSSIL} "
        f"({fossil.factor_set}, {fossil.wtw_g_per_mj:.2f} g/MJ): "
        f"WTW {mix.wtw_g_per_mj:.2f} g CO2e/MJ"
    )


def profile(
    type_id: str,
    carrier_key: str | None = None,
    load_t: float | None = None,
    load_factor: float | None = None,
    empty_running_share: float | None = None,
    saf_share: float | None = None,
    wind_assist: bool = False,
    factors: Factors | None = None,
    data_dir: Path = DATA_DIR,
) -> ModelledProfile:
    """Modelled energy profile of a vehicle type at a stated or default load [MJ/tkm].

    ``load_t`` [t] or ``load_factor`` [-] set the vehicle's payload (default: its default load
    factor); ``empty_running_share`` [-] the share of empty vehicle-km; ``saf_share`` [-] the
    energy share of SAF blended into jet kerosene (aircraft). ``rules`` say what was assumed;
    ``refs`` cite the vehicle (and a blend's components; the chain adds the carrier's own).
    Errors are InputError naming the parameter at fault. ``data_dir`` holds the vehicle
    types (and the factors when ``factors`` is None).
    """
    factors = factors or load_factors(data_dir=data_dir)
    vehicle = vehicle_type(type_id, "type_id", data_dir)
    key = vehicle.default_carrier if carrier_key is None else carrier_key
    if not isinstance(key, str):
        raise InputError(f"must be a carrier key, got {key!r}", field="carrier_key")
    payload, load_rule = _load(vehicle, load_t, load_factor)
    share = _empty_share(vehicle, empty_running_share)
    carrier, carrier_rule = _carrier(vehicle, key, saf_share, factors)
    # the chain adds the (blended) carrier's own refs; a blend also cites its components
    component_refs = (
        ()
        if saf_share is None
        else tuple(
            ref
            for k in dict.fromkeys((SAF_FOSSIL, key if key.startswith("saf_") else SAF_DEFAULT))
            for ref in carrier_refs(factors.carrier(k))
        )
    )
    intensity = energy_mj_per_tkm(vehicle, payload, share, wind_assist=wind_assist)
    loaded = energy_mj_per_km(vehicle, payload, wind_assist=wind_assist)
    empty = energy_mj_per_km(vehicle, 0.0, wind_assist=wind_assist)
    rules = [
        f"vehicle {vehicle.type_id} ({vehicle.name}): E = {vehicle.empty_energy_mj_per_km:g} + "
        f"{vehicle.energy_slope_mj_per_tkm:g} x payload MJ/km [{vehicle.data_quality}]",
        load_rule,
        f"empty running {_pct(share)} of vehicle-km "
        f"({'default' if empty_running_share is None else 'stated'})",
        f"energy carrier {key} ({'default' if carrier_key is None else 'stated'})",
    ]
    if carrier_rule:
        rules.append(carrier_rule)
    if wind_assist:
        rules.append(
            f"wind-assisted propulsion: -{vehicle.wind_assist_saving_share * PCT:g} % energy"
        )
    rules.append(
        f"energy {loaded:.4g} MJ/km loaded, {empty:.4g} MJ/km empty -> {intensity:.4g} MJ/tkm"
    )
    return ModelledProfile(
        vehicle_id=vehicle.type_id,
        mode=vehicle.mode,
        carrier=carrier,
        energy_mj_per_tkm=intensity,
        rules=tuple(rules),
        refs=(vehicle.factor_ref(intensity), *component_refs),
        load_t=payload,
        payload_max_t=vehicle.payload_max_t,
    )


_SPEC_KEYS = {
    "type": "type_id",
    "carrier": "carrier_key",
    "load_t": "load_t",
    "load_factor": "load_factor",
    "empty_running_share": "empty_running_share",
    "saf_share": "saf_share",
    "wind_assist": "wind_assist",
}
_PARAM_KEYS = {param: key for key, param in _SPEC_KEYS.items()} | {"payload_t": "load_t"}


def resolve_vehicle(
    spec: Mapping[str, Any], factors: Factors, data_dir: Path = DATA_DIR
) -> ModelledProfile:
    """Profile of a leg's ``vehicle`` object (the hook of the emissions chain parser).

    ``spec`` is ``{"type": type_id, "carrier"?, "load_t"?, "load_factor"?,
    "empty_running_share"?, "saf_share"?, "wind_assist"?}``. Bad keys or values raise
    InputError with fields such as ``vehicle.load_t``.
    """
    if not isinstance(spec, Mapping):
        raise InputError("must be an object with at least a 'type'", field="vehicle")
    for key in spec:
        if key not in _SPEC_KEYS:
            raise InputError(
                f"unknown key {key!r}; allowed: {', '.join(_SPEC_KEYS)}", field=f"vehicle.{key}"
            )
    type_id, carrier = spec.get("type"), spec.get("carrier")
    if not isinstance(type_id, str) or not type_id:
        raise InputError("a vehicle type id (string) is required", field="vehicle.type")
    if carrier is not None and not isinstance(carrier, str):
        raise InputError(f"must be a carrier key, got {carrier!r}", field="vehicle.carrier")
    wind = spec.get("wind_assist", False)
    if not isinstance(wind, bool):
        raise InputError(f"must be true or false, got {wind!r}", field="vehicle.wind_assist")
    numbers: dict[str, float | None] = {}
    for key in ("load_t", "load_factor", "empty_running_share", "saf_share"):
        value = spec.get(key)
        numbers[key] = None if value is None else _real(value, f"vehicle.{key}")
    try:
        return profile(
            type_id,
            carrier,
            numbers["load_t"],
            numbers["load_factor"],
            numbers["empty_running_share"],
            numbers["saf_share"],
            wind,
            factors,
            data_dir,
        )
    except InputError as exc:
        key = _PARAM_KEYS.get(exc.field or "", exc.field or "type")
        raise InputError(exc.message, field=f"vehicle.{key}") from None
