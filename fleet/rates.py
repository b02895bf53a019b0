"""Rate cards: what a shipper pays a carrier per lane and mode [CNY per t].

``data/rate_cards.csv`` holds dated market rates (sea per FEU spot and contract, China-Europe
rail per FEU, air per kg) with source, date and licence; a company replaces them with its own
contracts. A card covers a mode between sets of countries; its price per tonne is ``value`` /
``t_per_unit`` x the ``fx_rates.csv`` rate of its currency (e.g. USD 2 052 per FEU / 20 t at
7.1884 CNY/USD). Container rates per tonne assume the card's tonnes per box (GLEC 10 t per
TEU); air rates are charged on actual kg: the planner prices per tonne and has no volume per
option, so the 1:6 000 volumetric rule is not applied (dense cargo assumed).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import Field

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import InputError
from greenlane.emissions.model import Mode
from greenlane.emissions.tables import TableRow, Text, read_table
from greenlane.fleet.catalog import fx_rates

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


@dataclass(frozen=True, slots=True)
class RateCard:
    """A dated rate: ``value`` [currency per ``unit``] for ``t_per_unit`` [t] of cargo."""

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

    def cny_per_t(self, data_dir: Path = DATA_DIR) -> float:
        """Price per tonne of cargo [CNY/t] = value / t_per_unit x CNY per currency unit."""
        rates = fx_rates(data_dir)
        if self.currency not in rates:
            raise InputError(f"no fx rate for {self.currency}", field=f"{TABLE}[{self.rate_id}]")
        return self.value / self.t_per_unit * float(rates[self.currency].cny_per_unit)


@cache
def rate_cards(data_dir: Path = DATA_DIR) -> tuple[RateCard, ...]:
    """The rate cards of ``data/rate_cards.csv`` [cached]."""
    out = []
    for r in read_table(data_dir / TABLE, RateCardRow):
        out.append(
            RateCard(
                rate_id=r.rate_id,
                mode=r.mode,
                origins=frozenset(c.strip().upper() for c in r.origin_countries.split(";")),
                destinations=frozenset(
                    c.strip().upper() for c in r.destination_countries.split(";")
                ),
                contract=r.contract,
                value=r.value,
                unit=r.unit,
                t_per_unit=r.t_per_unit,
                currency=r.currency,
                valid_from=r.valid_from,
                source=r.source,
            )
        )
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
