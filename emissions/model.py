"""Accounting types of ISO 14083: modes, distance bases, energy carriers, TCEs, footprints."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from greenlane.emissions.units import intensity_g_per_tkm


class Mode(StrEnum):
    """Transport mode of a transport chain element."""

    ROAD = "road"
    RAIL = "rail"
    SEA = "sea"
    AIR = "air"
    INLAND_WATER = "inland_water"


class DistanceBasis(StrEnum):
    """Distance basis (ISO 14083 §3): actual, shortest feasible (SFD) or great-circle (GCD)."""

    ACTUAL = "actual"
    SFD = "sfd"
    GCD = "gcd"


class DataType(StrEnum):
    """Data quality class of an input (GLEC v3): primary, modelled or default."""

    PRIMARY = "primary"
    MODELLED = "modelled"
    DEFAULT = "default"


class Method(StrEnum):
    """How a TCE was computed, most specific first."""

    ENERGY = "energy"
    TOC = "toc"
    MODELLED = "modelled"
    HOC = "hoc"


@dataclass(frozen=True, slots=True)
class Location:
    """A point on the WGS84 ellipsoid, optionally with codes."""

    lat: float
    lon: float
    name: str | None = None
    locode: str | None = None
    iata: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class EnergyCarrier:
    """An energy carrier with its WTT and TTW factors per MJ.

    ``ttw_g_per_mj`` already includes methane slip where the carrier has one. ``origin`` is
    ``fossil``, ``bio``, ``rfnbo``, ``grid`` or ``mixed``.
    """

    key: str
    name: str
    category: str
    factor_set: str
    region: str
    lhv_mj_per_kg: float | None
    density_kg_per_l: float | None
    wtt_g_per_mj: float
    ttw_g_per_mj: float
    gwp_basis: str
    data_quality: str
    source: str
    year: int
    licence: str
    note: str = ""
    origin: str = "fossil"

    @property
    def wtw_g_per_mj(self) -> float:
        """Well-to-wheel factor [g CO2e/MJ]."""
        return self.wtt_g_per_mj + self.ttw_g_per_mj


@dataclass(frozen=True, slots=True)
class FactorRef:
    """A factor used in a computation, with its provenance."""

    kind: str
    key: str
    value: float
    unit: str
    source: str
    year: int | None = None
    factor_set: str | None = None

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON output."""
        return {
            "kind": self.kind,
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "source": self.source,
            "year": self.year,
            "factor_set": self.factor_set,
        }


@dataclass(frozen=True, slots=True)
class TCE:
    """One transport chain element: a leg (``kind='leg'``) or a hub operation (``kind='hub'``).

    Emissions are in kg CO2e; ``activity_tkm`` is zero for hubs (ISO 14083 §5.1). A leg's
    ``distance_km`` is its shortest feasible distance (``distance_basis`` SFD) and
    ``activity_tkm = mass_t x distance_km``; ``distance_actual_km`` is the distance the
    vehicle actually covers, which its energy use is on.
    ``geometry`` is the leg's path as ``(lon, lat)`` pairs for maps (optional);
    ``departure_at``/``arrival_at`` are RFC 3339 strings when known.
    """

    tce_id: str
    shipment_id: str
    kind: str
    mass_t: float
    co2e_wtt_kg: float
    co2e_ttw_kg: float
    method: Method
    data_type: DataType
    mode: Mode | None = None
    hub: str | None = None
    distance_km: float = 0.0
    distance_basis: DistanceBasis | None = None
    activity_tkm: float = 0.0
    distance_actual_km: float | None = None
    energy_mj: float | None = None
    energy_carrier: str | None = None
    toc_id: str | None = None
    hoc_id: str | None = None
    origin: Location | None = None
    destination: Location | None = None
    factors: tuple[FactorRef, ...] = ()
    rules: tuple[str, ...] = ()
    prev_tce_ids: tuple[str, ...] = ()
    geometry: tuple[tuple[float, float], ...] = ()
    departure_at: str | None = None
    arrival_at: str | None = None
    temperature_control: str | None = None
    co2e_refrigerant_kg: float = 0.0
    """Refrigerant leakage [kg CO2e], already part of ``co2e_ttw_kg``."""

    @property
    def co2e_wtw_kg(self) -> float:
        """Well-to-wheel emissions [kg CO2e] = WTT + TTW."""
        return self.co2e_wtt_kg + self.co2e_ttw_kg

    @property
    def intensity_wtw_g_per_tkm(self) -> float:
        """WTW intensity on this element's activity [g CO2e/tkm]; 0 for hubs."""
        return intensity_g_per_tkm(self.co2e_wtw_kg, self.activity_tkm)

    @property
    def intensity_ttw_g_per_tkm(self) -> float:
        """TTW intensity on this element's activity [g CO2e/tkm]; 0 for hubs."""
        return intensity_g_per_tkm(self.co2e_ttw_kg, self.activity_tkm)


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over a chain [kg CO2e, tkm] and its intensity [g CO2e/tkm]."""

    co2e_wtw_kg: float
    co2e_ttw_kg: float
    co2e_wtt_kg: float
    tkm: float
    distance_km: float

    @property
    def intensity_wtw_g_per_tkm(self) -> float:
        """Chain WTW intensity [g CO2e/tkm]."""
        return intensity_g_per_tkm(self.co2e_wtw_kg, self.tkm)

    @property
    def intensity_ttw_g_per_tkm(self) -> float:
        """Chain TTW intensity [g CO2e/tkm]."""
        return intensity_g_per_tkm(self.co2e_ttw_kg, self.tkm)


@dataclass(frozen=True, slots=True)
class Footprint:
    """A shipment's footprint: its chain of TCEs and their totals."""

    shipment_id: str
    mass_t: float
    tces: tuple[TCE, ...]
    totals: Totals
    factor_set: str
    gwp_basis: str
    data_sha256: str
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelledProfile:
    """Energy use of a modelled vehicle at a stated load, per tonne-km of payload.

    ``energy_mj_per_tkm`` is per tonne-km actually covered and already spreads empty running
    over the loaded tonne-km. ``fleet``
    builds these; ``emissions`` turns them into a TCE without knowing vehicles.
    """

    vehicle_id: str
    mode: Mode
    carrier: EnergyCarrier
    energy_mj_per_tkm: float
    rules: tuple[str, ...] = ()
    refs: tuple[FactorRef, ...] = ()
    load_t: float | None = None
    """The vehicle's load the profile is for [t]."""
    payload_max_t: float | None = None
    """The vehicle's largest payload [t]; a shipment heavier than it cannot ride on it."""
