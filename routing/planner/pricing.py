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

from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import Field

from greenlane.data import DATA_DIR
from greenlane.emissions.carriers import CarrierIntensities, CarrierIntensity
from greenlane.emissions.distance import convert_distance_km
from greenlane.emissions.errors import DataError, InputError
from greenlane.emissions.factors import Factors, co2e_of_energy_kg, load_factors
from greenlane.emissions.model import DistanceBasis, EnergyCarrier, Mode
from greenlane.emissions.tables import TableRow, Text, read_table
from greenlane.emissions.units import g_per_tkm_to_kg
from greenlane.fleet import energy_mj_per_km, leg_cost_cny, profile, vehicle_type
from greenlane.fleet.cost import EU_MEMBERS, Cost, energy_price
from greenlane.fleet.energy import SAF_DEFAULT, SAF_FOSSIL
from greenlane.fleet.model import EnergyPrices, VehicleType
from greenlane.fleet.rates import rate_card_for
from greenlane.fleet.regulation import (
    COST_KEYS,
    LegActivity,
    Regulation,
    price_cny_per_mj,
    regulatory_costs_cny,
    regulatory_table,
    saf_mandate_cny,
    saf_mandate_shares,
    synthetic_premium_cny_per_mj,
)
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
    vehicle_split_cny: tuple[float, ...] = ()
    """``vehicle_cost_cny`` by :data:`~greenlane.fleet.regulation.COST_KEYS` [CNY]."""
    split_cny_per_t: tuple[float, ...] = ()
    """``cost_cny_per_t`` by :data:`~greenlane.fleet.regulation.COST_KEYS` [CNY/t]."""
    regulatory_rules: tuple[str, ...] = ()
    price_basis: str = "operating_cost"
    """How the leg is priced: ``operating_cost`` (vehicle cost model + energy, the company's
    own fleet) or ``rate_card:<rate_id>`` (what a carrier charges, ``data/rate_cards.csv``)."""
    intensity: CarrierIntensity | None = None
    """The lane carrier's TOC that sets the emissions (None: modelled from energy)."""
    card_cny_per_t: float = 0.0
    """A rate card's freight per chargeable tonne [CNY/t] (0: not at a card)."""
    volumetric_t_per_m3: float = 0.0
    """Chargeable tonnes per m3 of the card's volumetric rule [t/m3] (0: actual weight)."""
    min_charge_cny: float = 0.0
    """The card's minimum freight per shipment [CNY] (0: none)."""
    price_rules: tuple[str, ...] = ()
    """How the card priced the leg (rate, fx rate and date, surcharges)."""

    def shipment_extra_cny(self, mass_t: float, volume_m3: float | None) -> float:
        """Freight a shipment of ``mass_t`` [t] and ``volume_m3`` [m3] pays above
        ``card_cny_per_t`` x mass: its volumetric excess and the minimum charge [CNY]."""
        if not self.card_cny_per_t:
            return 0.0
        chargeable_t = mass_t
        if self.volumetric_t_per_m3 and volume_m3:
            chargeable_t = max(mass_t, volume_m3 * self.volumetric_t_per_m3)
        freight = max(self.min_charge_cny, self.card_cny_per_t * chargeable_t)
        return freight - self.card_cny_per_t * mass_t

    def cost_breakdown_cny(self, vehicles: float, mass_t: float) -> dict[str, float]:
        """Cost of ``vehicles`` whole vehicles (fractional: a mass share) and ``mass_t`` [t]
        by component (freight, energy, toll, eu_ets, fueleu, saf_mandate, ets2) [CNY]."""
        v = self.vehicle_split_cny or (self.vehicle_cost_cny, *[0.0] * (len(COST_KEYS) - 1))
        t = self.split_cny_per_t or (self.cost_cny_per_t, *[0.0] * (len(COST_KEYS) - 1))
        return {k: vehicles * a + mass_t * b for k, a, b in zip(COST_KEYS, v, t, strict=True)}

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


