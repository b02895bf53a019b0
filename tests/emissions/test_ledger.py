"""Ledger core: hash chain, certificate moves, KPI aggregation and the year's standing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from greenlane.emissions.errors import InputError
from greenlane.emissions.intensity import make_target
from greenlane.emissions.ledger import (
    GENESIS,
    Entry,
    Record,
    check_certificate_move,
    entry_hash,
    kpi,
    standing,
    verify_chain,
)


def _chain(n: int) -> list[Entry]:
    out, prev = [], GENESIS
    for i in range(1, n + 1):
        payload = {"shipment_id": f"S{i}", "co2e_wtw_kg": 10.0 * i}
        h = entry_hash(prev, i, "actual", payload, f"2026-01-0{i}T00:00:00Z")
        out.append(Entry(i, "actual", payload, f"2026-01-0{i}T00:00:00Z", prev, h))
        prev = h
    return out


def test_intact_chain_verifies():
    assert verify_chain(_chain(4)) == []


def test_edited_and_deleted_entries_are_detected():
    chain = _chain(4)
    edited = [
        *chain[:2],
        replace(chain[2], payload={"shipment_id": "S3", "co2e_wtw_kg": 1.0}),
        chain[3],
    ]
    assert any("entry 3" in p and "edited" in p for p in verify_chain(edited))
    deleted = [chain[0], chain[1], chain[3]]
    problems = verify_chain(deleted)
    assert any("missing" in p for p in problems)


def test_certificate_moves():
    check_certificate_move(None, "held")
    check_certificate_move("held", "assigned")
    check_certificate_move("assigned", "retired")
    with pytest.raises(InputError, match="already retired"):
        check_certificate_move("retired", "retired")
    with pytest.raises(InputError):
        check_certificate_move(None, "retired")


def test_kpi_by_quarter_and_mode():
    records = [
        Record(date(2026, 1, 10), 100.0, 10_000.0, {"mode": "sea"}),
        Record(date(2026, 2, 10), 300.0, 1_000.0, {"mode": "air"}),
        Record(date(2026, 4, 1), 50.0, 5_000.0, {"mode": "sea"}),
    ]
    rows = {(r.period, r.value): r for r in kpi(records, "quarter", by="mode")}
    assert rows[("2026-Q1", "sea")].intensity_g_per_tkm == pytest.approx(10.0)  # 100 kg/10k tkm
    assert rows[("2026-Q1", "air")].intensity_g_per_tkm == pytest.approx(300.0)
    (year,) = kpi(records, "year")
    assert year.intensity_g_per_tkm == pytest.approx(450_000 / 16_000)  # 28.125 g/tkm


def test_standing_projects_the_year_end():
    target = make_target(2023, 40.0, 2030, 0.2)
    # first half of 2026 at 40 g/tkm, then 90 days at 20 g/tkm
    records = [Record(date(2026, m, 1), 40.0, 1000.0, {}) for m in range(1, 4)]
    records += [Record(date(2026, m, 1), 20.0, 1000.0, {}) for m in range(4, 7)]
    s = standing(records, target, 2026, date(2026, 6, 30))
    assert s.target_g_per_tkm == pytest.approx(40 * (1 - 0.2 * 3 / 7))  # 36.57
    assert s.to_date_g_per_tkm == pytest.approx(30.0)
    assert s.projected_g_per_tkm < s.to_date_g_per_tkm  # the recent, greener mix continues
    assert s.on_track


def _footprint():
    from greenlane.emissions.chain import footprint_from_chain

    return footprint_from_chain(
        {
            "shipment_id": "S",
            "mass_t": 10,
            "legs": [
                {"mode": "road", "distance_km": 100, "toc": {"toc_id": "road_hgv_avg_uk_desnz"}},
                {"hub": "H", "hoc": {"hoc_id": "transhipment_de_ambient_clecat_ex5"}},
                {"mode": "rail", "distance_km": 300, "toc": {"toc_id": "rail_electric_eu_glec"}},
            ],
        }
    )


def test_leg_shares_split_the_great_circle_activity_by_leg_tkm():
    from greenlane.emissions.ledger import leg_shares

    fp = _footprint()
    shares = leg_shares(fp, tkm_gcd=2000.0, carriers=["A", None, None], default_carrier="B")
    assert [s.mode for s in shares] == ["road", "hub", "rail"]
    assert [s.carrier for s in shares] == ["A", "B", "B"]
    # road 100 km actual -> 95.238 km SFD: 952.381 : 3000 tkm (activity on the SFD)
    road_tkm = 10 * 100 / 1.05
    road_gcd = 2000 * road_tkm / (road_tkm + 3000)  # 481.928 tkm
    assert [s.tkm_gcd for s in shares] == pytest.approx([road_gcd, 0.0, 2000 - road_gcd])
    assert sum(s.co2e_wtw_kg for s in shares) == pytest.approx(fp.totals.co2e_wtw_kg)
    assert shares[1].energy_carrier == "hub"


def test_neutrality_needs_emissions_reductions_and_covering_credits():
    from greenlane.emissions.ledger import neutrality_check

    ok = neutrality_check("A>B", "2026", 800.0, 40_000.0, 30.0, 800.0)  # 20 g/tkm vs 30
    assert ok.holds and ok.reasons == ()
    assert ok.reductions_kg == pytest.approx(400.0) and ok.uncovered_kg == 0
    short = neutrality_check("A>B", "2026", 800.0, 40_000.0, 30.0, 799.0)
    assert not short.holds and "do not cover" in short.reasons[0]
    none = neutrality_check("A>B", "2026", 1300.0, 40_000.0, 30.0, 5000.0)  # 32.5 > 30
    assert not none.holds and "no reductions" in none.reasons[0]
    empty = neutrality_check("A>B", "2026", 0.0, 0.0, 30.0, 5000.0)
    assert not empty.holds and "no recorded emissions" in empty.reasons[0]


def test_certificate_units_by_kind():
    from greenlane.emissions.ledger import check_certificate

    check_certificate("carbon_credit", 1.0, "tCO2e", 2025)
    check_certificate("green_power", 10.0, "MWh", 2026)
    check_certificate("saf", 3.0, "t", 2026)
    for args, field in (
        (("credit", 1.0, "tCO2e", 2025), "kind"),
        (("saf", 0.0, "t", 2025), "volume"),
        (("green_power", 1.0, "tCO2e", 2025), "unit"),
        (("saf", 1.0, "t", 1999), "vintage"),
    ):
        with pytest.raises(InputError) as err:
            check_certificate(*args)
        assert err.value.field == field


def test_intensity_of_a_year_and_lane_key():
    from greenlane.emissions.ledger import intensity_of, lane_key

    records = [Record(date(2023, 5, 1), 60.0, 2000.0, {}), Record(date(2024, 1, 1), 1.0, 1.0, {})]
    assert intensity_of(records, 2023) == (60.0, 2000.0, pytest.approx(30.0))
    assert lane_key("F-NANJING", "C-MADRID") == "F-NANJING>C-MADRID"


def test_only_retired_carbon_credits_count_in_kg():
    from types import SimpleNamespace as C

    from greenlane.emissions.ledger import retired_credits_kg

    certs = [
        C(kind="carbon_credit", status="retired", volume=1.25),  # 1.25 tCO2e -> 1250 kg
        C(kind="carbon_credit", status="retired", volume=0.5),  # 500 kg
        C(kind="carbon_credit", status="assigned", volume=9.0),  # not retired: 0
        C(kind="saf", status="retired", volume=7.0),  # book-and-claim: never a credit
        C(kind="green_power", status="retired", volume=3.0),
    ]
    assert retired_credits_kg(certs) == pytest.approx(1750.0)
    assert retired_credits_kg([]) == 0.0


def test_neutrality_statement_in_tonnes_only_when_the_claim_holds():
    from greenlane.emissions.ledger import neutrality_check, neutrality_statement

    ok = neutrality_check("A>B", "2026", 800.0, 40_000.0, 30.0, 1250.0)  # baseline 1200 kg
    assert neutrality_statement(ok, 2024) == (
        "Lane A>B is carbon neutral for 2026: it emitted 0.800 t CO2e WTW (gross), "
        "0.400 t below the 2024 baseline intensity, and 1.250 t of retired carbon credits "
        "cover the remaining emissions."
    )
    short = neutrality_check("A>B", "2026", 800.0, 40_000.0, 30.0, 799.0)
    assert neutrality_statement(short, 2024) is None


def test_change_pct_of_actual_against_plan():
    from greenlane.emissions.ledger import change_pct

    assert change_pct(110.0, 80.0) == pytest.approx(37.5)
    assert change_pct(60.0, 80.0) == pytest.approx(-25.0)
    assert change_pct(5.0, 0.0) is None
