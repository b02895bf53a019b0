"""Load energy-carrier factors, default TOC/HOC intensities and GWPs from ``data/``.

Rows carry ``factor_set`` (which source family they come from) and ``default`` (the row used
when no set is asked for). Where sources disagree, a caller chooses a set; a key missing from
the chosen set falls back to its default row. TTW factors left empty in the table are computed
with the FuelEU Maritime Annex I formula from the carbon factors and the methane slip.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import FactorNotFound, InputError
from greenlane.emissions.model import DistanceBasis, EnergyCarrier, FactorRef, Mode
from greenlane.emissions.tables import Flag, OptFloat, TableRow, Text, Year, read_table
from greenlane.emissions.units import (
    G_PER_KG,
    KG_PER_T,
    KWH_PER_MWH,
    L_PER_M3,
    MJ_PER_GJ,
    PCT,
    kwh_to_mj,
)

TABLES = (
    "energy_carriers.csv",
    "gwp.csv",
    "tocs.csv",
    "hocs.csv",
    "distance_rules.csv",
    "refrigerants.csv",
    "cold_chain.csv",
)
"""Tables whose content hash identifies a factor version."""

RENEWABLE_CARBON = ("bio", "rfnbo")
"""Carrier origins whose combustion CO2 is biogenic or captured: 0 in TTW, WTW unchanged."""
ENERGY_UNITS = ("MJ", "GJ", "kWh", "MWh", "kg", "t", "l", "m3")


@dataclass(frozen=True, slots=True)
class TOC:
    """A default transport operation category intensity [g CO2e/tkm] on a distance basis."""

    toc_id: str
    mode: Mode
    description: str
    wtw_g_per_tkm: float
    ttw_g_per_tkm: float
    distance_basis: DistanceBasis
    energy_carrier: str
    load_factor: float | None
    empty_running_share: float | None
    region: str
    data_quality: str
    source: str
    year: int

    def factor_ref(self) -> FactorRef:
        """Provenance record of this TOC's WTW intensity."""
        return FactorRef(
            "toc", self.toc_id, self.wtw_g_per_tkm, "g CO2e/tkm", self.source, self.year
        )


@dataclass(frozen=True, slots=True)
class HOC:
    """A default hub operation category intensity [kg CO2e per tonne leaving the hub]."""

    hoc_id: str
    hub_type: str
    description: str
    wtw_kg_per_t: float
    ttw_kg_per_t: float
    data_quality: str
    source: str
    year: int

    def factor_ref(self) -> FactorRef:
        """Provenance record of this HOC's WTW intensity."""
        return FactorRef("hoc", self.hoc_id, self.wtw_kg_per_t, "kg CO2e/t", self.source, self.year)


@dataclass(frozen=True, slots=True)
class Factors:
    """One resolved factor version: carriers, TOCs, HOCs, GWPs and the data hash."""

    name: str
    gwp_basis: str
    carriers: dict[str, EnergyCarrier]
    tocs: dict[str, TOC]
    hocs: dict[str, HOC]
    gwp: dict[str, float]
    data_sha256: str
    sets: tuple[str, ...] = field(default=())

    def carrier(self, key: str, field_name: str = "carrier") -> EnergyCarrier:
        """The energy carrier ``key``; raises FactorNotFound naming ``field_name``."""
        try:
            return self.carriers[key]
        except KeyError:
            raise FactorNotFound(f"unknown energy carrier {key!r}", field=field_name) from None

    def toc(self, toc_id: str, field_name: str = "toc_id") -> TOC:
        """The default TOC ``toc_id``."""
        try:
            return self.tocs[toc_id]
        except KeyError:
            raise FactorNotFound(f"unknown TOC {toc_id!r}", field=field_name) from None

    def hoc(self, hoc_id: str, field_name: str = "hoc_id") -> HOC:
        """The default HOC ``hoc_id``."""
        try:
            return self.hocs[hoc_id]
        except KeyError:
            raise FactorNotFound(f"unknown HOC {hoc_id!r}", field=field_name) from None


class GwpRow(TableRow):
    """A row of ``gwp.csv``: the 100-year GWP of a gas on a basis (AR5, AR6) [-]."""

    basis: Text
    gas: Text
    gwp100: float
    source: Text
    year: Year
    licence: Text


