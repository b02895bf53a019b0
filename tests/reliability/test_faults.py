"""kill -9 the server while it writes, restart it, and check the database and the promises.

Rounds are seeded and bounded: a few writer threads post plans (each with its own
``Idempotency-Key``) until the server is killed at a random moment; then the server restarts
on the same SQLite file and the test checks that

* the database is intact (``PRAGMA integrity_check``) and nothing is half-written: every
  plan row is complete and self-consistent, no job is left queued or running, no
  ``Idempotency-Key`` is left reserved;
* no accepted request is lost: every 201/202 answer is still there, and a retry with the
  same key replays it (``Idempotent-Replayed: true``, same id);
* a request that got no answer can be retried with its key and then succeeds.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from harness import NO_ANSWER, Server, bearer, call, make_tokens, plan_body

ROUNDS = 2
WRITERS = 6


@dataclass
class Sent:
    key: str
    body: dict[str, Any]
    status: int = 0
    answer: dict[str, Any] | None = None


def _writers(
    server: Server, token: str, seed: int, stop: threading.Event, out: list[Sent], n_ship: int = 1
) -> list[threading.Thread]:
    def run(i: int) -> None:
        rng = random.Random(seed * 100 + i)
        for _ in range(50):  # bounded; the kill ends it sooner
            if stop.is_set():
                return
            tag = f"r{seed}w{i}-{uuid.uuid4().hex[:6]}"
            sent = Sent(str(uuid.uuid4()), plan_body(rng, n_ship, tag))
            out.append(sent)
            try:
                status, _, body = call(
                    server.base,
                    "POST",
                    "/api/v1/plans",
                    sent.body,
                    bearer(token, **{"Idempotency-Key": sent.key}),
                    timeout=60,
                )
            except NO_ANSWER:
                return  # the server died under us: this request has no answer
            sent.status = status
            sent.answer = json.loads(body) if body else None

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(WRITERS)]
    for t in threads:
        t.start()
    return threads


def kill_mid_write(
    server: Server,
    answered: Callable[[], int],
    at_least: int,
    seed: int,
    spread_s: float,
    stop: threading.Event,
    threads: list[threading.Thread],
) -> None:
    """Wait for ``at_least`` answers (30 s at most), kill -9 the server at a seeded moment
    within ``spread_s`` [s] while the writers go on, stop them and restart the server."""
    deadline = time.monotonic() + 30
    while answered() < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(random.Random(seed).uniform(0.0, spread_s))
    server.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=70)
    server.start()


def db_rows(path: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def check_database(path: Path) -> dict[str, int]:
    """Integrity, complete plans, settled jobs, no reserved keys; returns counts."""
    assert db_rows(path, "PRAGMA integrity_check")[0][0] == "ok"
    plans = db_rows(path, "SELECT id, status, request, result, footprints FROM plans")
    for p in plans:
        result, request = json.loads(p["result"]), json.loads(p["request"])
        footprints = json.loads(p["footprints"])
        summary = result["summary"]
        assert summary["shipments_planned"] == len(result["shipments"]), p["id"]
        assert summary["shipments_unplanned"] == len(result["unplanned"]), p["id"]
        assert len(footprints) == len(result["shipments"]), p["id"]
        assert len(request["shipments"]) == len(result["shipments"]) + len(result["unplanned"])
    jobs = db_rows(path, "SELECT id, status, error, result_plan_id FROM jobs")
    for j in jobs:
        assert j["status"] in ("done", "failed"), dict(j)
        if j["status"] == "failed":
            assert json.loads(j["error"])["detail"], dict(j)
        else:
            assert j["result_plan_id"] in {p["id"] for p in plans} or j["result_plan_id"] is None
    reserved = db_rows(path, "SELECT key FROM idempotency WHERE status_code IS NULL")
    assert not reserved, f"{len(reserved)} Idempotency-Key(s) left reserved after restart"
    kept = " ".join(r[0] or "" for r in db_rows(path, "SELECT response_body FROM idempotency"))
    orphans = [p["id"] for p in plans if p["id"] not in kept]
    return {"plans": len(plans), "jobs": len(jobs), "plans_without_key": len(orphans)}


def check_promises(server: Server, token: str, sent: list[Sent]) -> dict[str, int]:
    """Answered requests replay; unanswered ones succeed when retried with their key."""
    answered = [s for s in sent if s.status]
    lost = [s for s in sent if not s.status]
    for s in answered:
        assert s.status == 201, (s.status, s.answer)
        assert s.answer is not None
        status, _, body = call(
            server.base, "GET", f"/api/v1/plans/{s.answer['id']}", headers=bearer(token)
        )
        assert status == 200
        assert json.loads(body)["summary"] == s.answer["summary"]
        status, headers, body = call(
            server.base,
            "POST",
            "/api/v1/plans",
            s.body,
            bearer(token, **{"Idempotency-Key": s.key}),
        )
        assert status == 201 and headers.get("idempotent-replayed") == "true"
        assert json.loads(body)["id"] == s.answer["id"]
    for s in lost:
        status, _, body = call(
            server.base,
            "POST",
            "/api/v1/plans",
            s.body,
            bearer(token, **{"Idempotency-Key": s.key}),
        )
        assert status == 201, (status, body[:300])
        status, headers, again = call(
            server.base,
            "POST",
            "/api/v1/plans",
            s.body,
            bearer(token, **{"Idempotency-Key": s.key}),
        )
        assert status == 201 and headers.get("idempotent-replayed") == "true"
        assert json.loads(again)["id"] == json.loads(body)["id"]
    return {"answered": len(answered), "unanswered": len(lost)}


def test_kill_9_during_plan_writes(tmp_path: Path, record_property) -> None:
    """ROUNDS kill/restart cycles on one database; all checks after every restart."""
    server = Server(tmp_path / "srv")
    token = make_tokens(server.database_url, [("integration", None)])[0]
    server.start()
    totals: dict[str, int] = {}
    try:
        for seed in range(ROUNDS):
            sent: list[Sent] = []
            stop = threading.Event()
            threads = _writers(server, token, seed, stop, sent)
            kill_mid_write(
                server,
                lambda sent=sent: sum(s.status == 201 for s in sent),
                2,
                seed,
                1.5,
                stop,
                threads,
            )
            check_database(server.db_path)
            counts = check_promises(server, token, sent)
            counts.update(check_database(server.db_path))
            print(f"round {seed}: {counts}")
            assert counts["answered"] >= 2
            assert counts["plans_without_key"] == 0  # every plan is some key's answer
            for k in ("answered", "unanswered"):
                totals[k] = totals.get(k, 0) + counts[k]
            totals["plans"] = counts["plans"]
            totals["plans_without_key"] = counts["plans_without_key"]
    finally:
        server.stop()
    for k, v in totals.items():
        record_property(k, v)
    assert totals["unanswered"] >= 1, "no kill landed mid-request"


def test_kill_9_during_a_job_fails_it_with_a_reason(tmp_path: Path) -> None:
    """An accepted job (202) survives a kill: it is failed with a reason, never lost, and the
    key replays the same job."""
    server = Server(tmp_path / "srv")
    token = make_tokens(server.database_url, [("integration", None)])[0]
    server.start()
    try:
        body = plan_body(random.Random(7), 12, "job")
        body["async"] = True
        key = str(uuid.uuid4())
        status, headers, answer = call(
            server.base, "POST", "/api/v1/plans", body, bearer(token, **{"Idempotency-Key": key})
        )
        assert status == 202, answer
        job_id = json.loads(answer)["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            _, _, doc = call(server.base, "GET", f"/api/v1/jobs/{job_id}", headers=bearer(token))
            if json.loads(doc)["status"] != "queued":
                break
            time.sleep(0.05)
        server.kill9()
        server.start()
        check_database(server.db_path)
        _, _, doc = call(server.base, "GET", f"/api/v1/jobs/{job_id}", headers=bearer(token))
        job = json.loads(doc)
        assert job["status"] in ("done", "failed")
        if job["status"] == "failed":
            assert "server stopped" in job["error"]["detail"]
        status, headers, again = call(
            server.base, "POST", "/api/v1/plans", body, bearer(token, **{"Idempotency-Key": key})
        )
        assert status == 202 and headers.get("idempotent-replayed") == "true"
        assert json.loads(again)["id"] == job_id
    finally:
        server.stop()


# ----------------------------------------------------------------------------- certificates


def _has_retirement(server: Server) -> bool:
    _, _, doc = call(server.base, "GET", "/api/v1/openapi.json")
    return "/api/v1/certificates/{certificate_id}/retire" in json.loads(doc).get("paths", {})


def test_kill_9_during_certificate_retirement(tmp_path: Path, record_property) -> None:
    """Writers register and retire certificates; kill -9; the hash chain still verifies, every
    answered retirement stands and replays, every serial is retired at most once."""
    server = Server(tmp_path / "srv")
    token = make_tokens(server.database_url, [("planner", None)])[0]
    server.start()
    try:
        if not _has_retirement(server):
            pytest.skip("no certificate retirement endpoint in this build (ledger absent)")
        totals = {"answered": 0, "unanswered": 0}
        for seed in range(ROUNDS):
            log: list[dict[str, Any]] = []
            stop = threading.Event()

            def run(
                i: int,
                seed: int = seed,
                log: list[dict[str, Any]] = log,
                stop: threading.Event = stop,
            ) -> None:
                for n in range(60):  # bounded; the kill ends it sooner
                    if stop.is_set():
                        return
                    serial = f"S{seed}-{i}-{n}-{uuid.uuid4().hex[:6]}"
                    reg = {
                        "key": str(uuid.uuid4()),
                        "path": "/api/v1/certificates",
                        "body": {
                            "registry": "RSB",
                            "serial": serial,
                            "kind": "saf",
                            "volume": 10,
                            "unit": "t",
                            "vintage": 2026,
                        },
                    }
                    log.append(reg)
                    try:
                        reg["status"], _, b = call(
                            server.base,
                            "POST",
                            reg["path"],
                            reg["body"],
                            bearer(token, **{"Idempotency-Key": reg["key"]}),
                            timeout=60,
                        )
                    except NO_ANSWER:
                        return
                    assert reg["status"] == 201, b[:300]
                    cid = json.loads(b)["id"]
                    ret = {
                        "key": str(uuid.uuid4()),
                        "cid": cid,
                        "path": f"/api/v1/certificates/{cid}/retire",
                        "body": {"claim_year": 2026, "beneficiary": f"w{i}"},
                    }
                    log.append(ret)
                    try:
                        ret["status"], _, b = call(
                            server.base,
                            "POST",
                            ret["path"],
                            ret["body"],
                            bearer(token, **{"Idempotency-Key": ret["key"]}),
                            timeout=60,
                        )
                    except NO_ANSWER:
                        return
                    ret["answer"] = json.loads(b)

            threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(WRITERS)]
            for t in threads:
                t.start()
            kill_mid_write(
                server, lambda log=log: sum("answer" in e for e in log), 3, seed, 1.0, stop, threads
            )
            check_database(server.db_path)
            _, _, doc = call(server.base, "GET", "/api/v1/ledger/verify", headers=bearer(token))
            verdict = json.loads(doc)
            assert verdict["intact"], verdict["problems"][:5]
            for e in log:
                status, headers, body = call(
                    server.base,
                    "POST",
                    e["path"],
                    e["body"],
                    bearer(token, **{"Idempotency-Key": e["key"]}),
                )
                if e.get("status"):
                    totals["answered"] += 1
                    assert status == e["status"] and headers.get("idempotent-replayed") == "true"
                    if "answer" in e:
                        assert json.loads(body) == e["answer"]
                    continue
                totals["unanswered"] += 1
                # done once: either it committed with its answer (replayed) or not at all
                assert status in (200, 201), body[:300]
            for e in log:
                if "cid" in e:
                    _, _, doc = call(
                        server.base,
                        "GET",
                        f"/api/v1/certificates/{e['cid']}",
                        headers=bearer(token),
                    )
                    cert = json.loads(doc)
                    assert cert["status"] == "retired", cert
            rows = db_rows(
                server.db_path,
                "SELECT certificate_id, COUNT(*) AS n FROM "
                "certificate_retirements GROUP BY certificate_id",
            )
            assert all(r["n"] == 1 for r in rows)
            _, _, doc = call(server.base, "GET", "/api/v1/ledger/verify", headers=bearer(token))
            assert json.loads(doc)["intact"]
    finally:
        server.stop()
    for k, v in totals.items():
        record_property(k, v)
    print(f"certificate rounds: {totals}")
    assert totals["answered"] >= 3


class _Stop(Exception):
    """The process 'dies' at this point."""


def _plans(app: Any) -> list[str]:
    from sqlalchemy import select

    from greenlane.webapp.db import engine_of
    from greenlane.webapp.tables import plans

    with engine_of(app).connect() as conn:
        return [r.id for r in conn.execute(select(plans.c.id))]


@pytest.mark.parametrize("moment", ["before_commit", "after_commit"])
def test_a_stop_between_commit_and_answer_does_not_duplicate(
    tmp_path: Path, monkeypatch, moment: str
) -> None:
    """Deterministic version of the commit window. The work and the key's answer are one
    transaction (``webapp.db.RequestUnit``): the process 'dies' just before that commit
    (nothing is kept; the retry plans once) or just after it, before the client hears the
    answer (the retry replays the stored answer: same plan, no second one)."""
    from greenlane.webapp import create_app
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import RequestUnit, engine_of
    from greenlane.webapp.jobs import runner

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = {"TESTING": True, "SECRET_KEY": "t", "SOLVER_TIME_LIMIT_S": 2.0, "DATABASE_URL": url}
    app = create_app(config)
    token = create_token(engine_of(app), "integration")[1]
    headers = bearer(token, **{"Idempotency-Key": "once"})
    body = plan_body(random.Random(3), 1, "window")
    commit_writes = RequestUnit.commit_writes

    def stop(unit: RequestUnit) -> None:
        if moment == "before_commit":
            unit.rollback()  # what the database does with an uncommitted transaction
        else:
            commit_writes(unit)
        raise _Stop

    with monkeypatch.context() as m:
        m.setattr(RequestUnit, "commit_writes", stop)
        with pytest.raises(_Stop):
            app.test_client().post("/api/v1/plans", json=body, headers=headers)
    kept = _plans(app)
    assert len(kept) == (0 if moment == "before_commit" else 1)
    runner(app).shutdown()
    engine_of(app).dispose()
    app = create_app(config)  # the restart frees a key left reserved
    try:
        retry = app.test_client().post("/api/v1/plans", json=body, headers=headers)
        assert retry.status_code == 201
        assert len(_plans(app)) == 1
        if moment == "after_commit":
            assert retry.headers.get("Idempotent-Replayed") == "true"
            assert retry.get_json()["id"] == kept[0]
        again = app.test_client().post("/api/v1/plans", json=body, headers=headers)
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.get_json()["id"] == retry.get_json()["id"]
    finally:
        runner(app).shutdown()
        engine_of(app).dispose()
