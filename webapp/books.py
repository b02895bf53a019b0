"""Shipment books from the UI: an uploaded CSV/JSON/XLSX file or the form's rows.

CSV and JSON go through ``routing.read_book`` (the CLI's reader); XLSX sheets and form rows
become the same row dicts and go through ``routing.parse_shipments``. Errors name the line
of the file (``line[2].mass_t`` is the first data line; blank XLSX rows are skipped) or the
form row (``row[1].mass_t``). The result is the list of shipment objects of a
``PlanRequest``.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from greenlane.emissions.errors import InputError
from greenlane.routing import Network, Shipment, parse_shipments, read_book
from greenlane.routing.planner.shipments import MAX_BOOK_BYTES, MAX_BOOK_ROWS
from greenlane.webapp.schemas import PlanRequest

COLUMNS = (
    "shipment_id",
    "origin",
    "destination",
    "mass_t",
    "volume_m3",
    "teu",
    "ready_at",
    "due_at",
    "allowed_modes",
    "max_co2e_kg",
)
"""Columns of a shipment book (CSV header, XLSX first row, form fields)."""
SUFFIXES = (".csv", ".json", ".xlsx")


def shipment_dict(s: Shipment) -> dict[str, Any]:
    """A shipment as the API's JSON object."""
    out: dict[str, Any] = {
        "shipment_id": s.shipment_id,
        "origin": s.origin,
        "destination": s.destination,
        "mass_t": s.mass_t,
        "ready_at": s.ready_at.isoformat(),
        "due_at": s.due_at.isoformat(),
    }
    for key in ("volume_m3", "teu", "max_co2e_kg"):
        value = getattr(s, key)
        if value is not None:
            out[key] = value
    if s.allowed_modes:
        out["allowed_modes"] = sorted(str(m) for m in s.allowed_modes)
    return out


def from_upload(filename: str, data: bytes) -> list[dict[str, Any]]:
    """Shipments of an uploaded book (``.csv``, ``.json`` or ``.xlsx``)."""
    return [shipment_dict(s) for s in upload_shipments(filename, data)]


