"""Ledger operations shared by the API and the pages: certificate moves, lane claims and
their PDF, conflicts as 409 problems."""

from __future__ import annotations

from typing import Any

from flask import Response
from sqlalchemy.exc import IntegrityError

from greenlane.emissions.errors import InputError
from greenlane.webapp.db import transaction, utcnow
from greenlane.webapp.ledger import actuals, certificates, chain, reporting
from greenlane.webapp.ledger.schemas import CertificateTarget
from greenlane.webapp.problems import ApiProblem


def guard_conflicts(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with ledger conflicts and duplicate serials as 409 problems."""
    try:
        return fn(*args, **kwargs)
    except chain.Conflict as exc:
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


def attachment(body: bytes, mimetype: str, filename: str) -> Response:
    """A download answer."""
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def check_target(conn: Any, shipment_id: str | None) -> None:
    """A shipment a certificate goes to must be known (planned or recorded)."""
    if shipment_id is None:
        return
    if actuals.latest_actuals(conn, shipment_id=shipment_id):
        return
    if actuals.planned_shipment(conn, shipment_id) is None:
        raise InputError(
            f"no accepted plan or actual has shipment {shipment_id!r}", field="shipment_id"
        )


def certificate_out(conn: Any, cert_id: str) -> dict[str, Any]:
    """A certificate as the API shows it, with its ledger entries."""
    row = certificates.get_certificate(conn, cert_id)
    assert row is not None
    return certificates.certificate_json(
        row, certificates.certificate_seqs(conn, [cert_id])[cert_id]
    )


def move_certificate(
    cert_id: str, status: str, target: CertificateTarget | None = None, **extra: Any
) -> dict[str, Any]:
    """Move a certificate (held, assigned, retired) with its ledger entry; 404/409 problems."""

    def work(conn: Any) -> dict[str, Any]:
        if target is not None:
            check_target(conn, target.shipment_id)
        kind = ref = None
        if target is not None and (target.shipment_id or target.lane):
            kind = "shipment" if target.shipment_id else "lane"
            ref = target.shipment_id or target.lane
        try:
            certificates.move_certificate(
                conn, cert_id, status, assigned_kind=kind, assigned_ref=ref, **extra
            )
        except LookupError:
            raise ApiProblem(404, "Not Found", f"no certificate {cert_id!r}") from None
        return certificate_out(conn, cert_id)

    return guard_conflicts(chain.in_ledger_transaction, work)  # type: ignore[no-any-return]


def claim_json(conn: Any, lane: str, year: int) -> dict[str, Any]:
    """A lane's claim report as the API shows it (with the PDF link)."""
    out = reporting.lane_claim(conn, lane, year)
    out.pop("_actual_ids")
    out["links"] = {"pdf": f"/api/v1/ledger/claim.pdf?{claim_query(lane, year)}"}
    return out


def claim_query(lane: str, year: int) -> str:
    """The query string of a lane claim URL."""
    from urllib.parse import urlencode

    return urlencode({"lane": lane, "year": year})


def lane_pdf(lane: str, year: int) -> bytes:
    """The lane's ISO 14083 report with its certificates, entries and (if it holds) claim."""
    from greenlane.emissions.report.pdf import footprint_report_pdf
    from greenlane.webapp.store import footprints_from_json, software_version

    with transaction() as conn:
        claim = reporting.lane_claim(conn, lane, year)
        rows = [r for r in actuals.latest_actuals(conn, lane=lane) if r.id in claim["_actual_ids"]]
        certs = certificates.certificates_for(conn, claim["shipments"], [lane])
        certs = [c for c in certs if c.id in {x["id"] for x in claim["certificates"]}]
    if not rows:
        raise ApiProblem(404, "Not Found", f"no recorded shipment on {lane} in {year}")
    fps = footprints_from_json([r.footprint for r in rows])
    title = f"Lane {lane}: transport emissions {year}"
    if claim["claim"]["carbon_neutral"]:
        title += f". {claim['claim']['statement']}"
    label = f"lane {lane} {year}; ledger entries {chain.seqs_label(claim['entries'])}"
    return footprint_report_pdf(
        fps,
        title=title,
        plan_id=label,
        certificates=certificates.pdf_certificates(certs),
        software_version=software_version(),
        generated_at=utcnow(),
    )
