"""A ``greenlane serve`` process on a free loopback port, HTTP calls and a bounded load driver.

Used by the reliability tests and by ``benchmarks/load.py``. Everything binds to 127.0.0.1;
every loop is bounded in count and time; only the processes started here are signalled (by
their own pid).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
DEMO_CHAIN = ROOT / "data" / "examples" / "clecat_case_a_de_580km.json"
PAIRS = [
    ("F-NANJING", "C-MADRID"),
    ("F-SHENZHEN", "C-FRANKFURT"),
    ("F-XIAN", "C-WARSAW"),
    ("F-CHANGSHA", "C-MILAN"),
]


NO_ANSWER = (OSError, http.client.HTTPException)
"""What a call raises when the server dies before or while answering (reset, incomplete)."""

HEARTBEAT_S = 0.2
"""Heartbeat interval of the test servers [s]: a killed server's jobs and keys are stale
(``webapp.heartbeat``) after 3 intervals, so a restart soon after the kill cleans them."""


def free_port() -> int:
    """A port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def make_tokens(database_url: str, specs: Sequence[tuple[str, str | None]]) -> list[str]:
    """Create the tables and one token per ``(role, partner_id)``; the app is closed after."""
    from greenlane.webapp import create_app
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.jobs import runner

    instance = (
        Path(database_url.removeprefix("sqlite:///")).parent
        if database_url.startswith("sqlite:///")
        else Path(tempfile.mkdtemp())
    )
    app = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "reliability", "INSTANCE_PATH": str(instance)}
    )
    try:
        return [
            create_token(engine_of(app), role, partner_id=partner)[1] for role, partner in specs
        ]
    finally:
        runner(app).shutdown()
        engine_of(app).dispose()


