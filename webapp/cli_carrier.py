"""``greenlane carrier import-ileap FILE --carrier NAME``: a carrier's iLEAP TOCs/HOCs as data.

Writes (merges) rows of ``carrier_intensities.csv`` into a dataset folder or a CSV file; a lane
of ``lanes.csv`` whose ``carrier`` is NAME then uses them instead of the modelled defaults.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from greenlane.emissions.errors import GreenlaneError


@click.group("carrier")
def carrier() -> None:
    """Carriers' own emission data (iLEAP TOCs, HOCs, ShipmentFootprints)."""


@carrier.command("import-ileap")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--carrier", "carrier_name", required=True, help="The carrier, as in lanes.csv.")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    required=True,
    help="Dataset folder (its carrier_intensities.csv) or a CSV file; rows are merged.",
)
@click.option(
    "--data-quality",
    type=click.Choice(["primary", "modelled", "default"]),
    default="primary",
    show_default=True,
    help="ISO 14083 data-quality type of the carrier's numbers.",
)
@click.option("--period-start", type=click.DateTime(["%Y-%m-%d"]), help="Reporting period start.")
@click.option("--period-end", type=click.DateTime(["%Y-%m-%d"]), help="Reporting period end.")
@click.option(
    "--mode",
    type=click.Choice(["road", "rail", "sea", "air", "inland_water"]),
    help="Mode of the TOCs of ShipmentFootprints (they do not state it).",
)
@click.option("--hub-kind", help="greenlane hub kind of the HOCs (seaport, rail_terminal, ...).")
@click.option(
    "--distance-basis",
    type=click.Choice(["sfd", "actual", "gcd"]),
    default="sfd",
    show_default=True,
    help="Distance basis of TOC objects' intensities (ShipmentFootprints state theirs).",
)
@click.option("--t-per-teu", type=float, help="Tonnes per TEU, for TEUkm / TEU intensities.")
@click.option("--source", default=None, help="Source text [default: iLEAP data of CARRIER, FILE].")
@click.option(
    "--licence",
    default="carrier data shared under its iLEAP/PACT data-exchange terms",
    show_default=True,
    help="Reuse condition of the data.",
)
def import_ileap(
    file: Path,
    carrier_name: str,
    output: Path,
    data_quality: str,
    period_start: datetime | None,
    period_end: datetime | None,
    mode: str | None,
    hub_kind: str | None,
    distance_basis: str,
    t_per_teu: float | None,
    source: str | None,
    licence: str,
) -> None:
    """Import a carrier's iLEAP TOC/HOC objects or ShipmentFootprints (JSON)."""
    from greenlane.emissions.ileap_import import ImportSettings, rows_from_ileap, write_rows
    from greenlane.emissions.limits import MAX_CHAIN_BYTES, read_json
    from greenlane.emissions.model import DataType, DistanceBasis, Mode

    def day(value: datetime | None) -> date | None:
        return value.date() if value is not None else None

    try:
        if t_per_teu is not None and not t_per_teu > 0:
            raise GreenlaneError("must be > 0", field="t_per_teu")
        settings = ImportSettings(
            carrier=carrier_name.strip(),
            source=source or f"iLEAP data of {carrier_name.strip()}, {file.name}",
            licence=licence,
            date=datetime.now(UTC).date().isoformat(),
            data_quality=DataType(data_quality),
            period_start=day(period_start),
            period_end=day(period_end),
            mode=Mode(mode) if mode else None,
            hub_kind=hub_kind,
            distance_basis=DistanceBasis(distance_basis),
            t_per_teu=t_per_teu,
        )
        if not settings.carrier:
            raise GreenlaneError("must not be empty", field="carrier")
        rows, skipped = rows_from_ileap(read_json(file, MAX_CHAIN_BYTES), settings)
        path = write_rows(output, rows)
    except GreenlaneError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for row in rows:
        value = row["wtw_g_per_tkm"] or row["wtw_kg_per_t"]
        unit = "g CO2e/tkm" if row["element"] == "toc" else "kg CO2e/t"
        where = row["mode"] or row["hub_kind"]
        click.echo(f"{row['element']} {row['intensity_id']} ({where}): {value} {unit} WTW")
    if skipped:
        click.echo(f"left out (give --hub-kind): HOC {', '.join(skipped)}", err=True)
    click.echo(f"wrote {len(rows)} row(s) to {path}")


COMMANDS = (carrier,)
