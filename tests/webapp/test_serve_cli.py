"""``greenlane serve``, ``init-db`` and ``create-token`` (webapp.cli_serve)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from webapp_helpers import BOOK_CSV, FAST, bearer, book

from greenlane.webapp import cli_serve


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Instance folder and database in tmp_path; a fixed secret; fast solver."""
    monkeypatch.setenv("GREENLANE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("GREENLANE_SECRET_KEY", "cli-test")
    monkeypatch.setenv("GREENLANE_SOLVER_TIME_LIMIT_S", str(FAST["SOLVER_TIME_LIMIT_S"]))
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return {"url": url, "instance": str(tmp_path / "instance")}


def test_init_db_creates_the_tables(env):
    from sqlalchemy import create_engine, inspect

    result = CliRunner().invoke(cli_serve.init_db, [])
    assert result.exit_code == 0, result.output
    assert "database ready: sqlite" in result.output
    names = set(inspect(create_engine(env["url"])).get_table_names())
    assert {"api_tokens", "plans", "jobs", "idempotency", "shares"} <= names


def test_create_token_prints_a_working_token(env):
    from greenlane.webapp import create_app
    from greenlane.webapp.auth import authenticate
    from greenlane.webapp.db import engine_of

    result = CliRunner().invoke(cli_serve.create_token, ["--role", "partner", "--partner", "p1"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("gl_")
    who = authenticate(engine_of(create_app()), token)
    assert who is not None and who.role == "partner" and who.partner_id == "p1"


@pytest.mark.parametrize("args", [["--role", "partner"], ["--role", "planner", "--partner", "x"]])
def test_create_token_rejects_bad_combinations(env, args):
    result = CliRunner().invoke(cli_serve.create_token, args)
    assert result.exit_code == 2
    assert "error: partner_id" in result.output


def test_create_token_needs_a_known_role(env):
    result = CliRunner().invoke(cli_serve.create_token, ["--role", "admin"])
    assert result.exit_code == 2


def test_serve_demo_prints_a_token_and_plans_the_book(env, monkeypatch):
    from flask import Flask

    served = {}
    monkeypatch.setattr(Flask, "run", lambda self, **kw: served.update(kw))
    args = ["--demo", "--book", str(BOOK_CSV), "--port", "5999"]
    first = CliRunner().invoke(cli_serve.serve, args)
    assert first.exit_code == 0, first.output
    assert served == {"host": "127.0.0.1", "port": 5999, "threaded": True, "use_reloader": False}
    token = next(
        line.split(": ")[1]
        for line in first.output.splitlines()
        if line.startswith("planner token")
    )
    assert "demo plan: http://127.0.0.1:5999/plans/pl_" in first.output
    assert "partner demo-partner sees plan pl_" in first.output  # PACT demo share
    again = CliRunner().invoke(cli_serve.serve, args)
    assert f"planner token: {token}" in again.output  # same token on a restart
    assert "demo plan" not in again.output  # planned once
    assert "partner demo-partner sees plan pl_" in again.output  # the same share, kept


def test_serve_demo_never_shares_someone_elses_plan(env, monkeypatch):
    """On a database that already has plans, --demo plans nothing and shares nothing."""
    from flask import Flask

    from greenlane.webapp import create_app
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of, reading
    from greenlane.webapp.jobs import runner
    from greenlane.webapp.tables import shares

    app = create_app({"TESTING": True, "ASYNC_THRESHOLD_SHIPMENTS": 3})
    token = create_token(engine_of(app), "integration")[1]
    made = app.test_client().post(
        "/api/v1/plans", json={"shipments": book(1)}, headers=bearer(token)
    )
    assert made.status_code == 201, made.get_json()
    runner(app).shutdown()
    monkeypatch.setattr(Flask, "run", lambda self, **kw: None)
    out = CliRunner().invoke(cli_serve.serve, ["--demo", "--book", str(BOOK_CSV)])
    assert out.exit_code == 0, out.output
    assert "demo-partner" not in out.output
    with reading(engine_of(app)) as conn:
        assert list(conn.execute(shares.select())) == []


def test_create_token_of_an_organisation(env):
    from greenlane.webapp import create_app
    from greenlane.webapp.auth import authenticate
    from greenlane.webapp.db import engine_of

    result = CliRunner().invoke(cli_serve.create_token, ["--role", "planner", "--org", "acme"])
    assert result.exit_code == 0, result.output
    assert "organisation acme" in result.output
    who = authenticate(engine_of(create_app()), result.output.strip().splitlines()[-1])
    assert who is not None and who.organisation == "acme"
    bad = CliRunner().invoke(cli_serve.create_token, ["--role", "planner", "--org", "a b"])
    assert bad.exit_code == 2
    assert "error: organisation" in bad.output
