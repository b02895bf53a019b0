"""Cost of a vehicle leg in one declared currency (CNY): fixed + distance + time + energy.

Energy is the energy used on the leg [MJ] times the price of the carrier in the region
[CNY/MJ], converted from ``data/energy_prices.csv`` by the carrier's LHV and density. A price
is looked up for the carrier key, then its key families (``electricity_cn_east`` ->
``electricity_cn``), each in the region (``CN-SOUTH``), its country (``CN``), ``EU`` for EU
member states, then ``GLOBAL``.

Prices come from an :class:`~greenlane.fleet.model.EnergyPrices` passed in (``prices``); by
default the shipped table. A scenario (e.g. fossil fuels x1.5) is such a table, made with
:func:`scale_energy_prices` and passed down, never a patch of this module.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import Factors, energy_mj, load_factors
from greenlane.emissions.units import PCT
from greenlane.fleet._validate import real as _real
from greenlane.fleet.catalog import default_energy_prices, vehicle_type
from greenlane.fleet.energy import SAF_DEFAULT, SAF_FOSSIL, energy_mj_per_km
from greenlane.fleet.model import EnergyPrice, EnergyPrices, VehicleType

CURRENCY = "CNY"
"""The declared currency of every cost."""
GLOBAL_REGION = "GLOBAL"
"""Region of prices that apply anywhere without a regional price."""
EU_MEMBERS = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)
"""ISO 3166 codes whose prices fall back to the ``EU`` row."""
BUNKER_FAMILIES = ("vlsfo", "hfo", "ulsfo", "lfo", "mgo", "lng_marine")
"""Price rows of fossil marine bunkers (a key or key family): what ``bunker_price`` scales."""
JET_FAMILIES = ("jet_kerosene",)
"""Price rows of fossil jet fuel: what ``jet_price`` scales (SAF keeps its own price)."""
_ALIASES = {"GB": "UK"}
_FEN = Decimal("0.01")


def _cny(value: Decimal) -> Decimal:
    return value.quantize(_FEN, rounding=ROUND_HALF_EVEN)


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


@dataclass(frozen=True, slots=True)
class Cost:
    """Cost of one vehicle leg by component [CNY, 2 dp]; ``total_cny`` is their exact sum."""

    type_id: str
    carrier: str
    region: str
    distance_km: float
    hours: float
    energy_mj: float
    fixed_cny: Decimal
    distance_cny: Decimal
    time_cny: Decimal
    energy_cny: Decimal
    price_cny_per_mj: Decimal
    currency: str = CURRENCY
    rules: tuple[str, ...] = ()

    @property
    def total_cny(self) -> Decimal:
        """Total leg cost [CNY] = fixed + distance + time + energy."""
        return self.fixed_cny + self.distance_cny + self.time_cny + self.energy_cny

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON; money as decimal strings."""
        money = {
            k: format(getattr(self, k), "f")
            for k in ("fixed_cny", "distance_cny", "time_cny", "energy_cny", "total_cny")
        }
        return {
            "type_id": self.type_id,
            "carrier": self.carrier,
            "region": self.region,
            "currency": self.currency,
            "distance_km": self.distance_km,
            "hours": self.hours,
            "energy_mj": self.energy_mj,
            **money,
            "rules": list(self.rules),
        }


def _region_chain(region: str) -> list[str]:
    code = region.strip().upper()
    country = code.split("-")[0]
    chain = [_ALIASES.get(code, code), _ALIASES.get(country, country)]
    if country in EU_MEMBERS:
        chain.append("EU")
    chain.append(GLOBAL_REGION)
    return list(dict.fromkeys(chain))


def regional_carrier(
    vehicle: VehicleType,
    region: str,
    data_dir: Path = DATA_DIR,
    prices: EnergyPrices | None = None,
) -> str:
    """The energy carrier a vehicle would use in a region (e.g. its grid mix) [key].

    ``electricity_<region>`` (``CN-South`` -> ``electricity_cn_south``, then
    ``electricity_cn``) when the vehicle may use it; else the default carrier if it has a
    price there; else the first allowed carrier with a price there; else the default.
    """
    for code in _region_chain(region)[:-1]:
        key = "electricity_" + code.lower().replace("-", "_")
        if key in vehicle.energy_carriers:
            return key
    candidates = (vehicle.default_carrier, *vehicle.energy_carriers)
    for key in candidates:
        try:
            row = energy_price(key, region, data_dir, prices)
        except InputError:
            continue
        if row.region != GLOBAL_REGION or key == vehicle.default_carrier:
            return key
    return vehicle.default_carrier


