"""Batch planning: sweeps, partitions by shared resources, Dask = in-process = the planner,
network-wide caps by price coordination, shared departures never overbooked, resuming."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import networkx as nx
import pytest

from greenlane.emissions.errors import InputError
from greenlane.emissions.intensity import Target
from greenlane.emissions.model import Mode
from greenlane.routing import load_network, plan
from greenlane.routing.network.graph import Network
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.scenarios import batch
from greenlane.routing.scenarios import coordinate as coord


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


def test_origins_reaching_common_hubs_form_one_resource_group(network):
    groups = batch.resource_groups(
        network, ["F-SHENZHEN", "F-HEYUAN", "F-CHANGSHA", "F-NANJING", "F-XIAN"]
    )
    # Shenzhen and Heyuan trucks reach CNYTN/CNSHK, Changsha's reach CNYTN and CNNSA too;
    # Nanjing and Xi'an both truck to Shanghai (CNSHA).
    south, east = "F-CHANGSHA+F-HEYUAN+F-SHENZHEN", "F-NANJING+F-XIAN"
    assert groups == {
        "F-SHENZHEN": south,
        "F-HEYUAN": south,
        "F-CHANGSHA": south,
        "F-NANJING": east,
        "F-XIAN": east,
    }
    assert batch.resource_groups(network, ["F-NANJING"]) == {"F-NANJING": "F-NANJING"}
    # shipping to a common destination joins the groups: they meet on the arrival side
    joined = batch.resource_groups(
        network,
        ["F-SHENZHEN", "F-NANJING", "F-XIAN"],
        [("F-SHENZHEN", "C-MADRID"), ("F-NANJING", "C-MADRID"), ("F-XIAN", "C-WARSAW")],
    )
    assert set(joined.values()) == {"F-NANJING+F-SHENZHEN+F-XIAN"}


def test_partitions_are_sized_per_worker_and_cut_between_days(network):
    # one partition per task slot, within 250..1000 shipments and 13,750 / shipments a day
    assert batch.auto_partition_size(2000, 2) == 1000
    assert batch.auto_partition_size(2000, 2, per_day=5.5) == 1000  # 13,750 / 5.5 = 2,500
    assert batch.auto_partition_size(2000, 4, per_day=5.5) == 500
    assert batch.auto_partition_size(10_000, 2, per_day=27.5) == 500  # 13,750 / 27.5
    assert batch.auto_partition_size(100_000, 2, per_day=275.0) == 250  # 50 -> at least 250
    assert batch.auto_partition_size(300, 2) == 250
    assert batch.auto_partition_size(300, 0) == 300
    # 6 shipments ready on each day at 00:00, 04:00, ..., 20:00 (day starts at 0, 6, 12, ...)
    hours = [24.0 * d + 4.0 * k for d in range(5) for k in range(6)]
    # 26 in 2 runs: the cut aimed at 13 may move by 26 // 2 // 10 = 1 place: 12..14; 12 is
    # the first shipment of day 2, so the day's 6 shipments stay together
    assert batch._cuts(hours[:26], 2) == [0, 12, 26]
    # 30 in 2 runs: 14..16 has no day start and equal 4 h gaps: the cut stays at 15
    assert batch._cuts(hours, 2) == [0, 15, 30]
    # the synthetic year on 2 workers: two runs of about 1,000, cut between days
    year = batch.synthetic_year(network, 2000, seed=0)
    parts = batch.partition_book("y", year, network, workers=2)
    assert len(parts) == 2 and all(900 <= len(p.shipments) <= 1100 for p in parts)
    assert parts[0].group == "F-CHANGSHA+F-HEYUAN+F-NANJING+F-SHENZHEN+F-XIAN"
    last, first = parts[0].shipments[-1].ready_at, parts[1].shipments[0].ready_at
    assert last.date() < first.date()


def test_partitions_by_resource_group_and_ready_time(network):
    parts = batch.partition_book("b", BOOK, network)
    assert {p.key: [s.shipment_id for s in p.shipments] for p in parts} == {
        "F-NANJING+F-XIAN|2026-03-02|1/1": ["A1", "A2", "A3", "B1", "C1"]
    }
    many = [ship(f"M{i:02d}", day=i % 5) for i in range(25)]
    chunks = batch.partition_book("m", many, network, partition_size=10)
    # 25 / 10 rounds to 2 runs of ready times: 12 + 13, the earliest first
    assert [len(p.shipments) for p in chunks] == [12, 13]
    assert [p.key for p in chunks] == [
        "F-NANJING|2026-03-02|1/2",
        "F-NANJING|2026-03-04|2/2",
    ]
    assert max(s.ready_at for s in chunks[0].shipments) <= min(
        s.ready_at for s in chunks[1].shipments
    )
    assert sorted(s.shipment_id for p in chunks for s in p.shipments) == sorted(
        s.shipment_id for s in many
    )
    with pytest.raises(InputError) as err:
        batch.partition_book("m", many, network, partition_size=0)
    assert err.value.field == "partition_size"


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
    tasks = batch.make_tasks({"b": BOOK}, network, FAST, sweep, partition_size=2)
    assert len(tasks) == 2 * 2  # 5 shipments in runs of ~2: 2 partitions, x 2 prices
    seen: list[tuple[int, int]] = []
    local = batch.run_batch(tasks, workers=0)
    dist = batch.run_batch(tasks, workers=2, progress=lambda d, t: seen.append((d, t)))
    assert dist.workers == 2 and dist.scheduler.startswith("tcp://127.0.0.1:")
    assert seen[-1] == (4, 4) and dist.computed == 4
    # task CPU summed per worker process over every computed task
    assert 1 <= len(dist.worker_cpu_s) <= 2
    assert sum(dist.worker_cpu_s.values()) == pytest.approx(
        sum(r["task_cpu_s"] for r in dist.partitions)
    )
    drop = [
        "task_wall_s",
        "task_cpu_s",
        "worker",
        "worker_address",
        "worker_max_rss_mb",
        "solve_wall_s",
    ]
    a = local.partition_frame().drop(columns=drop)
    b = dist.partition_frame().drop(columns=drop)
    assert a.equals(b)
    summary = dist.summary()
    assert list(summary["scenario"]) == ["cp0", "cp800"]
    assert (summary["shipments"] == 5).all()
    paths = batch.write_parquet(dist, tmp_path / "r.parquet")
    png = batch.summary_chart(dist, tmp_path / "r.png")
    import pyarrow.parquet as pq

    assert pq.read_table(paths[0]).num_rows == 4
    assert set(pq.read_table(paths[1]).column("shipment_id").to_pylist()) == {
        s.shipment_id for s in BOOK
    }
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_synthetic_year_is_reproducible(network):
    a = batch.synthetic_year(network, 500, seed=3)
    b = batch.synthetic_year(network, 500, seed=3)
    assert a == b and len({s.shipment_id for s in a}) == 500
    assert all(s.due_at > s.ready_at and s.mass_t > 0 for s in a)
    parts = batch.partition_book("y", a, network, partition_size=50)
    assert len(parts) == 10 and all(40 <= len(p.shipments) <= 60 for p in parts)


def test_the_command_line_stops_partition_solves_where_the_library_does():
    from greenlane.webapp.cli_batch import batch_cmd

    gap = next(p for p in batch_cmd.params if p.name == "gap")
    assert gap.default == batch.DEFAULT_GAP == 0.0
    assert batch.default_options().solver.relative_gap == 0.0


def test_a_partition_is_solved_within_a_limit_by_its_size(network):
    assert [batch.partition_time_limit(n) for n in (1, 200, 250, 500, 1000, 5000)] == [
        2.0,
        2.0,
        2.5,
        5.0,
        10.0,
        10.0,
    ]
    book = batch.synthetic_year(network, 600, seed=2)
    tasks = batch.make_tasks({"y": book}, network, FAST, partition_size=300, auto_time_limit=True)
    assert len(tasks) == 2
    for t in tasks:
        n = len(t.partition.shipments)
        assert t.solve_options().solver.time_limit_s == pytest.approx(0.01 * n)
        priced = replace(t, price_cny_per_t=100.0).solve_options()
        assert priced.solver.time_limit_s == pytest.approx(0.01 * n)
    # a re-plan of 1,000 shipments across partitions gets the limit of its own size
    chunk = replace(tasks[0].partition, shipments=tuple(book) + tuple(book[:400]))
    assert replace(tasks[0], partition=chunk).solve_options().solver.time_limit_s == 10.0
    fixed = batch.make_tasks({"y": book}, network, FAST, partition_size=300)
    assert {t.solve_options().solver.time_limit_s for t in fixed} == {FAST.solver.time_limit_s}


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


# ----------------------------------------------------------------------------- coordination


def outcome(cost, co2e, tkm, planned=1, loads=None, caps=None):
    return coord.Outcome(cost, co2e, tkm, planned, loads or {}, caps or {})


def test_the_cap_and_its_lagrangian_by_hand():
    cap = coord.Constraint(intensity_g_per_tkm=100.0)
    a, b = outcome(1000.0, 50.0, 400.0), outcome(2000.0, 30.0, 600.0)
    # allowed: 100 g/tkm x 1000 tkm = 100 kg; emitted 80 kg -> 20 kg below the cap
    assert cap.excess_kg([a, b]) == pytest.approx(-20.0)
    assert cap.met([a, b])
    assert not cap.met([a, outcome(2000.0, 80.0, 600.0)])  # 130 kg > 100 kg
    # L(500 CNY/t) = 3000 + 500 x (80 - 100) / 1000 = 2990 CNY
    assert coord.lagrangian_cny(500.0, [a, b], cap) == pytest.approx(2990.0)
    budget = coord.Constraint(co2e_max_kg=70.0)
    assert budget.excess_kg([a, b]) == pytest.approx(10.0)
    # L(500) = 3000 + 500 x (80 - 70) / 1000 = 3005 CNY
    assert coord.lagrangian_cny(500.0, [a, b], budget) == pytest.approx(3005.0)
    both = coord.Constraint(intensity_g_per_tkm=100.0, co2e_max_kg=70.0)
    assert both.excess_kg([a, b]) == pytest.approx(10.0)


def test_price_search_grows_then_bisects():
    assert coord.next_price(0.0, None) == 100.0
    assert coord.next_price(100.0, None) == 400.0
    assert coord.next_price(40_000.0, None) is None  # 160,000 is above the range
    assert coord.next_price(400.0, 1600.0) == 1000.0
    assert coord.next_price(1000.0, 1015.0) is None  # within 2 % of 1015


def test_polish_moves_partitions_to_the_cheaper_price_while_the_cap_holds():
    cap = coord.Constraint(co2e_max_kg=100.0)
    high = [outcome(100.0, 30.0, 0.0), outcome(100.0, 30.0, 0.0), outcome(100.0, 30.0, 0.0)]
    # cheaper at the lower price: saves 50 for 5 kg, 20 for 10 kg, 30 for 6 kg more
    low = [outcome(50.0, 35.0, 0.0), outcome(80.0, 40.0, 0.0), outcome(70.0, 36.0, 0.0)]
    # slack 10 kg: take #0 (10 CNY/kg) then #2 (5 CNY/kg) -> 101 kg is over, so #2 stays
    assert coord.polish(low, high, cap) == [True, False, False]
    roomy = coord.Constraint(co2e_max_kg=200.0)
    assert coord.polish(low, high, roomy) == [True, True, True]
    fewer = [outcome(10.0, 30.0, 0.0, planned=0), *low[1:]]
    assert coord.polish(fewer, high, roomy)[0] is False  # never trade a shipment for cost


def test_overbooked_departures_and_which_partition_to_replan():
    dep, other = ("SEA-X", 7), ("SEA-Y", 7)
    caps = {dep: 30.0, other: 100.0}
    parts = [
        outcome(1.0, 1.0, 1.0, loads={dep: 24.0}, caps=caps),
        outcome(1.0, 1.0, 1.0, loads={dep: 16.0, other: 50.0}, caps=caps),
        outcome(1.0, 1.0, 1.0, loads={other: 40.0}, caps=caps),
    ]
    assert coord.overbooked(parts) == {dep: pytest.approx(10.0)}
    assert coord.pick_repair(parts, coord.overbooked(parts)) == 0  # more tonnes on it
    assert coord.held_by_others(parts, 0) == {dep: 16.0, other: 90.0}
    # with its reach known, only the departures the partition could load are held for it
    reach = [replace(parts[0], reach=frozenset({dep})), *parts[1:]]
    assert coord.held_by_others(reach, 0) == {dep: 16.0}
    assert coord.held_by_others(reach, 2) == {dep: 40.0, other: 50.0}  # reach unknown


def test_trucks_of_one_departure_run_once_for_all_partitions_by_hand():
    """Two partitions put 10 t and 6 t on one 24 t truck departure, each paying a whole
    truck (1,000 CNY, of which 100 energy; 50 kg WTW, 40 kg TTW); a third departure is one
    partition's alone; the second partition also re-planned one with 12 t held."""
    key, alone, held = (
        ("ROAD-A", "truck", "diesel", 7),
        ("ROAD-B", "truck", "diesel", 7),
        (
            "ROAD-C",
            "truck",
            "diesel",
            8,
        ),
    )
    split = (("freight", 900.0), ("energy", 100.0))

    def use(n, load, members):
        return coord.TruckUse(n, load, members, 24.0, split, 50.0, 40.0)

    a = {key: use(1, 10.0, (("a1", 10.0),)), alone: use(1, 5.0, (("a2", 5.0),))}
    # b planned with 12 t of another partition held on ROAD-C: 1 truck for 18 t, its share 6/18
    b = {key: use(1, 6.0, (("b1", 6.0),)), held: use(1, 18.0, (("b2", 6.0),))}
    c = {held: use(1, 12.0, (("c1", 12.0),))}
    got = coord.merge_trucks([a, b, c])
    # ROAD-A: 16 t -> 1 truck; a1 carries 10/16 of it instead of 1, b1 6/16 instead of 1
    split_a1, wtw_a1, ttw_a1 = got.deltas[0]["a1"]
    assert split_a1 == {"freight": pytest.approx(-337.5), "energy": pytest.approx(-37.5)}
    assert (wtw_a1, ttw_a1) == (pytest.approx(-18.75), pytest.approx(-15.0))
    assert sum(got.deltas[1]["b1"][0].values()) == pytest.approx(-625.0)
    assert "a2" not in got.deltas[0]  # alone, nothing held: unchanged
    # ROAD-C: 18 t of b2 and c1 -> 1 truck; b2 6/18 as planned, c1 12/18 instead of 1
    assert "b2" not in got.deltas[1]
    assert sum(got.deltas[2]["c1"][0].values()) == pytest.approx(-1000.0 / 3)
    assert (got.trucks, got.shared_departures) == (3, 2)


