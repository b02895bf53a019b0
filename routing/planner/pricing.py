"""Price every lane option: cost from ``fleet``, CO2e from ``emissions``, linear in tonnes.

A lane option is a lane with one vehicle type and energy carrier. Two service kinds:

* **scheduled** (sea, rail, air, inland water): a carrier's departure at its average load; the
  shipment pays and emits per tonne (ISO 14083 allocation by tkm at the vehicle's default load
  factor and empty running); the lane's ``capacity_t_per_departure`` binds.
* **dedicated** (road): whole trucks. A truck carrying M t over d km with empty share er uses
  ``d (E0 / (1 - er) + s M)`` MJ for E(M) = E0 + s M, so cost and CO2e split exactly into a
  per-vehicle part and a per-tonne part, and consolidating shipments into fewer trucks is
  rewarded in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import Field

from greenlane.data import DATA_DIR
from greenlane.emissions.distance import convert_distance_km
from greenlane.emissions.errors import DataError, InputError
from greenlane.emissions.factors import Factors, co2e_of_energy_kg, load_factors
from greenlane.emissions.model import DistanceBasis, EnergyCarrier, Mode
from greenlane.emissions.tables import TableRow, Text, read_table
from greenlane.fleet import energy_mj_per_km, leg_cost_cny, profile, vehicle_type
from greenlane.fleet.cost import EU_MEMBERS
from greenlane.fleet.model import EnergyPrices, VehicleType
from greenlane.routing.network.model import Hub, Lane

FOSSIL = frozenset({"fossil", "grid", "mixed"})
"""Carrier origins of the 2023 business-as-usual fleet (``carriers='fossil'``)."""
DEDICATED_MODES = frozenset({Mode.ROAD})
"""Modes planned as whole vehicles (consolidation); the others are scheduled services."""
HOURS_PER_WEEK = 168.0


@dataclass(frozen=True, slots=True)
class LaneOption:
    """One way to run a lane: vehicle type + carrier, priced per vehicle and per tonne.

    Distances [km] are actual (SFD x DAF) for energy; ``distance_km`` and ``distance_basis``
    are what the TCE reports. Costs [CNY], emissions [kg CO2e], energy [MJ].
    """

    lane: Lane
    vehicle_id: str
    carrier: str
    carrier_obj: EnergyCarrier
    dedicated: bool
    distance_km: float
    distance_basis: DistanceBasis
    distance_rules: tuple[str, ...]
    vehicle_payload_t: float
    vehicle_cost_cny: float
    cost_cny_per_t: float
    vehicle_energy_mj: float
    energy_mj_per_t: float
    vehicle_wtw_kg: float
    wtw_kg_per_t: float
    vehicle_ttw_kg: float
    ttw_kg_per_t: float
    transit_h: float
    interval_h: float
    capacity_t: float

    @property
    def key(self) -> str:
        """Stable id ``lane|vehicle|carrier``."""
        return f"{self.lane.lane_id}|{self.vehicle_id}|{self.carrier}"

    def alone_cost_cny(self, mass_t: float) -> float:
        """Cost if the shipment travelled alone [CNY] (whole trucks when dedicated)."""
        return self.vehicles_for(mass_t) * self.vehicle_cost_cny + self.cost_cny_per_t * mass_t

    def alone_wtw_kg(self, mass_t: float) -> float:
        """WTW emissions if the shipment travelled alone [kg CO2e]."""
        return self.vehicles_for(mass_t) * self.vehicle_wtw_kg + self.wtw_kg_per_t * mass_t

    def vehicles_for(self, mass_t: float) -> int:
        """Whole vehicles needed for ``mass_t`` alone (0 for scheduled services)."""
        if not self.dedicated:
            return 0
        return max(1, -int(-mass_t // self.vehicle_payload_t))


@dataclass(frozen=True, slots=True)
class HubOperation:
    """What a hub of a kind adds to a shipment passing it: HOC, dwell [h], handling [CNY/t]."""

    kind: str
    hoc_id: str | None
    dwell_h: float
    handling_cost_cny_per_t: float
    source: str


class HubOperationRow(TableRow):
    """A row of ``hub_operations.csv``: HOC, dwell [h] and handling [CNY/t] of a hub kind."""

    kind: Text
    hoc_id: str
    dwell_h: Annotated[float, Field(ge=0.0)]
    handling_cost_cny_per_t: Annotated[float, Field(ge=0.0)]
    data_quality: str
    source: Text
    note: str = ""


class SafBlendRow(TableRow):
    """A row of ``saf_blends.csv``: a SAF share by energy offered on air lanes [-]."""

    energy_share: Annotated[float, Field(gt=0.0, le=1.0)]
    source: Text
    note: str = ""


@cache
def hub_operations(data_dir: Path = DATA_DIR) -> dict[str, HubOperation]:
    """Hub operations by hub kind from ``data/hub_operations.csv``."""
    return {
        row.kind: HubOperation(
            kind=row.kind,
            hoc_id=row.hoc_id or None,
            dwell_h=row.dwell_h,
            handling_cost_cny_per_t=row.handling_cost_cny_per_t,
            source=row.source,
        )
        for row in read_table(data_dir / "hub_operations.csv", HubOperationRow)
    }


@cache
def saf_blend_shares(data_dir: Path = DATA_DIR) -> tuple[float, ...]:
    """SAF energy shares offered on air lanes, from ``data/saf_blends.csv`` [-]."""
    return tuple(r.energy_share for r in read_table(data_dir / "saf_blends.csv", SafBlendRow))


def _offers(vehicle_carriers: tuple[str, ...], hub: Hub) -> list[tuple[str, float | None]]:
    """(carrier, SAF share) offers: SAF only as certified blends with jet kerosene."""
    out: list[tuple[str, float | None]] = []
    for key in _carriers_for(vehicle_carriers, hub):
        if key.startswith("saf_"):
            out += [(key, share) for share in saf_blend_shares()]
        else:
            out.append((key, None))
    return out


def _carriers_for(vehicle_carriers: tuple[str, ...], hub: Hub) -> tuple[str, ...]:
    """Carriers a vehicle may use on a lane: electricity is the origin's regional grid."""
    grid = [c for c in vehicle_carriers if c.startswith("electricity")]
    others = tuple(c for c in vehicle_carriers if not c.startswith("electricity"))
    if not grid:
        return others
    region = hub.region.lower().replace("-", "_")
    country = hub.country.lower()
    eu = ("electricity_eu",) if hub.country.upper() in EU_MEMBERS else ()
    for candidate in (f"electricity_{region}", f"electricity_{country}", *eu):
        if candidate in grid:
            return (*others, candidate)
    return others  # no grid factor for this country: electric options are not offered


