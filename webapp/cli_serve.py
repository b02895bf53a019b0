"""``greenlane serve``, ``greenlane init-db`` and ``greenlane create-token``.

``greenlane serve --demo`` is the one-command start: it creates the SQLite database in
``instance/``, a planner token (printed, and kept in ``instance/demo_token`` so a restart
prints the same one), plans the demo book once so there is something to look at, and serves
the app on localhost with Werkzeug's development server. ``greenlane serve --production``
serves it with waitress (a production WSGI server, pure Python) instead; put TLS in front
(a reverse proxy) and set ``GREENLANE_TRUSTED_PROXIES`` to the number of proxies.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from greenlane.emissions.errors import GreenlaneError


def _app(database_url: str | None) -> Any:
    from greenlane.webapp import create_app

    return create_app({"DATABASE_URL": database_url} if database_url else None)


_db_option = click.option(
    "--database-url",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL [default: $DATABASE_URL, else sqlite in instance/].",
)


@click.command("init-db")
@_db_option
def init_db(database_url: str | None) -> None:
    """Create the database tables (idempotent)."""
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.db import init_db as create_tables

    app = _app(database_url)
    create_tables(engine_of(app))
    click.echo(f"database ready: {engine_of(app).url.render_as_string(hide_password=True)}")


@click.command("create-token")
@click.option("--role", type=click.Choice(["planner", "integration", "partner"]), required=True)
@click.option("--partner", "partner_id", default=None, help="Partner id (partner tokens only).")
@click.option("--name", default="", help="A label for the token.")
@click.option(
    "--expires-days",
    type=click.FloatRange(min=0, min_open=True, max=3650),
    default=90,
    show_default=True,
    help="Days until the token is refused (rotate it to renew).",
)
@_db_option
def create_token(
    role: str, partner_id: str | None, name: str, expires_days: float, database_url: str | None
) -> None:
    """Create an API token and print it (only its sha256 is stored)."""
    from greenlane.webapp.auth import create_token as make
    from greenlane.webapp.auth import expiry
    from greenlane.webapp.db import engine_of

    app = _app(database_url)
    try:
        token_id, token = make(
            engine_of(app), role, name=name, partner_id=partner_id, expires_days=expires_days
        )
    except GreenlaneError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    until = expiry(expires_days).strftime("%Y-%m-%d %H:%M UTC")
    who = f"{role}{', partner ' + partner_id if partner_id else ''}"
    click.echo(f"token {token_id} ({who}; expires {until}):")
    click.echo(token)


def demo_token(app: Any) -> str:
    """The demo planner token kept in ``instance/demo_token`` (created once)."""
    from greenlane.webapp.auth import authenticate
    from greenlane.webapp.auth import create_token as make
    from greenlane.webapp.db import engine_of

    path = Path(app.instance_path) / "demo_token"
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if authenticate(engine_of(app), token) is not None:
            return token
    _, token = make(engine_of(app), "planner", name="demo planner")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token, encoding="utf-8")
    path.chmod(0o600)
    return token


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--demo",
    is_flag=True,
    help="Create a planner token and plan the demo book if there are no plans yet.",
)
@click.option(
    "--book",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Book planned by --demo [default: data/examples/shipments.csv].",
)
@click.option(
    "--production",
    is_flag=True,
    help="Serve with waitress (production WSGI server) instead of the dev server.",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Request threads of the production server.",
)
@_db_option
def serve(
    host: str,
    port: int,
    demo: bool,
    book: Path | None,
    database_url: str | None,
    production: bool,
    threads: int,
) -> None:
    """Serve the planner UI and the API (/api/v1) on HOST:PORT."""
    from greenlane.webapp.services import seed_demo

    app = _app(database_url)
    if demo:
        token = demo_token(app)
        with app.app_context():
            try:
                plan_id = seed_demo(token, book)
            except GreenlaneError as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(2)
        click.echo(f"planner token: {token}")
        if plan_id:
            click.echo(f"demo plan: http://{host}:{port}/plans/{plan_id}")
    click.echo(f"greenlane on http://{host}:{port}/  (API docs: /api/v1/swagger)")
    if production:
        serve_production(app, host, port, threads)
    else:
        app.run(host=host, port=port, threaded=True, use_reloader=False)


def serve_production(app: Any, host: str, port: int, threads: int = 8) -> None:
    """Serve ``app`` with waitress until stopped (no ``Server`` banner, no tracebacks)."""
    from waitress import serve as waitress_serve

    click.echo(f"production server: waitress, {threads} threads")
    waitress_serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="",
        expose_tracebacks=False,
        clear_untrusted_proxy_headers=False,
    )


COMMANDS = (serve, init_db, create_token)
"""The commands the ``greenlane`` group registers."""
