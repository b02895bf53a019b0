"""Map conventions shared by every map output: ``[lon, lat]`` order, the antimeridian, colours.

Coordinates are ``(lon, lat)`` pairs in degrees on WGS84 (RFC 7946 order). Paths may come
*unwrapped* (no jump between points exceeds 180 deg, so longitudes can leave [-180, 180], as
searoute returns them); :func:`split_antimeridian` cuts them at +-180 deg for GeoJSON files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise

from greenlane.emissions.model import Mode

LonLat = tuple[float, float]
"""A point as ``(lon, lat)`` [deg]."""

HALF_TURN_DEG = 180.0
"""The antimeridian [deg]."""
FULL_TURN_DEG = 360.0
"""One turn of longitude [deg]."""

MODE_COLOURS: Mapping[Mode, str] = {
    Mode.ROAD: "#E69F00",
    Mode.RAIL: "#009E73",
    Mode.SEA: "#0072B2",
    Mode.AIR: "#CC79A7",
    Mode.INLAND_WATER: "#56B4E9",
}
"""Okabe-Ito colour per mode (colour-blind safe): GeoJSON ``stroke``, PDF, UI."""

HUB_COLOUR = "#000000"
"""Okabe-Ito black for hub markers."""

MODE_DASHES: Mapping[Mode, str | None] = {
    Mode.ROAD: None,
    Mode.RAIL: "12 6",
    Mode.SEA: "6 6",
    Mode.AIR: "2 6",
    Mode.INLAND_WATER: "6 3 2 3",
}
"""Dash pattern per mode (SVG ``stroke-dasharray``, ``None`` = solid): a second channel."""


def normalise_lon(lon: float) -> float:
    """Longitude in [-180, 180) [deg]."""
    return (lon + HALF_TURN_DEG) % FULL_TURN_DEG - HALF_TURN_DEG


def unwrap(coords: Sequence[LonLat]) -> tuple[LonLat, ...]:
    """Shift longitudes by 360 deg so no step between points exceeds 180 deg [deg]."""
    out: list[LonLat] = []
    offset = 0.0
    prev: float | None = None
    for lon, lat in coords:
        if prev is not None:
            step = lon + offset - prev
            if step > HALF_TURN_DEG:
                offset -= FULL_TURN_DEG
            elif step < -HALF_TURN_DEG:
                offset += FULL_TURN_DEG
        out.append((lon + offset, lat))
        prev = lon + offset
    return tuple(out)


def _turn(lon: float) -> int:
    """Index of the 360 deg band holding ``lon`` (0 for [-180, 180))."""
    return math.floor((lon + HALF_TURN_DEG) / FULL_TURN_DEG)


def split_antimeridian(coords: Sequence[LonLat]) -> list[list[LonLat]]:
    """Cut a line at +-180 deg into parts with longitudes in [-180, 180] (RFC 7946 §3.1.9).

    The line is first unwrapped (the short way between consecutive points). Crossing points
    are interpolated linearly in lon/lat and repeated on both sides (``180`` on the eastern
    part, ``-180`` on the western one, or vice versa). Parts of fewer than two distinct points
    are dropped, so a one-point line gives ``[]``.
    """
    line = unwrap(coords)
    if not line:
        return []
    parts: list[list[LonLat]] = []
    k0 = _turn(line[0][0])
    current: list[LonLat] = [(line[0][0] - FULL_TURN_DEG * k0, line[0][1])]
    for (lon1, lat1), (lon2, lat2) in pairwise(line):
        k1, k2 = _turn(lon1), _turn(lon2)
        while k1 != k2:
            step = 1 if k2 > k1 else -1
            edge = FULL_TURN_DEG * (k1 + (1 if step > 0 else 0)) - HALF_TURN_DEG
            t = (edge - lon1) / (lon2 - lon1)
            lat = lat1 + t * (lat2 - lat1)
            current.append((HALF_TURN_DEG if step > 0 else -HALF_TURN_DEG, lat))
            parts.append(current)
            current = [(-HALF_TURN_DEG if step > 0 else HALF_TURN_DEG, lat)]
            k1 += step
        current.append((lon2 - FULL_TURN_DEG * k2, lat2))
    parts.append(current)
    return [p for p in parts if len(set(p)) >= 2]
