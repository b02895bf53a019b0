"""The ledger's ``/api/v1`` endpoints (Bearer token; POSTs take an ``Idempotency-Key``;
errors are problem+json):

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

Views parse, make one call into the ledger modules and serialise.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify
from flask_openapi3 import APIBlueprint, Tag

from greenlane.webapp.api_guard import guard
from greenlane.webapp.auth import Principal, roles
from greenlane.webapp.db import transaction
from greenlane.webapp.ledger import (
    actuals,
    audit,
    certificates,
    chain,
    exchange,
    levers,
    reporting,
    schemas,
)
from greenlane.webapp.ledger.levers import start_levers
from greenlane.webapp.ledger.schemas import (
    ActualOut,
    AssignIn,
    BaselineIn,
    CertificateIn,
    CertificatePath,
    CertificateQuery,
    ClaimQuery,
    EntriesQuery,
    KpiQuery,
    LeversIn,
    RetireIn,
    RunPath,
    ShipmentPath,
    _Out,
)
from greenlane.webapp.ledger.services import (
    attachment,
    certificate_out,
    claim_json,
    guard_conflicts,
    lane_pdf,
    move_certificate,
)
from greenlane.webapp.problems import ApiProblem
from greenlane.webapp.schemas import BEARER, ERRORS, POST_ERRORS, IdempotencyHeader

SECURITY = BEARER
_ERRORS = ERRORS
_POST_ERRORS = POST_ERRORS
READERS = ("planner",)
"""Who reads the ledger (KPI, actuals, baseline, certificates, audit); an ERP's integration
token records actuals but reads no ledger."""

ledger_tag = Tag(
    name="ledger", description="Actuals, intensity KPI, baseline and target, audit trail, levers"
)
certs_tag = Tag(name="certificates", description="Certificates beside emissions (never netted)")

api = APIBlueprint("ledger", __name__, url_prefix="/api/v1", abp_security=SECURITY)


# ----------------------------------------------------------------------------- API plumbing


def _principal() -> Principal:
    return g.principal  # type: ignore[no-any-return]


guard(api)


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
    path: ShipmentPath, body: schemas.ActualRequest, header: IdempotencyHeader
) -> Response:
    """Record an executed shipment; its footprint is recomputed with the plan engine.

    A second record of the same shipment is a new version (a correction); the KPI uses the
    newest. Appends one ledger entry in the same transaction.
    """
    from greenlane.webapp.resources import network

    (out,) = actuals.record_actuals([(path.shipment_id, body)], network(), _principal().token_id)
    return _created(out, f"/api/v1/shipments/{path.shipment_id}/comparison")


@api.get("/shipments/<shipment_id>/actuals", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def list_actuals(path: ShipmentPath) -> Response:
    """Every recorded version of a shipment, oldest first."""
    with transaction() as conn:
        rows = actuals.actual_versions(conn, path.shipment_id)
        if not rows:
            raise ApiProblem(404, "Not Found", f"no actual of shipment {path.shipment_id!r}")
        return jsonify(
            {
                "shipment_id": path.shipment_id,
                "versions": [actuals.actual_json(conn, r) for r in rows],
            }
        )


@api.get("/shipments/<shipment_id>/comparison", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def compare(path: ShipmentPath) -> Response:
    """Plan vs actual: the accepted plan's legs and footprint beside the newest actual."""
    with transaction() as conn:
        try:
            return jsonify(actuals.comparison(conn, path.shipment_id))
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
            return attachment(
                exchange.kpi_xlsx(conn, query.period, query.year),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                f"greenlane-kpi-{query.period}.xlsx",
            )
        report = reporting.kpi_report(conn, query.period, by, query.year)
    if query.format == "csv":
        resp = attachment(
            exchange.kpi_csv(report), "text/csv", f"greenlane-kpi-{query.period}-{query.by}.csv"
        )
        resp.charset = "utf-8"  # type: ignore[attr-defined]
        return resp
    return jsonify(report)


