"""Ledger core: hash chain, certificate moves, KPI aggregation and the year's standing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from emissions.errors import InputError
from emissions.intensity import make_target
from emissions.ledger import (
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
    edited = [*chain[:2], replace(chain[2], payload={"shipment_id": "S3", "co2e_wtw_kg": 1.0}),
              chain[3]]
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
