"""Golden numbers of the emissions engine, computed by hand from the factor tables."""

from __future__ import annotations

import copy

import pytest

from greenlane.emissions.chain import footprint_from_chain
from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import load_factors
from greenlane.emissions.model import DataType, DistanceBasis, Method
from greenlane.emissions.report import footprint_to_dict, to_ileap_shipment_footprint


def test_multimodal_chain_truck_terminal_rail_terminal_truck(example_chain):
    fp = footprint_from_chain(example_chain)
    road1, hub_a, rail, hub_b, road2 = fp.tces
    # road: 143 g/tkm on actual distance; leg 50 km SFD -> 52.5 km actual (x 1.05)
    # WTW 10 t x 52.5 km x 143 g = 75.075 kg; TTW 10 x 52.5 x 103 g = 54.075 kg
    assert road1.co2e_wtw_kg == pytest.approx(75.075)
    assert road1.co2e_ttw_kg == pytest.approx(54.075)
    assert road1.co2e_wtt_kg == pytest.approx(21.0)
    assert road1.activity_tkm == pytest.approx(500.0)
    assert road1.intensity_wtw_g_per_tkm == pytest.approx(150.15)  # 143 x 1.05 on SFD
    # hub: 1.07 kg/t WTW, 0.384 TTW, x 10 t leaving; no tkm
    assert hub_a.co2e_wtw_kg == pytest.approx(10.7)
    assert hub_a.co2e_ttw_kg == pytest.approx(3.84)
    assert hub_a.activity_tkm == 0
    # electric rail: 10 t x 500 km x 14 g = 70 kg WTW, all WTT
    assert rail.co2e_wtw_kg == pytest.approx(70.0)
    assert rail.co2e_ttw_kg == 0
    assert hub_b.co2e_wtw_kg == pytest.approx(10.7)
    # road 30 km SFD -> 31.5 actual: 10 x 31.5 x 143 = 45.045; TTW 32.445
    assert road2.co2e_wtw_kg == pytest.approx(45.045)
    t = fp.totals
    assert t.co2e_wtw_kg == pytest.approx(211.52)
    assert t.co2e_ttw_kg == pytest.approx(94.2)
    assert t.co2e_wtt_kg == pytest.approx(117.32)
    assert t.tkm == pytest.approx(5800.0)
    assert t.intensity_wtw_g_per_tkm == pytest.approx(211520 / 5800)  # 36.469 g/tkm
    assert [x.prev_tce_ids for x in fp.tces][1:] == [(x.tce_id,) for x in fp.tces[:-1]]


def test_footprint_json_has_stable_names(example_chain):
    doc = footprint_to_dict(footprint_from_chain(example_chain))
    assert set(doc["totals"]) >= {
        "co2e_wtw_kg",
        "co2e_ttw_kg",
        "co2e_wtt_kg",
        "tkm",
        "intensity_wtw_g_per_tkm",
    }
    assert doc["totals"]["co2e_wtw_kg"] == 211.52
    leg = doc["legs"][0]
    assert leg["co2e_wtw_kg"] == 75.075 and leg["distance_basis"] == "sfd"
    assert any("1.05" in r for r in leg["rules"])
    assert leg["factors"][0]["unit"] == "g CO2e/tkm"
    assert doc["method"]["data_sha256"] == load_factors().data_sha256