def price_lane(
    lane: Lane,
    origin: Hub,
    factors: Factors | None = None,
    carriers: str = "all",
    prices: EnergyPrices | None = None,
) -> list[LaneOption]:
    """All priced options of a lane (every vehicle type x allowed carrier).

    ``prices`` is the energy price table (default: the shipped one)."""
    f = factors or load_factors()
    actual_km, rules = convert_distance_km(
        lane.distance_km, lane.mode, lane.distance_basis, DistanceBasis.ACTUAL
    )
    options = []
    for vid in lane.vehicle_types:
        vehicle = vehicle_type(vid, "vehicle_types")
        if out_of_range(vehicle, lane, actual_km):
            continue  # no charging/refuelling stops are planned on a lane: not offered
        offers = _offers(vehicle.energy_carriers, origin)
        if carriers == "fossil":
            offers = [o for o in offers if o[1] is None and f.carrier(o[0]).origin in FOSSIL]
        for key, saf in offers:
            try:
                options.append(
                    _price(lane, origin, vehicle.type_id, key, saf, actual_km, rules, f, prices)
                )
            except InputError:
                continue  # no energy price for this carrier in the region: not sold there
    if not options:
        raise DataError(
            "no vehicle type/carrier of the lane is priced in its region",
            field=f"lanes.csv[{lane.lane_id}]",
        )
    return options


