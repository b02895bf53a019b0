"""data/build/build_network.py regenerates the committed network CSVs byte for byte."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "data" / "build" / "build_network.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_network", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_network"] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bn() -> ModuleType:
    return _load_script()


def test_script_regenerates_committed_csvs(tmp_path: Path) -> None:
    out = tmp_path / "network"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "92 hubs" in run.stdout and "219 rows" in run.stdout
    for name in ("hubs.csv", "lanes.csv"):
        assert (out / name).read_bytes() == (REPO / "data" / name).read_bytes(), name
    assert sorted(p.name for p in out.iterdir()) == ["hubs.csv", "lanes.csv"]


def test_row_counts_match_readme(bn: ModuleType) -> None:
    lanes = bn.all_lanes()
    by_mode: dict[str, int] = {}
    for lane in lanes:
        by_mode[lane.mode] = by_mode.get(lane.mode, 0) + 1
    assert by_mode == {"sea": 59, "road": 91, "rail": 31, "air": 32, "inland_water": 6}
    generated = [lane for lane in lanes if lane.source == bn.ROAD_RULE_SOURCE]
    assert len(generated) == 74
    assert len(bn.CURATED_ROADS) == 17


def _hub(bn: ModuleType, hub_id: str, kind: str, lon: float, country: str, region: str):
    return bn.Hub(hub_id, hub_id, kind, 0.0, lon, country, region, "road", bn.APPROX)


def test_road_rule_distance_cap(bn: ModuleType) -> None:
    # On the equator the great circle is R * dlon: 2.69 deg = 299.11 km, 2.71 deg = 301.34 km.
    assert bn.gcd_km(
        _hub(bn, "A", "factory", 0.0, "CN", "CN-South"),
        _hub(bn, "B", "seaport", 2.69, "CN", "CN-South"),
    ) == pytest.approx(6371.0088 * math.radians(2.69))
    site = _hub(bn, "F-A", "factory", 0.0, "CN", "CN-South")
    near = _hub(bn, "NEAR", "seaport", 2.69, "CN", "CN-South")
    far = _hub(bn, "FAR", "seaport", -2.71, "CN", "CN-South")
    pairs = [(a.hub_id, b.hub_id) for a, b in bn.rule_road_pairs([site, near, far])]
    assert pairs == [("F-A", "NEAR")]


def test_road_rule_needs_a_site_and_one_land_group(bn: ModuleType) -> None:
    port = _hub(bn, "PORT", "seaport", 0.0, "DE", "DE")
    airport = _hub(bn, "AIR", "airport", 0.5, "DE", "DE")  # 55.6 km, no first/last-mile end
    customer_tr = _hub(bn, "C-TR", "customer_site", 1.0, "TR", "TR")  # Europe with Turkey
    customer_ma = _hub(bn, "C-MA", "customer_site", 1.0, "MA", "AF")  # other land group
    pairs = [
        (a.hub_id, b.hub_id)
        for a, b in bn.rule_road_pairs([port, airport, customer_tr, customer_ma])
    ]
    # orientation: terminals before customer sites; sorted by the smaller then larger hub id
    assert pairs == [("AIR", "C-TR"), ("PORT", "C-TR")]


def test_road_vehicle_types(bn: ModuleType) -> None:
    factory = _hub(bn, "F-A", "factory", 0.0, "CN", "CN-South")
    hk_port = _hub(bn, "HKP", "seaport", 1.0, "HK", "CN-South")  # 111.2 km
    hk_far = _hub(bn, "HKF", "seaport", 2.0, "HK", "CN-South")  # 222.4 km
    assert bn.road_vehicle_types(factory, hk_port) == (
        "truck_40t_diesel",
        "truck_40t_lng",
        "truck_40t_bev",
        "truck_40t_fcev",
        "rigid_18t_diesel",
        "rigid_18t_bev",
    )
    assert bn.road_vehicle_types(factory, hk_far) == (
        "truck_40t_diesel",
        "truck_40t_lng",
        "truck_40t_bev",
        "truck_40t_fcev",
    )
    es = _hub(bn, "C-ES", "customer_site", 0.0, "ES", "ES")
    de = _hub(bn, "DEP", "seaport", 1.0, "DE", "DE")
    assert bn.road_vehicle_types(de, es)[:2] == ("truck_40t_diesel", "truck_40t_hvo")
    tr = _hub(bn, "C-TR", "customer_site", 0.0, "TR", "TR")
    tr_port = _hub(bn, "TRP", "seaport", 2.0, "TR", "TR")
    assert bn.road_vehicle_types(tr_port, tr) == ("truck_40t_diesel",)


def test_curated_road_that_the_rule_already_makes_is_refused(
    bn: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bn, "CURATED_ROADS", (("MAD", "C-MADRID", "trucking"),))
    with pytest.raises(ValueError, match="MAD-C-MADRID is already made by the rule"):
        bn.road_lanes(bn.HUBS)
    monkeypatch.setattr(bn, "CURATED_ROADS", (("MAD", "C-NOWHERE", "trucking"),))
    with pytest.raises(ValueError, match="CURATED_ROADS: unknown hub 'C-NOWHERE'"):
        bn.road_lanes(bn.HUBS)
