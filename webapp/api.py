"""``/api/v1``: plans, jobs, the trade-off curve, footprints, the network, shares, reports.

Views are thin: the request model validates (422 naming the field), one service call does
the work, the answer is serialised. Auth (Bearer token, role per view) and the
``Idempotency-Key`` run before validation (:mod:`greenlane.webapp.api_guard`).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, jsonify, request
from flask_openapi3 import APIBlueprint, Tag
from flask_openapi3.models import Schema
from pydantic import BaseModel, Field

from greenlane.emissions.schema import ChainIn
from greenlane.webapp import datasets, reports, services
from greenlane.webapp.api_guard import guard, principal
from greenlane.webapp.auth import roles, rotate_token
from greenlane.webapp.db import engine_of
from greenlane.webapp.schemas import (
    BEARER,
    ERRORS,
    POST_ERRORS,
    DatasetListOut,
    DatasetOut,
    DatasetPath,
    DatasetUploadForm,
    DisruptionsIn,
    FootprintOut,
    FootprintQuery,
    GeoJSONOut,
    IdempotencyHeader,
    ImpactOut,
    JobOut,
    JobPath,
    ParetoOut,
    ParetoRequest,
    PlanOut,
    PlanPath,
    PlanRequest,
    ReportPath,
    SharedListOut,
    ShareIn,
    SharesOut,
    ShipmentReportPath,
    UnsharePath,
    UnshareQuery,
)

SECURITY = BEARER
_ERRORS = ERRORS
_POST_ERRORS = POST_ERRORS

plans_tag = Tag(name="plans", description="Plan a book of shipments; jobs for large books")
emissions_tag = Tag(name="emissions", description="ISO 14083 footprints and the network")
reports_tag = Tag(name="reports", description="Partner reports and sharing")

api = APIBlueprint("api", __name__, url_prefix="/api/v1", abp_security=SECURITY)


def _register_chain_schema() -> None:
    schema = ChainIn.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, value in schema.pop("$defs", {}).items():
        api.components_schemas[name] = Schema(**value)
    api.components_schemas["ChainIn"] = Schema(**schema)


_register_chain_schema()


guard(api)


def _created_or_accepted(sub: services.Submitted) -> Response:
    if sub.job_id is not None:
        job = services.get_job_json(sub.job_id, principal())
        resp = jsonify(job)
        resp.status_code = 202
        resp.headers["Location"] = f"/api/v1/jobs/{sub.job_id}"
        return resp
    assert sub.plan_id is not None
    resp = jsonify(services.get_plan_json(sub.plan_id, principal()))
    resp.status_code = 201
    resp.headers["Location"] = f"/api/v1/plans/{sub.plan_id}"
    return resp


# ----------------------------------------------------------------------------- plans


@api.post("/plans", tags=[plans_tag], responses={201: PlanOut, 202: JobOut, **_POST_ERRORS})
@roles("planner", "integration")
def create_plan(body: PlanRequest, header: IdempotencyHeader) -> Response:
    """Plan a book of shipments.

    Small books are planned at once (201 + the plan); books above the server's threshold,
    or with `"async": true`, become a job (202 + `Location: /api/v1/jobs/{id}`).
    """
    return _created_or_accepted(services.submit_plan(body, principal()))


@api.get("/plans/<plan_id>", tags=[plans_tag], responses={200: PlanOut, **_ERRORS})
@roles("planner", "integration")
def get_plan(path: PlanPath) -> Response:
    """A stored plan: summary, shipments with legs and footprints, unplanned, solver facts.

    An integration token reads only the plans it created (others are a 404).
    """
    return jsonify(services.get_plan_json(path.plan_id, principal()))


@api.post("/plans/<plan_id>/accept", tags=[plans_tag], responses={200: PlanOut, **_POST_ERRORS})
@roles("planner", "integration")
def accept_plan(path: PlanPath, header: IdempotencyHeader) -> Response:
    """Accept a plan (idempotent); an integration token accepts only the plans it created."""
    return jsonify(services.accept(path.plan_id, principal()))


@api.post(
    "/plans/<plan_id>/disruptions", tags=[plans_tag], responses={200: ImpactOut, **_POST_ERRORS}
)
@roles("planner", "integration")
def create_disruptions(path: PlanPath, body: DisruptionsIn, header: IdempotencyHeader) -> Response:
    """Apply disruptions (closed passage, hub or lane; delay; capacity cut) to a plan.

    Only the hit shipments are re-planned; the answer is the impact (per shipment Δcost,
    ΔCO2e WTW, Δarrival, due-date risk; totals; intensity before/after) and the re-plan,
    stored as a new plan (`links.replan`).
    """
    return jsonify(services.disrupt(path.plan_id, body.disruptions, principal()).impact)


@api.get("/jobs/<job_id>", tags=[plans_tag], responses={200: JobOut, **_ERRORS})
@roles("planner", "integration")
def get_job(path: JobPath) -> Response:
    """A job's status and progress; `result_url` points at the plan when done."""
    return jsonify(services.get_job_json(path.job_id, principal()))


