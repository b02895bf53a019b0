"""The planner UI: server-rendered pages, a little vanilla JS, CSRF-protected forms
(``webapp.csrf``).

Log in once with a token (kept as its id in the signed session). Enter shipments or upload a
book, choose the objective, watch the job, then read the plan on a map, in tables and charts,
compare two plans, accept one and download its reports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from pydantic import ValidationError

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import InputError
from greenlane.webapp import books, datasets, reports, services, store, viewmodels
from greenlane.webapp.auth import (
    UI_ROLES,
    authenticate,
    end_session,
    login_required,
    open_session,
)
from greenlane.webapp.db import engine_of, transaction
from greenlane.webapp.problems import ApiProblem, field_path

bp = Blueprint("ui", __name__)
"""Templates: ``webapp/templates/ui``; static files and vendored JS: ``webapp/static``."""

F = TypeVar("F", bound=Callable[..., Any])
DEMO_BOOK = DATA_DIR / "examples" / "shipments.csv"


# ----------------------------------------------------------------------------- session


@bp.get("/login")
def login() -> str:
    """The login form (a token)."""
    return render_template("ui/login.html", next=request.args.get("next", ""))


@bp.post("/login")
def login_post() -> Response | str:
    """Check the token; keep its id in the session."""
    who = authenticate(engine_of(), request.form.get("token", "").strip())
    if who is None or who.role not in UI_ROLES:
        if who is None:
            flash("Unknown, expired or revoked token.", "error")
        else:
            flash(f"A {who.role} token is for the API only; log in with a planner token.", "error")
        status = 401 if who is None else 403
        return render_template("ui/login.html", next=request.form.get("next", "")), status  # type: ignore[return-value]
    session.clear()
    session["sid"] = open_session(engine_of(), who.token_id)
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("ui.index")
    return redirect(target)  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    """End the server-side session (a copied cookie stops working) and forget it."""
    sid = session.get("sid")
    if sid:
        end_session(engine_of(), str(sid))
    session.clear()
    return redirect(url_for("ui.login"))  # type: ignore[return-value]


# ----------------------------------------------------------------------------- pages


@bp.get("/")
@login_required(*UI_ROLES)
def index() -> str:
    """Plans list and the new-plan form (partners: what is shared with them)."""
    if g.principal.is_partner:
        return render_template("ui/shared.html", items=services.shared_with(g.principal))
    with transaction() as conn:
        rows = store.list_plans(conn, organisation=g.principal.organisation)
    plans = [
        {
            "id": r.id,
            "name": r.name,
            "status": r.status,
            "state": r.state,
            "created_at": r.created_at.strftime("%Y-%m-%d %H:%M"),
            "cost_cny": r.result["summary"]["cost_cny"],
            "co2e_wtw_kg": r.result["summary"]["co2e_wtw_kg"],
            "intensity_g_per_tkm": r.result["summary"]["intensity_g_per_tkm"],
            "shipments": r.result["summary"]["shipments_planned"],
            "dataset_id": r.dataset_id or datasets.SHIPPED,
        }
        for r in rows
    ]
    choice = datasets.listing(g.principal)
    net = datasets.network_of(
        datasets.dataset_of(datasets.resolve(None, g.principal, "dataset_id"))
    )
    hubs = sorted(net.hubs.values(), key=lambda h: h.hub_id)
    return render_template(
        "ui/index.html",
        plans=plans,
        hubs=hubs,
        objectives=viewmodels.OBJECTIVES,
        demo_book=DEMO_BOOK.exists(),
        columns=books.COLUMNS,
        form=session.pop("form", None),
        datasets=choice,
    )


@bp.post("/plans")
@login_required("planner")
def create_plan() -> Response:
    """Parse the book and options, queue the job, show its progress."""
    try:
        chosen = request.form.get("dataset_id") or None
        net = datasets.network_of(
            datasets.dataset_of(datasets.resolve(chosen, g.principal, "dataset_id"))
        )
        body = books.form_request(request.form, request.files.get("book"), DEMO_BOOK, net)
        sub = services.submit_plan(
            body, g.principal, force_async=True, pareto_points=int(_config("UI_PARETO_POINTS"))
        )
    except InputError as exc:
        flash(f"{exc.field}: {exc.message}" if exc.field else exc.message, "error")
        return redirect(url_for("ui.index"))  # type: ignore[return-value]
    except ValidationError as exc:
        err = exc.errors()[0]
        flash(f"{field_path(tuple(err['loc']))}: {err['msg']}", "error")
        return redirect(url_for("ui.index"))  # type: ignore[return-value]
    return redirect(url_for("ui.job", job_id=sub.job_id))  # type: ignore[return-value]


def _config(key: str) -> Any:
    from flask import current_app

    return current_app.config[key]


@bp.get("/jobs/<job_id>")
@login_required("planner")
def job(job_id: str) -> str:
    """Progress of a job (the page polls ``job_json``)."""
    job = _job_or_404(job_id)
    return render_template("ui/job.html", job=job)


@bp.get("/jobs/<job_id>/status")
@login_required("planner")
def job_json(job_id: str) -> Response:
    """The job as JSON, with the results page URL once done."""
    job = _job_or_404(job_id)
    if job["plan_id"]:
        job["page_url"] = url_for("ui.plan", plan_id=job["plan_id"])
    return jsonify(job)


def _job_or_404(job_id: str) -> dict[str, Any]:
    try:
        return services.get_job_json(job_id, g.principal)
    except ApiProblem:
        abort(404)


def _plan_row(plan_id: str) -> Any:
    try:
        with transaction() as conn:
            return services.plan_row(conn, plan_id, g.principal)
    except ApiProblem:
        abort(404)


@bp.get("/plans/<plan_id>")
@login_required("planner")
def plan(plan_id: str) -> str:
    """The results page: map, tables, trade-off and trajectory charts, reports."""
    row = _plan_row(plan_id)
    with transaction() as conn:
        shares = [services.share_json(s) for s in store.plan_shares(conn, plan_id)]
        downloads = [
            {
                "partner_id": d.partner_id,
                "what": d.shipment_id or "whole plan",
                "fmt": d.fmt,
                "at": d.created_at.strftime("%Y-%m-%d %H:%M"),
            }
            for d in store.plan_downloads(conn, plan_id)
        ]
    return render_template(
        "ui/plan.html", page=viewmodels.plan_page(row), shares=shares, downloads=downloads
    )


@bp.post("/plans/<plan_id>/accept")
@login_required("planner")
def accept(plan_id: str) -> Response:
    """Accept the plan."""
    try:
        services.accept(plan_id, g.principal)
    except ApiProblem:
        abort(404)
    flash("Plan accepted.", "ok")
    return redirect(url_for("ui.plan", plan_id=plan_id))  # type: ignore[return-value]


@bp.post("/plans/<plan_id>/share")
@login_required("planner")
def share(plan_id: str) -> Response:
    """Share the plan (or one shipment) with a partner."""
    partner = request.form.get("partner_id", "").strip()
    shipment = request.form.get("shipment_id", "").strip() or None
    try:
        if not partner:
            raise InputError("enter a partner id", field="partner_id")
        services.share(plan_id, partner, [shipment] if shipment else None, g.principal)
    except ApiProblem:
        abort(404)
    except InputError as exc:
        flash(f"{exc.field}: {exc.message}", "error")
        return redirect(url_for("ui.plan", plan_id=plan_id))  # type: ignore[return-value]
    flash(f"Shared with {partner}.", "ok")
    return redirect(url_for("ui.plan", plan_id=plan_id))  # type: ignore[return-value]


@bp.post("/plans/<plan_id>/scenario")
@login_required("planner")
def scenario(plan_id: str) -> Response:
    """Re-plan a copy of the plan with edits (objective, a curve point, pinned shipments)."""
    row = _plan_row(plan_id)
    try:
        body, pinned = books.scenario_request(row.request, row.result, row.name, request.form)
        sub = services.submit_plan(
            body,
            g.principal,
            force_async=True,
            pareto_points=int(_config("UI_PARETO_POINTS")),
            extra={"scenario_of": plan_id, "pinned": pinned},
        )
    except InputError as exc:
        flash(f"{exc.field}: {exc.message}" if exc.field else exc.message, "error")
        return redirect(url_for("ui.plan", plan_id=plan_id))  # type: ignore[return-value]
    except ValidationError as exc:
        err = exc.errors()[0]
        flash(f"{field_path(tuple(err['loc']))}: {err['msg']}", "error")
        return redirect(url_for("ui.plan", plan_id=plan_id))  # type: ignore[return-value]
    return redirect(url_for("ui.job", job_id=sub.job_id))  # type: ignore[return-value]


@bp.post("/plans/<plan_id>/unshare")
@login_required("planner")
def unshare(plan_id: str) -> Response:
    """Stop sharing the plan (or one shipment) with a partner."""
    partner = request.form.get("partner_id", "").strip()
    shipment = request.form.get("shipment_id", "").strip() or None
    try:
        services.unshare(plan_id, partner, shipment, g.principal)
    except ApiProblem as exc:
        if exc.status != 404 or not partner:
            abort(404)
        flash(exc.detail or exc.title, "error")
        return redirect(url_for("ui.plan", plan_id=plan_id))  # type: ignore[return-value]
    flash(f"No longer shared with {partner}: {shipment or 'whole plan'}.", "ok")
    return redirect(url_for("ui.plan", plan_id=plan_id))  # type: ignore[return-value]


@bp.post("/plans/<plan_id>/disruptions")
@login_required("planner")
def disrupt(plan_id: str) -> Response:
    """Apply one disruption from the form; show its impact."""
    f = request.form
    item = {
        "disruption_id": f.get("disruption_id", "").strip() or "UI-1",
        "kind": f.get("kind", ""),
        "ref": f.get("ref", "").strip(),
        "start": f.get("start", ""),
        "end": f.get("end", ""),
        "reason": f.get("reason", "").strip(),
    }
    try:
        done = services.disrupt(plan_id, [item], g.principal)
    except ApiProblem:
        abort(404)
    except InputError as exc:
        flash(f"{exc.field}: {exc.message}" if exc.field else exc.message, "error")
        return redirect(url_for("ui.plan", plan_id=plan_id))  # type: ignore[return-value]
    return redirect(url_for("ui.impact", plan_id=done.plan_id))  # type: ignore[return-value]


@bp.get("/plans/<plan_id>/impact")
@login_required("planner")
def impact(plan_id: str) -> str:
    """A re-plan's impact: hit shipments before → after, totals, the re-routed map."""
    row = _plan_row(plan_id)
    if "impact" not in row.request:
        abort(404)
    return render_template(
        "ui/impact.html",
        page=viewmodels.plan_page(row),
        impact=row.request["impact"],
        disruptions=row.request.get("disruptions", []),
        original=row.request.get("replan_of"),
    )


