"""Temperature-controlled freight: metered hubs, reefer allocation, refrigerant leakage.

ISO 14083:2023 §9.5.3 (multi-temperature HOCs) and Annex I (refrigerants) as worked in
CLECAT (2024) Guide to ISO 14083, Examples 4, 5, 8 and 9:

- a hub's metered energy and refrigerant refills become a HOC intensity per group of goods
  (chilled, frozen, ambient): each quantity is divided by the tonnes of the groups it serves;
- a vehicle's energy is shared between reefer and ambient loading units by unit-equivalents
  (a reefer TEU counts 1.17 TEU on a ship);
- refrigerant lost [kg] x its GWP100 is operation (TTW) emissions, allocated to a leg by its
  share of the unit's annual transport activity [tkm].

Refrigerant GWPs live in ``data/refrigerants.csv``, defaults in ``data/cold_chain.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import Field

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import FactorNotFound, InputError
from greenlane.emissions.factors import Factors, carrier_refs, co2e_of_energy_kg, energy_mj
from greenlane.emissions.model import FactorRef, Mode
from greenlane.emissions.schema import (
    LegRefrigerantIn,
    MeteredHocIn,
    ReeferShareIn,
)
from greenlane.emissions.tables import TableRow, Text, Year, read_table
from greenlane.emissions.units import G_PER_KG, g_to_kg


@dataclass(frozen=True, slots=True)
class Refrigerant:
    """A refrigerant's GWP100 [kg CO2e per kg lost] on the AR6 and AR5 bases."""

    name: str
    gwp100_ar6: float
    gwp100_ar5: float
    source: str
    year: int

    def gwp(self, basis: str) -> float:
        """GWP100 on ``basis`` (AR5, else the AR6 values: FEEMS re-bases CH4 only)."""
        return self.gwp100_ar5 if basis == "AR5" else self.gwp100_ar6

    def factor_ref(self, basis: str) -> FactorRef:
        """Provenance of the GWP used."""
        return FactorRef(
            "refrigerant", self.name, self.gwp(basis), "kg CO2e/kg", self.source, self.year
        )


@dataclass(frozen=True, slots=True)
class ColdChainDefault:
    """A default of ``data/cold_chain.csv``."""

    key: str
    mode: str
    value: float
    unit: str
    source: str
    year: int
    data_quality: str


class RefrigerantRow(TableRow):
    """A row of ``data/refrigerants.csv``."""

    refrigerant: Text
    gwp100_ar6: float = Field(ge=0)
    gwp100_ar5: float = Field(ge=0)
    composition: str = ""
    source: Text
    year: Year
    licence: Text
    note: str = ""


class ColdChainRow(TableRow):
    """A row of ``data/cold_chain.csv``."""

    key: Text
    mode: Mode
    value: float = Field(gt=0)
    unit: Text
    source: Text
    year: Year
    licence: Text
    data_quality: Text
    note: str = ""


@cache
def refrigerants(data_dir: Path = DATA_DIR) -> dict[str, Refrigerant]:
    """Refrigerants by upper-case name (``R-410A``)."""
    out: dict[str, Refrigerant] = {}
    for row in read_table("refrigerants.csv", RefrigerantRow, data_dir):
        name = row.refrigerant.upper()
        if name in out:
            raise row.error("refrigerant", f"{name} appears twice")
        out[name] = Refrigerant(name, row.gwp100_ar6, row.gwp100_ar5, row.source, row.year)
    return out


@cache
def cold_chain_defaults(data_dir: Path = DATA_DIR) -> dict[tuple[str, str], ColdChainDefault]:
    """Defaults by ``(key, mode)``."""
    out: dict[tuple[str, str], ColdChainDefault] = {}
    for row in read_table("cold_chain.csv", ColdChainRow, data_dir):
        if (row.key, str(row.mode)) in out:
            raise row.error("mode", f"{row.key} for {row.mode} appears twice")
        out[(row.key, str(row.mode))] = ColdChainDefault(
            row.key,
            str(row.mode),
            row.value,
            row.unit,
            row.source,
            row.year,
            row.data_quality,
        )
    return out


def refrigerant(name: str, field: str) -> Refrigerant:
    """The refrigerant ``name`` (case-insensitive, ``R-452a`` = ``R-452A``)."""
    table = refrigerants()
    try:
        return table[name.strip().upper()]
    except KeyError:
        raise FactorNotFound(
            f"unknown refrigerant {name!r}; known: {', '.join(table)}", field=field
        ) from None


