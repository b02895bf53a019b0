"""The ``greenlane`` command: real runs on the demo data, clean errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from greenlane.webapp.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHAIN = ROOT / "data" / "examples" / "clecat_case_a_de_580km.json"
BOOK = ROOT / "data" / "examples" / "shipments.csv"


def test_footprint_json_and_ileap():
    out = CliRunner().invoke(main, ["footprint", str(CHAIN)])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["totals"]["co2e_wtw_kg"] == 211.52
    ileap = json.loads(
        CliRunner().invoke(main, ["footprint", str(CHAIN), "--format", "ileap"]).output
    )
    assert ileap["shipmentId"] == "CASE-A-DE-580"


def test_footprint_bad_input_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"shipment_id": "x", "mass_t": -3, "legs": []}))
    out = CliRunner().invoke(main, ["footprint", str(bad)])
    assert out.exit_code == 2
    assert "mass_t" in out.output and "Traceback" not in out.output
    bad.write_text("{not json")
    out = CliRunner().invoke(main, ["footprint", str(bad)])
    assert out.exit_code == 2 and "invalid JSON" in out.output


def test_plan_writes_json(tmp_path):
    target = tmp_path / "plan.json"
    out = CliRunner().invoke(
        main,
        ["plan", str(BOOK), "--carbon-price", "500", "--time-limit", "20", "--output", str(target)],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(target.read_text())
    assert doc["summary"]["shipments_planned"] == 23
    assert doc["unplanned"][0]["shipment_id"] == "CSX-MAD-AIR"


def test_plan_and_pareto_json_on_stdout(tmp_path, monkeypatch):
    """``--output -``: stdout is the JSON document alone, the summary goes to stderr."""
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, ["plan", str(BOOK), "--time-limit", "20", "--output", "-"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["summary"]["shipments_planned"] == 23
    assert "planned 23" in out.stderr and not (tmp_path / "-").exists()
    out = CliRunner().invoke(
        main, ["pareto", str(BOOK), "--points", "3", "--time-limit", "5", "--output", "-"]
    )
    assert out.exit_code == 0, out.stderr
    assert 2 <= len(json.loads(out.stdout)) <= 3 and "cost CNY" in out.stderr
    assert doc["solver"]["status"] == "OPTIMAL"


def test_plan_bad_book_names_the_row_and_field(tmp_path):
    book = tmp_path / "book.csv"
    book.write_text(
        "shipment_id,origin,destination,mass_t,ready_at,due_at\n"
        "A,F-NANJING,C-MADRID,-2,2026-12-01,2027-01-01\n"
    )
    out = CliRunner().invoke(main, ["plan", str(book)])
    assert out.exit_code == 2
    assert "line[2].mass_t" in out.output
    book.write_text(
        "shipment_id,origin,destination,mass_t,ready_at,due_at\n"
        "A,NOWHERE,C-MADRID,2,2026-12-01,2027-01-01\n"
    )
    out = CliRunner().invoke(main, ["plan", str(book)])
    assert out.exit_code == 2 and "line[2].origin" in out.output
    book.write_text(
        "shipment_id,origin,destination,mass_t,ready_at,due_at\n"
        "A,F-NANJING,C-MADRID,2,2027-01-01,2026-12-01\n"
    )
    out = CliRunner().invoke(main, ["plan", str(book)])
    assert out.exit_code == 2 and "due_at must be after ready_at" in out.output


def test_plan_target_year_outside_the_trajectory_is_exit_2_naming_the_years():
    out = CliRunner().invoke(main, ["plan", str(BOOK), "--target-year", "2050"])
    assert out.exit_code == 2
    assert "target_year" in out.output and "2023-2030" in out.output
    assert "Traceback" not in out.output


def test_plan_late_penalty_is_an_option(tmp_path):
    """Soft due dates: with no penalty the 2 t shipment due in 8 days sails (late); at
    1 000 000 CNY per t per day it flies on time."""
    book = tmp_path / "book.csv"
    book.write_text(
        "shipment_id,origin,destination,mass_t,ready_at,due_at\n"
        "L,F-NANJING,C-MADRID,2,2026-12-01,2026-12-09\n"
    )
    docs = {}
    for penalty in ("0", "1000000"):
        target = tmp_path / f"plan{penalty}.json"
        out = CliRunner().invoke(
            main,
            [
                "plan",
                str(book),
                "--due-dates",
                "soft",
                "--late-penalty-cny-per-t-day",
                penalty,
                "--output",
                str(target),
            ],
        )
        assert out.exit_code == 0, out.output
        docs[penalty] = json.loads(target.read_text())
    assert docs["0"]["options"]["late_penalty_cny_per_t_day"] == 0
    assert docs["1000000"]["options"]["late_penalty_cny_per_t_day"] == 1_000_000
    assert "air" not in docs["0"]["shipments"][0]["path"]
    assert "air" in docs["1000000"]["shipments"][0]["path"]
    out = CliRunner().invoke(main, ["plan", str(book), "--late-penalty-cny-per-t-day", "-1"])
    assert out.exit_code == 2


def test_plan_bunker_price_and_rate_card_index_are_options(tmp_path):
    """Shanghai -> Rotterdam by sea, 20 t, at rate cards: bunker x1.3 and cards x1.2 are
    recorded in the plan and move its freight (x1.2) and fuel surcharge."""
    book = tmp_path / "book.csv"
    book.write_text(
        "shipment_id,origin,destination,mass_t,ready_at,due_at,allowed_modes\n"
        "S,CNSHA,NLRTM,20,2026-03-02,2026-05-01,sea\n"
    )
    docs = {}
    for name, extra in (
        ("base", []),
        ("scn", ["--bunker-price", "1.3", "--rate-card-index", "1.2"]),
    ):
        target = tmp_path / f"{name}.json"
        args = ["plan", str(book), "--price-basis", "rate_card", "--output", str(target), *extra]
        out = CliRunner().invoke(main, args)
        assert out.exit_code == 0, out.output
        docs[name] = json.loads(target.read_text())
    scenario = docs["scn"]["options"]["scenario"]
    assert scenario["bunker_price_factor"] == 1.3 and scenario["rate_card_index"] == 1.2
    assert docs["base"]["options"]["scenario"]["bunker_price_factor"] == 1.0
    (leg,) = docs["scn"]["shipments"][0]["legs"]
    (base,) = docs["base"]["shipments"][0]["legs"]
    # WCI 2 052 USD/FEU / 20 t x 6.9929 CNY/USD x 20 t = 14 349.43 CNY; x1.2 = 17 219.32
    assert base["cost_breakdown"]["freight"] == 14349.43
    assert leg["cost_breakdown"]["freight"] == 17219.32
    assert leg["cost_breakdown"]["energy"] > base["cost_breakdown"]["energy"]
    out = CliRunner().invoke(main, ["plan", str(book), "--bunker-price", "0"])
    assert out.exit_code == 2 and "--bunker-price" in out.output
