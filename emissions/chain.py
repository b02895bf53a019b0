"""Transport chain elements (TCEs), hub operations and the shipment footprint (ISO 14083).

Three ways to a leg's emissions, most specific first (GLEC v3 / ISO 14083 §6):
(a) primary energy data allocated by tkm share, (b) a TOC intensity, (c) a modelled vehicle
profile built by ``fleet``. Hubs add emissions per tonne leaving them but no tkm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TypedDict

from greenlane.emissions.coldchain import leg_leakage, metered_hoc, reefer_share
from greenlane.emissions.distance import convert_distance_km, gcd_km, leg_distances, sea_route
from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import (
    Factors,
    blend,
    carrier_refs,
    co2e_of_energy_kg,
    energy_mj,
    load_factors,
    on_basis_of,
)
from greenlane.emissions.model import (
    TCE,
    DataType,
    DistanceBasis,
    EnergyCarrier,
    FactorRef,
    Footprint,
    Location,
    Method,
    Mode,
    ModelledProfile,
    Totals,
)
from greenlane.emissions.schema import (
    ChainIn,
    EnergyIn,
    HubIn,
    LegIn,
    LocationIn,
    TocIn,
    parse_chain,
)
from greenlane.emissions.units import g_per_tkm_to_kg

VehicleResolver = Callable[[Mapping[str, Any], Factors], ModelledProfile]


class _LegCommon(TypedDict):
    """Keyword arguments every leg TCE builder takes (distance in km)."""

    tce_id: str
    shipment_id: str
    mass_t: float
    distance_km: float
    distance_basis: DistanceBasis
    origin: Location | None
    destination: Location | None


class _HubCommon(TypedDict):
    """Keyword arguments every hub TCE builder takes (mass in t)."""

    tce_id: str
    shipment_id: str
    hub: str
    mass_t: float
    location: Location | None


"""Turns a leg's ``vehicle`` object into a modelled profile (``fleet.resolve_vehicle``)."""

MAX_SEA_ACCESS_KM = 200.0
"""Farthest a sea leg's end may lie from the sea-lane network [km]: the seaports of
``data/hubs.csv`` lie within 163 km of it (Manzanillo, MX), inland cities farther (Madrid 326)."""

MODE_CARRIERS: dict[Mode, tuple[str, ...]] = {
    Mode.ROAD: (
        "diesel_b*",
        "biodiesel_fame",
        "hvo",
        "gasoline",
        "cng_truck",
        "bio_cng_truck",
        "lng_truck",
        "hydrogen_*",
        "electricity_cn*",
        "electricity_de",
        "electricity_es",
        "electricity_eu",
        "electricity_fr",
        "electricity_pl",
        "electricity_uk",
    ),
    Mode.RAIL: (
        "diesel_b*",
        "biodiesel_fame",
        "hvo",
        "hydrogen_*",
        "electricity_cn*",
        "electricity_de*",
        "electricity_es",
        "electricity_eu",
        "electricity_fr",
        "electricity_pl",
        "electricity_uk",
    ),
    Mode.INLAND_WATER: (
        "diesel_b*",
        "biodiesel_fame",
        "hvo",
        "hvo_marine",
        "mgo",
        "lfo",
        "lng_marine_*",
        "methanol_*",
        "hydrogen_*",
        "electricity_cn*",
        "electricity_de",
        "electricity_eu",
        "electricity_fr",
        "electricity_pl",
    ),
    Mode.SEA: (
        "hfo",
        "vlsfo",
        "ulsfo",
        "mgo",
        "lfo",
        "lng_marine_*",
        "bio_lng_marine_*",
        "e_lng_marine_*",
        "methanol_*",
        "ammonia_*",
        "hydrogen_*",
        "hvo_marine",
        "e_diesel_marine",
        "electricity_shore_power_*",
    ),
    Mode.AIR: ("jet_kerosene", "saf_*"),
}
"""Energy carriers (``fnmatch`` patterns of ``energy_carriers.csv`` keys) a mode's vehicles
burn: the carriers of ``data/vehicle_types.csv`` per mode, plus biofuel, hydrogen and grid
variants of the same engines. Hub heating fuels fit no leg; no aircraft burns HFO."""