@bp.get("/compare")
@login_required("planner")
def compare() -> str:
    """Two plans side by side."""
    a, b = request.args.get("a", ""), request.args.get("b", "")
    if not a or not b:
        ids = request.args.getlist("plan")
        if len(ids) != 2:
            flash("Tick exactly two plans to compare.", "error")
            return redirect(url_for("ui.index"))  # type: ignore[return-value]
        a, b = ids
    row_a, row_b = _plan_row(a), _plan_row(b)
    va, vb = viewmodels.plan_page(row_a), viewmodels.plan_page(row_b)
    return render_template(
        "ui/compare.html",
        a=va,
        b=vb,
        rows=viewmodels.compare_rows(va["summary"], vb["summary"]),
        paths=viewmodels.compare_paths(row_a, row_b),
    )


# ----------------------------------------------------------------------------- datasets


@bp.get("/datasets")
@login_required("planner")
def datasets_page() -> str:
    """The organisation's datasets, the one in force, and the upload form."""
    return render_template("ui/datasets.html", listing=datasets.listing(g.principal))


@bp.post("/datasets")
@login_required("planner")
def upload_dataset() -> Response:
    """Store an uploaded dataset, then show what it changes before it is activated."""
    files = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]
    try:
        stored = datasets.upload(files, request.form.get("name", ""), g.principal)
    except (InputError, ApiProblem) as exc:
        message = exc.message if isinstance(exc, InputError) else exc.detail or exc.title
        flash(f"{exc.field}: {message}" if exc.field else message, "error")
        return redirect(url_for("ui.datasets_page"))  # type: ignore[return-value]
    if not stored.created:
        flash("The same content is already stored as this dataset.", "ok")
    return redirect(url_for("ui.dataset_page", dataset_id=stored.dataset_id))  # type: ignore[return-value]


