"""Rate cards: what a shipper pays a carrier per lane and mode [CNY per t].

``data/rate_cards.csv`` holds dated market rates (sea per FEU spot and contract, China-Europe
rail per FEU, air per kg) with source, date and licence; a company replaces them with its own
contracts. A card covers a mode between sets of countries; its price per tonne is ``value`` /
``t_per_unit`` x the ``fx_rates.csv`` rate of its currency **on the card's date**
(``valid_from``; the latest fixing on or before it), e.g. USD 2 052 per FEU / 20 t at
6.9929 CNY/USD (23 Jan 2026) for a card of 5 Mar 2026. Container rates per tonne assume the
card's tonnes per box (GLEC 10 t per TEU).

Optional terms of a card:

* ``volumetric_kg_per_m3``: the shipment pays on its chargeable weight, max(actual kg,
  volume x this), e.g. 166.67 kg/m3 for IATA's 1 : 6 000 cm3/kg air rule;
* ``min_charge`` [currency per shipment]: the least the shipment pays for the leg;
* ``fuel_link`` + ``fuel_base_price`` [currency per t of that fuel]: the card includes the
  fuel at that price; the leg pays a fuel surcharge (BAF/FSC) of its standard fuel cost x
  (1 - base / table price) from ``energy_prices.csv``, so a bunker or jet price scenario moves
  the card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import Field

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import load_factors
from greenlane.emissions.model import Mode
from greenlane.emissions.tables import OptFloat, TableRow, Text, read_table, within
from greenlane.emissions.units import KG_PER_T
from greenlane.fleet.catalog import fx_rate_on
from greenlane.fleet.model import FxRate

TABLE = "rate_cards.csv"


class RateCardRow(TableRow):
    """A row of ``rate_cards.csv``: a carrier's rate for a mode between country sets."""

    rate_id: Text
    mode: Mode
    origin_countries: Text
    destination_countries: Text
    contract: Text
    value: Annotated[float, Field(gt=0)]
    unit: Text
    t_per_unit: Annotated[float, Field(gt=0)]
    currency: Text
    valid_from: Text
    data_quality: Text
    source: Text
    date: Text
    licence: Text
    note: str = ""
    volumetric_kg_per_m3: Annotated[OptFloat, within(1e-9)] = None
    min_charge: Annotated[OptFloat, within(0.0)] = None
    fuel_link: str = ""
    fuel_base_price: Annotated[OptFloat, within(1e-9)] = None
    fuel_base_source: str = ""


@dataclass(frozen=True, slots=True)
class RateCard:
    """A dated rate: ``value`` [currency per ``unit``] for ``t_per_unit`` [t] of cargo, with
    its optional volumetric rule [kg/m3], minimum charge [currency] and fuel link."""

    rate_id: str
    mode: Mode
    origins: frozenset[str]
    destinations: frozenset[str]
    contract: str
    value: float
    unit: str
    t_per_unit: float
    currency: str
    valid_from: str
    source: str
    volumetric_kg_per_m3: float | None = None
    min_charge: float | None = None
    fuel_link: str = ""
    fuel_base_price: float | None = None

    def fx(self, data_dir: Path = DATA_DIR) -> FxRate:
        """The fx rate the card converts at: its currency on ``valid_from`` [CNY per unit]."""
        try:
            return fx_rate_on(self.currency, self.valid_from, data_dir)
        except InputError as exc:
            raise InputError(exc.message, field=f"{TABLE}[{self.rate_id}].currency") from None

    def cny_per_t(self, data_dir: Path = DATA_DIR) -> float:
        """Price per tonne of cargo [CNY/t] = value / t_per_unit x CNY per currency unit."""
        return self.value / self.t_per_unit * float(self.fx(data_dir).cny_per_unit)

    def min_charge_cny(self, data_dir: Path = DATA_DIR) -> float:
        """Minimum charge per shipment [CNY] (0 without one)."""
        if not self.min_charge:
            return 0.0
        return self.min_charge * float(self.fx(data_dir).cny_per_unit)

    def volumetric_t_per_m3(self) -> float:
        """Chargeable tonnes per m3 of volume [t/m3] (0: actual weight only)."""
        return (self.volumetric_kg_per_m3 or 0.0) / KG_PER_T

    def fuel_base_cny(self, data_dir: Path = DATA_DIR) -> float:
        """Price of the linked fuel the card includes [CNY per t of fuel] (0: no link)."""
        if not self.fuel_link or self.fuel_base_price is None:
            return 0.0
        return self.fuel_base_price * float(self.fx(data_dir).cny_per_unit)

    def rule(self, index: float = 1.0, data_dir: Path = DATA_DIR) -> str:
        """How the card prices a tonne, with the fx rate used (for the plan)."""
        fx = self.fx(data_dir)
        text = (
            f"rate card {self.rate_id} ({self.contract}, {self.valid_from}): {self.value:g} "
            f"{self.currency}/{self.unit} / {self.t_per_unit:g} t x {fx.cny_per_unit} CNY/"
            f"{self.currency} (fx of {fx.date}) = {self.cny_per_t(data_dir):.2f} CNY/t"
        )
        if index != 1.0:
            text += f" x index {index:g} = {self.cny_per_t(data_dir) * index:.2f} CNY/t"
        if self.volumetric_kg_per_m3:
            text += f"; chargeable weight max(actual, {self.volumetric_kg_per_m3:g} kg/m3)"
        if self.min_charge:
            text += f"; minimum {self.min_charge:g} {self.currency} per shipment"
        return text


