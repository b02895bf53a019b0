"""The multimodal network: hubs and lanes from ``data/``, distances and geometry by rule.

``load_network()`` reads ``hubs.csv`` and ``lanes.csv``, validates them, derives each lane's
distance and geometry (sea by searoute, air great circle, road/rail/inland water GCD x detour
factor, unless a sourced route length is given), and builds a ``networkx.MultiDiGraph``.
Derived distances and geometry are cached on disk, keyed by the sha256 of the three input
tables, and the loaded network is cached in-process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from greenlane.data import DATA_DIR
from greenlane.emissions.model import DistanceBasis, Mode
from greenlane.emissions.tables import read_table
from greenlane.emissions.units import KM_PER_NM
from greenlane.routing.network import validate
from greenlane.routing.network.geometry import Derived, derive, split_antimeridian
from greenlane.routing.network.model import Hub, HubKind, Lane

if TYPE_CHECKING:
    import geopandas

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "greenlane"
"""Where derived lane distances and geometry are cached unless ``cache_dir`` is given."""
CACHE_VERSION = 1
"""Bump when the derivation changes, so old caches are ignored."""
REVERSE_SUFFIX = ":rev"
"""Suffix of the lane id of the reverse direction of a bidirectional row."""

MODE_COLOURS: Mapping[Mode, str] = {
    Mode.ROAD: "#E69F00",
    Mode.RAIL: "#009E73",
    Mode.SEA: "#0072B2",
    Mode.INLAND_WATER: "#56B4E9",
    Mode.AIR: "#CC79A7",
}
"""Okabe-Ito colours per mode (colour-blind safe), used for GeoJSON ``stroke`` and plots."""


@dataclass(frozen=True, slots=True)
class TransitRule:
    """Lane time when ``transit_h`` is not given: distance / speed + dwell [h]."""

    speed_kmh: float
    dwell_h: float
    source: str


TRANSIT_RULES: Mapping[Mode, TransitRule] = {
    Mode.SEA: TransitRule(
        16.0 * KM_PER_NM,
        24.0,
        "16 kn service speed (Rodrigue & Notteboom, Port Economics, Management and Policy: "
        "'Routing options between Shanghai, Rotterdam and New York') + 24 h port stay (estimate)",
    ),
    Mode.RAIL: TransitRule(
        11179.0 / 300.0,
        12.0,
        "37.3 km/h running speed: Chongqing-Duisburg 11,179 km in 16 days (384 h, China Daily "
        "2013) less this model's stops on that trip (12 h terminal dwell, 2 gauge changes x "
        "24 h of hub_operations.csv, customs 12 h + 12 h of border_dwell.csv) = 11,179 km / "
        "300 h; + 12 h terminal dwell (estimate)",
    ),
    Mode.ROAD: TransitRule(
        65.0,
        2.0,
        "65 km/h driving speed (estimate) with Regulation (EC) 561/2006 limits: 45 min break "
        "per 4.5 h, 9 h driving a day, 11 h daily rest; + 2 h loading/unloading (estimate)",
    ),
    Mode.INLAND_WATER: TransitRule(
        10.0, 12.0, "10 km/h barge speed up/downstream average + 12 h terminal dwell (estimate)"
    ),
    Mode.AIR: TransitRule(
        800.0, 12.0, "800 km/h block speed + 12 h acceptance and handling (estimate)"
    ),
}
"""Documented speed and dwell per mode (see data/README_network.md)."""


@dataclass(frozen=True, slots=True)
class PassageRule:
    """Time a sea lane spends at a canal beyond sailing its length at service speed [h]."""

    canal_km: float
    canal_h: float
    waiting_h: float
    data_quality: str
    source: str

    @property
    def extra_h(self) -> float:
        """Canal time + waiting - the canal length at the sea service speed [h]."""
        return self.canal_h + self.waiting_h - self.canal_km / TRANSIT_RULES[Mode.SEA].speed_kmh


PASSAGE_RULES: Mapping[str, PassageRule] = {
    "suez": PassageRule(
        193.3,
        14.0,
        3.0,
        "QS/EST",
        "Suez Canal 193.3 km, transit 12-16 h in convoy (Wikipedia 'Suez Canal'; mid-point 14 h); "
        "waiting 3 h after the 2015 expansion (Shippo 2015 'Suez Canal disruptions': waits "
        "down from 8-11 h to 3 h)",
    ),
    "panama": PassageRule(
        82.0,
        9.0,
        0.0,
        "EST",
        "Panama Canal 82 km, lock transit 8-10 h (mid-point 9 h, estimate); waiting for a "
        "slot is not modelled (booked transits)",
    ),
}
"""Canals of the ``searoute`` passages with the time they add to a sea lane sailing through
them; straits (Bab-el-Mandeb, Malacca, Gibraltar, Bosporus, Hormuz) add none."""


def sea_passage_h(passages: tuple[str, ...]) -> float:
    """Time the canals among ``passages`` add to a sea lane [h] (:data:`PASSAGE_RULES`)."""
    return sum(PASSAGE_RULES[p].extra_h for p in passages if p in PASSAGE_RULES)


def sea_transit_h(distance_km: float, passages: tuple[str, ...]) -> float:
    """Sea lane time by the route sailed: distance / 16 kn + port stay + canal time [h]."""
    return transit_h(Mode.SEA, distance_km) + sea_passage_h(passages)


ROAD_DRIVING_H_PER_DAY = 9.0
"""Daily driving limit [h], Regulation (EC) 561/2006 Art. 6."""
ROAD_DRIVING_H_PER_BREAK = 4.5
"""Driving before a break [h], Regulation (EC) 561/2006 Art. 7."""
ROAD_BREAK_H = 0.75
"""Break after 4.5 h of driving [h], Regulation (EC) 561/2006 Art. 7."""
ROAD_DAILY_REST_H = 11.0
"""Regular daily rest [h], Regulation (EC) 561/2006 Art. 8."""


def transit_h(mode: Mode, distance_km: float) -> float:
    """Lane time by ``TRANSIT_RULES`` [h]; road adds breaks and daily rests."""
    rule = TRANSIT_RULES[mode]
    moving_h = distance_km / rule.speed_kmh
    if mode != Mode.ROAD:
        return moving_h + rule.dwell_h
    days = max(1, math.ceil(moving_h / ROAD_DRIVING_H_PER_DAY))
    last_day_h = moving_h - (days - 1) * ROAD_DRIVING_H_PER_DAY
    breaks = (days - 1) + (1 if last_day_h > ROAD_DRIVING_H_PER_BREAK else 0)
    return moving_h + breaks * ROAD_BREAK_H + (days - 1) * ROAD_DAILY_REST_H + rule.dwell_h


@dataclass(frozen=True, eq=False)
class Network:
    """Hubs, directed lanes (``:rev`` lanes expanded) and their graph; treat as read-only.

    ``graph`` nodes are hub ids with attribute ``hub``; edges are keyed by lane id with the
    :class:`Lane` in attribute ``lane`` (plus ``mode``, ``distance_km``, ``transit_h``).
    ``data_sha256`` hashes hubs.csv, lanes.csv and distance_rules.csv.
    """

    hubs: Mapping[str, Hub]
    lanes: tuple[Lane, ...]
    graph: nx.MultiDiGraph
    data_sha256: str
    _by_id: Mapping[str, Lane] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {lane.lane_id: lane for lane in self.lanes})

    def lane(self, lane_id: str) -> Lane:
        """The lane with this id (``KeyError`` if unknown)."""
        return self._by_id[lane_id]

    def factories(self) -> tuple[Hub, ...]:
        """The manufacturer sites."""
        return tuple(h for h in self.hubs.values() if h.kind == HubKind.FACTORY)

    def hubs_gdf(self) -> geopandas.GeoDataFrame:
        """Hubs as a GeoDataFrame of points (EPSG:4326)."""
        import geopandas
        from shapely.geometry import Point

        rows = [_hub_properties(h) | {"geometry": Point(h.lon, h.lat)} for h in self.hubs.values()]
        return geopandas.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    def lanes_gdf(self, include_reverse: bool = True) -> geopandas.GeoDataFrame:
        """Lanes as a GeoDataFrame (EPSG:4326); lines cut at +-180 deg are MultiLineStrings."""
        import geopandas
        from shapely.geometry import LineString, MultiLineString

        rows = []
        for lane in self.lanes:
            if lane.reverse_of and not include_reverse:
                continue
            parts = split_antimeridian(lane.geometry)
            geom = LineString(parts[0]) if len(parts) == 1 else MultiLineString(parts)
            rows.append(_lane_properties(lane) | {"geometry": geom})
        return geopandas.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    def to_geojson(self, include_reverse: bool = False) -> dict[str, Any]:
        """RFC 7946 FeatureCollection: hub Points and lane (Multi)LineStrings, ``[lon, lat]``.

        Lines are cut at +-180 deg; lanes carry simplestyle ``stroke`` by mode. The reverse
        (``:rev``) lanes are left out unless ``include_reverse``, since they repeat the line.
        """
        features: list[dict[str, Any]] = []
        for hub in self.hubs.values():
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [_r(hub.lon), _r(hub.lat)]},
                    "properties": _hub_properties(hub) | {"marker-size": "small"},
                }
            )
        for lane in self.lanes:
            if lane.reverse_of and not include_reverse:
                continue
            parts = [[[_r(x), _r(y)] for x, y in p] for p in split_antimeridian(lane.geometry)]
            geometry = (
                {"type": "LineString", "coordinates": parts[0]}
                if len(parts) == 1
                else {"type": "MultiLineString", "coordinates": parts}
            )
            features.append(
                {
                    "type": "Feature",
                    "geometry": geometry,
                    "properties": _lane_properties(lane)
                    | {
                        "stroke": MODE_COLOURS[lane.mode],
                        "stroke-width": 2 if lane.mode in (Mode.SEA, Mode.RAIL) else 1.5,
                        "stroke-opacity": 0.8,
                    },
                }
            )
        return {
            "type": "FeatureCollection",
            "properties": {"data_sha256": self.data_sha256},
            "features": features,
        }

    def write_geojson(self, path: str | Path, include_reverse: bool = False) -> Path:
        """Write :meth:`to_geojson` as UTF-8 JSON; returns the path."""
        path = Path(path)
        path.write_text(
            json.dumps(self.to_geojson(include_reverse), ensure_ascii=False), encoding="utf-8"
        )
        return path


def _r(x: float) -> float:
    return round(x, 5)


def _hub_properties(hub: Hub) -> dict[str, Any]:
    return {
        "hub_id": hub.hub_id,
        "name": hub.name,
        "kind": str(hub.kind),
        "locode": hub.locode,
        "iata": hub.iata,
        "uic": hub.uic,
        "country": hub.country,
        "region": hub.region,
        "services": [str(m) for m in hub.services],
        "source": hub.source,
    }


def _lane_properties(lane: Lane) -> dict[str, Any]:
    return {
        "lane_id": lane.lane_id,
        "origin": lane.origin,
        "destination": lane.destination,
        "mode": str(lane.mode),
        "vehicle_types": list(lane.vehicle_types),
        "distance_km": round(lane.distance_km, 1),
        "distance_basis": str(lane.distance_basis),
        "distance_rules": list(lane.distance_rules),
        "distance_source": lane.distance_source,
        "transit_h": round(lane.transit_h, 1),
        "transit_rule": lane.transit_rule,
        "departures_per_week": lane.departures_per_week,
        "capacity_t_per_departure": lane.capacity_t_per_departure,
        "geometry_kind": lane.geometry_kind,
        "passages": list(lane.passages),
        "reverse_of": lane.reverse_of,
        "carrier": lane.carrier,
        "source": lane.source,
        "note": lane.note,
    }


# ----------------------------------------------------------------------------- loading


def _rules_path(data_dir: Path) -> Path:
    own = data_dir / "distance_rules.csv"
    return own if own.exists() else DATA_DIR / "distance_rules.csv"


def data_sha256(data_dir: str | Path = DATA_DIR) -> str:
    """sha256 over hubs.csv, lanes.csv and distance_rules.csv (names and bytes)."""
    data_dir = Path(data_dir)
    digest = hashlib.sha256()
    for path in (data_dir / "hubs.csv", data_dir / "lanes.csv", _rules_path(data_dir)):
        try:
            content = path.read_bytes()
        except OSError as exc:
            from greenlane.emissions.errors import DataError

            raise DataError(f"cannot read {path}: {exc.strerror}", field=path.name) from exc
        digest.update(path.name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def load_network(data_dir: str | Path = DATA_DIR, cache_dir: str | Path | None = None) -> Network:
    """Load, validate and build the network (cached on disk and in-process).

    ``cache_dir`` defaults to ``~/.cache/greenlane``; derived distances and geometry are
    stored there as JSON keyed by :func:`data_sha256`. Raises ``DataError`` naming the row and
    field when a table breaks an invariant (see ``routing.network.validate``).
    """
    data_dir = Path(data_dir).resolve()
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    return _load(str(data_dir), str(cache), data_sha256(data_dir))


@lru_cache(maxsize=8)
def _load(data_dir: str, cache_dir: str, sha: str) -> Network:
    folder = Path(data_dir)
    hubs = validate.parse_hubs(read_table(folder / "hubs.csv", validate.HubRow))
    rows = validate.parse_lanes(
        read_table(folder / "lanes.csv", validate.LaneTableRow),
        hubs,
        validate.vehicle_type_modes(folder),
    )
    derived = _derived(rows, hubs, _rules_path(folder), Path(cache_dir), sha)
    lanes: list[Lane] = []
    for row in rows:
        lane = _lane(row, derived[row.lane_id])
        lanes.append(lane)
        if row.bidirectional:
            lanes.append(_reverse(lane))
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph(data_sha256=sha)
    add_to_graph(graph, hubs.values(), lanes)
    validate.check_reachable(graph, hubs)
    return Network(hubs=hubs, lanes=tuple(lanes), graph=nx.freeze(graph), data_sha256=sha)


def add_to_graph(graph: nx.MultiDiGraph[str], hubs: Iterable[Hub], lanes: Iterable[Lane]) -> None:
    """Add ``hubs`` as nodes (attribute ``hub``) and ``lanes`` as edges keyed by lane id (with
    ``lane``, ``mode``, ``distance_km`` and ``transit_h``) to ``graph``, in place."""
    for hub in hubs:
        graph.add_node(hub.hub_id, hub=hub)
    for lane in lanes:
        graph.add_edge(
            lane.origin,
            lane.destination,
            key=lane.lane_id,
            lane=lane,
            mode=lane.mode,
            distance_km=lane.distance_km,
            transit_h=lane.transit_h,
        )


def _lane(row: validate.LaneRow, d: Derived) -> Lane:
    if row.transit_h is not None:
        time_h, time_rule = row.transit_h, "data: lanes.csv transit_h (see source/note)"
    else:
        time_h, time_rule = transit_h(row.mode, d.distance_km), TRANSIT_RULES[row.mode].source
        canals = [p for p in d.passages if p in PASSAGE_RULES]
        if row.mode is Mode.SEA and canals:
            time_h += sea_passage_h(d.passages)
            time_rule += "; " + "; ".join(
                f"{p}: +{PASSAGE_RULES[p].extra_h:.1f} h ({PASSAGE_RULES[p].source})"
                for p in canals
            )
    return Lane(
        lane_id=row.lane_id,
        origin=row.origin,
        destination=row.destination,
        mode=row.mode,
        vehicle_types=row.vehicle_types,
        distance_km=d.distance_km,
        distance_basis=d.distance_basis,
        distance_rules=d.distance_rules,
        distance_source=row.distance_source or "rule",
        departures_per_week=row.departures_per_week,
        capacity_t_per_departure=row.capacity_t_per_departure,
        transit_h=time_h,
        transit_rule=time_rule,
        geometry=d.geometry,
        geometry_kind=d.geometry_kind,
        source=row.source,
        passages=d.passages,
        note=row.note,
        carrier=row.carrier or None,
    )


def _reverse(lane: Lane) -> Lane:
    return replace(
        lane,
        lane_id=lane.lane_id + REVERSE_SUFFIX,
        origin=lane.destination,
        destination=lane.origin,
        geometry=lane.geometry[::-1],
        passages=lane.passages[::-1],
        reverse_of=lane.lane_id,
    )


def _derived(
    rows: list[validate.LaneRow],
    hubs: Mapping[str, Hub],
    rules_path: Path,
    cache_dir: Path,
    sha: str,
) -> dict[str, Derived]:
    """Derived distance and geometry per lane row, from the disk cache when it matches."""
    path = cache_dir / f"network-v{CACHE_VERSION}-{sha[:24]}.json"
    cached = _read_cache(path, sha)
    if cached is not None and all(r.lane_id in cached for r in rows):
        return cached
    out = {
        r.lane_id: _rounded(
            derive(
                r.mode, hubs[r.origin].lonlat, hubs[r.destination].lonlat, rules_path, r.distance_km
            )
        )
        for r in rows
    }
    _write_cache(path, sha, out)
    return out


def _rounded(d: Derived) -> Derived:
    """Geometry at 1e-6 deg, as stored in the cache, so cold and warm loads are identical."""
    return replace(d, geometry=tuple((round(x, 6), round(y, 6)) for x, y in d.geometry))


def _read_cache(path: Path, sha: str) -> dict[str, Derived] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if doc.get("version") != CACHE_VERSION or doc.get("data_sha256") != sha:
        return None
    try:
        return {
            k: Derived(
                distance_km=v["distance_km"],
                distance_basis=DistanceBasis(v["distance_basis"]),
                distance_rules=tuple(v["distance_rules"]),
                geometry=tuple((x, y) for x, y in v["geometry"]),
                geometry_kind=v["geometry_kind"],
                passages=tuple(v["passages"]),
            )
            for k, v in doc["lanes"].items()
        }
    except (KeyError, TypeError, ValueError):
        return None


def _write_cache(path: Path, sha: str, derived: Mapping[str, Derived]) -> None:
    doc = {
        "version": CACHE_VERSION,
        "data_sha256": sha,
        "lanes": {
            k: {
                "distance_km": d.distance_km,
                "distance_basis": str(d.distance_basis),
                "distance_rules": list(d.distance_rules),
                "geometry": [list(p) for p in d.geometry],
                "geometry_kind": d.geometry_kind,
                "passages": list(d.passages),
            }
            for k, d in derived.items()
        },
    }
    # A cache that cannot be written only costs time on the next load.
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".network-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, separators=(",", ":"))
        os.replace(tmp, path)
