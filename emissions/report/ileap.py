"""iLEAP ShipmentFootprint export (iLEAP technical specification, data model v1).

Units fixed by the spec: mass [kg], distance [km], transport activity [tkm], CO2e [kg];
every number a Decimal string without exponent, to the gram / metre / kg-km and with at
least 3 significant digits below that (a 0.1 kg parcel never exports ``0.000``); every
timestamp in UTC (``...Z``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from greenlane.emissions.errors import InputError
from greenlane.emissions.model import TCE, DistanceBasis, Footprint, Location
from greenlane.emissions.report._decimal import dec_str, dec_str_sig
from greenlane.emissions.units import t_to_kg

_ILEAP_QUANTUM = Decimal("0.001")


def _location(loc: Location | None) -> dict[str, Any] | None:
    if loc is None or not loc.name or not loc.country:
        return None
    out: dict[str, Any] = {
        "city": loc.name,
        "country": loc.country,
        "lat": dec_str(loc.lat, Decimal("0.000001")),
        "lng": dec_str(loc.lon, Decimal("0.000001")),
    }
    if loc.locode:
        out["locode"] = loc.locode
    if loc.iata:
        out["iata"] = loc.iata
    return out


def rfc3339(value: str | datetime, field: str = "datetime") -> str:
    """An ISO 8601 timestamp as RFC 3339 in UTC (``...Z``, as iLEAP and PACT require).

    An offset is converted (``2026-12-01T08:00:00+08:00`` -> ``2026-12-01T00:00:00Z``);
    naive means UTC.
    """
    try:
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(f"not an ISO 8601 date-time: {value!r}", field=field) from None
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    text = dt.isoformat()
    return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text


def _distance(tce: TCE) -> dict[str, str]:
    basis = tce.distance_basis or DistanceBasis.ACTUAL
    return {str(basis): dec_str_sig(tce.distance_km, _ILEAP_QUANTUM)}


def _tce(tce: TCE) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tceId": tce.tce_id,
        "shipmentId": tce.shipment_id,
        "mass": dec_str_sig(t_to_kg(tce.mass_t), _ILEAP_QUANTUM),
        "distance": _distance(tce),
        "transportActivity": dec_str_sig(tce.activity_tkm, _ILEAP_QUANTUM),
        "co2eWTW": dec_str_sig(tce.co2e_wtw_kg, _ILEAP_QUANTUM),
        "co2eTTW": dec_str_sig(tce.co2e_ttw_kg, _ILEAP_QUANTUM),
    }
    if tce.prev_tce_ids:
        out["prevTceIds"] = list(tce.prev_tce_ids)
    if tce.kind == "hub":
        out["hocId"] = tce.hoc_id or f"{tce.tce_id}-hoc"
    else:
        out["tocId"] = tce.toc_id or f"{tce.tce_id}-toc"
    for key, loc in (("origin", tce.origin), ("destination", tce.destination)):
        rendered = _location(loc)
        if rendered is not None:
            out[key] = rendered
    if tce.departure_at:
        out["departureAt"] = rfc3339(tce.departure_at, f"{tce.tce_id}.departure_at")
    if tce.arrival_at:
        out["arrivalAt"] = rfc3339(tce.arrival_at, f"{tce.tce_id}.arrival_at")
    return out


def to_ileap_shipment_footprint(fp: Footprint) -> dict[str, Any]:
    """The footprint as an iLEAP ``ShipmentFootprint`` object."""
    return {
        "mass": dec_str_sig(t_to_kg(fp.mass_t), _ILEAP_QUANTUM),
        "shipmentId": fp.shipment_id,
        "tces": [_tce(t) for t in fp.tces],
    }


_TAD_MODES = {
    "road": "Road",
    "rail": "Rail",
    "air": "Air",
    "sea": "Sea",
    "inland_water": "InlandWaterway",
}
"""greenlane transport mode -> iLEAP TransportMode."""


def to_ileap_tad(tce: TCE, activity_id: str) -> dict[str, Any] | None:
    """A leg as iLEAP Transport Activity Data (TAD), or None when the leg lacks what a TAD
    requires (mode, both located end points, departure and arrival times); hubs have none."""
    if tce.kind == "hub" or tce.mode is None or not tce.departure_at or not tce.arrival_at:
        return None
    origin, destination = _location(tce.origin), _location(tce.destination)
    if origin is None or destination is None:
        return None
    return {
        "activityId": activity_id,
        "consignmentIds": [tce.shipment_id],
        "distance": _distance(tce),
        "mass": dec_str_sig(t_to_kg(tce.mass_t), _ILEAP_QUANTUM),
        "origin": origin,
        "destination": destination,
        "departureAt": rfc3339(tce.departure_at, f"{tce.tce_id}.departure_at"),
        "arrivalAt": rfc3339(tce.arrival_at, f"{tce.tce_id}.arrival_at"),
        "mode": _TAD_MODES[str(tce.mode)],
    }
