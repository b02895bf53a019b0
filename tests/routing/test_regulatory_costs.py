"""Regulatory carbon costs in lane pricing and plans, checked by hand against each option's
own TTW emissions [kg], energy [MJ] and km (EUA 2026 70.76 EUR/t, EUR = 7.5257 CNY)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from greenlane.fleet.regulation import COST_KEYS, Regulation, ttw_co2_share
from greenlane.routing import PlanOptions, load_network, plan, plan_to_dict
from greenlane.routing.planner.pricing import LaneOption, price_lane
from greenlane.routing.planner.shipments import parse_shipments

FX = 7.5257


@pytest.fixture(scope="module")
def net():
    return load_network()


def _options(net, lane_id: str, year: int | None, **kw) -> list[LaneOption]:
    lane = net.lane(lane_id)
    reg = None if year is None else Regulation(year, **kw)
    return price_lane(
        lane, net.hubs[lane.origin], destination=net.hubs[lane.destination], regulation=reg
    )


def _split(o: LaneOption) -> dict[str, float]:
    return dict(zip(COST_KEYS, o.split_cny_per_t, strict=True))


@pytest.mark.parametrize(("year", "share", "eua"), [(2024, 0.2, 67), (2025, 0.35, 75)])
def test_shanghai_rotterdam_2024_2025_co2_only(net, year, share, eua) -> None:
    for o in _options(net, "SEA-CNSHA-NLRTM", year):
        co2_kg_per_t = o.ttw_kg_per_t * ttw_co2_share(o.carrier_obj)
        assert _split(o)["eu_ets"] == pytest.approx(share * co2_kg_per_t / 1000 * eua * FX)


def test_shanghai_rotterdam_2026_half_of_ttw_at_eua(net) -> None:
    base = {o.key: o for o in _options(net, "SEA-CNSHA-NLRTM", None)}
    for o in _options(net, "SEA-CNSHA-NLRTM", 2026):
        split = _split(o)
        # 2026: 50 % scope x 100 % phase-in of TTW CO2e (CO2 + CH4 + N2O) x 70.76 EUR/t
        assert split["eu_ets"] == pytest.approx(0.5 * o.ttw_kg_per_t / 1000 * 70.76 * FX)
        assert split["eu_ets"] > 0 or o.ttw_kg_per_t <= 0
        assert o.cost_cny_per_t == pytest.approx(sum(split.values()))
        b = base[o.key]
        extra = split["eu_ets"] + split["fueleu"]
        assert o.cost_cny_per_t == pytest.approx(b.cost_cny_per_t + extra)
    vlsfo = next(o for o in _options(net, "SEA-CNSHA-NLRTM", 2026) if o.carrier == "vlsfo")
    # FuelEU: VLSFO 92.6 g/MJ above the 2026 limit 89.3368 on half the energy
    wtw = vlsfo.carrier_obj.wtw_g_per_mj
    fine_eur = 0.5 * (wtw - 91.16 * 0.98) * vlsfo.energy_mj_per_t / (wtw * 41_000) * 2400
    assert _split(vlsfo)["fueleu"] == pytest.approx(fine_eur * FX)


def test_eua_override_scales_ets(net) -> None:
    at_default = {o.key: _split(o)["eu_ets"] for o in _options(net, "SEA-CNSHA-NLRTM", 2026)}
    for o in _options(net, "SEA-CNSHA-NLRTM", 2026, eua_eur_per_t=120.0):
        assert _split(o)["eu_ets"] == pytest.approx(at_default[o.key] * 120 / 70.76)


@pytest.mark.parametrize("lane_id", ["SEA-CNSHA-CNNGB", "IWW-CNNKG-CNSHA", "IWW-NLRTM-DEDUI"])
def test_chinese_coast_and_barges_pay_no_maritime_regulation(net, lane_id) -> None:
    for o in _options(net, lane_id, 2026):
        split = _split(o)
        assert split["eu_ets"] == split["fueleu"] == split["ets2"] == 0.0


def test_frankfurt_departure_2030_carries_6_percent_saf(net) -> None:
    opts = _options(net, "AIR-PVG-FRA:rev", 2030)
    jet = [o for o in opts if o.carrier.startswith("jet_kerosene+saf_hefa_uco:0.06")]
    assert jet, [o.carrier for o in opts]
    base = {
        o.vehicle_id: o
        for o in _options(net, "AIR-PVG-FRA:rev", None)
        if o.carrier == "jet_kerosene"
    }
    # SAF - jet at Frankfurt [CNY/MJ]: EASA 2024 reference prices 2 085 and 734 EUR/t
    # x 7.5257 CNY/EUR (energy_prices.csv EU rows), LHV 43 MJ/kg
    bio = (15691.0845 - 5523.8638) / 43_000
    synth = 6961 * FX / 43_000  # EASA 2024 e-SAF premium
    for o in jet:
        split = _split(o)
        assert split["saf_mandate"] == pytest.approx(
            o.energy_mj_per_t * (0.048 * bio + 0.012 * synth), rel=1e-4
        )
        b = base[o.vehicle_id]
        assert o.wtw_kg_per_t < b.wtw_kg_per_t  # 6 % SAF lowers WTW
        assert o.energy_mj_per_t == pytest.approx(b.energy_mj_per_t)
    # the same aircraft from Shanghai: no mandate, no ETS (extra-EEA flight)
    for o in _options(net, "AIR-PVG-FRA", 2030):
        assert _split(o)["saf_mandate"] == _split(o)["eu_ets"] == 0.0


def test_diesel_truck_through_germany_pays_toll_battery_truck_not(net) -> None:
    opts = {o.vehicle_id: o for o in _options(net, "ROAD-DEDUI-C-FRANKFURT", 2026)}
    diesel, bev = opts["truck_40t_diesel"], opts["truck_40t_bev"]
    km = diesel.distance_km / (1 - 0.2)  # loaded + empty running (20 %)
    vsplit = dict(zip(COST_KEYS, diesel.vehicle_split_cny, strict=True))
    assert vsplit["toll"] == pytest.approx(km * 0.348 * FX)
    assert vsplit["ets2"] == 0.0  # ETS2 starts 2028
    assert dict(zip(COST_KEYS, bev.vehicle_split_cny, strict=True))["toll"] == 0.0
    later = {o.vehicle_id: o for o in _options(net, "ROAD-DEDUI-C-FRANKFURT", 2028)}
    d28 = later["truck_40t_diesel"]
    v28 = dict(zip(COST_KEYS, d28.vehicle_split_cny, strict=True))
    assert v28["ets2"] == pytest.approx(d28.vehicle_ttw_kg / 1000 * 45 * FX)
    assert _split(d28)["ets2"] == pytest.approx(d28.ttw_kg_per_t / 1000 * 45 * FX)
    assert d28.vehicle_cost_cny == pytest.approx(sum(v28.values()))


def test_plan_legs_split_cost_and_report_regulation(net) -> None:
    book = parse_shipments(
        [
            {
                "shipment_id": "NKG-RTM",
                "origin": "CNNKG",
                "destination": "NLRTM",
                "mass_t": "10",
                "ready_at": "2026-12-01",
                "due_at": "2027-02-15",
                "allowed_modes": ["inland_water", "sea"],
            }
        ]
    )
    p = plan(book, net, PlanOptions(carbon_price_cny_per_t=100.0))
    assert p.status in ("optimal", "feasible")
    doc = plan_to_dict(p)
    legs = doc["shipments"][0]["legs"]
    assert [leg["lane_id"] for leg in legs] == ["IWW-CNNKG-CNSHA", "SEA-CNSHA-NLRTM"]
    barge, sea = legs
    assert barge["cost_breakdown"]["eu_ets"] == 0
    expected = 0.5 * float(sea["co2e_ttw_kg"]) / 1000 * 70.76 * FX
    assert float(sea["cost_breakdown"]["eu_ets"]) == pytest.approx(expected, abs=0.02)
    for leg in legs:
        assert set(leg["cost_breakdown"]) == set(COST_KEYS)
        assert float(sum(leg["cost_breakdown"].values())) == pytest.approx(
            float(leg["cost_cny"]), abs=0.05
        )
        assert leg["price_basis"] == "operating_cost"
    summary = doc["summary"]
    assert float(summary["regulatory_cost_cny"]) == pytest.approx(
        sum(float(leg["cost_breakdown"][k]) for leg in legs for k in ("eu_ets", "fueleu")),
        abs=0.05,
    )
    # internal carbon price on top, reported apart: 100 CNY/t x WTW
    assert float(summary["internal_carbon_cost_cny"]) == pytest.approx(
        100 * float(summary["co2e_wtw_kg"]) / 1000, abs=0.01
    )
    off = plan(book, net, PlanOptions(carbon_price_cny_per_t=100.0, regulatory_costs=False))
    assert off.regulatory_cost_cny == 0.0
    assert p.cost_cny > off.cost_cny


def test_rate_card_prices_carrier_services_and_keeps_own_fleet_at_cost(net) -> None:
    cost = {o.key: o for o in _options(net, "SEA-CNSHA-NLRTM", None)}
    lane = net.lane("SEA-CNSHA-NLRTM")
    card = price_lane(
        lane, net.hubs[lane.origin], destination=net.hubs[lane.destination], rate_cards=True
    )
    # Drewry WCI Shanghai-Rotterdam of 5 Mar 2026: 2 052 USD/FEU / 20 t x 6.9929 CNY/USD
    # (the latest fixing on or before the card's date, 23 Jan 2026) = 717.47 CNY/t
    per_t = 2052 / 20 * 6.9929
    # the card includes VLSFO at 537 USD/t x 6.9929 = 3 755.19 CNY/t; the table has
    # 4 248.3444 CNY/t: the standard ship's fuel cost x (1 - 3755.19 / 4248.34) is the BAF
    std = cost["SEA-CNSHA-NLRTM|ship_container_24000teu|vlsfo"].split_cny_per_t[1]
    base = std * 537 * 6.9929 / 4248.3444
    for o in card:
        split = _split(o)
        assert o.price_basis == "rate_card:sea_cn_north_europe_spot"
        assert split["freight"] == pytest.approx(per_t)
        # another ship or fuel pays its energy cost less the standard fuel at the base price
        assert split["energy"] == pytest.approx(_split(cost[o.key])["energy"] - base)
        assert o.cost_cny_per_t == pytest.approx(sum(split.values()))
        assert "fx of 2026-01-23" in o.price_rules[0]
    vlsfo = next(o for o in card if o.key.endswith("ship_container_24000teu|vlsfo"))
    assert vlsfo.cost_cny_per_t == pytest.approx(per_t + std * (1 - 537 * 6.9929 / 4248.3444))
    # own fleet (road) and lanes without a card stay at operating cost
    for lane_id in ("ROAD-DEDUI-C-FRANKFURT", "IWW-CNNKG-CNSHA"):
        lane = net.lane(lane_id)
        opts = price_lane(
            lane, net.hubs[lane.origin], destination=net.hubs[lane.destination], rate_cards=True
        )
        assert {o.price_basis for o in opts} == {"operating_cost"}


def test_rate_card_and_regulation_add_up(net) -> None:
    lane = net.lane("SEA-CNSHA-NLRTM")
    both = price_lane(
        lane,
        net.hubs[lane.origin],
        destination=net.hubs[lane.destination],
        regulation=Regulation(2026),
        rate_cards=True,
    )
    for o in both:
        split = _split(o)
        assert split["freight"] == pytest.approx(2052 / 20 * 6.9929)
        assert split["eu_ets"] == pytest.approx(0.5 * o.ttw_kg_per_t / 1000 * 70.76 * FX)


def test_air_card_charges_chargeable_weight_and_links_fuel_to_jet(net) -> None:
    from greenlane.fleet.cost import market_prices

    lane = net.lane("AIR-PVG-FRA")
    opts = price_lane(
        lane, net.hubs["PVG"], destination=net.hubs["FRA"], rate_cards=True
    )  # fmt: skip
    b777 = next(o for o in opts if o.key == "AIR-PVG-FRA|aircraft_freighter_b777f|jet_kerosene")
    # TAC Hong Kong-Europe Oct 2025: 4.59 USD/kg x 1000 x 7.1057 (fixing of 23 Sep 2025)
    per_t = 4.59 * 1000 * 7.1057  # 32 615.16 CNY per chargeable t
    assert b777.card_cny_per_t == pytest.approx(per_t)
    # 1 t in 12 m3: 12 x 166.67 kg = 2 000.04 kg chargeable -> 1.00004 t more than its mass
    assert b777.shipment_extra_cny(1.0, 12.0) == pytest.approx(per_t * 1.00004)
    # dense (1 t in 3 m3 = 500 kg) or no volume: actual weight, nothing extra
    assert b777.shipment_extra_cny(1.0, 3.0) == 0.0
    assert b777.shipment_extra_cny(1.0, None) == 0.0
    # the card includes jet at 711 USD/t x 7.1057 = 5 052.15 CNY/t; the table has 782 USD/t
    # x 7.1884 = 5 621.33 (IATA 2024): the surcharge is the standard fuel cost x (1 - ratio)
    fuel = _split(b777)["energy"]
    cost = price_lane(lane, net.hubs["PVG"], destination=net.hubs["FRA"])
    std = _split(next(o for o in cost if o.key == b777.key))["energy"]
    assert fuel == pytest.approx(std * (1 - 711 * 7.1057 / 5621.3288))
    # jet +30 %: the surcharge grows by 30 % of the standard fuel cost
    dear = price_lane(
        lane,
        net.hubs["PVG"],
        destination=net.hubs["FRA"],
        rate_cards=True,
        prices=market_prices(jet_price=1.3),
    )
    fuel13 = _split(next(o for o in dear if o.key == b777.key))["energy"]
    assert fuel13 - fuel == pytest.approx(0.3 * std)
    assert "fuel surcharge: jet_kerosene" in b777.price_rules[1]


def test_plan_charges_an_air_shipment_its_chargeable_weight(net) -> None:
    book = parse_shipments(
        [
            {
                "shipment_id": "LIGHT",
                "origin": "PVG",
                "destination": "FRA",
                "mass_t": 1.0,
                "volume_m3": 12.0,
                "ready_at": "2026-03-02",
                "due_at": "2026-03-06",
                "allowed_modes": ["air"],
            }
        ]
    )
    opts = PlanOptions(price_basis="rate_card", regulatory_costs=False)
    p = plan(book, net, opts)
    heavy = plan([replace(book[0], volume_m3=None)], net, opts)
    leg = plan_to_dict(p)["shipments"][0]["legs"][0]
    base = plan_to_dict(heavy)["shipments"][0]["legs"][0]
    assert leg["lane_id"] == base["lane_id"] == "AIR-PVG-FRA"
    # 2 000.04 kg chargeable instead of 1 000 kg: freight + 4.59 x 1000 x 7.1057 x 1.00004
    extra = 4.59 * 1000 * 7.1057 * 1.00004
    assert leg["cost_breakdown"]["freight"] == pytest.approx(
        base["cost_breakdown"]["freight"] + extra, abs=0.01
    )
    assert p.cost_cny == pytest.approx(heavy.cost_cny + extra, abs=0.02)
    assert any("chargeable weight" in r for r in leg["price_rules"])


def test_truck_energy_is_priced_in_the_country_of_the_leg(net) -> None:
    """The truck type's cost model comes from the Spanish Observatorio, but its fuel is
    bought where the leg starts: China's 0# diesel (7.6 CNY/l), not Spanish B7 (12.4701)."""

    def per_mj(lane_id: str) -> dict[str, float]:
        lane = net.lane(lane_id)
        opts = price_lane(lane, net.hubs[lane.origin], destination=net.hubs[lane.destination])
        return {
            o.carrier: _split(o)["energy"] / o.energy_mj_per_t
            for o in opts
            if o.vehicle_id == "truck_40t_diesel"
        }

    china = per_mj("ROAD-F-NANJING-CNSHA")
    # B7 has no Chinese price (not sold there); B0: 7.6 CNY/l / (42.8 MJ/kg x 0.832 kg/l)
    assert set(china) == {"diesel_b0"}
    assert china["diesel_b0"] == pytest.approx(7.6 / (42.8 * 0.832), rel=1e-4)  # costs are in fen
    spain = per_mj("ROAD-ESVLC-C-MADRID")
    # Spain: B7 12.4701 CNY/l / (42.4 MJ/kg x 0.836 kg/l) = 0.35181 CNY/MJ
    assert spain["diesel_b7"] == pytest.approx(12.4701 / (42.4 * 0.836), rel=1e-4)
