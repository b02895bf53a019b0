"""The illustrative timetable and carrier datasets plan on the shipped network."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from greenlane.emissions.model import DataType
from greenlane.emissions.tables import read_table
from greenlane.routing import PlanOptions, SolverParams, load_dataset, load_network, read_book
from greenlane.routing.network.graph import Network
from greenlane.routing.network.validate import LaneTableRow
from greenlane.routing.planner.candidates import CandidateBuilder
from greenlane.routing.planner.plan import plan_to_dict
from greenlane.routing.planner.problem import build_problem
from greenlane.routing.planner.solve import solve_problem

ROOT = Path(__file__).resolve().parents[2]
DEMOS = ROOT / "data" / "examples" / "datasets"


def _carriers(net: Network) -> dict[str, str]:
    """Lane id -> carrier named by the demo's lanes.csv, both directions."""
    named = {
        r.lane_id: r.carrier for r in read_table(DEMOS / "carrier_demo" / "lanes.csv", LaneTableRow)
    }
    return {
        x.lane_id: named[x.reverse_of or x.lane_id]
        for x in net.lanes
        if named.get(x.reverse_of or x.lane_id)
    }


def test_demo_book_on_demo_timetables_and_carrier_numbers(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    for name in (
        "schedules_demo/schedules.csv",
        "carrier_demo/carrier_intensities.csv",
        "carrier_demo/lanes.csv",
        "carrier_demo/dataset.json",
    ):
        shutil.copy(DEMOS / name, folder)
    ds = load_dataset(folder, cache_dir=tmp_path / "cache")
    net = load_network(ds.data_dir)
    assert {x.lane_id: x.carrier for x in net.lanes if x.carrier} == _carriers(net)
    book = read_book(ROOT / "data" / "examples" / "shipments.csv")
    options = PlanOptions(
        solver=SolverParams(time_limit_s=20, seed=0, workers=1),
        data_dir=ds.data_dir,
        dataset_id=ds.dataset_id,
    )
    builder = CandidateBuilder(net, data_dir=ds.data_dir)
    assert set(builder.schedules) == {
        "SEA-CNSHA-NLRTM",
        "SEA-CNSHA-NLRTM:rev",
        "RAIL-CNXAN-DEDUI",
        "AIR-PVG-FRA",
    }
    result = solve_problem(build_problem(book, net, options, builder=builder), options)
    rail = [
        (s, leg) for s in result.shipments for leg in s.legs if leg.lane_id == "RAIL-CNXAN-DEDUI"
    ]
    assert rail
    for s, leg in rail:
        # DEMO-XDR: Mondays and Thursdays 10:00 at UTC+8 = 02:00 UTC, cut-off 24 h, 312 h
        assert leg.service_id == "DEMO-XDR"
        assert leg.departure_at.weekday() in (0, 3) and leg.departure_at.hour == 2
        assert (leg.departure_at - leg.cutoff_at).total_seconds() == 24 * 3600
        assert (leg.arrival_at - leg.departure_at).total_seconds() == 312 * 3600
        # DemoRail's TOC: 18.0 g/tkm WTW x mass x the leg's SFD km
        assert leg.tce.data_type is DataType.PRIMARY and leg.carrier == "DemoRail"
        assert leg.tce.co2e_wtw_kg == pytest.approx(18.0 * s.mass_t * leg.tce.distance_km / 1000)
    assert 0 < result.primary_data_share < 1
    # the plan records the dataset and the timetable it used
    doc = plan_to_dict(result)
    assert doc["dataset"] == {"id": ds.dataset_id, "sha256": ds.sha256}
    table = (ds.data_dir / "schedules.csv").read_bytes()
    assert doc["data_sha256"]["schedules"] == hashlib.sha256(table).hexdigest()
