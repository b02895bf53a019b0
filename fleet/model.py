"""Vehicle, vessel and aircraft types (TOCs), energy prices and exchange rates as values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from greenlane.emissions.model import FactorRef, Mode


@dataclass(frozen=True, slots=True)
class VehicleType:
    """One vehicle, vessel or aircraft type: a modelled transport operation category.

    Energy per km is linear in payload: ``empty_energy_mj_per_km + energy_slope_mj_per_tkm x
    payload_t`` [MJ/km], so load factor and empty running change the intensity. Costs are in
    CNY and apply to ``cost_region``; energy is priced separately (``data/energy_prices.csv``).
    """

    type_id: str
    mode: Mode
    name: str
    energy_carriers: tuple[str, ...]
    default_carrier: str
    payload_max_t: float
    capacity_teu: float | None
    empty_energy_mj_per_km: float
    energy_slope_mj_per_tkm: float
    speed_kmh: float
    range_km: float | None
    battery_kwh: float | None
    tank_kg_h2: float | None
    refuel_power_kw: float | None
    refuel_kg_h2_per_h: float | None
    default_load_factor: float
    default_empty_running_share: float
    wind_assist_saving_share: float
    fixed_cost_cny_per_departure: Decimal
    cost_cny_per_km: Decimal
    cost_cny_per_h: Decimal
    cost_region: str
    data_quality: str
    source: str
    year: int
    cost_data_quality: str = ""
    cost_source: str = ""
    note: str = ""

    @property
    def is_bev(self) -> bool:
        """True for battery-electric vehicles (range limited by ``battery_kwh``)."""
        return self.battery_kwh is not None

    @property
    def is_fcev(self) -> bool:
        """True for fuel-cell vehicles (range limited by ``tank_kg_h2``)."""
        return self.tank_kg_h2 is not None

    @property
    def default_payload_t(self) -> float:
        """Payload at the default load factor [t]."""
        return self.payload_max_t * self.default_load_factor

    def factor_ref(self, energy_mj_per_tkm: float) -> FactorRef:
        """Provenance record of the modelled energy intensity [MJ/tkm]."""
        return FactorRef(
            "vehicle", self.type_id, energy_mj_per_tkm, "MJ/tkm", self.source, self.year, "fleet"
        )


@dataclass(frozen=True, slots=True)
class EnergyPrice:
    """Price of an energy carrier in a region [CNY per ``unit``: l, kg, kWh or t].

    ``carrier`` is a carrier key or a key family (``lng_marine`` prices ``lng_marine_*``).
    """

    carrier: str
    region: str
    price_cny_per_unit: Decimal
    unit: str
    source: str
    year: int
    data_quality: str
    note: str = ""
    price_local: Decimal | None = None
    currency: str = "CNY"


@dataclass(frozen=True, slots=True)
class FxRate:
    """Exchange rate into the declared currency [CNY per unit of ``currency``]."""

    currency: str
    cny_per_unit: Decimal
    source: str
    year: int