class CarrierRow(TableRow):
    """A row of ``energy_carriers.csv``: one carrier in one factor set [g CO2e/MJ, MJ/kg]."""

    key: Text
    name: Text
    category: Text
    origin: str
    factor_set: Text
    default: Flag
    region: str
    lhv_mj_per_kg: OptFloat
    density_kg_per_l: OptFloat
    wtt_g_per_mj: float
    ttw_g_per_mj: OptFloat
    cf_co2_g_per_g: OptFloat
    cf_ch4_g_per_g: OptFloat
    cf_n2o_g_per_g: OptFloat
    slip_pct: OptFloat
    gwp_basis: str
    data_quality: str
    source: Text
    year: Year
    licence: Text
    note: str = ""


class TocRow(TableRow):
    """A row of ``tocs.csv``: a default TOC intensity [g CO2e/tkm]."""

    toc_id: Text
    mode: Mode
    description: Text
    wtw_g_per_tkm: float
    ttw_g_per_tkm: float
    distance_basis: DistanceBasis
    energy_carrier: str
    load_factor: OptFloat
    empty_running_share: OptFloat
    region: str
    data_quality: str
    source: Text
    year: Year
    licence: Text


class HocRow(TableRow):
    """A row of ``hocs.csv``: a default HOC intensity [kg CO2e/t]."""

    hoc_id: Text
    hub_type: Text
    description: Text
    wtw_kg_per_t: float
    ttw_kg_per_t: float
    data_quality: str
    source: Text
    year: Year
    licence: Text


def data_sha256(data_dir: Path = DATA_DIR) -> str:
    """sha256 over the factor tables, identifying the factor version used."""
    digest = hashlib.sha256()
    for name in TABLES:
        digest.update(name.encode())
        digest.update((data_dir / name).read_bytes())
    return digest.hexdigest()


def fueleu_ttw_g_per_mj(
    lcv_mj_per_g: float,
    cf_co2: float,
    cf_ch4: float,
    cf_n2o: float,
    slip_pct: float,
    gwp_ch4: float,
    gwp_n2o: float,
) -> float:
    """Tank-to-wake factor by FuelEU Maritime (Reg. (EU) 2023/1805) Annex I [g CO2e/MJ].

    TtW per g fuel = (1 - slip)(Cf_CO2 + Cf_CH4 GWP_CH4 + Cf_N2O GWP_N2O) + slip GWP_CH4,
    with slip the share of fuel mass escaping unburnt; divided by the LCV [MJ/g].
    """
    slip = slip_pct / PCT
    per_g = (1 - slip) * (cf_co2 + cf_ch4 * gwp_ch4 + cf_n2o * gwp_n2o) + slip * gwp_ch4
    return per_g / lcv_mj_per_g


def _gwp_table(data_dir: Path) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for row in read_table(data_dir / "gwp.csv", GwpRow):
        table.setdefault(row.basis, {})[row.gas] = row.gwp100
    return table


def _carrier(row: CarrierRow, gwp: dict[str, float], gwp_basis: str) -> EnergyCarrier:
    wtt, ttw, lhv = row.wtt_g_per_mj, row.ttw_g_per_mj, row.lhv_mj_per_kg
    if ttw is None:
        cf_co2 = row.cf_co2_g_per_g
        if cf_co2 is None or lhv is None:
            raise row.error("ttw_g_per_mj", "ttw_g_per_mj or cf_co2_g_per_g + lhv_mj_per_kg needed")
        ch4_gas = "ch4_fossil" if row.origin == "fossil" else "ch4_non_fossil"
        ttw = fueleu_ttw_g_per_mj(
            lcv_mj_per_g=lhv / G_PER_KG,
            cf_co2=cf_co2,
            cf_ch4=row.cf_ch4_g_per_g or 0.0,
            cf_n2o=row.cf_n2o_g_per_g or 0.0,
            slip_pct=row.slip_pct or 0.0,
            gwp_ch4=gwp[ch4_gas],
            gwp_n2o=gwp["n2o"],
        )
        gwp_used = gwp_basis
    else:
        gwp_used = row.gwp_basis or gwp_basis
    origin = row.origin or "fossil"
    cf_co2 = row.cf_co2_g_per_g
    note = row.note
    if origin in RENEWABLE_CARBON and cf_co2 and lhv:
        renewable_co2 = cf_co2 / (lhv / G_PER_KG)
        ttw, wtt = ttw - renewable_co2, wtt + renewable_co2
        note = (
            f"{note} | renewable-carbon CO2 at combustion ({renewable_co2:.2f} g/MJ) "
            "reported as 0 in TTW and its uptake credit taken out of WTT (ISO 14083 / "
            "GLEC convention; WTW unchanged)"
        ).strip(" |")
    return EnergyCarrier(
        key=row.key,
        name=row.name,
        category=row.category,
        factor_set=row.factor_set,
        region=row.region,
        lhv_mj_per_kg=lhv,
        density_kg_per_l=row.density_kg_per_l,
        wtt_g_per_mj=wtt,
        ttw_g_per_mj=ttw,
        gwp_basis=gwp_used,
        data_quality=row.data_quality,
        source=row.source,
        year=row.year,
        licence=row.licence,
        note=note,
        origin=origin,
    )


