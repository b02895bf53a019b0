"""Bounded load: 50 concurrent clients on the plan and footprint endpoints of a live server.

The short version runs ``LOAD_SECONDS``; ``benchmarks/load.py`` runs the full 60 s. Every
request must succeed; the p95 latency per endpoint is reported (``-s`` prints the table).
"""

from __future__ import annotations

from harness import run_load

LOAD_SECONDS = 6.0
CLIENTS = 50


def test_fifty_clients_get_no_errors(live, record_property):
    report = run_load(
        live["server"].base,
        live["clients"],
        live["plan_id"],
        clients=CLIENTS,
        duration_s=LOAD_SECONDS,
        timeout_s=60,
    )
    table = {r["endpoint"]: r for r in report.table()}
    print(
        f"\n{CLIENTS} clients, {LOAD_SECONDS:g} s, wall {report.wall_s:.1f} s\n" + report.markdown()
    )
    for row in table.values():
        record_property(f"p95_ms[{row['endpoint']}]", round(row["p95_ms"]))
    assert not report.errors, report.errors[:5]
    assert {"POST /footprints", "GET /plans/{id}", "POST /plans"} <= set(table)
    assert table["all"]["requests"] >= CLIENTS
    # every client got through at least once: nobody starved for the whole run
    assert report.wall_s < LOAD_SECONDS + 60