def check_carrier_fits(mode: Mode, carrier_key: str, field: str) -> None:
    """Refuse an energy carrier no vehicle of ``mode`` uses (an air leg on HFO)."""
    if not any(fnmatchcase(carrier_key, pat) for pat in MODE_CARRIERS[mode]):
        raise InputError(f"{carrier_key} is not an energy carrier of {mode} vehicles", field)


def leg_distance_km(
    mode: Mode,
    origin: Location,
    destination: Location,
    sea_restrictions: Sequence[str] = ("northwest",),
) -> tuple[float, DistanceBasis, tuple[str, ...]]:
    """Distance of a leg from its end points by the ISO 14083 rules [km].

    Sea: sea-lane route (SFD). Air: GCD + 95 km (SFD). Road, rail, inland water: GCD x detour
    factor (SFD). Returns the distance, its basis and the rules applied.
    """
    gcd = gcd_km(origin.lat, origin.lon, destination.lat, destination.lon)
    if mode is Mode.SEA:
        route = sea_route(
            (origin.lon, origin.lat), (destination.lon, destination.lat), tuple(sea_restrictions)
        )
        for end, loc, node in (
            ("origin", origin, route.coordinates[0]),
            ("destination", destination, route.coordinates[-1]),
        ):
            access = gcd_km(loc.lat, loc.lon, node[1], node[0])
            if access > MAX_SEA_ACCESS_KM:
                raise InputError(
                    f"no ship reaches ({loc.lat:g}, {loc.lon:g}): {access:.0f} km from the "
                    f"sea-lane network (limit {MAX_SEA_ACCESS_KM:g} km); give the seaport",
                    field=end,
                )
        via = ", ".join(route.passages) or "open sea"
        return (
            route.distance_km,
            DistanceBasis.SFD,
            (f"sea: SFD by sea-lane route (searoute, via {via}); GCD {gcd:.1f} km",),
        )
    sfd, rules = convert_distance_km(gcd, mode, DistanceBasis.GCD, DistanceBasis.SFD)
    return sfd, DistanceBasis.SFD, (f"{mode}: GCD {gcd:.1f} km on WGS84", *rules)


def tce_from_intensity(
    *,
    tce_id: str,
    shipment_id: str,
    mode: Mode,
    mass_t: float,
    distance_km: float,
    distance_basis: DistanceBasis,
    wtw_g_per_tkm: float,
    ttw_g_per_tkm: float,
    intensity_basis: DistanceBasis,
    data_type: DataType,
    toc_id: str | None = None,
    energy_carrier: str | None = None,
    refs: tuple[FactorRef, ...] = (),
    rules: tuple[str, ...] = (),
    origin: Location | None = None,
    destination: Location | None = None,
) -> TCE:
    """A leg TCE from a TOC intensity [g CO2e/tkm] stated on ``intensity_basis``.

    The leg's distance is converted to the intensity's basis for the emissions; the activity
    is on the SFD (a 143 g/tkm actual-basis road TOC is 150.15 g/tkm on SFD).
    """
    dist = leg_distances(distance_km, mode, distance_basis)
    d_int, conv = convert_distance_km(distance_km, mode, distance_basis, intensity_basis)
    activity_on_int = mass_t * d_int
    wtw = g_per_tkm_to_kg(wtw_g_per_tkm, activity_on_int)
    ttw = g_per_tkm_to_kg(ttw_g_per_tkm, activity_on_int)
    rules = (*rules, *dist.rules)
    if conv:
        rules = (
            *rules,
            f"TOC intensity on {intensity_basis} basis; leg distance "
            f"{distance_km:.3f} km {distance_basis} -> {d_int:.3f} km",
            *conv,
        )
    return TCE(
        tce_id=tce_id,
        shipment_id=shipment_id,
        kind="leg",
        mass_t=mass_t,
        co2e_wtt_kg=wtw - ttw,
        co2e_ttw_kg=ttw,
        method=Method.TOC,
        data_type=data_type,
        mode=mode,
        distance_km=dist.sfd_km,
        distance_basis=DistanceBasis.SFD,
        distance_actual_km=dist.actual_km,
        activity_tkm=mass_t * dist.sfd_km,
        toc_id=toc_id,
        energy_carrier=energy_carrier,
        origin=origin,
        destination=destination,
        factors=refs,
        rules=rules,
    )


