"""Load and validate the fleet tables of ``data/`` once: vehicle types, energy prices, FX.

Every problem raises :class:`~greenlane.emissions.errors.DataError` naming the table, line and
column; every energy carrier named must exist in ``energy_carriers.csv`` (via ``load_factors``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import DataError, InputError
from greenlane.emissions.factors import load_factors
from greenlane.emissions.model import Mode
from greenlane.emissions.tables import (
    OptDecimal,
    OptFloat,
    TableRow,
    Text,
    Year,
    read_table,
    within,
)
from greenlane.fleet.model import EnergyPrice, EnergyPrices, FxRate, VehicleType

VEHICLE_TABLE = "vehicle_types.csv"
PRICE_TABLE = "energy_prices.csv"
FX_TABLE = "fx_rates.csv"
PriceUnit = Literal["l", "kg", "kWh", "t"]
PRICE_UNITS: tuple[str, ...] = get_args(PriceUnit)
"""Units a price may be given in."""
FX_TOLERANCE = Decimal("0.005")
"""Largest relative gap between ``price_cny_per_unit`` and ``price_local x FX`` [-]."""

_TINY = 1e-9
Money = Annotated[Decimal, Field(ge=0)]
"""A finite amount >= 0 [CNY]."""


class VehicleRow(TableRow):
    """A row of ``vehicle_types.csv``: one modelled vehicle type and its costs."""

    type_id: Text
    mode: Mode
    name: Text
    energy_carriers: Text
    default_carrier: Text
    payload_max_t: Annotated[float, Field(ge=_TINY)]
    capacity_teu: Annotated[OptFloat, within(0.0)]
    empty_energy_mj_per_km: Annotated[float, Field(ge=0.0)]
    energy_slope_mj_per_tkm: Annotated[float, Field(ge=0.0)]
    speed_kmh: Annotated[float, Field(ge=_TINY)]
    range_km: Annotated[OptFloat, within(_TINY)]
    battery_kwh: Annotated[OptFloat, within(0.0)]
    tank_kg_h2: Annotated[OptFloat, within(0.0)]
    refuel_power_kw: Annotated[OptFloat, within(_TINY)]
    refuel_kg_h2_per_h: Annotated[OptFloat, within(_TINY)]
    default_load_factor: Annotated[float, Field(ge=_TINY, le=1.0)]
    default_empty_running_share: Annotated[float, Field(ge=0.0, le=0.99)]
    wind_assist_saving_share: Annotated[OptFloat, within(0.0, 0.99)]
    fixed_cost_cny_per_departure: Money
    cost_cny_per_km: Money
    cost_cny_per_h: Money
    cost_region: Text
    data_quality: Text
    source: Text
    year: Year
    note: str
    cost_data_quality: str = ""
    cost_source: str = ""


class PriceRow(TableRow):
    """A row of ``energy_prices.csv``: a carrier (or key family) price in a region [CNY/unit]."""

    carrier: Text
    region: Text
    price_cny_per_unit: Money
    unit: PriceUnit
    source: Text
    year: Year
    data_quality: Text
    note: str
    price_local: OptDecimal = None
    currency: str = ""
    licence: Text = ""


class FxRow(TableRow):
    """A row of ``fx_rates.csv``: CNY per unit of a currency on a date."""

    currency: Text
    cny_per_unit: Annotated[Decimal, Field(gt=0)]
    source: Text
    year: Year
    date: Text
    licence: Text
    note: str = ""


def _vehicle(r: VehicleRow, carrier_keys: frozenset[str]) -> VehicleType:
    carriers = tuple(k.strip() for k in r.energy_carriers.split(";") if k.strip())
    for key in carriers:
        if key not in carrier_keys:
            raise r.error("energy_carriers", f"{r.type_id}: unknown energy carrier {key!r}")
    default = r.default_carrier
    if default not in carriers:
        raise r.error("default_carrier", f"{r.type_id}: {default!r} is not in energy_carriers")
    battery, tank = r.battery_kwh, r.tank_kg_h2
    if battery is not None and not all(k.startswith("electricity") for k in carriers):
        raise r.error(
            "energy_carriers", f"{r.type_id}: a battery vehicle may only use electricity_* carriers"
        )
    if tank is not None and not all(k.startswith("hydrogen") for k in carriers):
        raise r.error(
            "energy_carriers", f"{r.type_id}: a fuel-cell vehicle may only use hydrogen_* carriers"
        )
    if battery is not None and r.refuel_power_kw is None:
        raise r.error("refuel_power_kw", f"{r.type_id}: a battery vehicle needs its charging power")
    if tank is not None and r.refuel_kg_h2_per_h is None:
        raise r.error(
            "refuel_kg_h2_per_h", f"{r.type_id}: a fuel-cell vehicle needs its refuelling rate"
        )
    return VehicleType(
        type_id=r.type_id,
        mode=r.mode,
        name=r.name,
        energy_carriers=carriers,
        default_carrier=default,
        payload_max_t=r.payload_max_t,
        capacity_teu=r.capacity_teu,
        empty_energy_mj_per_km=r.empty_energy_mj_per_km,
        energy_slope_mj_per_tkm=r.energy_slope_mj_per_tkm,
        speed_kmh=r.speed_kmh,
        range_km=r.range_km,
        battery_kwh=battery,
        tank_kg_h2=tank,
        refuel_power_kw=r.refuel_power_kw,
        refuel_kg_h2_per_h=r.refuel_kg_h2_per_h,
        default_load_factor=r.default_load_factor,
        default_empty_running_share=r.default_empty_running_share,
        wind_assist_saving_share=r.wind_assist_saving_share or 0.0,
        fixed_cost_cny_per_departure=r.fixed_cost_cny_per_departure,
        cost_cny_per_km=r.cost_cny_per_km,
        cost_cny_per_h=r.cost_cny_per_h,
        cost_region=r.cost_region,
        data_quality=r.data_quality,
        source=r.source,
        year=r.year,
        cost_data_quality=r.cost_data_quality,
        cost_source=r.cost_source,
        note=r.note,
    )


@cache
def vehicle_types(data_dir: Path = DATA_DIR) -> dict[str, VehicleType]:
    """All vehicle types of ``vehicle_types.csv`` by ``type_id``, validated [cached]."""
    carrier_keys = frozenset(load_factors(data_dir=data_dir).carriers)
    out: dict[str, VehicleType] = {}
    for r in read_table(data_dir / VEHICLE_TABLE, VehicleRow):
        if r.type_id in out:
            raise r.error("type_id", f"duplicate type_id {r.type_id!r}")
        vehicle = _vehicle(r, carrier_keys)
        if vehicle.mode not in (Mode.SEA, Mode.INLAND_WATER) and vehicle.wind_assist_saving_share:
            raise r.error(
                "wind_assist_saving_share", f"{r.type_id}: only ships can be wind-assisted"
            )
        out[vehicle.type_id] = vehicle
    if not out:
        raise DataError("no rows", file=VEHICLE_TABLE, line=2)
    return out


def vehicle_type(
    type_id: str, field_name: str = "type_id", data_dir: Path = DATA_DIR
) -> VehicleType:
    """The vehicle type ``type_id``; an unknown id raises InputError naming ``field_name``."""
    types = vehicle_types(data_dir)
    try:
        return types[type_id]
    except (KeyError, TypeError):
        raise InputError(
            f"unknown vehicle type {type_id!r}; known: {', '.join(sorted(types))}", field=field_name
        ) from None


@cache
def fx_history(data_dir: Path = DATA_DIR) -> dict[str, tuple[FxRate, ...]]:
    """Dated rates of ``fx_rates.csv`` per ISO 4217 code, oldest first [CNY per unit] [cached].

    Dates are ISO ``YYYY-MM-DD``; a currency may have one row per date."""
    out: dict[str, dict[str, FxRate]] = {}
    for r in read_table(data_dir / FX_TABLE, FxRow):
        try:
            day = date.fromisoformat(r.date).isoformat()
        except ValueError:
            raise r.error("date", f"{r.date!r} is not an ISO date YYYY-MM-DD") from None
        rows = out.setdefault(r.currency, {})
        if day in rows:
            raise r.error("date", f"duplicate rate for {r.currency} on {day}")
        rows[day] = FxRate(r.currency, r.cny_per_unit, r.source, r.year, day)
    cny = out.get("CNY", {})
    if len(cny) != 1 or next(iter(cny.values())).cny_per_unit != 1:
        raise DataError(
            "CNY must be listed once, with cny_per_unit 1", file=FX_TABLE, column="currency"
        )
    return {c: tuple(rows[d] for d in sorted(rows)) for c, rows in out.items()}


@cache
def fx_rates(data_dir: Path = DATA_DIR) -> dict[str, FxRate]:
    """Reference exchange rates by ISO 4217 code [CNY per unit] [cached]: each currency's
    rate on the date of the ``CNY`` row (the table's reference date). They convert undated
    amounts (``energy_prices.csv`` local prices, regulatory EUR values); dated amounts (rate
    cards) use :func:`fx_rate_on`."""
    history = fx_history(data_dir)
    reference = history["CNY"][0].date
    out: dict[str, FxRate] = {}
    for currency, rows in history.items():
        before = [r for r in rows if r.date <= reference]
        if not before:
            raise DataError(
                f"{currency} has no rate on or before the reference date {reference}",
                file=FX_TABLE,
                column="date",
            )
        out[currency] = before[-1]
    return out


def fx_rate_on(currency: str, on_date: str, data_dir: Path = DATA_DIR) -> FxRate:
    """The rate of ``currency`` on ``on_date`` (ISO): the latest fixing on or before it, else
    the earliest listed [CNY per unit]; an unlisted currency raises InputError."""
    rows = fx_history(data_dir).get(currency)
    if not rows:
        raise InputError(f"no fx rate for {currency!r} in {FX_TABLE}", field="currency")
    before = [r for r in rows if r.date <= on_date]
    return before[-1] if before else rows[0]


def _known_carrier(key: str, carrier_keys: frozenset[str]) -> bool:
    return key in carrier_keys or any(k.startswith(key + "_") for k in carrier_keys)


@cache
def energy_prices(data_dir: Path = DATA_DIR) -> dict[tuple[str, str], EnergyPrice]:
    """Energy prices of ``energy_prices.csv`` by (carrier, region), validated [cached].

    Where ``price_local`` and ``currency`` are given, ``price_cny_per_unit`` must equal
    ``price_local x fx_rates[currency]`` within 0.5 %.
    """
    carrier_keys = frozenset(load_factors(data_dir=data_dir).carriers)
    rates = fx_rates(data_dir)
    out: dict[tuple[str, str], EnergyPrice] = {}
    for r in read_table(data_dir / PRICE_TABLE, PriceRow):
        carrier, region = r.carrier, r.region
        if not _known_carrier(carrier, carrier_keys):
            raise r.error("carrier", f"{carrier!r} is neither a carrier key nor a key family")
        if (carrier, region) in out:
            raise r.error("region", f"duplicate price for {carrier}/{region}")
        price, local, currency = r.price_cny_per_unit, r.price_local, r.currency or "CNY"
        if local is not None:
            if local < 0:
                raise r.error("price_local", f"must be >= 0, got {local}")
            if currency not in rates:
                raise r.error("currency", f"no FX rate for {currency!r} in {FX_TABLE}")
            expected = local * rates[currency].cny_per_unit
            if expected == 0 or abs(price - expected) > FX_TOLERANCE * expected:
                raise r.error("price_cny_per_unit", f"{price} != price_local x FX = {expected:.4f}")
        out[(carrier, region)] = EnergyPrice(
            carrier=carrier,
            region=region,
            price_cny_per_unit=price,
            unit=r.unit,
            source=r.source,
            year=r.year,
            data_quality=r.data_quality,
            note=r.note,
            price_local=local,
            currency=currency,
        )
    return out


@cache
def default_energy_prices(data_dir: Path = DATA_DIR) -> EnergyPrices:
    """The shipped energy price table as an immutable :class:`EnergyPrices` [cached]."""
    return EnergyPrices(tuple(energy_prices(data_dir).values()))
