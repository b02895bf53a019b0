"""Request and answer models of the ledger API and forms (pydantic)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from greenlane.webapp.schemas import ID_PATTERN

# ----------------------------------------------------------------------------- services
# One call per request (API, UI and CLI alike): validate, compute with ``emissions`` and
# ``routing``, store in one transaction, answer.


class ActualRequest(BaseModel):
    """An executed shipment: legs as driven or sailed, in the transport-chain JSON shape.

    Each leg is a chain leg (``LegIn``: mode, distance or end points, and exactly one of
    ``energy`` — primary fuel/kWh data —, ``toc`` or ``vehicle`` with its load) or a hub
    (``HubIn``), plus an optional ``carrier`` (the operating company, for the KPI by
    carrier). ``origin``/``destination`` (hub id, UN/LOCODE, IATA or ``lat;lon``) give the
    great-circle KPI distance; they default to the planned shipment's.
    """

    model_config = ConfigDict(extra="forbid")

    completed_at: datetime = Field(description="delivery time (the KPI period), RFC 3339")
    mass_t: float = Field(gt=0, le=100_000)
    volume_m3: float | None = Field(default=None, gt=0)
    plan_id: str | None = Field(
        default=None,
        max_length=40,
        description="the plan this executes (default: the newest accepted plan with this shipment)",
    )
    origin: str | None = Field(default=None, min_length=2, max_length=64)
    destination: str | None = Field(default=None, min_length=2, max_length=64)
    carrier: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="operating company of the legs without their own",
    )
    factor_sets: list[str] = Field(default_factory=list, max_length=10)
    gwp_basis: Literal["AR6", "AR5", "FEEMS"] = "AR6"
    legs: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=100,
        description="chain legs (LegIn) and hubs (HubIn), each with an optional `carrier`",
    )

    @field_validator("completed_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        if not 1990 <= v.year <= 2100:
            raise ValueError("must lie between 1990 and 2100")
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


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


class CertificateTarget(_In):
    shipment_id: str | None = Field(None, pattern=ID_PATTERN)
    lane: str | None = Field(
        None,
        min_length=3,
        max_length=140,
        description="trade lane origin>destination, e.g. F-NANJING>C-MADRID",
    )

    @model_validator(mode="after")
    def _one(self) -> CertificateTarget:
        if self.shipment_id is not None and self.lane is not None:
            raise ValueError("give shipment_id or lane, not both")
        if self.lane is not None and (self.lane.count(">") != 1 or not all(self.lane.split(">"))):
            raise ValueError("a lane is written origin>destination")
        return self


class AssignIn(CertificateTarget):
    """Assign a certificate to one shipment or one trade lane."""

    @model_validator(mode="after")
    def _needed(self) -> AssignIn:
        if self.shipment_id is None and self.lane is None:
            raise ValueError("give shipment_id or lane")
        return self


class RetireIn(CertificateTarget):
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
