"""``greenlane dataset check|diff``: validate your own tables and see what they change."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from greenlane.emissions.errors import GreenlaneError

SOURCE = click.Path(exists=True, path_type=Path)


def _fail(exc: GreenlaneError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


@click.group("dataset")
def dataset() -> None:
    """Your own tables (hubs, lanes, rates, fleet, ...) over the shipped data/."""


@dataset.command("check")
@click.argument("source", type=SOURCE)
@click.option("--id", "dataset_id", default=None, help="Id to give the dataset.")
@click.option("--json", "as_json", is_flag=True, default=False, help="Print JSON.")
def check_cmd(source: Path, dataset_id: str | None, as_json: bool) -> None:
    """Validate a dataset (folder, .xlsx or .json): tables, rows changed, sha256."""
    from greenlane.routing import load_dataset

    try:
        ds = load_dataset(source, dataset_id)
    except GreenlaneError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(json.dumps(ds.to_dict(), indent=2))
        return
    click.echo(f"dataset {ds.dataset_id}  sha256 {ds.sha256}")
    click.echo(
        f"  {'table':<22} {'mode':<8} {'rows':>6} {'added':>6} {'replaced':>9} {'removed':>8}"
    )
    for name, c in sorted(ds.changes.items()):
        click.echo(
            f"  {name:<22} {c.mode:<8} {c.rows:>6} {len(c.added):>6} {len(c.replaced):>9} "
            f"{len(c.removed):>8}"
        )
    click.echo("  other tables: as shipped in data/")


@dataset.command("diff")
@click.argument("source", type=SOURCE)
@click.option("--json", "as_json", is_flag=True, default=False, help="Print JSON.")
def diff_cmd(source: Path, as_json: bool) -> None:
    """Row ids added, removed and changed by a dataset against the shipped data/."""
    from greenlane.routing import default_dataset, diff_datasets, load_dataset

    try:
        diff = diff_datasets(default_dataset(), load_dataset(source))
    except GreenlaneError as exc:
        _fail(exc)
        return
    if as_json:
        click.echo(json.dumps(diff.to_dict(), indent=2))
        return
    click.echo(f"{diff.new['id']} ({diff.new['sha256'][:12]}) against default")
    if not diff.tables:
        click.echo("  no differences")
    for name, t in diff.tables.items():
        for label, ids in (("added", t.added), ("removed", t.removed), ("changed", t.changed)):
            if ids:
                shown = ", ".join(ids[:20]) + (f", ... ({len(ids)})" if len(ids) > 20 else "")
                click.echo(f"  {name:<20} {label:<8} {shown}")


COMMANDS = (dataset,)
