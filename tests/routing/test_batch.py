"""Batch planning: sweeps, partitions by lane group, Dask = in-process = ``routing.plan``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from greenlane.emissions.errors import InputError
from greenlane.routing import load_network, plan
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.scenarios import batch


@pytest.fixture(scope="module")
def network():
    return load_network()


def ship(
    sid: str,
    origin: str = "F-NANJING",
    dest: str = "C-MADRID",
    mass: float = 8.0,
    day: int = 0,
    window: int = 45,
) -> Shipment:
    ready = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(days=day)
    return Shipment(sid, origin, dest, mass, ready, ready + timedelta(days=window))


BOOK = [
    ship("A1"),
    ship("A2", mass=12),
    ship("A3", dest="C-BARCELONA", day=1),
    ship("B1", origin="F-XIAN", dest="C-WARSAW", day=2),
    ship("C1", dest="C-MADRID", day=9),
]
FAST = batch.default_options(time_limit_s=2.0)


def test_sweep_is_the_cartesian_product():
    axes = batch.parse_sweep(
        ["carbon_price=0,200,500", "fleet=all,fossil", "target_year=2026,none", "fuel_price=1,1.5"]
    )
    points = batch.scenarios(axes)
    assert len(points) == 3 * 2 * 2 * 2
    assert len({p.name for p in points}) == len(points)
    p = next(
        p
        for p in points
        if p.carbon_price_cny_per_t == 200
        and p.fleet == "fossil"
        and p.target_year == 2026
        and p.fuel_price == 1.5
    )
    opts = p.options(FAST)
    assert (opts.carbon_price_cny_per_t, opts.carriers, opts.target_year) == (200, "fossil", 2026)
    assert opts.solver == FAST.solver
    assert batch.scenarios({}) == [batch.Scenario()]


@pytest.mark.parametrize(
    ("items", "field"),
    [
        (["carbon_price"], "sweep"),
        (["speed=1,2"], "sweep.speed"),
        (["carbon_price=0", "carbon_price=1"], "sweep.carbon_price"),
        (["carbon_price=abc"], "sweep.carbon_price"),
        (["carbon_price=-5"], "sweep.carbon_price"),
        (["fleet=diesel"], "sweep.fleet"),
        (["target_year=1066"], "sweep.target_year"),
        (["fuel_price=0"], "sweep.fuel_price"),
        (["fuel_price="], "sweep.fuel_price"),
    ],
)
def test_bad_sweeps_name_the_axis(items, field):
    with pytest.raises(InputError) as err:
        batch.scenarios(batch.parse_sweep(items))
    assert err.value.field == field


def test_partitions_by_lane_group_and_week(network):
    parts = batch.partition_book("b", BOOK, network)
    keys = {p.key: {s.shipment_id for s in p.shipments} for p in parts}
    # A1..A3 share origin, destination region ES and week; B1 another group; C1 a later week.
    assert keys == {
        "F-NANJING>ES|2026-W10": {"A1", "A2", "A3"},
        "F-XIAN>EU|2026-W10": {"B1"},
        "F-NANJING>ES|2026-W11": {"C1"},
    }
    many = [ship(f"M{i}", day=i % 5) for i in range(25)]
    chunks = batch.partition_book("m", many, network, max_partition=10)
    assert [len(p.shipments) for p in chunks] == [8, 8, 9]
    assert sorted(s.shipment_id for p in chunks for s in p.shipments) == sorted(
        s.shipment_id for s in many
    )


def test_unknown_place_fails_before_any_work(network):
    with pytest.raises(InputError) as err:
        batch.partition_book("b", [*BOOK, ship("X", dest="NOWHERE")], network)
    assert err.value.field == "b[5].destination"


def test_a_task_is_the_single_run(network):
    task = batch.make_tasks({"b": BOOK[:3]}, network, FAST)[0]
    row = batch.run_task(task).row
    single = plan(BOOK[:3], network, FAST)
    assert row["planned"] == len(single.shipments) == 3
    assert row["cost_cny"] == pytest.approx(single.cost_cny)
    assert row["co2e_wtw_kg"] == pytest.approx(single.co2e_wtw_kg)
    assert row["error"] == ""
    assert row["worker_max_rss_mb"] > 10


def test_a_fuel_price_scenario_is_a_price_table_passed_in(network):
    from greenlane.fleet.cost import energy_price

    diesel = energy_price("diesel_b7", "ES").price_cny_per_unit
    grid = energy_price("electricity_es", "ES").price_cny_per_unit
    opts = batch.Scenario(fuel_price=2.0).options(FAST)
    assert FAST.energy_prices is None and opts.energy_prices is not None
    assert opts.energy_prices.label == "fossil+mixed x2"
    assert energy_price("diesel_b7", "ES", prices=opts.energy_prices).price_cny_per_unit == (
        2 * diesel
    )
    assert energy_price("electricity_es", "ES", prices=opts.energy_prices).price_cny_per_unit == (
        grid
    )
    assert energy_price("diesel_b7", "ES").price_cny_per_unit == diesel
    cheap, dear = batch.make_tasks(
        {"b": BOOK[:2]}, network, FAST, batch.scenarios({"fuel_price": ["1", "2"]})
    )
    assert (cheap.scenario.fuel_price, dear.scenario.fuel_price) == (1.0, 2.0)
    assert batch.run_task(dear).row["cost_cny"] > batch.run_task(cheap).row["cost_cny"]


def test_scaled_batch_and_concurrent_default_pricing_do_not_mix(network):
    """A fuel x2 batch task in one thread; default-price legs priced meanwhile in another."""
    import threading

    from greenlane.fleet import leg_cost_cny

    def default_leg() -> Decimal:
        return leg_cost_cny("truck_40t_diesel", "diesel_b7", "ES", 10.0, 500.0).energy_cny

    cheap, dear = batch.make_tasks(
        {"b": BOOK[:2]}, network, FAST, batch.scenarios({"fuel_price": ["1", "2"]})
    )
    alone = batch.run_task(dear).row["cost_cny"]
    expected = default_leg()
    # 500 km x (8.8324 + 0.14385 x 10) MJ/km = 5,135.45 MJ of diesel B7 at 12.4701 CNY/l (ES)
    # / (42.4 MJ/kg x 0.836 kg/l = 35.4464 MJ/l) = 1,806.66 CNY; at fuel x2 3,613.32 CNY
    assert expected == Decimal("1806.66")
    scaled = leg_cost_cny(
        "truck_40t_diesel", "diesel_b7", "ES", 10.0, 500.0, prices=dear.options.energy_prices
    )
    assert scaled.energy_cny == Decimal("3613.32")
    rows: list[dict[str, object]] = []
    worker = threading.Thread(target=lambda: rows.append(batch.run_task(dear).row))
    worker.start()
    seen: set[Decimal] = set()
    calls = 0
    while worker.is_alive() or not calls:
        seen.add(default_leg())
        calls += 1
    worker.join()
    assert calls > 1 and seen == {expected}
    assert rows[0]["error"] == "" and rows[0]["cost_cny"] == pytest.approx(alone)
    assert alone > batch.run_task(cheap).row["cost_cny"]


def test_a_failing_partition_is_a_row_not_a_crash(network, tmp_path: Path):
    task = batch.make_tasks({"b": BOOK[:1]}, network, FAST)[0]
    bad = replace(task, partition=replace(task.partition, shipments=(ship("Z", dest="NOWHERE"),)))
    result = batch.run_batch([task, bad], workers=0)
    rows = {r["partition"]: r for r in result.partitions}
    assert len(result.partitions) == 2
    assert any(r["status"] == "error" and "NOWHERE" in r["error"] for r in rows.values())
    assert result.summary()["errors"].sum() == 1
    png = batch.summary_chart(result, tmp_path / "one.png")  # one scenario: by lane group
    assert png.stat().st_size > 1000


def test_dask_local_cluster_gives_the_in_process_answer(network, tmp_path: Path):
    sweep = batch.scenarios(batch.parse_sweep(["carbon_price=0,800"]))
    tasks = batch.make_tasks({"b": BOOK}, network, FAST, sweep)
    assert len(tasks) == 3 * 2
    seen: list[tuple[int, int]] = []
    local = batch.run_batch(tasks, workers=0)
    dist = batch.run_batch(tasks, workers=2, progress=lambda d, t: seen.append((d, t)))
    assert dist.workers == 2 and dist.scheduler.startswith("tcp://127.0.0.1:")
    assert seen[-1] == (6, 6)
    drop = ["task_wall_s", "worker", "worker_max_rss_mb", "solve_wall_s"]
    a = local.partition_frame().drop(columns=drop)
    b = dist.partition_frame().drop(columns=drop)
    assert a.equals(b)
    summary = dist.summary()
    assert list(summary["scenario"]) == ["cp0", "cp800"]
    assert (summary["shipments"] == 5).all()
    paths = batch.write_parquet(dist, tmp_path / "r.parquet")
    png = batch.summary_chart(dist, tmp_path / "r.png")
    import pyarrow.parquet as pq

    assert pq.read_table(paths[0]).num_rows == 6
    assert set(pq.read_table(paths[1]).column("shipment_id").to_pylist()) == {
        s.shipment_id for s in BOOK
    }
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_synthetic_year_is_reproducible(network):
    a = batch.synthetic_year(network, 500, seed=3)
    b = batch.synthetic_year(network, 500, seed=3)
    assert a == b and len({s.shipment_id for s in a}) == 500
    assert all(s.due_at > s.ready_at and s.mass_t > 0 for s in a)
    assert len(batch.partition_book("y", a, network)) > 20


def test_cli_plans_a_sweep_and_writes_parquet(tmp_path: Path):
    from click.testing import CliRunner

    from greenlane.webapp.cli_batch import batch_cmd

    book = tmp_path / "b.csv"
    book.write_text(
        "shipment_id,origin,destination,mass_t,ready_at,due_at\n"
        "S1,F-NANJING,C-MADRID,8,2026-03-02,2026-04-20\n"
        "S2,F-NANJING,C-BARCELONA,5,2026-03-02,2026-04-20\n",
        encoding="utf-8",
    )
    out = tmp_path / "res.parquet"
    res = CliRunner().invoke(
        batch_cmd,
        [
            "--sweep",
            "carbon_price=0,500",
            "fuel_price=1,2",
            str(book),
            "--workers",
            "0",
            "--time-limit",
            "2",
            "--output",
            str(out),
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "4 partitions" in res.output
    assert out.exists() and out.with_suffix(".png").exists()
    assert out.with_name("res.shipments.parquet").exists()

    res = CliRunner().invoke(batch_cmd, ["--sweep", "fleet=diesel", str(book), "--workers", "0"])
    assert res.exit_code == 2 and "sweep.fleet" in res.output
    res = CliRunner().invoke(batch_cmd, [str(tmp_path / "missing.csv")])
    assert res.exit_code == 2 and "missing.csv" in res.output
    res = CliRunner().invoke(batch_cmd, [])
    assert res.exit_code == 2 and "BOOK" in res.output


def test_eua_price_axis_changes_the_eu_ets_cost(network):
    (sc,) = batch.scenarios(batch.parse_sweep(["eua_price=120"]))
    assert sc.eua_eur_per_t == 120 and sc.name == "EUA120"
    assert sc.options(FAST).eua_eur_per_t == 120
    book = [ship("V1", origin="F-SHENZHEN", dest="W-VENLO", mass=14)]
    low, high = batch.make_tasks(
        {"b": book}, network, FAST, batch.scenarios({"eua_price": ["60", "120"]})
    )
    rows = [batch.run_task(t).row for t in (low, high)]
    assert [r["eua_eur_per_t"] for r in rows] == [60, 120]
    # the Shenzhen -> Antwerp/Rotterdam leg pays 50 % of its TTW at the EUA price: x2
    assert rows[1]["regulatory_cost_cny"] == pytest.approx(2 * rows[0]["regulatory_cost_cny"])
    assert rows[0]["regulatory_cost_cny"] > 0
