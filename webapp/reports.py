"""Partner reports of a stored plan: CSV, GeoJSON, PDF and iLEAP JSON, with partner scoping.

Every report is rendered by ``emissions.report`` from the footprints stored with the plan,
so the numbers a planner sees, an ERP receives and a partner downloads are one. A partner
token sees only the plans and shipments shared with it; anything else is a 404.
"""

from __future__ import annotations

import json
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import current_app

from greenlane.emissions.model import Footprint
from greenlane.webapp import services, store
from greenlane.webapp.auth import Principal
from greenlane.webapp.db import as_utc, transaction
from greenlane.webapp.problems import ApiProblem

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "pdf": "application/pdf",
    "ileap.json": "application/json",
}
_NAMESPACE = uuid.UUID("6f1c1d1e-3c55-4a8e-9a51-6b9d0c7e2a10")
"""UUID namespace of ProductFootprint ids (stable per plan and shipment)."""


@dataclass(frozen=True, slots=True)
class Report:
    """A rendered report."""

    body: bytes
    mimetype: str
    filename: str

    @property
    def content_disposition(self) -> str:
        """``attachment`` with an ASCII ``filename`` and the UTF-8 ``filename*`` (RFC 6266)."""
        return content_disposition(self.filename)


def content_disposition(filename: str) -> str:
    """An ``attachment`` header value safe for any name (RFC 6266, RFC 5987 ``filename*``).

    Header values must be Latin-1 (WSGI); a raw ``漢`` breaks the answer. The plain
    ``filename`` is an ASCII fallback; ``filename*=UTF-8''…`` carries the real name.
    """
    fallback = _ascii(filename)
    value = f'attachment; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def _ascii(text: str) -> str:
    """``text`` reduced to ``[A-Za-z0-9._-]``: ``é`` -> ``e``, ``漢`` or ``/`` -> ``_``."""
    out = []
    for char in text:
        base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
        out.append(base if base and all(c.isalnum() or c in "-_." for c in base) else "_")
    return "".join(out)


def _scoped(
    plan_id: str, principal: Principal, shipment_id: str | None
) -> tuple[Any, list[Footprint]]:
    with transaction() as conn:
        row = services.plan_row(conn, plan_id, principal)
        visible = (
            store.visible_shipments(conn, plan_id, principal.partner_id or "")
            if principal.is_partner
            else None
        )
    footprints = store.footprints_from_json(row.footprints)
    if shipment_id is not None:
        footprints = [f for f in footprints if f.shipment_id == shipment_id]
        if not footprints or (visible is not None and shipment_id not in visible):
            raise ApiProblem(404, "Not Found", f"no shipment {shipment_id!r} in plan {plan_id!r}")
    elif visible is not None:
        footprints = [f for f in footprints if f.shipment_id in visible]
    if not footprints:
        raise ApiProblem(404, "Not Found", f"plan {plan_id!r} has no planned shipment to report")
    return row, footprints


def render(plan_id: str, fmt: str, principal: Principal, shipment_id: str | None = None) -> Report:
    """Render a plan's (or one shipment's) report in ``fmt``."""
    row, footprints = _scoped(plan_id, principal, shipment_id)
    stem = f"{plan_id}-{shipment_id}" if shipment_id else plan_id
    ext = {"ileap.json": "ileap.json"}.get(fmt, fmt)
    filename = f"greenlane-{_safe(stem)}.{ext}"
    used = services.plan_dataset(row)
    if fmt == "csv":
        body = _csv_with_costs(row.result, footprints, used).encode("utf-8-sig")
    elif fmt == "geojson":
        from greenlane.emissions.report.geojson import footprints_to_geojson

        doc = footprints_to_geojson(footprints)
        doc.setdefault("properties", {})
        doc["properties"].update(plan_id=plan_id, data_sha256=dict(row.data_sha256), dataset=used)
        body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    elif fmt == "pdf":
        from greenlane.emissions.report.pdf import footprint_report_pdf
        from greenlane.webapp.ledger.reporting import report_context

        with transaction() as conn:  # certificates beside the emissions; ledger entry ids
            certificates, label = report_context(
                conn, plan_id, row.result, [f.shipment_id for f in footprints]
            )
        generated_at = as_utc(row.created_at)
        assert generated_at is not None  # plans.created_at is NOT NULL
        body = footprint_report_pdf(
            footprints,
            title=f"Transport emissions report: {row.name}",
            plan_id=label,
            certificates=certificates,
            software_version=row.software_version,
            generated_at=generated_at,
            summary=_pdf_summary(row, footprints, principal, whole=shipment_id is None),
            dataset=(used["id"], used["sha256"] or "n/a"),
        )
    elif fmt == "ileap.json":
        body = json.dumps(_ileap(row, footprints, shipment_id), ensure_ascii=False).encode()
    else:  # pragma: no cover - the path model restricts fmt
        raise ApiProblem(404, "Not Found", f"unknown report format {fmt!r}")
    if principal.is_partner:  # the planner sees who downloaded what
        with transaction() as conn:
            store.record_download(
                conn, plan_id, shipment_id, fmt, principal.partner_id or "", principal.token_id
            )
    return Report(body, MIMETYPES[fmt], filename)


