"""Lane distance and geometry by mode, and antimeridian handling for GeoJSON.

- sea: the ``searoute`` sea-lane path (SFD basis) and its line;
- air: great circle (GCD basis; ``emissions`` adds the 95 km later) as densified points;
- road, rail, inland water: GCD x the mode's detour factor from ``distance_rules.csv`` (SFD
  basis), drawn as a great-circle line labelled "GCD x DAF";
- any mode with a sourced route length: that length (``actual`` basis), drawn as above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from emissions.distance import distance_rules, gcd_km, great_circle_points, sea_route
from emissions.errors import DataError
from emissions.model import DistanceBasis, Mode

LonLat = tuple[float, float]

GC_POINTS_PER_1000_KM = 4
"""Density of great-circle geometry [points per 1000 km] (at least 3 points per line)."""


@dataclass(frozen=True, slots=True)
class Derived:
    """Distance [km], basis, rules and geometry derived for one lane row."""

    distance_km: float
    distance_basis: DistanceBasis
    distance_rules: tuple[str, ...]
    geometry: tuple[LonLat, ...]
    geometry_kind: str
    passages: tuple[str, ...] = ()


def unwrap(coords: list[LonLat] | tuple[LonLat, ...]) -> tuple[LonLat, ...]:
    """Shift longitudes by 360 deg so no step between points exceeds 180 deg [deg]."""
    out: list[LonLat] = []
    offset = 0.0
    prev: float | None = None
    for lon, lat in coords:
        if prev is not None:
            step = lon + offset - prev
            if step > 180.0:
                offset -= 360.0
            elif step < -180.0:
                offset += 360.0
        out.append((lon + offset, lat))
        prev = lon + offset
    return tuple(out)


def _wrap(lon: float) -> float:
    return (lon + 180.0) % 360.0 - 180.0


def split_antimeridian(coords: tuple[LonLat, ...] | list[LonLat]) -> list[list[LonLat]]:
    """Cut a line at +-180 deg into parts with longitudes in [-180, 180] (RFC 7946 §3.1.9).

    Crossing points are interpolated linearly in lon/lat and repeated on both sides
    (``180`` on the eastern part, ``-180`` on the western one, or vice versa).
    """
    line = unwrap(coords)
    if not line:
        return []
    parts: list[list[LonLat]] = []
    k0 = math.floor((line[0][0] + 180.0) / 360.0)
    current: list[LonLat] = [(line[0][0] - 360.0 * k0, line[0][1])]
    for (lon1, lat1), (lon2, lat2) in pairwise(line):
        k1 = math.floor((lon1 + 180.0) / 360.0)
        k2 = math.floor((lon2 + 180.0) / 360.0)
        while k1 != k2:
            step = 1 if k2 > k1 else -1
            edge = 360.0 * (k1 + (1 if step > 0 else 0)) - 180.0
            t = (edge - lon1) / (lon2 - lon1)
            lat = lat1 + t * (lat2 - lat1)
            current.append((180.0 if step > 0 else -180.0, lat))
            parts.append(current)
            current = [(-180.0 if step > 0 else 180.0, lat)]
            k1 += step
        current.append((lon2 - 360.0 * k2, lat2))
    parts.append(current)
    return [p for p in parts if len(set(p)) >= 2]


def normalise_lon(lon: float) -> float:
    """Longitude in [-180, 180) [deg]."""
    return _wrap(lon)


def _gc_line(a: LonLat, b: LonLat, distance_km: float) -> tuple[LonLat, ...]:
    # n >= 3: emissions.distance.great_circle_points(n=2) asks pyproj for 0 points and fails
    n = max(3, int(distance_km / 1000.0 * GC_POINTS_PER_1000_KM) + 2)
    pts = great_circle_points(a[1], a[0], b[1], b[0], n=n)
    return unwrap(pts)


def gcd_to_sfd_km(distance_km: float, mode: Mode, rules_path: Path) -> tuple[float, str]:
    """Apply the mode's GCD -> SFD adjustment rule from ``distance_rules.csv`` [km]."""
    rule = distance_rules(rules_path).get((mode, DistanceBasis.GCD))
    if rule is None or rule.to_basis != DistanceBasis.SFD:
        raise DataError(f"no gcd -> sfd rule for mode {mode}", field=str(rules_path))
    if rule.operation == "multiply":
        return distance_km * rule.value, rule.describe()
    return distance_km + rule.value, rule.describe()


def derive(mode: Mode, a: LonLat, b: LonLat, rules_path: Path,
           actual_km: float | None = None) -> Derived:
    """Distance and geometry of a lane from hub ``a`` to hub ``b`` given as ``(lon, lat)``."""
    gcd = gcd_km(a[1], a[0], b[1], b[0])
    if mode == Mode.SEA:
        route = sea_route(a, b)
        line = unwrap(route.coordinates)
        if actual_km is not None:
            return Derived(actual_km, DistanceBasis.ACTUAL, (), line, "searoute",
                           route.passages)
        return Derived(route.distance_km, DistanceBasis.SFD, ("sea: sfd = searoute sea-lane path",),
                       line, "searoute", route.passages)
    line = _gc_line(a, b, gcd)
    if actual_km is not None:
        return Derived(actual_km, DistanceBasis.ACTUAL, (), line, "great circle (schematic)")
    if mode == Mode.AIR:
        return Derived(gcd, DistanceBasis.GCD, (), line, "great circle")
    sfd, rule = gcd_to_sfd_km(gcd, mode, rules_path)
    return Derived(sfd, DistanceBasis.SFD, (rule,), line, "great circle, labelled GCD x DAF")