def energy_price(
    carrier_key: str,
    region: str,
    data_dir: Path = DATA_DIR,
    prices: EnergyPrices | None = None,
) -> EnergyPrice:
    """Price row for a carrier in a region, by the carrier-family and region fallbacks.

    ``prices`` defaults to the shipped table of ``data_dir``. An unpriced combination raises
    InputError naming ``region``.
    """
    table = prices if prices is not None else default_energy_prices(data_dir)
    regions = _region_chain(region)
    parts = carrier_key.split("_")
    for n in range(len(parts), 0, -1):
        family = "_".join(parts[:n])
        for r in regions:
            row = table.get(family, r)
            if row is not None:
                return row
    priced = sorted({p.region for p in table if carrier_key.startswith(p.carrier)})
    raise InputError(
        f"no price for {carrier_key} in {region!r}; priced regions: {', '.join(priced) or 'none'}",
        field="region",
    )


def scale_energy_prices(
    factor: float,
    origins: Collection[str],
    prices: EnergyPrices | None = None,
    factors: Factors | None = None,
    data_dir: Path = DATA_DIR,
) -> EnergyPrices:
    """``prices`` (default: the shipped table) with some rows multiplied by ``factor`` [-].

    A row is scaled when every carrier it prices (its key, or the keys of its key family) has
    an ``origin`` in ``origins`` (e.g. ``{"fossil", "mixed"}``).
    """
    f = factors or load_factors(data_dir=data_dir)
    table = prices if prices is not None else default_energy_prices(data_dir)

    def matches(family: str) -> bool:
        found = {
            c.origin for k, c in f.carriers.items() if k == family or k.startswith(family + "_")
        }
        return bool(found) and found <= set(origins)

    label = f"{'+'.join(sorted(origins))} x{factor:g}"
    if table.label != "table":
        label = f"{table.label}, {label}"
    return table.scaled(_dec(factor), matches, label, "fuel_price")


def scale_fuel_prices(
    factor: float,
    families: Collection[str],
    name: str,
    prices: EnergyPrices | None = None,
    data_dir: Path = DATA_DIR,
) -> EnergyPrices:
    """``prices`` (default: the shipped table) with the rows of ``families`` (a carrier key
    or key family, e.g. :data:`BUNKER_FAMILIES`) multiplied by ``factor`` [-]; ``name``
    (``bunker_price``, ``jet_price``) labels the scenario and is recorded in its factors."""
    value = _real(factor, name)
    if not value > 0:
        raise InputError(f"must be > 0, got {value:g}", field=name)
    table = prices if prices is not None else default_energy_prices(data_dir)

    def matches(carrier: str) -> bool:
        return any(carrier == f or carrier.startswith(f + "_") for f in families)

    label = f"{name.removesuffix('_price')} x{value:g}"
    if table.label != "table":
        label = f"{table.label}, {label}"
    return table.scaled(_dec(value), matches, label, name)


def market_prices(
    bunker_price: float = 1.0,
    jet_price: float = 1.0,
    prices: EnergyPrices | None = None,
    data_dir: Path = DATA_DIR,
) -> EnergyPrices | None:
    """``prices`` (None: the shipped table) with the fossil bunker and jet fuel prices x the
    factors [-]; ``prices`` itself when both are 1."""
    out = prices
    if bunker_price != 1.0:
        out = scale_fuel_prices(bunker_price, BUNKER_FAMILIES, "bunker_price", out, data_dir)
    if jet_price != 1.0:
        out = scale_fuel_prices(jet_price, JET_FAMILIES, "jet_price", out, data_dir)
    return out


def _price_per_mj(
    carrier_key: str, region: str, factors: Factors, data_dir: Path, prices: EnergyPrices | None
) -> tuple[Decimal, str]:
    row = energy_price(carrier_key, region, data_dir, prices)
    mj_per_unit = energy_mj(factors.carrier(carrier_key), 1.0, row.unit, "unit")
    per_mj = row.price_cny_per_unit / _dec(mj_per_unit)
    rule = (
        f"{carrier_key} price {row.price_cny_per_unit} CNY/{row.unit} ({row.carrier} "
        f"{row.region}, {row.year}, {row.data_quality}) / {mj_per_unit:.6g} MJ/{row.unit} = "
        f"{per_mj:.5f} CNY/MJ"
    )
    return per_mj, rule


