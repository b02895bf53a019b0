"""Every reference table of data/ is read by ``read_table``: a broken cell in a copy of any of
them is a DataError naming the file, the line and the column, never a bare ValueError."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from greenlane.data import DATA_DIR
from greenlane.emissions.carriers import load_carrier_intensities
from greenlane.emissions.coldchain import cold_chain_defaults, refrigerants
from greenlane.emissions.distance import distance_rules
from greenlane.emissions.errors import DataError
from greenlane.emissions.factors import load_factors
from greenlane.emissions.intensity import default_target
from greenlane.emissions.tables import OptFloat, TableRow, Text, Year, read_table
from greenlane.fleet.catalog import energy_prices, fx_rates, vehicle_types
from greenlane.fleet.rates import rate_cards
from greenlane.fleet.regulation import regulatory_table
from greenlane.routing.network import load_network
from greenlane.routing.network.schedules import load_schedules
from greenlane.routing.network.transit_risk import transit_cv
from greenlane.routing.planner.candidates import EPOCH
from greenlane.routing.planner.pricing import hub_operations, saf_blend_shares
from greenlane.routing.scenarios.levers import lever_costs
from greenlane.routing.vrp.model import load_stations

Loader = Callable[[Path], Any]
LOADERS: dict[str, Loader] = {
    "energy_carriers.csv": lambda d: load_factors(data_dir=d),
    "gwp.csv": lambda d: load_factors(data_dir=d),
    "tocs.csv": lambda d: load_factors(data_dir=d),
    "hocs.csv": lambda d: load_factors(data_dir=d),
    "distance_rules.csv": lambda d: distance_rules(d / "distance_rules.csv"),
    "refrigerants.csv": refrigerants,
    "cold_chain.csv": cold_chain_defaults,
    "targets.csv": lambda d: default_target(d / "targets.csv"),
    "vehicle_types.csv": vehicle_types,
    "energy_prices.csv": energy_prices,
    "fx_rates.csv": fx_rates,
    "hub_operations.csv": hub_operations,
    "saf_blends.csv": saf_blend_shares,
    "levers.csv": lever_costs,
    "transit_variability.csv": transit_cv,
    "charging_stations.csv": load_stations,
    "regulatory_costs.csv": regulatory_table,
    "rate_cards.csv": rate_cards,
    "hubs.csv": lambda d: load_network(d, cache_dir=d / "cache"),
    "lanes.csv": lambda d: load_network(d, cache_dir=d / "cache"),
    "schedules.csv": lambda d: load_schedules(load_network(), EPOCH, d),
    "carrier_intensities.csv": load_carrier_intensities,
}
"""Each table of data/ and the loader that reads it from a folder."""

BAD_CELL = {
    "energy_carriers.csv": ("wtt_g_per_mj", "22,56"),
    "gwp.csv": ("gwp100", "n/a"),
    "tocs.csv": ("mode", "hovercraft"),
    "hocs.csv": ("wtw_kg_per_t", "1.07 kg"),
    "distance_rules.csv": ("value", "x1.05"),
    "refrigerants.csv": ("gwp100_ar6", "2,255.5"),
    "cold_chain.csv": ("value", "17 %"),
    "targets.csv": ("reduction_share", "20 %"),
    "vehicle_types.csv": ("payload_max_t", "-25"),
    "energy_prices.csv": ("price_cny_per_unit", "eleven"),
    "fx_rates.csv": ("cny_per_unit", "0"),
    "hub_operations.csv": ("dwell_h", "two days"),
    "saf_blends.csv": ("energy_share", "30 %"),
    "levers.csv": ("vessel_capex", "1.5 m"),
    "transit_variability.csv": ("cv", "high"),
    "charging_stations.csv": ("lat", "22°N"),
    "regulatory_costs.csv": ("value", "70 EUR"),
    "rate_cards.csv": ("value", "-2052"),
    "hubs.csv": ("lat", "north"),
    "lanes.csv": ("departures_per_week", "daily"),
    "schedules.csv": ("cutoff_h", "2 days"),
    "carrier_intensities.csv": ("data_quality", "measured"),
}
"""A cell to break in each table and the bad text put there."""

SAMPLE_ROWS = {
    "schedules.csv": "S1,SEA-CNSHA-NLRTM,,,sea,LineX,Tue,,18:00,8,48,744,,2026-11-01,"
    "2027-04-30,test row,2026-12-06,CC0-1.0,",
    "carrier_intensities.csv": "CarrierX,toc,sea,,X-TOC-1,,12.3,10.1,,,sfd,primary,"
    "2025-01-01,2025-12-31,test row,2026-12-06,CC0-1.0,",
}
"""A valid row for the tables shipped as a header only (no sourced rows): the tests break a
cell of it."""


def test_every_table_of_data_is_covered():
    assert sorted(LOADERS) == sorted(p.name for p in DATA_DIR.glob("*.csv"))
    assert sorted(BAD_CELL) == sorted(LOADERS)


def _copy_with(tmp_path: Path, table: str, line: int, column: str, text: str) -> Path:
    """A copy of data/*.csv in ``tmp_path`` with one cell of ``table`` replaced."""
    folder = tmp_path / "data"
    folder.mkdir()
    for src in DATA_DIR.glob("*.csv"):
        shutil.copy(src, folder / src.name)
    with open(folder / table, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if len(rows) == 1 and table in SAMPLE_ROWS:
        rows.append(next(csv.reader([SAMPLE_ROWS[table]])))
    rows[line - 1][rows[0].index(column)] = text
    with open(folder / table, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return folder


def _line(table: str) -> int:
    """The line broken in ``table``: the last one (targets.csv has one row)."""
    with open(DATA_DIR / table, encoding="utf-8", newline="") as fh:
        return max(len(list(csv.reader(fh))), 2 if table in SAMPLE_ROWS else 1)


def _assert_names(err: DataError, table: str, line: int, column: str) -> None:
    assert (err.file, err.line, err.column) == (table, line, column)
    assert err.field == f"{table}[line {line}].{column}"
    assert str(err).startswith(f"{table}[line {line}].{column}: ")


@pytest.mark.parametrize("table", sorted(BAD_CELL))
def test_a_bad_cell_names_file_line_and_column(tmp_path: Path, table: str):
    column, text = BAD_CELL[table]
    line = _line(table)
    folder = _copy_with(tmp_path, table, line, column, text)
    with pytest.raises(DataError) as err:
        LOADERS[table](folder)
    _assert_names(err.value, table, line, column)


@pytest.mark.parametrize("table", sorted(LOADERS))
def test_an_empty_source_names_file_line_and_column(tmp_path: Path, table: str):
    line = _line(table)
    folder = _copy_with(tmp_path, table, line, "source", "")
    with pytest.raises(DataError) as err:
        LOADERS[table](folder)
    _assert_names(err.value, table, line, "source")


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("gwp.csv", "licence"),
        ("tocs.csv", "year"),
        ("energy_prices.csv", "year"),
        ("charging_stations.csv", "year"),
        ("levers.csv", "year"),
        ("regulatory_costs.csv", "licence"),
        ("regulatory_costs.csv", "date"),
        ("rate_cards.csv", "licence"),
        ("rate_cards.csv", "date"),
        ("schedules.csv", "licence"),
        ("schedules.csv", "date"),
        ("carrier_intensities.csv", "licence"),
        ("carrier_intensities.csv", "date"),
        ("energy_prices.csv", "licence"),
        ("fx_rates.csv", "licence"),
        ("fx_rates.csv", "date"),
    ],
)
def test_licence_and_year_stay_required(tmp_path: Path, table: str, column: str):
    line = _line(table)
    folder = _copy_with(tmp_path, table, line, column, "")
    with pytest.raises(DataError) as err:
        LOADERS[table](folder)
    _assert_names(err.value, table, line, column)


@pytest.mark.parametrize(
    ("table", "line", "column", "text", "message"),
    [
        # checks across rows or tables name the row and column too
        ("vehicle_types.csv", 3, "type_id", "truck_40t_diesel", "duplicate type_id"),
        ("energy_prices.csv", 2, "carrier", "kerosene_x", "neither a carrier key"),
        ("tocs.csv", 2, "ttw_g_per_tkm", "1000", "must be <= wtw_g_per_tkm"),
        ("lanes.csv", 2, "origin", "CNXXX", "unknown hub 'CNXXX'"),
        ("levers.csv", 2, "currency", "XAU", "no exchange rate for XAU"),
        ("targets.csv", 2, "target_year", "2020", "must be after the baseline year"),
        ("fx_rates.csv", 3, "date", "31/12/2024", "not an ISO date"),
        ("fx_rates.csv", 6, "date", "2024-12-31", "duplicate rate for USD"),
        ("rate_cards.csv", 2, "valid_from", "5 Mar 2026", "not an ISO date"),
        ("rate_cards.csv", 2, "fuel_link", "kerosene_x", "unknown energy carrier"),
        ("rate_cards.csv", 2, "fuel_base_price", "", "go together"),
        ("rate_cards.csv", 2, "currency", "XAU", "no fx rate for 'XAU'"),
    ],
)
def test_a_bad_reference_names_file_line_and_column(
    tmp_path: Path, table: str, line: int, column: str, text: str, message: str
):
    folder = _copy_with(tmp_path, table, line, column, text)
    with pytest.raises(DataError, match=message) as err:
        LOADERS[table](folder)
    _assert_names(err.value, table, line, column)


class _Row(TableRow):
    name: Text
    share: float
    low: OptFloat
    source: Text
    year: Year
    note: str = ""


def test_read_table_reads_typed_rows_with_their_lines(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text(
        "name,share,low,source,year,extra\n a ,0.25,,src,2024,x\n\nb,1e-3,-2.5,src,2023,\n",
        encoding="utf-8",
    )
    first, second = read_table(path, _Row)
    assert (first.name, first.share, first.low, first.note) == ("a", 0.25, None, "")
    assert (second.name, second.share, second.low, second.year) == ("b", 0.001, -2.5, 2023)
    assert (first.line, second.line) == (2, 4)  # the blank line 3 is skipped
    assert first.file == "t.csv"


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("name,share,low,year\n", 1, "source"),  # a required column is missing
        ("name,share,low,source,year,share\n", 1, "share"),  # a column twice
        ("name,share,low,source,year\na,1,,s,2024\nb,1,,s\n", 3, "year"),  # a short row
        ("name,share,low,source,year\na,1,,s,2024,9\n", 2, "cell 6"),  # a long row
        ("name,share,low,source,year\na,nan,,s,2024\n", 2, "share"),  # not finite
        ("name,share,low,source,year\na,1,,s,24\n", 2, "year"),  # not a year
    ],
)
def test_read_table_names_the_place_of_each_problem(
    tmp_path: Path, text: str, line: int, column: str
):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_table(path, _Row)
    _assert_names(err.value, "t.csv", line, column)


def test_a_missing_table_is_a_data_error(tmp_path: Path):
    with pytest.raises(DataError, match="table is missing") as err:
        read_table("nowhere.csv", _Row, data_dir=tmp_path)
    assert err.value.file == "nowhere.csv"


def test_a_table_name_resolves_in_data():
    rows = read_table("saf_blends.csv", _SafRow)
    assert [r.energy_share for r in rows] == [0.3, 0.5]


class _SafRow(TableRow):
    energy_share: float
    source: Text
