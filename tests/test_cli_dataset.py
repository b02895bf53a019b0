"""``greenlane ... --dataset`` and ``greenlane dataset check|diff``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenlane.routing import datasets
from greenlane.webapp.cli import main

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "data" / "examples" / "shipments.csv"
NO_AIR = ROOT / "data" / "examples" / "datasets" / "no_air"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Datasets materialise under the test's folder, not the user's cache."""
    monkeypatch.setattr(datasets, "DEFAULT_CACHE_DIR", tmp_path / "datasets")


def test_plan_on_a_dataset_without_air_lanes(tmp_path):
    """The done-when command: no air leg, and the plan JSON names the dataset."""
    target = tmp_path / "plan.json"
    out = CliRunner().invoke(
        main,
        [
            "plan",
            str(BOOK),
            "--dataset",
            str(NO_AIR),
            "--time-limit",
            "20",
            "--output",
            str(target),
        ],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(target.read_text())
    modes = {leg["mode"] for s in doc["shipments"] for leg in s["legs"]}
    assert doc["shipments"] and "air" not in modes
    sha = datasets.load_dataset(NO_AIR).sha256
    assert doc["dataset"] == {"id": f"ds-{sha[:12]}", "sha256": sha}
    assert f"dataset ds-{sha[:12]}" in out.output


def test_baseline_and_pareto_take_a_dataset():
    out = CliRunner().invoke(
        main, ["baseline", str(BOOK), "--dataset", str(NO_AIR), "--time-limit", "10"]
    )
    assert out.exit_code == 0, out.output
    assert "baseline intensity" in out.output and "dataset ds-" in out.output
    out = CliRunner().invoke(
        main,
        ["pareto", str(BOOK), "--dataset", str(NO_AIR), "--points", "2", "--output", "-"],
    )
    assert out.exit_code == 0, out.stderr
    plans = json.loads(out.stdout)
    assert {p["dataset"]["id"] for p in plans} == {plans[0]["dataset"]["id"]}
    assert plans[0]["dataset"]["id"].startswith("ds-")


def test_dataset_check_prints_the_summary():
    out = CliRunner().invoke(main, ["dataset", "check", str(NO_AIR)])
    assert out.exit_code == 0, out.output
    sha = datasets.load_dataset(NO_AIR).sha256
    assert f"sha256 {sha}" in out.output
    # lanes: 187 rows given (219 shipped - 32 air), 0 added, 0 replaced, 32 removed
    assert "lanes                  replace     187      0         0       32" in out.output
    doc = json.loads(CliRunner().invoke(main, ["dataset", "check", str(NO_AIR), "--json"]).output)
    assert doc["changes"]["lanes"]["mode"] == "replace"
    assert len(doc["changes"]["lanes"]["removed"]) == 32


def test_dataset_check_error_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "hubs.csv").write_text("hub_id,_delete\nCNSHA,1\n")
    out = CliRunner().invoke(main, ["dataset", "check", str(bad)])
    assert out.exit_code == 2
    assert "lanes.csv (shipped)[line 2].origin" in out.output
    assert "Traceback" not in out.output
    out = CliRunner().invoke(main, ["plan", str(BOOK), "--dataset", str(bad)])
    assert out.exit_code == 2 and "unknown hub 'CNSHA'" in out.output


def test_dataset_diff_lists_the_removed_lanes():
    out = CliRunner().invoke(main, ["dataset", "diff", str(NO_AIR), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert list(doc["tables"]) == ["lanes"]
    assert len(doc["tables"]["lanes"]["removed"]) == 32
    assert doc["base"]["id"] == "default"


def test_footprint_takes_the_tocs_of_a_dataset(tmp_path):
    """A rail leg of 10 t x 500 km = 5,000 tkm on the TOC rail_diesel_avg_eu_glec: shipped
    30.7 g/tkm WTW -> 153.5 kg; the dataset's 20 g/tkm WTW, 15 TTW -> 100 kg WTW, 75 kg TTW."""
    import csv
    import io

    from greenlane.data import DATA_DIR

    chain = tmp_path / "chain.json"
    leg = {"mode": "rail", "distance_km": 500, "toc": {"toc_id": "rail_diesel_avg_eu_glec"}}
    chain.write_text(json.dumps({"shipment_id": "R-1", "mass_t": 10, "legs": [leg]}))
    shipped = json.loads(CliRunner().invoke(main, ["footprint", str(chain)]).output)
    assert shipped["totals"]["co2e_wtw_kg"] == 153.5
    assert "dataset" not in shipped
    reader = csv.DictReader(io.StringIO((DATA_DIR / "tocs.csv").read_text(encoding="utf-8")))
    row = next(r for r in reader if r["toc_id"] == "rail_diesel_avg_eu_glec")
    own = tmp_path / "own"
    own.mkdir()
    out = io.StringIO()
    writer = csv.DictWriter(out, list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(dict(row, wtw_g_per_tkm="20", ttw_g_per_tkm="15"))
    (own / "tocs.csv").write_text(out.getvalue(), encoding="utf-8")
    (own / "dataset.json").write_text('{"mode": {"tocs": "merge"}}')
    res = CliRunner().invoke(main, ["footprint", str(chain), "--dataset", str(own)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["totals"]["co2e_wtw_kg"] == 100.0
    assert doc["totals"]["co2e_ttw_kg"] == 75.0
    assert doc["dataset"] == datasets.load_dataset(own).ref()


def test_batch_on_a_dataset_records_it_and_flies_nothing(tmp_path):
    """A two-shipment book (one urgent enough to fly on the shipped lanes) with a fuel-price
    sweep: every partition row names the dataset; no path has an air leg."""
    import pandas as pd

    from greenlane.webapp.cli_batch import batch_cmd

    book = tmp_path / "b.csv"
    book.write_text(
        "shipment_id,origin,destination,mass_t,ready_at,due_at\n"
        "S1,F-NANJING,C-MADRID,8,2026-03-02,2026-04-20\n"
        "S2,F-NANJING,C-MADRID,2,2026-03-02,2026-03-08\n",
        encoding="utf-8",
    )
    out = tmp_path / "res.parquet"
    args = [str(book), "--workers", "0", "--time-limit", "2", "--output", str(out)]
    res = CliRunner().invoke(
        batch_cmd, [*args, "--no-progress", "--sweep", "fuel_price=1,2", "--dataset", str(NO_AIR)]
    )
    assert res.exit_code == 0, res.output
    ds = datasets.load_dataset(NO_AIR)
    parts = pd.read_parquet(out)
    assert set(parts["dataset"]) == {ds.dataset_id}
    assert set(parts["dataset_sha256"]) == {ds.sha256}
    ships = pd.read_parquet(out.with_name("res.shipments.parquet"))
    assert not ships["path"].str.contains("air").any()
    assert not ships.loc[ships["shipment_id"] == "S2", "planned"].any()  # only air was fast enough
