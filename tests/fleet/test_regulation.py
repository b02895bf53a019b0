"""Regulatory carbon costs per leg, each rule computed by hand from data/regulatory_costs.csv.

EUA defaults: 67 (2024), 75 (2025), 70.76 (2026) EUR/t; EUR = 7.5257 CNY (fx_rates.csv).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import load_factors
from greenlane.emissions.model import Mode
from greenlane.fleet import vehicle_type
from greenlane.fleet.regulation import (
    LegActivity,
    Regulation,
    de_toll_eur_per_km,
    ets2_eur,
    ets_maritime_share,
    eu_ets_aviation_eur,
    eu_ets_maritime_eur,
    fueleu_limit_g_per_mj,
    fueleu_penalty_eur,
    regulatory_costs_cny,
    regulatory_table,
    saf_mandate_cny,
    saf_mandate_shares,
    synthetic_premium_cny_per_mj,
    ttw_co2_share,
)

FX = 7.5257
T = regulatory_table()


@pytest.mark.parametrize(
    ("year", "share"), [(2023, 0.0), (2024, 0.2), (2025, 0.35), (2026, 0.5), (2030, 0.5)]
)
def test_ets_share_shanghai_rotterdam_phases_in_40_70_100_of_50(year: int, share: float) -> None:
    assert ets_maritime_share(year, "CN", "NL", T) == pytest.approx(share)


def test_ets_share_intra_eu_feeder_is_full_and_chinese_coast_zero() -> None:
    assert ets_maritime_share(2024, "NL", "DE", T) == pytest.approx(0.4)
    assert ets_maritime_share(2026, "NL", "DE", T) == pytest.approx(1.0)
    assert ets_maritime_share(2026, "NO", "DE", T) == pytest.approx(1.0)  # EEA
    assert ets_maritime_share(2026, "CN", "CN", T) == 0.0
    assert ets_maritime_share(2026, "GB", "CN", T) == 0.0  # UK left the EU ETS


def test_eu_ets_shanghai_rotterdam_by_year() -> None:
    # 10 t CO2 + 0.15 t CO2e of CH4/N2O; CH4/N2O count from 2026 only
    # 2024: 10 t x 20 % x 67 = 134; 2025: 10 x 35 % x 75 = 262.5; 2026: 10.15 x 50 % x 70.76
    assert eu_ets_maritime_eur(10_000, 150, 2024, "CN", "NL", 67, T) == pytest.approx(134.0)
    assert eu_ets_maritime_eur(10_000, 150, 2025, "CN", "NL", 75, T) == pytest.approx(262.5)
    assert eu_ets_maritime_eur(10_000, 150, 2026, "CN", "NL", 70.76, T) == pytest.approx(359.107)
    # at berth in Rotterdam: 100 % x phase-in; 2 t in 2025 = 2 x 0.7 x 75 = 105
    assert eu_ets_maritime_eur(0, 0, 2025, "CN", "NL", 75, T, at_berth_co2e_kg=2000) == (
        pytest.approx(105.0)
    )


def test_eu_ets_feeder_rotterdam_hamburg_full_scope() -> None:
    # 0.41 t CO2e, 2026: 100 % x 100 % x 75 = 30.75 EUR (reference note: ~EUR 31 per FEU)
    assert eu_ets_maritime_eur(400, 10, 2026, "NL", "DE", 75, T) == pytest.approx(30.75)
    assert eu_ets_maritime_eur(400, 10, 2026, "CN", "CN", 75, T) == 0.0


def test_eu_ets_aviation_only_intra_eea() -> None:
    assert eu_ets_aviation_eur(1000, "DE", "ES", 2026, 70.76, T) == pytest.approx(70.76)
    assert eu_ets_aviation_eur(1000, "DE", "CN", 2026, 70.76, T) == 0.0


def test_vlsfo_co2_share_from_fueleu_cf() -> None:
    # FuelEU VLSFO: Cf 3.206 CO2, 0.00005 CH4 x 29.8, 0.00018 N2O x 273 (AR6) g/g fuel
    vlsfo = load_factors().carrier("vlsfo")
    assert ttw_co2_share(vlsfo) == pytest.approx(3.206 / (3.206 + 0.00005 * 29.8 + 0.00018 * 273))
    assert ttw_co2_share(load_factors().carrier("methanol_e")) == 0.0  # renewable carbon


def test_fueleu_limit_and_penalty_per_tonne_vlsfo() -> None:
    assert fueleu_limit_g_per_mj(2024, T) is None
    assert fueleu_limit_g_per_mj(2026, T) == pytest.approx(91.16 * 0.98)
    assert fueleu_limit_g_per_mj(2030, T) == pytest.approx(85.6904)
    # 1 t VLSFO = 41 000 MJ at 92.63 g/MJ, intra-EU 2025: (92.63 - 89.3368)/92.63 x 2400
    fine = fueleu_penalty_eur(41_000, 92.63, False, 2025, "NL", "DE", T)
    assert fine == pytest.approx((92.63 - 89.3368) / 92.63 * 2400)
    assert fine == pytest.approx(85.3, abs=0.05)  # regulatory-costs.md EST row
    # extra-EU voyage: half the energy in scope; 2030 limit 85.6904
    assert fueleu_penalty_eur(41_000, 92.63, False, 2030, "CN", "NL", T) == pytest.approx(
        0.5 * (92.63 - 85.6904) / 92.63 * 2400
    )
    assert fueleu_penalty_eur(41_000, 92.63, False, 2030, "CN", "CN", T) == 0.0
    assert fueleu_penalty_eur(41_000, 80.0, False, 2026, "NL", "DE", T) == 0.0  # surplus: 0


def test_fueleu_rfnbo_reward_counts_energy_twice_until_2033() -> None:
    # 120 g/MJ RFNBO: 60 g/MJ with RWD 2 in 2033 (below 85.69: no penalty); 2034 without
    assert fueleu_penalty_eur(1000, 120.0, True, 2033, "NL", "DE", T) == 0.0
    assert fueleu_penalty_eur(1000, 120.0, True, 2034, "NL", "DE", T) == pytest.approx(
        (120 - 85.6904) * 1000 / (120 * 41_000) * 2400
    )


def test_saf_mandate_frankfurt_2030_and_shanghai_none() -> None:
    assert saf_mandate_shares(2030, "DE", T) == pytest.approx((0.06, 0.012))
    assert saf_mandate_shares(2025, "DE", T) == pytest.approx((0.02, 0.0))
    assert saf_mandate_shares(2030, "CN", T) == (0.0, 0.0)
    # 1000 MJ, no own SAF: 4.8 % bio x 0.25 + 1.2 % synthetic x 1.2 CNY/MJ premium
    assert saf_mandate_cny(1000, 0.0, 0.06, 0.012, 0.25, 1.2) == pytest.approx(
        1000 * (0.048 * 0.25 + 0.012 * 1.2)
    )
    # a 30 % own blend covers the bio part; the synthetic sub-mandate stays
    assert saf_mandate_cny(1000, 0.3, 0.06, 0.012, 0.25, 1.2) == pytest.approx(14.4)
    # e-SAF premium 7695 - 734 = 6961 EUR/t over 43 000 MJ/t jet
    jet = load_factors().carrier("jet_kerosene")
    assert synthetic_premium_cny_per_mj(jet, T) == pytest.approx(6961 * FX / 43_000)


def test_german_toll_diesel_vs_battery_truck() -> None:
    diesel, bev = vehicle_type("truck_40t_diesel"), vehicle_type("truck_40t_bev")
    # BFStrMG Anlage 1: 0.155 infra + 0.023 air + 0.012 noise + 0.158 CO2 class 1 (5 axles)
    assert de_toll_eur_per_km(diesel, "diesel_b7", 2026, T) == pytest.approx((0.348, 0.158))
    rigid = vehicle_type("rigid_18t_diesel")  # 12-18 t: 0.107 + 0.015 + 0.016 + 0.100
    assert de_toll_eur_per_km(rigid, "diesel_b7", 2026, T) == pytest.approx((0.238, 0.100))
    # zero-emission: exempt to mid-2031, then 25 % infra + 0.001 air (cat. G) + noise
    assert de_toll_eur_per_km(bev, "electricity_de", 2026, T) == (0.0, 0.0)
    zev = 0.155 * 0.25 + 0.001 + 0.012
    assert de_toll_eur_per_km(bev, "electricity_de", 2031, T) == pytest.approx((zev / 2, 0.0))
    assert de_toll_eur_per_km(bev, "electricity_de", 2032, T) == pytest.approx((zev, 0.0))


def test_ets2_on_road_fuel_from_2028_only() -> None:
    assert ets2_eur(1000, 2027, "DE", Mode.ROAD, 45, T) == 0.0
    assert ets2_eur(1000, 2028, "DE", Mode.ROAD, 45, T) == pytest.approx(45.0)
    assert ets2_eur(1000, 2028, "CN", Mode.ROAD, 45, T) == 0.0
    assert ets2_eur(1000, 2028, "DE", Mode.RAIL, 45, T) == 0.0
    assert Regulation(2027).ets2_price(T) == 0.0
    assert Regulation(2028).ets2_price(T) == 45.0
    assert Regulation(2028, ets2_eur_per_t=100).ets2_price(T) == 100.0


def test_leg_costs_diesel_truck_through_germany_in_cny() -> None:
    f = load_factors()
    diesel = vehicle_type("truck_40t_diesel")
    leg = LegActivity(
        Mode.ROAD, diesel, f.carrier("diesel_b7"), "DE", "DE", 5000.0, 350.0, vehicle_km=300.0
    )
    costs, rules = regulatory_costs_cny(leg, Regulation(2028))
    assert costs["toll"] == pytest.approx(300 * 0.348 * FX)
    assert costs["ets2"] == pytest.approx(0.350 * 45 * FX)
    assert costs["eu_ets"] == costs["fueleu"] == 0.0
    assert any("German HGV toll 2028" in r for r in rules)
    off, _ = regulatory_costs_cny(leg, Regulation(2028, enabled=False))
    assert set(off.values()) == {0.0}


def test_eua_price_is_dated_with_override() -> None:
    assert Regulation(2024).eua_price(T) == 67
    assert Regulation(2026).eua_price(T) == 70.76
    assert Regulation(2040).eua_price(T) == 85  # held at the last dated level
    assert Regulation(2026, eua_eur_per_t=120).eua_price(T) == 120
    with pytest.raises(InputError) as err:
        Regulation(2026, eua_eur_per_t=-1).validate()
    assert err.value.field == "eua_eur_per_t"
    with pytest.raises(InputError):
        Regulation(2023).eua_price(T)  # no EUA row before 2024


def test_rate_card_lookup_and_price_per_tonne() -> None:
    from greenlane.fleet.rates import rate_card_for

    sea = rate_card_for(Mode.SEA, "CN", "NL")
    assert sea is not None and sea.rate_id == "sea_cn_north_europe_spot"
    # dated FX: the card of 5 Mar 2026 converts at the fixing of 23 Jan 2026 (6.9929)
    assert sea.fx().date == "2026-01-23"
    assert sea.cny_per_t() == pytest.approx(2052 / 20 * 6.9929)  # 717.47 CNY/t
    assert sea.fuel_link == "vlsfo" and sea.fuel_base_cny() == pytest.approx(537 * 6.9929)
    contract = rate_card_for(Mode.SEA, "CN", "NL", contract="contract")
    assert contract is not None and contract.value == 2804
    # signed late Jan 2025: the fixing of 31 Dec 2024 (7.1884) is the latest before it
    assert contract.fx().date == "2024-12-31"
    assert contract.cny_per_t() == pytest.approx(2804 / 20 * 7.1884)  # 1 007.81 CNY/t
    med = rate_card_for(Mode.SEA, "CN", "ES")
    assert med is not None and med.rate_id == "sea_cn_med_spot"
    air = rate_card_for(Mode.AIR, "HK", "DE")
    # TAC Oct 2025 average at the fixing of 23 Sep 2025: 4.59 x 1000 x 7.1057 = 32 615.16
    assert air is not None and air.cny_per_t() == pytest.approx(4.59 * 1000 * 7.1057)
    assert air.volumetric_t_per_m3() == pytest.approx(0.16667)  # 1 : 6 000 cm3/kg
    assert air.min_charge_cny() == 0.0  # no minimum charge sourced for the lane
    assert rate_card_for(Mode.SEA, "CN", "CN") is None  # Chinese coast: no card
    assert rate_card_for(Mode.ROAD, "DE", "DE") is None  # own fleet


def test_flight_before_the_eua_table_pays_nothing_and_is_priced() -> None:
    f = load_factors()
    b777 = vehicle_type("aircraft_freighter_b777f")
    leg = LegActivity(Mode.AIR, b777, f.carrier("jet_kerosene"), "CN", "DE", 1e6, 70_000.0)
    costs, _ = regulatory_costs_cny(leg, Regulation(2023))
    assert set(costs.values()) == {0.0}
    intra = LegActivity(Mode.AIR, b777, f.carrier("jet_kerosene"), "DE", "ES", 1e6, 70_000.0)
    costs, rules = regulatory_costs_cny(intra, Regulation(2026))
    assert costs["eu_ets"] == pytest.approx(70 * 70.76 * FX)  # jet TTW is all CO2 here
    assert rules and "intra-EEA" in rules[0]


def test_fx_rate_on_takes_the_latest_fixing_on_or_before_the_date() -> None:
    from greenlane.fleet.catalog import fx_rate_on, fx_rates

    assert fx_rate_on("USD", "2025-09-22").cny_per_unit == Decimal("7.1884")  # 31 Dec 2024
    assert fx_rate_on("USD", "2025-09-23").cny_per_unit == Decimal("7.1057")
    assert fx_rate_on("USD", "2026-12-06").cny_per_unit == Decimal("6.9929")
    assert fx_rate_on("USD", "2020-01-01").date == "2024-12-31"  # before any: the earliest
    assert fx_rate_on("EUR", "2026-03-05").cny_per_unit == Decimal("7.5257")
    # the reference rates (energy prices, regulation) are those of the CNY row's date
    assert fx_rates()["USD"].date == "2024-12-31"
    with pytest.raises(InputError) as err:
        fx_rate_on("JPY", "2026-01-01")
    assert err.value.field == "currency"