def _pdf_summary(row: Any, footprints: list[Footprint], principal: Principal, whole: bool) -> Any:
    """Page 1 context: the KPI intensity of the reported shipments against the plan's target;
    cost and the trade-off curve only in a planner's or integrator's whole-plan report."""
    from greenlane.emissions.intensity import default_target
    from greenlane.emissions.report.pdf import Summary
    from greenlane.emissions.units import intensity_g_per_tkm
    from greenlane.webapp.viewmodels import plan_year

    shown = {f.shipment_id for f in footprints}
    ships = [s for s in row.result["shipments"] if s["shipment_id"] in shown]
    co2e_kg = sum(s["co2e_wtw_kg"] for s in ships)
    tkm_gcd = sum(s.get("tkm_gcd") or 0.0 for s in ships)
    target = default_target()
    year = plan_year(row)
    internal = whole and not principal.is_partner
    summary = row.result["summary"]
    return Summary(
        cost_cny=sum(s["cost_cny"] for s in ships) if not principal.is_partner else None,
        kpi_intensity_g_per_tkm=intensity_g_per_tkm(co2e_kg, tkm_gcd) if tkm_gcd > 0 else None,
        target_year=year,
        target_g_per_tkm=target.intensity_g_per_tkm(year),
        tradeoff=[(p["co2e_wtw_kg"], p["cost_cny"]) for p in (row.pareto or [])]
        if internal
        else (),
        chosen=(summary["co2e_wtw_kg"], summary["cost_cny"]) if internal else None,
    )


def _ileap(row: Any, footprints: list[Footprint], shipment_id: str | None) -> dict[str, Any]:
    """One shipment: its iLEAP ShipmentFootprint. A plan: PACT ProductFootprints (``data``)."""
    from greenlane.emissions.report import to_ileap_shipment_footprint

    if shipment_id is not None:
        return to_ileap_shipment_footprint(footprints[0])
    from greenlane.emissions.report.pact import to_pact_product_footprint

    config = current_app.config
    created = as_utc(row.created_at)
    return {
        "data": [
            to_pact_product_footprint(
                fp,
                company_name=config["COMPANY_NAME"],
                company_ids=[config["COMPANY_ID"]],
                pf_id=str(uuid.uuid5(_NAMESPACE, f"{row.id}/{fp.shipment_id}")),
                created=created,  # type: ignore[arg-type]
            )
            for fp in footprints
        ]
    }


COST_COLUMNS = (
    "price_basis",
    "cost_cny",
    "cost_freight_cny",
    "cost_energy_cny",
    "cost_toll_cny",
    "cost_eu_ets_cny",
    "cost_fueleu_cny",
    "cost_saf_mandate_cny",
    "cost_ets2_cny",
)
"""Columns the partner CSV adds to the emissions TCE table: each leg's cost and what each
regulation adds (CNY, from ``legs[].cost_breakdown`` of the plan JSON); empty on hubs."""
DATASET_COLUMNS = ("dataset_id", "dataset_sha256")
"""The last columns of the partner CSV: the dataset the plan was made on (every row)."""


def _csv_with_costs(
    result: dict[str, Any], footprints: list[Footprint], dataset: dict[str, str]
) -> str:
    """The per-TCE CSV with the leg costs by component (the i-th leg TCE of a shipment is its
    i-th planned leg) and the dataset planned on."""
    import csv
    import io

    from greenlane.emissions.report.tables import TCE_COLUMNS, spreadsheet_safe, tce_rows

    legs = {s["shipment_id"]: s.get("legs", []) for s in result.get("shipments", [])}
    seen: dict[str, int] = {}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow((*TCE_COLUMNS, *COST_COLUMNS, *DATASET_COLUMNS))
    used = [spreadsheet_safe(dataset["id"]), dataset["sha256"]]
    for rec in tce_rows(footprints):
        cells = [
            ""
            if rec[c] is None
            else format(rec[c], "f")
            if not isinstance(rec[c], str)
            else spreadsheet_safe(str(rec[c]))
            for c in TCE_COLUMNS
        ]
        extra = [""] * len(COST_COLUMNS)
        sid = str(rec["shipment_id"])
        if rec["kind"] == "leg":
            i = seen.get(sid, 0)
            seen[sid] = i + 1
            planned = legs.get(sid, [])
            if i < len(planned):
                leg = planned[i]
                split = leg.get("cost_breakdown") or {}
                extra = [
                    spreadsheet_safe(str(leg.get("price_basis", ""))),
                    str(leg.get("cost_cny", "")),
                    *(str(split.get(k[5:-4], "")) for k in COST_COLUMNS[2:]),
                ]
        writer.writerow([*cells, *extra, *used])
    return buf.getvalue()


def _safe(text: str) -> str:
    """A file-name stem: letters and digits (any script), ``-``, ``_`` and ``.``."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:120]
