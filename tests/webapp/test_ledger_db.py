"""The ledger's guarantees held by the database itself, on SQLite and PostgreSQL: entries are
append-only, a certificate serial retires once, a retired certificate is final, concurrent
appends keep one unbroken chain, and stored entries re-hash exactly after the round trip.

PostgreSQL: ``GREENLANE_TEST_DATABASE_URL`` or ``postgresql://postgres@127.0.0.1:5432/test``,
in a throw-away schema; skipped with the reason when the server cannot be reached.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from webapp_helpers import bearer, book, close_app, make_app


@pytest.fixture
def lapp(db_url: str) -> Iterator[Any]:
    """An app on the backend under test."""
    app = make_app(db_url)
    yield app
    close_app(app)


@pytest.fixture
def h(lapp: Any) -> dict[str, str]:
    """Planner auth headers."""
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    return bearer(create_token(engine_of(lapp), "planner")[1])


def _certificate(client: Any, h: dict[str, str], serial: str = "CCER-9") -> str:
    resp = client.post(
        "/api/v1/certificates",
        json={
            "registry": "CCER",
            "serial": serial,
            "kind": "carbon_credit",
            "volume": 2.5,
            "unit": "tCO2e",
            "vintage": 2025,
            "note": "减排量 · ünïcode",
        },
        headers=h,
    )
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["id"])


def test_entries_are_append_only(lapp, h):
    from greenlane.webapp.db import engine_of

    client = lapp.test_client()
    _certificate(client, h)
    engine = engine_of(lapp)
    for sql in ("UPDATE ledger_entries SET kind = 'plan'", "DELETE FROM ledger_entries"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE ledger_entries"))
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from ledger_entries")).scalar_one() == 1


def test_a_serial_retires_once_by_database_constraint(lapp, h):
    from greenlane.webapp.db import engine_of, utcnow
    from greenlane.webapp.tables import certificate_retirements

    client = lapp.test_client()
    cid = _certificate(client, h)
    first = client.post(f"/api/v1/certificates/{cid}/retire", json={"claim_year": 2026}, headers=h)
    assert first.status_code == 200
    again = client.post(f"/api/v1/certificates/{cid}/retire", json={"claim_year": 2026}, headers=h)
    assert again.status_code == 409
    engine = engine_of(lapp)
    # writing around the application: the UNIQUE (registry, serial) constraint still holds
    other = _certificate(client, h, serial="CCER-10")
    with pytest.raises(IntegrityError, match="retirements"), engine.begin() as conn:
        conn.execute(
            certificate_retirements.insert().values(
                certificate_id=other,
                registry="CCER",
                serial="CCER-9",
                claim_year=2027,
                beneficiary="double",
                retired_at=utcnow(),
            )
        )
    # and a retirement row can be neither edited nor deleted, nor the retired certificate
    for sql in (
        "UPDATE certificate_retirements SET claim_year = 2030",
        "DELETE FROM certificate_retirements",
        "UPDATE certificates SET status = 'held' WHERE serial = 'CCER-9'",
        "DELETE FROM certificates WHERE serial = 'CCER-9'",
    ):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(sql))
    verdict = client.get("/api/v1/ledger/verify", headers=h).get_json()
    assert verdict["intact"], verdict["problems"]


def test_entries_rehash_exactly_after_the_round_trip(lapp, h):
    from greenlane.emissions.ledger import entry_hash, verify_chain
    from greenlane.webapp.db import engine_of, transaction
    from greenlane.webapp.ledger.chain import entries

    client = lapp.test_client()
    plan = client.post("/api/v1/plans", json={"shipments": book(1)}, headers=h).get_json()
    assert client.post(f"/api/v1/plans/{plan['id']}/accept", headers=h).status_code == 200
    _certificate(client, h)
    resp = client.post(
        "/api/v1/shipments/S1/actuals",
        json={
            "completed_at": "2026-06-30T23:59:59.123456+08:00",
            "mass_t": 4.0,
            "legs": [
                {
                    "mode": "road",
                    "distance_km": 123.456789,
                    "energy": [
                        {
                            "carrier": "diesel_b7",
                            "amount": 41.7,
                            "unit": "l",
                            "share_of_vehicle": 0.3333,
                        }
                    ],
                    "carrier": "南京运输",
                },
                {
                    "mode": "sea",
                    "distance_km": 18000.5,
                    "toc": {"toc_id": "sea_container_avg_desnz"},
                },
            ],
        },
        headers=h,
    )
    assert resp.status_code == 201, resp.get_json()
    with transaction(engine_of(lapp)) as conn:
        chain = [e for _, e in entries(conn)]
    assert [e.kind for e in chain] == ["plan", "certificate", "actual"]
    assert verify_chain(chain) == []
    for e in chain:
        assert entry_hash(e.prev_hash, e.seq, e.kind, e.payload, e.created_at) == e.hash
    assert client.get("/api/v1/ledger/verify", headers=h).get_json()["intact"]
    kpi = client.get("/api/v1/ledger/kpi?by=carrier", headers=h).get_json()
    assert "南京运输" in {r["value"] for r in kpi["rows"]}
    assert kpi["rows"][0]["period"] == "2026"  # 23:59 +08:00 is still 30 June in UTC


def test_concurrent_appends_keep_one_chain(lapp):
    from greenlane.webapp.db import engine_of, transaction
    from greenlane.webapp.ledger.audit import verify
    from greenlane.webapp.ledger.chain import in_ledger_transaction
    from greenlane.webapp.ledger.reporting import set_baseline

    engine = engine_of(lapp)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(4):
                in_ledger_transaction(
                    lambda conn, v=30.0 + k + i / 10: set_baseline(
                        conn,
                        baseline_year=2023,
                        intensity_g_per_tkm=v,
                        target_year=2030,
                        reduction_share=0.2,
                        source=f"thread {k}",
                    ),
                    engine,
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with transaction(engine) as conn:
        result = verify(conn)
    assert result["intact"], result["problems"]
    assert result["entries"] == 12
