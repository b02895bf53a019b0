"""Invariants of the network tables; every failure is a DataError naming the row and field."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from greenlane.emissions.errors import DataError
from greenlane.emissions.model import Mode
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

HUB_COLUMNS = (
    "hub_id",
    "name",
    "kind",
    "locode",
    "iata",
    "uic",
    "lat",
    "lon",
    "country",
    "region",
    "services",
    "source",
    "note",
)
LANE_COLUMNS = (
    "lane_id",
    "origin",
    "destination",
    "mode",
    "vehicle_types",
    "bidirectional",
    "distance_km",
    "distance_source",
    "departures_per_week",
    "capacity_t_per_departure",
    "transit_h",
    "source",
    "note",
)


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


def read_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV file with their line numbers; the header must hold ``columns``."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = set(columns) - set(reader.fieldnames or ())
            if missing:
                raise DataError(f"missing columns {sorted(missing)}", field=path.name)
            return [
                (i, {k: (v or "").strip() for k, v in row.items() if k})
                for i, row in enumerate(reader, start=2)
            ]
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}", field=path.name) from exc


def _field(file: str, line: int, name: str) -> str:
    return f"{file}[line {line}].{name}"


def _float(
    row: Mapping[str, str],
    name: str,
    file: str,
    line: int,
    *,
    lo: float,
    hi: float,
    optional: bool = False,
) -> float | None:
    text = row[name]
    if not text and optional:
        return None
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"not a number: {text!r}", field=_field(file, line, name)) from None
    if not lo <= value <= hi:
        raise DataError(f"{value} outside [{lo}, {hi}]", field=_field(file, line, name))
    return value


def _modes(text: str, file: str, line: int, name: str) -> tuple[Mode, ...]:
    try:
        return tuple(Mode(m) for m in text.split(";") if m)
    except ValueError as exc:
        raise DataError(str(exc), field=_field(file, line, name)) from None


def parse_hubs(
    rows: Iterable[tuple[int, Mapping[str, str]]], file: str = "hubs.csv"
) -> dict[str, Hub]:
    """Validate hub rows (ids, codes, coordinates, source) and build the hubs."""
    hubs: dict[str, Hub] = {}
    for line, row in rows:
        hub_id = row["hub_id"]
        if not HUB_ID_RE.match(hub_id):
            raise DataError(f"bad hub id {hub_id!r}", field=_field(file, line, "hub_id"))
        if hub_id in hubs:
            raise DataError(f"duplicate hub id {hub_id}", field=_field(file, line, "hub_id"))
        try:
            kind = HubKind(row["kind"])
        except ValueError:
            raise DataError(
                f"unknown kind {row['kind']!r}", field=_field(file, line, "kind")
            ) from None
        for name, regex in (("locode", LOCODE_RE), ("iata", IATA_RE)):
            if row[name] and not regex.match(row[name]):
                raise DataError(
                    f"{hub_id}: malformed {name} {row[name]!r}", field=_field(file, line, name)
                )
        if kind in (HubKind.SEAPORT, HubKind.INLAND_PORT) and not row["locode"]:
            raise DataError(
                f"{hub_id}: a port needs a UN/LOCODE", field=_field(file, line, "locode")
            )
        if kind == HubKind.AIRPORT and not row["iata"]:
            raise DataError(
                f"{hub_id}: an airport needs an IATA code", field=_field(file, line, "iata")
            )
        if not COUNTRY_RE.match(row["country"]):
            raise DataError(
                f"{hub_id}: country must be ISO 3166 alpha-2", field=_field(file, line, "country")
            )
        for name in ("name", "region", "source"):
            if not row[name]:
                raise DataError(f"{hub_id}: {name} is empty", field=_field(file, line, name))
        services = _modes(row["services"], file, line, "services")
        if not services:
            raise DataError(f"{hub_id}: no services", field=_field(file, line, "services"))
        lat = _float(row, "lat", file, line, lo=-90.0, hi=90.0)
        lon = _float(row, "lon", file, line, lo=-180.0, hi=180.0)
        assert lat is not None and lon is not None
        hubs[hub_id] = Hub(
            hub_id=hub_id,
            name=row["name"],
            kind=kind,
            lat=lat,
            lon=lon,
            country=row["country"],
            region=row["region"],
            services=services,
            source=row["source"],
            locode=row["locode"] or None,
            iata=row["iata"] or None,
            uic=row["uic"] or None,
            note=row.get("note", ""),
        )
    if not hubs:
        raise DataError("no hubs", field=file)
    return hubs


def vehicle_type_modes(data_dir: Path) -> Mapping[str, Mode | None]:
    """Known vehicle type ids: from ``vehicle_types.csv`` if present, else the built-in list."""
    path = data_dir / "vehicle_types.csv"
    if not path.exists():
        return KNOWN_VEHICLE_TYPES
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        id_col = next((c for c in ("type_id", "vehicle_id", "toc_id", "id") if c in fields), None)
        if id_col is None:
            return KNOWN_VEHICLE_TYPES
        out: dict[str, Mode | None] = {}
        for row in reader:
            try:
                mode: Mode | None = Mode(row.get("mode", ""))
            except ValueError:
                mode = None
            out[row[id_col]] = mode
    return out


def parse_lanes(
    rows: Iterable[tuple[int, Mapping[str, str]]],
    hubs: Mapping[str, Hub],
    vehicle_types: Mapping[str, Mode | None],
    file: str = "lanes.csv",
) -> list[LaneRow]:
    """Validate lane rows: endpoints exist and offer the mode, vehicle types known, sources set."""
    lanes: list[LaneRow] = []
    ids: set[str] = set()
    for line, row in rows:
        lane_id = row["lane_id"]
        if not lane_id or ":" in lane_id:
            raise DataError(
                f"bad lane id {lane_id!r} (':' is reserved for ':rev')",
                field=_field(file, line, "lane_id"),
            )
        if lane_id in ids:
            raise DataError(f"duplicate lane id {lane_id}", field=_field(file, line, "lane_id"))
        ids.add(lane_id)
        try:
            mode = Mode(row["mode"])
        except ValueError:
            raise DataError(
                f"{lane_id}: unknown mode {row['mode']!r}", field=_field(file, line, "mode")
            ) from None
        for end in ("origin", "destination"):
            hub = hubs.get(row[end])
            if hub is None:
                raise DataError(
                    f"{lane_id}: unknown hub {row[end]!r}", field=_field(file, line, end)
                )
            if mode not in hub.services:
                raise DataError(
                    f"{lane_id}: hub {hub.hub_id} does not offer {mode}",
                    field=_field(file, line, end),
                )
        if row["origin"] == row["destination"]:
            raise DataError(
                f"{lane_id}: origin equals destination", field=_field(file, line, "destination")
            )
        types = tuple(t for t in row["vehicle_types"].split(";") if t)
        if not types:
            raise DataError(
                f"{lane_id}: no vehicle types", field=_field(file, line, "vehicle_types")
            )
        for t in types:
            if t not in vehicle_types:
                raise DataError(
                    f"{lane_id}: unknown vehicle type id {t!r}",
                    field=_field(file, line, "vehicle_types"),
                )
            if vehicle_types[t] not in (None, mode):
                raise DataError(
                    f"{lane_id}: {t} is a {vehicle_types[t]} vehicle, not {mode}",
                    field=_field(file, line, "vehicle_types"),
                )
        if row["bidirectional"] not in ("0", "1"):
            raise DataError(
                f"{lane_id}: bidirectional must be 0 or 1",
                field=_field(file, line, "bidirectional"),
            )
        distance = _float(row, "distance_km", file, line, lo=0.001, hi=50_000.0, optional=True)
        if distance is not None and not row["distance_source"]:
            raise DataError(
                f"{lane_id}: a given distance_km needs a distance_source",
                field=_field(file, line, "distance_source"),
            )
        if not row["source"]:
            raise DataError(f"{lane_id}: source is empty", field=_field(file, line, "source"))
        departures = _float(row, "departures_per_week", file, line, lo=1e-6, hi=10_000.0)
        capacity = _float(row, "capacity_t_per_departure", file, line, lo=1e-6, hi=1e7)
        assert departures is not None and capacity is not None
        lanes.append(
            LaneRow(
                line=line,
                lane_id=lane_id,
                origin=row["origin"],
                destination=row["destination"],
                mode=mode,
                vehicle_types=types,
                bidirectional=row["bidirectional"] == "1",
                distance_km=distance,
                distance_source=row["distance_source"],
                departures_per_week=departures,
                capacity_t_per_departure=capacity,
                transit_h=_float(row, "transit_h", file, line, lo=0.0, hi=10_000.0, optional=True),
                source=row["source"],
                note=row.get("note", ""),
            )
        )
    return lanes


def check_reachable(graph: nx.MultiDiGraph, hubs: Mapping[str, Hub]) -> None:
    """Every hub must be reachable from every factory."""
    factories = [h for h in hubs.values() if h.kind == HubKind.FACTORY]
    if not factories:
        raise DataError("no factory hub", field="hubs.csv.kind")
    for factory in factories:
        reached = nx.descendants(graph, factory.hub_id) | {factory.hub_id}
        missing = sorted(set(hubs) - reached)
        if missing:
            raise DataError(
                f"not reachable from {factory.hub_id}: {', '.join(missing)}", field="lanes.csv"
            )
