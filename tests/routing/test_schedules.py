"""Timetables (schedules.csv): cut-offs, transit and capacity of the departures a lane offers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import pytest
from routing_helpers import make_lane

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import DataError
from greenlane.emissions.model import Mode
from greenlane.routing import PlanOptions, SolverParams
from greenlane.routing.network.graph import Network
from greenlane.routing.network.model import Hub, HubKind
from greenlane.routing.network.schedules import load_schedules, read_schedules
from greenlane.routing.planner.candidates import EPOCH, CandidateBuilder, hours_since_epoch
from greenlane.routing.planner.plan import plan_to_dict
from greenlane.routing.planner.pricing import hub_operations
from greenlane.routing.planner.problem import build_problem
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.planner.solve import solve_problem

ROOT = Path(__file__).resolve().parents[2]
FAST = SolverParams(time_limit_s=20, seed=0, workers=1)
HEADER = (
    "service_id,lane_id,origin,destination,mode,carrier,weekdays,dates,departure_time,"
    "utc_offset_h,cutoff_h,transit_h,capacity_t,valid_from,valid_to,source,date,licence,note\n"
)
WEEKLY = (
    "LOOP1,SEA-PQ,,,sea,LineX,Tue,,10:00,0,24,600,,2026-11-01,2027-03-31,"
    "test timetable,2026-12-06,CC0-1.0,\n"
)


@pytest.fixture(scope="module")
def port_net() -> Network:
    """Factory F -(road, 10 h)-> seaport P -(sea, uniform 1/week)-> seaport Q."""
    hubs = {
        "F": Hub("F", "Factory", HubKind.FACTORY, 31.0, 121.0, "CN", "CN-East", (Mode.ROAD,), "t"),
        "P": Hub(
            "P", "Port P", HubKind.SEAPORT, 31.2, 121.5, "CN", "CN-East", (Mode.ROAD, Mode.SEA), "t"
        ),
        "Q": Hub("Q", "Port Q", HubKind.SEAPORT, 39.4, -0.3, "ES", "ES", (Mode.SEA,), "t"),
    }
    lanes = (
        make_lane("ROAD-FP", "F", "P", Mode.ROAD, "truck_40t_diesel", 60, 7, 1e6, 10),
        make_lane("SEA-PQ", "P", "Q", Mode.SEA, "ship_container_24000teu", 16000, 1, 500, 650),
    )
    g = nx.MultiDiGraph()
    for h in hubs.values():
        g.add_node(h.hub_id, hub=h)
    for lane in lanes:
        g.add_edge(lane.origin, lane.destination, key=lane.lane_id, lane=lane)
    return Network(hubs=hubs, lanes=lanes, graph=g, data_sha256="test")


def _folder(tmp_path: Path, *rows: str) -> Path:
    (tmp_path / "schedules.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    return tmp_path


def _at(text: str) -> float:
    return hours_since_epoch(datetime.fromisoformat(text).replace(tzinfo=UTC))


def test_shipped_table_has_only_sourced_rows():
    # no published timetable could be sourced offline: the shipped table is the header only
    assert read_schedules() == []


def test_demo_dataset_is_marked_illustrative_and_valid():
    folder = ROOT / "data" / "examples" / "datasets" / "schedules_demo"
    rows = read_schedules(folder)
    assert rows and all(r.source.startswith("ILLUSTRATIVE") for r in rows)


def test_weekly_departures_and_cut_off(tmp_path, port_net):
    sched = load_schedules(port_net, EPOCH, _folder(tmp_path, WEEKLY))["SEA-PQ"]
    # Tuesdays 10:00 UTC from 2026-11-03 to 2027-03-30: 22 departures
    assert len(sched.departures) == 22
    dep = sched.departures[5]
    assert dep.depart_h == _at("2026-12-08T10:00")
    assert dep.cutoff_at_h == _at("2026-12-07T10:00")  # 24 h before
    # ready exactly at the cut-off boards; one hour later waits a week
    assert sched.board(_at("2026-12-07T10:00")) == (5, dep)
    slot, nxt = sched.board(_at("2026-12-07T11:00"))
    assert slot == 6 and nxt.depart_h == _at("2026-12-15T10:00")
    # waiting two more departures: 2026-12-29
    assert sched.board(_at("2026-12-07T10:00"), 2)[1].depart_h == _at("2026-12-22T10:00")
    # after the last departure's cut-off the timetable has none
    assert sched.board(_at("2027-03-29T10:01")) is None
    # path search weighs the lane by 600 h transit + half the 168 h headway = 684 h
    assert sched.mean_transit_h + sched.mean_wait_h == 684


def test_dates_and_local_time(tmp_path, port_net):
    row = (
        "F1,,P,Q,sea,LineX,,2026-12-02;2026-12-09,23:30,8,6,14,60,2026-12-01,2026-12-31,"
        "test,2026-12-06,CC0-1.0,\n"
    )
    sched = load_schedules(port_net, EPOCH, _folder(tmp_path, row))["SEA-PQ"]
    # 23:30 at UTC+8 = 15:30 UTC; capacity 60 t per departure; transit 14 h
    first = sched.departures[0]
    assert first.depart_h == _at("2026-12-02T15:30")
    assert (first.capacity_t, first.transit_h, first.service_id) == (60, 14, "F1")
    assert len(sched.departures) == 2


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (WEEKLY.replace("SEA-PQ", "SEA-XX"), "lane_id"),
        (WEEKLY.replace(",Tue,,", ",Tue,2026-12-01,"), "weekdays"),
        (WEEKLY.replace(",Tue,", ",Tuesday,"), "weekdays"),
        (WEEKLY.replace("10:00", "25:00"), "departure_time"),
        (WEEKLY.replace(",24,600,", ",24,-5,"), "transit_h"),
        (WEEKLY.replace("2027-03-31", "2026-10-01"), "valid_to"),
        (WEEKLY.replace("SEA-PQ,,,sea", "ROAD-FP,,,"), "lane_id"),
        (WEEKLY.replace("SEA-PQ,,,sea", "SEA-PQ,,,air"), "mode"),
        (WEEKLY.replace("test timetable", ""), "source"),
    ],
)
def test_bad_rows_name_line_and_column(tmp_path, port_net, row, column):
    with pytest.raises(DataError) as err:
        load_schedules(port_net, EPOCH, _folder(tmp_path, WEEKLY, row))
    assert (err.value.file, err.value.line, err.value.column) == ("schedules.csv", 3, column)


def test_a_service_twice_on_a_lane_is_refused(tmp_path, port_net):
    with pytest.raises(DataError, match="appears twice") as err:
        load_schedules(port_net, EPOCH, _folder(tmp_path, WEEKLY, WEEKLY))
    assert err.value.line == 3


def test_one_hour_after_cut_off_takes_next_weekly_departure(tmp_path, port_net):
    dwell_h = hub_operations()["seaport"].dwell_h
    assert dwell_h == 48  # data/hub_operations.csv: seaport handling (the arithmetic below)
    # the Tuesday 2026-12-08 10:00 sailing closes Monday 2026-12-07 10:00 (24 h cut-off).
    # Late: ready 2026-12-05 01:00 + 10 h road + 48 h handling = Mon 11:00, 1 h after it.
    # Early: ready 2026-12-04 23:00 -> handled Mon 09:00, 1 h before it.
    late_ready = datetime(2026, 12, 5, 1, tzinfo=UTC)
    early_ready = late_ready - timedelta(hours=2)
    due = datetime(2027, 2, 1, tzinfo=UTC)
    book = [
        Shipment("LATE", "F", "Q", 5, late_ready, due),
        Shipment("EARLY", "F", "Q", 5, early_ready, due),
    ]
    builder = CandidateBuilder(
        port_net, schedules=load_schedules(port_net, EPOCH, _folder(tmp_path, WEEKLY))
    )
    options = PlanOptions(solver=FAST)
    problem = build_problem(book, port_net, options, builder=builder)
    result = solve_problem(problem, options)
    by_id = {s.shipment_id: s for s in result.shipments}
    late_sea, early_sea = by_id["LATE"].legs[1], by_id["EARLY"].legs[1]
    # late: next weekly sailing Tue 2026-12-15 10:00, + 600 h timetable transit (not the
    # lane's 650 h) = 2027-01-09 10:00
    assert late_sea.departure_at == datetime(2026, 12, 15, 10, tzinfo=UTC)
    assert late_sea.cutoff_at == datetime(2026, 12, 14, 10, tzinfo=UTC)
    assert late_sea.arrival_at == datetime(2027, 1, 9, 10, tzinfo=UTC)
    assert late_sea.service_id == "LOOP1"
    # early: this week's sailing Tue 2026-12-08 10:00 -> 2027-01-02 10:00
    assert early_sea.departure_at == datetime(2026, 12, 8, 10, tzinfo=UTC)
    assert early_sea.arrival_at == datetime(2027, 1, 2, 10, tzinfo=UTC)
    doc = plan_to_dict(result)
    leg = doc["shipments"][0]["legs"][1]
    assert leg["service_id"] == "LOOP1" and leg["cutoff_at"].startswith("2026-12-")
    # timetables passed as objects are recorded as such (a dataset's are hashed:
    # tests/routing/test_demo_datasets.py); the shipped carrier table is the header only
    assert doc["data_sha256"]["schedules"] == "given"
    shipped = (DATA_DIR / "carrier_intensities.csv").read_bytes()
    assert doc["data_sha256"]["carrier_intensities"] == hashlib.sha256(shipped).hexdigest()


def test_lane_without_timetable_keeps_the_uniform_rule(port_net):
    # no schedules: the weekly lane departs every 168 h from EPOCH (Mondays 00:00 UTC)
    ready = datetime(2026, 12, 5, 1, tzinfo=UTC)
    builder = CandidateBuilder(port_net, schedules={})
    s = Shipment("S", "F", "Q", 5, ready, datetime(2027, 2, 1, tzinfo=UTC))
    (c,) = {
        c.timings[1].depart_h: c
        for c in builder.candidates(s, port_net.hubs["F"], port_net.hubs["Q"])
    }.values()
    # ready + 10 h + 48 h = Mon 2026-12-07 11:00 -> next Monday 00:00 = 2026-12-14
    assert c.timings[1].depart_h == _at("2026-12-14T00:00")
    assert c.timings[1].arrive_h == _at("2026-12-14T00:00") + 650
    assert c.timings[1].service_id == "" and c.timings[1].cutoff_h is None


def test_capacity_per_departure_comes_from_the_timetable(tmp_path, port_net):
    row = WEEKLY.replace(",600,,", ",600,8,")  # 8 t per sailing
    ready = datetime(2026, 12, 1, tzinfo=UTC)
    due = datetime(2027, 3, 1, tzinfo=UTC)
    book = [Shipment(f"S{i}", "F", "Q", 5, ready, due) for i in range(3)]
    builder = CandidateBuilder(
        port_net, schedules=load_schedules(port_net, EPOCH, _folder(tmp_path, row))
    )
    options = PlanOptions(solver=FAST)
    problem = build_problem(book, port_net, options, builder=builder)
    result = solve_problem(problem, options)
    # 3 x 5 t, 8 t per sailing: one shipment per sailing, three different Tuesdays
    departures = sorted(s.legs[1].departure_at for s in result.shipments)
    assert len(result.shipments) == 3 and len(set(departures)) == 3
    assert all(d.weekday() == 1 for d in departures)
