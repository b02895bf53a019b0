"""Partner reports of a footprint: CSV, GeoJSON, iLEAP, PACT, PDF, with golden files.

Regenerate the golden files on purpose with ``GREENLANE_REGEN_GOLDEN=1 pytest
tests/emissions/test_reports.py`` (see tests/golden/README.md), then review the diff.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from greenlane.emissions.chain import footprint_from_chain
from greenlane.emissions.errors import InputError
from greenlane.emissions.geo import MODE_COLOURS, normalise_lon, split_antimeridian, unwrap
from greenlane.emissions.model import Footprint, Mode
from greenlane.emissions.report import (
    footprint_report_pdf,
    footprints_to_csv,
    footprints_to_geojson,
    summary_rows,
    summary_to_csv,
    to_ileap_shipment_footprint,
    to_pact_product_footprint,
    write_csv,
    write_summary_csv,
)
from greenlane.emissions.report.geojson import line_geometry
from greenlane.emissions.report.tables import TCE_COLUMNS

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
REGEN = os.environ.get("GREENLANE_REGEN_GOLDEN") == "1"
SHA_PLACEHOLDER = "<data_sha256>"
PF_ID = "5f3c2b1a-8d4e-4c6f-9a7b-0e1d2c3b4a59"
CREATED = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def golden_bytes(name: str, actual: bytes) -> None:
    """Compare ``actual`` with ``tests/golden/name`` byte for byte (or rewrite it on REGEN)."""
    path = GOLDEN / name
    if REGEN:
        path.write_bytes(actual)
        return
    assert path.exists(), f"missing golden {name}: run with GREENLANE_REGEN_GOLDEN=1"
    assert actual == path.read_bytes(), f"{name} differs from the golden file"


def golden_json(name: str, actual: Any) -> None:
    """Compare a JSON document with ``tests/golden/name`` as parsed JSON."""
    doc = json.loads(json.dumps(actual, ensure_ascii=False))
    path = GOLDEN / name
    if REGEN:
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"missing golden {name}: run with GREENLANE_REGEN_GOLDEN=1"
    assert doc == json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def fp(example_chain) -> Footprint:
    """The demo chain road-hub-rail-hub-road, 10 t (211.52 kg WTW, 5800 tkm)."""
    return footprint_from_chain(example_chain)


@pytest.fixture
def located() -> Footprint:
    """A located chain: 南京 road leg, hub, trans-Pacific sea leg, unlocated road leg."""
    nkg = {"lat": 32.06, "lon": 118.78, "name": "南京 Nanjing", "locode": "CNNKG", "country": "CN"}
    sha = {"lat": 31.23, "lon": 121.47, "name": "Shanghai", "locode": "CNSHA", "country": "CN"}
    zlo = {"lat": 19.05, "lon": -104.31, "name": "Manzanillo", "locode": "MXZLO", "country": "MX"}
    doc = {
        "shipment_id": "NKG-ZLO-1",
        "mass_t": 8,
        "legs": [
            {
                "mode": "road",
                "distance_km": 300,
                "distance_basis": "sfd",
                "origin": nkg,
                "destination": sha,
                "toc": {"co2e_wtw_g_per_tkm": 100, "co2e_ttw_g_per_tkm": 80},
            },
            {
                "hub": "Shanghai Yangshan",
                "location": sha,
                "hoc": {"co2e_wtw_kg_per_t": 2.0, "co2e_ttw_kg_per_t": 1.0},
            },
            {
                "mode": "sea",
                "distance_km": 12000,
                "distance_basis": "sfd",
                "origin": sha,
                "destination": zlo,
                "toc": {"co2e_wtw_g_per_tkm": 10, "co2e_ttw_g_per_tkm": 8},
            },
            {
                "mode": "road",
                "distance_km": 50,
                "toc": {"co2e_wtw_g_per_tkm": 100, "co2e_ttw_g_per_tkm": 80},
            },
        ],
    }
    base = footprint_from_chain(doc)
    road, hub, sea, last = base.tces
    # an unwrapped sea path (as searoute returns it): longitudes beyond 180
    path = ((121.47, 31.23), (150.0, 35.0), (200.0, 30.0), (255.69, 19.05))
    tces = (
        replace(
            road, departure_at="2024-03-01T08:00:00+08:00", arrival_at="2024-03-01T14:00:00+08:00"
        ),
        hub,
        replace(
            sea,
            geometry=path,
            departure_at="2024-03-02T00:00:00Z",
            arrival_at="2024-03-20T00:00:00Z",
        ),
        last,
    )
    return replace(base, tces=tces)


# ---------------------------------------------------------------- CSV and summary


def test_csv_golden_and_bom(fp, tmp_path):
    out = write_csv(tmp_path / "fp.csv", [fp])
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for spreadsheet programs
    golden_bytes("clecat_case_a_de_580km.csv", raw)
    text = footprints_to_csv([fp])
    assert raw.decode("utf-8-sig") == text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == TCE_COLUMNS
    assert len(rows) == 5
    road = rows[0]
    assert road["co2e_wtw_kg"] == "75.075" and road["transport_activity_tkm"] == "500.000"
    assert road["mass_kg"] == "10000.000" and road["distance_basis"] == "sfd"
    assert road["intensity_wtw_g_per_tkm"] == "150.150"
    assert rows[1]["kind"] == "hub" and rows[1]["distance_km"] == ""
    assert rows[2]["prev_tce_ids"] == rows[1]["tce_id"]
    assert "E" not in "".join(r["co2e_wtw_kg"] for r in rows)
    assert "," not in "".join(r["co2e_wtw_kg"] for r in rows)


def test_csv_keeps_chinese_names(located, tmp_path):
    out = write_csv(tmp_path / "loc.csv", located)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0]["origin_name"] == "南京 Nanjing" and rows[0]["origin_locode"] == "CNNKG"
    assert rows[0]["departure_at"] == "2024-03-01T08:00:00+08:00"


def test_summary_per_mode_hand_checked(fp, tmp_path):
    rows = {(r.level, r.shipment_id or r.mode): r for r in summary_rows([fp])}
    road, rail, hub = rows["mode", "road"], rows["mode", "rail"], rows["mode", "hub"]
    # road: 75.075 + 45.045 kg WTW over 500 + 300 tkm; TTW 54.075 + 32.445
    assert road.co2e_wtw_kg == pytest.approx(120.12)
    assert road.co2e_ttw_kg == pytest.approx(86.52)
    assert road.transport_activity_tkm == pytest.approx(800.0)
    assert road.intensity_wtw_g_per_tkm == pytest.approx(150.15)
    # rail: 10 t x 500 km x 14 g = 70 kg, all WTT
    assert (rail.co2e_wtw_kg, rail.co2e_ttw_kg) == (pytest.approx(70.0), 0)
    assert rail.transport_activity_tkm == pytest.approx(5000.0)
    # two hubs: 2 x 10.7 kg WTW, 2 x 3.84 TTW, no tkm, no intensity
    assert hub.co2e_wtw_kg == pytest.approx(21.4) and hub.co2e_ttw_kg == pytest.approx(7.68)
    assert hub.transport_activity_tkm == 0 and hub.intensity_wtw_g_per_tkm is None
    total, ship = rows["total", None], rows["shipment", "CASE-A-DE-580"]
    for r in (total, ship):
        assert r.co2e_wtw_kg == pytest.approx(211.52)
        assert r.co2e_ttw_kg == pytest.approx(94.2)
        assert r.co2e_wtt_kg == pytest.approx(117.32)
        assert r.transport_activity_tkm == pytest.approx(5800.0)
        assert r.tce_count == 5
    assert sum(r.co2e_wtw_kg for r in summary_rows(fp) if r.level == "mode") == pytest.approx(
        211.52
    )
    assert [r.mode for r in summary_rows(fp) if r.level == "mode"] == ["road", "rail", "hub"]
    text = summary_to_csv(fp)
    assert "total,,,5,5800.000,117.320,94.200,211.520,36.469" in text
    golden_bytes(
        "clecat_case_a_de_580km.summary.csv", write_summary_csv(tmp_path / "s.csv", fp).read_bytes()
    )


# ---------------------------------------------------------------- GeoJSON


def _lons(geometry: dict[str, Any]) -> list[float]:
    coords = geometry["coordinates"]
    if geometry["type"] == "Point":
        return [coords[0]]
    lines = coords if geometry["type"] == "MultiLineString" else [coords]
    return [p[0] for line in lines for p in line]


def test_geojson_golden_demo_chain(fp):
    doc = footprints_to_geojson([fp])
    golden_json("clecat_case_a_de_580km.geojson", doc)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 5
    road = doc["features"][0]
    assert road["geometry"] is None  # the demo chain has stated distances, no places
    assert road["properties"]["stroke"] == "#E69F00"
    assert road["properties"]["co2e_wtw_kg"] == 75.075
    assert set(TCE_COLUMNS) <= set(road["properties"])


def test_geojson_golden_located_chain(located):
    doc = footprints_to_geojson(located)
    golden_json("located_chain.geojson", doc)
    road, hub, sea, last = doc["features"]
    assert road["geometry"]["type"] == "LineString"
    assert road["geometry"]["coordinates"] == [[118.78, 32.06], [121.47, 31.23]]
    assert road["properties"]["geometry_source"] == "origin-destination"
    assert hub["geometry"] == {"type": "Point", "coordinates": [121.47, 31.23]}
    assert hub["properties"]["marker-color"] == "#000000"
    assert sea["geometry"]["type"] == "MultiLineString"
    assert sea["properties"]["stroke"] == MODE_COLOURS[Mode.SEA] == "#0072B2"
    assert sea["properties"]["geometry_source"] == "tce geometry"
    assert last["geometry"] is None
    for f in (road, hub, sea):
        assert all(-180 <= x <= 180 for x in _lons(f["geometry"]))
    west, east = sea["geometry"]["coordinates"]
    assert west[-1][0] == 180 and east[0][0] == -180 and west[-1][1] == east[0][1]
    assert east[-1] == [-104.31, 19.05]


def test_antimeridian_split_170_to_190():
    geom = line_geometry([(170.0, 0.0), (190.0, 10.0)])
    assert geom == {
        "type": "MultiLineString",
        "coordinates": [[[170.0, 0.0], [180.0, 5.0]], [[-180.0, 5.0], [-170.0, 10.0]]],
    }
    assert line_geometry([(10.0, 0.0), (20.0, 1.0)]) == {
        "type": "LineString",
        "coordinates": [[10.0, 0.0], [20.0, 1.0]],
    }
    assert line_geometry([(10.0, 0.0)]) is None
    # two laps westward: both crossings cut, every part inside +-180
    parts = split_antimeridian([(-170.0, 0.0), (170.0, 0.0), (-170.0, 0.0)])
    assert len(parts) == 3 and all(-180 <= x <= 180 for p in parts for x, _ in p)
    assert unwrap([(179.0, 0.0), (-179.0, 0.0)]) == ((179.0, 0.0), (181.0, 0.0))
    assert normalise_lon(190.0) == -170.0


def test_routing_geometry_reuses_emissions_geo():
    from greenlane.emissions import geo
    from greenlane.routing.network import geometry

    assert geometry.split_antimeridian is geo.split_antimeridian
    assert geometry.unwrap is geo.unwrap
    assert geometry.normalise_lon is geo.normalise_lon


# ---------------------------------------------------------------- iLEAP and PACT


def test_ileap_golden_and_times(fp, located, ileap_schema):
    doc = to_ileap_shipment_footprint(fp)
    golden_json("clecat_case_a_de_580km.ileap.json", doc)
    assert "departureAt" not in doc["tces"][0]
    loc = to_ileap_shipment_footprint(located)
    assert list(ileap_schema("shipment-footprint.json").iter_errors(loc)) == []
    assert loc["tces"][0]["departureAt"] == "2024-03-01T00:00:00Z"  # 08:00+08:00 in UTC
    assert loc["tces"][2]["arrivalAt"] == "2024-03-20T00:00:00Z"
    assert loc["tces"][0]["origin"]["city"] == "南京 Nanjing"


def test_ileap_naive_time_is_utc_and_bad_time_names_the_tce(fp):
    road = replace(fp.tces[0], departure_at="2024-03-01T08:00:00")
    doc = to_ileap_shipment_footprint(replace(fp, tces=(road, *fp.tces[1:])))
    assert doc["tces"][0]["departureAt"] == "2024-03-01T08:00:00Z"
    bad = replace(fp.tces[0], arrival_at="tomorrow")
    with pytest.raises(InputError) as info:
        to_ileap_shipment_footprint(replace(fp, tces=(bad,)))
    assert info.value.field == "CASE-A-DE-580-1.arrival_at"


def _pact(fp: Footprint, **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "company_name": "Greenlane Demo Logistics 绿道",
        "company_ids": ["urn:uuid:0b6f1e2c-3f43-4d1a-9c55-0d8a4b1f2e3d"],
        "pf_id": PF_ID,
        "created": CREATED,
    }
    return to_pact_product_footprint(fp, **(args | kw))


def test_pact_golden_and_schema(fp, ileap_schema):
    doc = _pact(fp)
    errors = list(ileap_schema("pcf-shipment-footprint.json").iter_errors(doc))
    assert errors == []
    assert fp.data_sha256 in doc["comment"]
    golden_json(
        "clecat_case_a_de_580km.pact.json",
        json.loads(json.dumps(doc, ensure_ascii=False).replace(fp.data_sha256, SHA_PLACEHOLDER)),
    )
    pcf = doc["pcf"]
    assert pcf["declaredUnit"] == "ton kilometer"
    assert pcf["unitaryProductAmount"] == "5800.000"  # sum of TCE transportActivity [tkm]
    assert pcf["pCfExcludingBiogenic"] == pcf["fossilGhgEmissions"] == "211.520"  # kg CO2e
    assert pcf["productMassPerDeclaredUnit"] == "10000.000"
    assert pcf["packagingEmissionsIncluded"] is False and "pCfIncludingBiogenic" not in pcf
    assert pcf["primaryDataShare"] == 0.0
    assert (pcf["referencePeriodStart"], pcf["referencePeriodEnd"]) == (
        "2024-01-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
    )
    assert doc["productIds"] == [
        "urn:pathfinder:product:customcode:vendor-assigned:shipment:CASE-A-DE-580"
    ]
    assert doc["productCategoryCpc"] == "83117"
    (ext,) = doc["extensions"]
    assert ext["dataSchema"] == "https://api.ileap.sine.dev/shipment-footprint.json"
    assert ext["specVersion"] == "2.0.0"
    assert ext["data"] == to_ileap_shipment_footprint(fp)


def test_pact_period_from_tce_times_and_checks(located, fp, ileap_schema):
    doc = _pact(located, assigned_by="buyer")
    assert list(ileap_schema("pcf-shipment-footprint.json").iter_errors(doc)) == []
    assert doc["pcf"]["referencePeriodStart"] == "2024-03-01T00:00:00Z"  # 08:00+08:00
    assert doc["pcf"]["referencePeriodEnd"] == "2024-03-20T00:00:00Z"
    assert doc["productIds"][0].startswith("urn:pathfinder:product:customcode:buyer-assigned:")
    with pytest.raises(InputError) as info:
        _pact(fp, pf_id="not-a-uuid")
    assert info.value.field == "pf_id"
    with pytest.raises(InputError) as info:
        _pact(fp, company_ids=["acme"])
    assert info.value.field == "company_ids"


def test_pact_primary_data_share():
    doc = {
        "shipment_id": "P",
        "mass_t": 10,
        "legs": [
            {
                "mode": "road",
                "distance_km": 100,
                "energy": [
                    {"carrier": "diesel_b0", "amount": 100, "unit": "l", "share_of_vehicle": 0.5}
                ],
            },
            {
                "mode": "rail",
                "distance_km": 100,
                "toc": {"co2e_wtw_g_per_tkm": 14, "co2e_ttw_g_per_tkm": 0},
            },
        ],
    }
    fp = footprint_from_chain(doc)
    road, _rail = fp.tces
    share = _pact(fp)["pcf"]["primaryDataShare"]
    assert share == pytest.approx(100 * road.co2e_wtw_kg / fp.totals.co2e_wtw_kg, abs=0.01)


def test_pact_of_a_parcel_keeps_significant_digits(ileap_schema):
    """0.1 kg over 5 km: 0.0005 tkm; nothing non-zero exports as zero, the PCF validates."""
    doc = {
        "shipment_id": "PARCEL-1",
        "mass_t": 0.0001,
        "legs": [
            {
                "mode": "road",
                "distance_km": 5,
                "toc": {"co2e_wtw_g_per_tkm": 100, "co2e_ttw_g_per_tkm": 80},
            }
        ],
    }
    pcf = _pact(footprint_from_chain(doc))
    assert list(ileap_schema("pcf-shipment-footprint.json").iter_errors(pcf)) == []
    tce = pcf["extensions"][0]["data"]["tces"][0]
    # activity on the SFD: 0.0001 t x 5 km / 1.05 (road actual = SFD x 1.05) = 0.000476 tkm;
    # emissions on the actual 5 km: 0.0005 tkm x 100 g/tkm = 0.00005 kg, x 80 g/tkm = 0.00004 kg
    assert tce["mass"] == "0.100"
    assert tce["distance"] == {"sfd": "4.762"}
    assert tce["transportActivity"] == "0.000476"
    assert tce["co2eWTW"] == "0.0000500"
    assert tce["co2eTTW"] == "0.0000400"
    assert pcf["pcf"]["unitaryProductAmount"] == "0.000476"
    assert pcf["pcf"]["pCfExcludingBiogenic"] == "0.0000500"


# ---------------------------------------------------------------- PDF


def _pdf(fps: Any, **kw: Any) -> bytes:
    args: dict[str, Any] = {
        "title": "南京 → Madrid pilot: route carbon report",
        "plan_id": "PLAN-0001",
        "software_version": "0.1.0",
        "generated_at": CREATED,
    }
    return footprint_report_pdf(fps, **(args | kw))


def _text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_pdf_totals_sections_and_footer(fp):
    pdf = _pdf([fp])
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    for needle in (
        "211.520",
        "94.200",
        "117.320",
        "5,800.000",
        "36.469",  # totals
        "120.120",
        "150.150",
        "21.400",  # per-mode road and hub rows
        "ISO 14083 §13.3",
        "ISO 14083:2023; GLEC Framework v3",
        "AR6",
        "stated in request",
        "modelled",
        "none recorded",
        "not netted",
        "PLAN-0001",
        fp.data_sha256,
        "greenlane 0.1.0",
        "2024-03-01T12:00:00Z",
        "TOC intensity on actual basis",
    ):
        assert needle in text, needle
    assert b"STSong-Light" in pdf  # the CJK title is set in the built-in CID font
    assert "南京 → Madrid pilot" in text  # and maps back to Unicode


def test_pdf_is_deterministic_and_lists_certificates(fp, located):
    assert _pdf([fp]) == _pdf([fp])
    cert = {
        "registry": "RSB Book and Claim",
        "serial": "RSB-2024-000123",
        "kind": "SAF",
        "volume": 12.5,
        "unit": "t CO2e",
        "vintage": 2024,
        "status": "retired",
    }
    pdf = _pdf([fp, located], certificates=[cert])
    assert pdf == _pdf([fp, located], certificates=[copy.deepcopy(cert)])
    text = _text(pdf)
    assert "RSB-2024-000123" in text and "none recorded" not in text
    assert "NKG-ZLO-1" in text and "first departure 2024-03-01T00:00:00Z" in text
    assert _pdf([fp], plan_id="PLAN-0002") != _pdf([fp])


def test_pdf_summary_page_readable_numbers_and_fonts(fp):
    from pypdf import PdfReader

    from greenlane.emissions.report.pdf import Summary, _n

    assert _n(136418.7021) == "136,418.702" and _n(-1234.5) == "-1,234.500" and _n(5) == "5.000"
    summary = Summary(
        cost_cny=123456.4,
        kpi_intensity_g_per_tkm=40.0,
        target_year=2030,
        target_g_per_tkm=26.68,
        tradeoff=[(250.0, 900.0), (211.52, 1000.0), (180.0, 1500.0)],
        chosen=(211.52, 1000.0),
    )
    pdf = _pdf([fp], title="Łódź → Kırıkkale → Madrid", summary=summary)
    pages = PdfReader(io.BytesIO(pdf)).pages
    first = pages[0].extract_text()
    for needle in (
        "Łódź → Kırıkkale → Madrid",  # DejaVu covers ł, ı and the arrow
        "Summary",
        "211.5 kg",  # WTW
        "5,800 tkm",
        "36.47 g CO2e/tkm",  # 211.52 kg / 5800 tkm on the actual distance
        "123,456 CNY",
        "40.00 g CO2e/tkm",
        "Target 2030",
        "+13.32 g/tkm, above the target",  # 40.00 - 26.68
        "great-circle distance origin → destination",
        "the ring is this plan",
    ):
        assert needle in first, needle
    assert "1 Scope" not in first and "1 Scope" in pages[1].extract_text()
    fonts = {
        str(font["/BaseFont"])
        for page in pages
        for font in page["/Resources"]["/Font"].values()
        if "/BaseFont" in font.get_object()
    }
    assert any(f.endswith("DejaVuSans") for f in fonts), fonts  # embedded subset
    assert not any("STSong" in f for f in fonts)  # no CJK text: no CID font needed
    assert pdf == _pdf([fp], title="Łódź → Kırıkkale → Madrid", summary=summary)
    # Without plan context page 1 still carries the totals, and no target is invented.
    plain = PdfReader(io.BytesIO(_pdf([fp]))).pages[0].extract_text()
    assert "36.47 g CO2e/tkm" in plain and "Target" not in plain
