"""The planner under its time limit: honest reasons, and nothing from the solvers on stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from greenlane.routing import PlanOptions, SolverParams, load_network, plan
from greenlane.routing.planner.shipments import Shipment

READY = datetime(2026, 12, 1, tzinfo=UTC)


def _book(n: int) -> list[Shipment]:
    """``n`` shipments from the factories to the customer sites, due in 40-70 days."""
    network = load_network()
    factories = sorted(h for h in network.hubs if h.startswith("F-"))
    sites = sorted(h for h in network.hubs if h.startswith("C-"))
    return [
        Shipment(
            f"L{i:04d}",
            factories[i % len(factories)],
            sites[(3 * i) % len(sites)],
            2.0 + i % 20,
            READY + timedelta(hours=7 * i % 300),
            READY + timedelta(days=40 + i % 30),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [50, 300])
def test_shipments_the_solver_had_no_time_for_are_not_called_capacity(n):
    """With a limit far too short, shipments are unplanned for lack of time, and say so: the
    shipped network has room on every departure, so "capacity" would be false. 50
    shipments (2 720 columns: every frontier option combination per path) go to CP-SAT,
    whose model alone takes longer to build than the limit; 300 (20 070 columns) to the
    LP-guided search, whose LP does not fit in the limit either."""
    result = plan(
        _book(n), load_network(), PlanOptions(solver=SolverParams(time_limit_s=0.05, workers=1))
    )
    assert len(result.shipments) + len(result.unplanned) == n
    assert result.unplanned
    for u in result.unplanned:
        assert u.reasons[0].startswith("time_limit: not "), u
        assert "0.05 s" in u.reasons[0]


def test_a_plan_with_time_enough_has_no_time_limit_reasons():
    result = plan(
        _book(20), load_network(), PlanOptions(solver=SolverParams(time_limit_s=20, workers=1))
    )
    assert len(result.shipments) == 20
    assert not any(u.reasons[0].startswith("time_limit") for u in result.unplanned)


_PLAN_TO_STDOUT = """
import json, sys
sys.path.insert(0, {tests!r})
from test_planner_limits import _book
from greenlane.routing import PlanOptions, SolverParams, load_network, plan
from greenlane.routing.planner.plan import plan_to_dict
result = plan(_book(200), load_network(), PlanOptions(solver=SolverParams(time_limit_s=20)))
print(json.dumps(plan_to_dict(result)))
"""


def test_stdout_is_only_the_plan_json_when_highs_runs(tmp_path):
    """200 shipments take the LP-guided search (HiGHS LP); HiGHS must not print its banner
    on fd 1, or JSON written to stdout would not parse."""
    from pathlib import Path

    code = _PLAN_TO_STDOUT.format(tests=str(Path(__file__).parent))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    doc = json.loads(out.stdout)
    assert "HiGHS" in doc["solver"]["solver"]
    assert "bound" in doc["solver"], "the HiGHS LP did not run: nothing was checked"


def test_cli_plan_prints_no_solver_banner(tmp_path):
    """``greenlane plan`` on a book that takes the HiGHS LP: stdout is the CLI's own lines."""
    book = tmp_path / "book.json"
    book.write_text(
        json.dumps(
            [
                {
                    "shipment_id": s.shipment_id,
                    "origin": s.origin,
                    "destination": s.destination,
                    "mass_t": s.mass_t,
                    "ready_at": s.ready_at.isoformat(),
                    "due_at": s.due_at.isoformat(),
                }
                for s in _book(200)
            ]
        )
    )
    target = tmp_path / "plan.json"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from webapp.cli import main; main()",
            "plan",
            str(book),
            "--time-limit",
            "20",
            "--output",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "HiGHS" not in out.stdout and "Copyright" not in out.stdout
    doc = json.loads(target.read_text())
    assert "HiGHS" in doc["solver"]["solver"]