def _offers(
    vehicle_carriers: tuple[str, ...], hub: Hub, data_dir: Path = DATA_DIR
) -> list[tuple[str, float | None]]:
    """(carrier, SAF share) offers: SAF only as certified blends with jet kerosene."""
    out: list[tuple[str, float | None]] = []
    for key in _carriers_for(vehicle_carriers, hub):
        if key.startswith("saf_"):
            out += [(key, share) for share in saf_blend_shares(data_dir)]
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
    destination: Hub | None = None,
    regulation: Regulation | None = None,
    rate_cards: bool = False,
    data_dir: Path = DATA_DIR,
    intensities: CarrierIntensities | None = None,
    rate_card_index: float = 1.0,
) -> list[LaneOption]:
    """All priced options of a lane (every vehicle type x allowed carrier).

    ``prices`` is the energy price table (default: the shipped one). With ``regulation``
    (and the ``destination`` hub, whose country sets the EU ETS / FuelEU scope) each option
    also pays the regulatory carbon costs and tolls of its year of travel
    (:mod:`greenlane.fleet.regulation`); they are part of its cost. With ``rate_cards`` a
    scheduled service a carrier sells on the lane (``data/rate_cards.csv``) is priced at the
    card (``price_basis`` ``rate_card:<id>``), x ``rate_card_index`` [-], instead of the
    operating cost. Every table (vehicle types, prices, SAF blends, rate cards, regulation) is
    read from ``data_dir``. With ``intensities`` holding a TOC of the lane's ``carrier``, the
    option's emissions are that TOC x tkm (:func:`with_carrier_toc`); its cost stays the
    modelled one."""
    f = factors or load_factors(data_dir=data_dir)
    actual_km, rules = convert_distance_km(
        lane.distance_km, lane.mode, lane.distance_basis, DistanceBasis.ACTUAL
    )
    priced: list[tuple[LaneOption, float | None]] = []
    for vid in lane.vehicle_types:
        vehicle = vehicle_type(vid, "vehicle_types", data_dir)
        if out_of_range(vehicle, lane, actual_km):
            continue  # no charging/refuelling stops are planned on a lane: not offered
        offers = _offers(vehicle.energy_carriers, origin, data_dir)
        if carriers == "fossil":
            offers = [o for o in offers if o[1] is None and f.carrier(o[0]).origin in FOSSIL]
        for key, saf in offers:
            try:
                priced.append(
                    (
                        _price(lane, origin, vid, key, saf, actual_km, rules, f, prices, data_dir),
                        saf,
                    )
                )
            except InputError:
                continue  # no energy price for this carrier in the region: not sold there
    if rate_cards and destination is not None and lane.mode not in DEDICATED_MODES:
        priced = _at_rate_card(priced, origin, destination, rate_card_index, prices, data_dir)
    options = []
    for option, saf in priced:
        try:
            if regulation is not None and regulation.enabled:
                option = _regulate(
                    option, origin, destination, saf, regulation, f, prices, data_dir
                )
        except InputError:
            continue  # the mandated SAF is not priced in the region
        if intensities and lane.carrier:
            toc = intensities.toc(lane.carrier, lane.mode, option.carrier)
            if toc is not None:
                option = with_carrier_toc(option, toc)
        options.append(option)
    if not options:
        raise DataError(
            "no vehicle type/carrier of the lane is priced in its region",
            field=f"lanes.csv[{lane.lane_id}]",
        )
    return options