def test_sea_leg_lng_with_methane_slip_fueleu_formula():
    f = load_factors()
    lng = f.carrier("lng_marine_otto_ms")
    # FuelEU Annex II row: LCV 0.048 MJ/g, WtT 18.5 g/MJ, Cf CO2 2.750, Cf N2O 0.00011, slip 3.1 %
    assert (lng.lhv_mj_per_kg, lng.wtt_g_per_mj) == (48.0, 18.5)
    # AR6: CH4 fossil 29.8, N2O 273
    ttw_per_g = (1 - 0.031) * (2.750 + 0.00011 * 273) + 0.031 * 29.8  # 3.617649 g/g
    assert lng.ttw_g_per_mj == pytest.approx(ttw_per_g / 0.048)  # 75.368 g/MJ
    doc = {
        "shipment_id": "SEA-1",
        "mass_t": 20,
        "legs": [
            {
                "mode": "sea",
                "origin": {"lat": 31.23, "lon": 121.47},
                "destination": {"lat": 39.45, "lon": -0.32},
                "energy": [
                    {
                        "carrier": "lng_marine_otto_ms",
                        "amount": 1200,
                        "unit": "kg",
                        "share_of_vehicle": 0.002,
                    }
                ],
            }
        ],
    }
    fp = footprint_from_chain(doc)
    (leg,) = fp.tces
    energy = 1200 * 48.0 * 0.002  # 115.2 MJ allocated to the shipment
    assert leg.energy_mj == pytest.approx(energy)
    assert leg.co2e_ttw_kg == pytest.approx(energy * ttw_per_g / 0.048 / 1000)  # 8.682 kg
    assert leg.co2e_wtt_kg == pytest.approx(energy * 18.5 / 1000)  # 2.131 kg
    assert leg.method is Method.ENERGY and leg.data_type is DataType.PRIMARY
    assert leg.distance_basis is DistanceBasis.SFD
    assert 16_000 < leg.distance_km < 17_200  # sea-lane route via Suez
    # the FEEMS recomputation (GWP CH4 27, N2O 273) gives the published 73.56 g/MJ
    assert load_factors(gwp_basis="FEEMS").carrier("lng_marine_otto_ms").ttw_g_per_mj == (
        pytest.approx(73.56, abs=0.01)
    )


def test_air_leg_with_30_percent_saf_blend():
    f = load_factors()
    jet, saf = f.carrier("jet_kerosene"), f.carrier("saf_hefa_uco")
    # CORSIA HEFA-UCO life-cycle 13.9 g/MJ; ifeu kerosene WTW 74.15 + 20.00
    assert saf.wtw_g_per_mj == pytest.approx(13.9)
    assert (jet.ttw_g_per_mj, jet.wtt_g_per_mj) == (74.15, 20.0)
    doc = {
        "shipment_id": "AIR-1",
        "mass_t": 2,
        "legs": [
            {
                "mode": "air",
                "origin": {
                    "lat": 31.742,
                    "lon": 118.862,
                    "name": "Nanjing",
                    "iata": "NKG",
                    "country": "CN",
                },
                "destination": {
                    "lat": 40.472,
                    "lon": -3.561,
                    "name": "Madrid",
                    "iata": "MAD",
                    "country": "ES",
                },
                "energy": [
                    {
                        "carrier": "jet_kerosene",
                        "amount": 100000,
                        "unit": "MJ",
                        "share_of_vehicle": 0.02,
                        "blend": {"saf_hefa_uco": 0.3},
                    }
                ],
            }
        ],
    }
    fp = footprint_from_chain(doc)
    (leg,) = fp.tces
    # one fossil baseline: CORSIA SAF values are against the CORSIA fossil jet 89 g/MJ
    # (14.85 WTT + 74.15 TTW), so the kerosene part comes from corsia_2024, not ifeu 94.15
    corsia_jet = load_factors(("corsia_2024",)).carrier("jet_kerosene")
    assert corsia_jet.wtw_g_per_mj == pytest.approx(89.0)
    wtw_blend = 0.7 * 89.0 + 0.3 * 13.9  # 66.47 g/MJ
    ttw_blend = 0.7 * 74.15 + 0.3 * saf.ttw_g_per_mj
    assert leg.co2e_wtw_kg == pytest.approx(100000 * 0.02 * wtw_blend / 1000)  # 132.94 kg
    assert any("taken from corsia_2024" in r for r in leg.rules)
    assert leg.co2e_ttw_kg == pytest.approx(100000 * 0.02 * ttw_blend / 1000)
    # air distance: GCD on WGS84 + 95 km
    from greenlane.emissions.distance import gcd_km

    gcd = gcd_km(31.742, 118.862, 40.472, -3.561)
    assert leg.distance_km == pytest.approx(gcd + 95)
    assert any("+ 95 km" in r for r in leg.rules)


