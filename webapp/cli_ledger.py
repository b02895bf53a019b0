"""``greenlane ledger ...``: import actuals, verify the audit trail, KPI, baseline, levers.

* ``greenlane ledger import FILE`` records the actual shipments of a CSV (one row per leg or
  hub; see ``webapp.ledger.exchange.IMPORT_COLUMNS``), all or nothing, each with a ledger entry.
* ``greenlane ledger verify`` checks the hash chain and every recorded row against it: exit
  0 when intact, 2 with the problems listed.
* ``greenlane ledger kpi`` prints (or writes as CSV/XLSX) the intensity KPI and the standing.
* ``greenlane ledger baseline`` shows or sets the baseline (``--from-history`` computes it
  from the recorded actuals of the baseline year).
* ``greenlane ledger levers`` computes the marginal abatement cost curve of the recorded book
  (or of a CSV book with ``--book``).

They work on the app's database (``--database-url``, else ``$DATABASE_URL``, else the SQLite
file in ``instance/``). User errors print ``error: <field>: <message>`` and exit 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from greenlane.emissions.errors import GreenlaneError

_db_option = click.option(
    "--database-url",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL [default: $DATABASE_URL, else sqlite in instance/].",
)


STANDING = {True: "on track", False: "off track", None: "no actuals yet"}
"""The year's standing against the glide path (None: no actual recorded yet)."""


def _app(database_url: str | None) -> Any:
    from greenlane.webapp import create_app

    return create_app({"DATABASE_URL": database_url} if database_url else None)


