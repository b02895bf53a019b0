"""The carbon ledger in the web app: ``/api/v1`` endpoints and the ``/ledger`` pages.

API (Bearer token; POSTs take an ``Idempotency-Key``; errors are problem+json):

* ``POST /shipments/{id}/actuals`` records an executed shipment (legs as driven, primary data
  where known) recomputed with the plan engine; ``GET /shipments/{id}/actuals`` its versions;
  ``GET /shipments/{id}/comparison`` plan vs actual.
* ``GET /ledger/kpi`` intensity by month/quarter/year and mode/lane/carrier/energy carrier,
  the baseline, the glide path, the standing and year-end projection (``format=csv|xlsx``);
  ``GET|POST /ledger/baseline``.
* ``POST /certificates``, ``GET /certificates[/{id}]``, ``POST /certificates/{id}/assign |
  release | retire``: certificates beside the emissions, never netted.
* ``GET /ledger/claim`` (``claim.pdf``): a trade lane's emissions, reductions and retired
  credits, and the carbon-neutral claim only when it holds.
* ``GET /ledger/entries``, ``GET /ledger/verify``: the hash chain and its check.
* ``POST /ledger/levers``, ``GET /ledger/levers/{id}``: the marginal abatement cost curve.

Views parse, make one ``webapp.ledger_store`` call and serialise.
"""

from __future__ import annotations

import hmac
from typing import Any, Literal

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.exc import IntegrityError

from greenlane.emissions.errors import GreenlaneError, InputError
from greenlane.webapp import ledger_store as ls
from greenlane.webapp.auth import Principal, roles
from greenlane.webapp.db import instance_id, transaction, utcnow
from greenlane.webapp.problems import ApiProblem, field_path, problem
from greenlane.webapp.schemas import ID_PATTERN, IdempotencyHeader, Problem

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
_ERRORS: dict[int, Any] = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    422: Problem,
    429: Problem,
}
_POST_ERRORS: dict[int, Any] = {**_ERRORS, 409: Problem, 413: Problem}
READERS = ("planner",)
"""Who reads the ledger (KPI, actuals, baseline, certificates, audit); an ERP's integration
token records actuals but reads no ledger."""

ledger_tag = Tag(
    name="ledger", description="Actuals, intensity KPI, baseline and target, audit trail, levers"
)
certs_tag = Tag(name="certificates", description="Certificates beside emissions (never netted)")

api = APIBlueprint("ledger", __name__, url_prefix="/api/v1", abp_security=SECURITY)
ui = Blueprint("ledger_ui", __name__, url_prefix="/ledger")
"""Templates: ``webapp/templates/ledger``."""


# ----------------------------------------------------------------------------- models


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class ShipmentPath(BaseModel):
    """A shipment id."""

    shipment_id: str = Field(pattern=ID_PATTERN)


class CertificatePath(BaseModel):
    """A certificate id."""

    certificate_id: str = Field(max_length=40)


class RunPath(BaseModel):
    """A lever run id."""

    run_id: str = Field(max_length=40)


class KpiQuery(BaseModel):
    """Which KPI cut: period, breakdown, year and output format."""

    period: Literal["month", "quarter", "year"] = "year"
    by: Literal["network", "mode", "lane", "carrier", "energy_carrier"] = "network"
    year: int | None = Field(None, ge=2000, le=2100)
    format: Literal["json", "csv", "xlsx"] = "json"


class BaselineIn(_In):
    """A baseline: stated, or computed from the baseline year's recorded actuals."""

    baseline_year: int = Field(2023, ge=2000, le=2100)
    intensity_g_per_tkm: float | None = Field(
        None,
        gt=0,
        le=100_000,
        description="[g CO2e WTW/tkm, GCD]; omit to compute it from the recorded actuals",
    )
    target_year: int = Field(2030, ge=2001, le=2100)
    reduction_share: float = Field(0.2, gt=0, lt=1, description="0.2 = -20 % by target_year")
    source: str = Field("", max_length=500)