def tce_from_energy(
    *,
    tce_id: str,
    shipment_id: str,
    mode: Mode,
    mass_t: float,
    distance_km: float,
    distance_basis: DistanceBasis,
    uses: Sequence[tuple[EnergyCarrier, float]],
    method: Method,
    data_type: DataType,
    refs: tuple[FactorRef, ...] = (),
    rules: tuple[str, ...] = (),
    origin: Location | None = None,
    destination: Location | None = None,
    toc_id: str | None = None,
) -> TCE:
    """A leg TCE from the energy allocated to the shipment: ``uses`` = (carrier, MJ) pairs.

    ``distance_km`` on ``distance_basis`` gives the activity on the SFD [tkm].
    """
    dist = leg_distances(distance_km, mode, distance_basis)
    wtt = ttw = total_mj = 0.0
    for carrier, mj in uses:
        w, t = co2e_of_energy_kg(carrier, mj)
        wtt, ttw, total_mj = wtt + w, ttw + t, total_mj + mj
    carriers = "+".join(dict.fromkeys(c.key for c, _ in uses))
    all_refs = tuple(r for c, _ in uses for r in carrier_refs(c))
    return TCE(
        tce_id=tce_id,
        shipment_id=shipment_id,
        kind="leg",
        mass_t=mass_t,
        co2e_wtt_kg=wtt,
        co2e_ttw_kg=ttw,
        method=method,
        data_type=data_type,
        mode=mode,
        distance_km=dist.sfd_km,
        distance_basis=DistanceBasis.SFD,
        distance_actual_km=dist.actual_km,
        activity_tkm=mass_t * dist.sfd_km,
        energy_mj=total_mj,
        energy_carrier=carriers,
        origin=origin,
        destination=destination,
        factors=(*refs, *all_refs),
        rules=(*rules, *dist.rules),
        toc_id=toc_id,
    )


def tce_modelled(
    *,
    tce_id: str,
    shipment_id: str,
    mass_t: float,
    distance_km: float,
    distance_basis: DistanceBasis,
    profile: ModelledProfile,
    rules: tuple[str, ...] = (),
    origin: Location | None = None,
    destination: Location | None = None,
) -> TCE:
    """A leg TCE from a modelled vehicle profile [MJ/tkm] (data type ``modelled``).

    The profile's energy per tonne-km is per km the vehicle covers, so it is applied to the
    actual distance; the activity is on the SFD like every other leg.
    """
    actual_km = leg_distances(distance_km, profile.mode, distance_basis).actual_km
    mj = profile.energy_mj_per_tkm * mass_t * actual_km
    return tce_from_energy(
        tce_id=tce_id,
        shipment_id=shipment_id,
        mode=profile.mode,
        mass_t=mass_t,
        distance_km=distance_km,
        distance_basis=distance_basis,
        uses=[(profile.carrier, mj)],
        method=Method.MODELLED,
        data_type=DataType.MODELLED,
        refs=profile.refs,
        rules=(
            *rules,
            *profile.rules,
            f"modelled {profile.vehicle_id}: "
            f"{profile.energy_mj_per_tkm:.4f} MJ/tkm x {mass_t:g} t x {actual_km:.3f} km actual",
        ),
        origin=origin,
        destination=destination,
        toc_id=profile.vehicle_id,
    )