def test_a_repair_round_keeps_the_cheapest_replans_that_cannot_meet():
    """Four partitions overbook two departures: X (30 t) by A 24 t + B 16 t, W (30 t) by
    C 20 t + D 15 t. A could also use Z, D could use W and Z; B could use X and Y."""
    x, y, w, z = ("SEA-X", 7), ("SEA-Y", 7), ("RAIL-W", 3), ("SEA-Z", 8)
    caps = {x: 30.0, y: 30.0, w: 30.0, z: 30.0}

    def part(cost, loads, reach, planned=4):
        return coord.Outcome(cost, 1.0, 1.0, planned, loads, caps, frozenset(reach))

    a = part(100.0, {x: 24.0}, {x, z})
    b = part(100.0, {x: 16.0}, {x, y})
    c = part(100.0, {w: 20.0}, {w})
    d = part(100.0, {w: 15.0}, {w, z})
    now = [a, b, c, d]
    assert coord.overbooked(now) == {w: pytest.approx(5.0), x: pytest.approx(10.0)}
    assert coord.conflict(a, b) and coord.conflict(a, d) and coord.conflict(c, d)
    assert not coord.conflict(a, c) and not coord.conflict(b, c) and not coord.conflict(b, d)
    assert coord.conflict(a, coord.Outcome(1.0, 1.0, 1.0, 1, {}, {}))  # unknown reach
    # most tonnes on overbooked departures first: A 24, C 20, B 16, D 15
    order = coord.repair_order(now, coord.overbooked(now))
    assert order == [0, 2, 1, 3]
    # A and C share no departure they could use: re-planned at once; B and D meet A
    assert coord.independent(now, order) == [0, 2]
    # re-plans with the others held back: A moves to Z for +50, C waits for +10, B moves
    # to Y for +5, D loses a shipment
    trials = {
        0: part(150.0, {z: 24.0}, {x, z}),
        2: part(110.0, {w: 10.0}, {w}),
        1: part(105.0, {y: 16.0}, {x, y}),
        3: part(90.0, {z: 10.0}, {w, z}, planned=3),
    }
    # kept: B (+5), C (+10); A (+50) could use X with B, D lost a shipment and meets C
    assert coord.accept_repairs(now, trials) == [1, 2]
    after = [a, trials[1], trials[2], d]
    assert coord.overbooked(after) == {}


