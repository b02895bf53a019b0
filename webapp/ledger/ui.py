"""The ``/ledger`` pages (templates: ``webapp/templates/ledger``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from pydantic import ValidationError
from sqlalchemy import select

from greenlane.emissions.errors import InputError
from greenlane.emissions.units import PCT, intensity_g_per_tkm
from greenlane.webapp.auth import login_required
from greenlane.webapp.db import transaction, utcnow
from greenlane.webapp.ledger import actuals, certificates, chain, exchange, levers, reporting
from greenlane.webapp.ledger import audit as ledger_audit
from greenlane.webapp.ledger.levers import start_levers
from greenlane.webapp.ledger.schemas import (
    AssignIn,
    BaselineIn,
    CertificateIn,
    ClaimQuery,
    KpiQuery,
    LeversIn,
    RetireIn,
)
from greenlane.webapp.ledger.services import (
    attachment,
    claim_json,
    claim_query,
    guard_conflicts,
    lane_pdf,
    move_certificate,
)
from greenlane.webapp.problems import ApiProblem, field_path

READERS = ("planner", "integration")


ui = Blueprint("ledger_ui", __name__, url_prefix="/ledger")
"""Templates: ``webapp/templates/ledger``."""


# ----------------------------------------------------------------------------- UI


def _flash_error(exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        flash(f"{field_path(tuple(err['loc']))}: {err['msg']}", "error")
    elif isinstance(exc, ApiProblem):
        flash(exc.detail or exc.title, "error")
    elif isinstance(exc, InputError):
        flash(f"{exc.field}: {exc.message}" if exc.field else exc.message, "error")
    else:  # pragma: no cover
        raise exc


def _charts(report: dict[str, Any], year: int) -> dict[str, Any]:
    """Chart data for the dashboard (numbers from ``kpi_report``; no arithmetic in JS)."""
    st = report["standing"]
    return {
        "trajectory": [{"x": p["year"], "y": p["target_g_per_tkm"]} for p in report["trajectory"]],
        "actual": [{"x": p["year"], "y": p["intensity_g_per_tkm"]} for p in report["by_year"]],
        "projection": {  # no actual in the year: no ring drawn at 0 g/tkm
            "x": st["year"],
            "y": st["projected_g_per_tkm"] if st["on_track"] is not None else None,
        },
        "baseline": {
            "x": report["baseline"]["baseline_year"],
            "y": report["baseline"]["baseline_intensity_g_per_tkm"],
        },
        "year": year,
    }


@ui.get("/")
@login_required(*READERS)
def dashboard() -> str:
    """Standing, trajectory and period charts, breakdowns, baseline, audit status."""
    try:
        q = KpiQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        _flash_error(exc)
        q = KpiQuery.model_validate({})
    by = None if q.by == "network" else q.by
    with transaction() as conn:
        report = reporting.kpi_report(conn, q.period, by, q.year)
        focus = report["standing"]["year"]
        months = reporting.kpi_report(conn, "month", None, focus)["rows"]
        audit = ledger_audit.verify(conn)
        recent = [chain.entry_json(r, e) for r, e in chain.entries(conn)][-8:][::-1]
        lanes = reporting.lanes(conn)
    charts = _charts(report, focus)
    charts["months"] = [
        {"period": r["period"], "y": r["intensity_g_per_tkm"], "target": r["target_g_per_tkm"]}
        for r in months
    ]
    reduction_pct = round(float(report["baseline"]["reduction_share"]) * PCT)
    return render_template(
        "ledger/dashboard.html",
        report=report,
        q=q,
        charts=charts,
        audit=audit,
        recent=recent,
        lanes=lanes,
        year=focus,
        reduction_pct=reduction_pct,
        dimensions=("network", "mode", "lane", "carrier", "energy_carrier"),
    )


@ui.get("/kpi.<fmt>")
@login_required(*READERS)
def kpi_download(fmt: str) -> Response:
    """The KPI as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    try:
        q = KpiQuery.model_validate({**request.args.to_dict(), "format": fmt})
    except ValidationError:
        abort(400)
    by = None if q.by == "network" else q.by
    with transaction() as conn:
        if fmt == "xlsx":
            return attachment(
                exchange.kpi_xlsx(conn, q.period, q.year),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                f"greenlane-kpi-{q.period}.xlsx",
            )
        report = reporting.kpi_report(conn, q.period, by, q.year)
    return attachment(exchange.kpi_csv(report), "text/csv", f"greenlane-kpi-{q.period}-{q.by}.csv")