class CertificateIn(_In):
    """A certificate to register (held): SAF book-and-claim, green power or carbon credit."""

    registry: str = Field(min_length=1, max_length=100, description="e.g. RSB, I-REC, GEC, CCER")
    serial: str = Field(min_length=1, max_length=200)
    kind: Literal["saf", "green_power", "carbon_credit"]
    volume: float = Field(gt=0, le=1e9)
    unit: str = Field(
        min_length=1,
        max_length=10,
        description="t or tCO2e (saf), MWh (green_power), tCO2e (credit)",
    )
    vintage: int = Field(ge=2000, le=2100)
    note: str = Field("", max_length=500)


class _Target(_In):
    shipment_id: str | None = Field(None, pattern=ID_PATTERN)
    lane: str | None = Field(
        None,
        min_length=3,
        max_length=140,
        description="trade lane origin>destination, e.g. F-NANJING>C-MADRID",
    )

    @model_validator(mode="after")
    def _one(self) -> _Target:
        if self.shipment_id is not None and self.lane is not None:
            raise ValueError("give shipment_id or lane, not both")
        if self.lane is not None and (self.lane.count(">") != 1 or not all(self.lane.split(">"))):
            raise ValueError("a lane is written origin>destination")
        return self


class AssignIn(_Target):
    """Assign a certificate to one shipment or one trade lane."""

    @model_validator(mode="after")
    def _needed(self) -> AssignIn:
        if self.shipment_id is None and self.lane is None:
            raise ValueError("give shipment_id or lane")
        return self


class RetireIn(_Target):
    """Retire a certificate (once) for a claim year, optionally assigning it first."""

    beneficiary: str = Field("", max_length=200)
    claim_year: int | None = Field(None, ge=2000, le=2100)


class CertificateQuery(BaseModel):
    """Filter certificates."""

    status: Literal["held", "assigned", "retired"] | None = None
    assigned_to: str | None = Field(None, max_length=200)


class ClaimQuery(BaseModel):
    """A trade lane and a year."""

    lane: str = Field(min_length=3, max_length=140)
    year: int = Field(ge=2000, le=2100)


class EntriesQuery(BaseModel):
    """A page of the chain."""

    after: int = Field(0, ge=0)
    limit: int = Field(100, ge=1, le=1000)


class LeversIn(_In):
    """Compute the MACC of the recorded book (or of one plan's book)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    plan_id: str | None = Field(None, max_length=40)
    kinds: list[Literal["road_bev", "air_saf", "rail_for_air", "sea_wind", "sea_lng"]] | None = None
    max_levers: int = Field(12, ge=1, le=40)
    time_limit_s: float | None = Field(None, gt=0, le=600, description="per solve [s]")
    carriers: Literal["all", "fossil"] = "all"
    carbon_price_cny_per_t: float = Field(0.0, ge=0, le=100_000)
    run_async: bool = Field(False, alias="async")


class ActualOut(_Out):
    """A recorded actual: totals, legs with KPI activity, its ledger entry."""

    id: str
    shipment_id: str
    version: int
    entry: int | None = None


# ----------------------------------------------------------------------------- API plumbing


def _principal() -> Principal:
    return g.principal  # type: ignore[no-any-return]


def _hooks() -> None:
    from greenlane.webapp import api as core

    api.before_request(core._before)
    api.after_request(core._after)
    api.teardown_request(core._teardown)


_hooks()


def _conflicts(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except ls.Conflict as exc:
        raise ApiProblem(409, "Conflict", exc.message, exc.field) from None
    except IntegrityError as exc:
        if "certificate" in str(exc.orig):
            raise ApiProblem(
                409,
                "Conflict",
                "this certificate serial is already registered or retired (no double counting)",
                "serial",
            ) from None
        raise


def _file(body: bytes, mimetype: str, filename: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def _created(body: Any, location: str) -> Response:
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = location
    return resp


# ----------------------------------------------------------------------------- actuals


@api.post(
    "/shipments/<shipment_id>/actuals",
    tags=[ledger_tag],
    responses={201: ActualOut, **_POST_ERRORS},
)
@roles("planner", "integration")
def record_actual(
    path: ShipmentPath, body: ls.ActualRequest, header: IdempotencyHeader
) -> Response:
    """Record an executed shipment; its footprint is recomputed with the plan engine.

    A second record of the same shipment is a new version (a correction); the KPI uses the
    newest. Appends one ledger entry in the same transaction.
    """
    from greenlane.webapp.services import network

    (out,) = ls.record_actuals([(path.shipment_id, body)], network(), _principal().token_id)
    return _created(out, f"/api/v1/shipments/{path.shipment_id}/comparison")


@api.get("/shipments/<shipment_id>/actuals", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def list_actuals(path: ShipmentPath) -> Response:
    """Every recorded version of a shipment, oldest first."""
    with transaction() as conn:
        rows = ls.actual_versions(conn, path.shipment_id)
        if not rows:
            raise ApiProblem(404, "Not Found", f"no actual of shipment {path.shipment_id!r}")
        return jsonify(
            {"shipment_id": path.shipment_id, "versions": [ls.actual_json(conn, r) for r in rows]}
        )


@api.get("/shipments/<shipment_id>/comparison", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def compare(path: ShipmentPath) -> Response:
    """Plan vs actual: the accepted plan's legs and footprint beside the newest actual."""
    with transaction() as conn:
        try:
            return jsonify(ls.comparison(conn, path.shipment_id))
        except LookupError:
            raise ApiProblem(
                404, "Not Found", f"no plan or actual of shipment {path.shipment_id!r}"
            ) from None


