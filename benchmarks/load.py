"""Load benchmark: 50 concurrent clients on the plan and footprint endpoints for 60 s.

    python benchmarks/load.py                     # 50 clients, 60 s
    python benchmarks/load.py --clients 20 --seconds 30

Starts ``greenlane serve`` on a free 127.0.0.1 port with a temporary SQLite database (the
single-process server ``greenlane serve`` runs), gives every client its own planner token
(an integration token reads only the plans it made), and has each loop over the mix 45 %
``POST /footprints`` (the demo chain), 40 % ``GET /plans/{id}`` (a stored two-shipment plan),
15 % ``POST /plans`` (a one-shipment book, planned in the request). Prints a Markdown table of
requests, errors, throughput and the p50/p95/p99 latency per endpoint, and the load average
(the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))

from harness import Server, bearer, call, make_tokens, plan_body, run_load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 600:
        parser.error("--clients must lie in 1..200 and --seconds in 1..600")

    import json

    with tempfile.TemporaryDirectory(prefix="greenlane-load-") as tmp:
        server = Server(
            Path(tmp),
            env={"GREENLANE_RATE_LIMIT_PER_MINUTE": "1200", "GREENLANE_RATE_LIMIT_BURST": "200"},
        )
        tokens = make_tokens(server.database_url, [("planner", None)] * (1 + args.clients))
        server.start()
        try:
            status, _, body = call(
                server.base,
                "POST",
                "/api/v1/plans",
                plan_body(random.Random(1), 2, "seed"),
                bearer(tokens[0]),
            )
            if status != 201:
                print(f"seeding failed: {status} {body[:300]!r}", file=sys.stderr)
                return 1
            plan_id = json.loads(body)["id"]
            before = os.getloadavg()
            report = run_load(
                server.base,
                tokens[1:],
                plan_id,
                clients=args.clients,
                duration_s=args.seconds,
                seed=args.seed,
            )
            after = os.getloadavg()
        finally:
            server.stop()
    print(
        f"{args.clients} clients, {args.seconds:g} s (wall {report.wall_s:.1f} s incl. the "
        f"last requests), {os.cpu_count()} cores; load avg (1 min) {before[0]:.2f} before, "
        f"{after[0]:.2f} after"
    )
    print()
    print(report.markdown())
    errors = report.errors
    if errors:
        print(f"\n{len(errors)} error(s); first: {errors[0]}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