@ui.post("/baseline")
@login_required("planner")
def baseline_form() -> Response:
    """Set the baseline from the form."""
    form = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    try:
        body = BaselineIn.model_validate(form)
        chain.in_ledger_transaction(
            lambda conn: reporting.set_baseline(
                conn,
                baseline_year=body.baseline_year,
                intensity_g_per_tkm=body.intensity_g_per_tkm,
                target_year=body.target_year,
                reduction_share=body.reduction_share,
                source=body.source,
                created_by=g.principal.token_id,
            )
        )
        flash("Baseline recorded in the ledger.", "ok")
    except (ValidationError, InputError) as exc:
        _flash_error(exc)
    return redirect(url_for("ledger_ui.dashboard"))  # type: ignore[return-value]


@ui.get("/actuals")
@login_required(*READERS)
def actuals_page() -> str:
    """Recorded shipments (newest version each) and the CSV import."""
    with transaction() as conn:
        rows = actuals.latest_actuals(conn)
        seqs = actuals.actual_entry_seqs(conn, [r.id for r in rows])
        items = [
            {
                "shipment_id": r.shipment_id,
                "version": r.version,
                "lane": r.lane,
                "completed_at": chain.iso_utc(r.completed_at),
                "carrier": r.carrier,
                "co2e_wtw_kg": r.co2e_wtw_kg,
                "tkm_gcd": r.tkm_gcd,
                "intensity": intensity_g_per_tkm(r.co2e_wtw_kg, r.tkm_gcd),
                "plan_id": r.plan_id,
                "entry": seqs.get(r.id),
            }
            for r in rows[::-1]
        ]
    return render_template("ledger/actuals.html", items=items, columns=exchange.IMPORT_COLUMNS)


@ui.post("/actuals/import")
@login_required("planner")
def actuals_import() -> Response:
    """Import actuals from an uploaded CSV (all or nothing)."""
    from greenlane.emissions.limits import decode_utf8
    from greenlane.webapp.resources import network

    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InputError("choose a CSV file", field="file")
        text_ = decode_utf8(upload.read(), "file")
        net = network()
        items = exchange.parse_actuals_csv(text_, net)
        done = actuals.record_actuals(items, net, g.principal.token_id)
        flash(f"Recorded {len(done)} actual shipment(s) in the ledger.", "ok")
    except (ValidationError, InputError) as exc:
        _flash_error(exc)
    return redirect(url_for("ledger_ui.actuals_page"))  # type: ignore[return-value]


@ui.get("/shipments/<shipment_id>")
@login_required(*READERS)
def shipment_page(shipment_id: str) -> str:
    """Plan vs actual of one shipment."""
    with transaction() as conn:
        try:
            cmp_ = actuals.comparison(conn, shipment_id)
        except LookupError:
            abort(404)
    return render_template("ledger/shipment.html", c=cmp_)


@ui.get("/certificates")
@login_required(*READERS)
def certificates_page() -> str:
    """Certificates and the register / assign / retire forms."""
    with transaction() as conn:
        rows = certificates.list_certificates(conn)
        seqs = certificates.certificate_seqs(conn, [r.id for r in rows])
        certs = [certificates.certificate_json(r, seqs[r.id]) for r in rows]
        lanes = reporting.lanes(conn)
    return render_template("ledger/certificates.html", certs=certs, lanes=lanes, year=utcnow().year)


@ui.post("/certificates")
@login_required("planner")
def certificate_register() -> Response:
    """Register a certificate from the form."""
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        body = CertificateIn.model_validate(form)
        guard_conflicts(
            chain.in_ledger_transaction,
            lambda conn: certificates.register_certificate(
                conn, **body.model_dump(), created_by=g.principal.token_id
            ),
        )
        flash(f"Registered {body.registry} {body.serial}.", "ok")
    except (ValidationError, InputError, ApiProblem) as exc:
        _flash_error(exc)
    return redirect(url_for("ledger_ui.certificates_page"))  # type: ignore[return-value]


