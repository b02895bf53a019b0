"""Load and validate the fleet tables of ``data/`` once: vehicle types, energy prices, FX.

Every problem raises :class:`~emissions.errors.DataError` naming the table, row and column;
every energy carrier named must exist in ``energy_carriers.csv`` (via ``load_factors``).
"""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import DataError, InputError
from greenlane.emissions.factors import load_factors
from greenlane.emissions.model import Mode
from greenlane.fleet.model import EnergyPrice, FxRate, VehicleType

VEHICLE_TABLE = "vehicle_types.csv"
PRICE_TABLE = "energy_prices.csv"
FX_TABLE = "fx_rates.csv"
PRICE_UNITS = ("l", "kg", "kWh", "t")
"""Units a price may be given in."""
FX_TOLERANCE = Decimal("0.005")
"""Largest relative gap between ``price_cny_per_unit`` and ``price_local x FX`` [-]."""

_VEHICLE_COLUMNS = (
    "type_id",
    "mode",
    "name",
    "energy_carriers",
    "default_carrier",
    "payload_max_t",
    "capacity_teu",
    "empty_energy_mj_per_km",
    "energy_slope_mj_per_tkm",
    "speed_kmh",
    "range_km",
    "battery_kwh",
    "tank_kg_h2",
    "refuel_power_kw",
    "refuel_kg_h2_per_h",
    "default_load_factor",
    "default_empty_running_share",
    "wind_assist_saving_share",
    "fixed_cost_cny_per_departure",
    "cost_cny_per_km",
    "cost_cny_per_h",
    "cost_region",
    "data_quality",
    "source",
    "year",
    "note",
)
_PRICE_COLUMNS = (
    "carrier",
    "region",
    "price_cny_per_unit",
    "unit",
    "source",
    "year",
    "data_quality",
    "note",
)
_FX_COLUMNS = ("currency", "cny_per_unit", "source", "year")


class _Row:
    """One CSV row with typed, located accessors."""

    def __init__(self, table: str, line: int, key: str, row: dict[str, str]) -> None:
        self.table, self.line, self.key, self.row = table, line, key, row

    def where(self, col: str) -> str:
        return f"{self.table}[line {self.line}: {self.key}].{col}"

    def fail(self, col: str, message: str) -> DataError:
        return DataError(message, field=self.where(col))

    def text(self, col: str, required: bool = True) -> str:
        value = (self.row.get(col) or "").strip()
        if required and not value:
            raise self.fail(col, "is empty")
        return value

    def num(
        self, col: str, lo: float = 0.0, hi: float = float("inf"), required: bool = True
    ) -> float | None:
        text = self.text(col, required)
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise self.fail(col, f"is not a number: {text!r}") from None
        if not lo <= value <= hi:
            raise self.fail(col, f"{value:g} is outside [{lo:g}, {hi:g}]")
        return value

    def req(self, col: str, lo: float = 0.0, hi: float = float("inf")) -> float:
        value = self.num(col, lo, hi)
        assert value is not None
        return value

    def dec(self, col: str) -> Decimal:
        text = self.text(col)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise self.fail(col, f"is not a decimal number: {text!r}") from None
        if not value.is_finite() or value < 0:
            raise self.fail(col, f"must be a finite number >= 0, got {text!r}")
        return value

    def year(self) -> int:
        return int(self.req("year", 1900, 2100))


def _rows(path: Path, columns: tuple[str, ...], key_col: str) -> list[_Row]:
    if not path.is_file():
        raise DataError("table is missing", field=path.name)
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise DataError(f"missing columns: {', '.join(missing)}", field=path.name)
        rows = [
            _Row(path.name, i, (r.get(key_col) or "?").strip(), r)
            for i, r in enumerate(reader, start=2)
        ]
    for r in rows:
        r.text(key_col)
        r.text("source")
    return rows


