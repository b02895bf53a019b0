"""``Idempotency-Key`` atomicity on SQLite and PostgreSQL: an idempotent request's writes and
its stored answer commit in **one** transaction, on every idempotent route.

The engine's statements are recorded per transaction (request thread only). For each route
the request makes exactly two write transactions: the key's reservation, then the work
together with ``UPDATE idempotency`` (the answer). A stop just before that commit leaves
nothing behind (the retry does the work once); the answer is then replayed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from webapp_helpers import bearer, book, close_app, make_app, shipment, wait_job

LANE = "F-NANJING>C-MADRID"
LEGS = [
    {
        "mode": "road",
        "distance_km": 300,
        "carrier": "Nanjing Trucking",
        "energy": [{"carrier": "diesel_b7", "amount": 120, "unit": "l", "share_of_vehicle": 0.5}],
    },
    {
        "mode": "rail",
        "distance_km": 350,
        "carrier": "Renfe",
        "vehicle": {"type": "train_electric_container", "carrier": "electricity_es"},
    },
]
WINDOW = {"start": "2026-11-01T00:00:00Z", "end": "2027-06-01T00:00:00Z"}


class Recorder:
    """Write statements of committed transactions, per connection, in the test's thread."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.thread = threading.get_ident()
        self.open: dict[int, list[str]] = {}
        self.committed: list[list[str]] = []
        event.listen(engine, "after_cursor_execute", self._execute)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _execute(self, conn: Any, _cur: Any, statement: str, *_a: Any) -> None:
        verb = statement.lstrip()[:6].upper()
        if threading.get_ident() == self.thread and verb in ("INSERT", "UPDATE", "DELETE"):
            table = (
                statement.split()[2].strip('"')
                if verb != "UPDATE"
                else (statement.split()[1].strip('"'))
            )
            self.open.setdefault(id(conn), []).append(f"{verb} {table}")

    def _commit(self, conn: Any) -> None:
        writes = self.open.pop(id(conn), [])
        if writes:
            self.committed.append(writes)

    def _rollback(self, conn: Any) -> None:
        self.open.pop(id(conn), None)

    def close(self) -> None:
        event.remove(self.engine, "after_cursor_execute", self._execute)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)


@pytest.fixture
def world(db_url: str) -> Iterator[dict[str, Any]]:
    """An app on the backend under test, a planner token, an accepted plan with S1 on
    Nanjing -> Madrid, a second plan (sea, for disruptions) and a registered certificate."""
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    app = make_app(db_url, ASYNC_THRESHOLD_SHIPMENTS=3)
    token = create_token(engine_of(app), "planner")[1]
    c = app.test_client()
    h = bearer(token)
    plan = c.post("/api/v1/plans", json={"shipments": book(2)}, headers=h).get_json()
    assert c.post(f"/api/v1/plans/{plan['id']}/accept", headers=h).status_code == 200
    sea = c.post(
        "/api/v1/plans",
        headers=h,
        json={
            "shipments": [
                shipment(
                    "SEA",
                    "CNSHA",
                    "ESVLC",
                    10,
                    due_at="2027-02-19T00:00:00Z",
                    allowed_modes=["sea"],
                )
            ],
            "options": {"time_limit_s": 5},
        },
    )
    assert sea.status_code == 201, sea.get_json()
    cert = c.post(
        "/api/v1/certificates",
        headers=h,
        json={
            "registry": "RSB",
            "serial": "W-1",
            "kind": "saf",
            "volume": 5,
            "unit": "t",
            "vintage": 2026,
        },
    )
    assert cert.status_code == 201, cert.get_json()
    yield {
        "app": app,
        "client": c,
        "token": token,
        "plan": plan["id"],
        "sea": sea.get_json()["id"],
        "cert": cert.get_json()["id"],
    }
    close_app(app)


def routes(w: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any] | None, str]]:
    """Every idempotent POST that writes: (path, body, a table it writes)."""
    plan, cert = w["plan"], w["cert"]
    return {
        "plan": ("/api/v1/plans", {"shipments": book(1)}, "plans"),
        "plan_job": ("/api/v1/plans", {"shipments": book(1), "async": True}, "jobs"),
        "accept": (f"/api/v1/plans/{w['sea']}/accept", None, "ledger_entries"),
        "share": (f"/api/v1/plans/{plan}/shares", {"partner_id": "carrier-a"}, "shares"),
        "disruption": (
            f"/api/v1/plans/{w['sea']}/disruptions",
            {"disruptions": [{"disruption_id": "RS", "kind": "passage", "ref": "suez", **WINDOW}]},
            "plans",
        ),
        "certificate": (
            "/api/v1/certificates",
            {
                "registry": "RSB",
                "serial": "N-1",
                "kind": "saf",
                "volume": 5,
                "unit": "t",
                "vintage": 2026,
            },
            "certificates",
        ),
        "assign": (f"/api/v1/certificates/{cert}/assign", {"lane": LANE}, "ledger_entries"),
        "retire": (
            f"/api/v1/certificates/{cert}/retire",
            {"lane": LANE, "claim_year": 2026},
            "certificate_retirements",
        ),
        "actual": (
            "/api/v1/shipments/S1/actuals",
            {"completed_at": "2026-03-10T12:00:00Z", "mass_t": 10, "legs": LEGS},
            "actual_shipments",
        ),
        "baseline": (
            "/api/v1/ledger/baseline",
            {"baseline_year": 2023, "intensity_g_per_tkm": 40},
            "ledger_entries",
        ),
    }