def leg_cost_cny(
    vehicle: VehicleType | str,
    carrier_key: str | None,
    region: str,
    payload_t: float,
    distance_km: float,
    hours: float | None = None,
    *,
    saf_share: float | None = None,
    wind_assist: bool = False,
    empty_running_share: float = 0.0,
    factors: Factors | None = None,
    data_dir: Path = DATA_DIR,
    prices: EnergyPrices | None = None,
) -> Cost:
    """Cost of moving ``payload_t`` [t] over ``distance_km`` [km] with one vehicle [CNY].

    fixed per departure + ``cost_cny_per_km`` x km + ``cost_cny_per_h`` x h + energy x price.
    ``hours`` [h] defaults to distance / speed. ``empty_running_share`` [-] adds the empty
    repositioning km (er / (1 - er) x distance, at empty-vehicle energy); 0 by default.
    ``saf_share`` [-] prices a jet kerosene / SAF blend by energy share. ``prices`` is the
    energy price table (default: the shipped one of ``data_dir``).
    """
    factors = factors or load_factors(data_dir=data_dir)
    v = vehicle if isinstance(vehicle, VehicleType) else vehicle_type(vehicle, "vehicle", data_dir)
    key = v.default_carrier if carrier_key is None else carrier_key
    if key not in v.energy_carriers:
        raise InputError(
            f"{v.type_id} cannot use {key!r}; allowed: {', '.join(v.energy_carriers)}",
            field="carrier_key",
        )
    distance = _real(distance_km, "distance_km")
    if distance < 0:
        raise InputError("must be >= 0", field="distance_km")
    share = _real(empty_running_share, "empty_running_share")
    if not 0 <= share < 1:
        raise InputError(f"must lie in [0, 1), got {share:g}", field="empty_running_share")
    empty_km = share / (1 - share) * distance
    loaded_h = distance / v.speed_kmh if hours is None else _real(hours, "hours")
    if loaded_h < 0:
        raise InputError("must be >= 0", field="hours")
    total_h = loaded_h + empty_km / v.speed_kmh
    used_mj = (
        energy_mj_per_km(v, payload_t, wind_assist=wind_assist) * distance
        + energy_mj_per_km(v, 0.0, wind_assist=wind_assist) * empty_km
    )

    rules: list[str] = []
    if saf_share is None:
        per_mj, rule = _price_per_mj(key, region, factors, data_dir, prices)
        rules.append(rule)
    else:
        s = _real(saf_share, "saf_share")
        if not 0 <= s <= 1:
            raise InputError(f"must lie in [0, 1], got {s:g}", field="saf_share")
        saf_key = key if key.startswith("saf_") else SAF_DEFAULT
        fossil_mj, fossil_rule = _price_per_mj(SAF_FOSSIL, region, factors, data_dir, prices)
        saf_mj, saf_rule = _price_per_mj(saf_key, region, factors, data_dir, prices)
        per_mj = (1 - _dec(s)) * fossil_mj + _dec(s) * saf_mj
        rules += [fossil_rule, saf_rule, f"SAF {s * PCT:.4g} % by energy: {per_mj:.5f} CNY/MJ"]
    if v.cost_region.upper() != region.strip().upper():
        rules.append(
            f"fixed, per-km and per-hour costs are {v.cost_region} values "
            f"[{v.cost_data_quality or 'see vehicle_types.csv'}]"
        )
    fixed = _cny(v.fixed_cost_cny_per_departure)
    by_km = _cny(v.cost_cny_per_km * _dec(distance + empty_km))
    by_h = _cny(v.cost_cny_per_h * _dec(total_h))
    by_energy = _cny(_dec(used_mj) * per_mj)
    rules += [
        f"fixed {fixed} CNY per departure",
        f"distance {distance + empty_km:.6g} km x {v.cost_cny_per_km} CNY/km = {by_km} CNY"
        + (f" (incl. {empty_km:.6g} km empty, er {share * PCT:.4g} %)" if empty_km else ""),
        f"time {total_h:.6g} h x {v.cost_cny_per_h} CNY/h = {by_h} CNY",
        f"energy {used_mj:.6g} MJ x {per_mj:.5f} CNY/MJ = {by_energy} CNY",
    ]
    return Cost(
        type_id=v.type_id,
        carrier=key if saf_share is None else f"{SAF_FOSSIL}+SAF",
        region=region,
        distance_km=distance + empty_km,
        hours=total_h,
        energy_mj=used_mj,
        fixed_cny=fixed,
        distance_cny=by_km,
        time_cny=by_h,
        energy_cny=by_energy,
        price_cny_per_mj=per_mj,
        rules=tuple(rules),
    )