def tight_network(network: Network, cap_t: float) -> Network:
    """The shipped network with every scheduled departure limited to ``cap_t``."""
    lanes = tuple(
        replace(lane, capacity_t_per_departure=cap_t)
        if str(lane.mode) in ("sea", "rail", "air", "inland_water")
        else lane
        for lane in network.lanes
    )
    graph = nx.MultiDiGraph()
    for h in network.hubs.values():
        graph.add_node(h.hub_id, hub=h)
    for lane in lanes:
        graph.add_edge(lane.origin, lane.destination, key=lane.lane_id, lane=lane)
    return Network(network.hubs, lanes, graph, f"test-batch-tight-{cap_t:g}")


def twelve_on_tight_departures(network: Network):
    """12 x 8 t Nanjing -> Madrid ready together on 30 t departures, 3 partitions of 4."""
    tight = tight_network(network, 30.0)
    ready = datetime(2026, 3, 2, tzinfo=UTC)
    book = [
        Shipment(f"S{i:02d}", "F-NANJING", "C-MADRID", 8.0, ready, ready + timedelta(days=45))
        for i in range(12)
    ]
    return (
        tight,
        book,
        batch.make_tasks({"b": book}, tight, FAST, partition_size=4, on_network=True),
    )


def test_shared_departures_are_never_overbooked(network):
    """12 x 8 t ready together; 30 t per departure; 3 partitions of 4 each want the first."""
    tight, book, tasks = twelve_on_tight_departures(network)
    assert len(tasks) == 3
    alone = [batch.run_task(t) for t in tasks]
    assert coord.overbooked([r.outcome() for r in alone])  # planned apart, they overbook
    result = batch.run_batch(tasks, workers=0)
    (info,) = result.coordination
    assert info["overbooked_found"] >= 1 and info["overbooked_left"] == 0
    assert info["partitions_replanned"] >= 1
    assert result.departures and all(
        d["load_t"] <= d["capacity_t"] + 1e-9 for d in result.departures
    )
    whole = plan(book, tight, FAST)
    assert info["planned"] == len(whole.shipments) == 12
    # the shipments at the cuts re-planned together: what one plan costs
    assert info["seam_kept"] and info["cost_cny"] == pytest.approx(whole.cost_cny, rel=1e-9)
    # every partition could load the same departures: one re-plan kept per round
    assert info["repair_rounds"] == info["partitions_replanned"]
    # in rounds of three at once (as on three workers): the same departures held
    runner = batch._Runner(None, None, None)
    runner.slots = 3
    first = [batch._own_price(t) for t in tasks]
    _, got, facts = batch.repair_capacity(first, alone, runner)
    assert facts["overbooked_left"] == 0 and facts["repair_tasks"] >= 3
    assert not coord.overbooked([r.outcome() for r in got])
    assert sum(r.row["planned"] for r in got) == 12


