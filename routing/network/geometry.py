"""Lane distance and geometry by mode (antimeridian handling lives in ``emissions.geo``).

- sea: the ``searoute`` sea-lane path (SFD basis) and its line;
- air: great circle (GCD basis; ``emissions`` adds the 95 km later) as densified points;
- road, rail, inland water: GCD x the mode's detour factor from ``distance_rules.csv`` (SFD
  basis), drawn as a great-circle line labelled "GCD x DAF";
- any mode with a sourced route length: that length (``actual`` basis), drawn as above.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from greenlane.emissions.distance import distance_rules, gcd_km, great_circle_points, sea_route
from greenlane.emissions.errors import DataError
from greenlane.emissions.geo import LonLat, normalise_lon, split_antimeridian, unwrap
from greenlane.emissions.model import DistanceBasis, Mode

__all__ = [
    "GC_POINTS_PER_1000_KM",
    "Derived",
    "LonLat",
    "derive",
    "gcd_to_sfd_km",
    "normalise_lon",
    "split_antimeridian",
    "unwrap",
]

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


def derive(
    mode: Mode, a: LonLat, b: LonLat, rules_path: Path, actual_km: float | None = None
) -> Derived:
    """Distance and geometry of a lane from hub ``a`` to hub ``b`` given as ``(lon, lat)``."""
    gcd = gcd_km(a[1], a[0], b[1], b[0])
    if mode == Mode.SEA:
        route = sea_route(a, b)
        line = unwrap(route.coordinates)
        if actual_km is not None:
            return Derived(actual_km, DistanceBasis.ACTUAL, (), line, "searoute", route.passages)
        return Derived(
            route.distance_km,
            DistanceBasis.SFD,
            ("sea: sfd = searoute sea-lane path",),
            line,
            "searoute",
            route.passages,
        )
    line = _gc_line(a, b, gcd)
    if actual_km is not None:
        return Derived(actual_km, DistanceBasis.ACTUAL, (), line, "great circle (schematic)")
    if mode == Mode.AIR:
        return Derived(gcd, DistanceBasis.GCD, (), line, "great circle")
    sfd, rule = gcd_to_sfd_km(gcd, mode, rules_path)
    return Derived(sfd, DistanceBasis.SFD, (rule,), line, "great circle, labelled GCD x DAF")
