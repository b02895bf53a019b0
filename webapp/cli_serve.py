"""``greenlane serve``, ``greenlane init-db`` and ``greenlane create-token``.

``greenlane serve --demo`` is the one-command start: it creates the SQLite database in
``instance/``, a planner token (printed, and kept in ``instance/demo_token`` so a restart
prints the same one), plans the demo book once so there is something to look at, and serves
the app on localhost with Werkzeug's development server. ``greenlane serve --production``
serves it with waitress (a production WSGI server, pure Python) instead; put TLS in front
(a reverse proxy) and set ``GREENLANE_TRUSTED_PROXIES`` to the number of proxies.

``--certfile``/``--keyfile`` make greenlane serve HTTPS itself (the port then speaks TLS
only, so a plain HTTP request is refused before it reaches the app): the development server
with an ``ssl`` context, or, with ``--production``, cheroot (CherryPy's production WSGI
server with a built-in TLS adapter) because waitress has no TLS. ``--demo`` also shares the
demo plan with partner ``demo-partner`` (``greenlane create-client --partner demo-partner``
makes a PACT client that sees it under ``/pact``).
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
    "--org",
    "organisation",
    default="default",
    show_default=True,
    help="Organisation whose plans and datasets the token sees.",
)
@click.option(
    "--expires-days",
    type=click.FloatRange(min=0, min_open=True, max=3650),
    default=90,
    show_default=True,
    help="Days until the token is refused (rotate it to renew).",
)
@_db_option
def create_token(
    role: str,
    partner_id: str | None,
    name: str,
    organisation: str,
    expires_days: float,
    database_url: str | None,
) -> None:
    """Create an API token and print it (only its sha256 is stored)."""
    from greenlane.webapp.auth import create_token as make
    from greenlane.webapp.auth import expiry
    from greenlane.webapp.db import engine_of

    app = _app(database_url)
    try:
        token_id, token = make(
            engine_of(app),
            role,
            name=name,
            partner_id=partner_id,
            expires_days=expires_days,
            organisation=organisation,
        )
    except GreenlaneError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    until = expiry(expires_days).strftime("%Y-%m-%d %H:%M UTC")
    who = f"{role}{', partner ' + partner_id if partner_id else ''}, organisation {organisation}"
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
@click.option(
    "--certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM certificate (chain): serve HTTPS on PORT (needs --keyfile).",
)
@click.option(
    "--keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM private key of --certfile.",
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
    certfile: Path | None,
    keyfile: Path | None,
) -> None:
    """Serve the planner UI, the API (/api/v1) and the PACT host (/pact) on HOST:PORT."""
    from greenlane.webapp.services import seed_demo

    if (certfile is None) != (keyfile is None):
        click.echo("error: --certfile and --keyfile go together", err=True)
        sys.exit(2)
    tls = _tls_context(certfile, keyfile) if certfile and keyfile else None
    scheme = "https" if tls else "http"
    app = _app(database_url)
    if demo:
        token = demo_token(app)
        with app.app_context():
            try:
                plan_id = seed_demo(token, book)
                shared = share_demo_plan(plan_id, token)
            except GreenlaneError as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(2)
        click.echo(f"planner token: {token}")
        if plan_id:
            click.echo(f"demo plan: {scheme}://{host}:{port}/plans/{plan_id}")
        if shared:
            click.echo(f"partner {DEMO_PARTNER} sees plan {shared} (PACT clients: /pact)")
    click.echo(f"greenlane on {scheme}://{host}:{port}/  (API docs: /api/v1/swagger, PACT: /pact)")
    if production and tls is not None:
        assert certfile is not None and keyfile is not None
        serve_production_tls(app, host, port, certfile, keyfile, threads)
    elif production:
        serve_production(app, host, port, threads)
    else:
        run: dict[str, Any] = {"ssl_context": tls} if tls is not None else {}
        app.run(host=host, port=port, threaded=True, use_reloader=False, **run)


DEMO_PARTNER = "demo-partner"
"""The partner ``serve --demo`` shares the demo plan with."""


def share_demo_plan(plan_id: str | None, token: str) -> str | None:
    """Share the demo plan with ``demo-partner``: the one just made, else the oldest plan made
    by the demo planner token (never a plan of anyone else)."""
    from sqlalchemy import select

    from greenlane.webapp import store
    from greenlane.webapp.auth import authenticate
    from greenlane.webapp.db import engine_of, transaction
    from greenlane.webapp.tables import plans

    with transaction() as conn:
        if plan_id is None:
            who = authenticate(engine_of(), token)
            if who is None:
                return None
            row = conn.execute(
                select(plans.c.id)
                .where(plans.c.created_by == who.token_id)
                .order_by(plans.c.created_at)
                .limit(1)
            ).first()
            if row is None:
                return None
            plan_id = row.id
        store.add_shares(conn, plan_id, DEMO_PARTNER, None, created_by=None)
    return plan_id


def _tls_context(certfile: Path, keyfile: Path) -> Any:
    """A server TLS context (TLS 1.2+) of the certificate and key; a bad pair exits 2."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(certfile=str(certfile), keyfile=str(keyfile))
    except (ssl.SSLError, OSError) as exc:
        click.echo(f"error: --certfile/--keyfile: cannot load the pair ({exc})", err=True)
        sys.exit(2)
    return ctx


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


def serve_production_tls(
    app: Any, host: str, port: int, certfile: Path, keyfile: Path, threads: int = 8
) -> None:
    """Serve ``app`` over HTTPS (TLS 1.2+) with cheroot until stopped (waitress has no TLS)."""
    import signal
    import ssl

    from cheroot.ssl.builtin import BuiltinSSLAdapter
    from cheroot.wsgi import Server

    click.echo(f"production server: cheroot (TLS), {threads} threads")
    server = Server((host, port), app, numthreads=threads, server_name="greenlane")
    adapter = BuiltinSSLAdapter(str(certfile), str(keyfile))
    adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2
    server.ssl_adapter = adapter

    def _stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.start()
    except KeyboardInterrupt:
        server.stop()


COMMANDS = (serve, init_db, create_token)
"""The commands the ``greenlane`` group registers."""