def _default(key: str, mode: Mode, field: str) -> ColdChainDefault:
    found = cold_chain_defaults().get((key, str(mode)))
    if found is None:
        raise InputError(f"no default {key} for {mode}; state it", field=field)
    return found


def _ref(d: ColdChainDefault) -> FactorRef:
    return FactorRef(d.key, str(d.mode), d.value, d.unit, d.source, d.year)


@dataclass(frozen=True, slots=True)
class Allocation:
    """A share of a vehicle's energy with the rule and provenance that gave it."""

    share: float
    rule: str
    refs: tuple[FactorRef, ...] = ()


def reefer_share(r: ReeferShareIn, mode: Mode, where: str) -> Allocation:
    """Share of a vehicle's energy for the shipment's loading units (CLECAT 2024 Example 4).

    Reefer units count ``reefer_factor`` ambient units (default 1.17 for sea, 1.12 road/rail):
    share = units x (factor if reefer else 1) / (reefer units x factor + ambient units).
    """
    refs: tuple[FactorRef, ...] = ()
    if r.reefer_factor is None:
        d = _default("reefer_unit_factor", mode, f"{where}.reefer_factor")
        factor, refs, how = d.value, (_ref(d),), "default"
    else:
        factor, how = r.reefer_factor, "stated"
    own = r.reefer_units if r.shipment_reefer else r.ambient_units
    if r.shipment_units > own * (1 + 1e-9):
        kind = "reefer_units" if r.shipment_reefer else "ambient_units"
        raise InputError(f"shipment_units exceed the vehicle's {kind}", f"{where}.shipment_units")
    equivalents = r.reefer_units * factor + r.ambient_units
    weight = factor if r.shipment_reefer else 1.0
    share = r.shipment_units * weight / equivalents
    rule = (
        f"reefer allocation: {r.reefer_units:g} reefer x {factor:g} ({how}) + "
        f"{r.ambient_units:g} ambient = {equivalents:g} unit-eq; shipment "
        f"{r.shipment_units:g} {'reefer' if r.shipment_reefer else 'ambient'} x {weight:g} "
        f"= share {share:.6f}"
    )
    return Allocation(share, rule, refs)


@dataclass(frozen=True, slots=True)
class Leakage:
    """Refrigerant emissions allocated to a leg [kg CO2e, TTW]."""

    co2e_kg: float
    rules: tuple[str, ...]
    refs: tuple[FactorRef, ...]
    primary: bool


def leg_leakage(
    r: LegRefrigerantIn, mode: Mode, activity_tkm: float, gwp_basis: str, where: str
) -> Leakage:
    """Refrigerant lost by a leg's temperature-control unit (ISO 14083 Annex I; Example 8).

    Annual loss [kg] = measured refill, or charge x leak rate (defaults 5.5 kg x 50 %); its
    CO2e per tkm of the unit's annual activity times the leg's activity [tkm, SFD].
    """
    gas = refrigerant(r.refrigerant, f"{where}.refrigerant")
    refs: list[FactorRef] = [gas.factor_ref(gwp_basis)]
    if r.refill_kg is not None:
        lost_kg, how = r.refill_kg, f"measured refill {r.refill_kg:g} kg/a"
    else:
        if r.charge_kg is None:
            d = _default("reefer_charge_kg", mode, f"{where}.charge_kg")
            charge, refs = d.value, [*refs, _ref(d)]
        else:
            charge = r.charge_kg
        if r.annual_leak_rate is None:
            d = _default("reefer_annual_leak_rate", mode, f"{where}.annual_leak_rate")
            rate, refs = d.value, [*refs, _ref(d)]
        else:
            rate = r.annual_leak_rate
        lost_kg = charge * rate
        how = f"charge {charge:g} kg x leak rate {rate:g} = {lost_kg:g} kg/a"
    annual_kg = lost_kg * gas.gwp(gwp_basis)
    per_tkm_g = annual_kg * G_PER_KG / r.annual_activity_tkm
    co2e = g_to_kg(per_tkm_g * activity_tkm)
    rules = (
        f"refrigerant {gas.name}: {how} x GWP100 {gas.gwp(gwp_basis):g} ({gwp_basis}) = "
        f"{annual_kg:.1f} kg CO2e/a / {r.annual_activity_tkm:g} tkm/a = {per_tkm_g:.4f} g/tkm "
        f"x {activity_tkm:.3f} tkm = {co2e:.4f} kg CO2e (TTW)",
    )
    return Leakage(co2e, rules, tuple(refs), r.refill_kg is not None)


