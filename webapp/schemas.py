"""Request and response models of ``/api/v1`` (the OpenAPI document is generated from them).

Shipments are validated by ``routing.planner.shipments.ShipmentIn`` (tightened here: finite, bounded
numbers) and transport chains by ``emissions.schema.ChainIn``: the domain packages own those
shapes, the API reuses them. Request floats refuse ``NaN``/``Infinity`` (422 naming the field).
Names carry units (``mass_t``, ``co2e_wtw_kg``, ``cost_cny``); times are RFC 3339.
"""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import Any, Literal

from flask_openapi3 import FileStorage
from pydantic import BaseModel, ConfigDict, Field

from greenlane.routing.planner.shipments import ShipmentIn as _DomainShipmentIn

ReportFormat = Literal["csv", "geojson", "pdf", "ileap.json"]
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,200}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# ----------------------------------------------------------------------------- requests


class ShipmentIn(_DomainShipmentIn):
    """One shipment of a request: the domain's ``ShipmentIn`` with finite, bounded numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    mass_t: float = Field(gt=0, le=100_000, description="[t]")
    volume_m3: float | None = Field(default=None, gt=0, le=1_000_000, description="[m3]")
    teu: float | None = Field(default=None, gt=0, le=30_000, description="[TEU]")
    max_co2e_kg: float | None = Field(
        default=None, gt=0, le=1e10, description="cap on this shipment's WTW CO2e [kg]"
    )


class PlanOptionsIn(_In):
    """Planner options; units in the names."""

    objective: Literal["cost", "co2e"] = Field(
        "cost", description="'cost': cost + carbon price x CO2e; 'co2e': least WTW CO2e first"
    )
    carbon_price_cny_per_t: float = Field(0.0, ge=0, le=100_000, description="[CNY/t CO2e]")
    target_year: int | None = Field(
        None, ge=2000, le=2100, description="cap the plan intensity at the target trajectory"
    )
    due_dates: Literal["hard", "soft"] = "hard"
    late_penalty_cny_per_t_day: float = Field(
        200.0,
        ge=0,
        le=1_000_000,
        description="penalty for arriving late with due_dates='soft' [CNY per t per day]",
    )
    k_paths: int = Field(4, ge=1, le=8, description="candidate paths per shipment")
    factor_sets: list[str] = Field(default_factory=list, max_length=10)
    time_limit_s: float | None = Field(
        None, gt=0, le=600, description="solver wall-clock limit [s] (server default if unset)"
    )
    seed: int = Field(0, ge=0, le=2_147_483_647)
    deterministic_time: float | None = Field(
        None,
        gt=0,
        le=600,
        description="stop the search after this much solver work "
        "[CP-SAT deterministic s]: same book and seed, same plan (the time limit still applies)",
    )
    stop_level_routing: bool = Field(
        False,
        description="route the first/last-mile road legs as multi-stop tours per "
        "terminal and day (the plan then lists stop_routes)",
    )
    co2e_cap_kg: float | None = Field(
        None,
        gt=0,
        le=1e12,
        description="cap on the plan's total WTW CO2e [kg]: the cheapest plan under it "
        "(pick a point of the cost-vs-CO2e curve)",
    )
    regulatory_costs: bool = Field(
        True,
        description="legs pay EU ETS, FuelEU, ReFuelEU SAF mandate, ETS2 and German toll "
        "of the year of travel (legs[].cost_breakdown)",
    )
    travel_year: int | None = Field(
        None, ge=2000, le=2100, description="year of travel (default: earliest ready_at year)"
    )
    eua_eur_per_t: float | None = Field(
        None, ge=0, le=10_000, description="EUA price [EUR/t CO2e] (default: dated table value)"
    )
    ets2_eur_per_t: float | None = Field(
        None, ge=0, le=10_000, description="ETS2 price [EUR/t CO2] (default: table value)"
    )
    price_basis: Literal["operating_cost", "rate_card"] = Field(
        "operating_cost",
        description="rate_card: carrier-sold sea, rail and air services at data/rate_cards.csv",
    )
    bunker_price_factor: float = Field(
        1.0, gt=0, le=100, description="factor on fossil marine bunker prices [-] (1.3: +30 %)"
    )
    jet_price_factor: float = Field(
        1.0, gt=0, le=100, description="factor on the fossil jet fuel price [-]"
    )
    rate_card_index: float = Field(
        1.0, gt=0, le=100, description="factor on every rate card [-] (with price_basis rate_card)"
    )
    dataset_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_]{1,40}$",
        description="plan on this dataset of the caller's organisation (POST /datasets); "
        "'default': the shipped tables; unset: the organisation's dataset in force",
    )


class PlanRequest(_In):
    """A book of shipments to plan, with options; ``async`` forces a background job."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    shipments: list[ShipmentIn] = Field(min_length=1, max_length=5000)
    options: PlanOptionsIn = Field(default_factory=PlanOptionsIn)
    name: str | None = Field(None, max_length=200)
    run_async: bool = Field(False, alias="async", description="always answer 202 with a job")