@ui.post("/certificates/<certificate_id>/<action>")
@login_required("planner")
def certificate_move(certificate_id: str, action: str) -> Response:
    """Assign, release or retire from the forms."""
    form = {k: v for k, v in request.form.items() if k not in ("csrf_token", "target") and v}
    target = request.form.get("target", "").strip()
    if target:
        form["lane" if ">" in target else "shipment_id"] = target
    try:
        if action == "assign":
            move_certificate(certificate_id, "assigned", AssignIn.model_validate(form))
        elif action == "release":
            move_certificate(certificate_id, "held")
        elif action == "retire":
            body = RetireIn.model_validate(form)
            move_certificate(
                certificate_id,
                "retired",
                body,
                claim_year=body.claim_year,
                beneficiary=body.beneficiary,
            )
        else:
            abort(404)
        flash(f"Certificate {action}{'d' if action.endswith('e') else 'ed'}.", "ok")
    except (ValidationError, InputError, ApiProblem) as exc:
        _flash_error(exc)
    return redirect(url_for("ledger_ui.certificates_page"))  # type: ignore[return-value]


@ui.get("/lane")
@login_required(*READERS)
def lane_page() -> Any:
    """A trade lane's year: emissions, reductions, credits and the claim check."""
    try:
        q = ClaimQuery.model_validate(
            {
                "lane": request.args.get("lane", ""),
                "year": request.args.get("year") or utcnow().year,
            }
        )
    except ValidationError as exc:
        _flash_error(exc)
        return redirect(url_for("ledger_ui.dashboard"))
    with transaction() as conn:
        claim = claim_json(conn, q.lane, q.year)
    return render_template("ledger/lane.html", c=claim, qs=claim_query(q.lane, q.year))


@ui.get("/lane.pdf")
@login_required(*READERS)
def lane_pdf_download() -> Response:
    """The lane report PDF."""
    try:
        q = ClaimQuery.model_validate(
            {"lane": request.args.get("lane", ""), "year": request.args.get("year", "")}
        )
        body = lane_pdf(q.lane, q.year)
    except (ValidationError, ApiProblem):
        abort(404)
    return attachment(body, "application/pdf", f"greenlane-lane-{q.year}.pdf")


@ui.get("/levers")
@login_required(*READERS)
def levers_page() -> str:
    """The MACC chart and table of a lever run (the newest by default)."""
    run_id = request.args.get("run")
    with transaction() as conn:
        row = levers.get_lever_run(conn, run_id)
        plans_ = _accepted_plans(conn)
    run = levers.lever_run_json(row) if row is not None else None
    return render_template("ledger/levers.html", run=run, plans=plans_)


def _accepted_plans(conn: Any) -> list[dict[str, Any]]:

    from greenlane.webapp.tables import plans

    rows = conn.execute(
        select(plans.c.id, plans.c.name)
        .where(plans.c.state == "accepted")
        .order_by(plans.c.accepted_at.desc())
    )
    return [{"id": r.id, "name": r.name} for r in rows]


@ui.post("/levers")
@login_required("planner")
def levers_start() -> Response:
    """Start a lever run in the background and show it."""
    form = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    try:
        body = LeversIn.model_validate(form)
        run_id = start_levers(body, g.principal, force_async=True)
    except (ValidationError, InputError) as exc:
        _flash_error(exc)
        return redirect(url_for("ledger_ui.levers_page"))  # type: ignore[return-value]
    return redirect(url_for("ledger_ui.levers_page", run=run_id))  # type: ignore[return-value]


@ui.get("/verify")
@login_required(*READERS)
def verify_page() -> str:
    """The audit check and the newest entries."""
    with transaction() as conn:
        audit = ledger_audit.verify(conn)
        recent = [chain.entry_json(r, e) for r, e in chain.entries(conn)][-50:][::-1]
    return render_template("ledger/verify.html", audit=audit, recent=recent)
