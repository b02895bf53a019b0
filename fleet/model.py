"""Vehicle, vessel and aircraft types (TOCs), energy prices and exchange rates as values."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType

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
class EnergyPrices:
    """An immutable energy price table: the shipped ``energy_prices.csv`` or a scenario of it.

    Passed as data into pricing (``fleet.cost``) and planning (``PlanOptions.energy_prices``);
    nothing patches a module to change prices. ``label`` names the table (``table`` for the
    shipped one, e.g. ``fossil x1.5`` for a scenario); ``factors`` records the scalings
    applied, e.g. ``(("bunker_price", 1.3),)`` [-].
    """

    rows: tuple[EnergyPrice, ...]
    label: str = "table"
    factors: tuple[tuple[str, float], ...] = ()
    _by_key: Mapping[tuple[str, str], EnergyPrice] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        by_key = {(r.carrier, r.region): r for r in self.rows}
        object.__setattr__(self, "_by_key", MappingProxyType(by_key))

    def __getstate__(
        self,
    ) -> tuple[tuple[EnergyPrice, ...], str, tuple[tuple[str, float], ...]]:
        return self.rows, self.label, self.factors

    def __setstate__(
        self, state: tuple[tuple[EnergyPrice, ...], str, tuple[tuple[str, float], ...]]
    ) -> None:
        object.__setattr__(self, "rows", state[0])
        object.__setattr__(self, "label", state[1])
        object.__setattr__(self, "factors", state[2])
        self.__post_init__()

    def get(self, carrier: str, region: str) -> EnergyPrice | None:
        """The row of ``carrier`` (key or key family) in ``region``, if listed."""
        return self._by_key.get((carrier, region))

    def __iter__(self) -> Iterator[EnergyPrice]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def scaled(
        self,
        factor: Decimal,
        carriers: Callable[[str], bool],
        label: str,
        name: str = "",
    ) -> EnergyPrices:
        """A copy with the rows whose ``carrier`` passes ``carriers`` priced ``factor`` x [CNY];
        ``name`` (e.g. ``bunker_price``) is recorded in ``factors`` with ``factor``.

        Scaled rows lose ``price_local`` (the local price no longer matches) and are in CNY.
        """
        rows = tuple(
            replace(
                r,
                price_cny_per_unit=r.price_cny_per_unit * factor,
                price_local=None,
                currency="CNY",
            )
            if carriers(r.carrier)
            else r
            for r in self.rows
        )
        recorded = (*self.factors, (name, float(factor))) if name else self.factors
        return EnergyPrices(rows, label, recorded)


@dataclass(frozen=True, slots=True)
class FxRate:
    """Exchange rate into the declared currency [CNY per unit of ``currency``]."""

    currency: str
    cny_per_unit: Decimal
    source: str
    year: int
    date: str = ""
    """ISO date of the fixing (``YYYY-MM-DD``)."""