def _card(r: RateCardRow, carriers: frozenset[str]) -> RateCard:
    try:
        date.fromisoformat(r.valid_from)
    except ValueError:
        raise r.error("valid_from", f"{r.valid_from!r} is not an ISO date YYYY-MM-DD") from None
    if r.fuel_link and r.fuel_link not in carriers:
        raise r.error("fuel_link", f"unknown energy carrier {r.fuel_link!r}")
    if bool(r.fuel_link) != (r.fuel_base_price is not None):
        raise r.error("fuel_base_price", "fuel_link and fuel_base_price go together")
    if r.fuel_link and not r.fuel_base_source:
        raise r.error("fuel_base_source", "the fuel base price needs its source")
    return RateCard(
        rate_id=r.rate_id,
        mode=r.mode,
        origins=frozenset(c.strip().upper() for c in r.origin_countries.split(";")),
        destinations=frozenset(c.strip().upper() for c in r.destination_countries.split(";")),
        contract=r.contract,
        value=r.value,
        unit=r.unit,
        t_per_unit=r.t_per_unit,
        currency=r.currency,
        valid_from=r.valid_from,
        source=r.source,
        volumetric_kg_per_m3=r.volumetric_kg_per_m3,
        min_charge=r.min_charge,
        fuel_link=r.fuel_link,
        fuel_base_price=r.fuel_base_price,
    )


@cache
def rate_cards(data_dir: Path = DATA_DIR) -> tuple[RateCard, ...]:
    """The rate cards of ``data/rate_cards.csv``, validated [cached]."""
    carriers = frozenset(load_factors(data_dir=data_dir).carriers)
    out = []
    for r in read_table(data_dir / TABLE, RateCardRow):
        card = _card(r, carriers)
        try:
            card.fx(data_dir)
        except InputError as exc:
            raise r.error("currency", exc.message) from None
        out.append(card)
    return tuple(out)


def rate_card_for(
    mode: Mode,
    origin_country: str,
    destination_country: str,
    contract: str = "spot",
    data_dir: Path = DATA_DIR,
) -> RateCard | None:
    """The card selling ``mode`` from ``origin_country`` to ``destination_country`` (the
    ``contract`` kind first, then any kind); None when no carrier card covers the lane."""
    o, d = origin_country.upper(), destination_country.upper()
    found = [
        c for c in rate_cards(data_dir) if c.mode is mode and o in c.origins and d in c.destinations
    ]
    found.sort(key=lambda c: (c.contract != contract, c.rate_id))
    return found[0] if found else None