def upload_shipments(filename: str, data: bytes) -> list[Shipment]:
    """Validated shipments of an uploaded book; each knows its ``line[N]``."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"upload a {', '.join(SUFFIXES)} file", field="book")
    if not data:
        raise InputError("the file is empty", field="book")
    if len(data) > MAX_BOOK_BYTES:
        raise InputError(f"file larger than {MAX_BOOK_BYTES} bytes", field="book")
    if suffix == ".xlsx":
        lines, rows = _xlsx_rows(data)
        return parse_shipments(rows, prefix="line", numbers=lines)
    with tempfile.TemporaryDirectory(prefix="greenlane-book-") as tmp:
        path = Path(tmp) / f"book{suffix}"
        path.write_bytes(data)
        try:
            shipments = read_book(path)
        except InputError as exc:
            field = "book" if exc.field == str(path) else exc.field
            raise InputError(exc.message, field=field) from None
    return shipments


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _xlsx_rows(data: bytes) -> tuple[list[int], list[dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise InputError(
            f"not a readable XLSX workbook ({type(exc).__name__})", field="book"
        ) from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [(_cell(c) or "").lower() for c in next(rows, ())]
        required = {"shipment_id", "origin", "destination", "mass_t", "ready_at", "due_at"}
        missing = required - set(header)
        if missing:
            raise InputError(
                f"missing column(s): {', '.join(sorted(missing))}", field="xlsx header"
            )
        out: list[dict[str, Any]] = []
        lines: list[int] = []
        for line, values in enumerate(rows, start=2):
            row: dict[str, Any] = {k: _cell(v) for k, v in zip(header, values, strict=False) if k}
            row = {k: v for k, v in row.items() if v is not None}
            if not row:
                continue
            if len(out) >= MAX_BOOK_ROWS:
                raise InputError(f"more than the limit of {MAX_BOOK_ROWS} rows", f"line[{line}]")
            lines.append(line)
            if "allowed_modes" in row:
                row["allowed_modes"] = [
                    m.strip() for m in row["allowed_modes"].split(";") if m.strip()
                ]
            out.append(row)
        return lines, out
    finally:
        book.close()


def from_form(form: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """Shipments typed into the form (parallel lists per column; blank rows skipped)."""
    return [shipment_dict(s) for s in form_shipments(form)]


def form_shipments(form: Mapping[str, Sequence[str]]) -> list[Shipment]:
    """Validated shipments of the form; each knows its ``row[N]``."""
    columns = {c: list(form.get(c, [])) for c in COLUMNS}
    n = max((len(v) for v in columns.values()), default=0)
    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            c: columns[c][i].strip()
            for c in COLUMNS
            if i < len(columns[c]) and columns[c][i].strip()
        }
        if not row:
            continue
        if "allowed_modes" in row:
            row["allowed_modes"] = [
                m.strip() for m in row["allowed_modes"].replace(",", ";").split(";") if m.strip()
            ]
        rows.append(row)
    if not rows:
        raise InputError("enter at least one shipment or upload a book", field="shipments")
    return parse_shipments(rows, prefix="row", start=1)


def form_options(form: Mapping[str, Any]) -> dict[str, Any]:
    """Planner options from the UI's objective choice (cheapest, greenest, price, target)."""
    choice = form.get("objective", "cheapest")
    opts: dict[str, Any] = {"objective": "cost"}
    try:
        if choice == "greenest":
            opts["objective"] = "co2e"
        elif choice == "carbon_price":
            opts["carbon_price_cny_per_t"] = float(form.get("carbon_price_cny_per_t") or 0)
        elif choice == "target":
            opts["target_year"] = int(form.get("target_year") or 2030)
    except ValueError:
        raise InputError("must be a number", field=choice) from None
    if form.get("due_dates") == "soft":
        opts["due_dates"] = "soft"
        try:
            penalty = form.get("late_penalty_cny_per_t_day")
            if penalty not in (None, ""):
                opts["late_penalty_cny_per_t_day"] = float(penalty)
        except ValueError:
            raise InputError("must be a number", field="late_penalty_cny_per_t_day") from None
    if form.get("stop_level_routing"):
        opts["stop_level_routing"] = True
    opts.update(price_scenario(form))
    if form.get("price_basis") == "rate_card":
        opts["price_basis"] = "rate_card"
    if str(form.get("dataset_id") or "").strip():
        opts["dataset_id"] = str(form["dataset_id"]).strip()
    return opts


PRICE_CHANGE_FIELDS = {
    "bunker_change_pct": "bunker_price_factor",
    "jet_change_pct": "jet_price_factor",
    "rate_card_change_pct": "rate_card_index",
}
"""UI fields of a market scenario [% change] -> the plan option they set [factor]."""


def price_scenario(form: Mapping[str, Any]) -> dict[str, Any]:
    """Market-scenario options of a form: the EUA price [EUR/t] and the bunker, jet and
    rate-card changes [%] as factors (``bunker +30 %`` -> ``bunker_price_factor`` 1.3)."""
    opts: dict[str, Any] = {}
    text = str(form.get("eua_eur_per_t") or "").strip()
    if text:
        try:
            opts["eua_eur_per_t"] = float(text)
        except ValueError:
            raise InputError("must be a number", field="eua_eur_per_t") from None
    for name, key in PRICE_CHANGE_FIELDS.items():
        text = str(form.get(name) or "").strip()
        if not text:
            continue
        try:
            pct = float(text)
        except ValueError:
            raise InputError("must be a number [%]", field=name) from None
        if not -100 < pct <= 9_900:
            raise InputError("must lie above -100 % and at most +9 900 %", field=name)
        opts[key] = 1 + pct / 100
    return opts


SCENARIO_KEEP = "keep"
"""The scenario form's objective choice that keeps the plan's options."""


