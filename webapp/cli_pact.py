"""``greenlane create-client``, ``rotate-client``, ``revoke-client``: PACT OAuth2 clients.

``greenlane create-client --partner ID`` prints ``CLIENT_ID CLIENT_SECRET`` on one line (the
secret is shown once and stored only as its sha256). The client sees, through ``/pact``,
exactly what was shared with partner ID.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from greenlane.emissions.errors import GreenlaneError

_db_option = click.option(
    "--database-url",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL [default: $DATABASE_URL, else sqlite in instance/].",
)


def _engine(database_url: str | None) -> Any:
    from greenlane.webapp import create_app
    from greenlane.webapp.db import engine_of

    app = create_app({"DATABASE_URL": database_url} if database_url else None)
    return engine_of(app)


def _fail(exc: GreenlaneError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


@click.command("create-client")
@click.option("--partner", "partner_id", required=True, help="The partner the client acts for.")
@click.option("--name", default="", help="A label for the client.")
@click.option(
    "--events-url",
    default=None,
    metavar="URL",
    help="Base URL that receives answers to the client's events (<URL>/2/events) "
    "[default: each event's source].",
)
@_db_option
def create_client_cmd(
    partner_id: str, name: str, events_url: str | None, database_url: str | None
) -> None:
    """Create a PACT OAuth2 client of a partner; prints CLIENT_ID CLIENT_SECRET."""
    from greenlane.webapp.pact.clients import create_client

    try:
        client_id, secret = create_client(
            _engine(database_url), partner_id, name=name, events_base_url=events_url
        )
    except GreenlaneError as exc:
        _fail(exc)
        return
    click.echo(f"{client_id} {secret}")


@click.command("rotate-client")
@click.argument("client_id")
@_db_option
def rotate_client_cmd(client_id: str, database_url: str | None) -> None:
    """Give CLIENT_ID a new secret and print it (the old one and its tokens stop working)."""
    from greenlane.webapp.pact.clients import rotate_client

    try:
        secret = rotate_client(_engine(database_url), client_id)
    except GreenlaneError as exc:
        _fail(exc)
        return
    click.echo(f"{client_id} {secret}")


@click.command("revoke-client")
@click.argument("client_id")
@_db_option
def revoke_client_cmd(client_id: str, database_url: str | None) -> None:
    """Revoke CLIENT_ID and its access tokens (idempotent)."""
    from greenlane.webapp.pact.clients import revoke_client

    try:
        revoke_client(_engine(database_url), client_id)
    except GreenlaneError as exc:
        _fail(exc)
        return
    click.echo(f"client {client_id} revoked")


@click.command("add-partner-host")
@click.option("--partner", "partner_id", required=True, help="The partner running the host.")
@click.option(
    "--url", "base_url", required=True, help="The host's PACT base URL (https://host/pact)."
)
@click.option("--client-id", required=True, help="The client id the partner issued.")
@click.option(
    "--client-secret",
    envvar="GREENLANE_PARTNER_CLIENT_SECRET",
    required=True,
    help="Its secret [or $GREENLANE_PARTNER_CLIENT_SECRET]; stored encrypted.",
)
@_db_option
def add_partner_host_cmd(
    partner_id: str, base_url: str, client_id: str, client_secret: str, database_url: str | None
) -> None:
    """Register a partner's PACT host and the credentials greenlane uses there."""
    from greenlane.webapp import create_app
    from greenlane.webapp.pact.partners import register_host

    app = create_app({"DATABASE_URL": database_url} if database_url else None)
    try:
        host_id = register_host(app, partner_id, base_url, client_id, client_secret)
    except GreenlaneError as exc:
        _fail(exc)
        return
    click.echo(f"partner host {host_id}: {partner_id} at {base_url.rstrip('/')}")


@click.command("pull-footprints")
@click.option("--partner", "partner_id", required=True, help="Pull from this partner's hosts.")
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Extra CA bundle (PEM) to trust, e.g. the partner's self-signed certificate.",
)
@_db_option
def pull_footprints_cmd(partner_id: str, ca_file: str | None, database_url: str | None) -> None:
    """Pull a partner's ProductFootprints over PACT and record them in the ledger."""
    from greenlane.webapp import create_app
    from greenlane.webapp.pact.partners import hosts
    from greenlane.webapp.pact.pull import pull
    from greenlane.webapp.pact.remote import RemoteError

    config: dict[str, Any] = {"DATABASE_URL": database_url} if database_url else {}
    if ca_file:
        config["PACT_CA_FILE"] = ca_file
    app = create_app(config or None)
    try:
        found = hosts(app, partner_id)
    except GreenlaneError as exc:
        _fail(exc)
        return
    if not found:
        _fail(GreenlaneError(f"no PACT host registered for {partner_id!r}", field="--partner"))
    for host in found:
        try:
            items = pull(app, host)
        except RemoteError as exc:
            click.echo(f"error: {host.base_url}: {exc}", err=True)
            sys.exit(1)
        for it in items:
            what = f"-> actual {it.actual_id} (plan {it.plan_id})" if it.actual_id else ""
            why = f": {it.reason}" if it.reason else ""
            sid = it.shipment_id or "-"
            click.echo(f"{it.status} {it.pf_id} v{it.pf_version} shipment {sid} {what}{why}")
        counts = {s: sum(1 for i in items if i.status == s) for s in ("recorded", "known")}
        click.echo(
            f"{host.base_url}: {len(items)} footprints, {counts['recorded']} recorded, "
            f"{counts['known']} already pulled, "
            f"{len(items) - counts['recorded'] - counts['known']} not recorded"
        )


COMMANDS = (
    create_client_cmd,
    rotate_client_cmd,
    revoke_client_cmd,
    add_partner_host_cmd,
    pull_footprints_cmd,
)
"""The commands the ``greenlane`` group registers."""
