"""Carriers' TOCs/HOCs as data, and their import from iLEAP documents (values by hand)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from click.testing import CliRunner

from greenlane.emissions.carriers import CARRIER_TABLE, load_carrier_intensities
from greenlane.emissions.errors import DataError, InputError
from greenlane.emissions.ileap_import import ImportSettings, rows_from_ileap, write_rows
from greenlane.emissions.model import DataType, DistanceBasis, Mode
from greenlane.webapp.cli import main

SETTINGS = ImportSettings(
    carrier="CarrierX",
    source="test",
    licence="CC0-1.0",
    date="2026-12-06",
    period_start=date(2025, 1, 1),
    period_end=date(2025, 12, 31),
)
CARRIER = {"energyCarrier": "HFO", "emissionFactorWTW": "91", "emissionFactorTTW": "80"}
TOC = {
    "tocId": "X-SEA-2025",
    "mode": "Sea",
    "energyCarriers": [{**CARRIER, "relativeShare": "1"}],
    "co2eIntensityWTW": "0.0123",
    "co2eIntensityTTW": "0.0101",
    "transportActivityUnit": "tkm",
}
HOC = {
    "hocId": "X-TERM-2025",
    "hubType": "MaritimeContainerTerminal",
    "energyCarriers": [{**CARRIER, "relativeShare": "1"}],
    "co2eIntensityWTW": "2.5",
    "co2eIntensityTTW": "1",
    "hubActivityUnit": "tonnes",
}


def _tce(tce_id: str, mass_kg: str, sfd_km: str, tkm: str, wtw: str, **kw: str) -> dict:
    return {
        "tceId": tce_id,
        "shipmentId": "SH1",
        "mass": mass_kg,
        "distance": {"sfd": sfd_km},
        "transportActivity": tkm,
        "co2eWTW": wtw,
        "co2eTTW": "0",
        **kw,
    }


FOOTPRINT = {
    "shipmentId": "SH1",
    "mass": "20000",
    "tces": [
        _tce("a", "20000", "1000", "20000", "246", tocId="T1", departureAt="2025-03-01T00:00:00Z"),
        _tce("h", "20000", "0", "0", "50", hocId="H1"),
        _tce("b", "10000", "500", "5000", "61.5", tocId="T1", arrivalAt="2025-09-30T00:00:00Z"),
    ],
}


def test_examples_are_valid_ileap(ileap_schema):
    for name, doc in (("toc.json", TOC), ("hoc.json", HOC)):
        assert not list(ileap_schema(name).iter_errors(doc))
    assert not list(ileap_schema("shipment-footprint.json").iter_errors(FOOTPRINT))


def test_toc_object_kg_per_tkm_becomes_g_per_tkm():
    (row,), skipped = rows_from_ileap(TOC, SETTINGS)
    # 0.0123 kg CO2e/tkm x 1000 g/kg = 12.3 g/tkm; TTW 0.0101 -> 10.1
    assert (row["wtw_g_per_tkm"], row["ttw_g_per_tkm"]) == ("12.3", "10.1")
    assert (row["element"], row["mode"], row["distance_basis"]) == ("toc", "sea", "sfd")
    assert (row["data_quality"], row["intensity_id"]) == ("primary", "X-SEA-2025")
    assert skipped == []


def test_teu_km_needs_tonnes_per_teu():
    doc = {**TOC, "transportActivityUnit": "TEUkm", "co2eIntensityWTW": "0.123"}
    with pytest.raises(InputError) as err:
        rows_from_ileap(doc, SETTINGS)
    assert err.value.field == "$.transportActivityUnit"
    (row,), _ = rows_from_ileap(doc, replace(SETTINGS, t_per_teu=10.0))
    # 0.123 kg/TEUkm / 10 t/TEU = 0.0123 kg/tkm = 12.3 g/tkm
    assert row["wtw_g_per_tkm"] == "12.3"


def test_hoc_object_maps_the_hub_type():
    (row,), _ = rows_from_ileap(HOC, SETTINGS)
    assert (row["hub_kind"], row["wtw_kg_per_t"], row["ttw_kg_per_t"]) == ("seaport", "2.5", "1")
    with pytest.raises(InputError, match="no single greenlane hub kind") as err:
        rows_from_ileap({**HOC, "hubType": "Transshipment"}, SETTINGS)
    assert err.value.field == "$.hubType"


def test_shipment_footprints_give_activity_weighted_intensities():
    settings = replace(SETTINGS, period_start=None, period_end=None, mode=Mode.SEA)
    rows, skipped = rows_from_ileap([FOOTPRINT], settings)
    (toc,) = rows
    # T1: (246 + 61.5) kg / (20,000 + 5,000) tkm = 0.0123 kg/tkm = 12.3 g/tkm, on the SFD
    # (20 t x 1,000 km SFD = 20,000 tkm stated); period from the TCE dates
    assert toc["wtw_g_per_tkm"] == "12.3" and toc["distance_basis"] == "sfd"
    assert (toc["period_start"], toc["period_end"]) == ("2025-03-01", "2025-09-30")
    assert skipped == ["H1"]  # no hub kind given
    rows, skipped = rows_from_ileap(FOOTPRINT, replace(settings, hub_kind="seaport"))
    hoc = next(r for r in rows if r["element"] == "hoc")
    assert hoc["wtw_kg_per_t"] == "2.5" and skipped == []  # 50 kg / 20 t


def test_shipment_footprint_needs_the_mode():
    with pytest.raises(InputError, match="give the mode") as err:
        rows_from_ileap(FOOTPRINT, SETTINGS)
    assert err.value.field == "$.tces[0]"


def test_pact_wrapped_toc():
    pf = {
        "id": "x",
        "extensions": [
            {"dataSchema": "https://example.org/ileap/toc.json", "data": TOC},
        ],
    }
    (row,), _ = rows_from_ileap({"data": [pf]}, SETTINGS)
    assert row["wtw_g_per_tkm"] == "12.3"


def test_write_rows_merges_and_validates(tmp_path):
    rows, _ = rows_from_ileap([TOC, HOC], SETTINGS)
    path = write_rows(tmp_path, rows)
    assert path == tmp_path / CARRIER_TABLE
    write_rows(tmp_path, rows)  # the same key replaces, never duplicates
    data = load_carrier_intensities(tmp_path)
    toc = data.toc("CarrierX", Mode.SEA)
    assert toc is not None and toc.wtw == 12.3 and toc.distance_basis is DistanceBasis.SFD
    assert toc.data_type is DataType.PRIMARY
    hoc = data.hoc("CarrierX", "seaport")
    assert hoc is not None and hoc.wtw == 2.5
    assert len(path.read_text().splitlines()) == 3
    # a bad merged table is refused and the file stays as it was
    before = path.read_bytes()
    bad = [{**rows[0], "period_end": "2024-01-01"}]
    with pytest.raises(DataError) as err:
        write_rows(tmp_path, bad)
    assert err.value.column == "period_end"
    assert path.read_bytes() == before


def test_table_rows_are_checked_across_columns(tmp_path):
    rows, _ = rows_from_ileap(TOC, SETTINGS)
    path = write_rows(tmp_path, rows)
    text = path.read_text().replace(",sea,", ",,")
    path.write_text(text)
    with pytest.raises(DataError) as err:
        load_carrier_intensities(tmp_path)
    assert (err.value.file, err.value.line, err.value.column) == (CARRIER_TABLE, 2, "mode")


def test_cli_import_ileap(tmp_path):
    src = tmp_path / "toc.json"
    src.write_text(json.dumps(TOC))
    out_dir = tmp_path / "ds"
    out_dir.mkdir()
    args = ["carrier", "import-ileap", str(src), "--carrier", "CarrierX", "-o", str(out_dir)]
    res = CliRunner().invoke(
        main, [*args, "--period-start", "2025-01-01", "--period-end", "2025-12-31"]
    )
    assert res.exit_code == 0, res.output
    assert "toc X-SEA-2025 (sea): 12.3 g CO2e/tkm WTW" in res.output
    assert load_carrier_intensities(out_dir).toc("CarrierX", Mode.SEA) is not None
    # no period in a TOC object and none given: a clear error, exit 2, nothing written
    other = tmp_path / "other"
    other.mkdir()
    res = CliRunner().invoke(main, [*args[:-1], str(other)])
    assert res.exit_code == 2 and "error: $: the data states no period" in res.output
    assert not (other / CARRIER_TABLE).exists()
