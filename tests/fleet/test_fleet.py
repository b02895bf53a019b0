"""Golden numbers of the fleet model, computed by hand from data/vehicle_types.csv.

Each expected value is written from the CSV row's literals, with the arithmetic in a comment.
Carrier factors (LHV, density, g CO2e/MJ) come from energy_carriers.csv via load_factors().
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from greenlane.data import DATA_DIR
from greenlane.emissions.chain import footprint_from_chain
from greenlane.emissions.errors import DataError, InputError
from greenlane.emissions.factors import co2e_of_energy_kg, load_factors
from greenlane.emissions.model import Mode
from greenlane.emissions.units import G_PER_KG
from greenlane.fleet import (
    energy_mj_per_km,
    energy_mj_per_tkm,
    energy_price,
    leg_cost_cny,
    profile,
    range_km,
    refuel_stops,
    regional_carrier,
    resolve_vehicle,
    vehicle_type,
    vehicle_types,
)
from greenlane.fleet.catalog import energy_prices

TYPE_IDS = {
    "truck_40t_diesel",
    "truck_40t_hvo",
    "truck_40t_lng",
    "truck_40t_bev",
    "truck_40t_fcev",
    "rigid_18t_diesel",
    "rigid_18t_bev",
    "train_electric_container",
    "train_diesel_container",
    "ship_container_24000teu",
    "ship_container_14000teu",
    "ship_container_8000teu",
    "ship_feeder_1700teu",
    "barge_container_iww",
    "aircraft_freighter_b777f",
    "aircraft_belly_widebody",
}


def wtw_g(carrier_key: str, energy_mj: float) -> float:
    """WTW emissions of an amount of energy of a carrier [g CO2e]."""
    wtt, ttw = co2e_of_energy_kg(load_factors().carrier(carrier_key), energy_mj)
    return (wtt + ttw) * G_PER_KG


def test_catalog_has_every_type_with_source_and_known_carriers():
    types = vehicle_types()
    assert set(types) == TYPE_IDS
    carriers = load_factors().carriers
    for v in types.values():
        assert v.source and v.year >= 2009 and v.data_quality
        assert v.default_carrier in v.energy_carriers
        assert all(k in carriers for k in v.energy_carriers)
    assert types["ship_feeder_1700teu"].mode is Mode.SEA
    assert types["barge_container_iww"].mode is Mode.INLAND_WATER


def test_diesel_and_fcev_rows_reproduce_their_calibration_points():
    diesel = vehicle_type("truck_40t_diesel")
    # 8.8324 + 0.14385 x 19.3 = 11.608705 MJ/km / (0.832 kg/l x 42.8 MJ/kg) = 32.6 l/100 km
    assert energy_mj_per_km(diesel, 19.3) == pytest.approx(11.608705)
    litres_per_100km = 11.608705 / (0.832 * 42.8) * 100
    assert litres_per_100km == pytest.approx(32.6, abs=0.01)
    fcev = vehicle_type("truck_40t_fcev")
    # 9.3344 + 0.149589 x 10.6 = 10.9200 MJ/km / 120 MJ/kg = 9.10 kg H2/100 km (ICCT 2022)
    assert energy_mj_per_km(fcev, 10.6) == pytest.approx(10.9200434)
    # +18.4 % at 24 t: (9.3344 + 0.149589 x 24) / 10.92004 = 12.924536 / 10.92004
    assert energy_mj_per_km(fcev, 24) / energy_mj_per_km(fcev, 10.6) == pytest.approx(
        1.18356, rel=1e-4
    )


def test_bev_uses_more_energy_per_km_at_full_payload_than_empty():
    bev = vehicle_type("truck_40t_bev")
    empty, full = energy_mj_per_km(bev, 0), energy_mj_per_km(bev, 22)
    assert empty == pytest.approx(2.7638)  # empty_energy_mj_per_km
    # 2.7638 + 0.042917 x 22 = 3.707974 MJ/km = 103 kWh/100 km x 3.6 (Daimler 2024 tour load)
    assert full == pytest.approx(3.707974)
    assert full == pytest.approx(1.03 * 3.6, rel=1e-4)
    assert full > empty


def test_bev_range_at_full_load_is_shorter_than_empty():
    bev = vehicle_type("truck_40t_bev")
    # 600 kWh x 3.6 = 2160 MJ; / 2.7638 = 781.53 km empty; / 3.707974 = 582.53 km at 22 t
    assert range_km(bev, 0) == pytest.approx(2160 / 2.7638)
    assert range_km(bev, 22) == pytest.approx(2160 / 3.707974)
    assert range_km(bev, 22) < range_km(bev, 0)
    # 1,500 km at 22 t: ceil(1500 / 582.53) - 1 = 2 stops of 600 kWh at 400 kW = 3 h
    assert refuel_stops(bev, 22, 1500) == (2, pytest.approx(3.0))


def test_diesel_tractor_half_load_20pct_empty_is_60_to_150_g_per_tkm():
    diesel = vehicle_type("truck_40t_diesel")
    # loaded 8.8324 + 0.14385 x 12.5 = 10.630525 MJ/km; empty 8.8324 MJ/km, er/(1-er) = 0.25
    # (10.630525 + 0.25 x 8.8324) / 12.5 = 12.838625 / 12.5 = 1.02709 MJ/tkm
    intensity = energy_mj_per_tkm(diesel, 12.5, 0.2)
    assert intensity == pytest.approx(1.02709)
    p = profile("truck_40t_diesel", load_factor=0.5, empty_running_share=0.2)
    assert p.energy_mj_per_tkm == pytest.approx(1.02709)
    assert p.carrier.key == "diesel_b7"
    assert 60 < wtw_g("diesel_b7", 1.02709) < 150
    assert "load 50 % of 25 t payload = 12.5 t (stated)" in p.rules
    assert "empty running 20 % of vehicle-km (stated)" in p.rules


def test_grey_hydrogen_fcev_emits_more_than_diesel_green_far_less():
    # per vehicle-km at 50 % load: FCEV 9.3344 + 0.149589 x 12 = 11.129468 MJ/km,
    # diesel 8.8324 + 0.14385 x 12.5 = 10.630525 MJ/km
    fcev_mj = energy_mj_per_km(vehicle_type("truck_40t_fcev"), 12)
    diesel_mj = energy_mj_per_km(vehicle_type("truck_40t_diesel"), 12.5)
    assert fcev_mj == pytest.approx(11.129468)
    assert diesel_mj == pytest.approx(10.630525)
    diesel = wtw_g("diesel_b7", diesel_mj)
    assert wtw_g("hydrogen_grey", fcev_mj) > diesel
    assert wtw_g("hydrogen_green", fcev_mj) < 0.1 * diesel


def test_rail_and_ship_below_road_and_air_highest():
    # electric train: (23.317 + 0.058293 x 600 + 0.25 x 23.317) / 600 = 0.1068701 MJ/tkm
    rail = profile("train_electric_container")
    assert rail.energy_mj_per_tkm == pytest.approx(0.1068701)
    # ULCV: (7632.4 + 0.0079504 x 168000) / 168000 = 0.0533814 MJ/tkm
    ship = profile("ship_container_24000teu")
    assert ship.energy_mj_per_tkm == pytest.approx(0.0533814)
    # 777F: (314.56 + 1.6181 x 61.8) / 61.8 = 6.708068 MJ/tkm (= 0.156 kg fuel/tkm x 43 MJ/kg)
    air = profile("aircraft_freighter_b777f")
    assert air.energy_mj_per_tkm == pytest.approx(6.708068)
    road = wtw_g("diesel_b7", profile("truck_40t_diesel").energy_mj_per_tkm)
    assert wtw_g("electricity_de_rail", rail.energy_mj_per_tkm) < road
    assert wtw_g("electricity_cn", rail.energy_mj_per_tkm) < road
    assert wtw_g("vlsfo", ship.energy_mj_per_tkm) < road
    by_type = {t: wtw_g(p.carrier.key, p.energy_mj_per_tkm) for t in TYPE_IDS for p in [profile(t)]}
    top_two = sorted(by_type, key=by_type.__getitem__)[-2:]
    assert set(top_two) == {"aircraft_freighter_b777f", "aircraft_belly_widebody"}


def test_wind_assist_and_saf_lower_the_profile():
    ship = vehicle_type("ship_container_24000teu")
    # wind_assist_saving_share 0.082: 7632.4 x (1 - 0.082) = 7006.5432 MJ/km empty
    assert energy_mj_per_km(ship, 0, wind_assist=True) == pytest.approx(7006.5432)
    assert profile("ship_container_24000teu", wind_assist=True).energy_mj_per_tkm == pytest.approx(
        0.0533814 * 0.918
    )
    fossil = profile("aircraft_freighter_b777f").carrier
    mix = profile("aircraft_freighter_b777f", saf_share=0.3).carrier
    saf = load_factors().carrier("saf_hefa_uco")
    # one basis: CORSIA HEFA-UCO 13.9 g/MJ against the CORSIA fossil jet baseline 89 g/MJ,
    # not the ifeu kerosene 94.15: 0.7 x 89 + 0.3 x 13.9 = 66.47 g/MJ
    assert saf.wtw_g_per_mj == pytest.approx(13.9)
    assert mix.wtw_g_per_mj == pytest.approx(0.7 * 89 + 0.3 * 13.9)
    assert fossil.wtw_g_per_mj == pytest.approx(94.15)  # neat kerosene stays on ifeu
    assert mix.wtw_g_per_mj < fossil.wtw_g_per_mj


def test_cost_breakdown_sums_to_total():
    cost = leg_cost_cny("truck_40t_diesel", "diesel_b7", "ES", 12.5, 1000)
    diesel = load_factors().carrier("diesel_b7")
    mj_per_l = diesel.lhv_mj_per_kg * diesel.density_kg_per_l
    assert cost.fixed_cny == Decimal("200.00")  # fixed_cost_cny_per_departure
    assert cost.distance_cny == Decimal("844.80")  # 0.8448 CNY/km x 1000 km
    assert cost.time_cny == Decimal("5253.57")  # 1000 km / 70 km/h x 367.75 CNY/h
    # 10.630525 MJ/km x 1000 km x 12.4701 CNY/l (1.657 EUR/l x 7.5257) / MJ per l
    assert float(cost.energy_cny) == pytest.approx(10630.525 * 12.4701 / mj_per_l, abs=0.01)
    assert cost.total_cny == (cost.fixed_cny + cost.distance_cny + cost.time_cny + cost.energy_cny)
    assert cost.to_dict()["total_cny"] == format(cost.total_cny, "f")
    # 25 % empty running share adds 1000 x 0.25 / 0.75 = 333.33 km at 8.8324 MJ/km
    with_empty = leg_cost_cny(
        "truck_40t_diesel", "diesel_b7", "ES", 12.5, 1000, empty_running_share=0.25
    )
    assert with_empty.distance_km == pytest.approx(1000 + 1000 / 3)
    assert with_empty.energy_mj == pytest.approx(10630.525 + 1000 / 3 * 8.8324)


def test_prices_fall_back_by_carrier_family_and_region():
    assert energy_price("diesel_b7", "DE").region == "EU"
    assert energy_price("electricity_cn_east", "CN-East").carrier == "electricity_cn"
    assert energy_price("lng_marine_diesel_ss", "SG").carrier == "lng_marine"
    assert energy_price("vlsfo", "SG").price_cny_per_unit == Decimal("4014.7214")  # 558.5 x 7.1884
    assert energy_price("diesel_b0", "IN").region == "GLOBAL"  # world-average fallback
    with pytest.raises(InputError) as err:
        energy_price("hvo", "CN")  # no HVO price in China nor a global one
    assert err.value.field == "region"
    for row in energy_prices().values():
        assert row.source and row.year and row.data_quality
    bev = vehicle_type("truck_40t_bev")
    assert regional_carrier(bev, "CN-South") == "electricity_cn_south"
    assert regional_carrier(vehicle_type("truck_40t_diesel"), "CN") == "diesel_b0"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"type": "truck_40t_diesel", "load_t": -1}, "vehicle.load_t"),
        ({"type": "truck_40t_diesel", "load_t": 26}, "vehicle.load_t"),
        ({"type": "truck_40t_diesel", "load_t": "ten"}, "vehicle.load_t"),
        ({"type": "truck_40t_diesel", "load_factor": 1.5}, "vehicle.load_factor"),
        ({"type": "truck_40t_diesel", "empty_running_share": 1}, "vehicle.empty_running_share"),
        ({"type": "truck_40t_diesel", "carrier": "vlsfo"}, "vehicle.carrier"),
        ({"type": "truck_40t_diesel", "saf_share": 0.3}, "vehicle.saf_share"),
        ({"type": "truck_40t_diesel", "wind_assist": True}, "vehicle.wind_assist"),
        ({"type": "truck_40t_diesel", "wind_assist": "yes"}, "vehicle.wind_assist"),
        ({"type": "truck_40t_diesel", "speed": 80}, "vehicle.speed"),
        ({"type": "hovercraft"}, "vehicle.type"),
        ({"load_t": 10}, "vehicle.type"),
        ({"type": "aircraft_freighter_b777f", "saf_share": 2}, "vehicle.saf_share"),
    ],
)
def test_bad_vehicle_spec_raises_input_error_naming_the_field(spec, field):
    with pytest.raises(InputError) as err:
        resolve_vehicle(spec, load_factors())
    assert err.value.field == field


def test_vehicle_leg_through_the_emissions_chain():
    doc = {
        "shipment_id": "S1",
        "mass_t": 10,
        "legs": [
            {
                "mode": "road",
                "distance_km": 100,
                "vehicle": {"type": "truck_40t_diesel", "load_factor": 0.5},
            }
        ],
    }
    tce = footprint_from_chain(doc, resolve_vehicle).tces[0]
    # 10 t x 100 km x 1.02709 MJ/tkm = 1027.09 MJ of diesel_b7
    assert tce.energy_mj == pytest.approx(1027.09)
    assert tce.co2e_wtw_kg == pytest.approx(wtw_g("diesel_b7", 1027.09) / 1000)
    doc["legs"][0]["vehicle"] = {"type": "truck_40t_diesel", "load_t": 0}
    with pytest.raises(InputError) as err:
        footprint_from_chain(doc, resolve_vehicle)
    assert err.value.field == "legs[0].vehicle.load_t"


def test_broken_vehicle_table_names_row_and_column(tmp_path):
    for src in DATA_DIR.glob("*.csv"):
        shutil.copy(src, tmp_path / src.name)
    table = tmp_path / "vehicle_types.csv"
    table.write_text(table.read_text().replace("truck_40t_lng,road,", "truck_40t_lng,hovercraft,"))
    with pytest.raises(DataError) as err:
        vehicle_types(tmp_path)
    assert err.value.field == "vehicle_types.csv[line 4].mode"
    assert (err.value.file, err.value.line, err.value.column) == ("vehicle_types.csv", 4, "mode")
    table.write_text(
        (DATA_DIR / "vehicle_types.csv")
        .read_text()
        .replace(
            "diesel_b7;diesel_b0;hvo;biodiesel_fame,diesel_b7,25,",
            "diesel_b7;diesel_x,diesel_b7,25,",
            1,
        )
    )
    with pytest.raises(DataError) as err:
        vehicle_types(tmp_path)
    assert err.value.field == "vehicle_types.csv[line 2].energy_carriers"
    assert "truck_40t_diesel: unknown energy carrier 'diesel_x'" in str(err.value)


def test_vehicle_and_toc_legs_follow_the_same_distance_rule():
    """One sea leg, stated as 10,000 km SFD and as 10,000 km actual (ISO 14083 sea DAF 1.15)."""

    def leg(basis: str, how: dict) -> dict:
        return {"mode": "sea", "distance_km": 10_000, "distance_basis": basis, **how}

    ship = {"vehicle": {"type": "ship_container_14000teu"}}
    toc = {"toc": {"toc_id": "sea_container_avg_desnz"}}
    out = {}
    for name, how in (("vehicle", ship), ("toc", toc)):
        for basis in ("sfd", "actual"):
            doc = {"shipment_id": "S", "mass_t": 10, "legs": [leg(basis, how)]}
            out[name, basis] = footprint_from_chain(doc, resolve_vehicle).tces[0]
    # TOC: 10 t x 10,000 km x 19.77 g/tkm (actual basis) = 1,977 kg; SFD leg sails 11,500 km
    assert out["toc", "actual"].co2e_wtw_kg == pytest.approx(1977.0)
    assert out["toc", "sfd"].co2e_wtw_kg == pytest.approx(2273.55)
    # vehicle: the profile's MJ/tkm is per km sailed, so the SFD leg burns 1.15x the energy
    sfd, actual = out["vehicle", "sfd"], out["vehicle", "actual"]
    assert sfd.co2e_wtw_kg / actual.co2e_wtw_kg == pytest.approx(1.15)
    assert sfd.energy_mj / actual.energy_mj == pytest.approx(1.15)
    assert sfd.distance_actual_km == pytest.approx(11_500.0)
    # activity on the SFD for every path: 100,000 tkm and 100,000 / 1.15 = 86,956.5 tkm
    for name in ("vehicle", "toc"):
        assert out[name, "sfd"].activity_tkm == pytest.approx(100_000.0)
        assert out[name, "actual"].activity_tkm == pytest.approx(100_000.0 / 1.15)
        assert out[name, "actual"].distance_basis == "sfd"


def test_nanjing_madrid_rail_example():
    """data/examples/nanjing_madrid_rail.json: Nanjing -> Alashankou -> Malaszewicze -> Irun ->
    Madrid by container train, gauge changes at the three borders (1,435/1,520/1,668 mm)."""
    import json

    from greenlane.data import DATA_DIR
    from greenlane.emissions.distance import gcd_km
    from greenlane.fleet import profile

    doc = json.loads((DATA_DIR / "examples" / "nanjing_madrid_rail.json").read_text())
    fp = footprint_from_chain(doc, resolve_vehicle)
    legs = [t for t in fp.tces if t.kind == "leg"]
    hubs = [t for t in fp.tces if t.kind == "hub"]
    assert [t.mode for t in legs] == ["road", "rail", "rail", "rail", "rail"]
    assert [h.hoc_id for h in hubs] == [
        "ct_terminal_glec_v3",
        *["border_rail_gauge_change"] * 3,
        "ct_terminal_glec_v3",
    ]
    # Chinese section: GCD Nanjing (Longtan) - Alashankou x 1.2 rail detour (SFD; rail actual =
    # SFD), 10 t on the electric train's profile, China grid 530.6 g CO2/kWh (all WTT)
    china = legs[1]
    sfd = gcd_km(32.079411, 118.732675, 45.1725, 82.5636) * 1.2  # 4,117.8 km
    assert china.distance_km == pytest.approx(sfd)
    mj = profile("train_electric_container", "electricity_cn").energy_mj_per_tkm * 10 * sfd
    assert china.energy_mj == pytest.approx(mj)
    assert china.co2e_wtw_kg == pytest.approx(mj / 3.6 * 0.5306)
    assert china.co2e_ttw_kg == 0
    # 12,248 km of rail (the Yiwu-Madrid line is 13,052 km); activity = 10 t x sum of SFDs
    rail_km = sum(t.distance_km for t in legs if t.mode == "rail")
    assert 12_000 < rail_km < 13_100
    assert fp.totals.tkm == pytest.approx(10 * sum(t.distance_km for t in legs))
    assert sum(h.co2e_wtw_kg for h in hubs) == pytest.approx(5 * 10 * 1.07)
