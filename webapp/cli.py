"""The ``greenlane`` command: footprints, network export, plans.

Every user error is printed as ``error: <field>: <message>`` with exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from emissions.errors import GreenlaneError


def _fail(exc: GreenlaneError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


def read_json(path: Path) -> Any:
    """Read a JSON document; a malformed file becomes an InputError naming the position."""
    from emissions.errors import InputError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", field=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", field=str(path)
        ) from None


@click.group()
@click.version_option(package_name="greenlane")
def main() -> None:
    """greenlane: multimodal freight routes and ISO 14083 emissions."""


@main.command()
@click.argument("chain_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "ileap"]),
    default="json",
    show_default=True,
    help="greenlane footprint JSON or iLEAP ShipmentFootprint.",
)
def footprint(chain_file: Path, fmt: str) -> None:
    """Compute the ISO 14083 footprint of a transport chain JSON document."""
    from emissions.chain import footprint_from_chain
    from emissions.report import footprint_to_dict, to_ileap_shipment_footprint
    from fleet import resolve_vehicle

    try:
        fp = footprint_from_chain(read_json(chain_file), resolver=resolve_vehicle)
    except GreenlaneError as exc:
        _fail(exc)
        return
    doc = to_ileap_shipment_footprint(fp) if fmt == "ileap" else footprint_to_dict(fp)
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def _register() -> None:
    from webapp.cli_network import network
    from webapp.cli_plan import baseline_cmd, pareto_cmd, plan_cmd

    for command in (network, plan_cmd, pareto_cmd, baseline_cmd):
        main.add_command(command)


_register()