def scenario_request(
    request_doc: Mapping[str, Any],
    result: Mapping[str, Any],
    name: str,
    form: Mapping[str, Any],
) -> tuple[PlanRequest, list[str]]:
    """A stored plan's book and options with the scenario form's edits; the pinned ids.

    ``objective``: ``keep``, one of the new-plan choices, or ``tradeoff`` (the cheapest plan
    under ``co2e_cap_kg``, a point of the curve). ``pin`` (repeatable shipment ids): keep
    those shipments on the modes of their current path; the rest are re-planned freely.
    """
    from greenlane.webapp.schemas import PlanOptionsIn
    from greenlane.webapp.viewmodels import objective_label

    fields = set(PlanOptionsIn.model_fields)
    options = {k: v for k, v in (request_doc.get("options") or {}).items() if k in fields}
    choice = form.get("objective", SCENARIO_KEEP) or SCENARIO_KEEP
    if choice != SCENARIO_KEEP:
        for key in ("objective", "carbon_price_cny_per_t", "target_year", "co2e_cap_kg"):
            options.pop(key, None)
        if choice == "tradeoff":
            try:
                # + 1 g: the stored point is rounded to the gram
                options["co2e_cap_kg"] = float(form.get("co2e_cap_kg") or "") + 0.001
            except ValueError:
                raise InputError("pick a point of the curve", field="co2e_cap_kg") from None
        else:
            options.update(form_options(form))
    else:
        options.update(price_scenario(form))
    paths = {
        s["shipment_id"]: list(dict.fromkeys(leg["mode"] for leg in s["legs"]))
        for s in result.get("shipments", [])
    }
    pinned = [sid for sid in dict.fromkeys(_getlist(form, "pin")) if sid]
    shipments = [dict(s) for s in request_doc["shipments"]]
    for i, sid in enumerate(pinned):
        if sid not in paths:
            raise InputError(f"no planned shipment {sid!r} in this plan", field=f"pin[{i}]")
        for s in shipments:
            if s["shipment_id"] == sid:
                s["allowed_modes"] = paths[sid]
    pins = f" · pinned {', '.join(pinned)}" if pinned else ""
    title = (form.get("name") or "").strip() or f"{name} · {objective_label(options)}{pins}"
    body = PlanRequest.model_validate(
        {"shipments": shipments, "options": options, "name": title[:200]}
    )
    return body, pinned


def _getlist(form: Any, key: str) -> list[str]:
    if hasattr(form, "getlist"):
        return [str(v) for v in form.getlist(key)]
    value = form.get(key)
    return [] if value is None else [str(value)]


def form_request(
    form: Any, upload: Any, demo_book: Path, net: Network | None = None
) -> PlanRequest:
    """The UI form as a ``PlanRequest``: the demo book, an uploaded book or typed rows
    (places checked against ``net``, default: the shipped network)."""
    from greenlane.routing.planner.candidates import resolve_place
    from greenlane.webapp.resources import network
    from greenlane.webapp.viewmodels import objective_label

    if form.get("use_demo") and demo_book.exists():
        parsed = upload_shipments(demo_book.name, demo_book.read_bytes())
        source = "Demo book"
    elif upload is not None and upload.filename:
        parsed = upload_shipments(upload.filename, upload.read())
        source = upload.filename
    else:
        parsed = form_shipments(form.to_dict(flat=False))
        source = f"{len(parsed)} typed shipment(s)"
    net = net or network()
    for s in parsed:  # unknown places named by their line or form row
        resolve_place(net, s.origin, f"{s.where}.origin")
        resolve_place(net, s.destination, f"{s.where}.destination")
    shipments = [shipment_dict(s) for s in parsed]
    options = form_options(form)
    name = form.get("name", "").strip() or f"{source} · {objective_label(options)}"
    return PlanRequest.model_validate(
        {"shipments": shipments, "options": options, "name": name[:200]}
    )