@dataclass(frozen=True, slots=True)
class HubIntensity:
    """A metered hub's intensity for one group of goods [kg CO2e per tonne leaving]."""

    wtt_kg_per_t: float
    ttw_kg_per_t: float
    refrigerant_kg_per_t: float
    rules: tuple[str, ...]
    refs: tuple[FactorRef, ...]


def _groups(named: Sequence[str] | None, activity: dict[str, float], where: str) -> tuple[str, ...]:
    if not named:
        return tuple(activity)
    for g in named:
        if g not in activity:
            raise InputError(f"group {g!r} has no activity_t", f"{where}.groups")
    return tuple(dict.fromkeys(named))


def metered_hoc(m: MeteredHocIn, factors: Factors, where: str) -> HubIntensity:
    """HOC intensity of ``m.group`` from metered energy and refills (CLECAT 2024 Example 5).

    Each energy or refrigerant quantity serves the groups it names (all when none): its
    emissions divided by those groups' tonnes add to each of them. The group intensities
    times their tonnes sum back to the hub's total emissions.
    """
    activity = dict(m.activity_t)
    if m.group not in activity:
        raise InputError(f"group {m.group!r} has no activity_t", f"{where}.group")
    wtt = ttw = refr = 0.0
    rules: list[str] = []
    refs: list[FactorRef] = []
    for j, e in enumerate(m.energy):
        at = f"{where}.energy[{j}]"
        groups = _groups(e.groups, activity, at)
        if e.carrier is not None:
            carrier = factors.carrier(e.carrier, f"{at}.carrier")
            w_kg, t_kg = co2e_of_energy_kg(carrier, energy_mj(carrier, e.amount, e.unit, at))
            refs.extend(carrier_refs(carrier))
            label = carrier.key
        else:
            assert e.co2e_ttw_g_per_unit is not None and e.co2e_wtt_g_per_unit is not None
            t_kg = g_to_kg(e.amount * e.co2e_ttw_g_per_unit)
            w_kg = g_to_kg(e.amount * e.co2e_wtt_g_per_unit)
            label = e.label or "stated factor"
            refs.append(
                FactorRef(
                    "hub_energy",
                    label,
                    e.co2e_ttw_g_per_unit + e.co2e_wtt_g_per_unit,
                    f"g CO2e/{e.unit}",
                    "stated in request",
                )
            )
        tonnes = sum(activity[g] for g in groups)
        if m.group in groups:
            wtt, ttw = wtt + w_kg / tonnes, ttw + t_kg / tonnes
            rules.append(
                f"{label} {e.amount:g} {e.unit}: WTT {w_kg:.1f} + TTW {t_kg:.1f} kg CO2e / "
                f"{tonnes:g} t ({'+'.join(groups)})"
            )
    for j, r in enumerate(m.refrigerants):
        at = f"{where}.refrigerants[{j}]"
        groups = _groups(r.groups, activity, at)
        gas = refrigerant(r.refrigerant, f"{at}.refrigerant")
        refs.append(gas.factor_ref(factors.gwp_basis))
        kg = r.refill_kg * gas.gwp(factors.gwp_basis)
        tonnes = sum(activity[g] for g in groups)
        if m.group in groups:
            ttw, refr = ttw + kg / tonnes, refr + kg / tonnes
            rules.append(
                f"refrigerant {gas.name} {r.refill_kg:g} kg x GWP100 "
                f"{gas.gwp(factors.gwp_basis):g} = {kg:.1f} kg CO2e (TTW) / {tonnes:g} t "
                f"({'+'.join(groups)})"
            )
    rules.append(
        f"metered HOC, group {m.group}: WTT {wtt:.4f} + TTW {ttw:.4f} = "
        f"{wtt + ttw:.4f} kg CO2e/t (ISO 14083 §9.5.3 multi-temperature allocation)"
    )
    return HubIntensity(wtt, ttw, refr, tuple(rules), tuple(refs))