def test_the_shipments_at_a_cut_are_replanned_together(network):
    """8 t and 10 t Nanjing -> Madrid ready the same day, cut into two partitions: planned
    apart each pays its own trucks; the seam pass re-plans both with everything else held,
    and the batch costs what one plan costs, shipment by shipment (trucks by mass share)."""
    book = [ship("A1", mass=8.0), ship("A2", mass=10.0)]
    tasks = batch.make_tasks({"b": book}, network, FAST, partition_size=1)
    assert len(tasks) == 2 and all(t.truck_reach for t in tasks)
    apart = [batch.run_task(t) for t in tasks]
    result = batch.run_batch(tasks, workers=0)
    (info,) = result.coordination
    whole = plan(book, network, FAST)
    assert info["seam_shipments"] == 2 and info["seam_kept"]
    assert info["cost_cny"] == pytest.approx(whole.cost_cny, rel=1e-9)
    assert sum(r.row["cost_cny"] for r in apart) - info["cost_cny"] == pytest.approx(
        info["seam_saved_cny"]
    )
    assert info["seam_saved_cny"] > 0
    rows = {r["shipment_id"]: r for r in result.shipments}
    for s in whole.shipments:
        assert rows[s.shipment_id]["cost_cny"] == pytest.approx(s.cost_cny, rel=1e-9)
        assert rows[s.shipment_id]["co2e_wtw_kg"] == pytest.approx(
            s.footprint.totals.co2e_wtw_kg, rel=1e-9
        )
    # each row goes back to its own partition; the partition rows sum their shipments
    assert {r["partition"] for r in result.shipments} == {t.partition.key for t in tasks}
    assert sum(p["cost_cny"] for p in result.partitions) == pytest.approx(info["cost_cny"])


