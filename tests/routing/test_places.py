"""Any place: hub ids, searoute seaports, airportsdata airports, ``lat;lon`` and cities.

Figures checked by hand (great circles from ``emissions.distance.gcd_km``, WGS84):
Berlin (52.52, 13.405) - Madrid customer site (40.4168, -3.7038) = 1,871.4 km (the issue's
1,869 km great circle Berlin-Madrid); Berlin - Hamburg quay DEHAM (53.54772, 9.969406) =
257.26 km, so the road lane is 257.26 x 1.2 (road GCD -> SFD factor of distance_rules.csv)
= 308.71 km; Cape Town ZACPT (-33.9457, 18.4310) - Buenos Aires ARBUE (-34.5946, -58.3667) =
6,883.4 km great circle, 7,123.2 km by searoute's sea lanes (x 1.035); JFK - MAD = 5,775.4 km,
an air TCE of 5,775.4 + 95 = 5,870.4 km (ISO 14083 GCD + 95 km).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenlane.emissions.distance import gcd_km, sea_route
from greenlane.emissions.errors import InputError
from greenlane.routing.network import load_network
from greenlane.routing.network.places import (
    SEA_SERVICE,
    SITE_RADIUS_KM,
    extend_network,
    resolve,
    resolve_all,
)
from greenlane.routing.planner import PlanOptions, build_problem, parse_shipments, plan
from greenlane.routing.planner.plan import plan_to_dict
from greenlane.webapp.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _ship(sid: str, origin: str, destination: str, due: str = "2027-02-20", mass_t: float = 10):
    return {
        "shipment_id": sid,
        "origin": origin,
        "destination": destination,
        "mass_t": mass_t,
        "ready_at": "2026-12-01",
        "due_at": due,
    }


@pytest.fixture(scope="module")
def net():
    return load_network()


@pytest.fixture(scope="module")
def planned(net):
    """Berlin coordinates -> C-MADRID, Cape Town -> Buenos Aires, JFK -> the city of Madrid."""
    book = parse_shipments(
        [
            _ship("BER-MAD", "52.52;13.405", "C-MADRID"),
            _ship("CPT-BUE", "ZACPT", "ARBUE"),
            _ship("JFK-MAD", "JFK", "Madrid, ES", due="2026-12-20", mass_t=2),
        ]
    )
    return plan_to_dict(plan(book, net, PlanOptions()), include_footprints=False)


def _by_id(doc):
    return {s["shipment_id"]: s for s in doc["shipments"]}


def test_berlin_coordinates_start_in_berlin_by_road(planned):
    s = _by_id(planned)["BER-MAD"]
    first = s["legs"][0]
    assert first["mode"] == "road" and first["origin"] == "SITE-52.5200-13.4050"
    assert s["origin"] == "SITE-52.5200-13.4050" and s["destination"] == "C-MADRID"
    total_km = sum(float(leg["distance_km"]) for leg in s["legs"])
    gc_km = gcd_km(52.52, 13.405, 40.4168, -3.7038)
    assert gc_km == pytest.approx(1871.4, abs=0.1)
    assert total_km >= gc_km >= 1869
    r = s["origin_resolved"]
    assert r["kind"] == "coordinates" and r["hub_id"] == "SITE-52.5200-13.4050"
    assert r["generated"] is True and (r["lat"], r["lon"]) == (52.52, 13.405)
    assert r["road_links"] == [{"hub_id": "DEHAM", "gcd_km": 257.3}]
    assert s["destination_resolved"]["kind"] == "hub"


def test_site_road_lane_is_gcd_times_the_road_factor(net):
    ext, _ = resolve_all(net, [("52.52;13.405", "origin")])
    lane = ext.lane("ROAD-SITE-52.5200-13.4050-DEHAM")
    gc_km = gcd_km(52.52, 13.405, 53.54772, 9.969406)
    assert gc_km == pytest.approx(257.26, abs=0.01)
    assert lane.distance_km == pytest.approx(257.256 * 1.2, abs=0.01)  # 308.71 km
    assert lane.distance_rules and "1.2" in lane.distance_rules[0]
    assert ext.lane("ROAD-SITE-52.5200-13.4050-DEHAM:rev").destination == "SITE-52.5200-13.4050"
    # Berlin-Hamburg is within Europe: HVO and the low-carbon trucks, no rigids (> 150 km)
    assert "truck_40t_hvo" in lane.vehicle_types and "rigid_18t_diesel" not in lane.vehicle_types


def test_port_pair_outside_hubs_csv_is_planned_at_the_searoute_distance(net, planned):
    codes = {h.locode for h in net.hubs.values()}
    assert "ZACPT" not in codes and "ARBUE" not in codes
    s = _by_id(planned)["CPT-BUE"]
    sea = [leg for leg in s["legs"] if leg["mode"] == "sea"]
    assert len(sea) == 1 and {sea[0]["origin"], sea[0]["destination"]} == {
        "PORT-ZACPT",
        "PORT-ARBUE",
    }
    km = sea_route((18.430982, -33.945702), (-58.366664, -34.594638)).distance_km
    assert float(sea[0]["distance_km"]) == pytest.approx(km, abs=0.01)
    assert km == pytest.approx(7123.2, abs=0.5)  # searoute 1.6.0
    assert 1.0 < km / gcd_km(-33.945702, 18.430982, -34.594638, -58.366664) < 1.05
    assert sea[0]["vehicle_id"] in SEA_SERVICE.vehicle_types
    assert s["origin_resolved"]["kind"] == "seaport" and s["origin_resolved"]["name"].startswith(
        "Cape Town"
    )


def test_new_airport_flies_gcd_plus_95_km(planned):
    s = _by_id(planned)["JFK-MAD"]
    air = [leg for leg in s["legs"] if leg["mode"] == "air"]
    assert air and air[0]["origin"] == "AIRPORT-JFK"
    assert float(air[0]["distance_km"]) == pytest.approx(5775.4 + 95, abs=0.1)
    assert s["destination_resolved"]["kind"] == "city"
    assert s["destination_resolved"]["name"] == "Madrid, ES"
    assert "not verified" in s["origin_resolved"]["note"]


def test_beyond_the_radius_names_the_nearest_terminal(net):
    with pytest.raises(InputError) as err:
        resolve(net, "0;0", "shipments[0].origin")
    msg = str(err.value)
    assert err.value.field == "shipments[0].origin"
    assert f"within {SITE_RADIUS_KM:.0f} km" in msg
    assert "GHTKD Takoradi" in msg and "574 km" in msg


def test_unknown_city_address_and_inland_port_are_errors(net):
    with pytest.raises(InputError, match="unknown place 'Qwertyville'"):
        resolve(net, "Qwertyville", "f")
    with pytest.raises(InputError, match="addresses cannot be resolved offline"):
        resolve(net, "Unter den Linden 1, Berlin", "f")
    with pytest.raises(InputError, match="unknown country 'Atlantis'"):
        resolve(net, "Madrid, Atlantis", "f")
    with pytest.raises(InputError, match=r"ESBUR .* inland port .* 129 km"):
        resolve(net, "ESBUR", "f")
    with pytest.raises(InputError, match="is out of range"):
        resolve(net, "91;0", "f")


def test_city_names_ambiguous_and_with_country(net):
    madrid = resolve(net, "Madrid", "f")
    assert madrid.kind == "city" and madrid.name == "Madrid, ES"
    assert "took the most populous" in madrid.note and "Madrid, CO" in madrid.note
    assert resolve(net, "madrid, es", "f").note == ""
    assert resolve(net, "Madrid, Spain", "f").hub.hub_id == madrid.hub.hub_id
    # the site is joined to the Madrid rail terminal and airport nearby (not to C-MADRID,
    # a company site, unless a shipment joins the two)
    assert [h for h, _ in madrid.links] == ["ESMAD", "MAD"]
    # a hub keeps its id; codes of network hubs still resolve to them
    assert resolve(net, "C-MADRID", "f").hub is net.hubs["C-MADRID"]
    assert resolve(net, "esvlc", "f").hub.hub_id == "ESVLC"


def test_a_city_without_a_network_port_is_joined_to_its_liner_port(net):
    cape_town = resolve(net, "Cape Town", "f")
    assert [h for h, _ in cape_town.links] == ["PORT-ZACPT"]
    ext = extend_network(net, [cape_town])
    assert "PORT-ZACPT" in ext.hubs and "SITE--33.9258-18.4232" in ext.hubs
    sea = [lane for lane in ext.lanes if lane.origin == "PORT-ZACPT" and lane.mode == "sea"]
    seaports = [h for h in net.hubs.values() if h.kind == "seaport"]
    assert len(sea) == len(seaports) == 26


def test_extension_is_deterministic_and_leaves_the_network_alone(net):
    refs = [("ARBUE", "a"), ("ZACPT", "b")]
    ext1, _ = resolve_all(net, refs, [("ZACPT", "ARBUE")])
    ext2, _ = resolve_all(net, list(reversed(refs)), [("ZACPT", "ARBUE")])
    assert ext1 is ext2  # cached per (network, new hubs, direct pairs)
    assert ext1.data_sha256 != net.data_sha256
    assert "PORT-ARBUE" not in net.hubs and len(net.lanes) == len(load_network().lanes)
    # each new port to the 26 shipped seaports, and to each other, both ways
    assert len(ext1.lanes) - len(net.lanes) == 2 * (26 + 26 + 1)
    assert ext1.lane("SEA-PORT-ZACPT-PORT-ARBUE").mode == "sea"
    # two new ports that no shipment joins are joined through the shipped seaports only,
    # so the generated lanes grow linearly with the new places
    ext3, _ = resolve_all(net, refs)
    assert len(ext3.lanes) - len(net.lanes) == 2 * (26 + 26)
    assert ext3.data_sha256 != ext1.data_sha256


def test_the_two_ends_of_a_shipment_get_a_direct_road_lane(net):
    book = parse_shipments([_ship("M1", "Madrid, ES", "C-MADRID")])
    problem = build_problem(book, net, PlanOptions())
    site = problem.resolved["M1"][0].hub.hub_id
    lane = problem.network.lane(f"ROAD-{site}-C-MADRID")
    # 0.110 km great circle x 1.2 = 0.13 km
    assert lane.distance_km == pytest.approx(0.1104 * 1.2, abs=0.001)
    assert [o.lane.lane_id for o in problem.candidates["M1"][0].options] == [lane.lane_id]


def test_a_disruption_replans_a_plan_made_from_any_place(net):
    """The re-plan rebuilds the plan's generated lanes from its shipments' places."""
    from greenlane.routing.scenarios.disruptions import parse_disruptions
    from greenlane.routing.scenarios.replan import impact

    book = parse_shipments([_ship("BER-MAD", "52.52;13.405", "C-MADRID")])
    before = plan(book, net, PlanOptions())
    assert before.shipments[0].legs[0].lane_id == "ROAD-SITE-52.5200-13.4050-DEHAM"
    window = {"start": "2026-11-01T00:00:00Z", "end": "2027-06-01T00:00:00Z"}
    ds = parse_disruptions([{"disruption_id": "H", "kind": "hub", "ref": "DEHAM", **window}], net)
    result = impact(before, book, net, ds, PlanOptions())
    (hit,) = result.hits
    # Hamburg is the Berlin site's only terminal within 300 km: nothing else is in reach
    assert hit.shipment_id == "BER-MAD" and hit.after is None and hit.reasons


def test_hub_only_books_keep_the_shipped_network(net):
    book = parse_shipments([_ship("S1", "F-NANJING", "CNSHA")])
    problem = build_problem(book, net, PlanOptions())
    assert problem.network is net
    assert problem.resolved["S1"][0].kind == "hub"


def test_cli_plans_a_book_with_any_place(tmp_path):
    book = tmp_path / "book.csv"
    book.write_text(
        "shipment_id,origin,destination,mass_t,ready_at,due_at\n"
        "BER-MAD,52.52;13.405,C-MADRID,10,2026-12-01,2027-02-20\n"
        "CPT-BUE,ZACPT,ARBUE,10,2026-12-01,2027-02-20\n"
    )
    target = tmp_path / "plan.json"
    out = CliRunner().invoke(
        main, ["plan", str(book), "--time-limit", "20", "--output", str(target)]
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(target.read_text())
    assert doc["summary"]["shipments_planned"] == 2
    ships = _by_id(doc)
    assert ships["BER-MAD"]["legs"][0]["origin"] == "SITE-52.5200-13.4050"
    assert ships["CPT-BUE"]["origin_resolved"]["hub_id"] == "PORT-ZACPT"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "shipment_id,origin,destination,mass_t,ready_at,due_at\n"
        "X,0;0,C-MADRID,10,2026-12-01,2027-02-20\n"
    )
    out = CliRunner().invoke(main, ["plan", str(bad), "--output", str(tmp_path / "x.json")])
    assert out.exit_code == 2 and "GHTKD" in out.output and "Traceback" not in out.output