def out_of_range(vehicle: VehicleType, lane: Lane, actual_km: float) -> bool:
    """True when a battery or fuel-cell truck cannot run the road lane's ``actual_km`` [km]
    on one charge or tank (its ``range_km``): such an option is not offered."""
    if lane.mode not in DEDICATED_MODES or not (vehicle.is_bev or vehicle.is_fcev):
        return False
    return vehicle.range_km is not None and actual_km > vehicle.range_km


def _price(
    lane: Lane,
    origin: Hub,
    vid: str,
    key: str,
    saf: float | None,
    actual_km: float,
    rules: tuple[str, ...],
    f: Factors,
    prices: EnergyPrices | None = None,
) -> LaneOption:
    vehicle = vehicle_type(vid, "vehicle_types")
    carrier: EnergyCarrier = f.carrier(key)
    er = vehicle.default_empty_running_share
    interval = HOURS_PER_WEEK / lane.departures_per_week
    distance_rules = (*lane.distance_rules, *rules)
    if lane.mode in DEDICATED_MODES:
        payload = vehicle.payload_max_t
        c0 = float(
            leg_cost_cny(
                vehicle,
                key,
                origin.country,
                0.0,
                actual_km,
                lane.transit_h,
                empty_running_share=er,
                factors=f,
                prices=prices,
            ).total_cny
        )
        c1 = float(
            leg_cost_cny(
                vehicle,
                key,
                origin.country,
                payload,
                actual_km,
                lane.transit_h,
                empty_running_share=er,
                factors=f,
                prices=prices,
            ).total_cny
        )
        e0 = energy_mj_per_km(vehicle, 0.0) * actual_km / (1 - er)
        slope = (energy_mj_per_km(vehicle, payload) - energy_mj_per_km(vehicle, 0.0)) / payload
        e_t = slope * actual_km
        (w0, t0), (w1, t1) = co2e_of_energy_kg(carrier, e0), co2e_of_energy_kg(carrier, e_t)
        return LaneOption(
            lane=lane,
            vehicle_id=vid,
            carrier=key,
            carrier_obj=carrier,
            dedicated=True,
            distance_km=actual_km,
            distance_basis=DistanceBasis.ACTUAL,
            distance_rules=distance_rules,
            vehicle_payload_t=payload,
            vehicle_cost_cny=c0,
            cost_cny_per_t=(c1 - c0) / payload,
            vehicle_energy_mj=e0,
            energy_mj_per_t=e_t,
            vehicle_wtw_kg=w0 + t0,
            wtw_kg_per_t=w1 + t1,
            vehicle_ttw_kg=t0,
            ttw_kg_per_t=t1,
            transit_h=lane.transit_h,
            interval_h=interval,
            capacity_t=lane.capacity_t_per_departure,
        )
    prof = profile(vid, key, saf_share=saf, factors=f)
    payload = vehicle.default_payload_t
    cost = float(
        leg_cost_cny(
            vehicle,
            key,
            origin.country,
            payload,
            actual_km,
            lane.transit_h,
            saf_share=saf,
            empty_running_share=er,
            factors=f,
            prices=prices,
        ).total_cny
    )
    e_t = prof.energy_mj_per_tkm * actual_km
    wtt, ttw = co2e_of_energy_kg(prof.carrier, e_t)
    return LaneOption(
        lane=lane,
        vehicle_id=vid,
        carrier=prof.carrier.key,
        carrier_obj=prof.carrier,
        dedicated=False,
        distance_km=actual_km,
        distance_basis=DistanceBasis.ACTUAL,
        distance_rules=distance_rules,
        vehicle_payload_t=payload,
        vehicle_cost_cny=0.0,
        cost_cny_per_t=cost / payload,
        vehicle_energy_mj=0.0,
        energy_mj_per_t=e_t,
        vehicle_wtw_kg=0.0,
        wtw_kg_per_t=wtt + ttw,
        vehicle_ttw_kg=0.0,
        ttw_kg_per_t=ttw,
        transit_h=lane.transit_h,
        interval_h=interval,
        capacity_t=lane.capacity_t_per_departure,
    )