class ParetoRequest(PlanRequest):
    """A book and options; the answer is the cost-vs-CO2e frontier (``points`` solves)."""

    points: int = Field(6, ge=2, le=12)


class ShareIn(_In):
    """Share a plan (or some of its shipments) with a partner."""

    partner_id: str = Field(pattern=ID_PATTERN)
    shipment_ids: list[str] | None = Field(
        None, min_length=1, max_length=5000, description="omit to share the whole plan"
    )


class IdempotencyHeader(BaseModel):
    """``Idempotency-Key``: a retried POST with the same key and body gets the first answer."""

    idempotency_key: str | None = Field(None, alias="Idempotency-Key", min_length=1, max_length=255)


class PlanPath(BaseModel):
    """A plan id."""

    plan_id: str = Field(max_length=40)


class UnsharePath(BaseModel):
    """A plan and the partner to stop sharing it with."""

    plan_id: str = Field(max_length=40)
    partner_id: str = Field(max_length=200)


class UnshareQuery(BaseModel):
    """Only this shipment's share (default: every share of the partner on the plan)."""

    shipment_id: str | None = Field(default=None, max_length=200)


class JobPath(BaseModel):
    """A job id."""

    job_id: str = Field(max_length=40)


class ReportPath(BaseModel):
    """A plan's report in one format."""

    plan_id: str = Field(max_length=40)
    fmt: ReportFormat


class ShipmentReportPath(BaseModel):
    """One shipment's report in one format."""

    plan_id: str = Field(max_length=40)
    shipment_id: str = Field(max_length=200)
    fmt: ReportFormat


class DatasetUploadForm(BaseModel):
    """A dataset as ``multipart/form-data``: several CSV files named by table (``lanes.csv``),
    or one XLSX workbook (one sheet per table), or one JSON document; and a name."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    files: list[FileStorage] = Field(description="the tables' files")
    name: str | None = Field(None, max_length=200)


class DatasetPath(BaseModel):
    """A dataset id (``default``: the shipped tables, for activation)."""

    dataset_id: str = Field(max_length=40)


class FootprintQuery(BaseModel):
    """Output format of a footprint: greenlane JSON or iLEAP ShipmentFootprint."""

    format: Literal["json", "ileap"] = "json"


# ----------------------------------------------------------------------------- responses


class Problem(_Out):
    """RFC 9457 problem details; ``field`` is the path of the input at fault."""

    model_config = ConfigDict(
        extra="allow",
        openapi_extra={  # type: ignore[typeddict-unknown-key]  # flask-openapi3 key
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
        },
    )

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
"""OpenAPI security of the Bearer-token API blueprints."""
ERRORS: dict[str | int | HTTPStatus, Any] = {
    code: Problem for code in (400, 401, 403, 404, 422, 429)
}
"""The problem+json answers every API route documents."""
POST_ERRORS: dict[str | int | HTTPStatus, Any] = {**ERRORS, 409: Problem, 413: Problem}
"""``ERRORS`` plus a conflicting idempotency key (409) and a body too large (413)."""


class SummaryOut(_Out):
    """Plan totals [CNY, kg CO2e, tkm, g CO2e/tkm]."""

    shipments_planned: int
    shipments_unplanned: int
    cost_cny: float
    co2e_wtw_kg: float
    co2e_ttw_kg: float
    tkm: float
    intensity_g_per_tkm: float
    on_time_share: float
    currency: str


class LegOut(_Out):
    """A planned leg (a TCE): lane, mode, vehicle, times, cost and CO2e."""

    lane_id: str
    mode: str
    origin: str
    destination: str
    departure_at: str
    arrival_at: str
    cost_cny: float
    distance_km: float
    co2e_wtw_kg: float
    co2e_ttw_kg: float


class ShipmentPlanOut(_Out):
    """A served shipment with its legs and (optionally) its ISO 14083 footprint."""

    shipment_id: str
    origin: str
    destination: str
    mass_t: float
    cost_cny: float
    co2e_wtw_kg: float
    co2e_ttw_kg: float
    intensity_g_per_tkm: float
    arrival_at: str
    due_at: str
    on_time: bool
    legs: list[LegOut]
    footprint: dict[str, Any] | None = None


class UnplannedOut(_Out):
    """A shipment that cannot be served, with the reasons."""

    shipment_id: str
    reasons: list[str]


class PlanOut(_Out):
    """A stored plan: the planner's answer plus id, state and links."""

    id: str
    name: str
    status: str
    state: Literal["proposed", "accepted"]
    created_at: datetime
    accepted_at: datetime | None = None
    software_version: str
    data_sha256: dict[str, str]
    summary: SummaryOut
    shipments: list[ShipmentPlanOut]
    unplanned: list[UnplannedOut]
    solver: dict[str, Any]
    options: dict[str, Any]
    dataset: dict[str, str] = Field(
        description="the dataset the plan was made on: id ('default': the shipped tables) "
        "and content sha256"
    )
    links: dict[str, str]


