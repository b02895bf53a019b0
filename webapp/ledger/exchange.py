"""Ledger files: the actual-shipments CSV import and the KPI export as CSV and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Connection

from greenlane.emissions.errors import InputError
from greenlane.emissions.ledger import KPI_DIMENSIONS
from greenlane.emissions.limits import csv_rows
from greenlane.emissions.report.tables import spreadsheet_safe
from greenlane.webapp.ledger.actuals import place_of
from greenlane.webapp.ledger.reporting import kpi_report
from greenlane.webapp.ledger.schemas import ActualRequest

KPI_COLUMNS = (
    "period",
    "dimension",
    "value",
    "co2e_wtw_kg",
    "tkm_gcd",
    "intensity_g_per_tkm",
    "target_g_per_tkm",
)


def kpi_csv(report: Mapping[str, Any]) -> bytes:
    """The KPI rows as CSV (UTF-8 with BOM, ``.`` decimals)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(KPI_COLUMNS)
    for r in report["rows"]:
        w.writerow(
            [spreadsheet_safe(v) if isinstance(v, str) else v for v in map(r.get, KPI_COLUMNS)]
        )
    return buf.getvalue().encode("utf-8-sig")


def kpi_xlsx(conn: Connection, period: str, year: int | None) -> bytes:
    """A workbook: network KPI, one sheet per dimension, the trajectory and an about sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    base: dict[str, Any] = {}
    for by in (None, *KPI_DIMENSIONS):
        rep = kpi_report(conn, period, by, year)
        base = rep
        ws = wb.worksheets[0] if by is None else wb.create_sheet()
        ws.title = f"by_{by}" if by else "network"
        ws.append(list(KPI_COLUMNS))
        for r in rep["rows"]:
            ws.append([r[k] for k in KPI_COLUMNS])
        for cell in ws[1]:
            cell.font = Font(bold=True)
    ws = wb.create_sheet("trajectory")
    ws.append(["year", "target_g_per_tkm", "actual_g_per_tkm"])
    actual = {r["year"]: r["intensity_g_per_tkm"] for r in base["by_year"]}
    for t in base["trajectory"]:
        ws.append([t["year"], t["target_g_per_tkm"], actual.get(t["year"])])
    ws = wb.create_sheet("about")
    b, s, h = base["baseline"], base["standing"], base["ledger_head"] or {}
    for k, v in (
        ("basis", base["basis"]),
        ("baseline_year", b["baseline_year"]),
        ("baseline_intensity_g_per_tkm", b["baseline_intensity_g_per_tkm"]),
        ("baseline_method", b["method"]),
        ("baseline_source", b["source"]),
        ("target_year", b["target_year"]),
        ("reduction_share", b["reduction_share"]),
        ("standing_year", s["year"]),
        ("as_of", s["as_of"]),
        ("to_date_g_per_tkm", s["to_date_g_per_tkm"]),
        ("projected_g_per_tkm", s["projected_g_per_tkm"]),
        ("target_g_per_tkm", s["target_g_per_tkm"]),
        ("on_track", s["on_track"]),
        ("ledger_head_seq", h.get("seq")),
        ("ledger_head_hash", h.get("hash")),
        ("factor_data_sha256", ", ".join(base["factor_data_sha256"])),
    ):
        ws.append([k, v])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


IMPORT_COLUMNS = (
    "shipment_id",
    "completed_at",
    "mass_t",
    "origin",
    "destination",
    "plan_id",
    "carrier",
    "mode",
    "distance_km",
    "distance_basis",
    "from",
    "to",
    "energy_carrier",
    "energy_amount",
    "energy_unit",
    "share_of_vehicle",
    "vehicle_activity_tkm",
    "vehicle_type",
    "load_t",
    "toc_id",
    "hub",
    "hoc_id",
)
"""Columns of an actuals CSV: one row per leg or hub, in chain order per shipment."""
_SHIPMENT_COLUMNS = ("completed_at", "mass_t", "origin", "destination", "plan_id")


def parse_actuals_csv(text_: str, net: Any) -> list[tuple[str, ActualRequest]]:
    """Actual shipments from a CSV (``IMPORT_COLUMNS``); errors name ``line[N].column``."""
    fieldnames, reader = csv_rows(text_)
    missing = [c for c in ("shipment_id", "completed_at", "mass_t", "mode") if c not in fieldnames]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", field="header")
    unknown = [c for c in fieldnames if c not in IMPORT_COLUMNS]
    if unknown:
        raise InputError(
            f"unknown column(s) {', '.join(unknown)}; expected {', '.join(IMPORT_COLUMNS)}",
            field="header",
        )
    groups: dict[str, dict[str, Any]] = {}
    for line, row in reader:
        row = {k: (v or "").strip() for k, v in row.items() if k}
        sid = row.get("shipment_id", "")
        if not sid:
            raise InputError("is empty", field=f"line[{line}].shipment_id")
        g = groups.setdefault(sid, {"line": line, "legs": [], "lines": []})
        for c in _SHIPMENT_COLUMNS:
            if row.get(c):
                if c in g and g[c] != row[c]:
                    raise InputError(
                        f"differs from line {g['line']} ({g[c]!r})", field=f"line[{line}].{c}"
                    )
                g[c] = row[c]
        if row.get("carrier") and "carrier" not in g:
            g["carrier"] = row["carrier"]
        g["legs"].append(_csv_leg(row, line, net))
        g["lines"].append(line)
    out = []
    for sid, g in groups.items():
        doc = {k: g[k] for k in _SHIPMENT_COLUMNS if k in g}
        doc["legs"] = g["legs"]
        if "mass_t" in doc:
            doc["mass_t"] = _float(doc["mass_t"], f"line[{g['line']}].mass_t")
        try:
            out.append((sid, ActualRequest.model_validate(doc)))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise InputError(err["msg"], field=f"line[{g['line']}].{loc}") from None
    if not out:
        raise InputError("no rows", field="file")
    return out


def _float(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InputError(f"{value!r} is not a number", field=field) from None


def _csv_leg(row: Mapping[str, str], line: int, net: Any) -> dict[str, Any]:
    where = f"line[{line}]"
    if row.get("hub"):
        if not row.get("hoc_id"):
            raise InputError("a hub row needs hoc_id", field=f"{where}.hoc_id")
        return {"hub": row["hub"], "hoc": {"hoc_id": row["hoc_id"]}}
    leg: dict[str, Any] = {"mode": row.get("mode", "")}
    if row.get("carrier"):
        leg["carrier"] = row["carrier"]
    if row.get("distance_km"):
        leg["distance_km"] = _float(row["distance_km"], f"{where}.distance_km")
    if row.get("distance_basis"):
        leg["distance_basis"] = row["distance_basis"]
    for key, col in (("origin", "from"), ("destination", "to")):
        if row.get(col):
            label, lat, lon = place_of(net, row[col], f"{where}.{col}")
            leg[key] = {"lat": lat, "lon": lon, "name": label}
    if row.get("energy_amount"):
        item: dict[str, Any] = {
            "carrier": row.get("energy_carrier", ""),
            "amount": _float(row["energy_amount"], f"{where}.energy_amount"),
            "unit": row.get("energy_unit", ""),
        }
        for col in ("share_of_vehicle", "vehicle_activity_tkm"):
            if row.get(col):
                item[col] = _float(row[col], f"{where}.{col}")
        leg["energy"] = [item]
    elif row.get("vehicle_type"):
        vehicle: dict[str, Any] = {"type": row["vehicle_type"]}
        if row.get("energy_carrier"):
            vehicle["carrier"] = row["energy_carrier"]
        if row.get("load_t"):
            vehicle["load_t"] = _float(row["load_t"], f"{where}.load_t")
        leg["vehicle"] = vehicle
    elif row.get("toc_id"):
        leg["toc"] = {"toc_id": row["toc_id"]}
    else:
        raise InputError(
            "give energy_amount (primary data), vehicle_type or toc_id",
            field=f"{where}.energy_amount",
        )
    return leg
