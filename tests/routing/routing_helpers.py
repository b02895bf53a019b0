"""Builders shared by the routing tests."""

from __future__ import annotations

from greenlane.emissions.model import DistanceBasis, Mode
from greenlane.routing.network.graph import transit_h as rule_transit_h
from greenlane.routing.network.model import Lane


def make_lane(
    lane_id: str,
    o: str,
    d: str,
    mode: Mode,
    vehicle: str,
    km: float,
    per_week: float,
    cap_t: float,
    transit_h: float | None = None,
) -> Lane:
    """A one-vehicle lane on SFD km; transit [h] from the network's rule unless given."""
    return Lane(
        lane_id=lane_id,
        origin=o,
        destination=d,
        mode=mode,
        vehicle_types=(vehicle,),
        distance_km=km,
        distance_basis=DistanceBasis.SFD,
        distance_rules=(),
        distance_source="test",
        departures_per_week=per_week,
        capacity_t_per_departure=cap_t,
        transit_h=rule_transit_h(mode, km) if transit_h is None else transit_h,
        transit_rule="test",
        geometry=(),
        geometry_kind="test",
        source="test instance",
    )