def with_carrier_toc(o: LaneOption, toc: CarrierIntensity) -> LaneOption:
    """``o`` emitting the carrier's TOC per tonne over the leg: WTW = TOC [g/tkm] x 1 t x the
    leg's distance on the TOC's basis [km], per tonne [kg/t]; nothing per vehicle (a TOC is
    already allocated per tkm). The computation of ``emissions.chain.tce_from_intensity``."""
    assert toc.distance_basis is not None
    d_km, _ = convert_distance_km(o.distance_km, o.lane.mode, o.distance_basis, toc.distance_basis)
    return replace(
        o,
        vehicle_wtw_kg=0.0,
        vehicle_ttw_kg=0.0,
        wtw_kg_per_t=g_per_tkm_to_kg(toc.wtw, d_km),
        ttw_kg_per_t=g_per_tkm_to_kg(toc.ttw, d_km),
        intensity=toc,
    )


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
    data_dir: Path = DATA_DIR,
) -> LaneOption:
    vehicle = vehicle_type(vid, "vehicle_types", data_dir)
    carrier: EnergyCarrier = f.carrier(key)
    er = vehicle.default_empty_running_share
    interval = HOURS_PER_WEEK / lane.departures_per_week
    distance_rules = (*lane.distance_rules, *rules)
    if lane.mode in DEDICATED_MODES:
        payload = vehicle.payload_max_t
        cost0 = leg_cost_cny(
            vehicle,
            key,
            origin.country,
            0.0,
            actual_km,
            lane.transit_h,
            empty_running_share=er,
            factors=f,
            data_dir=data_dir,
            prices=prices,
        )
        cost1 = leg_cost_cny(
            vehicle,
            key,
            origin.country,
            payload,
            actual_km,
            lane.transit_h,
            empty_running_share=er,
            factors=f,
            data_dir=data_dir,
            prices=prices,
        )
        c0, c1 = float(cost0.total_cny), float(cost1.total_cny)
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
            vehicle_split_cny=_split(cost0, 1.0),
            split_cny_per_t=tuple(
                (b - a) / payload
                for a, b in zip(_split(cost0, 1.0), _split(cost1, 1.0), strict=True)
            ),
        )
    prof = profile(vid, key, saf_share=saf, factors=f, data_dir=data_dir)
    payload = vehicle.default_payload_t
    cost_obj = leg_cost_cny(
        vehicle,
        key,
        origin.country,
        payload,
        actual_km,
        lane.transit_h,
        saf_share=saf,
        empty_running_share=er,
        factors=f,
        data_dir=data_dir,
        prices=prices,
    )
    cost = float(cost_obj.total_cny)
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
        vehicle_split_cny=(0.0,) * len(COST_KEYS),
        split_cny_per_t=_split(cost_obj, 1 / payload),
    )


def _at_rate_card(
    priced: list[tuple[LaneOption, float | None]],
    origin: Hub,
    destination: Hub,
    index: float = 1.0,
    prices: EnergyPrices | None = None,
    data_dir: Path = DATA_DIR,
) -> list[tuple[LaneOption, float | None]]:
    """A lane's options priced at the carrier's rate card when one covers the lane.

    The card [CNY/t] x ``index`` is ``freight`` and includes the standard service: the lane's
    first vehicle type on its default carrier, or the option with the cheapest energy where
    that has no price in the region. ``energy`` is the fuel adjustment from the energy price
    table: another vessel, train or fuel adds its energy cost difference from the standard
    one (negative for a cheaper one); a card linked to a fuel (``fuel_link``) also charges
    the standard fuel cost x (1 - base price / table price) as a fuel surcharge, so a bunker
    or jet price scenario moves the card. Chargeable weight and minimum charge are per
    shipment (:meth:`LaneOption.shipment_extra_cny`)."""
    if not priced:
        return priced
    card = rate_card_for(
        priced[0][0].lane.mode, origin.country, destination.country, data_dir=data_dir
    )
    if card is None:
        return priced
    per_t = card.cny_per_t(data_dir) * index
    rules = [card.rule(index, data_dir)]
    energy = [o.split_cny_per_t[1] for o, _ in priced]
    first = vehicle_type(priced[0][0].lane.vehicle_types[0], "vehicle_types", data_dir)
    default = [
        e
        for (o, saf), e in zip(priced, energy, strict=True)
        if o.vehicle_id == first.type_id and o.carrier == first.default_carrier and saf is None
    ]
    ref = default[0] if default else min(energy)
    if card.fuel_link:
        table = float(
            energy_price(card.fuel_link, origin.country, data_dir, prices=prices).price_cny_per_unit
        )
        base = card.fuel_base_cny(data_dir)
        rules.append(
            f"fuel surcharge: {card.fuel_link} {table:.2f} CNY/t in the price table vs "
            f"{card.fuel_base_price:g} {card.currency}/t = {base:.2f} CNY/t in the card: "
            f"{ref * (1 - base / table):.2f} CNY per t of cargo on the standard service"
        )
        ref *= base / table
    out = []
    for (o, saf), e in zip(priced, energy, strict=True):
        split = (per_t, e - ref) + (0.0,) * (len(COST_KEYS) - 2)
        option = replace(
            o,
            cost_cny_per_t=sum(split),
            split_cny_per_t=split,
            price_basis=f"rate_card:{card.rate_id}",
            card_cny_per_t=per_t,
            volumetric_t_per_m3=card.volumetric_t_per_m3(),
            min_charge_cny=card.min_charge_cny(data_dir) * index,
            price_rules=tuple(rules),
        )
        out.append((option, saf))
    return out