ROUTES = [
    "plan",
    "plan_job",
    "accept",
    "share",
    "disruption",
    "certificate",
    "assign",
    "retire",
    "actual",
    "baseline",
]


def _count(app: Any, table: str) -> int:
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.tables import metadata

    with engine_of(app).connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(metadata.tables[table])).scalar_one()
        )


@pytest.mark.parametrize("route", ROUTES)
def test_work_and_answer_commit_together(world, route):
    from greenlane.webapp.db import engine_of

    path, body, table = routes(world)[route]
    h = bearer(world["token"], **{"Idempotency-Key": f"k-{route}"})
    before = _count(world["app"], table)
    rec = Recorder(engine_of(world["app"]))
    try:
        resp = world["client"].post(path, json=body, headers=h)
    finally:
        rec.close()
    assert resp.status_code in (200, 201, 202), resp.get_json()
    assert _count(world["app"], table) > before
    assert len(rec.committed) == 2, rec.committed
    reserve, work = rec.committed
    assert reserve == ["INSERT idempotency"]
    assert work[-1] == "UPDATE idempotency", work
    assert any(w.endswith(f" {table}") for w in work), work
    again = world["client"].post(path, json=body, headers=h)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.status_code == resp.status_code and again.data == resp.data
    if route == "plan_job":
        done = wait_job(world["client"], resp.headers["Location"], bearer(world["token"]))
        assert done["status"] == "done"


class Crash(Exception):
    """The process 'dies' here."""


@pytest.mark.parametrize("route", ["plan", "plan_job", "retire", "actual"])
def test_a_stop_before_the_commit_leaves_nothing_and_the_retry_works_once(
    world, route, monkeypatch
):
    from greenlane.webapp.db import RequestUnit, engine_of
    from greenlane.webapp.tables import idempotency

    path, body, table = routes(world)[route]
    h = bearer(world["token"], **{"Idempotency-Key": f"crash-{route}"})
    counts = {t: _count(world["app"], t) for t in (table, "ledger_entries", "plans", "jobs")}

    def die(self: RequestUnit) -> None:
        self.rollback()  # what the database does with an uncommitted transaction
        raise Crash

    with monkeypatch.context() as m:
        m.setattr(RequestUnit, "commit_writes", die)
        with pytest.raises(Crash):
            world["client"].post(path, json=body, headers=h)
    assert {t: _count(world["app"], t) for t in counts} == counts
    with engine_of(world["app"]).connect() as conn:
        assert (
            conn.execute(select(idempotency).where(idempotency.c.key == f"crash-{route}")).first()
            is None
        )
    first = world["client"].post(path, json=body, headers=h)
    assert first.status_code in (200, 201, 202), first.get_json()
    assert _count(world["app"], table) == counts[table] + 1
    again = world["client"].post(path, json=body, headers=h)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.data == first.data
    assert _count(world["app"], table) == counts[table] + 1


def test_a_failed_request_rolls_back_its_writes(world, monkeypatch):
    """An error after the work's writes (a 5xx) leaves nothing and frees the key."""
    from greenlane.webapp import services

    h = bearer(world["token"], **{"Idempotency-Key": "boom"})
    before = _count(world["app"], "plans")

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("serialisation failed")

    world["app"].config["PROPAGATE_EXCEPTIONS"] = False
    with monkeypatch.context() as m:
        m.setattr(services, "get_plan_json", broken)
        resp = world["client"].post("/api/v1/plans", json={"shipments": book(1)}, headers=h)
    assert resp.status_code == 500
    assert _count(world["app"], "plans") == before
    retry = world["client"].post("/api/v1/plans", json={"shipments": book(1)}, headers=h)
    assert retry.status_code == 201 and _count(world["app"], "plans") == before + 1


def test_without_a_key_each_block_commits_on_its_own(world):
    from greenlane.webapp.db import engine_of

    rec = Recorder(engine_of(world["app"]))
    try:
        resp = world["client"].post(
            "/api/v1/plans", json={"shipments": book(1)}, headers=bearer(world["token"])
        )
    finally:
        rec.close()
    assert resp.status_code == 201
    assert rec.committed == [["INSERT plans"]]
