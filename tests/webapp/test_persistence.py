"""Persistence on SQLite (always) and PostgreSQL (when reachable): tables, tokens, plans
stored losslessly and recomputable, atomic writes, jobs, idempotency rows, shares.

PostgreSQL: ``GREENLANE_TEST_DATABASE_URL`` or ``postgresql://postgres@127.0.0.1:5432/test``;
each run works in its own schema, dropped afterwards. Skipped with the reason when the
server cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from webapp_helpers import bearer, book, close_app, make_app, wait_job


@pytest.fixture
def papp(db_url: str) -> Iterator[Any]:
    """An app on the backend under test."""
    app = make_app(db_url)
    yield app
    close_app(app)


@pytest.fixture
def ptoken(papp: Any) -> str:
    """A planner token."""
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    return create_token(engine_of(papp), "planner")[1]


def rows(app: Any, table: Any) -> int:
    from greenlane.webapp.db import engine_of

    with engine_of(app).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_tables_are_created(papp):
    from greenlane.webapp.db import engine_of

    names = set(inspect(engine_of(papp)).get_table_names())
    assert {"api_tokens", "plans", "jobs", "idempotency", "shares"} <= names


def test_backend_is_the_one_asked_for(papp, db_url):
    from greenlane.webapp.db import engine_of

    expected = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    assert engine_of(papp).dialect.name == expected


def test_token_round_trip_and_revocation(papp):
    from greenlane.webapp.auth import authenticate, create_token
    from greenlane.webapp.db import engine_of, transaction, utcnow
    from greenlane.webapp.tables import api_tokens

    engine = engine_of(papp)
    token_id, token = create_token(engine, "partner", partner_id="port-x")
    who = authenticate(engine, token)
    assert who is not None and who.partner_id == "port-x" and who.is_partner
    with transaction(engine) as conn:
        conn.execute(
            api_tokens.update().where(api_tokens.c.id == token_id).values(revoked_at=utcnow())
        )
    assert authenticate(engine, token) is None


def test_plan_is_stored_losslessly_and_recomputable(papp, ptoken):
    from greenlane.routing import load_network, plan
    from greenlane.webapp import services, store
    from greenlane.webapp.db import engine_of, transaction

    client = papp.test_client()
    resp = client.post("/api/v1/plans", json={"shipments": book(2)}, headers=bearer(ptoken))
    assert resp.status_code == 201
    plan_id = resp.get_json()["id"]
    with transaction(engine_of(papp)) as conn:
        row = store.get_plan(conn, plan_id)
    stored = store.footprints_from_json(row.footprints)
    assert [f.shipment_id for f in stored] == ["S1", "S2"]
    assert any(len(t.geometry) > 2 for f in stored for t in f.tces)
    assert row.created_at is not None
    # Same request, same data, seed 0, one worker: the same footprints.
    net = load_network()
    again = plan(
        services.shipments_of(row.request, net), net, services.plan_options(row.request["options"])
    )
    assert [s.footprint for s in again.shipments] == stored
    # the stored hashes are the plan's plus the dataset planned on (the shipped tables here)
    assert dict(row.data_sha256) == {"dataset": row.data_sha256["dataset"], **again.data_sha256}
    assert (
        client.get(f"/api/v1/plans/{plan_id}", headers=bearer(ptoken))
        .get_json()["created_at"]
        .endswith("+00:00")
    )


def test_a_failed_write_leaves_nothing(papp, monkeypatch):
    from greenlane.routing import load_network, parse_shipments, plan
    from greenlane.webapp import store
    from greenlane.webapp.db import engine_of, transaction
    from greenlane.webapp.tables import plans

    net = load_network()
    p = plan(parse_shipments(book(1)), net)
    with pytest.raises(RuntimeError), transaction(engine_of(papp)) as conn:
        store.insert_plan(conn, p, {"shipments": book(1)})
        raise RuntimeError("crash after the insert")
    assert rows(papp, plans) == 0


def test_job_that_fails_while_storing_leaves_no_plan(papp, ptoken, monkeypatch):
    from greenlane.webapp import store
    from greenlane.webapp.tables import plans

    real = store.set_job

    def flaky(conn, job_id, **values):
        if values.get("status") == "done":
            raise RuntimeError("disk full")
        return real(conn, job_id, **values)

    monkeypatch.setattr(store, "set_job", flaky)
    client = papp.test_client()
    resp = client.post(
        "/api/v1/plans", json={"shipments": book(1), "async": True}, headers=bearer(ptoken)
    )
    job = wait_job(client, resp.headers["Location"], bearer(ptoken))
    assert job["status"] == "failed"
    assert "disk full" in job["error"]["detail"]
    assert rows(papp, plans) == 0


def test_idempotency_and_shares_persist(papp, ptoken):
    from greenlane.webapp.tables import idempotency, shares

    client = papp.test_client()
    h = bearer(ptoken, **{"Idempotency-Key": "persist-1"})
    first = client.post("/api/v1/plans", json={"shipments": book(1)}, headers=h)
    second = client.post("/api/v1/plans", json={"shipments": book(1)}, headers=h)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert rows(papp, idempotency) == 1
    plan_id = first.get_json()["id"]
    r = client.post(
        f"/api/v1/plans/{plan_id}/shares",
        json={"partner_id": "carrier-a", "shipment_ids": ["S1"]},
        headers=bearer(ptoken),
    )
    assert r.status_code == 201
    assert rows(papp, shares) == 1


def test_init_db_is_idempotent(papp):
    from greenlane.webapp.db import engine_of, init_db

    init_db(engine_of(papp))
    init_db(engine_of(papp))


def test_migrations_match_the_table_model(papp):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from greenlane.webapp.db import engine_of
    from greenlane.webapp.tables import metadata

    with engine_of(papp).connect() as conn:
        version = conn.execute(text("select version_num from alembic_version")).scalar_one()
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # 0001 initial, 0002 ledger, 0003 rate limits, 0004-0005 heartbeats, 0006 lever runs as jobs,
    # 0008 token expiry, UI sessions and report downloads, 0007 PACT clients (after 0008),
    # 0009 organisations and datasets
    assert version == "0009"
    assert diff == []


def test_tables_made_without_migrations_are_stamped(tmp_path):
    from greenlane.webapp.db import engine_of, make_engine
    from greenlane.webapp.tables import metadata

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = make_engine(url)
    metadata.create_all(old)
    old.dispose()
    app = make_app(url)
    try:
        with engine_of(app).connect() as conn:
            assert conn.execute(text("select version_num from alembic_version")).scalar_one()
    finally:
        close_app(app)
