"""The illustrative timetable and carrier datasets plan on the shipped network."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import networkx as nx
import pytest

from greenlane.emissions.model import DataType
from greenlane.emissions.tables import read_table
from greenlane.routing import PlanOptions, SolverParams, load_network, read_book
from greenlane.routing.network.graph import Network
from greenlane.routing.network.validate import LaneTableRow
from greenlane.routing.planner.candidates import CandidateBuilder
from greenlane.routing.planner.problem import build_problem
from greenlane.routing.planner.solve import solve_problem

ROOT = Path(__file__).resolve().parents[2]
DEMOS = ROOT / "data" / "examples" / "datasets"


def _with_carriers(net: Network) -> Network:
    """The shipped network with the carriers named by the demo's lanes.csv."""
    named = {
        r.lane_id: r.carrier for r in read_table(DEMOS / "carrier_demo" / "lanes.csv", LaneTableRow)
    }
    lanes = tuple(replace(x, carrier=named.get(x.reverse_of or x.lane_id)) for x in net.lanes)
    g = nx.MultiDiGraph()
    for h in net.hubs.values():
        g.add_node(h.hub_id, hub=h)
    for x in lanes:
        g.add_edge(x.origin, x.destination, key=x.lane_id, lane=x)
    return Network(hubs=net.hubs, lanes=lanes, graph=g, data_sha256=net.data_sha256)


def test_demo_book_on_demo_timetables_and_carrier_numbers(tmp_path):
    for name in ("schedules_demo/schedules.csv", "carrier_demo/carrier_intensities.csv"):
        shutil.copy(DEMOS / name, tmp_path)
    net = _with_carriers(load_network())
    book = read_book(ROOT / "data" / "examples" / "shipments.csv")
    options = PlanOptions(solver=SolverParams(time_limit_s=20, seed=0, workers=1))
    builder = CandidateBuilder(net, data_dir=tmp_path)
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