@cache
def load_factors(
    prefer: tuple[str, ...] = (), gwp_basis: str = "AR6", data_dir: Path = DATA_DIR
) -> Factors:
    """Resolve the factor tables, preferring the named factor sets in order [cached].

    A key with a row in a preferred set uses it; otherwise its ``default`` row.
    """
    gwp_all = _gwp_table(data_dir)
    if gwp_basis not in gwp_all:
        raise InputError(f"unknown GWP basis {gwp_basis!r}", field="gwp_basis")
    gwp = gwp_all[gwp_basis]
    by_key: dict[str, dict[str, CarrierRow]] = {}
    for row in read_table(data_dir / "energy_carriers.csv", CarrierRow):
        sets = by_key.setdefault(row.key, {})
        if row.factor_set in sets:
            raise row.error("factor_set", f"duplicate row {row.key}/{row.factor_set}")
        sets[row.factor_set] = row
    known = {fs for sets in by_key.values() for fs in sets}
    for fs in prefer:
        if fs not in known:
            raise InputError(
                f"unknown factor set {fs!r}; known: {', '.join(sorted(known))}",
                field="factor_sets",
            )
    carriers: dict[str, EnergyCarrier] = {}
    for key, sets in sorted(by_key.items()):
        chosen = next((sets[s] for s in prefer if s in sets), None)
        if chosen is None:
            defaults = [r for r in sets.values() if r.default]
            if len(defaults) != 1:
                where = (defaults or list(sets.values()))[-1]
                raise where.error("default", f"{key} needs exactly one default row")
            chosen = defaults[0]
        carriers[key] = _carrier(chosen, gwp, gwp_basis)
    toc_rows = read_table(data_dir / "tocs.csv", TocRow)
    tocs = {t.toc_id: t for t in _tocs(toc_rows)}
    hocs = {h.hoc_id: h for h in _hocs(data_dir)}
    for toc_row in toc_rows:
        if toc_row.energy_carrier and toc_row.energy_carrier not in carriers:
            raise toc_row.error("energy_carrier", f"TOC {toc_row.toc_id} names unknown carrier")
    name = "+".join(prefer) if prefer else "default"
    return Factors(name, gwp_basis, carriers, tocs, hocs, gwp, data_sha256(data_dir), tuple(prefer))


def _tocs(rows: Iterable[TocRow]) -> Iterable[TOC]:
    for row in rows:
        if row.ttw_g_per_tkm > row.wtw_g_per_tkm:
            raise row.error("ttw_g_per_tkm", "must be <= wtw_g_per_tkm")
        yield TOC(
            toc_id=row.toc_id,
            mode=row.mode,
            description=row.description,
            wtw_g_per_tkm=row.wtw_g_per_tkm,
            ttw_g_per_tkm=row.ttw_g_per_tkm,
            distance_basis=row.distance_basis,
            energy_carrier=row.energy_carrier,
            load_factor=row.load_factor,
            empty_running_share=row.empty_running_share,
            region=row.region,
            data_quality=row.data_quality,
            source=row.source,
            year=row.year,
        )


def _hocs(data_dir: Path) -> Iterable[HOC]:
    for row in read_table(data_dir / "hocs.csv", HocRow):
        if row.ttw_kg_per_t > row.wtw_kg_per_t:
            raise row.error("ttw_kg_per_t", "must be <= wtw_kg_per_t")
        yield HOC(
            hoc_id=row.hoc_id,
            hub_type=row.hub_type,
            description=row.description,
            wtw_kg_per_t=row.wtw_kg_per_t,
            ttw_kg_per_t=row.ttw_kg_per_t,
            data_quality=row.data_quality,
            source=row.source,
            year=row.year,
        )