def _vehicle(r: _Row, carrier_keys: frozenset[str]) -> VehicleType:
    try:
        mode = Mode(r.text("mode"))
    except ValueError:
        raise r.fail(
            "mode",
            f"unknown mode {r.text('mode')!r}; use one of {', '.join(m.value for m in Mode)}",
        ) from None
    carriers = tuple(k.strip() for k in r.text("energy_carriers").split(";") if k.strip())
    for key in carriers:
        if key not in carrier_keys:
            raise r.fail("energy_carriers", f"unknown energy carrier {key!r}")
    default = r.text("default_carrier")
    if default not in carriers:
        raise r.fail("default_carrier", f"{default!r} is not in energy_carriers")
    battery, tank = r.num("battery_kwh", required=False), r.num("tank_kg_h2", required=False)
    if battery is not None and not all(k.startswith("electricity") for k in carriers):
        raise r.fail("energy_carriers", "a battery vehicle may only use electricity_* carriers")
    if tank is not None and not all(k.startswith("hydrogen") for k in carriers):
        raise r.fail("energy_carriers", "a fuel-cell vehicle may only use hydrogen_* carriers")
    if battery is not None and r.num("refuel_power_kw", required=False) is None:
        raise r.fail("refuel_power_kw", "a battery vehicle needs its charging power")
    if tank is not None and r.num("refuel_kg_h2_per_h", required=False) is None:
        raise r.fail("refuel_kg_h2_per_h", "a fuel-cell vehicle needs its refuelling rate")
    return VehicleType(
        type_id=r.text("type_id"),
        mode=mode,
        name=r.text("name"),
        energy_carriers=carriers,
        default_carrier=default,
        payload_max_t=r.req("payload_max_t", 1e-9),
        capacity_teu=r.num("capacity_teu", required=False),
        empty_energy_mj_per_km=r.req("empty_energy_mj_per_km"),
        energy_slope_mj_per_tkm=r.req("energy_slope_mj_per_tkm"),
        speed_kmh=r.req("speed_kmh", 1e-9),
        range_km=r.num("range_km", 1e-9, required=False),
        battery_kwh=battery,
        tank_kg_h2=tank,
        refuel_power_kw=r.num("refuel_power_kw", 1e-9, required=False),
        refuel_kg_h2_per_h=r.num("refuel_kg_h2_per_h", 1e-9, required=False),
        default_load_factor=r.req("default_load_factor", 1e-9, 1.0),
        default_empty_running_share=r.req("default_empty_running_share", 0.0, 0.99),
        wind_assist_saving_share=r.num("wind_assist_saving_share", 0.0, 0.99, required=False)
        or 0.0,
        fixed_cost_cny_per_departure=r.dec("fixed_cost_cny_per_departure"),
        cost_cny_per_km=r.dec("cost_cny_per_km"),
        cost_cny_per_h=r.dec("cost_cny_per_h"),
        cost_region=r.text("cost_region"),
        data_quality=r.text("data_quality"),
        source=r.text("source"),
        year=r.year(),
        cost_data_quality=r.text("cost_data_quality", required=False),
        cost_source=r.text("cost_source", required=False),
        note=r.text("note", required=False),
    )


@cache
def vehicle_types(data_dir: Path = DATA_DIR) -> dict[str, VehicleType]:
    """All vehicle types of ``vehicle_types.csv`` by ``type_id``, validated [cached]."""
    carrier_keys = frozenset(load_factors(data_dir=data_dir).carriers)
    out: dict[str, VehicleType] = {}
    for r in _rows(data_dir / VEHICLE_TABLE, _VEHICLE_COLUMNS, "type_id"):
        if r.key in out:
            raise r.fail("type_id", f"duplicate type_id {r.key!r}")
        vehicle = _vehicle(r, carrier_keys)
        if vehicle.mode not in (Mode.SEA, Mode.INLAND_WATER) and vehicle.wind_assist_saving_share:
            raise r.fail("wind_assist_saving_share", "only ships can be wind-assisted")
        out[vehicle.type_id] = vehicle
    if not out:
        raise DataError("no rows", field=VEHICLE_TABLE)
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
def fx_rates(data_dir: Path = DATA_DIR) -> dict[str, FxRate]:
    """Exchange rates of ``fx_rates.csv`` by ISO 4217 code [CNY per unit] [cached]."""
    out: dict[str, FxRate] = {}
    for r in _rows(data_dir / FX_TABLE, _FX_COLUMNS, "currency"):
        if r.key in out:
            raise r.fail("currency", f"duplicate currency {r.key!r}")
        rate = r.dec("cny_per_unit")
        if rate <= 0:
            raise r.fail("cny_per_unit", "must be > 0")
        out[r.key] = FxRate(r.key, rate, r.text("source"), r.year())
    if "CNY" not in out or out["CNY"].cny_per_unit != 1:
        raise DataError("CNY must be listed with cny_per_unit 1", field=FX_TABLE)
    return out


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
    for r in _rows(data_dir / PRICE_TABLE, _PRICE_COLUMNS, "carrier"):
        r.key = f"{r.key}/{r.text('region')}"
        carrier, region = r.text("carrier"), r.text("region")
        if not _known_carrier(carrier, carrier_keys):
            raise r.fail("carrier", f"{carrier!r} is neither a carrier key nor a key family")
        if (carrier, region) in out:
            raise r.fail("region", f"duplicate price for {carrier}/{region}")
        unit = r.text("unit")
        if unit not in PRICE_UNITS:
            raise r.fail("unit", f"unit {unit!r} is not one of {', '.join(PRICE_UNITS)}")
        price = r.dec("price_cny_per_unit")
        local_text, currency = r.text("price_local", False), r.text("currency", False) or "CNY"
        local = r.dec("price_local") if local_text else None
        if local is not None:
            if currency not in rates:
                raise r.fail("currency", f"no FX rate for {currency!r} in {FX_TABLE}")
            expected = local * rates[currency].cny_per_unit
            if expected == 0 or abs(price - expected) > FX_TOLERANCE * expected:
                raise r.fail("price_cny_per_unit", f"{price} != price_local x FX = {expected:.4f}")
        out[(carrier, region)] = EnergyPrice(
            carrier=carrier,
            region=region,
            price_cny_per_unit=price,
            unit=unit,
            source=r.text("source"),
            year=r.year(),
            data_quality=r.text("data_quality"),
            note=r.text("note", required=False),
            price_local=local,
            currency=currency,
        )
    return out