def test_bev_truck_on_china_grid_energy_leg():
    f = load_factors()
    grid = f.carrier("electricity_cn")
    assert grid.ttw_g_per_mj == 0
    assert grid.wtt_g_per_mj * 3.6 == pytest.approx(530.6)  # MEE 2023: 0.5306 kg CO2/kWh
    doc = {
        "shipment_id": "BEV-1",
        "mass_t": 12,
        "legs": [
            {
                "mode": "road",
                "distance_km": 300,
                "energy": [
                    {
                        "carrier": "electricity_cn",
                        "amount": 360,
                        "unit": "kWh",
                        "vehicle_activity_tkm": 7200,
                    }
                ],
            }
        ],
    }
    # the 300 km are stated on the actual basis (the default): the shipment's activity is on
    # the SFD, 300 / 1.05 = 285.714 km, and the tkm share is taken on it
    (leg,) = footprint_from_chain(doc).tces
    share = 12 * 300 / 1.05 / 7200  # 0.476190 of the truck's tkm (SFD)
    assert leg.co2e_wtw_kg == pytest.approx(360 * share * 0.5306)  # 90.960 kg
    assert leg.co2e_ttw_kg == 0
    assert leg.energy_mj == pytest.approx(360 * 3.6 * share)
    assert leg.activity_tkm == pytest.approx(12 * 300 / 1.05)  # 3,428.571 tkm
    # stated as SFD: 12 t x 300 km / 7200 tkm = 0.5 of the truck
    doc["legs"][0]["distance_basis"] = "sfd"
    (leg,) = footprint_from_chain(doc).tces
    assert leg.co2e_wtw_kg == pytest.approx(360 * 0.5 * 0.5306)  # 95.508 kg
    assert leg.activity_tkm == pytest.approx(3600.0)
    assert leg.distance_actual_km == pytest.approx(315.0)


def test_default_toc_and_hoc_from_tables():
    f = load_factors()
    toc = next(t for t in f.tocs.values() if t.mode == "rail")
    hoc = next(iter(f.hocs.values()))
    doc = {
        "shipment_id": "T-1",
        "mass_t": 5,
        "legs": [
            {
                "mode": "rail",
                "distance_km": 1000,
                "distance_basis": toc.distance_basis,
                "toc": {"toc_id": toc.toc_id},
            },
            {"hub": "X", "hoc": {"hoc_id": hoc.hoc_id}},
        ],
    }
    rail, hub = footprint_from_chain(doc).tces
    assert rail.co2e_wtw_kg == pytest.approx(5 * 1000 * toc.wtw_g_per_tkm / 1000)
    assert rail.data_type is DataType.DEFAULT and rail.toc_id == toc.toc_id
    assert hub.co2e_wtw_kg == pytest.approx(5 * hoc.wtw_kg_per_t)


def test_sea_intensity_converted_between_sfd_and_actual():
    doc = {
        "shipment_id": "S",
        "mass_t": 10,
        "legs": [
            {
                "mode": "sea",
                "distance_km": 1000,
                "distance_basis": "sfd",
                "toc": {
                    "co2e_wtw_g_per_tkm": 10,
                    "co2e_ttw_g_per_tkm": 8,
                    "distance_basis": "actual",
                },
            }
        ],
    }
    (leg,) = footprint_from_chain(doc).tces
    assert leg.co2e_wtw_kg == pytest.approx(10 * 1000 * 1.15 * 10 / 1000)  # 115 kg
    assert leg.intensity_wtw_g_per_tkm == pytest.approx(11.5)


def test_ileap_export_validates_against_schema(example_chain, ileap_schema):
    fp = footprint_from_chain(example_chain)
    doc = to_ileap_shipment_footprint(fp)
    errors = list(ileap_schema("shipment-footprint.json").iter_errors(doc))
    assert errors == []
    assert doc["mass"] == "10000.000"  # kg
    assert doc["tces"][0]["co2eWTW"] == "75.075"
    assert doc["tces"][0]["distance"] == {"sfd": "50.000"}
    assert doc["tces"][1]["hocId"]
    assert doc["tces"][2]["prevTceIds"] == [doc["tces"][1]["tceId"]]