def blend(
    components: Sequence[tuple[EnergyCarrier, float]], key: str | None = None
) -> EnergyCarrier:
    """Blend carriers by **energy** share (e.g. 30 % SAF): factors are share-weighted [g/MJ].

    Shares must be in [0, 1] and sum to 1. The LHV is the mass-weighted harmonic mean.
    """
    total = sum(share for _, share in components)
    if any(not 0 <= s <= 1 for _, s in components) or abs(total - 1) > 1e-9:
        raise InputError("blend shares must lie in [0, 1] and sum to 1", field="blend")
    live = [(c, s) for c, s in components if s > 0]
    wtt = sum(c.wtt_g_per_mj * s for c, s in live)
    ttw = sum(c.ttw_g_per_mj * s for c, s in live)
    lhv = None
    if all(c.lhv_mj_per_kg for c, _ in live):
        lhv = 1 / sum(s / c.lhv_mj_per_kg for c, s in live if c.lhv_mj_per_kg)
    name = " + ".join(f"{s:.0%} {c.name}" for c, s in live)
    base = live[0][0]
    return replace(
        base,
        key=key or "+".join(f"{c.key}:{s:g}" for c, s in live),
        name=name,
        lhv_mj_per_kg=lhv,
        density_kg_per_l=None,
        wtt_g_per_mj=wtt,
        ttw_g_per_mj=ttw,
        source="; ".join(dict.fromkeys(c.source for c, _ in live)),
        note="blend by energy share, computed",
    )


def energy_mj(carrier: EnergyCarrier, amount: float, unit: str, field_name: str = "unit") -> float:
    """Energy content of an amount of a carrier [MJ]; mass and volume use LHV and density."""
    if unit == "MJ":
        return amount
    if unit == "GJ":
        return amount * MJ_PER_GJ
    if unit == "kWh":
        return kwh_to_mj(amount)
    if unit == "MWh":
        return kwh_to_mj(amount * KWH_PER_MWH)
    if unit in ("kg", "t", "l", "m3"):
        if carrier.lhv_mj_per_kg is None:
            raise InputError(
                f"{carrier.key} has no heating value; give energy in kWh or MJ", field=field_name
            )
        mass_kg = amount * KG_PER_T if unit == "t" else amount
        if unit in ("l", "m3"):
            if carrier.density_kg_per_l is None:
                raise InputError(f"{carrier.key} has no density; give mass in kg", field=field_name)
            litres = amount * L_PER_M3 if unit == "m3" else amount
            mass_kg = litres * carrier.density_kg_per_l
        return mass_kg * carrier.lhv_mj_per_kg
    raise InputError(f"unknown unit {unit!r}; use one of {', '.join(ENERGY_UNITS)}", field_name)


def co2e_of_energy_kg(carrier: EnergyCarrier, energy_mj: float) -> tuple[float, float]:
    """WTT and TTW emissions of an amount of energy [MJ -> (kg, kg) CO2e]."""
    return (
        carrier.wtt_g_per_mj * energy_mj / G_PER_KG,
        carrier.ttw_g_per_mj * energy_mj / G_PER_KG,
    )


def carrier_refs(carrier: EnergyCarrier) -> tuple[FactorRef, ...]:
    """Provenance records of a carrier's WTT and TTW factors."""
    return (
        FactorRef(
            "wtt",
            carrier.key,
            carrier.wtt_g_per_mj,
            "g CO2e/MJ",
            carrier.source,
            carrier.year,
            carrier.factor_set,
        ),
        FactorRef(
            "ttw",
            carrier.key,
            carrier.ttw_g_per_mj,
            "g CO2e/MJ",
            carrier.source,
            carrier.year,
            carrier.factor_set,
        ),
    )


def on_basis_of(key: str, other: EnergyCarrier, factors: Factors) -> EnergyCarrier:
    """Carrier ``key`` from ``other``'s factor set when that set has a row for it.

    A blend keeps one fossil baseline: SAF's CORSIA life-cycle values are measured against the
    CORSIA fossil jet baseline (89 g CO2e/MJ), so the kerosene part of a SAF blend comes from
    ``corsia_2024`` too, not from the ifeu default (94.15 g/MJ).
    """
    own = factors.carrier(key)
    if own.factor_set == other.factor_set:
        return own
    alt = load_factors((other.factor_set, *factors.sets), factors.gwp_basis).carrier(key)
    return alt if alt.factor_set == other.factor_set else own