def hub_tce(
    *,
    tce_id: str,
    shipment_id: str,
    hub: str,
    mass_t: float,
    wtw_kg_per_t: float,
    ttw_kg_per_t: float,
    data_type: DataType,
    hoc_id: str | None = None,
    refs: tuple[FactorRef, ...] = (),
    location: Location | None = None,
) -> TCE:
    """A hub operation: intensity per tonne leaving the hub [kg CO2e/t]; no tkm."""
    return TCE(
        tce_id=tce_id,
        shipment_id=shipment_id,
        kind="hub",
        mass_t=mass_t,
        co2e_wtt_kg=(wtw_kg_per_t - ttw_kg_per_t) * mass_t,
        co2e_ttw_kg=ttw_kg_per_t * mass_t,
        method=Method.HOC,
        data_type=data_type,
        hub=hub,
        hoc_id=hoc_id,
        factors=refs,
        rules=(f"hub: {wtw_kg_per_t:g} kg CO2e/t WTW x {mass_t:g} t leaving the hub",),
        origin=location,
        destination=location,
    )


def totals(tces: Iterable[TCE]) -> Totals:
    """Sum a chain: emissions [kg CO2e], activity [tkm] and leg distance [km]."""
    items = list(tces)
    return Totals(
        co2e_wtw_kg=sum(t.co2e_wtw_kg for t in items),
        co2e_ttw_kg=sum(t.co2e_ttw_kg for t in items),
        co2e_wtt_kg=sum(t.co2e_wtt_kg for t in items),
        tkm=sum(t.activity_tkm for t in items),
        distance_km=sum(t.distance_km for t in items),
    )


def wtw_by_data_type(tces: Iterable[TCE]) -> dict[str, float]:
    """WTW emissions [kg CO2e] by ISO 14083 data-quality type (primary, modelled, default)."""
    out = {str(d): 0.0 for d in DataType}
    for t in tces:
        out[str(t.data_type)] += t.co2e_wtw_kg
    return out


def primary_data_share(tces: Iterable[TCE]) -> float:
    """Share of the WTW emissions computed from primary data [-] (0 when there are none)."""
    by_type = wtw_by_data_type(tces)
    total = sum(by_type.values())
    return by_type[str(DataType.PRIMARY)] / total if total > 0 else 0.0


def footprint(
    tces: Sequence[TCE],
    *,
    shipment_id: str,
    mass_t: float,
    factors: Factors | None = None,
    meta: Mapping[str, str] | None = None,
) -> Footprint:
    """A shipment footprint from its TCEs in chain order (ISO 14083 §7)."""
    f = factors or load_factors()
    return Footprint(
        shipment_id=shipment_id,
        mass_t=mass_t,
        tces=tuple(tces),
        totals=totals(tces),
        factor_set=f.name,
        gwp_basis=f.gwp_basis,
        data_sha256=f.data_sha256,
        meta=dict(meta or {}),
    )


def _loc(loc: LocationIn | None) -> Location | None:
    if loc is None:
        return None
    return Location(
        lat=loc.lat,
        lon=loc.lon,
        name=loc.name,
        locode=loc.locode,
        iata=loc.iata,
        country=loc.country,
    )


def _leg_tce(
    leg: LegIn,
    i: int,
    tce_id: str,
    chain: ChainIn,
    factors: Factors,
    resolver: VehicleResolver | None,
) -> TCE:
    where = f"legs[{i}]"
    origin, destination = _loc(leg.origin), _loc(leg.destination)
    if leg.distance_km is not None:
        distance = leg.distance_km
        basis = leg.distance_basis or DistanceBasis.ACTUAL
        rules: tuple[str, ...] = (f"distance stated: {distance:g} km ({basis})",)
    else:
        assert origin is not None and destination is not None
        restrictions = ("northwest", *(leg.sea_restrictions or ()))
        try:
            distance, basis, rules = leg_distance_km(leg.mode, origin, destination, restrictions)
        except InputError as exc:
            raise InputError(exc.message, f"{where}.{exc.field or 'origin'}") from None
        if not distance > 0:
            raise InputError(
                "origin and destination are the same point; a leg needs a distance > 0 km",
                f"{where}.destination",
            )
        if leg.distance_basis is not None and leg.distance_basis is not basis:
            distance, conv = convert_distance_km(distance, leg.mode, basis, leg.distance_basis)
            basis, rules = leg.distance_basis, (*rules, *conv)
    common: _LegCommon = {
        "tce_id": tce_id,
        "shipment_id": chain.shipment_id,
        "mass_t": chain.mass_t,
        "distance_km": distance,
        "distance_basis": basis,
        "origin": origin,
        "destination": destination,
    }
    try:
        sfd_km = leg_distances(distance, leg.mode, basis).sfd_km
    except InputError as exc:
        raise InputError(exc.message, f"{where}.{exc.field or 'distance_km'}") from None
    tce = _leg_tce_by_method(leg, where, chain, factors, resolver, rules, sfd_km, common)
    if leg.refrigerant is not None:
        leak = leg_leakage(
            leg.refrigerant, leg.mode, tce.activity_tkm, factors.gwp_basis, f"{where}.refrigerant"
        )
        tce = replace(
            tce,
            co2e_ttw_kg=tce.co2e_ttw_kg + leak.co2e_kg,
            co2e_refrigerant_kg=leak.co2e_kg,
            rules=(*tce.rules, *leak.rules),
            factors=(*tce.factors, *leak.refs),
        )
    return replace(tce, temperature_control=leg.temperature_control)


