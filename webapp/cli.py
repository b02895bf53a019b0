"""The ``greenlane`` command: footprints, network export, plans.

Every user error is printed as ``error: <field>: <message>`` with exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from greenlane.emissions.errors import GreenlaneError


def _fail(exc: GreenlaneError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


def read_json(path: Path) -> Any:
    """Read a chain JSON document under the limits of :mod:`greenlane.emissions.limits`.

    The size is checked before reading; depth, number length and encoding errors name the file
    and the position.
    """
    from greenlane.emissions.limits import MAX_CHAIN_BYTES
    from greenlane.emissions.limits import read_json as read_limited

    return read_limited(path, MAX_CHAIN_BYTES)


@click.group()
@click.version_option(package_name="greenlane")
def main() -> None:
    """greenlane: multimodal freight routes and ISO 14083 emissions."""


@main.command()
@click.argument("chain_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "ileap", "pact", "csv", "geojson", "pdf"]),
    default="json",
    show_default=True,
    help="greenlane JSON, iLEAP ShipmentFootprint, PACT ProductFootprint, CSV, GeoJSON or PDF.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (needed for pdf; a csv file gets a UTF-8 BOM).",
)
@click.option(
    "--company-name",
    default="greenlane user",
    show_default=True,
    help="PACT companyName (--format pact).",
)
@click.option(
    "--company-id",
    "company_ids",
    multiple=True,
    help="PACT companyIds URN, repeatable (--format pact) [default: urn:greenlane:local].",
)
@click.option(
    "--dataset",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Take energy carriers, TOCs, HOCs and vehicle types from your own tables (folder, "
    "XLSX or JSON; see data/README.md); the JSON output records the dataset.",
)
def footprint(
    chain_file: Path,
    fmt: str,
    output: Path | None,
    company_name: str,
    company_ids: tuple[str, ...],
    dataset: Path | None,
) -> None:
    """Compute the ISO 14083 footprint of a transport chain JSON document."""
    import uuid
    from datetime import UTC, datetime
    from importlib.metadata import version

    from greenlane.emissions import report
    from greenlane.emissions.chain import footprint_from_chain
    from greenlane.fleet import resolve_vehicle

    if fmt == "pdf" and output is None:
        _fail(GreenlaneError("the pdf format needs --output FILE", field="--output"))
    try:
        ref: dict[str, str] | None = None
        if dataset is None:
            fp = footprint_from_chain(read_json(chain_file), resolver=resolve_vehicle)
        else:
            from greenlane.routing import load_dataset

            ds = load_dataset(dataset)
            ref = ds.ref()
            fp = footprint_from_chain(
                read_json(chain_file),
                resolver=lambda spec, f: resolve_vehicle(spec, f, ds.data_dir),
                data_dir=ds.data_dir,
            )
        now = datetime.now(UTC).replace(microsecond=0)
        if fmt == "pdf":
            assert output is not None
            output.write_bytes(
                report.footprint_report_pdf(
                    [fp],
                    title=f"Route carbon report: shipment {fp.shipment_id}",
                    software_version=version("greenlane"),
                    generated_at=now,
                )
            )
            return
        if fmt == "csv":
            if output is None:
                click.echo(report.footprints_to_csv([fp]), nl=False)
            else:
                report.write_csv(output, [fp])
            return
        doc: Any
        if fmt == "pact":
            key = f"greenlane:{fp.shipment_id}:{fp.data_sha256}"
            doc = report.to_pact_product_footprint(
                fp,
                company_name=company_name,
                company_ids=list(company_ids) or ["urn:greenlane:local"],
                pf_id=str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
                created=now,
            )
        elif fmt == "geojson":
            doc = report.footprints_to_geojson([fp])
        elif fmt == "ileap":
            doc = report.to_ileap_shipment_footprint(fp)
        else:
            doc = report.footprint_to_dict(fp)
            if ref is not None:
                doc["dataset"] = ref
    except GreenlaneError as exc:
        _fail(exc)
        return
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")


def _register() -> None:
    from greenlane.webapp.cli_batch import COMMANDS as BATCH_COMMANDS
    from greenlane.webapp.cli_carrier import COMMANDS as CARRIER_COMMANDS
    from greenlane.webapp.cli_dataset import COMMANDS as DATASET_COMMANDS
    from greenlane.webapp.cli_ledger import COMMANDS as LEDGER_COMMANDS
    from greenlane.webapp.cli_network import network
    from greenlane.webapp.cli_pact import COMMANDS as PACT_COMMANDS
    from greenlane.webapp.cli_plan import baseline_cmd, pareto_cmd, plan_cmd
    from greenlane.webapp.cli_security import COMMANDS as SECURITY_COMMANDS
    from greenlane.webapp.cli_serve import COMMANDS as SERVE_COMMANDS
    from greenlane.webapp.cli_vrp import vrp

    for command in (
        network,
        plan_cmd,
        pareto_cmd,
        baseline_cmd,
        vrp,
        *SERVE_COMMANDS,
        *LEDGER_COMMANDS,
        *BATCH_COMMANDS,
        *SECURITY_COMMANDS,
        *PACT_COMMANDS,
        *DATASET_COMMANDS,
        *CARRIER_COMMANDS,
    ):
        main.add_command(command)


_register()
