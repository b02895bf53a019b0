"""Time ``routing.load_network``: cold (no disk cache), warm (disk cache) and in-process.

Run: ``python benchmarks/network.py [--repeat N]``. Each cold/warm sample runs in a fresh
interpreter so imports and the lru cache do not carry over; the table shows the import time
of ``routing.network`` and the ``load_network()`` call separately [s].
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys, time
t0 = time.perf_counter()
from greenlane.routing.network.graph import load_network
t1 = time.perf_counter()
net = load_network(cache_dir=sys.argv[1])
t2 = time.perf_counter()
load_network(cache_dir=sys.argv[1])
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "again_s": t3 - t2,
                  "hubs": len(net.hubs), "lanes": len(net.lanes)}))
"""


def _probe(cache_dir: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(cache_dir)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Print a table of load times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="samples per scenario")
    args = parser.parse_args()
    rows: dict[str, list[dict[str, float]]] = {
        "cold (empty disk cache)": [],
        "warm (disk cache)": [],
    }
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            rows["cold (empty disk cache)"].append(_probe(Path(tmp)))
            rows["warm (disk cache)"].append(_probe(Path(tmp)))
    first = rows["warm (disk cache)"][0]
    print(
        f"network: {first['hubs']:.0f} hubs, {first['lanes']:.0f} directed lanes; "
        f"median of {args.repeat} fresh interpreters"
    )
    print(f"{'scenario':<26} {'import [s]':>10} {'load [s]':>10} {'2nd call [s]':>13}")
    for name, samples in rows.items():
        med = {
            k: statistics.median(s[k] for s in samples) for k in ("import_s", "load_s", "again_s")
        }
        print(f"{name:<26} {med['import_s']:>10.3f} {med['load_s']:>10.3f} {med['again_s']:>13.6f}")


if __name__ == "__main__":
    main()
