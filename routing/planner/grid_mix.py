"""Electricity where it is used: an electric option on a lane crossing several grids.

The option's energy [MJ] is unchanged; its WTW factor is the km-weighted mix of the grids of
the lane's segments (``lane_segments.csv``), its energy price the km-weighted mix of their
prices. A segment whose country has no electricity price in the energy price table is priced
at the option's own (origin) price; the rule says so.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import DataError, FactorNotFound, InputError
from greenlane.emissions.factors import Factors, blend, co2e_of_energy_kg
from greenlane.emissions.model import EnergyCarrier
from greenlane.fleet.cost import EU_MEMBERS
from greenlane.fleet.model import EnergyPrices
from greenlane.fleet.regulation import COST_KEYS, price_cny_per_mj
from greenlane.routing.network.model import Hub
from greenlane.routing.network.segments import Segment, grid_keys

ENERGY = COST_KEYS.index("energy")


def segment_carrier(segment: Segment, f: Factors) -> EnergyCarrier:
    """The grid factor of a segment (its region's, its country's, else the EU's for a member);
    DataError naming the segment when there is none."""
    for key in grid_keys(segment, EU_MEMBERS):
        try:
            return f.carrier(key)
        except FactorNotFound:
            continue
    raise DataError(
        f"no grid factor for {segment.label} (tried {', '.join(grid_keys(segment, EU_MEMBERS))})",
        field="lane_segments.csv",
    )


def with_grid_mix(
    o: Any,
    origin: Hub,
    segments: tuple[Segment, ...],
    f: Factors,
    prices: EnergyPrices | None = None,
    data_dir: Path = DATA_DIR,
) -> Any:
    """``o`` (a ``pricing.LaneOption`` of electricity priced at ``origin``'s grid; typed Any
    since pricing imports this module) charged per segment: WTW and
    energy cost at the km-weighted mix of the segments' grids [kg, CNY]."""
    if o.carrier_obj.category != "electricity":
        return o
    parts = [(segment_carrier(s, f), s) for s in segments]
    mixed = blend([(c, s.share_km / sum(x.share_km for x in segments)) for c, s in parts])
    own = price_cny_per_mj(o.carrier_obj, origin.country, prices, data_dir)
    price = 0.0
    unpriced = []
    for c, s in parts:
        try:
            p = price_cny_per_mj(c, s.country, prices, data_dir)
        except InputError:
            p = own
            unpriced.append(s.label)
        price += p * s.share_km
    price /= sum(s.share_km for s in segments)
    ratio = price / own if own else 1.0
    rule = "grid by km: " + ", ".join(f"{s.label} {s.share_km:.1%} ({c.key})" for c, s in parts)
    if unpriced:
        rule += f"; no electricity price for {', '.join(unpriced)}: origin price used"
    vw, vt = co2e_of_energy_kg(mixed, o.vehicle_energy_mj)
    tw, tt = co2e_of_energy_kg(mixed, o.energy_mj_per_t)

    def scaled(split: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(v * ratio if i == ENERGY else v for i, v in enumerate(split))

    vsplit, tsplit = scaled(o.vehicle_split_cny), scaled(o.split_cny_per_t)
    return replace(
        o,
        carrier=mixed.key,
        carrier_obj=mixed,
        vehicle_wtw_kg=vw + vt,
        vehicle_ttw_kg=vt,
        wtw_kg_per_t=tw + tt,
        ttw_kg_per_t=tt,
        vehicle_cost_cny=sum(vsplit) if vsplit else o.vehicle_cost_cny,
        cost_cny_per_t=sum(tsplit) if tsplit else o.cost_cny_per_t,
        vehicle_split_cny=vsplit,
        split_cny_per_t=tsplit,
        distance_rules=(*o.distance_rules, rule),
    )
