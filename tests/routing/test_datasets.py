"""Datasets: own tables over the shipped data/, validated whole, content-addressed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from greenlane.data import DATA_DIR
from greenlane.emissions.tables import tables_sha256
from greenlane.routing import datasets
from greenlane.routing.datasets import (
    DatasetError,
    default_dataset,
    diff_datasets,
    load_dataset,
    load_dataset_files,
)
from greenlane.routing.network.graph import load_network

ROOT = Path(__file__).resolve().parents[2]
NO_AIR = ROOT / "data" / "examples" / "datasets" / "no_air"
BOOK = ROOT / "data" / "examples" / "shipments.csv"


def _rows(name: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO((DATA_DIR / name).read_text(encoding="utf-8")))
    return list(reader.fieldnames or []), list(reader)


def _csv(header: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def _cache_entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_no_air_lanes_give_a_plan_without_air_legs(tmp_path):
    """The done-when: a dataset holding only lanes.csv without air lanes replaces the lanes
    table, so no plan leg flies; the plan records the dataset."""
    from greenlane.routing import PlanOptions, SolverParams, plan, read_book

    ds = load_dataset(NO_AIR, cache_dir=tmp_path)
    _, lanes = _rows("lanes.csv")
    air = [r["lane_id"] for r in lanes if r["mode"] == "air"]
    assert len(air) == 32  # grep -c ',air,' data/lanes.csv
    assert ds.changes["lanes"].mode == "replace"
    assert ds.changes["lanes"].rows == 219 - 32
    assert set(ds.changes["lanes"].removed) == set(air)
    assert ds.changes["lanes"].added == () and ds.changes["lanes"].replaced == ()
    assert ds.data_dir == tmp_path / ds.sha256[:24]
    net = load_network(ds.data_dir)
    assert not [lane for lane in net.lanes if str(lane.mode) == "air"]
    options = PlanOptions(
        data_dir=ds.data_dir, dataset_id=ds.dataset_id, solver=SolverParams(time_limit_s=20)
    )
    result = plan(read_book(BOOK), net, options)
    assert result.shipments
    assert all(leg.mode != "air" for s in result.shipments for leg in s.legs)
    assert result.dataset == {"id": ds.dataset_id, "sha256": ds.sha256}
    # the urgent shipments could only fly: unplanned, with the reason
    unplanned = {u.shipment_id for u in result.unplanned}
    assert {"NKG-MAD-URGENT", "CSX-MAD-AIR"} <= unplanned


def test_override_one_lane_capacity_by_id(tmp_path):
    header, lanes = _rows("lanes.csv")
    row = dict(lanes[0], capacity_t_per_departure="123456")  # SEA-CNSHA-NLRTM, shipped 240000
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "lanes.csv").write_text(_csv(header, [row]), encoding="utf-8")
    (tmp_path / "in" / "dataset.json").write_text('{"mode": {"lanes": "merge"}}')
    ds = load_dataset(tmp_path / "in", "acme", cache_dir=tmp_path / "cache")
    assert ds.dataset_id == "acme"
    assert ds.changes["lanes"].replaced == ("SEA-CNSHA-NLRTM",)
    assert ds.changes["lanes"].removed == () and ds.changes["lanes"].added == ()
    net = load_network(ds.data_dir)
    assert net.lane("SEA-CNSHA-NLRTM").capacity_t_per_departure == 123456.0
    assert net.lane("SEA-CNSHA-NLRTM:rev").capacity_t_per_departure == 123456.0
    assert net.lane("SEA-CNNGB-NLRTM").capacity_t_per_departure == 240000.0  # untouched
    assert len(net.lanes) == len(load_network().lanes)
    diff = diff_datasets(default_dataset(), ds)
    assert set(diff.tables) == {"lanes"}
    assert diff.tables["lanes"].changed == ("SEA-CNSHA-NLRTM",)


def test_delete_a_hub_that_lanes_use_names_the_lane_row(tmp_path):
    """CNSHA is the origin of the first lane of data/lanes.csv (line 2)."""
    text = "hub_id,_delete\nCNSHA,1\n"
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError) as err:
        load_dataset_files({"hubs.csv": text.encode()}, cache_dir=cache)
    e = err.value
    assert (e.table, e.line, e.column) == ("lanes.csv", 2, "origin")
    assert e.field == "lanes.csv (shipped)[line 2].origin"
    assert "unknown hub 'CNSHA'" in e.message
    assert _cache_entries(cache) == []  # nothing half-imported


def test_delete_column_needs_only_the_id_and_removes_the_row(tmp_path):
    """A removal names only the id: the bidirectional lane SEA-CNSHA-NLRTM goes, with its
    reverse direction (438 directed lanes -> 436)."""
    ds = load_dataset_files(
        {"lanes.csv": b"lane_id,_delete\nSEA-CNSHA-NLRTM,1\n"}, cache_dir=tmp_path
    )
    assert ds.changes["lanes"].mode == "merge"
    assert ds.changes["lanes"].removed == ("SEA-CNSHA-NLRTM",)
    net = load_network(ds.data_dir)
    assert len(load_network().lanes) == 438
    assert len(net.lanes) == 436  # the lane and its :rev


def test_bad_cell_names_table_line_column_and_writes_nothing(tmp_path):
    header, lanes = _rows("lanes.csv")
    rows = [dict(lanes[0]), dict(lanes[1], capacity_t_per_departure="lots")]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "lanes.csv").write_text(_csv(header, rows), encoding="utf-8")
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError) as err:
        load_dataset(tmp_path / "in", cache_dir=cache)
    assert err.value.field == "lanes.csv[line 3].capacity_t_per_departure"
    assert "'lots'" in err.value.message
    assert _cache_entries(cache) == []


def test_given_lane_with_unknown_hub_names_the_given_line(tmp_path):
    header, lanes = _rows("lanes.csv")
    rows = [dict(lanes[0], lane_id="NEW-1", destination="XXNOPE")]
    files = {
        "lanes.csv": _csv(header, rows).encode(),
        "dataset.json": b'{"mode":{"lanes":"merge"}}',
    }
    with pytest.raises(DatasetError) as err:
        load_dataset_files(files, cache_dir=tmp_path)
    assert err.value.field == "lanes.csv[line 2].destination"


def test_xlsx_and_json_hash_as_the_equivalent_folder(tmp_path):
    import openpyxl

    header, lanes = _rows("lanes.csv")
    row = dict(lanes[0], capacity_t_per_departure="120000", departures_per_week="4.5")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "lanes.csv").write_text(_csv(header, [row]), encoding="utf-8")
    (folder / "dataset.json").write_text('{"mode": {"lanes": "merge"}}')
    a = load_dataset(folder, cache_dir=tmp_path / "c1")

    def typed(col: str, value: str) -> object:
        if col in ("capacity_t_per_departure", "bidirectional"):
            return int(value)
        if col == "departures_per_week":
            return float(value)
        return value or None

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "lanes"
    ws.append(header)
    ws.append([typed(c, row[c]) for c in header])
    modes = book.create_sheet("_dataset")
    modes.append(["table", "mode"])
    modes.append(["lanes", "merge"])
    xlsx = tmp_path / "data.xlsx"
    book.save(xlsx)
    b = load_dataset(xlsx, cache_dir=tmp_path / "c2")

    doc = {"mode": {"lanes": "merge"}, "tables": {"lanes": [{c: typed(c, row[c]) for c in header}]}}
    js = tmp_path / "data.json"
    js.write_text(json.dumps(doc))
    c = load_dataset(js, cache_dir=tmp_path / "c3")
    assert a.sha256 == b.sha256 == c.sha256
    assert a.changes == b.changes == c.changes
    assert a.changes["lanes"].replaced == ("SEA-CNSHA-NLRTM",)
    assert load_network(c.data_dir).lane("SEA-CNSHA-NLRTM").departures_per_week == 4.5


def test_sha_is_stable_and_the_shipped_content_hashes_as_default(tmp_path):
    a = load_dataset(NO_AIR, cache_dir=tmp_path / "a")
    b = load_dataset(NO_AIR, cache_dir=tmp_path / "b")
    assert a.sha256 == b.sha256 == tables_sha256(a.data_dir)
    assert a.dataset_id == f"ds-{a.sha256[:12]}"
    same = load_dataset_files(
        {"lanes.csv": (DATA_DIR / "lanes.csv").read_bytes()}, cache_dir=tmp_path / "c"
    )
    assert same.sha256 == default_dataset().sha256
    assert same.changes["lanes"].added == same.changes["lanes"].removed == ()
    # a second load of cached content reuses the folder
    again = load_dataset(NO_AIR, cache_dir=tmp_path / "a")
    assert again.data_dir == a.data_dir and _cache_entries(tmp_path / "a") == [a.sha256[:24]]


@pytest.mark.parametrize(
    ("files", "field", "words"),
    [
        ({"routes.csv": b"a\n1\n"}, "routes.csv", "unknown table 'routes'"),
        (
            {"fx_rates.csv": b"currency,cny_per_unit,source,year,rate\n"},
            "fx_rates.csv[line 1].rate",
            "unknown column",
        ),
        (
            {"fx_rates.csv": b"currency,date,source,year\nEUR,2024-12-31,x,2024\n"},
            "fx_rates.csv[line 1].cny_per_unit",
            "required column",
        ),
        (
            {
                "fx_rates.csv": b"currency,date,cny_per_unit,source,year\n"
                b"CNY,2024-12-31,1,x,2024\nCNY,2024-12-31,1,y,2024\n"
            },
            "fx_rates.csv[line 3].currency",
            "duplicate id",
        ),
        (
            {"lanes.csv": b"lane_id,_delete\nNOPE,1\n"},
            "lanes.csv[line 2].lane_id",
            "no shipped row",
        ),
        (
            {"lanes.csv": b"lane_id,_delete\nSEA-CNSHA-NLRTM,2\n"},
            "lanes.csv[line 2]._delete",
            "must be 1",
        ),
        (
            {
                "lanes.csv": b"lane_id,_delete\nSEA-CNSHA-NLRTM,1\n",
                "dataset.json": b'{"mode":{"lanes":"replace"}}',
            },
            "lanes.csv[line 1]._delete",
            "declare it 'merge'",
        ),
        (
            {
                "dataset.json": b'{"mode":{"lanes":"merge"}}',
                "hubs.csv": (DATA_DIR / "hubs.csv").read_bytes(),
            },
            "mode",
            "does not give",
        ),
        ({"notes.txt": b"hello"}, "notes.txt", "unknown file"),
    ],
)
def test_errors_name_table_row_and_column(tmp_path, files, field, words):
    with pytest.raises(DatasetError) as err:
        load_dataset_files(files, cache_dir=tmp_path)
    assert err.value.field == field
    assert words in err.value.message
    assert _cache_entries(tmp_path) == []


def test_fx_rate_and_rate_card_come_from_the_dataset(tmp_path):
    """Every table comes from the dataset: a new currency CHF at 8 CNY, and the rate card
    sea_cn_north_europe_spot (2052 per FEU of 20 t) sold in CHF: 2052 / 20 x 8 = 820.8 CNY/t."""
    from greenlane.fleet.rates import rate_cards

    fx_header, _ = _rows("fx_rates.csv")
    chf = {
        "currency": "CHF",
        "cny_per_unit": "8",
        "source": "test",
        "year": "2024",
        "date": "2024-12-31",  # the fixing before the card's date (2026-03-05) applies
        "licence": "test",
        "note": "",
    }
    rc_header, cards = _rows("rate_cards.csv")
    card = next(r for r in cards if r["rate_id"] == "sea_cn_north_europe_spot")
    assert (card["value"], card["t_per_unit"], card["currency"]) == ("2052", "20", "USD")
    files = {
        "fx_rates.csv": _csv(fx_header, [chf]).encode(),
        "rate_cards.csv": _csv(rc_header, [dict(card, currency="CHF")]).encode(),
        "dataset.json": b'{"mode": {"fx_rates": "merge", "rate_cards": "merge"}}',
    }
    ds = load_dataset_files(files, cache_dir=tmp_path)
    assert ds.changes["fx_rates"].added == ("CHF/2024-12-31",)
    assert ds.changes["rate_cards"].replaced == ("sea_cn_north_europe_spot",)
    got = next(c for c in rate_cards(ds.data_dir) if c.rate_id == "sea_cn_north_europe_spot")
    assert got.cny_per_t(ds.data_dir) == pytest.approx(820.8)


def test_lane_pricing_reads_the_dataset_vehicle_types(tmp_path):
    """A road lane priced on a dataset whose diesel truck costs 1000 CNY more per departure:
    the per-vehicle cost of the diesel option rises by exactly 1000 CNY (200 -> 1200)."""
    from greenlane.routing.planner.pricing import price_lane

    header, types = _rows("vehicle_types.csv")
    truck = next(r for r in types if r["type_id"] == "truck_40t_diesel")
    assert truck["fixed_cost_cny_per_departure"] == "200"
    files = {
        "vehicle_types.csv": _csv(
            header, [dict(truck, fixed_cost_cny_per_departure="1200")]
        ).encode(),
        "dataset.json": b'{"mode": {"vehicle_types": "merge"}}',
    }
    ds = load_dataset_files(files, cache_dir=tmp_path)
    net = load_network()
    lane = next(
        lane
        for lane in net.lanes
        if "truck_40t_diesel" in lane.vehicle_types and not lane.reverse_of
    )

    def diesel(data_dir: Path) -> dict[str, float]:
        opts = price_lane(lane, net.hubs[lane.origin], data_dir=data_dir)
        return {o.carrier: o.vehicle_cost_cny for o in opts if o.vehicle_id == "truck_40t_diesel"}

    own, shipped = diesel(ds.data_dir), diesel(DATA_DIR)
    assert own and own.keys() == shipped.keys()
    for key in own:
        assert own[key] - shipped[key] == pytest.approx(1000.0)


def test_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "MAX_DATASET_ROWS", 100)
    with pytest.raises(DatasetError) as err:
        load_dataset(NO_AIR, cache_dir=tmp_path)
    assert err.value.field == "lanes.csv[line 102]"
    assert "limit of 100 rows" in err.value.message


def test_diff_of_no_air_against_default(tmp_path):
    ds = load_dataset(NO_AIR, cache_dir=tmp_path)
    diff = diff_datasets(default_dataset(), ds)
    assert set(diff.tables) == {"lanes"}
    assert len(diff.tables["lanes"].removed) == 32
    assert diff.tables["lanes"].added == diff.tables["lanes"].changed == ()
    assert diff.to_dict()["base"]["id"] == "default"


def test_plan_json_names_the_default_dataset():
    from greenlane.emissions.tables import dataset_ref

    ref = dataset_ref(None)
    assert ref == {"id": "default", "sha256": default_dataset().sha256}
    assert ref["sha256"] == tables_sha256(DATA_DIR)


def test_workbook_and_json_errors_name_sheet_row_and_column(tmp_path):
    import openpyxl

    header, lanes = _rows("lanes.csv")
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Lanes"
    ws.append(header)
    ws.append([lanes[0][c] for c in header])
    ws.append([lanes[1][c] if c != "mode" else "teleport" for c in header])
    xlsx = tmp_path / "data.xlsx"
    book.save(xlsx)
    with pytest.raises(DatasetError) as err:
        load_dataset(xlsx, cache_dir=tmp_path / "c")
    assert err.value.field == "data.xlsx:Lanes[line 3].mode"  # sheet names ignore case
    doc = {"tables": {"hubs": [{"hub_id": "X-1", "lat": [1, 2]}]}}
    with pytest.raises(DatasetError) as err:
        load_dataset_files({"d.json": json.dumps(doc).encode()}, cache_dir=tmp_path / "c")
    assert err.value.field == "d.json:tables.hubs[line 2].lat"
    assert "must be text, a number or empty" in err.value.message
    with pytest.raises(DatasetError) as err:
        load_dataset_files({"d.json": b'{"tables": {"hubs": []}, "x": 1}'}, cache_dir=tmp_path)
    assert "unknown key 'x'" in err.value.message
    assert _cache_entries(tmp_path / "c") == []


def test_a_new_hub_and_its_lane_join_the_network(tmp_path):
    """A company site added by id with a road lane to the Hamburg quay (merge mode)."""
    hub_header, hubs = _rows("hubs.csv")
    lane_header, lanes = _rows("lanes.csv")
    factory = next(h for h in hubs if h["kind"] == "factory")
    site = dict(factory, hub_id="F-BERLIN", name="Own site Berlin", lat="52.52", lon="13.405")
    site.update(country="DE", region="DE", note="test site")
    road = next(r for r in lanes if r["mode"] == "road")
    lane = dict(road, lane_id="ROAD-F-BERLIN-DEHAM", origin="F-BERLIN", destination="DEHAM")
    lane.update(distance_km="", distance_source="", transit_h="")
    files = {
        "hubs.csv": _csv(hub_header, [site]).encode(),
        "lanes.csv": _csv(lane_header, [lane]).encode(),
        "dataset.json": b'{"mode": {"hubs": "merge", "lanes": "merge"}}',
    }
    ds = load_dataset_files(files, "berlin", cache_dir=tmp_path)
    assert ds.changes["hubs"].added == ("F-BERLIN",)
    assert ds.changes["lanes"].added == ("ROAD-F-BERLIN-DEHAM",)
    net = load_network(ds.data_dir)
    assert net.hubs["F-BERLIN"].lat == 52.52
    assert net.graph.has_edge("F-BERLIN", "DEHAM")
    diff = diff_datasets(default_dataset(), ds)
    assert diff.tables["hubs"].added == ("F-BERLIN",)


def test_a_registered_new_table_is_checked_by_its_own_loader(tmp_path, monkeypatch):
    """A table data/ does not ship (here a toy schedule) becomes importable with a TableSpec;
    its check runs on the merged folder and its errors name the given row."""
    from greenlane.emissions.errors import DataError
    from greenlane.emissions.tables import TableRow, Text, read_table

    class ScheduleRow(TableRow):
        service_id: Text
        lane_id: Text
        weekday: int
        source: Text

    def check(folder: Path) -> None:
        lanes = {lane.lane_id for lane in load_network(folder).lanes}
        for row in read_table(folder / "sailings.csv", ScheduleRow):
            if row.lane_id not in lanes:
                raise DataError("unknown lane", file=row.file, line=row.line, column="lane_id")

    spec = datasets.TableSpec(
        "sailings.csv",
        ("service_id",),
        columns=("service_id", "lane_id", "weekday", "source"),
        check=check,
    )
    monkeypatch.setitem(datasets.TABLES, "sailings", spec)
    ok = b"service_id,lane_id,weekday,source\nAE1,SEA-CNSHA-NLRTM,2,test\n"
    ds = load_dataset_files({"sailings.csv": ok}, cache_dir=tmp_path / "a")
    assert ds.changes["sailings"].added == ("AE1",)
    assert (ds.data_dir / "sailings.csv").read_bytes() == ok
    bad = ok + b"AE2,NO-SUCH-LANE,3,test\n"
    with pytest.raises(DatasetError) as err:
        load_dataset_files({"sailings.csv": bad}, cache_dir=tmp_path / "b")
    assert err.value.field == "sailings.csv[line 3].lane_id"
    assert err.value.to_dict()["line"] == 3
    # a dataset that does not give the new table leaves it out, as data/ does
    same = load_dataset_files(
        {"lanes.csv": (DATA_DIR / "lanes.csv").read_bytes()}, cache_dir=tmp_path / "c"
    )
    assert same.sha256 == default_dataset().sha256
    assert not (same.data_dir / "sailings.csv").exists()


def test_a_stored_dataset_is_found_again_by_its_hash(tmp_path):
    ds = load_dataset(NO_AIR, "no-air", cache_dir=tmp_path)
    again = datasets.cached_dataset(ds.sha256, "no-air", cache_dir=tmp_path)
    assert again == ds
    assert datasets.cached_dataset(default_dataset().sha256) == default_dataset()
    with pytest.raises(DatasetError) as err:
        datasets.cached_dataset("0" * 64, cache_dir=tmp_path)
    assert err.value.field == "sha256"


def test_a_lane_left_without_any_priced_option_is_named(tmp_path):
    """Removing every GLOBAL, SG and NL energy price leaves the ships of the first lane
    (SEA-CNSHA-NLRTM, Shanghai-Rotterdam) without a priced fuel: its kind of lane is named."""
    _, prices = _rows("energy_prices.csv")
    gone = [r for r in prices if r["region"] in ("GLOBAL", "SG", "NL")]
    body = "carrier,region,_delete\n" + "".join(f"{r['carrier']},{r['region']},1\n" for r in gone)
    with pytest.raises(DatasetError) as err:
        load_dataset_files({"energy_prices.csv": body.encode()}, cache_dir=tmp_path)
    e = err.value
    assert e.field.startswith("lanes.csv (shipped)[line ") and e.column == "vehicle_types"
    assert "SEA-CN" in e.message and "-NLRTM" in e.message
    assert "no vehicle type/carrier of the lane is priced in its region" in e.message
    assert _cache_entries(tmp_path) == []


def test_targets_and_transit_variability_come_from_the_dataset(tmp_path):
    """A target of 40 g/tkm in 2023 cut by 25 % by 2030 -> 40 x 0.75 = 30 g/tkm in 2030; a sea
    cv of 0.5 on a 100 h leg -> arrival sd 0.5 x 100 = 50 h."""
    from greenlane.emissions.model import Mode
    from greenlane.routing import PlanOptions
    from greenlane.routing.network.transit_risk import arrival_sd_h

    t_header, _ = _rows("targets.csv")
    target = {
        "baseline_year": "2023",
        "baseline_intensity_g_per_tkm": "40",
        "target_year": "2030",
        "reduction_share": "0.25",
        "source": "own commitment",
        "note": "",
    }
    v_header, cvs = _rows("transit_variability.csv")
    own_cv = [dict(r, cv="0.5") if r["mode"] == "sea" else r for r in cvs]
    files = {
        "targets.csv": _csv(t_header, [target]).encode(),
        "transit_variability.csv": _csv(v_header, own_cv).encode(),
    }
    ds = load_dataset_files(files, cache_dir=tmp_path / "a")
    options = PlanOptions(data_dir=ds.data_dir)
    assert options.company_target().intensity_g_per_tkm(2023) == pytest.approx(40.0)
    assert options.company_target().intensity_g_per_tkm(2030) == pytest.approx(30.0)
    assert arrival_sd_h([(Mode.SEA, 100.0)], ds.data_dir) == pytest.approx(50.0)
    assert arrival_sd_h([(Mode.SEA, 100.0)]) == pytest.approx(12.0)  # shipped cv 0.12
    only_sea = _csv(v_header, [r for r in cvs if r["mode"] == "sea"]).encode()
    with pytest.raises(DatasetError) as err:
        load_dataset_files({"transit_variability.csv": only_sea}, cache_dir=tmp_path / "b")
    assert err.value.field == "transit_variability.csv.mode"
    assert "road" in err.value.message and "air" in err.value.message


def test_damaged_or_doubled_input_is_refused_cleanly(tmp_path):
    import os
    import time

    with pytest.raises(DatasetError) as err:
        load_dataset_files({"book.xlsx": b"PK\x03\x04 not a zip"}, cache_dir=tmp_path)
    assert err.value.field == "book.xlsx" and "not a readable XLSX" in err.value.message
    lanes = (DATA_DIR / "lanes.csv").read_bytes()
    with pytest.raises(DatasetError) as err:
        load_dataset_files({"lanes.csv": lanes, "Lanes.csv": lanes}, cache_dir=tmp_path)
    assert "given twice" in err.value.message
    # a temporary folder an interrupted load left more than an hour ago is swept
    stale = tmp_path / ".tmp-interrupted"
    stale.mkdir()
    old = time.time() - 2 * datasets.STALE_TMP_S
    os.utime(stale, (old, old))
    ds = load_dataset(NO_AIR, cache_dir=tmp_path)
    assert _cache_entries(tmp_path) == [ds.sha256[:24]]


def test_a_json_document_named_dataset_json_alone_is_read_as_tables(tmp_path):
    doc = {
        "mode": {"lanes": "merge"},
        "tables": {"lanes": [{"lane_id": "AIR-PVG-FRA", "_delete": 1}]},
    }
    ds = load_dataset_files({"dataset.json": json.dumps(doc).encode()}, cache_dir=tmp_path)
    assert ds.changes["lanes"].removed == ("AIR-PVG-FRA",)


def test_timetables_and_carrier_numbers_are_dataset_tables(tmp_path):
    """schedules.csv and carrier_intensities.csv are checked by their own loaders on the
    merged folder; lanes.csv may add the optional carrier column the shipped file lacks."""
    demos = ROOT / "data" / "examples" / "datasets"
    sched = load_dataset(demos / "schedules_demo", cache_dir=tmp_path / "s")
    assert sched.changes["schedules"].rows == 4  # DEMO-AEX1 both ways, DEMO-XDR, DEMO-PVG-FRA
    carriers = load_dataset(demos / "carrier_demo", cache_dir=tmp_path / "c")
    assert carriers.changes["lanes"].mode == "merge"
    assert len(carriers.changes["lanes"].replaced) == 2
    net = load_network(carriers.data_dir)
    assert net.lane("RAIL-CNXAN-DEDUI").carrier == "DemoRail"
    header = (demos / "schedules_demo" / "schedules.csv").read_bytes().splitlines()[0]
    bad = (
        header
        + b"\nX1,SEA-NOPE,,,sea,L,Tue,,18:00,8,48,744,,2026-11-01,2027-04-30,s,2026-12-06,CC0,\n"
    )
    with pytest.raises(DatasetError) as err:
        load_dataset_files({"schedules.csv": bad}, cache_dir=tmp_path / "b")
    assert err.value.field == "schedules.csv[line 2].lane_id"
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
