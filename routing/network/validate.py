"""Invariants of the network tables; every failure is a DataError naming file, line and column.

Cell formats are checked by the row models (:class:`HubRow`, :class:`LaneTableRow`) as
``read_table`` reads them; checks across rows and tables are made here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import networkx as nx
from pydantic import Field

from greenlane.emissions.errors import DataError
from greenlane.emissions.model import Mode
from greenlane.emissions.tables import OptFloat, TableRow, Text, read_table, within
from greenlane.routing.network.model import Hub, HubKind

LOCODE_RE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
"""UN/LOCODE: ISO 3166 country + 3 characters from A-Z and 2-9."""
IATA_RE = re.compile(r"^[A-Z]{3}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
HUB_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")

KNOWN_VEHICLE_TYPES: Mapping[str, Mode] = {
    "truck_40t_diesel": Mode.ROAD,
    "truck_40t_hvo": Mode.ROAD,
    "truck_40t_lng": Mode.ROAD,
    "truck_40t_bev": Mode.ROAD,
    "truck_40t_fcev": Mode.ROAD,
    "rigid_18t_diesel": Mode.ROAD,
    "rigid_18t_bev": Mode.ROAD,
    "train_electric_container": Mode.RAIL,
    "train_diesel_container": Mode.RAIL,
    "ship_container_24000teu": Mode.SEA,
    "ship_container_14000teu": Mode.SEA,
    "ship_container_8000teu": Mode.SEA,
    "ship_feeder_1700teu": Mode.SEA,
    "barge_container_iww": Mode.INLAND_WATER,
    "aircraft_freighter_b777f": Mode.AIR,
    "aircraft_belly_widebody": Mode.AIR,
}
"""Fleet type ids a lane may list, with their mode (used when data/vehicle_types.csv is absent)."""


class HubRow(TableRow):
    """A row of ``hubs.csv``: one hub, its codes and position [deg WGS84]."""

    hub_id: Annotated[str, Field(pattern=HUB_ID_RE.pattern)]
    name: Text
    kind: HubKind
    locode: Annotated[str, Field(pattern=r"^$|" + LOCODE_RE.pattern)]
    iata: Annotated[str, Field(pattern=r"^$|" + IATA_RE.pattern)]
    uic: str
    lat: Annotated[float, Field(ge=-90.0, le=90.0)]
    lon: Annotated[float, Field(ge=-180.0, le=180.0)]
    country: Annotated[str, Field(pattern=COUNTRY_RE.pattern)]
    region: Text
    services: Text
    source: Text
    note: str


class LaneTableRow(TableRow):
    """A row of ``lanes.csv`` as read (one direction; ``bidirectional`` expands it later)."""

    lane_id: Annotated[str, Field(pattern=r"^[^:]+$")]  # ':' is reserved for ':rev'
    origin: Text
    destination: Text
    mode: Mode
    vehicle_types: Text
    bidirectional: Literal["0", "1"]
    distance_km: Annotated[OptFloat, within(0.001, 50_000.0)]
    distance_source: str
    departures_per_week: Annotated[float, Field(ge=1e-6, le=10_000.0)]
    capacity_t_per_departure: Annotated[float, Field(ge=1e-6, le=1e7)]
    transit_h: Annotated[OptFloat, within(0.0, 10_000.0)]
    source: Text
    note: str
    carrier: str = ""
    """Optional column: the carrier selling the service (empty: none)."""


class VehicleModeRow(TableRow):
    """The columns of ``vehicle_types.csv`` the network checks lanes against."""

    type_id: Text
    mode: Mode


@dataclass(frozen=True, slots=True)
class LaneRow:
    """A validated row of lanes.csv (one direction; ``bidirectional`` expands it later)."""

    line: int
    lane_id: str
    origin: str
    destination: str
    mode: Mode
    vehicle_types: tuple[str, ...]
    bidirectional: bool
    distance_km: float | None
    distance_source: str
    departures_per_week: float
    capacity_t_per_departure: float
    transit_h: float | None
    source: str
    note: str
    carrier: str = ""


def parse_hubs(rows: Iterable[HubRow]) -> dict[str, Hub]:
    """Check hub rows across the table (unique ids, codes by kind) and build the hubs."""
    hubs: dict[str, Hub] = {}
    file = "hubs.csv"
    for row in rows:
        file, hub_id, kind = row.file, row.hub_id, row.kind
        if hub_id in hubs:
            raise row.error("hub_id", f"duplicate hub id {hub_id}")
        if kind in (HubKind.SEAPORT, HubKind.INLAND_PORT) and not row.locode:
            raise row.error("locode", f"{hub_id}: a port needs a UN/LOCODE")
        if kind == HubKind.AIRPORT and not row.iata:
            raise row.error("iata", f"{hub_id}: an airport needs an IATA code")
        try:
            services = tuple(Mode(m) for m in row.services.split(";") if m)
        except ValueError as exc:
            raise row.error("services", f"{hub_id}: {exc}") from None
        if not services:
            raise row.error("services", f"{hub_id}: no services")
        hubs[hub_id] = Hub(
            hub_id=hub_id,
            name=row.name,
            kind=kind,
            lat=row.lat,
            lon=row.lon,
            country=row.country,
            region=row.region,
            services=services,
            source=row.source,
            locode=row.locode or None,
            iata=row.iata or None,
            uic=row.uic or None,
            note=row.note,
        )
    if not hubs:
        raise DataError("no hubs", file=file, line=2)
    return hubs


def vehicle_type_modes(data_dir: Path) -> Mapping[str, Mode | None]:
    """Known vehicle type ids: from ``vehicle_types.csv`` if present, else the built-in list."""
    path = data_dir / "vehicle_types.csv"
    if not path.exists():
        return KNOWN_VEHICLE_TYPES
    return {row.type_id: row.mode for row in read_table(path, VehicleModeRow)}


def parse_lanes(
    rows: Iterable[LaneTableRow],
    hubs: Mapping[str, Hub],
    vehicle_types: Mapping[str, Mode | None],
) -> list[LaneRow]:
    """Check lane rows against the hubs and fleet: endpoints exist and offer the mode, vehicle
    types known and of the mode, a given distance has its source, ids unique."""
    lanes: list[LaneRow] = []
    ids: set[str] = set()
    for row in rows:
        lane_id, mode = row.lane_id, row.mode
        if lane_id in ids:
            raise row.error("lane_id", f"duplicate lane id {lane_id}")
        ids.add(lane_id)
        for end in ("origin", "destination"):
            hub = hubs.get(getattr(row, end))
            if hub is None:
                raise row.error(end, f"{lane_id}: unknown hub {getattr(row, end)!r}")
            if mode not in hub.services:
                raise row.error(end, f"{lane_id}: hub {hub.hub_id} does not offer {mode}")
        if row.origin == row.destination:
            raise row.error("destination", f"{lane_id}: origin equals destination")
        types = tuple(t for t in row.vehicle_types.split(";") if t)
        if not types:
            raise row.error("vehicle_types", f"{lane_id}: no vehicle types")
        for t in types:
            if t not in vehicle_types:
                raise row.error("vehicle_types", f"{lane_id}: unknown vehicle type id {t!r}")
            if vehicle_types[t] not in (None, mode):
                raise row.error(
                    "vehicle_types", f"{lane_id}: {t} is a {vehicle_types[t]} vehicle, not {mode}"
                )
        if row.distance_km is not None and not row.distance_source:
            raise row.error(
                "distance_source", f"{lane_id}: a given distance_km needs a distance_source"
            )
        lanes.append(
            LaneRow(
                line=row.line,
                lane_id=lane_id,
                origin=row.origin,
                destination=row.destination,
                mode=mode,
                vehicle_types=types,
                bidirectional=row.bidirectional == "1",
                distance_km=row.distance_km,
                distance_source=row.distance_source,
                departures_per_week=row.departures_per_week,
                capacity_t_per_departure=row.capacity_t_per_departure,
                transit_h=row.transit_h,
                source=row.source,
                note=row.note,
                carrier=row.carrier,
            )
        )
    return lanes


def check_reachable(graph: nx.MultiDiGraph, hubs: Mapping[str, Hub]) -> None:
    """Every hub must be reachable from every factory."""
    factories = [h for h in hubs.values() if h.kind == HubKind.FACTORY]
    if not factories:
        raise DataError("no factory hub", file="hubs.csv", column="kind")
    for factory in factories:
        reached = nx.descendants(graph, factory.hub_id) | {factory.hub_id}
        missing = sorted(set(hubs) - reached)
        if missing:
            raise DataError(
                f"not reachable from {factory.hub_id}: {', '.join(missing)}", file="lanes.csv"
            )