def test_a_held_truck_is_filled_before_a_new_one(network):
    """1.5 t of another partition on the first-mile truck of the day (a rigid truck of 10 t
    payload): a 8 t shipment rides in its spare room and pays its mass share of one truck."""
    (task,) = batch.make_tasks({"b": [ship("A1", mass=8.0)]}, network, FAST)
    alone = batch.run_task(task)
    ((key, use),) = [(k, u) for k, u in alone.trucks.items() if k[0] == "ROAD-F-NANJING-CNNKG"]
    assert (use.vehicles, use.load_t, use.payload_t) == (1, 8.0, 10.0)
    shared = batch.run_task(replace(task, held_trucks_t=((key, 1.5),)))
    use2 = shared.trucks[key]
    assert (use2.vehicles, use2.load_t, use2.members) == (1, 9.5, (("A1", 8.0),))
    # its plan carries 8/9.5 of the truck instead of a whole one; nothing else changes
    truck_cny = sum(v for _, v in use.cost_split_cny)
    assert alone.row["cost_cny"] - shared.row["cost_cny"] == pytest.approx(
        (1 - 8.0 / 9.5) * truck_cny, rel=1e-9
    )
    assert shared.row["planned"] == 1 and [r["shipment_id"] for r in shared.shipments] == ["A1"]
    # 10 t held leaves no room: a second truck, of which it pays 8/18 of two
    full = batch.run_task(replace(task, held_trucks_t=((key, 10.0),)))
    assert full.trucks[key].vehicles == 2
    assert alone.row["cost_cny"] - full.row["cost_cny"] == pytest.approx(
        (1 - 2 * 8.0 / 18.0) * truck_cny, rel=1e-9
    )


def test_departures_left_overbooked_are_cleared_by_taking_shipments_off(network, monkeypatch):
    """The 12 x 8 t book on 30 t departures without repair rounds: the shipments of the
    latest partitions beyond each departure's capacity are re-planned together."""
    monkeypatch.setattr(batch, "REPAIR_MAX_ROUNDS", 0)
    *_, tasks = twelve_on_tight_departures(network)
    result = batch.run_batch(tasks, workers=0)
    (info,) = result.coordination
    assert info["repair_rounds"] == 0 and info["overbooked_found"] >= 1
    # each partition alone puts three of its four on the first 30 t departures and one on
    # the next: 9 x 8 t on the first, 3 kept (first partition), 6 taken off
    assert info["bumped_shipments"] == 6 and info["overbooked_left"] == 0
    assert all(d["load_t"] <= d["capacity_t"] + 1e-9 for d in result.departures)
    assert info["planned"] == 12 and len(result.shipments) == 12


def test_a_held_back_replan_may_wait_for_the_next_departure(network):
    """2 x 8 t Nanjing -> Madrid share one barge, sailing and train (30 t each); with 20 t
    of each held by other partitions only 10 t is left: one shipment must go later."""
    from greenlane.routing.planner.solve import solve_problem

    tight = tight_network(network, 30.0)
    ready = datetime(2026, 3, 2, tzinfo=UTC)
    book = [
        Shipment(f"S{i}", "F-NANJING", "C-MADRID", 8.0, ready, ready + timedelta(days=45))
        for i in range(2)
    ]
    (task,) = batch.make_tasks({"b": book}, tight, FAST, on_network=True)
    alone = batch.run_task(task)
    assert alone.row["planned"] == 2 and set(alone.loads_t.values()) == {16.0}
    held = dict.fromkeys(alone.loads_t, 20.0)
    problem = batch._problem(task, tight)
    waiting = batch.held_back(problem, held, task.options)
    # 16 t could not overfill a 30 t departure alone: no waiting copies were built for it
    assert sum(map(len, waiting.candidates.values())) > sum(map(len, problem.candidates.values()))
    assert problem.reserved_t == {} and waiting.reserved_t == held
    again = batch.run_task(replace(task, reserved_t=tuple(sorted(held.items()))))
    assert again.row["planned"] == 2
    assert all(again.loads_t.get(k, 0.0) <= 10.0 for k in held)  # 30 t - 20 t held
    # without the waiting copies the second shipment changes path and costs more
    plain = solve_problem(replace(problem, reserved_t=held), task.options)
    assert len(plain.shipments) == 2
    assert alone.row["cost_cny"] < again.row["cost_cny"] < plain.cost_cny


def test_the_network_wide_target_holds_across_partitions(network):
    """A 100-shipment book in 4 partitions under a cap between its cheapest plan (273.2 g/tkm)
    and its greenest (127.0): one carbon price for all partitions meets the cap for the whole
    book, as cheaply as the single plan within 0.5 %."""
    book = batch.synthetic_year(network, 100, seed=1)
    capped = replace(
        FAST, target_year=2030, target=Target(2023, 200.0, 2030, 0.0, source="test cap")
    )
    tasks = batch.make_tasks({"b": book}, network, capped, partition_size=25)
    assert len(tasks) == 4
    result = batch.run_batch(tasks, workers=0)
    (info,) = result.coordination
    (row,) = result.summary().to_dict("records")
    # met within the coordinator's 1e-9 relative slack for float sums
    assert info["cap_met"] and row["intensity_g_per_tkm"] <= 200.0 * (1 + 1e-9)
    assert info["status"] == "met" and info["price_cny_per_t"] > 0
    assert 0 <= info["duality_gap"] < 0.05
    # the reference plan gets time to spare: its four target-mode solves share the limit
    whole = plan(book, network, replace(capped, solver=replace(capped.solver, time_limit_s=30.0)))
    assert whole.status in ("optimal", "feasible")
    assert whole.intensity_g_per_tkm <= 200.0 + 1e-6
    assert row["planned"] == len(whole.shipments)
    assert row["cost_cny"] <= 1.005 * whole.cost_cny
    # every partition at the price found, not each capped on its own
    assert {r["target_year"] for r in result.partitions} == {2030}
    assert all(r["price_cny_per_t"] >= 0 for r in result.partitions)