@bp.get("/datasets/<dataset_id>")
@login_required("planner")
def dataset_page(dataset_id: str) -> str:
    """What a dataset changes against the one in force; the activate button."""
    try:
        detail = datasets.detail(dataset_id, g.principal)
    except ApiProblem:
        abort(404)
    return render_template("ui/dataset.html", ds=detail, detailed=datasets.DETAILED_TABLES)


@bp.post("/datasets/<dataset_id>/activate")
@login_required("planner")
def activate_dataset(dataset_id: str) -> Response:
    """Put the dataset (or ``default``, the shipped tables) in force for the organisation."""
    try:
        datasets.activate(dataset_id, g.principal)
    except ApiProblem:
        abort(404)
    what = (
        "The shipped tables are" if dataset_id == datasets.SHIPPED else f"Dataset {dataset_id} is"
    )
    flash(f"{what} in force: new plans are made on them.", "ok")
    return redirect(url_for("ui.datasets_page"))  # type: ignore[return-value]


# ----------------------------------------------------------------------------- downloads


def _download(report: reports.Report) -> Response:
    resp = Response(report.body, mimetype=report.mimetype.split(";")[0])
    resp.headers["Content-Disposition"] = report.content_disposition
    return resp


@bp.get("/plans/<plan_id>/shipments.xlsx")
@login_required("planner")
def shipments_xlsx(plan_id: str) -> Response:
    """The shipment table (shipments and legs) as an Excel workbook."""
    row = _plan_row(plan_id)
    body = viewmodels.shipments_xlsx(
        row.name, viewmodels.shipment_views(row), viewmodels.provenance_rows(row)
    )
    resp = Response(
        body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp.headers["Content-Disposition"] = reports.content_disposition(
        f"greenlane-{reports._safe(plan_id)}-shipments.xlsx"
    )
    return resp


@bp.get("/plans/<plan_id>/report.<fmt>")
@login_required(*UI_ROLES)
def plan_report(plan_id: str, fmt: str) -> Response:
    """Download a plan's report."""
    if fmt not in reports.MIMETYPES:
        abort(404)
    try:
        return _download(reports.render(plan_id, fmt, g.principal))
    except ApiProblem:
        abort(404)


@bp.get("/plans/<plan_id>/shipments/<path:shipment_id>/report.<fmt>")
@login_required(*UI_ROLES)
def shipment_report(plan_id: str, shipment_id: str, fmt: str) -> Response:
    """Download one shipment's report."""
    if fmt not in reports.MIMETYPES:
        abort(404)
    try:
        return _download(reports.render(plan_id, fmt, g.principal, shipment_id))
    except ApiProblem:
        abort(404)


def _fmt(value: Any, dp: int = 0) -> str:
    if value is None:
        return "–"
    try:
        return f"{float(value):,.{dp}f}"
    except (TypeError, ValueError):
        return str(value)


def init_app(app: Flask) -> None:
    """Register the UI and its template helpers (CSRF: ``webapp.csrf``)."""
    app.register_blueprint(bp)
    app.jinja_env.filters["num"] = _fmt
    app.context_processor(_viewer)


def _viewer() -> dict[str, Any]:
    """``viewer``: the logged-in principal of this page (None on login and error pages)."""
    return {"viewer": g.get("principal")}
