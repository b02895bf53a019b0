"""Regulatory carbon costs of a transport leg by the year of travel [EUR, CNY].

Every rule is a pure function of the leg's energy [MJ], emissions [kg], distance [km], the
countries of its two ends and the year; every number comes from ``data/regulatory_costs.csv``
(scheme, parameter, first year of validity, value, source, date, licence). A parameter holds
from its ``year`` until the next row of the same scheme and parameter.

Rules (EU/EEA = the EU member states plus Norway, Iceland and Liechtenstein):

* **EU ETS maritime** (Directive 2003/87/EC as amended by Directive (EU) 2023/959, Art. 3ga,
  3gb): sea voyages between two EU/EEA ports of call 100 %, into or out of the EU/EEA 50 %,
  between third countries 0; times the phase-in 40 % (2024), 70 % (2025), 100 % (2026 on);
  CO2 only until 2025, CO2 + CH4 + N2O from 2026; times the EUA price. Inland waterways are
  out of scope. Emissions at berth are priced at 100 % when passed (the fleet model has no
  separate at-berth energy).
* **EU ETS aviation** (Directive 2003/87/EC Art. 3d, Annex I): flights between two EU/EEA
  airports, CO2 x EUA price; extra-EEA flights are not covered.
* **FuelEU Maritime** (Regulation (EU) 2023/1805, Art. 4, 5, 23, Annex IV): GHG intensity
  (WtW) of the fuel used vs the year's limit, penalty EUR 2 400 per t VLSFO-equivalent
  (41 000 MJ) of deficit; RFNBO energy counts double until 2033 (Art. 5(1)). The same 100 %
  / 50 % scope as the ETS. Pooling (Art. 21), banking and borrowing (Art. 20) and the penalty
  escalator for consecutive deficits (Art. 23(2)) are out of scope: each leg pays its own
  first-year penalty, an upper bound of the compliance cost.
* **ReFuelEU Aviation** (Regulation (EU) 2023/2405, Art. 4, Annex I): fuel uplifted at an EU
  airport carries at least the year's SAF share (2 % 2025, 6 % 2030 of which 1.2 % synthetic);
  the shipper pays the SAF premium and emits the blend's lower WTW.
* **EU ETS2** (Directive 2003/87/EC Chapter IVa): road fuels in the EU from its start year
  (2028 after the Dec 2025 agreement); TTW CO2 x the ETS2 price.
* **German HGV toll** (Bundesfernstrassenmautgesetz, Anlage 1): infrastructure + air + noise +
  CO2 component by CO2 class; zero-emission trucks (class 5) toll-exempt to mid-2031, then 25 %
  of the infrastructure charge plus category-G air and noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import (
    RENEWABLE_CARBON,
    CarrierRow,
    energy_mj,
)
from greenlane.emissions.model import EnergyCarrier, Mode
from greenlane.emissions.tables import TableRow, Text, Year, read_table
from greenlane.emissions.units import G_PER_KG, KG_PER_T, PCT
from greenlane.fleet.catalog import default_energy_prices, fx_rates
from greenlane.fleet.cost import EU_MEMBERS, energy_price
from greenlane.fleet.model import EnergyPrices, VehicleType

TABLE = "regulatory_costs.csv"
EEA_MEMBERS = EU_MEMBERS | frozenset({"NO", "IS", "LI"})
"""ISO 3166 codes of the EU/EEA, the area of the EU ETS and FuelEU Maritime."""
COST_KEYS = ("freight", "energy", "toll", "eu_ets", "fueleu", "saf_mandate", "ets2")
"""Components of a leg's cost [CNY]: what the carrier charges or the vehicle costs without
energy (``freight``), energy, tolls and each regulatory carbon cost."""
REGULATORY_KEYS = ("eu_ets", "fueleu", "saf_mandate", "ets2")
"""The components that are carbon regulation (the toll's CO2 part is inside ``toll``)."""
ZERO_TAILPIPE = ("electricity", "hydrogen")
"""Carrier key prefixes of zero-emission trucks (German toll CO2 class 5)."""
SEA_MODES = frozenset({Mode.SEA})
HEAVY_PAYLOAD_T = 12.0
"""Payload [t] above which a truck is tolled as > 18 t GVW (EST: 40 t tractors carry 22-25 t)."""
LIGHT_PAYLOAD_T = 4.0
"""Payload [t] up to which a truck is not modelled for the German toll (EST: 18 t rigids
carry ~10 t and are tolled as 12-18 t)."""


class RegulatoryRow(TableRow):
    """A row of ``regulatory_costs.csv``: one parameter of a scheme from ``year`` on."""

    scheme: Text
    parameter: Text
    year: Year
    value: float
    unit: Text
    data_quality: Text
    source: Text
    date: Text
    licence: Text
    note: str = ""


@dataclass(frozen=True, slots=True)
class RegulatoryTable:
    """Parameters by (scheme, parameter): (first year, value) steps sorted by year."""

    steps: Mapping[tuple[str, str], tuple[tuple[int, float], ...]]

    def value(self, scheme: str, parameter: str, year: int, default: float | None = None) -> float:
        """The value in force in ``year``; ``default`` before the first row (else InputError)."""
        found = default
        for first, value in self.steps.get((scheme, parameter), ()):
            if first <= year:
                found = value
        if found is None:
            raise InputError(f"no {scheme}.{parameter} for {year} in {TABLE}", field="year")
        return found


@cache
def regulatory_table(data_dir: Path = DATA_DIR) -> RegulatoryTable:
    """``data/regulatory_costs.csv`` as step functions of the year [cached]."""
    steps: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for row in read_table(data_dir / TABLE, RegulatoryRow):
        key = (row.scheme, row.parameter)
        if any(y == row.year for y, _ in steps.get(key, [])):
            raise row.error("year", f"duplicate {row.scheme}.{row.parameter} for {row.year}")
        steps.setdefault(key, []).append((row.year, row.value))
    return RegulatoryTable({k: tuple(sorted(v)) for k, v in steps.items()})


@dataclass(frozen=True, slots=True)
class Regulation:
    """The regulatory scenario of a plan: year of travel and optional price overrides.

    ``eua_eur_per_t`` / ``ets2_eur_per_t`` [EUR/t CO2e] replace the dated defaults of the
    table; ``enabled=False`` prices no regulatory cost (tolls included) for comparisons.
    """

    year: int
    eua_eur_per_t: float | None = None
    ets2_eur_per_t: float | None = None
    enabled: bool = True

    def validate(self) -> None:
        """Raise InputError naming the field at fault."""
        if not 2000 <= self.year <= 2100:
            raise InputError("must be a year between 2000 and 2100", field="travel_year")
        for name in ("eua_eur_per_t", "ets2_eur_per_t"):
            v = getattr(self, name)
            if v is not None and not (v >= 0 and v < float("inf")):
                raise InputError("must be a finite price >= 0", field=name)

    def eua_price(self, table: RegulatoryTable) -> float:
        """EUA price of the year [EUR/t CO2e]: the override or the table's dated default."""
        if self.eua_eur_per_t is not None:
            return self.eua_eur_per_t
        return table.value("eua", "price_eur_per_t", self.year)

    def ets2_price(self, table: RegulatoryTable) -> float:
        """ETS2 price [EUR/t CO2]: the override or the table default (0 before its start)."""
        if self.ets2_eur_per_t is not None:
            return self.ets2_eur_per_t
        return table.value("ets2", "price_eur_per_t", self.year, default=0.0)


def cny_per_eur(data_dir: Path = DATA_DIR) -> float:
    """EUR -> CNY rate of ``fx_rates.csv`` [CNY/EUR]."""
    return float(fx_rates(data_dir)["EUR"].cny_per_unit)


def scope_share(origin_country: str, destination_country: str, intra: float, extra: float) -> float:
    """Share of a voyage in scope by its ends: both EU/EEA ``intra``, one ``extra``, none 0."""
    ends = sum(c.upper() in EEA_MEMBERS for c in (origin_country, destination_country))
    return intra if ends == 2 else extra if ends == 1 else 0.0


def ets_maritime_share(
    year: int, origin_country: str, destination_country: str, table: RegulatoryTable
) -> float:
    """Share of a sea voyage's emissions to surrender [-] = scope x phase-in.

    Directive 2003/87/EC Art. 3ga (scope 100 % intra-EEA, 50 % into/out of the EEA) and
    Art. 3gb (phase-in 40 % 2024, 70 % 2025, 100 % from 2026); 0 before 2024.
    """
    phase = table.value("eu_ets_maritime", "phase_in_share", year, default=0.0)
    scope = scope_share(
        origin_country,
        destination_country,
        table.value("eu_ets_maritime", "scope_share_intra_eea", year, default=0.0),
        table.value("eu_ets_maritime", "scope_share_extra_eea", year, default=0.0),
    )
    return phase * scope


def eu_ets_maritime_eur(
    co2_kg: float,
    non_co2_kg: float,
    year: int,
    origin_country: str,
    destination_country: str,
    eua_eur_per_t: float,
    table: RegulatoryTable,
    at_berth_co2e_kg: float = 0.0,
) -> float:
    """EU ETS cost of a sea voyage [EUR].

    ``co2_kg`` / ``non_co2_kg`` [kg] are the voyage's TTW CO2 and CH4 + N2O as CO2e; the
    non-CO2 part counts from 2026 (MRV Regulation (EU) 2015/757 Art. 2, Directive
    2003/87/EC Art. 3gb). ``at_berth_co2e_kg`` [kg] at an EU/EEA berth is 100 % in scope,
    times the phase-in.
    """
    share = ets_maritime_share(year, origin_country, destination_country, table)
    gases = table.value("eu_ets_maritime", "non_co2_included", year, default=0.0)
    phase = table.value("eu_ets_maritime", "phase_in_share", year, default=0.0)
    in_scope_kg = share * (co2_kg + gases * non_co2_kg) + phase * at_berth_co2e_kg
    return in_scope_kg / KG_PER_T * eua_eur_per_t


def eu_ets_aviation_eur(
    co2_kg: float,
    origin_country: str,
    destination_country: str,
    year: int,
    eua_eur_per_t: float,
    table: RegulatoryTable,
) -> float:
    """EU ETS cost of a flight [EUR]: CO2 of flights between two EU/EEA airports
    (Directive 2003/87/EC Art. 3d and Annex I; extra-EEA flights not covered)."""
    both = all(c.upper() in EEA_MEMBERS for c in (origin_country, destination_country))
    if not both:
        return 0.0
    share = table.value("eu_ets_aviation", "scope_share_intra_eea", year, default=0.0)
    return share * co2_kg / KG_PER_T * eua_eur_per_t


def fueleu_limit_g_per_mj(year: int, table: RegulatoryTable) -> float | None:
    """FuelEU GHG-intensity limit of the year [g CO2e/MJ] (Art. 4(2)); None before 2025."""
    reduction = table.value("fueleu", "reduction_share", year, default=-1.0)
    if reduction < 0:
        return None
    return table.value("fueleu", "reference_intensity_g_per_mj", year) * (1 - reduction)


def fueleu_penalty_eur(
    energy_mj: float,
    wtw_g_per_mj: float,
    rfnbo: bool,
    year: int,
    origin_country: str,
    destination_country: str,
    table: RegulatoryTable,
) -> float:
    """FuelEU Maritime penalty of a voyage's energy use [EUR] (first deficit year).

    GHGIE = WtW / RWD with RWD = 2 for RFNBO until 2033 (Art. 5(1), Annex I); compliance
    balance CB = (limit - GHGIE) x E_in_scope [g]; penalty = |CB| / (GHGIE x 41 000 MJ/t) x
    EUR 2 400 per t when CB < 0 (Annex IV Part B). A surplus earns nothing (pooling and
    banking are out of scope). Scope: 100 % intra-EEA, 50 % into/out of the EEA.
    """
    limit = fueleu_limit_g_per_mj(year, table)
    if limit is None or energy_mj <= 0:
        return 0.0
    scope = scope_share(
        origin_country,
        destination_country,
        table.value("fueleu", "scope_share_intra_eea", year),
        table.value("fueleu", "scope_share_extra_eea", year),
    )
    reward = table.value("fueleu", "rfnbo_reward_factor", year) if rfnbo else 1.0
    ghgie = wtw_g_per_mj / reward
    if scope == 0 or ghgie <= limit:
        return 0.0
    deficit_g = (ghgie - limit) * energy_mj * scope
    vlsfo_eq_t = deficit_g / (ghgie * table.value("fueleu", "vlsfo_eq_mj_per_t", year))
    return vlsfo_eq_t * table.value("fueleu", "penalty_eur_per_t_vlsfo_eq", year)


def saf_mandate_shares(
    year: int, departure_country: str, table: RegulatoryTable
) -> tuple[float, float]:
    """(total SAF, synthetic) minimum shares of fuel uplifted at an airport [-].

    ReFuelEU Aviation (Regulation (EU) 2023/2405) Art. 4 and Annex I: EU airports only
    (Norway/Iceland apply it via the EEA; here EU member states); (0, 0) elsewhere."""
    if departure_country.upper() not in EU_MEMBERS:
        return 0.0, 0.0
    total = table.value("refueleu", "min_saf_share", year, default=0.0)
    synth = table.value("refueleu", "min_synthetic_share", year, default=0.0)
    return total, min(synth, total)


def saf_mandate_cny(
    energy_mj: float,
    own_saf_share: float,
    mandate_share: float,
    synthetic_share: float,
    bio_premium_cny_per_mj: float,
    synthetic_premium_cny_per_mj: float,
) -> float:
    """Cost of the ReFuelEU mandate on a flight's fuel [CNY].

    The synthetic sub-mandate is carried by all uplifted fuel; the rest of the mandate is
    bio-SAF, of which the flight's own SAF blend ``own_saf_share`` [-] already covers part
    (priced in its energy cost). Premiums are over fossil jet [CNY/MJ].
    """
    bio_top_up = max(0.0, mandate_share - synthetic_share - own_saf_share)
    per_mj = bio_top_up * bio_premium_cny_per_mj + synthetic_share * synthetic_premium_cny_per_mj
    return energy_mj * per_mj


def price_cny_per_mj(
    carrier: EnergyCarrier,
    region: str,
    prices: EnergyPrices | None = None,
    data_dir: Path = DATA_DIR,
) -> float:
    """Price of a carrier in a region [CNY/MJ] from the energy price table."""
    row = energy_price(carrier.key, region, data_dir, prices or default_energy_prices(data_dir))
    return float(row.price_cny_per_unit) / energy_mj(carrier, 1.0, row.unit, "unit")


def synthetic_premium_cny_per_mj(
    jet: EnergyCarrier, table: RegulatoryTable, data_dir: Path = DATA_DIR
) -> float:
    """e-SAF premium over fossil jet [CNY/MJ]: EASA 2024 reference prices [EUR/t] / jet LHV."""
    eur_per_t = table.value("refueleu", "synthetic_premium_eur_per_t", 2025)
    mj_per_t = energy_mj(jet, 1.0, "t", "unit")
    return eur_per_t * cny_per_eur(data_dir) / mj_per_t


def ets2_eur(
    ttw_co2_kg: float,
    year: int,
    country: str,
    mode: Mode,
    price_eur_per_t: float,
    table: RegulatoryTable,
) -> float:
    """EU ETS2 cost of road fuel burnt in an EU member state [EUR] (Directive 2003/87/EC
    Chapter IVa, Annex III: road transport, CRF 1A3b); 0 before its start year."""
    if mode is not Mode.ROAD or country.upper() not in EU_MEMBERS:
        return 0.0
    in_force = table.value("ets2", "in_force", year, default=0.0)
    return in_force * ttw_co2_kg / KG_PER_T * price_eur_per_t


def is_zero_emission(carrier_key: str) -> bool:
    """A battery-electric or hydrogen truck: German toll CO2 class 5 (< 1 g CO2/km)."""
    return carrier_key.startswith(ZERO_TAILPIPE)


def de_tolled_share(origin_country: str, destination_country: str, table: RegulatoryTable) -> float:
    """Share of a road leg's km on German tolled roads [-] (EST: both ends DE 1, one 0.5)."""
    ends = sum(c.upper() == "DE" for c in (origin_country, destination_country))
    if ends == 2:
        return table.value("de_toll", "tolled_share_both_ends_de", 2024)
    if ends == 1:
        return table.value("de_toll", "tolled_share_one_end_de", 2024)
    return 0.0


def de_toll_eur_per_km(
    vehicle: VehicleType, carrier_key: str, year: int, table: RegulatoryTable
) -> tuple[float, float]:
    """German HGV toll rate of a truck (total, CO2 part) [EUR/km] (BFStrMG Anlage 1).

    Euro VI; weight class from the payload (the catalogue has no gross weight): payload
    > ``HEAVY_PAYLOAD_T`` is > 18 t GVW (>= 4 axles, the 5-axle CO2 rate), above
    ``LIGHT_PAYLOAD_T`` 12-18 t; CO2 class 1 (no documented CO2 class) unless zero-
    emission (class 5: exempt for ``zev_exempt_share`` of the year, BFStrMG par. 1(2) no. 7
    as extended to mid-2031; otherwise 25 % of the infrastructure charge + category-G air +
    noise). Vans and trucks below 12 t are not modelled (0).
    """
    if vehicle.mode is not Mode.ROAD or year < 2024:
        return 0.0, 0.0
    if vehicle.payload_max_t <= LIGHT_PAYLOAD_T:
        return 0.0, 0.0
    sfx = "" if vehicle.payload_max_t > HEAVY_PAYLOAD_T else "_12_18t"
    infra = table.value("de_toll", "infrastructure_eur_per_km" + sfx, year)
    noise = table.value("de_toll", "noise_eur_per_km" + sfx, year)
    if is_zero_emission(carrier_key):
        exempt = table.value("de_toll", "zev_exempt_share", year)
        charged = (
            infra * table.value("de_toll", "zev_infrastructure_share", year)
            + table.value("de_toll", "air_pollution_zev_eur_per_km", year)
            + noise
        )
        return (1 - exempt) * charged, 0.0
    air = table.value("de_toll", "air_pollution_eur_per_km" + sfx, year)
    co2 = table.value("de_toll", "co2_class1_eur_per_km" + sfx, year)
    return infra + air + noise + co2, co2


@cache
def _carrier_rows(data_dir: Path = DATA_DIR) -> dict[tuple[str, str], CarrierRow]:
    rows = read_table(data_dir / "energy_carriers.csv", CarrierRow)
    return {(r.key, r.factor_set): r for r in rows}


def ttw_co2_share(carrier: EnergyCarrier, data_dir: Path = DATA_DIR) -> float:
    """Share of a carrier's TTW CO2e that is CO2 [-] (the rest CH4 and N2O incl. slip).

    From the FuelEU Annex II Cf factors where the carrier row has them: fossil
    (1 - slip) Cf_CO2 / LCV over TTW; renewable carbon (bio, RFNBO) counts 0 CO2 (its
    combustion CO2 is out of TTW). Rows with a TTW value only are taken as all CO2.
    """
    row = _carrier_rows(data_dir).get((carrier.key, carrier.factor_set))
    if row is None or row.cf_co2_g_per_g is None or not row.lhv_mj_per_kg:
        return 1.0
    if carrier.origin in RENEWABLE_CARBON or carrier.ttw_g_per_mj <= 0:
        return 0.0
    slip = (row.slip_pct or 0.0) / PCT
    co2_g_per_mj = (1 - slip) * row.cf_co2_g_per_g / (row.lhv_mj_per_kg / G_PER_KG)
    return min(1.0, co2_g_per_mj / carrier.ttw_g_per_mj)


@dataclass(frozen=True, slots=True)
class LegActivity:
    """What a leg (or the vehicle- or tonne-part of it) burns: energy [MJ], TTW [kg CO2e],
    km driven incl. empty running [km], and whole vehicles it stands for (tolls)."""

    mode: Mode
    vehicle: VehicleType
    carrier: EnergyCarrier
    origin_country: str
    destination_country: str
    energy_mj: float
    ttw_kg: float
    vehicle_km: float = 0.0


def regulatory_costs_cny(
    leg: LegActivity,
    regulation: Regulation,
    table: RegulatoryTable | None = None,
    data_dir: Path = DATA_DIR,
) -> tuple[dict[str, float], tuple[str, ...]]:
    """``toll``, ``eu_ets``, ``fueleu`` and ``ets2`` of a leg [CNY] and the rules applied.

    Linear in ``energy_mj``, ``ttw_kg`` and ``vehicle_km``: a per-vehicle and a per-tonne
    part are priced separately and add up. The SAF mandate changes the fuel and is priced
    with the fuel (:func:`saf_mandate_cny`).
    """
    out = dict.fromkeys(("toll", "eu_ets", "fueleu", "ets2"), 0.0)
    if not regulation.enabled:
        return out, ()
    t = table or regulatory_table(data_dir)
    fx = cny_per_eur(data_dir)
    year, o, d = regulation.year, leg.origin_country, leg.destination_country
    rules: list[str] = []
    if leg.mode in SEA_MODES:
        co2 = leg.ttw_kg * ttw_co2_share(leg.carrier, data_dir)
        eua = regulation.eua_price(t) if ets_maritime_share(year, o, d, t) else 0.0
        ets = eu_ets_maritime_eur(co2, leg.ttw_kg - co2, year, o, d, eua, t)
        out["eu_ets"] = ets * fx
        fine = fueleu_penalty_eur(
            leg.energy_mj, leg.carrier.wtw_g_per_mj, leg.carrier.origin == "rfnbo", year, o, d, t
        )
        out["fueleu"] = fine * fx
        if ets:
            rules.append(
                f"EU ETS maritime {year}: {ets_maritime_share(year, o, d, t) * PCT:g} % of "
                f"{o}->{d} voyage emissions at EUA {eua:g} EUR/t"
            )
        if fine:
            rules.append(
                f"FuelEU {year}: {leg.carrier.wtw_g_per_mj:.2f} g/MJ above the limit "
                f"{fueleu_limit_g_per_mj(year, t):.4f} g/MJ, penalty EUR 2400/t VLSFO-eq"
            )
    elif leg.mode is Mode.AIR:
        co2 = leg.ttw_kg * ttw_co2_share(leg.carrier, data_dir)
        intra = all(c.upper() in EEA_MEMBERS for c in (o, d))
        ets = eu_ets_aviation_eur(co2, o, d, year, regulation.eua_price(t), t) if intra else 0.0
        out["eu_ets"] = ets * fx
        if ets:
            rules.append(
                f"EU ETS aviation {year}: intra-EEA flight CO2 at EUA "
                f"{regulation.eua_price(t):g} EUR/t"
            )
    elif leg.mode is Mode.ROAD:
        price = regulation.ets2_price(t)
        out["ets2"] = ets2_eur(leg.ttw_kg, year, o, leg.mode, price, t) * fx
        if out["ets2"]:
            rules.append(f"EU ETS2 {year}: road fuel CO2 at {price:g} EUR/t")
        km = leg.vehicle_km * de_tolled_share(o, d, t)
        if km:
            rate, co2_rate = de_toll_eur_per_km(leg.vehicle, leg.carrier.key, year, t)
            out["toll"] = km * rate * fx
            rules.append(
                f"German HGV toll {year}: {km:.6g} km x {rate:.3f} EUR/km "
                f"(CO2 part {co2_rate:.3f} EUR/km)"
                if rate
                else f"German HGV toll {year}: zero-emission truck exempt on {km:.6g} km"
            )
    return out, tuple(rules)
