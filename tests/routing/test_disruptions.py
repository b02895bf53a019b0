"""Disruptions applied to the network: the Red Sea crisis, a closed border, a closed airport."""

from __future__ import annotations

import pytest

from greenlane.emissions.errors import InputError
from greenlane.routing import load_network
from greenlane.routing.scenarios.disruptions import apply_disruptions, parse_disruptions

WINDOW = {"start": "2026-12-01T00:00:00Z", "end": "2027-06-01T00:00:00Z"}


@pytest.fixture(scope="module")
def network():
    """The shipped network."""
    return load_network()


def _d(did, kind, ref, **kw):
    return {"disruption_id": did, "kind": kind, "ref": ref, **WINDOW, **kw}


def test_red_sea_closure_sends_ships_round_the_cape(network):
    ds = parse_disruptions(
        [_d("RS-1", "passage", "suez"), _d("RS-2", "passage", "babalmandab")], network
    )
    disrupted, changes = apply_disruptions(network, ds)
    before, after = network.lane("SEA-CNSHA-ESVLC"), disrupted.lane("SEA-CNSHA-ESVLC")
    assert "suez" in before.passages
    assert "suez" not in after.passages and "babalmandab" not in after.passages
    assert after.distance_km > before.distance_km + 5000  # 16,571 -> 24,482 km via the Cape
    assert min(lat for _, lat in after.geometry) < -33  # passes south of Africa
    assert after.transit_h > before.transit_h + 10 * 24 * 0.9
    assert "SEA-CNSHA-ESVLC" in changes
    untouched = network.lane("SEA-CNSHK-MYPKG")  # intra-Asia, no Red Sea
    assert disrupted.lane("SEA-CNSHK-MYPKG") == untouched


def test_closed_border_crossing_removes_its_rail_lanes(network):
    (d,) = parse_disruptions([_d("B-1", "hub", "X-ALASHANKOU")], network)
    disrupted, changes = apply_disruptions(network, [d])
    assert not [
        lane for lane in disrupted.lanes if "X-ALASHANKOU" in (lane.origin, lane.destination)
    ]
    assert any(lane.origin == "X-KHORGOS" for lane in disrupted.lanes)  # other crossing open
    assert all("closed" in why for why in changes.values())


def test_airport_closure_and_delay_and_capacity_cut(network):
    ds = parse_disruptions(
        [
            _d("A-1", "hub", "PVG"),
            _d("D-1", "lane", "SEA-CNSHA-ESVLC", effect="delay", delay_h=72),
            _d("C-1", "lane", "SEA-CNNGB-NLRTM", effect="capacity", capacity_share=0.5),
        ],
        network,
    )
    disrupted, _ = apply_disruptions(network, ds)
    assert "PVG" not in {x for lane in disrupted.lanes for x in (lane.origin, lane.destination)}
    assert disrupted.lane("SEA-CNSHA-ESVLC").transit_h == pytest.approx(
        network.lane("SEA-CNSHA-ESVLC").transit_h + 72
    )
    assert disrupted.lane("SEA-CNSHA-ESVLC:rev").transit_h == pytest.approx(
        network.lane("SEA-CNSHA-ESVLC:rev").transit_h + 72
    )
    assert disrupted.lane("SEA-CNNGB-NLRTM").capacity_t_per_departure == pytest.approx(
        network.lane("SEA-CNNGB-NLRTM").capacity_t_per_departure / 2
    )


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (_d("x", "passage", "atlantis"), "disruptions[0].ref"),
        (_d("x", "hub", "NOWHERE"), "disruptions[0].ref"),
        ({**_d("x", "lane", "SEA-CNSHA-ESVLC"), "end": "2026-01-01T00:00:00Z"}, "disruptions[0]"),
        (_d("x", "lane", "SEA-CNSHA-ESVLC", effect="delay"), "disruptions[0]"),
        ({**_d("x", "hub", "PVG"), "colour": "red"}, "disruptions[0].colour"),
    ],
)
def test_bad_disruptions_name_the_field(network, item, field):
    with pytest.raises(InputError) as info:
        parse_disruptions([item], network)
    assert info.value.field == field