class Server:
    """``greenlane serve`` (``production``: with waitress) in a child process on a temporary
    SQLite database, or on ``database_url`` (e.g. another server's, to share it)."""

    def __init__(
        self,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        production: bool = False,
        database_url: str | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.production = production
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.workdir / "greenlane.sqlite"
        self.database_url = database_url or f"sqlite:///{self.db_path}"
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{HOST}:{self.port}"

    def start(self, timeout_s: float = 90.0) -> Server:
        """Start on a free port and wait until the API answers."""
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(
            {
                "GREENLANE_INSTANCE_PATH": str(self.workdir / "instance"),
                "GREENLANE_SECRET_KEY": "reliability-secret",
                "GREENLANE_SOLVER_TIME_LIMIT_S": "2",
                "GREENLANE_JOB_WORKERS": "1",
                "GREENLANE_HEARTBEAT_S": str(HEARTBEAT_S),
                # fault tests replay every request with one token; the load run turns it back on
                "GREENLANE_RATE_LIMIT_PER_MINUTE": "0",
                "PYTHONUNBUFFERED": "1",
                **self.extra_env,
            }
        )
        self.starts += 1
        log = open(self.workdir / f"server-{self.starts}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from webapp.cli import main; main()",
                "serve",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
                *(["--production", "--threads", "8"] if self.production else []),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()}")
            try:
                status, _, _ = call(self.base, "GET", "/api/v1/openapi.json", timeout=5)
                if status == 200:
                    return self
            except NO_ANSWER:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server not ready in {timeout_s} s: {self.log()}")

    def log(self) -> str:
        """The last server log, tail."""
        path = self.workdir / f"server-{self.starts}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def kill9(self) -> None:
        """SIGKILL the server process (no cleanup of any kind), then wait until its heartbeat
        is stale (3 intervals and a margin, ~0.8 s) so the next start-up cleans up after it."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
            time.sleep(4 * HEARTBEAT_S)
        self.proc = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.proc = None


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 120.0,
    raw: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request on a new connection: ``(status, headers, body)``."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        hdrs = dict(headers or {})
        if data is not None and raw is None:
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
    finally:
        conn.close()


def bearer(token: str, **extra: str) -> dict[str, str]:
    """The Authorization header (plus others)."""
    return {"Authorization": f"Bearer {token}", **extra}


def plan_body(rng: random.Random, n: int = 1, tag: str = "") -> dict[str, Any]:
    """A small book (sync on the server's default threshold)."""
    ships = []
    for i in range(n):
        o, d = rng.choice(PAIRS)
        ships.append(
            {
                "shipment_id": f"{tag or uuid.uuid4().hex[:8]}-{i}",
                "origin": o,
                "destination": d,
                "mass_t": rng.randint(2, 20),
                "ready_at": "2026-12-01T00:00:00Z",
                "due_at": "2027-01-25T00:00:00Z",
            }
        )
    return {"shipments": ships, "name": tag or "load"}


# ----------------------------------------------------------------------------- load


@dataclass(frozen=True, slots=True)
class Sample:
    """One request: endpoint label, HTTP status (0 = no answer), seconds, error text."""

    endpoint: str
    status: int
    seconds: float
    error: str = ""


@dataclass
class LoadReport:
    """All samples of a run and its wall time [s]."""

    samples: list[Sample] = field(default_factory=list)
    wall_s: float = 0.0
    clients: int = 0

    @property
    def errors(self) -> list[Sample]:
        """Samples without a 2xx answer."""
        return [s for s in self.samples if not 200 <= s.status < 300]

    def table(self) -> list[dict[str, Any]]:
        """Per endpoint (and all): count, errors, req/s, p50/p95/p99/max [ms]."""
        groups: dict[str, list[Sample]] = {}
        for s in self.samples:
            groups.setdefault(s.endpoint, []).append(s)
        groups["all"] = list(self.samples)
        rows = []
        for name, items in groups.items():
            ms = sorted(s.seconds * 1000 for s in items)
            rows.append(
                {
                    "endpoint": name,
                    "requests": len(items),
                    "errors": sum(not 200 <= s.status < 300 for s in items),
                    "req_per_s": len(items) / self.wall_s if self.wall_s else 0.0,
                    "p50_ms": _pct(ms, 50),
                    "p95_ms": _pct(ms, 95),
                    "p99_ms": _pct(ms, 99),
                    "max_ms": ms[-1] if ms else 0.0,
                }
            )
        return rows

    def markdown(self) -> str:
        """The table as Markdown."""
        lines = [
            "| endpoint | requests | errors | req/s | p50 [ms] | p95 [ms] | p99 [ms] | max [ms] |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in self.table():
            lines.append(
                f"| {r['endpoint']} | {r['requests']} | {r['errors']} | "
                f"{r['req_per_s']:.1f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
                f"{r['p99_ms']:.0f} | {r['max_ms']:.0f} |"
            )
        return "\n".join(lines)


def _pct(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return 0.0
    k = max(0, min(len(sorted_ms) - 1, round(p / 100 * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[k]


MIX = (("POST /footprints", 0.45), ("GET /plans/{id}", 0.40), ("POST /plans", 0.15))
"""Default request mix of the load run."""


def run_load(
    base: str,
    tokens: Sequence[str],
    plan_id: str,
    *,
    clients: int = 50,
    duration_s: float = 10.0,
    mix: Sequence[tuple[str, float]] = MIX,
    seed: int = 0,
    timeout_s: float = 120.0,
) -> LoadReport:
    """``clients`` threads, each with its own token, loop over the mix for ``duration_s``.

    A request in flight at the deadline finishes (bounded by ``timeout_s``); no new one
    starts. Each client records every request.
    """
    chain = json.loads(DEMO_CHAIN.read_text(encoding="utf-8"))
    names = [m for m, _ in mix]
    weights = [w for _, w in mix]
    report = LoadReport(clients=clients)
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        token = tokens[i % len(tokens)]
        ops: dict[str, Callable[[], tuple[str, str, Any]]] = {
            "POST /footprints": lambda: ("POST", "/api/v1/footprints", chain),
            "GET /plans/{id}": lambda: ("GET", f"/api/v1/plans/{plan_id}", None),
            "POST /plans": lambda: ("POST", "/api/v1/plans", plan_body(rng)),
        }
        mine: list[Sample] = []
        start_gate.wait()
        while time.monotonic() < deadline[0]:
            name = rng.choices(names, weights)[0]
            method, path, body = ops[name]()
            t0 = time.perf_counter()
            try:
                status, _, payload = call(
                    base, method, path, body, bearer(token), timeout=timeout_s
                )
                err = "" if 200 <= status < 300 else payload[:200].decode(errors="replace")
            except NO_ANSWER as exc:
                status, err = 0, f"{type(exc).__name__}: {exc}"
            mine.append(Sample(name, status, time.perf_counter() - t0, err))
        with lock:
            report.samples.extend(mine)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    deadline[0] = t0 + duration_s
    start_gate.wait()
    for t in threads:
        t.join(timeout=duration_s + timeout_s + 30)
    report.wall_s = time.monotonic() - t0
    return report