def _leg_tce_by_method(
    leg: LegIn,
    where: str,
    chain: ChainIn,
    factors: Factors,
    resolver: VehicleResolver | None,
    rules: tuple[str, ...],
    sfd_km: float,
    common: _LegCommon,
) -> TCE:
    if leg.energy is not None:
        uses, e_rules, e_refs = _energy_uses(leg.energy, chain, leg.mode, sfd_km, factors, where)
        return tce_from_energy(
            mode=leg.mode,
            uses=uses,
            method=Method.ENERGY,
            data_type=DataType.PRIMARY,
            rules=(*rules, *e_rules),
            refs=e_refs,
            **common,
        )
    if leg.toc is not None:
        return _toc_tce(leg.toc, leg.mode, rules, factors, f"{where}.toc", common)
    if resolver is None:
        raise InputError("modelled vehicle legs need the fleet catalogue", f"{where}.vehicle")
    assert leg.vehicle is not None
    try:
        profile = resolver(leg.vehicle, factors)
    except InputError as exc:
        raise InputError(exc.message, f"{where}.{exc.field or 'vehicle'}") from None
    if profile.mode is not leg.mode:
        raise InputError(
            f"vehicle is a {profile.mode} vehicle, leg is {leg.mode}", f"{where}.vehicle.type"
        )
    _check_payload(profile, leg.vehicle, chain.mass_t, f"{where}.vehicle")
    return tce_modelled(profile=profile, rules=rules, **common)


def _check_payload(
    profile: ModelledProfile, spec: Mapping[str, Any], mass_t: float, where: str
) -> None:
    """The shipment must fit: mass_t within the vehicle's payload and a stated load_t."""
    tol = 1 + 1e-9
    if profile.payload_max_t is not None and mass_t > profile.payload_max_t * tol:
        raise InputError(
            f"the shipment's {mass_t:g} t exceed the payload of {profile.vehicle_id} "
            f"({profile.payload_max_t:g} t); split it over several legs or vehicles",
            f"{where}.type",
        )
    if "load_t" in spec and profile.load_t is not None and mass_t > profile.load_t * tol:
        raise InputError(
            f"the vehicle's load {profile.load_t:g} t is less than the shipment's {mass_t:g} t",
            f"{where}.load_t",
        )