def _fail(exc: GreenlaneError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


@click.group("ledger")
def ledger() -> None:
    """The carbon ledger: actuals, KPI, baseline, certificates' audit trail, levers."""


@ledger.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_db_option
def import_cmd(file: Path, database_url: str | None) -> None:
    """Record the actual shipments of a CSV FILE (all or nothing)."""
    from greenlane.emissions.limits import MAX_BOOK_BYTES, read_text
    from greenlane.webapp.ledger import actuals, exchange
    from greenlane.webapp.resources import network

    app = _app(database_url)
    try:
        with app.app_context():
            text = read_text(file, MAX_BOOK_BYTES)
            net = network(app)
            items = exchange.parse_actuals_csv(text, net)
            done = actuals.record_actuals(items, net, None)
    except GreenlaneError as exc:
        _fail(exc)
        return
    co2 = sum(a["co2e_wtw_kg"] for a in done)
    click.echo(
        f"recorded {len(done)} actual shipment(s), {co2:,.1f} kg CO2e WTW; ledger "
        f"entries {done[0]['entry']}..{done[-1]['entry']}"
    )


@ledger.command("verify")
@_db_option
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
def verify_cmd(database_url: str | None, as_json: bool) -> None:
    """Check the hash chain and every recorded row: exit 0 intact, 2 with the problems."""
    from greenlane.webapp.db import engine_of, transaction
    from greenlane.webapp.ledger import audit

    app = _app(database_url)
    with transaction(engine_of(app)) as conn:
        result = audit.verify(conn)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    elif result["intact"]:
        head = result["head"]
        where = f"head #{head['seq']} {head['hash']}" if head else "empty ledger"
        click.echo(f"ledger intact: {result['entries']} entries, {where}")
    else:
        click.echo(f"ledger NOT intact: {len(result['problems'])} problem(s)", err=True)
        for p in result["problems"]:
            click.echo(f"  - {p}", err=True)
    if not result["intact"]:
        sys.exit(2)


@ledger.command("kpi")
@click.option(
    "--period", type=click.Choice(["month", "quarter", "year"]), default="year", show_default=True
)
@click.option(
    "--by",
    type=click.Choice(["network", "mode", "lane", "carrier", "energy_carrier"]),
    default="network",
    show_default=True,
)
@click.option("--year", type=int, default=None, help="Only this calendar year.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write .csv (these rows) or .xlsx (every breakdown) instead of printing.",
)
@_db_option
def kpi_cmd(
    period: str, by: str, year: int | None, output: Path | None, database_url: str | None
) -> None:
    """Network intensity [g CO2e WTW/tkm, GCD] and the standing against the glide path."""
    from greenlane.webapp.db import engine_of, transaction
    from greenlane.webapp.ledger import exchange, reporting

    app = _app(database_url)
    try:
        with app.app_context(), transaction(engine_of(app)) as conn:
            if output is not None and output.suffix.lower() == ".xlsx":
                output.write_bytes(exchange.kpi_xlsx(conn, period, year))
                click.echo(f"wrote {output}")
                return
            report = reporting.kpi_report(conn, period, None if by == "network" else by, year)
    except GreenlaneError as exc:
        _fail(exc)
        return
    if output is not None:
        output.write_bytes(exchange.kpi_csv(report))
        click.echo(f"wrote {output}")
        return
    click.echo(
        f"{'period':<10} {by:<28} {'kg CO2e':>14} {'tkm (GCD)':>16} {'g/tkm':>9} {'target':>9}"
    )
    for r in report["rows"]:
        click.echo(
            f"{r['period']:<10} {r['value'][:28]:<28} {r['co2e_wtw_kg']:>14,.1f} "
            f"{r['tkm_gcd']:>16,.0f} {r['intensity_g_per_tkm']:>9.2f} "
            f"{r['target_g_per_tkm']:>9.2f}"
        )
    s, b = report["standing"], report["baseline"]
    click.echo(
        f"baseline {b['baseline_year']}: {b['baseline_intensity_g_per_tkm']:.2f} g/tkm "
        f"({b['method']}); target {b['target_year']}: -{b['reduction_share']:.0%}"
    )
    click.echo(
        f"{s['year']} to {s['as_of']}: {s['to_date_g_per_tkm']:.2f} g/tkm; year-end "
        f"projection {s['projected_g_per_tkm']:.2f} vs target "
        f"{s['target_g_per_tkm']:.2f} -> {STANDING[s['on_track']]}"
    )


@ledger.command("baseline")
@click.option(
    "--from-history", is_flag=True, help="Compute the baseline from the recorded actuals of --year."
)
@click.option(
    "--set",
    "value",
    type=float,
    default=None,
    metavar="G_PER_TKM",
    help="State the baseline intensity [g CO2e WTW/tkm, GCD].",
)
@click.option("--year", type=int, default=2023, show_default=True, help="Baseline year.")
@click.option("--target-year", type=int, default=2030, show_default=True)
@click.option(
    "--reduction",
    type=float,
    default=0.2,
    show_default=True,
    help="Reduction share by the target year (0.2 = -20 %).",
)
@click.option("--source", default="", help="Where the stated value comes from.")
@_db_option
def baseline_cmd(
    from_history: bool,
    value: float | None,
    year: int,
    target_year: int,
    reduction: float,
    source: str,
    database_url: str | None,
) -> None:
    """Show the baseline in force, or record a new one (a ledger entry)."""
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.ledger import chain, reporting

    app = _app(database_url)
    engine = engine_of(app)
    if from_history and value is not None:
        _fail(GreenlaneError("give --from-history or --set, not both", field="--set"))
    try:
        with app.app_context():
            if from_history or value is not None:
                chain.in_ledger_transaction(
                    lambda conn: reporting.set_baseline(
                        conn,
                        baseline_year=year,
                        intensity_g_per_tkm=value,
                        target_year=target_year,
                        reduction_share=reduction,
                        source=source,
                    ),
                    engine,
                )
            from greenlane.webapp.db import transaction

            with transaction(engine) as conn:
                base = reporting.current_baseline(conn)
    except GreenlaneError as exc:
        _fail(exc)
        return
    click.echo(
        f"baseline {base['baseline_year']}: {base['baseline_intensity_g_per_tkm']:.4f} "
        f"g/tkm ({base['method']}{', entry ' + str(base['entry']) if base['entry'] else ''}"
        f"); target {base['target_year']}: -{base['reduction_share']:.0%}; "
        f"{base['source']}"
    )


@ledger.command("levers")
@click.option("--plan", "plan_id", default=None, help="Use this plan's book.")
@click.option(
    "--book",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Use a CSV/JSON shipment book instead of the database.",
)
@click.option("--max-levers", type=int, default=12, show_default=True)
@click.option(
    "--time-limit", type=float, default=10.0, show_default=True, help="Solver limit per solve [s]."
)
@click.option(
    "--carriers",
    type=click.Choice(["all", "fossil"]),
    default="all",
    show_default=True,
    help="Fleet of the reference plan.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the MACC JSON here.",
)
@_db_option
def levers_cmd(
    plan_id: str | None,
    book: Path | None,
    max_levers: int,
    time_limit: float,
    carriers: str,
    output: Path | None,
    database_url: str | None,
) -> None:
    """The marginal abatement cost curve of the recorded book (cheapest t CO2e first)."""
    from greenlane.webapp.db import engine_of, transaction
    from greenlane.webapp.ledger import levers

    try:
        if book is not None:
            from greenlane.routing import load_network, read_book

            shipments = [_shipment_doc(s) for s in read_book(book)]
            net = load_network()
        else:
            from greenlane.webapp.resources import network

            app = _app(database_url)
            with transaction(engine_of(app)) as conn:
                shipments = levers.lever_book(conn, plan_id)
            net = network(app)
        result = levers.compute_levers(
            {
                "shipments": shipments,
                "max_levers": max_levers,
                "time_limit_s": time_limit,
                "carriers": carriers,
            },
            net,
        )
    except GreenlaneError as exc:
        _fail(exc)
        return
    if output is not None:
        output.write_text(json.dumps(result, indent=2), encoding="utf-8")
    ref = result["reference"]
    click.echo(
        f"reference: {ref['shipments_planned']} shipments, {ref['cost_cny']:,.0f} CNY, "
        f"{ref['co2e_wtw_kg']:,.1f} kg CO2e, {ref['intensity_g_per_tkm']:.2f} g/tkm"
    )
    click.echo(f"{'lever':<52} {'status':<13} {'dCost CNY':>11} {'dCO2e kg':>11} {'CNY/t':>9}")
    for lv in result["levers"]:
        per_t = "" if lv["cny_per_t_co2e"] is None else f"{lv['cny_per_t_co2e']:,.0f}"
        d_cost = "" if lv["delta_cost_cny"] is None else f"{lv['delta_cost_cny']:,.0f}"
        d_co2 = "" if lv["delta_co2e_kg"] is None else f"{lv['delta_co2e_kg']:,.1f}"
        click.echo(
            f"{lv['description'][:52]:<52} {lv['status']:<13} {d_cost:>11} {d_co2:>11} {per_t:>9}"
        )


def _shipment_doc(s: Any) -> dict[str, Any]:
    return {
        "shipment_id": s.shipment_id,
        "origin": s.origin,
        "destination": s.destination,
        "mass_t": s.mass_t,
        "volume_m3": s.volume_m3,
        "teu": s.teu,
        "ready_at": s.ready_at.isoformat(),
        "due_at": s.due_at.isoformat(),
        "allowed_modes": sorted(str(m) for m in s.allowed_modes) if s.allowed_modes else None,
        "max_co2e_kg": s.max_co2e_kg,
    }


COMMANDS = (ledger,)
"""The commands the ``greenlane`` group registers (``from webapp.cli_ledger import COMMANDS``)."""