# ----------------------------------------------------------------------------- KPI + baseline


_KPI_RESPONSES: dict[Any, Any] = {
    200: {
        "description": "The KPI (JSON), its rows (CSV) or every breakdown (XLSX)",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
    },
    **_ERRORS,
}


@api.get("/ledger/kpi", tags=[ledger_tag], responses=_KPI_RESPONSES)
@roles(*READERS)
def get_kpi(query: KpiQuery) -> Response:
    """Network intensity [g CO2e WTW/tkm on the great-circle distance] by period and
    dimension, the baseline, the glide path, the standing and the year-end projection.

    `format=csv` gives the rows; `format=xlsx` a workbook with every breakdown.
    """
    by = None if query.by == "network" else query.by
    with transaction() as conn:
        if query.format == "xlsx":
            return _file(
                ls.kpi_xlsx(conn, query.period, query.year),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                f"greenlane-kpi-{query.period}.xlsx",
            )
        report = ls.kpi_report(conn, query.period, by, query.year)
    if query.format == "csv":
        resp = _file(ls.kpi_csv(report), "text/csv", f"greenlane-kpi-{query.period}-{query.by}.csv")
        resp.charset = "utf-8"  # type: ignore[attr-defined]
        return resp
    return jsonify(report)


@api.get("/ledger/baseline", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def get_baseline() -> Response:
    """The baseline and target in force, and the glide path."""
    with transaction() as conn:
        base = ls.current_baseline(conn)
    target = ls.target_of(base)
    return jsonify(
        {
            **base,
            "trajectory": [
                {"year": y, "target_g_per_tkm": round(v, 4)} for y, v in target.trajectory()
            ],
        }
    )


@api.post("/ledger/baseline", tags=[ledger_tag], responses={201: _Out, **_POST_ERRORS})
@roles("planner")
def post_baseline(body: BaselineIn, header: IdempotencyHeader) -> Response:
    """Set the baseline: stated, or (intensity omitted) computed from the year's actuals."""

    def work(conn: Any) -> dict[str, Any]:
        ls.set_baseline(
            conn,
            baseline_year=body.baseline_year,
            intensity_g_per_tkm=body.intensity_g_per_tkm,
            target_year=body.target_year,
            reduction_share=body.reduction_share,
            source=body.source,
            created_by=_principal().token_id,
        )
        return ls.current_baseline(conn)

    return _created(ls.in_ledger_transaction(work), "/api/v1/ledger/baseline")


# ----------------------------------------------------------------------------- certificates


def _check_target(conn: Any, shipment_id: str | None) -> None:
    """A shipment a certificate goes to must be known (planned or recorded)."""
    if shipment_id is None:
        return
    if ls.latest_actuals(conn, shipment_id=shipment_id):
        return
    if ls.planned_shipment(conn, shipment_id) is None:
        raise InputError(
            f"no accepted plan or actual has shipment {shipment_id!r}", field="shipment_id"
        )


def _cert_out(conn: Any, cert_id: str) -> dict[str, Any]:
    row = ls.get_certificate(conn, cert_id)
    assert row is not None
    return ls.certificate_json(row, ls.certificate_seqs(conn, [cert_id])[cert_id])


@api.post("/certificates", tags=[certs_tag], responses={201: _Out, **_POST_ERRORS})
@roles("planner")
def register_certificate(body: CertificateIn, header: IdempotencyHeader) -> Response:
    """Register a certificate (status held). A serial is registered once per registry."""

    def work(conn: Any) -> dict[str, Any]:
        cert_id, _ = ls.register_certificate(
            conn, **body.model_dump(), created_by=_principal().token_id
        )
        return _cert_out(conn, cert_id)

    out = _conflicts(ls.in_ledger_transaction, work)
    return _created(out, f"/api/v1/certificates/{out['id']}")


@api.get("/certificates", tags=[certs_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def list_certificates(query: CertificateQuery) -> Response:
    """Certificates with their status, assignment and ledger entries."""
    with transaction() as conn:
        rows = ls.list_certificates(conn, status=query.status, assigned_ref=query.assigned_to)
        seqs = ls.certificate_seqs(conn, [r.id for r in rows])
        return jsonify({"certificates": [ls.certificate_json(r, seqs[r.id]) for r in rows]})


@api.get("/certificates/<certificate_id>", tags=[certs_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def get_certificate(path: CertificatePath) -> Response:
    """One certificate."""
    with transaction() as conn:
        if ls.get_certificate(conn, path.certificate_id) is None:
            raise ApiProblem(404, "Not Found", f"no certificate {path.certificate_id!r}")
        return jsonify(_cert_out(conn, path.certificate_id))


def _move(cert_id: str, status: str, target: _Target | None = None, **extra: Any) -> Response:
    def work(conn: Any) -> dict[str, Any]:
        if target is not None:
            _check_target(conn, target.shipment_id)
        kind = ref = None
        if target is not None and (target.shipment_id or target.lane):
            kind = "shipment" if target.shipment_id else "lane"
            ref = target.shipment_id or target.lane
        try:
            ls.move_certificate(
                conn, cert_id, status, assigned_kind=kind, assigned_ref=ref, **extra
            )
        except LookupError:
            raise ApiProblem(404, "Not Found", f"no certificate {cert_id!r}") from None
        return _cert_out(conn, cert_id)

    return jsonify(_conflicts(ls.in_ledger_transaction, work))


@api.post(
    "/certificates/<certificate_id>/assign", tags=[certs_tag], responses={200: _Out, **_POST_ERRORS}
)
@roles("planner")
def assign_certificate(
    path: CertificatePath, body: AssignIn, header: IdempotencyHeader
) -> Response:
    """Assign a held certificate to a shipment or a trade lane."""
    return _move(path.certificate_id, "assigned", body)


@api.post(
    "/certificates/<certificate_id>/release",
    tags=[certs_tag],
    responses={200: _Out, **_POST_ERRORS},
)
@roles("planner")
def release_certificate(path: CertificatePath, header: IdempotencyHeader) -> Response:
    """Release an assigned certificate back to held."""
    return _move(path.certificate_id, "held")


@api.post(
    "/certificates/<certificate_id>/retire", tags=[certs_tag], responses={200: _Out, **_POST_ERRORS}
)
@roles("planner")
def retire_certificate(
    path: CertificatePath, body: RetireIn, header: IdempotencyHeader
) -> Response:
    """Retire a certificate for a claim year. A serial retires once (409 after)."""
    return _move(
        path.certificate_id,
        "retired",
        body,
        claim_year=body.claim_year,
        beneficiary=body.beneficiary,
    )


# ----------------------------------------------------------------------------- lanes


@api.get("/ledger/lanes", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def list_lanes() -> Response:
    """Trade lanes with recorded actuals."""
    with transaction() as conn:
        return jsonify({"lanes": ls.lanes(conn)})


def _claim(conn: Any, lane: str, year: int) -> dict[str, Any]:
    out = ls.lane_claim(conn, lane, year)
    out.pop("_actual_ids")
    out["links"] = {"pdf": f"/api/v1/ledger/claim.pdf?{_qs(lane, year)}"}
    return out


def _qs(lane: str, year: int) -> str:
    from urllib.parse import urlencode

    return urlencode({"lane": lane, "year": year})


@api.get("/ledger/claim", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def get_claim(query: ClaimQuery) -> Response:
    """A trade lane's year: gross emissions, reductions against the baseline, retired
    credits, certificates beside them, and a carbon-neutral statement only when all three
    are shown and the credits cover the emissions."""
    with transaction() as conn:
        return jsonify(_claim(conn, query.lane, query.year))


def lane_pdf(lane: str, year: int) -> bytes:
    """The lane's ISO 14083 report with its certificates, entries and (if it holds) claim."""
    from greenlane.emissions.report.pdf import footprint_report_pdf
    from greenlane.webapp.store import footprints_from_json, software_version

    with transaction() as conn:
        claim = ls.lane_claim(conn, lane, year)
        rows = [r for r in ls.latest_actuals(conn, lane=lane) if r.id in claim["_actual_ids"]]
        certs = ls.certificates_for(conn, claim["shipments"], [lane])
        certs = [c for c in certs if c.id in {x["id"] for x in claim["certificates"]}]
    if not rows:
        raise ApiProblem(404, "Not Found", f"no recorded shipment on {lane} in {year}")
    fps = footprints_from_json([r.footprint for r in rows])
    title = f"Lane {lane}: transport emissions {year}"
    if claim["claim"]["carbon_neutral"]:
        title += f". {claim['claim']['statement']}"
    label = f"lane {lane} {year}; ledger entries {ls.seqs_label(claim['entries'])}"
    return footprint_report_pdf(
        fps,
        title=title,
        plan_id=label,
        certificates=ls.pdf_certificates(certs),
        software_version=software_version(),
        generated_at=utcnow(),
    )


@api.get(
    "/ledger/claim.pdf",
    tags=[ledger_tag],
    responses={
        200: {
            "description": "PDF",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
        **_ERRORS,
    },
)
@roles(*READERS)
def get_claim_pdf(query: ClaimQuery) -> Response:
    """The lane report as PDF (certificates listed beside the gross emissions)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in query.lane)
    return _file(
        lane_pdf(query.lane, query.year),
        "application/pdf",
        f"greenlane-lane-{safe}-{query.year}.pdf",
    )


# ----------------------------------------------------------------------------- audit


@api.get("/ledger/entries", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def list_entries(query: EntriesQuery) -> Response:
    """Ledger entries in chain order (``after`` = last seq seen)."""
    with transaction() as conn:
        items = ls.entries(conn, query.after, query.limit)
    return jsonify({"entries": [ls.entry_json(ref, e) for ref, e in items]})


@api.get("/ledger/verify", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def verify() -> Response:
    """Check the chain and every recorded row against it (``intact`` and ``problems``)."""
    with transaction() as conn:
        return jsonify(ls.verify(conn))


# ----------------------------------------------------------------------------- levers


def start_levers(body: LeversIn, who: Principal, force_async: bool = False) -> str:
    """Store a lever run and compute it now (small books) or in the job pool."""
    config = current_app.config
    limit = body.time_limit_s or float(config["SOLVER_TIME_LIMIT_S"])
    if limit > float(config["SOLVER_MAX_TIME_LIMIT_S"]):
        raise InputError(
            f"must be <= {config['SOLVER_MAX_TIME_LIMIT_S']} s on this server", field="time_limit_s"
        )
    with transaction() as conn:
        shipments = ls.lever_book(conn, body.plan_id)
    if len(shipments) > int(config["MAX_SHIPMENTS"]):
        raise InputError(f"at most {config['MAX_SHIPMENTS']} shipments", field="plan_id")
    doc = {
        "shipments": shipments,
        "plan_id": body.plan_id,
        "kinds": body.kinds,
        "max_levers": body.max_levers,
        "time_limit_s": limit,
        "carriers": body.carriers,
        "carbon_price_cny_per_t": body.carbon_price_cny_per_t,
    }
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if force_async or body.run_async or len(shipments) > int(config["ASYNC_THRESHOLD_SHIPMENTS"]):
        from greenlane.webapp.jobs import runner

        with transaction() as conn:
            run_id = ls.insert_lever_run(conn, doc, who.token_id, owner=instance_id(app))
        runner().pool.submit(_run_levers, app, run_id)
        return run_id
    outcome = _lever_outcome(app, doc)  # computed before any write: no lock held meanwhile
    with transaction() as conn:
        run_id = ls.insert_lever_run(conn, doc, who.token_id)
        ls.set_lever_run(conn, run_id, **outcome)
    return run_id


def _run_levers(app: Flask, run_id: str) -> None:
    from greenlane.webapp.db import engine_of

    engine = engine_of(app)
    with transaction(engine) as conn:
        row = ls.get_lever_run(conn, run_id)
        if row is None or row.status != "queued":
            return
        ls.set_lever_run(conn, run_id, status="running")
        doc = dict(row.request)
    outcome = _lever_outcome(app, doc, run_id)
    with transaction(engine) as conn:
        ls.set_lever_run(conn, run_id, **outcome)


def _lever_outcome(app: Flask, doc: dict[str, Any], run_id: str = "") -> dict[str, Any]:
    """Compute a lever run: the column values of a finished (done or failed) run."""
    from greenlane.webapp.services import network

    try:
        with app.app_context():
            result = ls.compute_levers(doc, network(app))
    except GreenlaneError as exc:
        return {
            "status": "failed",
            "finished_at": utcnow(),
            "error": {"title": "Invalid input", "detail": exc.message, "field": exc.field},
        }
    except Exception as exc:
        app.logger.exception("lever run %s failed", run_id)
        return {
            "status": "failed",
            "finished_at": utcnow(),
            "error": {"title": "Solver error", "detail": f"{type(exc).__name__}: {exc}"},
        }
    return {"status": "done", "result": result, "finished_at": utcnow()}


@api.post("/ledger/levers", tags=[ledger_tag], responses={201: _Out, 202: _Out, **_POST_ERRORS})
@roles(*READERS)
def post_levers(body: LeversIn, header: IdempotencyHeader) -> Response:
    """The marginal abatement cost curve of the recorded book, computed with the planner.

    Each lever re-plans the book with one change (BEV trucks on a trade lane's road legs,
    30 % SAF on an air lane, rail instead of air, wind-assisted or LNG vessels on a sea
    lane) and is priced as Δcost / ΔCO2e against the reference plan. Small books: 201 with
    the result; larger ones, or `"async": true`: 202 + `Location`.
    """
    run_id = start_levers(body, _principal())
    with transaction() as conn:
        row = ls.get_lever_run(conn, run_id)
    assert row is not None
    resp = jsonify(ls.lever_run_json(row))
    resp.status_code = 201 if row.status in ("done", "failed") else 202
    resp.headers["Location"] = f"/api/v1/ledger/levers/{run_id}"
    return resp


@api.get("/ledger/levers/<run_id>", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def get_levers(path: RunPath) -> Response:
    """A lever run (``latest``: the newest finished one)."""
    with transaction() as conn:
        row = ls.get_lever_run(conn, None if path.run_id == "latest" else path.run_id)
    if row is None:
        raise ApiProblem(404, "Not Found", f"no lever run {path.run_id!r}")
    return jsonify(ls.lever_run_json(row))


# ----------------------------------------------------------------------------- UI


@ui.before_request
def _ui_guard() -> None:
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
            abort(400, description="the form expired or did not come from this site (CSRF)")


def _login(*allowed: str) -> Any:
    from greenlane.webapp.ui import login_required

    return login_required(*allowed)


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
@_login(*READERS)
def dashboard() -> str:
    """Standing, trajectory and period charts, breakdowns, baseline, audit status."""
    try:
        q = KpiQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        _flash_error(exc)
        q = KpiQuery.model_validate({})
    by = None if q.by == "network" else q.by
    with transaction() as conn:
        report = ls.kpi_report(conn, q.period, by, q.year)
        focus = report["standing"]["year"]
        months = ls.kpi_report(conn, "month", None, focus)["rows"]
        audit = ls.verify(conn)
        recent = [ls.entry_json(r, e) for r, e in ls.entries(conn)][-8:][::-1]
        lanes = ls.lanes(conn)
    charts = _charts(report, focus)
    charts["months"] = [
        {"period": r["period"], "y": r["intensity_g_per_tkm"], "target": r["target_g_per_tkm"]}
        for r in months
    ]
    reduction_pct = round(float(report["baseline"]["reduction_share"]) * 100)
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
@_login(*READERS)
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
            return _file(
                ls.kpi_xlsx(conn, q.period, q.year),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                f"greenlane-kpi-{q.period}.xlsx",
            )
        report = ls.kpi_report(conn, q.period, by, q.year)
    return _file(ls.kpi_csv(report), "text/csv", f"greenlane-kpi-{q.period}-{q.by}.csv")


@ui.post("/baseline")
@_login("planner")
def baseline_form() -> Response:
    """Set the baseline from the form."""
    form = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    try:
        body = BaselineIn.model_validate(form)
        ls.in_ledger_transaction(
            lambda conn: ls.set_baseline(
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
@_login(*READERS)
def actuals_page() -> str:
    """Recorded shipments (newest version each) and the CSV import."""
    with transaction() as conn:
        rows = ls.latest_actuals(conn)
        seqs = ls.actual_entry_seqs(conn, [r.id for r in rows])
        items = [
            {
                "shipment_id": r.shipment_id,
                "version": r.version,
                "lane": r.lane,
                "completed_at": ls._iso(r.completed_at),
                "carrier": r.carrier,
                "co2e_wtw_kg": r.co2e_wtw_kg,
                "tkm_gcd": r.tkm_gcd,
                "intensity": r.co2e_wtw_kg * 1000.0 / r.tkm_gcd if r.tkm_gcd else 0.0,
                "plan_id": r.plan_id,
                "entry": seqs.get(r.id),
            }
            for r in rows[::-1]
        ]
    return render_template("ledger/actuals.html", items=items, columns=ls.IMPORT_COLUMNS)


@ui.post("/actuals/import")
@_login("planner")
def actuals_import() -> Response:
    """Import actuals from an uploaded CSV (all or nothing)."""
    from greenlane.webapp.services import network

    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InputError("choose a CSV file", field="file")
        text_ = upload.read().decode("utf-8-sig")
        net = network()
        items = ls.parse_actuals_csv(text_, net)
        done = ls.record_actuals(items, net, g.principal.token_id)
        flash(f"Recorded {len(done)} actual shipment(s) in the ledger.", "ok")
    except UnicodeDecodeError:
        flash("file: not UTF-8 text", "error")
    except (ValidationError, InputError) as exc:
        _flash_error(exc)
    return redirect(url_for("ledger_ui.actuals_page"))  # type: ignore[return-value]


@ui.get("/shipments/<shipment_id>")
@_login(*READERS)
def shipment_page(shipment_id: str) -> str:
    """Plan vs actual of one shipment."""
    with transaction() as conn:
        try:
            cmp_ = ls.comparison(conn, shipment_id)
        except LookupError:
            abort(404)
    return render_template("ledger/shipment.html", c=cmp_)


@ui.get("/certificates")
@_login(*READERS)
def certificates_page() -> str:
    """Certificates and the register / assign / retire forms."""
    with transaction() as conn:
        rows = ls.list_certificates(conn)
        seqs = ls.certificate_seqs(conn, [r.id for r in rows])
        certs = [ls.certificate_json(r, seqs[r.id]) for r in rows]
        lanes = ls.lanes(conn)
    return render_template("ledger/certificates.html", certs=certs, lanes=lanes, year=utcnow().year)


@ui.post("/certificates")
@_login("planner")
def certificate_register() -> Response:
    """Register a certificate from the form."""
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        body = CertificateIn.model_validate(form)
        _conflicts(
            ls.in_ledger_transaction,
            lambda conn: ls.register_certificate(
                conn, **body.model_dump(), created_by=g.principal.token_id
            ),
        )
        flash(f"Registered {body.registry} {body.serial}.", "ok")
    except (ValidationError, InputError, ApiProblem) as exc:
        _flash_error(exc)
    return redirect(url_for("ledger_ui.certificates_page"))  # type: ignore[return-value]


@ui.post("/certificates/<certificate_id>/<action>")
@_login("planner")
def certificate_move(certificate_id: str, action: str) -> Response:
    """Assign, release or retire from the forms."""
    form = {k: v for k, v in request.form.items() if k not in ("csrf_token", "target") and v}
    target = request.form.get("target", "").strip()
    if target:
        form["lane" if ">" in target else "shipment_id"] = target
    try:
        if action == "assign":
            _move(certificate_id, "assigned", AssignIn.model_validate(form))
        elif action == "release":
            _move(certificate_id, "held")
        elif action == "retire":
            body = RetireIn.model_validate(form)
            _move(
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
@_login(*READERS)
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
        claim = _claim(conn, q.lane, q.year)
    return render_template("ledger/lane.html", c=claim, qs=_qs(q.lane, q.year))


@ui.get("/lane.pdf")
@_login(*READERS)
def lane_pdf_download() -> Response:
    """The lane report PDF."""
    try:
        q = ClaimQuery.model_validate(
            {"lane": request.args.get("lane", ""), "year": request.args.get("year", "")}
        )
        body = lane_pdf(q.lane, q.year)
    except (ValidationError, ApiProblem):
        abort(404)
    return _file(body, "application/pdf", f"greenlane-lane-{q.year}.pdf")


@ui.get("/levers")
@_login(*READERS)
def levers_page() -> str:
    """The MACC chart and table of a lever run (the newest by default)."""
    run_id = request.args.get("run")
    with transaction() as conn:
        row = ls.get_lever_run(conn, run_id)
        plans_ = _accepted_plans(conn)
    run = ls.lever_run_json(row) if row is not None else None
    return render_template("ledger/levers.html", run=run, plans=plans_)


def _accepted_plans(conn: Any) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from greenlane.webapp.db import plans

    rows = conn.execute(
        select(plans.c.id, plans.c.name)
        .where(plans.c.state == "accepted")
        .order_by(plans.c.accepted_at.desc())
    )
    return [{"id": r.id, "name": r.name} for r in rows]


@ui.post("/levers")
@_login("planner")
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
@_login(*READERS)
def verify_page() -> str:
    """The audit check and the newest entries."""
    with transaction() as conn:
        audit = ls.verify(conn)
        recent = [ls.entry_json(r, e) for r, e in ls.entries(conn)][-50:][::-1]
    return render_template("ledger/verify.html", audit=audit, recent=recent)


# ----------------------------------------------------------------------------- wiring


def init_app(app: Any) -> None:
    """Register the ledger API (in the OpenAPI document) and the ``/ledger`` pages."""
    app.register_api(api)
    app.register_blueprint(ui)

    @app.errorhandler(ls.Conflict)
    def _conflict(exc: ls.Conflict) -> Response:
        return problem(409, "Conflict", exc.message, exc.field)


__all__ = ["api", "init_app", "lane_pdf", "start_levers", "ui"]
