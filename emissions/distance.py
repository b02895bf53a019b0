"""Distances: great-circle on WGS84, sea-lane routes, and the ISO 14083 adjustment rules.

The adjustment rules (DAF) live in ``data/distance_rules.csv``; each conversion reports the
rules it applied so a TCE can show how its distance was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pyproj import Geod

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import InputError
from greenlane.emissions.model import DistanceBasis, Mode
from greenlane.emissions.tables import TableRow, Text, Year, read_table
from greenlane.emissions.units import M_PER_KM

_GEOD = Geod(ellps="WGS84")
_BASES = (DistanceBasis.GCD, DistanceBasis.SFD, DistanceBasis.ACTUAL)


@dataclass(frozen=True, slots=True)
class DistanceRule:
    """One adjustment step between two distance bases of a mode."""

    mode: Mode
    from_basis: DistanceBasis
    to_basis: DistanceBasis
    operation: str
    value: float
    source: str
    quality: str

    def describe(self, inverse: bool = False) -> str:
        """Human-readable rule, e.g. ``road: actual = sfd x 1.05``."""
        op = "x" if self.operation == "multiply" else "+"
        unit = " km" if self.operation == "add_km" else ""
        text = f"{self.mode}: {self.to_basis} = {self.from_basis} {op} {self.value:g}{unit}"
        return f"{text} (inverted)" if inverse else text


class DistanceRuleRow(TableRow):
    """A row of ``distance_rules.csv``: ``to_basis = from_basis x value`` (or ``+ value`` km)."""

    mode: Mode
    from_basis: DistanceBasis
    to_basis: DistanceBasis
    operation: Literal["multiply", "add_km"]
    value: float
    source: Text
    year: Year
    licence: Text
    quality: Text
    note: str = ""


@cache
def distance_rules(path: Path | None = None) -> dict[tuple[Mode, DistanceBasis], DistanceRule]:
    """Load the adjustment rules, keyed by (mode, from_basis) for the next basis up."""
    rules: dict[tuple[Mode, DistanceBasis], DistanceRule] = {}
    for row in read_table(path or DATA_DIR / "distance_rules.csv", DistanceRuleRow):
        rule = DistanceRule(
            mode=row.mode,
            from_basis=row.from_basis,
            to_basis=row.to_basis,
            operation=row.operation,
            value=row.value,
            source=row.source,
            quality=row.quality,
        )
        rules[(rule.mode, rule.from_basis)] = rule
    return rules


def _apply(rule: DistanceRule, distance_km: float, inverse: bool) -> float:
    if rule.operation == "multiply":
        return distance_km / rule.value if inverse else distance_km * rule.value
    return distance_km - rule.value if inverse else distance_km + rule.value


def convert_distance_km(
    distance_km: float, mode: Mode, from_basis: DistanceBasis, to_basis: DistanceBasis
) -> tuple[float, tuple[str, ...]]:
    """Convert a distance between bases (gcd -> sfd -> actual and back) [km].

    Returns the converted distance and the rules applied, in order.
    """
    i, j = _BASES.index(from_basis), _BASES.index(to_basis)
    rules = distance_rules()
    applied: list[str] = []
    step = 1 if j > i else -1
    for k in range(i, j, step):
        lower = _BASES[k] if step > 0 else _BASES[k - 1]
        rule = rules.get((mode, lower))
        if rule is None:
            raise InputError(
                f"no rule converts {mode} distances between {_BASES[k]} and {_BASES[k + step]}",
                field="distance_basis",
            )
        distance_km = _apply(rule, distance_km, inverse=step < 0)
        applied.append(rule.describe(inverse=step < 0))
    return distance_km, tuple(applied)


@dataclass(frozen=True, slots=True)
class LegDistance:
    """A leg's distance on its stated basis and on the two bases the accounting uses [km].

    ``sfd_km`` is the shortest feasible distance that transport activity [tkm] is measured on
    (ISO 14083 §3, §7.2); ``actual_km`` is the distance driven, sailed or flown that the vehicle
    burns energy over. Both follow from the stated distance by ``data/distance_rules.csv``.
    """

    stated_km: float
    stated_basis: DistanceBasis
    sfd_km: float
    actual_km: float
    rules: tuple[str, ...]


def leg_distances(distance_km: float, mode: Mode, basis: DistanceBasis) -> LegDistance:
    """The one distance rule of every leg: stated km -> SFD (activity) and actual (energy) [km]."""
    if not distance_km > 0:
        raise InputError(f"must be > 0 km, got {distance_km!r}", field="distance_km")
    sfd, to_sfd = convert_distance_km(distance_km, mode, basis, DistanceBasis.SFD)
    actual, to_actual = convert_distance_km(distance_km, mode, basis, DistanceBasis.ACTUAL)
    rules = (
        f"{mode}: {distance_km:.3f} km {basis} -> SFD {sfd:.3f} km (activity), "
        f"actual {actual:.3f} km (energy)",
        *dict.fromkeys((*to_sfd, *to_actual)),
    )
    return LegDistance(distance_km, basis, sfd, actual, rules)


def gcd_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (geodesic) distance on the WGS84 ellipsoid [km]."""
    _, _, dist_m = _GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist_m) / M_PER_KM


def great_circle_points(
    lat1: float, lon1: float, lat2: float, lon2: float, n: int = 32
) -> list[tuple[float, float]]:
    """Points along the geodesic as ``(lon, lat)`` pairs including both ends."""
    mid = _GEOD.npts(lon1, lat1, lon2, lat2, max(n - 2, 0))
    return [(lon1, lat1), *((float(x), float(y)) for x, y in mid), (lon2, lat2)]


@dataclass(frozen=True, slots=True)
class SeaRoute:
    """A sea-lane route: length [km], geometry as ``(lon, lat)`` pairs, passages traversed."""

    distance_km: float
    coordinates: tuple[tuple[float, float], ...]
    passages: tuple[str, ...]


def sea_route(
    origin_lonlat: tuple[float, float],
    destination_lonlat: tuple[float, float],
    restrictions: tuple[str, ...] = ("northwest",),
) -> SeaRoute:
    """Shortest sea-lane route by the ``searoute`` network (Eurostat SeaRoute, offline) [km].

    ``restrictions`` names passages to avoid (e.g. ``"suez"``, ``"babalmandab"``); by default
    only the Northwest passage is closed, as in ``searoute`` itself.
    """
    import searoute

    feature = searoute.searoute(
        list(origin_lonlat),
        list(destination_lonlat),
        units="km",
        restrictions=list(restrictions),
        return_passages=True,
    )
    props = feature["properties"]
    coords = tuple((float(x), float(y)) for x, y in feature["geometry"]["coordinates"])
    return SeaRoute(
        distance_km=float(props["length"]),
        coordinates=coords,
        passages=tuple(props.get("traversed_passages") or ()),
    )