def _toc_tce(
    toc: TocIn,
    mode: Mode,
    rules: tuple[str, ...],
    factors: Factors,
    where: str,
    common: _LegCommon,
) -> TCE:
    if toc.toc_id is not None:
        row = factors.toc(toc.toc_id, f"{where}.toc_id")
        if row.mode is not mode:
            raise InputError(
                f"TOC {row.toc_id} is for {row.mode}, leg is {mode}", f"{where}.toc_id"
            )
        return tce_from_intensity(
            mode=mode,
            wtw_g_per_tkm=row.wtw_g_per_tkm,
            ttw_g_per_tkm=row.ttw_g_per_tkm,
            intensity_basis=toc.distance_basis or row.distance_basis,
            data_type=toc.data_type or DataType.DEFAULT,
            toc_id=row.toc_id,
            energy_carrier=row.energy_carrier or None,
            refs=(row.factor_ref(),),
            rules=(*rules, f"default TOC {row.toc_id}: {row.description}"),
            **common,
        )
    assert toc.co2e_wtw_g_per_tkm is not None and toc.co2e_ttw_g_per_tkm is not None
    extra = []
    if toc.load_factor is not None:
        extra.append(f"TOC load factor {toc.load_factor:.0%}")
    if toc.empty_running_share is not None:
        extra.append(f"TOC empty running {toc.empty_running_share:.0%}")
    ref = FactorRef("toc", "stated", toc.co2e_wtw_g_per_tkm, "g CO2e/tkm", "stated in request")
    return tce_from_intensity(
        mode=mode,
        wtw_g_per_tkm=toc.co2e_wtw_g_per_tkm,
        ttw_g_per_tkm=toc.co2e_ttw_g_per_tkm,
        intensity_basis=toc.distance_basis or common["distance_basis"],
        data_type=toc.data_type or DataType.MODELLED,
        refs=(ref,),
        rules=(*rules, *extra),
        **common,
    )


def _energy_uses(
    items: Sequence[EnergyIn],
    chain: ChainIn,
    mode: Mode,
    sfd_km: float,
    factors: Factors,
    where: str,
) -> tuple[list[tuple[EnergyCarrier, float]], tuple[str, ...], tuple[FactorRef, ...]]:
    """Energy allocated to the shipment [MJ]: a tkm share is on the SFD (ISO 14083 §7.2), so
    ``vehicle_activity_tkm`` is the vehicle's transport activity on the SFD too."""
    uses: list[tuple[EnergyCarrier, float]] = []
    rules: list[str] = []
    refs: list[FactorRef] = []
    for j, item in enumerate(items):
        at = f"{where}.energy[{j}]"
        carrier = factors.carrier(item.carrier, f"{at}.carrier")
        check_carrier_fits(mode, item.carrier, f"{at}.carrier")
        if item.blend:
            for k in item.blend:
                check_carrier_fits(mode, k, f"{at}.blend.{k}")
            parts = [(factors.carrier(k, f"{at}.blend.{k}"), s) for k, s in item.blend.items()]
            rest = 1 - sum(s for _, s in parts)
            base = on_basis_of(item.carrier, parts[0][0], factors) if parts else carrier
            if base.factor_set != carrier.factor_set:
                rules.append(
                    f"{item.carrier} taken from {base.factor_set} "
                    f"({base.wtw_g_per_mj:.2f} g/MJ): one fossil baseline with the blend"
                )
            carrier = blend([(base, rest), *parts])
            rules.append(f"blend by energy: {carrier.name}")
        vehicle_mj = energy_mj(carrier, item.amount, item.unit, f"{at}.unit")
        if item.reefer_share is not None:
            alloc = reefer_share(item.reefer_share, mode, f"{at}.reefer_share")
            share = alloc.share
            rules.append(f"{item.carrier}: {alloc.rule}")
            refs.extend(alloc.refs)
        elif item.share_of_vehicle is not None:
            share = item.share_of_vehicle
            rules.append(f"{item.carrier}: shipment share {share:g} of vehicle energy (stated)")
        elif item.vehicle_activity_tkm is not None:
            share = chain.mass_t * sfd_km / item.vehicle_activity_tkm
            if share > 1 + 1e-9:
                raise InputError(
                    "shipment tkm exceeds the vehicle's tkm", f"{at}.vehicle_activity_tkm"
                )
            rules.append(
                f"{item.carrier}: tkm allocation (SFD) {chain.mass_t * sfd_km:.3f} / "
                f"{item.vehicle_activity_tkm:g} tkm = {share:.6f}"
            )
        else:
            share = 1.0
            rules.append(f"{item.carrier}: no share given, whole vehicle energy allocated")
        uses.append((carrier, vehicle_mj * share))
    return uses, tuple(rules), tuple(refs)