@api.post("/pareto", tags=[plans_tag], responses={200: ParetoOut, 202: JobOut, **_POST_ERRORS})
@roles("planner", "integration")
def create_pareto(body: ParetoRequest, header: IdempotencyHeader) -> Response:
    """The cost-vs-CO2e trade-off curve of a book (epsilon-constraint sweep)."""
    sub = services.submit_pareto(body, principal())
    if sub.job_id is not None:
        return _created_or_accepted(sub)
    return jsonify({"points": sub.pareto})


# ----------------------------------------------------------------------------- emissions


@api.post(
    "/footprints",
    tags=[emissions_tag],
    responses={200: FootprintOut, **_POST_ERRORS},
    openapi_extensions={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChainIn"}}},
        }
    },
)
@roles("planner", "integration")
def create_footprint(query: FootprintQuery, header: IdempotencyHeader) -> Response:
    """The ISO 14083 footprint of one transport chain (the `greenlane footprint` JSON).

    `?format=ileap` answers with an iLEAP ShipmentFootprint instead.
    """
    from greenlane.emissions.limits import decode_json_bytes, loads_json

    doc = loads_json(decode_json_bytes(request.get_data(cache=True), "body"), "body")
    return jsonify(services.footprint(doc, query.format))


@api.get("/network", tags=[emissions_tag], responses={200: GeoJSONOut, **_ERRORS})
@roles("planner", "integration", "partner")
def get_network() -> Response:
    """Hubs and lanes as GeoJSON (RFC 7946, [lon, lat]; lines cut at the antimeridian) of the
    organisation's dataset in force (`properties.dataset_id`; `default`: the shipped tables)."""
    resp = jsonify(services.network_geojson(principal()))
    resp.mimetype = "application/geo+json"
    return resp


# ----------------------------------------------------------------------------- datasets

datasets_tag = Tag(
    name="datasets",
    description="An organisation's own hubs, lanes, rates, fleet ... to plan on",
)


@api.post(
    "/datasets",
    tags=[datasets_tag],
    responses={201: DatasetOut, 200: DatasetOut, **_POST_ERRORS},
)
@roles("planner", "integration")
def create_dataset(form: DatasetUploadForm, header: IdempotencyHeader) -> Response:
    """Upload a dataset: several CSV files named by table (`lanes.csv`, `hubs.csv`, ...), one
    XLSX workbook (one sheet per table) or one JSON document, as `files` (multipart).

    Tables left out come from the shipped data; a table given replaces the shipped one, or,
    declared `merge` (`dataset.json`, a `_dataset` sheet or a `_delete` column), overrides
    its rows by id (data/README.md, Datasets). An error names the table, row and column
    (422) and nothing is stored. The same content again answers 200
    with the stored dataset. The answer lists what it changes against the dataset in force;
    `POST /datasets/{id}/activate` puts it in force.
    """
    files = [(f.filename or "", f.read()) for f in form.files]
    stored = datasets.upload(files, form.name or "", principal())
    resp = jsonify(datasets.detail(stored.dataset_id, principal()))
    resp.status_code = 201 if stored.created else 200
    resp.headers["Location"] = f"/api/v1/datasets/{stored.dataset_id}"
    return resp


@api.get("/datasets", tags=[datasets_tag], responses={200: DatasetListOut, **_ERRORS})
@roles("planner", "integration")
def list_datasets() -> Response:
    """The caller's organisation's datasets and the one in force (`default`: the shipped tables)."""
    return jsonify(datasets.listing(principal()))


@api.get("/datasets/<dataset_id>", tags=[datasets_tag], responses={200: DatasetOut, **_ERRORS})
@roles("planner", "integration")
def get_dataset(path: DatasetPath) -> Response:
    """A dataset of the caller's organisation and what it changes against the one in force
    (hubs and lanes: the ids added, removed and changed; other tables: counts)."""
    return jsonify(datasets.detail(path.dataset_id, principal()))


