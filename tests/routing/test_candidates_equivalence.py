"""Candidate building gives the same candidates as before its speed-ups (fingerprints).

The fingerprints hash every candidate of a book (shipment, index, lane options, departures,
arrival, lateness, cost and CO2e, waits; floats by ``repr``, so bit for bit) and every
unplanned shipment's reasons. They were computed with the candidate code before caching and
tables replaced its inner loops, twice, with the same result; any change to the candidates
of these books changes them.
"""

from __future__ import annotations

import hashlib
import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from greenlane.routing import load_network, read_book
from greenlane.routing.planner import PlanOptions, build_problem
from greenlane.routing.planner.candidates import CandidateBuilder, built
from greenlane.routing.planner.problem import Problem, _dominated
from greenlane.routing.planner.shipments import Shipment

ROOT = Path(__file__).resolve().parents[2]
BENCH_150_SHA256 = "7afd369550aacdd8face3e329d80f5329e5f96dbffc66d32fa99bd263e351767"
"""Candidates of ``benchmarks/planner.py``'s book of 150 shipments, seed 7, on its network."""
DEMO_SHA256 = "e3bae7f3be83e7348a3deb0f17869c34a3c12225102634c6ce39df9a2de7af44"
"""Candidates of the demo book ``data/examples/shipments.csv`` on the shipped network."""


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_planner", ROOT / "benchmarks/planner.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fingerprint(problem: Problem) -> str:
    """sha256 of every candidate and unplanned shipment of ``problem``, in order."""
    h = hashlib.sha256()
    for sid, cands in problem.candidates.items():
        for c in cands:
            row = (
                sid,
                c.index,
                tuple(o.key for o in c.options),
                tuple(
                    (t.depart_h, t.arrive_h, t.slot, t.service_id, t.cutoff_h, t.capacity_t)
                    for t in c.timings
                ),
                c.hubs,
                c.arrival_h,
                c.late_h,
                c.var_cost_cny,
                c.var_wtw_kg,
                c.var_ttw_kg,
                c.alone_cost_cny,
                c.alone_wtw_kg,
                c.waits,
            )
            h.update(repr(row).encode())
    for sid, u in problem.unplanned.items():
        h.update(repr((sid, u.reasons)).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def bench_problem() -> Problem:
    bench = _bench()
    net = bench.bench_network(load_network(), 150)
    return build_problem(bench.book(net, 150, 7), net, PlanOptions())


def test_benchmark_book_candidates_unchanged(bench_problem):
    assert sum(map(len, bench_problem.candidates.values())) > 150 * 10
    assert fingerprint(bench_problem) == BENCH_150_SHA256


def test_demo_book_candidates_unchanged():
    shipments = read_book(ROOT / "data" / "examples" / "shipments.csv")
    problem = build_problem(shipments, load_network(), PlanOptions(carbon_price_cny_per_t=500.0))
    assert problem.candidates
    assert fingerprint(problem) == DEMO_SHA256


def test_fingerprint_sees_a_changed_cost(bench_problem):
    from dataclasses import replace

    sid, cands = next(iter(bench_problem.candidates.items()))
    changed = dict(bench_problem.candidates)
    changed[sid] = [replace(cands[0], var_cost_cny=cands[0].var_cost_cny + 1e-9), *cands[1:]]
    assert fingerprint(replace(bench_problem, candidates=changed)) != BENCH_150_SHA256


def test_dominance_keeps_the_first_of_equals_and_every_trade_off():
    # merit: (alone cost, alone WTW, pooled cost, pooled WTW, arrival), to minimise
    merits = [
        (1.0, 1.0, 1.0, 1.0, 1.0),  # dropped by the seventh
        (1.0, 1.0, 1.0, 1.0, 1.0),  # equal to the first, later: dropped
        (0.0, 2.0, 0.0, 0.0, 0.0),  # cheaper, dirtier: kept
        (2.0, 2.0, 2.0, 2.0, 2.0),  # worse than the first on every term: dropped
        (2.0, 0.5, 2.0, 2.0, 2.0),  # dearer, greener: kept
        (0.0, 2.0, 0.0, 0.0, 0.0),  # equal to the third: dropped
        (1.0, 1.0, 1.0, 1.0, 0.5),  # as the first but arrives earlier: kept, drops the first
        (3.0, 0.5, 2.0, 2.0, 2.0),  # as the fifth but dearer alone: dropped
    ]
    assert _dominated(merits) == [True, True, False, True, False, True, False, True]
    assert _dominated(merits[:2]) == [False, True]  # of two equal ones the first is kept


def test_shipments_of_the_same_ends_and_mass_share_priced_combinations():
    net = load_network()
    origin, destination = net.hubs["F-SHENZHEN"], net.hubs["W-VENLO"]
    ready = datetime(2026, 12, 1, tzinfo=UTC)
    a = Shipment("A", "F-SHENZHEN", "W-VENLO", 9.0, ready, ready + timedelta(days=60))
    b = Shipment(
        "B", "F-SHENZHEN", "W-VENLO", 9.0, ready + timedelta(hours=30), ready + timedelta(days=50)
    )
    shared = CandidateBuilder(net)
    shared.rows(a, origin, destination, keep=True)
    assert shared._kept  # kept for b
    from_kept = [built(b, i, r) for i, r in enumerate(shared.rows(b, origin, destination))]
    assert not shared._kept  # taken back
    fresh = CandidateBuilder(net).candidates(b, origin, destination)
    assert len(from_kept) > 5
    assert from_kept == fresh