def _hub_tce(hub: HubIn, tce_id: str, chain: ChainIn, factors: Factors, where: str) -> TCE:
    common: _HubCommon = {
        "tce_id": tce_id,
        "shipment_id": chain.shipment_id,
        "hub": hub.hub,
        "mass_t": chain.mass_t,
        "location": _loc(hub.location),
    }
    if hub.hoc.metered is not None:
        m = metered_hoc(hub.hoc.metered, factors, f"{where}.hoc.metered")
        tce = hub_tce(
            wtw_kg_per_t=m.wtt_kg_per_t + m.ttw_kg_per_t,
            ttw_kg_per_t=m.ttw_kg_per_t,
            data_type=hub.hoc.data_type or DataType.PRIMARY,
            refs=m.refs,
            **common,
        )
        group = hub.hoc.metered.group
        return replace(
            tce,
            rules=(*m.rules, *tce.rules),
            co2e_refrigerant_kg=m.refrigerant_kg_per_t * chain.mass_t,
            temperature_control=hub.temperature_control
            or (group if group in ("ambient", "chilled", "frozen", "mixed") else None),
        )
    if hub.hoc.hoc_id is not None:
        row = factors.hoc(hub.hoc.hoc_id, f"{where}.hoc.hoc_id")
        return hub_tce(
            wtw_kg_per_t=row.wtw_kg_per_t,
            ttw_kg_per_t=row.ttw_kg_per_t,
            data_type=hub.hoc.data_type or DataType.DEFAULT,
            hoc_id=row.hoc_id,
            refs=(row.factor_ref(),),
            **common,
        )
    assert hub.hoc.co2e_wtw_kg_per_t is not None and hub.hoc.co2e_ttw_kg_per_t is not None
    ref = FactorRef("hoc", "stated", hub.hoc.co2e_wtw_kg_per_t, "kg CO2e/t", "stated in request")
    return hub_tce(
        wtw_kg_per_t=hub.hoc.co2e_wtw_kg_per_t,
        ttw_kg_per_t=hub.hoc.co2e_ttw_kg_per_t,
        data_type=hub.hoc.data_type or DataType.MODELLED,
        refs=(ref,),
        **common,
    )


def footprint_from_chain(
    doc: Mapping[str, Any] | ChainIn,
    resolver: VehicleResolver | None = None,
    data_dir: Path | None = None,
) -> Footprint:
    """Validate a chain document and compute its footprint; errors name the field at fault.

    ``data_dir`` holds the factor tables (a dataset's; None: the shipped ``data/``)."""
    chain = doc if isinstance(doc, ChainIn) else parse_chain(doc)
    try:
        factors = (
            load_factors(tuple(chain.factor_sets), chain.gwp_basis)
            if data_dir is None
            else load_factors(tuple(chain.factor_sets), chain.gwp_basis, data_dir)
        )
    except InputError as exc:
        raise InputError(exc.message, field=exc.field or "gwp_basis") from None
    tces: list[TCE] = []
    seen: set[str] = set()
    for i, item in enumerate(chain.legs):
        tce_id = item.tce_id or f"{chain.shipment_id}-{i + 1}"
        if tce_id in seen:
            raise InputError(f"duplicate tce_id {tce_id!r}", field=f"legs[{i}].tce_id")
        seen.add(tce_id)
        if isinstance(item, HubIn):
            tce = _hub_tce(item, tce_id, chain, factors, f"legs[{i}]")
            if tce.temperature_control is None:
                tce = replace(tce, temperature_control=item.temperature_control)
        else:
            tce = _leg_tce(item, i, tce_id, chain, factors, resolver)
        prev = (tces[-1].tce_id,) if tces else ()
        times = {}
        if isinstance(item, LegIn):
            times = {
                k: getattr(item, k).isoformat()
                for k in ("departure_at", "arrival_at")
                if getattr(item, k) is not None
            }
        tces.append(replace(tce, prev_tce_ids=prev, **times))
    return footprint(tces, shipment_id=chain.shipment_id, mass_t=chain.mass_t, factors=factors)