@api.post(
    "/datasets/<dataset_id>/activate",
    tags=[datasets_tag],
    responses={200: DatasetListOut, **_POST_ERRORS},
)
@roles("planner")
def activate_dataset(path: DatasetPath, header: IdempotencyHeader) -> Response:
    """Put a dataset in force for the organisation (`default`: back to the shipped tables)."""
    return jsonify(datasets.activate(path.dataset_id, principal()))


# ----------------------------------------------------------------------------- shares


@api.post("/plans/<plan_id>/shares", tags=[reports_tag], responses={201: SharesOut, **_POST_ERRORS})
@roles("planner")
def create_share(path: PlanPath, body: ShareIn, header: IdempotencyHeader) -> Response:
    """Share a plan, or some of its shipments, with a partner (by partner id; planners only)."""
    rows = services.share(path.plan_id, body.partner_id, body.shipment_ids, principal())
    resp = jsonify({"shares": rows})
    resp.status_code = 201
    return resp


@api.delete(
    "/plans/<plan_id>/shares/<partner_id>", tags=[reports_tag], responses={204: None, **_ERRORS}
)
@roles("planner")
def delete_shares(path: UnsharePath, query: UnshareQuery) -> Response:
    """Stop sharing a plan with a partner: every share, or only `?shipment_id=` (204)."""
    services.unshare(path.plan_id, path.partner_id, query.shipment_id, principal())
    return Response(status=204)


@api.get("/plans/<plan_id>/shares", tags=[reports_tag], responses={200: SharesOut, **_ERRORS})
@roles("planner")
def list_shares(path: PlanPath) -> Response:
    """Who a plan is shared with."""
    return jsonify({"shares": services.list_plan_shares(path.plan_id, principal())})


@api.get("/shared", tags=[reports_tag], responses={200: SharedListOut, **_ERRORS})
@roles("partner")
def list_shared() -> Response:
    """What is shared with the calling partner, with report links."""
    return jsonify({"items": services.shared_with(principal())})


# ----------------------------------------------------------------------------- reports

_REPORT_RESPONSES: dict[str | int | HTTPStatus, Any] = {
    200: {
        "description": "The report",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/geo+json": {"schema": {"type": "object"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": {"type": "object"}},
        },
    },
    **_ERRORS,
}


def _download(report: reports.Report) -> Response:
    resp = Response(report.body, mimetype=report.mimetype.split(";")[0])
    resp.headers["Content-Disposition"] = report.content_disposition
    return resp


@api.get("/plans/<plan_id>/report.<fmt>", tags=[reports_tag], responses=_REPORT_RESPONSES)
@roles("planner", "integration", "partner")
def plan_report(path: ReportPath) -> Response:
    """A plan's carbon report: `csv` (one row per TCE), `geojson`, `pdf` or `ileap.json`.

    `ileap.json` is a PACT list (`data`) of ProductFootprints, each carrying the iLEAP
    ShipmentFootprint. A partner gets only the shipments shared with it.
    """
    return _download(reports.render(path.plan_id, path.fmt, principal()))


@api.get(
    "/plans/<plan_id>/shipments/<path:shipment_id>/report.<fmt>",
    tags=[reports_tag],
    responses=_REPORT_RESPONSES,
)
@roles("planner", "integration", "partner")
def shipment_report(path: ShipmentReportPath) -> Response:
    """One shipment's report; `ileap.json` is its iLEAP ShipmentFootprint."""
    return _download(reports.render(path.plan_id, path.fmt, principal(), path.shipment_id))


# ----------------------------------------------------------------------------- tokens

tokens_tag = Tag(name="tokens", description="The caller's own API token")


class TokenOut(BaseModel):
    """A token's new secret, shown once."""

    token_id: int
    role: str
    partner_id: str | None = None
    token: str = Field(description="The new secret; the old one no longer works.")


def _no_replay(func: Any) -> Any:
    """Mark a POST whose answer must never be stored for Idempotency-Key replays."""
    func.greenlane_no_replay = True
    return func


@api.post("/tokens/self/rotate", tags=[tokens_tag], responses={200: TokenOut, **_POST_ERRORS})
@roles("planner", "integration", "partner")
@_no_replay
def rotate_own_token() -> Response:
    """Replace the calling token's secret (id, role and partner stay).

    The answer holds the only copy of the new secret, so it is never stored for replays:
    an `Idempotency-Key` is ignored here, and `Cache-Control: no-store` is set.
    """
    who = principal()
    token = rotate_token(engine_of(), who.token_id)
    resp = jsonify(
        {"token_id": who.token_id, "role": who.role, "partner_id": who.partner_id, "token": token}
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp
