"""Every SQL table of greenlane (SQLAlchemy Core) on one ``metadata``.

The Alembic scripts in ``webapp/migrations`` build these tables (a test checks that the two
agree). Plans, jobs (plan, Pareto and lever runs alike), API tokens, shares,
``Idempotency-Key`` answers and rate limits; the carbon ledger's hash-chained entries, actual
shipments and legs, certificates and their retirements, and baseline settings.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("partner_id", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # Refused from then on; NULL (tokens made before migration 0008): no expiry.
    Column("expires_at", DateTime(timezone=True), nullable=True),
    # The organisation whose plans and datasets the token sees (migration 0009: "default").
    Column("organisation", String(200), nullable=False, server_default="default"),
)

ui_sessions = Table(
    "ui_sessions",
    metadata,
    # sha256 of the random session id kept in the signed cookie
    Column("id_sha256", String(64), primary_key=True),
    Column("token_id", Integer, ForeignKey("api_tokens.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Set by logging out, or for every session of a token when it is rotated or revoked.
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Index("ix_ui_sessions_token_id", "token_id"),
)

plans = Table(
    "plans",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False, default=""),
    Column("status", String(40), nullable=False),
    Column("state", String(20), nullable=False, default="proposed"),
    Column("request", JSON, nullable=False),
    Column("result", JSON, nullable=False),
    # Lossless footprints (TCE geometry, times) from which every report is rendered.
    Column("footprints", JSON, nullable=False),
    Column("pareto", JSON, nullable=True),
    Column("data_sha256", JSON, nullable=False),
    Column("software_version", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=True),
    Column("created_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
    # The organisation that made the plan (only its tokens see it) and the dataset planned
    # on (NULL: the shipped data); migration 0009.
    Column("organisation", String(200), nullable=False, server_default="default"),
    Column("dataset_id", String(40), ForeignKey("datasets.id"), nullable=True),
    Index("ix_plans_organisation", "organisation"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    # ``plan``, ``pareto`` or ``levers`` (a marginal abatement cost curve, migration 0006)
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("request", JSON, nullable=False),
    Column("result_plan_id", String(40), ForeignKey("plans.id"), nullable=True),
    Column("result", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("created_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
    # The server process that runs the job (``instance_id``) and its last sign of life;
    # NULL (rows from before migration 0004) counts as stale.
    Column("owner", String(40), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_id", Integer, ForeignKey("api_tokens.id"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(500), nullable=False),
    Column("request_sha256", String(64), nullable=False),
    # NULL while the first request is still being processed.
    Column("status_code", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("response_headers", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The server process handling the request and its last sign of life (see ``jobs``).
    Column("owner", String(40), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("token_id", "key", name="uq_idempotency_token_key"),
)

shares = Table(
    "shares",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(40), ForeignKey("plans.id"), nullable=False),
    # NULL shares the whole plan; otherwise one shipment of it.
    Column("shipment_id", String(200), nullable=True),
    Column("partner_id", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
    Index("ix_shares_partner_plan", "partner_id", "plan_id"),
)

report_downloads = Table(
    "report_downloads",
    metadata,
    # Every report a partner downloaded: who, what, when (shown to planners on the plan page).
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(40), ForeignKey("plans.id"), nullable=False),
    Column("shipment_id", String(200), nullable=True),
    Column("fmt", String(20), nullable=False),
    Column("partner_id", String(200), nullable=False),
    Column("token_id", Integer, ForeignKey("api_tokens.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_report_downloads_plan", "plan_id"),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    # ``token:<id>`` or ``ip:<address>``
    Column("bucket", String(200), primary_key=True),
    # requests left [count] at ``stamp_s`` [s since the epoch]
    Column("tokens", Float, nullable=False),
    Column("stamp_s", Float, nullable=False),
    # 1 if the last request counted here was let through
    Column("allowed", Integer, nullable=False),
    Index("ix_rate_limits_stamp_s", "stamp_s"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(20), nullable=False),
    # What the entry records, e.g. ``actual:ac_...``, ``certificate:ce_...``, ``plan:pl_...``.
    Column("ref", String(200), nullable=False),
    Column("payload", JSON, nullable=False),
    # RFC 3339 text exactly as hashed (no time-zone round trip through the database).
    Column("created_at", String(40), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("hash", name="uq_ledger_entries_hash"),
    Index("ix_ledger_entries_ref", "ref"),
)

actual_shipments = Table(
    "actual_shipments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("shipment_id", String(200), nullable=False),
    # A correction is a new version; the KPI uses the newest version of each shipment.
    Column("version", Integer, nullable=False),
    Column("plan_id", String(40), ForeignKey("plans.id"), nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=False),
    Column("origin", String(64), nullable=False),
    Column("destination", String(64), nullable=False),
    Column("lane", String(140), nullable=False),
    Column("carrier", String(200), nullable=True),
    Column("mass_t", Float, nullable=False),
    Column("tkm_gcd", Float, nullable=False),
    Column("tkm", Float, nullable=False),
    Column("co2e_wtw_kg", Float, nullable=False),
    Column("co2e_ttw_kg", Float, nullable=False),
    Column("request", JSON, nullable=False),
    # Lossless footprint (``store.footprints_json``) recomputed from the legs as driven.
    Column("footprint", JSON, nullable=False),
    Column("data_sha256", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
    UniqueConstraint("shipment_id", "version", name="uq_actual_shipment_version"),
    Index("ix_actual_shipments_lane", "lane"),
    Index("ix_actual_shipments_completed_at", "completed_at"),
)

actual_legs = Table(
    "actual_legs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("actual_id", String(40), ForeignKey("actual_shipments.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("tce_id", String(200), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("carrier", String(200), nullable=False),
    Column("energy_carrier", String(200), nullable=False),
    Column("data_type", String(20), nullable=False),
    Column("distance_km", Float, nullable=False),
    Column("tkm", Float, nullable=False),
    Column("tkm_gcd", Float, nullable=False),
    Column("co2e_wtw_kg", Float, nullable=False),
    Column("co2e_ttw_kg", Float, nullable=False),
    UniqueConstraint("actual_id", "position", name="uq_actual_legs_position"),
)

certificates = Table(
    "certificates",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("registry", String(100), nullable=False),
    Column("serial", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("volume", Float, nullable=False),
    Column("unit", String(10), nullable=False),
    Column("vintage", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    # ``shipment`` or ``lane`` and the shipment id or trade lane it is assigned to.
    Column("assigned_kind", String(10), nullable=True),
    Column("assigned_ref", String(200), nullable=True),
    # The calendar year a retired certificate is claimed for (one period only).
    Column("claim_year", Integer, nullable=True),
    Column("beneficiary", String(200), nullable=True),
    Column("note", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
    UniqueConstraint("registry", "serial", name="uq_certificates_serial"),
    CheckConstraint("kind IN ('saf', 'green_power', 'carbon_credit')", name="ck_certificates_kind"),
    CheckConstraint("status IN ('held', 'assigned', 'retired')", name="ck_certificates_status"),
    CheckConstraint("volume > 0", name="ck_certificates_volume"),
)

certificate_retirements = Table(
    "certificate_retirements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("certificate_id", String(40), ForeignKey("certificates.id"), nullable=False),
    Column("registry", String(100), nullable=False),
    Column("serial", String(200), nullable=False),
    Column("claim_year", Integer, nullable=False),
    Column("beneficiary", String(200), nullable=False),
    Column("retired_at", DateTime(timezone=True), nullable=False),
    # No double counting: a serial retires once, whatever the application does.
    UniqueConstraint("registry", "serial", name="uq_certificate_retirements_serial"),
    UniqueConstraint("certificate_id", name="uq_certificate_retirements_certificate"),
)

baseline_settings = Table(
    "baseline_settings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("baseline_year", Integer, nullable=False),
    Column("baseline_intensity_g_per_tkm", Float, nullable=False),
    Column("target_year", Integer, nullable=False),
    Column("reduction_share", Float, nullable=False),
    # ``set`` (stated) or ``history`` (computed from the recorded actuals of the year).
    Column("method", String(20), nullable=False),
    Column("source", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
)

# ----------------------------------------------------------------------------- PACT
# OAuth2 clients of partners, received events, partners' hosts and pulled footprints
# (``webapp.pact``, migration 0007).

pact_clients = Table(
    "pact_clients",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The OAuth2 client id (public) and the sha256 of its secret (the secret is never stored).
    Column("client_id", String(64), nullable=False, unique=True),
    Column("secret_sha256", String(64), nullable=False),
    # The partner whose shares this client sees (``shares.partner_id``).
    Column("partner_id", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    # Where RequestFulfilled/Rejected answers go (``<base>/2/events``); NULL: the event's source.
    Column("events_base_url", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

pact_events = Table(
    "pact_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False),
    Column("event_id", String(500), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("source", String(1000), nullable=False),
    Column("body", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # The answer to a RequestCreated event: its type, target URL, delivery state and error.
    Column("answer_type", String(200), nullable=True),
    Column("answer_url", String(1000), nullable=True),
    Column("answer_status", String(20), nullable=True),
    Column("answer_error", Text, nullable=True),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Index("ix_pact_events_client", "client_id", "received_at"),
)

pact_remotes = Table(
    "pact_remotes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # A partner's PACT host (base URL, e.g. ``https://carrier.example/pact``) and the
    # credentials greenlane uses there; the secret is encrypted with the app's SECRET_KEY.
    Column("partner_id", String(200), nullable=False),
    Column("base_url", String(500), nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("client_secret_enc", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("pulled_at", DateTime(timezone=True), nullable=True),
    Index("ix_pact_remotes_partner", "partner_id"),
)

pact_pulled = Table(
    "pact_pulled",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # One ProductFootprint version pulled from a partner's host, as received.
    Column("partner_id", String(200), nullable=False),
    Column("host_id", Integer, nullable=False),
    Column("pf_id", String(36), nullable=False),
    Column("pf_version", Integer, nullable=False),
    Column("shipment_id", String(200), nullable=True),
    Column("body", JSON, nullable=False),
    Column("pulled_at", DateTime(timezone=True), nullable=False),
    # What became of it: ``recorded`` (an actual in the ledger), ``unmatched``, ``invalid``.
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=True),
    Column("plan_id", String(40), nullable=True),
    Column("actual_id", String(40), nullable=True),
    UniqueConstraint("partner_id", "pf_id", "pf_version", name="uq_pact_pulled_version"),
)

# ----------------------------------------------------------------------------- datasets
# A company's own tables (hubs, lanes, rate cards, ...) uploaded as files, stored here so any
# process re-materialises them (``webapp.datasets``, migration 0009).

datasets = Table(
    "datasets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("organisation", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    # sha256 of the dataset's content (``routing.datasets.Dataset.sha256``)
    Column("sha256", String(64), nullable=False),
    # ``csv`` (several CSV files), ``xlsx`` (one workbook) or ``json`` (one document)
    Column("upload_format", String(10), nullable=False),
    # Per table: rows given and how they change the shipped defaults (counts).
    Column("tables", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
    UniqueConstraint("organisation", "sha256", name="uq_datasets_organisation_sha256"),
    CheckConstraint("upload_format IN ('csv', 'xlsx', 'json')", name="ck_datasets_upload_format"),
)

dataset_files = Table(
    "dataset_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", String(40), ForeignKey("datasets.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    UniqueConstraint("dataset_id", "name", name="uq_dataset_files_name"),
)

dataset_activations = Table(
    "dataset_activations",
    metadata,
    # Append-only: the newest row of an organisation names its dataset in force
    # (``dataset_id`` NULL: back to the shipped data).
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation", String(200), nullable=False),
    Column("dataset_id", String(40), ForeignKey("datasets.id"), nullable=True),
    Column("activated_at", DateTime(timezone=True), nullable=False),
    Column("activated_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
    Index("ix_dataset_activations_organisation", "organisation", "id"),
)

LEDGER_TABLES = (
    "ledger_entries",
    "actual_shipments",
    "actual_legs",
    "certificates",
    "certificate_retirements",
    "baseline_settings",
)
"""The carbon ledger's tables."""
APPEND_ONLY = ("ledger_entries", "certificate_retirements")
"""Tables on which the database itself refuses UPDATE and DELETE (migration 0002)."""

__all__ = [
    "APPEND_ONLY",
    "LEDGER_TABLES",
    "actual_legs",
    "actual_shipments",
    "api_tokens",
    "baseline_settings",
    "certificate_retirements",
    "certificates",
    "dataset_activations",
    "dataset_files",
    "datasets",
    "idempotency",
    "jobs",
    "ledger_entries",
    "metadata",
    "pact_clients",
    "pact_events",
    "pact_pulled",
    "pact_remotes",
    "plans",
    "rate_limits",
    "shares",
]
