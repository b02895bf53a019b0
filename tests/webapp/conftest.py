"""Fixtures of the web app tests (flaskr style): app, client, tokens, a stored plan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pg_schema import fresh_pg_schema
from webapp_helpers import bearer, book, close_app, make_app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    """A fresh app on a temporary SQLite file."""
    app = make_app(f"sqlite:///{tmp_path / 'greenlane.sqlite'}")
    yield app
    close_app(app)


@pytest.fixture
def client(app: Any) -> Any:
    """The app's test client."""
    return app.test_client()


@pytest.fixture
def tokens(app: Any) -> dict[str, str]:
    """One token per role, and two partners (carrier-a, carrier-b)."""
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    engine = engine_of(app)
    return {
        "planner": create_token(engine, "planner")[1],
        "integration": create_token(engine, "integration")[1],
        "partner_a": create_token(engine, "partner", partner_id="carrier-a")[1],
        "partner_b": create_token(engine, "partner", partner_id="carrier-b")[1],
    }


@pytest.fixture
def auth(tokens: dict[str, str]) -> Any:
    """``auth("planner")`` -> headers for that role's token."""
    return lambda role="planner", **h: bearer(tokens[role], **h)


@pytest.fixture
def planned(client: Any, auth: Any) -> dict[str, Any]:
    """A stored plan of a two-shipment book (the POST /plans answer)."""
    resp = client.post(
        "/api/v1/plans", json={"shipments": book(2), "name": "two"}, headers=auth("integration")
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL per backend (PostgreSQL in a throw-away schema, skipped if absent)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'backend.sqlite'}"
        return
    with fresh_pg_schema("gl_test") as url:
        yield url
