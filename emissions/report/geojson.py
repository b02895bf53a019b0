"""GeoJSON (RFC 7946) of footprints: one line per leg TCE, one point per hub TCE.

Coordinates are ``[lon, lat]`` rounded to 6 dp (about 0.1 m), with longitudes in
[-180, 180]: a leg crossing the antimeridian becomes a MultiLineString. A leg without geometry
is drawn straight from origin to destination (``geometry_source = "origin-destination"``, a
schematic line, not the path); a TCE without any location keeps ``geometry: null``.
Properties repeat the CSV columns (numbers as JSON numbers) plus simplestyle keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from greenlane.emissions.geo import (
    HUB_COLOUR,
    MODE_COLOURS,
    MODE_DASHES,
    LonLat,
    normalise_lon,
    split_antimeridian,
)
from greenlane.emissions.model import TCE, Footprint, Location
from greenlane.emissions.report.tables import as_footprints, tce_record

COORD_DP = 6
"""Decimal places of coordinates [deg] (RFC 7946 §11.2 suggests 6)."""
STROKE_WIDTH = 3
"""Line width of leg features [px]."""
STROKE_OPACITY = 0.9
"""Line opacity of leg features [-]."""


def _r(x: float) -> float:
    return round(x, COORD_DP) + 0.0  # + 0.0 turns -0.0 into 0.0


def line_geometry(coords: Sequence[LonLat]) -> dict[str, Any] | None:
    """A LineString, or a MultiLineString when cut at +-180 deg; ``None`` for < 2 points."""
    parts = [[[_r(lon), _r(lat)] for lon, lat in p] for p in split_antimeridian(coords)]
    if not parts:
        return None
    if len(parts) == 1:
        return {"type": "LineString", "coordinates": parts[0]}
    return {"type": "MultiLineString", "coordinates": parts}


def _point(loc: Location) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [_r(normalise_lon(loc.lon)), _r(loc.lat)]}


def _geometry(tce: TCE) -> tuple[dict[str, Any] | None, str | None]:
    if tce.kind == "hub":
        loc = tce.origin or tce.destination
        return (_point(loc), "hub location") if loc else (None, None)
    if len(tce.geometry) >= 2:
        geom = line_geometry(tce.geometry)
        if geom is not None:
            return geom, "tce geometry"
    if tce.origin and tce.destination:
        straight = ((tce.origin.lon, tce.origin.lat), (tce.destination.lon, tce.destination.lat))
        geom = line_geometry(straight)
        if geom is not None:
            return geom, "origin-destination"
    return None, None


def _json(value: object) -> object:
    return float(value) if isinstance(value, Decimal) else value


def tce_feature(tce: TCE) -> dict[str, Any]:
    """One TCE as a GeoJSON Feature with the CSV columns and simplestyle properties."""
    geometry, source = _geometry(tce)
    props: dict[str, Any] = {k: _json(v) for k, v in tce_record(tce).items()}
    props["prev_tce_ids"] = list(tce.prev_tce_ids)
    props["geometry_source"] = source
    if tce.kind == "hub":
        props |= {"marker-color": HUB_COLOUR, "marker-size": "small", "marker-symbol": "warehouse"}
    elif tce.mode is not None:
        props |= {
            "stroke": MODE_COLOURS[tce.mode],
            "stroke-width": STROKE_WIDTH,
            "stroke-opacity": STROKE_OPACITY,
            "stroke-dasharray": MODE_DASHES[tce.mode],
        }
    return {"type": "Feature", "id": tce.tce_id, "geometry": geometry, "properties": props}


def footprints_to_geojson(footprints: Footprint | Sequence[Footprint]) -> dict[str, Any]:
    """RFC 7946 FeatureCollection of every TCE, in shipment and chain order."""
    return {
        "type": "FeatureCollection",
        "features": [tce_feature(t) for fp in as_footprints(footprints) for t in fp.tces],
    }