def test_a_rerun_resumes_from_the_journal(network, tmp_path: Path):
    tasks = batch.make_tasks({"b": BOOK}, network, FAST, partition_size=2)
    first = batch.run_batch(tasks, workers=0, journal=tmp_path / "parts")
    assert (first.computed, first.resumed) == (2, 0)
    assert len(list((tmp_path / "parts").glob("*.pkl"))) == 2
    again = batch.run_batch(tasks, workers=0, journal=tmp_path / "parts")
    assert (again.computed, again.resumed) == (0, 2)
    assert again.partitions == first.partitions
    (tmp_path / "parts" / f"{tasks[0].digest()}.pkl").unlink()  # as if killed before it
    third = batch.run_batch(tasks, workers=0, journal=tmp_path / "parts")
    assert (third.computed, third.resumed) == (1, 1)


def test_the_same_code_runs_on_a_dask_scheduler_and_worker(network, tmp_path: Path):
    """``dask scheduler`` + ``dask worker`` processes, as on a real cluster (on loopback)."""
    import json
    import os
    import subprocess
    import sys
    import time

    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        pytest.skip("the dask command is not installed")
    import greenlane

    env = {**os.environ, "PYTHONPATH": str(Path(greenlane.__file__).parent.parent)}
    info = tmp_path / "scheduler.json"
    loopback = ["--host", "127.0.0.1", "--no-dashboard", "--scheduler-file", str(info)]
    procs = [
        subprocess.Popen(
            [str(dask), "scheduler", "--port", "0", *loopback],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        procs.append(
            subprocess.Popen(
                [str(dask), "worker", "--nthreads", "1", *loopback],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        address = json.loads(info.read_text())["address"]
        tasks = batch.make_tasks({"b": BOOK}, network, FAST, partition_size=2)
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        remote = batch.run_batch(tasks, scheduler=address)  # what --scheduler runs
        local = batch.run_batch(tasks, workers=0)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)
    assert remote.scheduler == address and remote.workers == 1
    assert [r["planned"] for r in remote.partitions] == [r["planned"] for r in local.partitions]
    assert [r["cost_cny"] for r in remote.partitions] == pytest.approx(
        [r["cost_cny"] for r in local.partitions]
    )


def test_cli_resumes_and_reports_the_network_wide_budget(tmp_path: Path):
    from click.testing import CliRunner

    from greenlane.webapp.cli_batch import batch_cmd

    book = tmp_path / "b.csv"
    book.write_text(
        "shipment_id,origin,destination,mass_t,ready_at,due_at\n"
        "S1,F-NANJING,C-MADRID,8,2026-03-02,2026-04-20\n",
        encoding="utf-8",
    )
    out = tmp_path / "res.parquet"
    args = [str(book), "--workers", "0", "--time-limit", "2", "--output", str(out)]
    args += ["--no-progress", "--no-chart", "--max-co2e-t", "1000"]
    first = CliRunner().invoke(batch_cmd, args)
    assert first.exit_code == 0, first.output
    # 8 t Nanjing -> Madrid emits a few t CO2e: a 1,000 t budget holds at the base price 0
    assert "WTW CO2e <= 1,000,000 kg met (held); carbon price found 0.0 CNY/t" in first.output
    assert "1 task(s) planned, 0 read from" in first.output
    assert not out.with_suffix(".png").exists()
    again = CliRunner().invoke(batch_cmd, args)
    assert again.exit_code == 0, again.output
    assert "0 task(s) planned, 1 read from" in again.output
    fresh = CliRunner().invoke(batch_cmd, [*args, "--no-resume"])
    assert "1 task(s) planned, 0 read from" in fresh.output
    bad = CliRunner().invoke(batch_cmd, [*args[:-2], "--max-co2e-t", "0"])
    assert bad.exit_code == 2 and "--max-co2e-t" in bad.output


def test_cli_forks_its_local_workers(tmp_path: Path):
    from click.testing import CliRunner

    from greenlane.webapp.cli_batch import batch_cmd

    book = tmp_path / "b.csv"
    book.write_text(
        "shipment_id,origin,destination,mass_t,ready_at,due_at\n"
        "S1,F-NANJING,C-MADRID,8,2026-03-02,2026-04-20\n"
        "S2,F-XIAN,C-WARSAW,5,2026-03-03,2026-04-20\n",
        encoding="utf-8",
    )
    out = tmp_path / "res.parquet"
    args = [str(book), "--workers", "1", "--time-limit", "2", "--output", str(out)]
    res = CliRunner().invoke(batch_cmd, [*args, "--no-progress", "--no-chart"])
    assert res.exit_code == 0, res.output
    assert "on 1 worker(s) (tcp://127.0.0.1:" in res.output
    assert "task CPU per worker [s]: " in res.output
    assert "1 task(s) planned" in res.output
    import pyarrow.parquet as pq

    rows = pq.read_table(out).to_pylist()
    assert [(r["planned"], r["error"]) for r in rows] == [(2, "")]
    assert rows[0]["worker_address"].startswith("tcp://127.0.0.1:")


def test_bunker_jet_and_rate_card_axes_parse_and_name():
    points = batch.scenarios(
        batch.parse_sweep(["bunker_price=1,1.3", "jet_price=1.2", "rate_card_index=0.8"])
    )
    assert [p.name for p in points] == ["jet×1.2 cards×0.8", "bunker×1.3 jet×1.2 cards×0.8"]
    opts = points[1].options(FAST)
    assert opts.rate_card_index == 0.8
    assert dict(opts.energy_prices.factors) == {"bunker_price": 1.3, "jet_price": 1.2}
    vlsfo = opts.energy_prices.get("vlsfo", "GLOBAL")
    jet = opts.energy_prices.get("jet_kerosene", "GLOBAL")
    methanol = opts.energy_prices.get("methanol_e", "GLOBAL")
    # VLSFO 4248.3444 CNY/t x 1.3 = 5522.84772; jet 5621.3288 x 1.2 = 6745.59456;
    # e-methanol (not a fossil bunker) unscaled
    assert vlsfo.price_cny_per_unit == Decimal("4248.3444") * Decimal("1.3")
    assert jet.price_cny_per_unit == Decimal("5621.3288") * Decimal("1.2")
    assert methanol.price_cny_per_unit == Decimal("8399.7892")
    with pytest.raises(InputError) as err:
        batch.scenarios({"bunker_price": ["0"]})
    assert err.value.field == "sweep.bunker_price"


def test_bunker_price_sweep_moves_the_sea_leg_energy_by_hand(network):
    """Shanghai -> Rotterdam by sea, 20 t: the plan takes the 24 000 TEU ship on LNG (Diesel
    cycle) at both bunker prices; its energy cost is MJ x 4672.46 CNY/t / 48 000 MJ/t x f."""
    from greenlane.routing.planner.pricing import price_lane

    ready = datetime(2026, 3, 2, tzinfo=UTC)
    book = [
        Shipment(
            "S1", "CNSHA", "NLRTM", 20.0, ready, ready + timedelta(days=60),
            allowed_modes=frozenset({Mode.SEA}),
        )
    ]  # fmt: skip
    base, high = batch.make_tasks(
        {"b": book}, network, FAST, batch.scenarios({"bunker_price": ["1", "1.3"]})
    )
    rows = [batch.run_task(t).row for t in (base, high)]
    assert [r["bunker_price"] for r in rows] == [1.0, 1.3]
    lane = network.lane("SEA-CNSHA-NLRTM")
    (option,) = [
        o
        for o in price_lane(lane, network.hubs["CNSHA"])
        if o.key == "SEA-CNSHA-NLRTM|ship_container_24000teu|lng_marine_diesel_ss"
    ]
    mj = option.energy_mj_per_t * 20.0  # the model's energy use of 20 t on the leg
    cny_per_mj = 4672.46 / 48_000  # LNG bunker 650 USD/t x 7.1884 / LCV 48 MJ/kg (FuelEU)
    assert rows[0]["energy_cost_cny"] == pytest.approx(mj * cny_per_mj, rel=1e-6)
    assert rows[1]["energy_cost_cny"] == pytest.approx(mj * cny_per_mj * 1.3, rel=1e-6)
    # +30 % on the bunker moves only the energy: freight and EU ETS stay
    assert rows[1]["cost_cny"] - rows[0]["cost_cny"] == pytest.approx(0.3 * mj * cny_per_mj)
    assert rows[1]["regulatory_cost_cny"] == pytest.approx(rows[0]["regulatory_cost_cny"])


def test_cli_sizes_partitions_for_the_task_slots():
    from greenlane.webapp.cli_batch import _slots

    class Remote:
        local = False

        def client(self):
            return self

        def scheduler_info(self, n_workers):
            assert n_workers == -1
            return {"workers": {"tcp://a": {"nthreads": 2}, "tcp://b": {"nthreads": 1}}}

    class Unreachable(Remote):
        def client(self):
            raise OSError("no scheduler")

    assert _slots(2, None) == 2  # in process or a local cluster: the --workers given
    assert _slots(0, None) == 1
    assert _slots(2, Remote()) == 3  # a scheduler's workers: their threads
    assert _slots(2, Unreachable()) == 1  # the run reports the error later