def _split(cost: Cost, scale: float) -> tuple[float, ...]:
    """A vehicle leg cost as COST_KEYS components x ``scale`` [CNY]: freight = fixed +
    distance + time, energy = energy; no regulatory part yet."""
    energy = float(cost.energy_cny)
    freight = float(cost.total_cny) - energy
    return (freight * scale, energy * scale) + (0.0,) * (len(COST_KEYS) - 2)


def _regulate(
    o: LaneOption,
    origin: Hub,
    destination: Hub | None,
    saf: float | None,
    regulation: Regulation,
    f: Factors,
    prices: EnergyPrices | None,
    data_dir: Path = DATA_DIR,
) -> LaneOption:
    """``o`` with the regulatory costs of its year added to its cost (and, on flights from EU
    airports, the ReFuelEU blend in its fuel and emissions)."""
    table = regulatory_table(data_dir)
    dest_country = destination.country if destination is not None else ""
    vehicle = vehicle_type(o.vehicle_id, "vehicle_types", data_dir)
    rules: list[str] = []
    saf_cost_per_t = 0.0
    if o.lane.mode is Mode.AIR:
        mandate, synth = saf_mandate_shares(regulation.year, origin.country, table)
        own = saf or 0.0
        if mandate > 0:
            jet = f.carrier(SAF_FOSSIL)
            bio_key = o.carrier.split("+")[-1].split(":")[0] if saf else SAF_DEFAULT
            bio = f.carrier(bio_key if bio_key.startswith("saf_") else SAF_DEFAULT)
            premium = price_cny_per_mj(bio, origin.country, prices, data_dir) - price_cny_per_mj(
                jet, origin.country, prices, data_dir
            )
            saf_cost_per_t = saf_mandate_cny(
                o.energy_mj_per_t,
                own,
                mandate,
                synth,
                premium,
                synthetic_premium_cny_per_mj(jet, table, data_dir),
            )
            rules.append(
                f"ReFuelEU {regulation.year}: at least {mandate:.1%} SAF ({synth:.1%} "
                f"synthetic) uplifted at {origin.hub_id}"
            )
            if own < mandate:
                o = _blend(o, mandate, f, data_dir)
    parts = []
    for energy, ttw, km in (
        (
            o.vehicle_energy_mj,
            o.vehicle_ttw_kg,
            o.distance_km / (1 - vehicle.default_empty_running_share) if o.dedicated else 0.0,
        ),
        (o.energy_mj_per_t, o.ttw_kg_per_t, 0.0),
    ):
        leg = LegActivity(
            o.lane.mode, vehicle, o.carrier_obj, origin.country, dest_country, energy, ttw, km
        )
        costs, why = regulatory_costs_cny(leg, regulation, table, data_dir)
        parts.append(costs)
        rules += [r for r in why if r not in rules]
    parts[1]["saf_mandate"] = saf_cost_per_t
    vsplit = tuple(
        a + parts[0].get(k, 0.0) for k, a in zip(COST_KEYS, o.vehicle_split_cny, strict=True)
    )
    tsplit = tuple(
        a + parts[1].get(k, 0.0) for k, a in zip(COST_KEYS, o.split_cny_per_t, strict=True)
    )
    return replace(
        o,
        vehicle_cost_cny=sum(vsplit),
        cost_cny_per_t=sum(tsplit),
        vehicle_split_cny=vsplit,
        split_cny_per_t=tsplit,
        regulatory_rules=tuple(rules),
    )


def _blend(o: LaneOption, share: float, f: Factors, data_dir: Path = DATA_DIR) -> LaneOption:
    """``o`` flying a ReFuelEU blend of ``share`` SAF (default pathway) by energy [-]."""
    prof = profile(o.vehicle_id, SAF_FOSSIL, saf_share=share, factors=f, data_dir=data_dir)
    wtt, ttw = co2e_of_energy_kg(prof.carrier, o.energy_mj_per_t)
    return replace(
        o,
        carrier=prof.carrier.key,
        carrier_obj=prof.carrier,
        wtw_kg_per_t=wtt + ttw,
        ttw_kg_per_t=ttw,
    )
