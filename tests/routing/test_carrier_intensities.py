"""Carriers' own numbers: a lane's carrier TOC/HOC replaces the modelled defaults in plans."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import pytest
from routing_helpers import make_lane

from greenlane.emissions.carriers import load_carrier_intensities
from greenlane.emissions.model import DataType, Mode
from greenlane.emissions.report import footprint_to_dict
from greenlane.routing import PlanOptions, SolverParams
from greenlane.routing.network.graph import Network
from greenlane.routing.network.model import Hub, HubKind
from greenlane.routing.planner.candidates import CandidateBuilder
from greenlane.routing.planner.plan import plan_to_dict
from greenlane.routing.planner.problem import build_problem
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.planner.solve import solve_problem

FAST = SolverParams(time_limit_s=20, seed=0, workers=1)
READY = datetime(2026, 12, 1, tzinfo=UTC)
HEADER = (
    "carrier,element,mode,hub_kind,intensity_id,energy_carrier,wtw_g_per_tkm,ttw_g_per_tkm,"
    "wtw_kg_per_t,ttw_kg_per_t,distance_basis,data_quality,period_start,period_end,source,"
    "date,licence,note\n"
)
ROWS = (
    "CarrierX,toc,sea,,X-SEA-2025,,12.3,10.1,,,sfd,primary,2025-01-01,2025-12-31,"
    "carrier report (test),2026-03-01,CC0-1.0,\n"
    "CarrierX,hoc,,seaport,X-TERM-2025,,,,2.5,1.0,,primary,2025-01-01,2025-12-31,"
    "carrier report (test),2026-03-01,CC0-1.0,\n"
)


def _net(carrier: str | None) -> Network:
    hubs = {
        "P": Hub(
            "P", "Port P", HubKind.SEAPORT, 31.2, 121.5, "CN", "CN-East", (Mode.SEA, Mode.AIR), "t"
        ),
        "Q": Hub("Q", "Port Q", HubKind.SEAPORT, 39.4, -0.3, "ES", "ES", (Mode.SEA, Mode.AIR), "t"),
    }
    sea = make_lane("SEA-PQ", "P", "Q", Mode.SEA, "ship_container_24000teu", 16000, 7, 1e5, 600)
    lanes = (
        replace(sea, carrier=carrier),
        make_lane("AIR-PQ", "P", "Q", Mode.AIR, "aircraft_freighter_b777f", 10000, 7, 100, 14),
    )
    g = nx.MultiDiGraph()
    for h in hubs.values():
        g.add_node(h.hub_id, hub=h)
    for lane in lanes:
        g.add_edge(lane.origin, lane.destination, key=lane.lane_id, lane=lane)
    return Network(hubs=hubs, lanes=lanes, graph=g, data_sha256="test")


def _intensities(folder: Path):
    """The carriers' TOCs and HOCs of ``folder`` (the other tables are the shipped ones)."""
    return load_carrier_intensities(folder, frozenset(str(k) for k in HubKind))


def _plan(net: Network, folder: Path, modes: set[Mode]):
    book = [
        Shipment(
            "S", "P", "Q", 20, READY, READY + timedelta(days=60), allowed_modes=frozenset(modes)
        )
    ]
    options = PlanOptions(solver=FAST)
    builder = CandidateBuilder(net, intensities=_intensities(folder))
    problem = build_problem(book, net, options, builder=builder)
    result = solve_problem(problem, options)
    (s,) = result.shipments
    return result, s, problem


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "carrier_intensities.csv").write_text(HEADER + ROWS, encoding="utf-8")
    return tmp_path


def test_carrier_toc_and_hoc_replace_the_defaults(folder):
    result, s, problem = _plan(_net("CarrierX"), folder, {Mode.SEA})
    hub_p, leg, hub_q = s.footprint.tces
    # leg: 12.3 g/tkm x 20 t x 16,000 km (SFD, the TOC's basis) = 3,936,000 g = 3,936 kg WTW;
    #      10.1 g/tkm x 320,000 tkm = 3,232 kg TTW
    assert leg.co2e_wtw_kg == pytest.approx(3936.0)
    assert leg.co2e_ttw_kg == pytest.approx(3232.0)
    assert leg.activity_tkm == pytest.approx(320_000.0)
    assert (leg.data_type, leg.toc_id) == (DataType.PRIMARY, "X-SEA-2025")
    # hubs: CarrierX's terminal HOC 2.5 kg/t x 20 t = 50 kg WTW at P (boarding) and Q (leaving)
    for hub in (hub_p, hub_q):
        assert hub.co2e_wtw_kg == pytest.approx(50.0)
        assert hub.co2e_ttw_kg == pytest.approx(20.0)
        assert (hub.data_type, hub.hoc_id) == (DataType.PRIMARY, "X-TERM-2025")
    # the optimizer saw the same numbers: 3,936 + 2 x 50 = 4,036 kg per candidate
    assert result.co2e_wtw_kg == pytest.approx(4036.0)
    assert {round(c.var_wtw_kg, 6) for c in problem.candidates["S"]} == {4036.0}
    doc = plan_to_dict(result)
    assert doc["summary"]["primary_data_share"] == 1.0
    sea_leg = doc["shipments"][0]["legs"][0]
    assert (sea_leg["carrier"], sea_leg["data_quality"]) == ("CarrierX", "primary")
    fp = footprint_to_dict(s.footprint)
    assert fp["data_quality"]["primary_data_share"] == 1.0
    assert fp["data_quality"]["co2e_wtw_kg_by_data_type"]["modelled"] == 0.0


def test_lane_without_carrier_keeps_the_modelled_default(folder, tmp_path_factory):
    empty = tmp_path_factory.mktemp("none")
    _, with_table, _ = _plan(_net(None), folder, {Mode.SEA})
    _, without_table, _ = _plan(_net(None), empty, {Mode.SEA})
    leg = with_table.footprint.tces[1]
    assert leg.data_type == DataType.MODELLED and leg.method == "modelled"
    # the carrier table changes nothing on a lane that names no carrier
    assert with_table.footprint.totals == without_table.footprint.totals
    hub = with_table.footprint.tces[0]
    assert hub.data_type == DataType.DEFAULT and hub.hoc_id != "X-TERM-2025"


def test_other_modes_of_the_carrier_stay_modelled(folder):
    # CarrierX has a sea TOC only; the air lane names no carrier: modelled, share 0
    result, s, _ = _plan(_net("CarrierX"), folder, {Mode.AIR})
    leg = s.footprint.tces[1]
    assert leg.mode is Mode.AIR and leg.data_type == DataType.MODELLED
    assert result.primary_data_share == 0.0


def test_primary_share_mixes_by_emissions(folder):
    # sea with CarrierX (4,036 kg primary) and air without a carrier in one plan
    net = _net("CarrierX")
    book = [
        Shipment(
            "SEA",
            "P",
            "Q",
            20,
            READY,
            READY + timedelta(days=60),
            allowed_modes=frozenset({Mode.SEA}),
        ),
        Shipment(
            "AIR",
            "P",
            "Q",
            20,
            READY,
            READY + timedelta(days=60),
            allowed_modes=frozenset({Mode.AIR}),
        ),
    ]
    options = PlanOptions(solver=FAST)
    builder = CandidateBuilder(net, intensities=_intensities(folder))
    result = solve_problem(build_problem(book, net, options, builder=builder), options)
    air = next(s for s in result.shipments if s.shipment_id == "AIR")
    air_kg = air.footprint.totals.co2e_wtw_kg
    assert result.primary_data_share == pytest.approx(4036.0 / (4036.0 + air_kg))
