"""Routing types: hubs and lanes of the multimodal network.

Coordinates are WGS84 degrees; geometry is a tuple of ``(lon, lat)`` pairs (GeoJSON order).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from greenlane.emissions.model import DistanceBasis, Location, Mode


class HubKind(StrEnum):
    """What a hub is."""

    FACTORY = "factory"
    WAREHOUSE = "warehouse"
    CUSTOMER_SITE = "customer_site"
    SEAPORT = "seaport"
    AIRPORT = "airport"
    RAIL_TERMINAL = "rail_terminal"
    INLAND_PORT = "inland_port"
    BORDER_CROSSING = "border_crossing"


@dataclass(frozen=True, slots=True)
class Hub:
    """A node of the network: a site, terminal, port, airport or border crossing.

    ``region`` is the grid/price region (e.g. ``CN-East``, ``ES``, ``EU``); ``services`` are
    the modes handled there.
    """

    hub_id: str
    name: str
    kind: HubKind
    lat: float
    lon: float
    country: str
    region: str
    services: tuple[Mode, ...]
    source: str
    locode: str | None = None
    iata: str | None = None
    uic: str | None = None
    note: str = ""

    @property
    def lonlat(self) -> tuple[float, float]:
        """Position as ``(lon, lat)`` [deg]."""
        return (self.lon, self.lat)

    def location(self) -> Location:
        """The hub as an ``emissions`` location (for TCE origins and destinations)."""
        return Location(
            lat=self.lat,
            lon=self.lon,
            name=self.name,
            locode=self.locode,
            iata=self.iata,
            country=self.country,
        )


@dataclass(frozen=True, slots=True)
class Lane:
    """A directed transport service between two hubs.

    ``distance_km`` is on ``distance_basis`` (sea: searoute SFD; air: GCD, the +95 km is added
    by ``emissions``; road/rail/inland water: GCD x detour factor = SFD, or a sourced ``actual``
    route length). ``distance_rules`` records each rule applied. ``geometry`` is unwrapped: it
    never jumps across the antimeridian, so longitudes may leave [-180, 180] (see
    ``routing.network.geometry.split_antimeridian``). ``reverse_of`` names the row a ``:rev``
    lane was expanded from.
    """

    lane_id: str
    origin: str
    destination: str
    mode: Mode
    vehicle_types: tuple[str, ...]
    distance_km: float
    distance_basis: DistanceBasis
    distance_rules: tuple[str, ...]
    distance_source: str
    departures_per_week: float
    capacity_t_per_departure: float
    transit_h: float
    transit_rule: str
    geometry: tuple[tuple[float, float], ...]
    geometry_kind: str
    source: str
    passages: tuple[str, ...] = ()
    note: str = ""
    reverse_of: str | None = None
    carrier: str | None = None
    """The carrier selling the service (its TOC in ``carrier_intensities.csv`` then sets the
    leg's emissions); None: the company's own or an unnamed operator."""

    @property
    def capacity_t_per_week(self) -> float:
        """Weekly capacity [t/week] = departures x capacity per departure."""
        return self.departures_per_week * self.capacity_t_per_departure