def test_ileap_numbers_never_use_exponents(ileap_schema):
    doc = {
        "shipment_id": "tiny",
        "mass_t": 0.0000001,
        "legs": [
            {
                "mode": "road",
                "distance_km": 0.001,
                "toc": {"co2e_wtw_g_per_tkm": 0.0001, "co2e_ttw_g_per_tkm": 0},
            }
        ],
    }
    out = to_ileap_shipment_footprint(footprint_from_chain(doc))
    assert list(ileap_schema("shipment-footprint.json").iter_errors(out)) == []
    assert "E" not in str(out)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(mass_t=-1), "mass_t"),
        (lambda d: d["legs"][0].update(mode="teleport"), "legs[0].mode"),
        (lambda d: d["legs"][0].pop("distance_km"), "legs[0]"),
        (lambda d: d["legs"][0].update(distance_m=5), "legs[0].distance_m"),
        (
            lambda d: d["legs"][2]["toc"].update(co2e_wtw_g_per_tkm="x"),
            "legs[2].toc.co2e_wtw_g_per_tkm",
        ),
        (lambda d: d["legs"][1]["hoc"].update(co2e_ttw_kg_per_t=5), "legs[1].hoc"),
        (
            lambda d: d["legs"].append(
                {
                    "mode": "sea",
                    "distance_km": 10,
                    "energy": [{"carrier": "unobtainium", "amount": 1, "unit": "kg"}],
                }
            ),
            "legs[5].energy[0].carrier",
        ),
        (
            lambda d: d["legs"].append(
                {
                    "mode": "sea",
                    "distance_km": 10,
                    "energy": [{"carrier": "vlsfo", "amount": 1, "unit": "kgs"}],
                }
            ),
            "legs[5].energy[0].unit",
        ),
        (
            lambda d: d["legs"].append(
                {
                    "mode": "rail",
                    "distance_km": 10,
                    "energy": [{"carrier": "electricity_de_rail", "amount": 1, "unit": "l"}],
                }
            ),
            "legs[5].energy[0].unit",
        ),
        (lambda d: d.update(legs=[]), "legs"),
        (lambda d: d.pop("shipment_id"), "shipment_id"),
    ],
)
def test_bad_input_names_the_field(example_chain, mutate, field):
    doc = copy.deepcopy(example_chain)
    mutate(doc)
    with pytest.raises(InputError) as info:
        footprint_from_chain(doc)
    assert info.value.field == field


def test_clecat_case_a_activity_on_the_sfd_when_roads_are_stated_as_actual():
    """CLECAT (2024) Case example A, §4.3 and §5.2: 52.5 + 105 km of road driven (actual) are
    50 + 100 km SFD; with 500 km of rail the chain's activity is 6,500 tkm, not 6,575."""
    road = {"co2e_wtw_g_per_tkm": 143, "co2e_ttw_g_per_tkm": 103, "distance_basis": "actual"}
    hub = {"co2e_wtw_kg_per_t": 1.07, "co2e_ttw_kg_per_t": 0.384}
    doc = {
        "shipment_id": "CASE-A",
        "mass_t": 10,
        "legs": [
            {"mode": "road", "distance_km": 52.5, "distance_basis": "actual", "toc": road},
            {"hub": "CT terminal 1", "hoc": hub},
            {
                "mode": "rail",
                "distance_km": 500,
                "toc": {"co2e_wtw_g_per_tkm": 14, "co2e_ttw_g_per_tkm": 0},
            },
            {"hub": "CT terminal 2", "hoc": hub},
            {"mode": "road", "distance_km": 105, "distance_basis": "actual", "toc": road},
        ],
    }
    fp = footprint_from_chain(doc)
    assert [t.activity_tkm for t in fp.tces] == pytest.approx([500, 0, 5000, 0, 1000])
    assert fp.totals.tkm == pytest.approx(6500.0)
    # TOC A: 143 g x (525 + 1,050) tkm actual = 225.225 kg, 150.15 g/tkm on the SFD
    assert fp.tces[0].co2e_wtw_kg + fp.tces[4].co2e_wtw_kg == pytest.approx(225.225)
    assert fp.tces[4].intensity_wtw_g_per_tkm == pytest.approx(150.15)
    # chain: 75.075 + 10.7 + 70 + 10.7 + 150.15 = 316.625 kg / 6,500 tkm = 48.71 g/tkm (the
    # guide prints 318.3 kg and 0.049 kg/tkm with a 71.9 kg rail typo for 14 g x 5,000 tkm)
    assert fp.totals.co2e_wtw_kg == pytest.approx(316.625)
    assert fp.totals.intensity_wtw_g_per_tkm == pytest.approx(316625 / 6500)
