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