class JobOut(_Out):
    """A background job: ``queued|running|done|failed``, progress 0..1, result link."""

    id: str
    kind: Literal["plan", "pareto"]
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    plan_id: str | None = None
    result_url: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class ParetoPointOut(_Out):
    """One non-dominated plan of the trade-off curve."""

    cost_cny: float
    co2e_wtw_kg: float
    co2e_ttw_kg: float
    intensity_g_per_tkm: float
    on_time_share: float
    shipments_planned: int
    paths: dict[str, str]


class ParetoOut(_Out):
    """The cost-vs-CO2e frontier, cheapest first."""

    points: list[ParetoPointOut]


class FootprintOut(_Out):
    """The greenlane footprint JSON (see the README's chain JSON section)."""

    shipment_id: str
    mass_t: float
    totals: dict[str, Any]
    legs: list[dict[str, Any]]
    method: dict[str, Any]


class ShareOut(_Out):
    """A share: the whole plan (``shipment_id`` null) or one shipment, for one partner."""

    plan_id: str
    partner_id: str
    shipment_id: str | None
    created_at: datetime


class SharesOut(_Out):
    """Shares created or visible to the caller."""

    shares: list[ShareOut]


class SharedItemOut(_Out):
    """Something a partner may download: the plan's name, totals of what is shared, links."""

    plan_id: str
    plan_name: str
    shipment_id: str | None
    shipments: int = Field(description="Shipments shared in this item")
    co2e_wtw_kg: float = Field(description="WTW CO2e of the shared shipments [kg]")
    intensity_g_per_tkm: float = Field(
        description="g CO2e WTW per tonne-km on the great-circle distance origin -> destination"
    )
    shared_at: datetime | None
    reports: dict[str, str]


class SharedListOut(_Out):
    """What is shared with the calling partner."""

    items: list[SharedItemOut]


class GeoJSONOut(_Out):
    """An RFC 7946 FeatureCollection ([lon, lat])."""

    model_config = ConfigDict(
        extra="allow",
        openapi_extra={  # type: ignore[typeddict-unknown-key]  # flask-openapi3 key
            "content": {
                "application/geo+json": {"schema": {"$ref": "#/components/schemas/GeoJSONOut"}}
            }
        },
    )

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


class DatasetFileOut(_Out):
    """One uploaded file of a dataset."""

    name: str
    size_bytes: int
    sha256: str


class TableChangesOut(_Out):
    """How many rows a table adds, removes and changes; hubs and lanes also list the ids.
    Against the shipped tables, also how the table was given (``replace`` or ``merge``) and
    how many rows it gave."""

    mode: Literal["replace", "merge"] | None = None
    rows: int | None = None
    added: int
    removed: int
    changed: int
    added_ids: list[str] | None = None
    removed_ids: list[str] | None = None
    changed_ids: list[str] | None = None


class DatasetChangesOut(_Out):
    """What a dataset changes against another (``base``: id and sha256), per table."""

    base: dict[str, str]
    tables: dict[str, TableChangesOut]


class DatasetOut(_Out):
    """A stored dataset of the caller's organisation."""

    id: str
    name: str
    organisation: str
    sha256: str = Field(description="sha256 of the dataset's content")
    upload_format: Literal["csv", "xlsx", "json"]
    created_at: datetime
    in_force: bool = Field(description="plans that name no dataset_id use it")
    files: list[DatasetFileOut]
    tables: dict[str, TableChangesOut] = Field(
        description="per table, what the dataset changes against the shipped tables"
    )
    changes_vs_in_force: DatasetChangesOut | None = Field(
        None, description="what activating it would change (GET /datasets/{id} only)"
    )
    links: dict[str, str]


class DatasetListOut(_Out):
    """The organisation's datasets, newest first, and the id of the one in force."""

    organisation: str
    in_force: str = Field(description="a dataset id, or 'default' (the shipped tables)")
    items: list[DatasetOut]


class DisruptionsIn(_In):
    """Disruptions to apply to a stored plan (each validated against the network)."""

    disruptions: list[dict[str, Any]] = Field(
        description="Each: disruption_id, kind (passage|hub|lane), ref, start, end, and "
        "optionally effect (closed|delay|capacity), delay_h, capacity_share, "
        "reason. Passages: suez, babalmandab, panama, gibraltar, bosporus, "
        "ormuz, malacca.",
        json_schema_extra={
            "example": [
                {
                    "disruption_id": "RED-SEA",
                    "kind": "passage",
                    "ref": "suez",
                    "start": "2026-11-01T00:00:00Z",
                    "end": "2027-06-01T00:00:00Z",
                }
            ]
        },
    )


class ImpactOut(_Out):
    """A disruption's impact: hit shipments with deltas, totals, the re-plan and its link."""

    disruptions: list[str]
    lane_changes: dict[str, str]
    summary: dict[str, Any]
    shipments: list[dict[str, Any]]
    replan: dict[str, Any]
    original_plan_id: str
    replan_plan_id: str
    links: dict[str, str]
