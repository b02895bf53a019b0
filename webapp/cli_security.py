"""``greenlane rotate-token`` and ``greenlane revoke-token``: token hygiene for operators.

Tokens are stored only as their sha256. Rotation keeps the token's id, role and partner and
prints a new secret once; the old secret stops working at once. A caller can also rotate its
own token with ``POST /api/v1/tokens/self/rotate``.
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


@click.command("rotate-token")
@click.argument("token_id", type=int)
@click.option(
    "--expires-days",
    type=click.FloatRange(min=0, min_open=True, max=3650),
    default=90,
    show_default=True,
    help="Days until the new secret is refused.",
)
@_db_option
def rotate_token_cmd(token_id: int, expires_days: float, database_url: str | None) -> None:
    """Give token TOKEN_ID a new secret and print it (the old one and its browser sessions end)."""
    from greenlane.webapp.auth import rotate_token

    try:
        token = rotate_token(_engine(database_url), token_id, expires_days)
    except GreenlaneError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"token {token_id} rotated; new secret (shown once):")
    click.echo(token)


@click.command("revoke-token")
@click.argument("token_id", type=int)
@_db_option
def revoke_token_cmd(token_id: int, database_url: str | None) -> None:
    """Revoke token TOKEN_ID (idempotent); its browser sessions end."""
    from greenlane.webapp.auth import revoke_token

    try:
        revoke_token(_engine(database_url), token_id)
    except GreenlaneError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"token {token_id} revoked")


COMMANDS = (rotate_token_cmd, revoke_token_cmd)
"""The commands the ``greenlane`` group registers."""
