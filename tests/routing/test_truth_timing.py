"""Timing a planner believes and electricity where it is used (issue 14, items 3 and 5):
sea time by the route sailed, customs dwell at borders, grid mix of electric lanes."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import DataError
from greenlane.emissions.factors import load_factors
from greenlane.emissions.units import KM_PER_NM
from greenlane.routing import load_network
from greenlane.routing.datasets import TABLES
from greenlane.routing.network.border import border_dwell
from greenlane.routing.network.graph import PASSAGE_RULES, sea_transit_h
from greenlane.routing.network.schedules import ScheduleRow, lane_schedules
from greenlane.routing.network.segments import lane_segments
from greenlane.routing.planner.candidates import EPOCH, CandidateBuilder
from greenlane.routing.planner.pricing import price_lane
from greenlane.routing.scenarios.disruptions import apply_disruptions, parse_disruptions

RED_SEA = [
    {"disruption_id": f"rs-{p}", "kind": "passage", "ref": p, "start": "2026-01-01",
     "end": "2027-01-01"}
    for p in ("suez", "babalmandab")
]  # fmt: skip
XIAN_DUISBURG = (
    "ROAD-F-XIAN-CNXAN",
    "RAIL-CNXAN-X-KHORGOS",
    "RAIL-X-KHORGOS-X-MALASZEWICZE",
    "RAIL-X-MALASZEWICZE-DEDUI",
)


@pytest.fixture(scope="module")
def network():
    """The shipped network."""
    return load_network()


@pytest.fixture(scope="module")
def builder(network):
    """Candidates on the shipped data."""
    return CandidateBuilder(network)


def _copy(tmp_path: Path, **tables: str) -> Path:
    """The shipped tables in ``tmp_path``, with ``tables`` (name without .csv -> text)."""
    for f in DATA_DIR.glob("*.csv"):
        shutil.copy(f, tmp_path)
    for name, text in tables.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


def _diesel(b: CandidateBuilder, lane_ids):
    return tuple(next(o for o in b.options(x) if "diesel" in o.vehicle_id) for x in lane_ids)


# ---------------------------------------------------------------- sea time by the route sailed


def test_suez_lane_time_includes_the_canal(network):
    lane = network.lane("SEA-CNSHA-NLRTM")
    assert "suez" in lane.passages
    # 16 kn = 29.632 km/h; + 24 h port stay; Suez: 14 h in convoy + 3 h waiting
    # - 193.3 km / 29.632 km/h (6.5234 h already sailed) = +10.4766 h
    speed = 16 * KM_PER_NM
    assert speed == pytest.approx(29.632)
    expected = lane.distance_km / 29.632 + 24 + (14 + 3 - 193.3 / 29.632)
    assert lane.transit_h == pytest.approx(expected)
    assert PASSAGE_RULES["suez"].extra_h == pytest.approx(10.4766, abs=1e-4)
    assert "suez: +10.5 h" in lane.transit_rule


def test_red_sea_closure_goes_round_the_cape_with_time_and_emissions(network):
    before = network.lane("SEA-CNSHA-NLRTM")
    disrupted, changes = apply_disruptions(network, parse_disruptions(RED_SEA, network))
    after = disrupted.lane("SEA-CNSHA-NLRTM")
    # round the Cape, not through Panama (no canal the service did not sail before)
    assert not {"suez", "babalmandab", "panama"} & set(after.passages)
    assert after.distance_km > before.distance_km + 5000
    # time: the new route at 16 kn + 24 h, no canal; the old one had Suez
    extra = after.distance_km / 29.632 + 24 - (before.distance_km / 29.632 + 24 + 10.4766)
    assert after.transit_h - before.transit_h == pytest.approx(extra, abs=1e-3)
    assert after.disruption_extra_h == pytest.approx(extra, abs=1e-3)
    assert after.transit_h == pytest.approx(sea_transit_h(after.distance_km, after.passages))
    assert len([r for r in after.distance_rules if r.startswith("re-routed")]) == 1
    # the figures of README "Timing" (searoute 1.6.0 sea-lane network)
    assert (before.distance_km, before.transit_h) == pytest.approx((19610.1, 696.3), abs=0.1)
    assert (after.distance_km, after.transit_h) == pytest.approx((25758.6, 893.3), abs=0.1)
    assert changes["SEA-CNSHA-NLRTM"].startswith("re-routed avoiding babalmandab, suez")
    # emissions follow the distance: the same vessel emits the same per t-km
    old = price_lane(before, network.hubs[before.origin])[0]
    new = price_lane(after, network.hubs[after.origin])[0]
    assert old.key == new.key
    assert new.wtw_kg_per_t / new.distance_km == pytest.approx(old.wtw_kg_per_t / old.distance_km)
    assert new.distance_km / old.distance_km == pytest.approx(
        after.distance_km / before.distance_km
    )
    assert (old.wtw_kg_per_t, new.wtw_kg_per_t) == pytest.approx((111.51, 146.47), abs=0.01)


def test_a_rerouted_or_delayed_timetable_departs_later(network):
    row = ScheduleRow.model_validate(
        {
            "service_id": "AE1",
            "lane_id": "SEA-CNSHA-NLRTM",
            "origin": "",
            "destination": "",
            "mode": "",
            "carrier": "LineX",
            "weekdays": "Tue",
            "dates": "",
            "departure_time": "10:00",
            "cutoff_h": 24,
            "transit_h": 720,
            "capacity_t": None,
            "valid_from": "2026-12-01",
            "valid_to": "2026-12-31",
            "source": "test",
            "date": "2026-12-06",
            "licence": "CC0-1.0",
        }
    )
    delay = {
        "disruption_id": "port",
        "kind": "lane",
        "ref": "SEA-CNSHA-NLRTM",
        "start": "2026-01-01",
        "end": "2027-01-01",
        "effect": "delay",
        "delay_h": 48,
    }
    disrupted, _ = apply_disruptions(network, parse_disruptions([*RED_SEA, delay], network))
    lane = disrupted.lane("SEA-CNSHA-NLRTM")
    plain = lane_schedules(network, [row], EPOCH)["SEA-CNSHA-NLRTM"].departures[0]
    moved = lane_schedules(disrupted, [row], EPOCH)["SEA-CNSHA-NLRTM"].departures[0]
    assert plain.transit_h == 720
    # 720 h of the timetable + the Cape's extra sailing + the 48 h delay
    assert moved.transit_h == pytest.approx(720 + lane.disruption_extra_h)
    assert lane.disruption_extra_h > 48 + 150


# ------------------------------------------------------------------------ customs / border dwell


def test_xian_duisburg_arrives_later_by_the_two_border_dwells(tmp_path, builder):
    shipped = builder.timings(_diesel(builder, XIAN_DUISBURG), 100.0)
    header = "scope,hub_id,hub_kind,dwell_h,data_quality,source,date,licence,note\n"
    (tmp_path / "none").mkdir()
    none_dir = _copy(tmp_path / "none", border_dwell=header)
    b0 = CandidateBuilder(load_network(none_dir), data_dir=none_dir)
    bare = b0.timings(_diesel(b0, XIAN_DUISBURG), 100.0)
    table = border_dwell(DATA_DIR)
    assert (table.border_crossing_h, table.entry_h("border_crossing")) == (12.0, 12.0)
    # Khorgos: border crossing 12 h; Malaszewicze: border crossing and EU entry at a rail
    # border, the larger default max(12, 12) = 12 h. Trains leave every 24 h / 12 h, so the
    # 12 h and 24 h shift by whole slots: arrival in Duisburg = + 12 + 12 = + 24 h, exactly.
    assert shipped[1].arrive_h == bare[1].arrive_h  # Xi'an -> Khorgos: before any border
    assert shipped[2].depart_h - bare[2].depart_h == pytest.approx(12.0, abs=1e-9)
    assert shipped[-1].arrive_h - bare[-1].arrive_h == pytest.approx(12.0 + 12.0, abs=1e-9)
    customs = builder.customs(XIAN_DUISBURG)
    assert [h for h, _ in customs.hubs] == [0.0, 0.0, 12.0, 12.0, 0.0]
    assert "EU/EEA entry at X-MALASZEWICZE (default)" in customs.hubs[3][1]


def test_a_hub_row_overrides_the_default(tmp_path, builder):
    text = (
        "scope,hub_id,hub_kind,dwell_h,data_quality,source,date,licence,note\n"
        "border_crossing,,,12,EST,test,2026,CC0-1.0,\n"
        "eu_entry,,,24,EST,test,2026,CC0-1.0,\n"
        "hub,X-MALASZEWICZE,,48,EST,test,2026,CC0-1.0,\n"
    )
    folder = _copy(tmp_path, border_dwell=text)
    b = CandidateBuilder(load_network(folder), data_dir=folder)
    shipped = builder.timings(_diesel(builder, XIAN_DUISBURG), 100.0)
    own = b.timings(_diesel(b, XIAN_DUISBURG), 100.0)
    # 48 h instead of 12 h at Malaszewicze (whole 12 h slots): 36 h later
    assert own[-1].arrive_h - shipped[-1].arrive_h == pytest.approx(48.0 - 12.0, abs=1e-9)
    assert "X-MALASZEWICZE (hub row)" in b.customs(XIAN_DUISBURG).hubs[3][1]


def test_a_through_train_waits_at_the_borders_it_crosses(tmp_path, builder):
    # the shipped Xi'an -> Duisburg lane has a published transit (312 h, 13 days) that holds
    # its border stops: the entry is counted (no second one at DEDUI), no extra hours
    lanes = ("ROAD-F-XIAN-CNXAN", "RAIL-CNXAN-DEDUI")
    customs = builder.customs(lanes)
    assert customs.lanes[1][0] == 0.0
    assert "in the lane's published transit time" in customs.lanes[1][1]
    assert [h for h, _ in customs.hubs] == [0.0, 0.0, 0.0]
    # the same lane timed by rule (no transit_h): CN -> EAEU (Kazakhstan) 12 h; EAEU -> EU
    # entry at a rail border: max(12, 12) = 12 h; DEDUI is still not a second EU entry
    with open(DATA_DIR / "lanes.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    (row,) = [r for r in rows if r["lane_id"] == "RAIL-CNXAN-DEDUI"]
    assert row["transit_h"] == "312"
    row["transit_h"] = ""
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    folder = _copy(tmp_path, lanes=out.getvalue())
    b = CandidateBuilder(load_network(folder), data_dir=folder)
    ruled = b.customs(lanes)
    assert ruled.lanes[1][0] == 12.0 + 12.0
    assert [h for h, _ in ruled.hubs] == [0.0, 0.0, 0.0]
    o = _diesel(b, lanes)
    t = b.timings(o, 100.0)
    assert t[1].arrive_h == pytest.approx(t[1].depart_h + o[1].transit_h + 24.0)


def test_air_cargo_clears_faster(builder):
    (lane,) = [x for x in builder.network.lanes if x.origin == "PVG" and x.destination == "FRA"]
    assert builder.customs((lane.lane_id,)).hubs[1] == (
        6.0,
        "customs EU/EEA entry at FRA (default)",
    )


def test_a_sea_shipment_enters_the_eu_at_its_port(builder):
    customs = builder.customs(("SEA-CNSHA-NLRTM",))
    assert customs.hubs[1] == (24.0, "customs EU/EEA entry at NLRTM (default)")
    # a feeder inside the EU after the entry port: no second entry
    inside = builder.customs(("SEA-CNSHA-NLRTM", "SEA-NLRTM-PLGDN"))
    assert [h for h, _ in inside.hubs] == [0.0, 24.0, 0.0]


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("hub,,,5,EST,t,2026,CC0-1.0,\n", "hub_id"),
        ("eu_entry,NLRTM,,5,EST,t,2026,CC0-1.0,\n", "hub_id"),
        ("border_crossing,,,5,EST,t,2026,CC0-1.0,\n", "scope"),
        ("border_crossing,,,-1,EST,t,2026,CC0-1.0,\n", "dwell_h"),
        ("hub,NOWHERE,,5,EST,t,2026,CC0-1.0,\n", "hub_id"),
        ("eu_entry,,spaceport,5,EST,t,2026,CC0-1.0,\n", "hub_kind"),
        ("border_crossing,,airport,5,EST,t,2026,CC0-1.0,\n", "hub_kind"),
    ],
)
def test_bad_border_rows_name_line_and_column(tmp_path, row, column):
    text = (
        "scope,hub_id,hub_kind,dwell_h,data_quality,source,date,licence,note\n"
        "border_crossing,,,12,EST,test,2026,CC0-1.0,\n" + row
    )
    (tmp_path / "border_dwell.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        border_dwell(tmp_path, frozenset({"NLRTM"}))
    assert err.value.column == column
    assert err.value.line == 3


# ------------------------------------------------------------- electricity where it is used


def test_chongqing_duisburg_electric_train_pays_the_grids_it_crosses(network):
    lane = network.lane("RAIL-CNCKG-DEDUI")
    segs = {s.label: s.share_km for s in lane_segments(DATA_DIR)["RAIL-CNCKG-DEDUI"]}
    assert segs == {
        "CN-Northwest": 0.3150,
        "RU": 0.2784,
        "KZ": 0.1677,
        "PL": 0.0668,
        "BY": 0.0627,
        "DE": 0.0626,
        "CN-Southwest": 0.0468,
    }
    f = load_factors()
    (o,) = [
        x for x in price_lane(lane, network.hubs["CNCKG"], f) if x.carrier.startswith("electric")
    ]
    # WTW [g/MJ] by km: 0.3150 x 153.9722 (CN-NW, MEE) + 0.2784 x 122.5 (RU, Ember 441 g/kWh)
    # + 0.1677 x 228.0556 (KZ, 821) + 0.0668 x 190.5556 (PL) + 0.0627 x 122.7778 (BY, 442)
    # + 0.0626 x 123 (DE) + 0.0468 x 68.6667 (CN-SW, Chongqing)
    # = 48.5012 + 34.1040 + 38.2449 + 12.7291 + 7.6982 + 7.6998 + 3.2136 = 152.1908 g/MJ
    mix = (
        0.3150 * 153.9722
        + 0.2784 * 122.5
        + 0.1677 * 228.0556
        + 0.0668 * 190.5556
        + 0.0627 * 122.7778
        + 0.0626 * 123
        + 0.0468 * 68.6667
    )
    assert mix == pytest.approx(152.1908, abs=1e-3)
    assert o.carrier_obj.wtw_g_per_mj == pytest.approx(mix)
    # per tkm: energy per t over the leg x mix / km; not the Chongqing grid (68.6667) alone
    g_per_tkm = o.wtw_kg_per_t * 1000 / o.distance_km
    mj_per_tkm = o.energy_mj_per_t / o.distance_km
    assert g_per_tkm == pytest.approx(mj_per_tkm * 152.1908, rel=1e-5)
    assert g_per_tkm > 2.2 * mj_per_tkm * 68.6667
    # README figures: 16.3 g CO2e/tkm on the mix, 7.3 on the Chongqing grid alone
    assert (g_per_tkm, mj_per_tkm * 68.6667) == pytest.approx((16.3, 7.3), abs=0.05)
    assert "grid by km: CN-Northwest 31.5%" in o.distance_rules[-1]
    assert "no electricity price for RU, KZ, BY" in o.distance_rules[-1]


def test_the_energy_price_is_the_km_weighted_mix(network):
    """Malaszewicze -> Duisburg: PL 51.62 %, DE 48.38 %; the energy cost per t scales from
    the PL price (origin) to 0.5162 x PL + 0.4838 x DE price per MJ."""
    from greenlane.fleet.regulation import price_cny_per_mj

    lane = network.lane("RAIL-X-MALASZEWICZE-DEDUI")
    f = load_factors()
    (o,) = [
        x for x in price_lane(lane, network.hubs[lane.origin], f) if x.carrier.startswith("elec")
    ]
    pl = price_cny_per_mj(f.carrier("electricity_pl"), "PL")
    de = price_cny_per_mj(f.carrier("electricity_de"), "DE")
    energy_cny_per_t = o.split_cny_per_t[1]
    # the option's energy per t [MJ/t] x the mixed price [CNY/MJ]
    assert energy_cny_per_t == pytest.approx(o.energy_mj_per_t * (0.5162 * pl + 0.4838 * de))


def test_bad_segment_rows_name_line_and_column(tmp_path):
    head = "lane_id,country,grid_region,share_km,method,data_quality,source,date,licence,note\n"
    body = "L1,KZ,,0.6,m,DER,s,2026,CC0-1.0,\nL1,RU,,0.3,m,DER,s,2026,CC0-1.0,\n"
    (tmp_path / "lane_segments.csv").write_text(head + body, encoding="utf-8")
    with pytest.raises(DataError) as err:
        lane_segments(tmp_path)
    assert (err.value.line, err.value.column) == (3, "share_km")
    assert "add up to 0.9000" in str(err.value)


def test_new_tables_are_dataset_tables():
    assert TABLES["border_dwell"].check is not None
    assert TABLES["lane_segments"].check is not None