@api.get("/ledger/baseline", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def get_baseline() -> Response:
    """The baseline and target in force, and the glide path."""
    with transaction() as conn:
        base = reporting.current_baseline(conn)
    target = reporting.target_of(base)
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
        reporting.set_baseline(
            conn,
            baseline_year=body.baseline_year,
            intensity_g_per_tkm=body.intensity_g_per_tkm,
            target_year=body.target_year,
            reduction_share=body.reduction_share,
            source=body.source,
            created_by=_principal().token_id,
        )
        return reporting.current_baseline(conn)

    return _created(chain.in_ledger_transaction(work), "/api/v1/ledger/baseline")


# ----------------------------------------------------------------------------- certificates


@api.post("/certificates", tags=[certs_tag], responses={201: _Out, **_POST_ERRORS})
@roles("planner")
def register_certificate(body: CertificateIn, header: IdempotencyHeader) -> Response:
    """Register a certificate (status held). A serial is registered once per registry."""

    def work(conn: Any) -> dict[str, Any]:
        cert_id, _ = certificates.register_certificate(
            conn, **body.model_dump(), created_by=_principal().token_id
        )
        return certificate_out(conn, cert_id)

    out = guard_conflicts(chain.in_ledger_transaction, work)
    return _created(out, f"/api/v1/certificates/{out['id']}")


@api.get("/certificates", tags=[certs_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def list_certificates(query: CertificateQuery) -> Response:
    """Certificates with their status, assignment and ledger entries."""
    with transaction() as conn:
        rows = certificates.list_certificates(
            conn, status=query.status, assigned_ref=query.assigned_to
        )
        seqs = certificates.certificate_seqs(conn, [r.id for r in rows])
        return jsonify(
            {"certificates": [certificates.certificate_json(r, seqs[r.id]) for r in rows]}
        )


@api.get("/certificates/<certificate_id>", tags=[certs_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def get_certificate(path: CertificatePath) -> Response:
    """One certificate."""
    with transaction() as conn:
        if certificates.get_certificate(conn, path.certificate_id) is None:
            raise ApiProblem(404, "Not Found", f"no certificate {path.certificate_id!r}")
        return jsonify(certificate_out(conn, path.certificate_id))


@api.post(
    "/certificates/<certificate_id>/assign", tags=[certs_tag], responses={200: _Out, **_POST_ERRORS}
)
@roles("planner")
def assign_certificate(
    path: CertificatePath, body: AssignIn, header: IdempotencyHeader
) -> Response:
    """Assign a held certificate to a shipment or a trade lane."""
    return jsonify(move_certificate(path.certificate_id, "assigned", body))


@api.post(
    "/certificates/<certificate_id>/release",
    tags=[certs_tag],
    responses={200: _Out, **_POST_ERRORS},
)
@roles("planner")
def release_certificate(path: CertificatePath, header: IdempotencyHeader) -> Response:
    """Release an assigned certificate back to held."""
    return jsonify(move_certificate(path.certificate_id, "held"))


@api.post(
    "/certificates/<certificate_id>/retire", tags=[certs_tag], responses={200: _Out, **_POST_ERRORS}
)
@roles("planner")
def retire_certificate(
    path: CertificatePath, body: RetireIn, header: IdempotencyHeader
) -> Response:
    """Retire a certificate for a claim year. A serial retires once (409 after)."""
    return jsonify(
        move_certificate(
            path.certificate_id,
            "retired",
            body,
            claim_year=body.claim_year,
            beneficiary=body.beneficiary,
        )
    )


# ----------------------------------------------------------------------------- lanes


@api.get("/ledger/lanes", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def list_lanes() -> Response:
    """Trade lanes with recorded actuals."""
    with transaction() as conn:
        return jsonify({"lanes": reporting.lanes(conn)})


@api.get("/ledger/claim", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def get_claim(query: ClaimQuery) -> Response:
    """A trade lane's year: gross emissions, reductions against the baseline, retired
    credits, certificates beside them, and a carbon-neutral statement only when all three
    are shown and the credits cover the emissions."""
    with transaction() as conn:
        return jsonify(claim_json(conn, query.lane, query.year))


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
    return attachment(
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
        items = chain.entries(conn, query.after, query.limit)
    return jsonify({"entries": [chain.entry_json(ref, e) for ref, e in items]})


@api.get("/ledger/verify", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def verify() -> Response:
    """Check the chain and every recorded row against it (``intact`` and ``problems``)."""
    with transaction() as conn:
        return jsonify(audit.verify(conn))


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
        row = levers.get_lever_run(conn, run_id)
    assert row is not None
    resp = jsonify(levers.lever_run_json(row))
    resp.status_code = 201 if row.status in ("done", "failed") else 202
    resp.headers["Location"] = f"/api/v1/ledger/levers/{run_id}"
    return resp


@api.get("/ledger/levers/<run_id>", tags=[ledger_tag], responses={200: _Out, **_ERRORS})
@roles(*READERS)
def get_levers(path: RunPath) -> Response:
    """A lever run (``latest``: the newest finished one)."""
    with transaction() as conn:
        row = levers.get_lever_run(conn, None if path.run_id == "latest" else path.run_id)
    if row is None:
        raise ApiProblem(404, "Not Found", f"no lever run {path.run_id!r}")
    return jsonify(levers.lever_run_json(row))
