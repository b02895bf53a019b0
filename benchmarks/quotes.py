"""Quote benchmark: concurrent ERP clients on ``POST /api/v1/quotes``, warm.

    python benchmarks/quotes.py                      # 20 clients, 30 s
    python benchmarks/quotes.py --clients 20 --seconds 60

Starts ``greenlane serve --production`` (waitress, 8 threads) on a free 127.0.0.1 port with a
temporary SQLite database, warms the candidate builders (one quote per origin-destination
pair and carbon price, sequentially), then has every client (own integration token, own
keep-alive connection) loop over quotes of the four benchmark lanes, masses 1..30 t and
carbon prices 0 / 500 CNY/t for the given time. Prints a Markdown table of requests, errors,
throughput and p50/p95/p99/max latency, the load average (the machine may be shared) and
whether the goal (p95 <= 200 ms) is met.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))

from harness import PAIRS, LoadReport, Sample

ROOT = Path(__file__).resolve().parents[1]

GOAL_P95_MS = 200.0
"""Goal: p95 latency of a warm quote under 20 concurrent clients [ms]."""
PRICES = (0.0, 500.0)
"""Carbon prices of the benchmark quotes [CNY/t CO2e]."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _body(rng: random.Random, origin: str, destination: str, price: float) -> dict:
    return {
        "shipment": {
            "shipment_id": f"Q-{rng.randrange(10**6)}",
            "origin": origin,
            "destination": destination,
            "mass_t": rng.randint(1, 30),
            "ready_at": "2026-12-01T00:00:00Z",
            "due_at": "2027-01-25T00:00:00Z",
        },
        "carbon_price_cny_per_t": price,
    }


def _post(conn: http.client.HTTPConnection, token: str, body: dict) -> tuple[int, bytes]:
    conn.request(
        "POST",
        "/api/v1/quotes",
        body=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    return resp.status, resp.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 600:
        parser.error("--clients must lie in 1..200 and --seconds in 1..600")
    with tempfile.TemporaryDirectory(prefix="greenlane-quotes-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "GREENLANE_INSTANCE_PATH": str(Path(tmp) / "instance"),
                "GREENLANE_RATE_LIMIT_PER_MINUTE": "0",
            }
        )
        cli = [sys.executable, "-m", "greenlane"]
        tokens = []
        for _ in range(args.clients):
            out = subprocess.run(
                [*cli, "create-token", "--role", "integration"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            tokens.append(out.strip().splitlines()[-1])
        port = _free_port()
        log = (Path(tmp) / "server.log").open("wb")
        server = subprocess.Popen(
            [*cli, "serve", "--production", "--threads", "8", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    t0 = time.perf_counter()
                    rng = random.Random(args.seed)
                    cold = []
                    for o, d in PAIRS:
                        for price in PRICES:
                            t0 = time.perf_counter()
                            status, payload = _post(conn, tokens[0], _body(rng, o, d, price))
                            if status != 200:
                                print(f"warm-up failed: {status} {payload[:300]!r}")
                                return 1
                            cold.append((time.perf_counter() - t0) * 1000)
                    conn.close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            report = LoadReport(clients=args.clients)
            lock = threading.Lock()
            gate = threading.Barrier(args.clients + 1)
            stop_at = [0.0]

            def client(i: int) -> None:
                rng = random.Random(args.seed * 1000 + i + 1)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                mine = []
                gate.wait()
                while time.monotonic() < stop_at[0]:
                    o, d = rng.choice(PAIRS)
                    body = _body(rng, o, d, rng.choice(PRICES))
                    t0 = time.perf_counter()
                    try:
                        status, _ = _post(conn, tokens[i], body)
                        mine.append(Sample("POST /quotes", status, time.perf_counter() - t0))
                    except (OSError, http.client.HTTPException) as exc:
                        mine.append(Sample("POST /quotes", 0, time.perf_counter() - t0, str(exc)))
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                conn.close()
                with lock:
                    report.samples.extend(mine)

            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
            for t in threads:
                t.start()
            before = os.getloadavg()
            start = time.monotonic()
            stop_at[0] = start + args.seconds
            gate.wait()
            for t in threads:
                t.join()
            report.wall_s = time.monotonic() - start
            after = os.getloadavg()
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    print(
        f"{args.clients} clients, {args.seconds:g} s, {os.cpu_count()} cores; load avg (1 min) "
        f"{before[0]:.2f} before, {after[0]:.2f} after; first (cold) quotes "
        f"{max(cold):.0f} ms max, warm-up {sum(cold) / 1000:.1f} s in all"
    )
    print()
    print(report.markdown())
    p95 = next(r["p95_ms"] for r in report.table() if r["endpoint"] == "all")
    verdict = "met" if p95 <= GOAL_P95_MS else f"missed by {p95 - GOAL_P95_MS:.0f} ms"
    print(f"\ngoal p95 <= {GOAL_P95_MS:.0f} ms: {verdict} (p95 {p95:.0f} ms)")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
