"""The carbon ledger's storage and services: append-only hash-chained entries, actual shipments
and legs, certificates and their retirements, baseline settings and lever runs.

Every recorded plan acceptance, actual shipment, certificate movement and baseline setting
appends one entry to ``ledger_entries`` in the same transaction as the row it records. An
entry holds the hash of the one before (``emissions.ledger.entry_hash``) and a digest of the
rows it records, so :func:`verify` finds an edited or deleted entry *and* an edited or deleted
row. The database refuses UPDATE and DELETE on ``ledger_entries`` and
``certificate_retirements`` (triggers, see migration 0002); the app never updates them. A
certificate serial can be retired once: ``certificate_retirements`` is UNIQUE on
``(registry, serial)``. Certificates are listed beside emissions and never subtracted.

The accounting itself (footprints, KPI, neutrality check, MACC) lives in ``emissions`` and
``routing``; this module stores, aggregates rows into ``emissions.ledger.Record`` objects and
shapes answers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    and_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from greenlane.emissions.errors import InputError
from greenlane.emissions.ledger import (
    CERTIFICATE_KINDS,
    CERTIFICATE_STATUSES,
    GENESIS,
    KPI_DIMENSIONS,
    Entry,
    Record,
    canonical_json,
    check_certificate,
    check_certificate_move,
    entry_hash,
    intensity_of,
    kpi,
    lane_key,
    leg_shares,
    neutrality_check,
    period_key,
    standing,
    verify_chain,
)
from greenlane.emissions.report.tables import spreadsheet_safe
from greenlane.webapp.db import as_utc, metadata, transaction, utcnow

T = TypeVar("T")

# ----------------------------------------------------------------------------- tables

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

lever_runs = Table(
    "lever_runs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("request", JSON, nullable=False),
    Column("result", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("created_by", Integer, ForeignKey("api_tokens.id"), nullable=True),
    Column("owner", String(40), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
)

LEDGER_TABLES = (
    "ledger_entries",
    "actual_shipments",
    "actual_legs",
    "certificates",
    "certificate_retirements",
    "baseline_settings",
    "lever_runs",
)
APPEND_ONLY = ("ledger_entries", "certificate_retirements")
"""Tables on which the database itself refuses UPDATE and DELETE (migration 0002)."""
_PG_LOCK = 7_214_031
"""Advisory lock key serialising ledger appends on PostgreSQL."""


class Conflict(InputError):
    """A request that conflicts with the recorded state (HTTP 409)."""


# ----------------------------------------------------------------------------- the chain


def _now_text() -> str:
    return utcnow().isoformat(timespec="microseconds")


def _jsonable(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload exactly as the database will give it back (JSON types only)."""
    import json

    return json.loads(canonical_json(payload))  # type: ignore[no-any-return]


def _entry(row: Row[Any]) -> Entry:
    return Entry(int(row.seq), row.kind, dict(row.payload), row.created_at, row.prev_hash, row.hash)


def head(conn: Connection) -> Entry | None:
    """The newest entry, or None for an empty ledger."""
    row = conn.execute(
        select(ledger_entries).order_by(ledger_entries.c.seq.desc()).limit(1)
    ).first()
    return _entry(row) if row is not None else None


def append_entry(conn: Connection, kind: str, ref: str, payload: Mapping[str, Any]) -> Entry:
    """Append one chained entry inside the caller's transaction (after its own writes).

    On PostgreSQL an advisory transaction lock serialises appends; on SQLite the caller's
    earlier write already holds the database's write lock. A race that still slips through
    fails on the primary key (``seq``) and is retried by :func:`in_ledger_transaction`.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    last = head(conn)
    seq = 1 if last is None else last.seq + 1
    prev = GENESIS if last is None else last.hash
    body = _jsonable(payload)
    created = _now_text()
    digest = entry_hash(prev, seq, kind, body, created)
    conn.execute(
        ledger_entries.insert().values(
            seq=seq,
            kind=kind,
            ref=ref,
            payload=body,
            created_at=created,
            prev_hash=prev,
            hash=digest,
        )
    )
    return Entry(seq, kind, body, created, prev, digest)


def in_ledger_transaction(
    fn: Callable[[Connection], T], engine: Engine | None = None, attempts: int = 5
) -> T:
    """Run ``fn`` in one transaction, retrying when a concurrent append took its ``seq``."""
    for attempt in range(attempts):
        try:
            with transaction(engine) as conn:
                return fn(conn)
        except IntegrityError as exc:
            if "ledger_entries" not in str(exc.orig) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def entries(
    conn: Connection, after: int = 0, limit: int | None = None, ref: str | None = None
) -> list[tuple[str, Entry]]:
    """(ref, entry) pairs in chain order."""
    query = (
        select(ledger_entries).where(ledger_entries.c.seq > after).order_by(ledger_entries.c.seq)
    )
    if ref is not None:
        query = query.where(ledger_entries.c.ref == ref)
    if limit is not None:
        query = query.limit(limit)
    return [(r.ref, _entry(r)) for r in conn.execute(query)]


def entry_json(ref: str, e: Entry) -> dict[str, Any]:
    """An entry as the API shows it."""
    return {
        "seq": e.seq,
        "kind": e.kind,
        "ref": ref,
        "created_at": e.created_at,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "payload": dict(e.payload),
    }


def seqs_label(seqs: Iterable[int]) -> str:
    """``3-5, 9`` for entry numbers 3, 4, 5 and 9."""
    items = sorted(set(seqs))
    parts: list[str] = []
    i = 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1] == items[j] + 1:
            j += 1
        parts.append(str(items[i]) if i == j else f"{items[i]}-{items[j]}")
        i = j + 1
    return ", ".join(parts)


def _digest(doc: Any) -> str:
    return hashlib.sha256(canonical_json({"doc": doc}).encode("utf-8")).hexdigest()


def _iso(value: Any) -> str | None:
    v = as_utc(value)
    return v.isoformat() if v is not None else None


# ----------------------------------------------------------------------------- plans


def plan_digest(row: Row[Any]) -> str:
    """sha256 of a stored plan's answer and footprints (what an acceptance vouches for)."""
    return _digest({"result": row.result, "footprints": row.footprints})


def record_plan_acceptance(conn: Connection, plan_id: str) -> Entry:
    """Append the entry of a plan acceptance (call in the accepting transaction)."""
    from greenlane.webapp.db import plans

    row = conn.execute(select(plans).where(plans.c.id == plan_id)).first()
    assert row is not None
    summary = row.result["summary"]
    payload = {
        "event": "accepted",
        "plan_id": plan_id,
        "name": row.name,
        "accepted_at": _iso(row.accepted_at),
        "summary": {
            k: summary.get(k)
            for k in (
                "cost_cny",
                "co2e_wtw_kg",
                "tkm_gcd",
                "intensity_g_per_tkm",
                "shipments_planned",
            )
        },
        "shipments": [
            {
                "shipment_id": s["shipment_id"],
                "origin": s["origin"],
                "destination": s["destination"],
                "mass_t": s["mass_t"],
                "co2e_wtw_kg": s["co2e_wtw_kg"],
                "tkm_gcd": s["tkm_gcd"],
            }
            for s in row.result["shipments"]
        ],
        "data_sha256": dict(row.data_sha256),
        "plan_sha256": plan_digest(row),
    }
    return append_entry(conn, "plan", f"plan:{plan_id}", payload)


# ----------------------------------------------------------------------------- actuals


@dataclass(frozen=True, slots=True)
class ActualIn:
    """A computed actual ready to store (the web layer validated and computed it)."""

    shipment_id: str
    plan_id: str | None
    completed_at: datetime
    origin: str
    destination: str
    carrier: str | None
    mass_t: float
    tkm_gcd: float
    request: dict[str, Any]
    footprint: Any  # emissions.model.Footprint
    carriers: tuple[str | None, ...]


def actual_digest(conn: Connection, actual_id: str) -> str | None:
    """sha256 of an actual shipment row and its legs as stored (None if missing)."""
    row = conn.execute(select(actual_shipments).where(actual_shipments.c.id == actual_id)).first()
    if row is None:
        return None
    legs = conn.execute(
        select(actual_legs)
        .where(actual_legs.c.actual_id == actual_id)
        .order_by(actual_legs.c.position)
    )
    doc = {
        "id": row.id,
        "shipment_id": row.shipment_id,
        "version": row.version,
        "plan_id": row.plan_id,
        "completed_at": _iso(row.completed_at),
        "origin": row.origin,
        "destination": row.destination,
        "lane": row.lane,
        "carrier": row.carrier,
        "mass_t": row.mass_t,
        "tkm_gcd": row.tkm_gcd,
        "tkm": row.tkm,
        "co2e_wtw_kg": row.co2e_wtw_kg,
        "co2e_ttw_kg": row.co2e_ttw_kg,
        "request": row.request,
        "footprint": row.footprint,
        "data_sha256": row.data_sha256,
        "legs": [
            [
                g.position,
                g.tce_id,
                g.kind,
                g.mode,
                g.carrier,
                g.energy_carrier,
                g.data_type,
                g.distance_km,
                g.tkm,
                g.tkm_gcd,
                g.co2e_wtw_kg,
                g.co2e_ttw_kg,
            ]
            for g in legs
        ],
    }
    return _digest(doc)


def insert_actual(conn: Connection, a: ActualIn, created_by: int | None) -> tuple[str, Entry]:
    """Store an actual shipment (next version) with its legs and append its entry."""
    from greenlane.webapp.store import footprints_json, new_id

    fp = a.footprint
    version = (
        int(
            conn.execute(
                select(actual_shipments.c.version)
                .where(actual_shipments.c.shipment_id == a.shipment_id)
                .order_by(actual_shipments.c.version.desc())
                .limit(1)
            ).scalar()
            or 0
        )
        + 1
    )
    actual_id = new_id("ac")
    lane = lane_key(a.origin, a.destination)
    conn.execute(
        actual_shipments.insert().values(
            id=actual_id,
            shipment_id=a.shipment_id,
            version=version,
            plan_id=a.plan_id,
            completed_at=a.completed_at,
            origin=a.origin,
            destination=a.destination,
            lane=lane,
            carrier=a.carrier,
            mass_t=a.mass_t,
            tkm_gcd=a.tkm_gcd,
            tkm=fp.totals.tkm,
            co2e_wtw_kg=fp.totals.co2e_wtw_kg,
            co2e_ttw_kg=fp.totals.co2e_ttw_kg,
            request=a.request,
            footprint=footprints_json([fp])[0],
            data_sha256=fp.data_sha256,
            created_at=utcnow(),
            created_by=created_by,
        )
    )
    shares = leg_shares(fp, a.tkm_gcd, a.carriers, a.carrier)
    for i, (tce, share) in enumerate(zip(fp.tces, shares, strict=True)):
        conn.execute(
            actual_legs.insert().values(
                actual_id=actual_id,
                position=i,
                tce_id=tce.tce_id,
                kind=tce.kind,
                mode=share.mode,
                carrier=share.carrier,
                energy_carrier=share.energy_carrier,
                data_type=str(tce.data_type),
                distance_km=tce.distance_km,
                tkm=tce.activity_tkm,
                tkm_gcd=share.tkm_gcd,
                co2e_wtw_kg=tce.co2e_wtw_kg,
                co2e_ttw_kg=tce.co2e_ttw_kg,
            )
        )
    payload = {
        "event": "recorded",
        "actual_id": actual_id,
        "shipment_id": a.shipment_id,
        "version": version,
        "plan_id": a.plan_id,
        "completed_at": a.completed_at.astimezone(UTC).isoformat(),
        "lane": lane,
        "carrier": a.carrier,
        "mass_t": a.mass_t,
        "tkm_gcd": a.tkm_gcd,
        "co2e_wtw_kg": fp.totals.co2e_wtw_kg,
        "co2e_ttw_kg": fp.totals.co2e_ttw_kg,
        "data_sha256": fp.data_sha256,
        "row_sha256": actual_digest(conn, actual_id),
    }
    return actual_id, append_entry(conn, "actual", f"actual:{actual_id}", payload)


def latest_actuals(
    conn: Connection, *, lane: str | None = None, shipment_id: str | None = None
) -> list[Row[Any]]:
    """The newest version of each recorded shipment (optionally of one lane or shipment)."""
    query = select(actual_shipments).order_by(
        actual_shipments.c.shipment_id, actual_shipments.c.version
    )
    if lane is not None:
        query = query.where(actual_shipments.c.lane == lane)
    if shipment_id is not None:
        query = query.where(actual_shipments.c.shipment_id == shipment_id)
    newest: dict[str, Row[Any]] = {}
    for row in conn.execute(query):
        newest[row.shipment_id] = row
    return sorted(newest.values(), key=lambda r: (as_utc(r.completed_at), r.shipment_id))


def actual_versions(conn: Connection, shipment_id: str) -> list[Row[Any]]:
    """Every recorded version of a shipment, oldest first."""
    return list(
        conn.execute(
            select(actual_shipments)
            .where(actual_shipments.c.shipment_id == shipment_id)
            .order_by(actual_shipments.c.version)
        )
    )


def legs_of(conn: Connection, actual_ids: Sequence[str]) -> dict[str, list[Row[Any]]]:
    """Legs per actual id, in chain order."""
    out: dict[str, list[Row[Any]]] = {a: [] for a in actual_ids}
    if not actual_ids:
        return out
    for i in range(0, len(actual_ids), 500):
        chunk = list(actual_ids[i : i + 500])
        for g in conn.execute(
            select(actual_legs)
            .where(actual_legs.c.actual_id.in_(chunk))
            .order_by(actual_legs.c.actual_id, actual_legs.c.position)
        ):
            out[g.actual_id].append(g)
    return out


def records(conn: Connection) -> list[Record]:
    """KPI records of the newest version of every recorded shipment, one per TCE."""
    rows = latest_actuals(conn)
    legs = legs_of(conn, [r.id for r in rows])
    out = []
    for r in rows:
        when = as_utc(r.completed_at).date()  # type: ignore[union-attr]
        for g in legs[r.id]:
            out.append(
                Record(
                    when,
                    g.co2e_wtw_kg,
                    g.tkm_gcd,
                    {
                        "mode": g.mode,
                        "lane": r.lane,
                        "carrier": g.carrier,
                        "energy_carrier": g.energy_carrier,
                        "shipment_id": r.shipment_id,
                    },
                )
            )
    return out


def actual_entry_seqs(conn: Connection, actual_ids: Sequence[str]) -> dict[str, int]:
    """Ledger entry number per actual id."""
    refs = [f"actual:{a}" for a in actual_ids]
    out: dict[str, int] = {}
    for i in range(0, len(refs), 500):
        for r in conn.execute(
            select(ledger_entries.c.ref, ledger_entries.c.seq).where(
                ledger_entries.c.ref.in_(refs[i : i + 500])
            )
        ):
            out[r.ref.split(":", 1)[1]] = int(r.seq)
    return out


# ----------------------------------------------------------------------------- certificates


def certificate_json(row: Row[Any], seqs: Sequence[int] = ()) -> dict[str, Any]:
    """A certificate row as the API shows it (``entries``: its ledger entry numbers)."""
    return {
        "id": row.id,
        "registry": row.registry,
        "serial": row.serial,
        "kind": row.kind,
        "volume": row.volume,
        "unit": row.unit,
        "vintage": row.vintage,
        "status": row.status,
        "assigned_to": (
            {"kind": row.assigned_kind, "ref": row.assigned_ref} if row.assigned_kind else None
        ),
        "claim_year": row.claim_year,
        "beneficiary": row.beneficiary,
        "note": row.note,
        "created_at": _iso(row.created_at),
        "entries": list(seqs),
    }


def _cert_payload(event: str, row: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "registry",
        "serial",
        "kind",
        "volume",
        "unit",
        "vintage",
        "status",
        "assigned_kind",
        "assigned_ref",
        "claim_year",
        "beneficiary",
    )
    return {"event": event, "certificate_id": row["id"], **{k: row[k] for k in keys}}


def get_certificate(conn: Connection, cert_id: str) -> Row[Any] | None:
    """A certificate row or None."""
    return conn.execute(select(certificates).where(certificates.c.id == cert_id)).first()


def list_certificates(
    conn: Connection, *, status: str | None = None, assigned_ref: str | None = None
) -> list[Row[Any]]:
    """Certificates, newest first."""
    query = select(certificates).order_by(certificates.c.created_at.desc(), certificates.c.id)
    if status is not None:
        query = query.where(certificates.c.status == status)
    if assigned_ref is not None:
        query = query.where(certificates.c.assigned_ref == assigned_ref)
    return list(conn.execute(query))


def certificate_seqs(conn: Connection, cert_ids: Sequence[str]) -> dict[str, list[int]]:
    """Ledger entry numbers per certificate id."""
    out: dict[str, list[int]] = {c: [] for c in cert_ids}
    refs = [f"certificate:{c}" for c in cert_ids]
    for i in range(0, len(refs), 500):
        for r in conn.execute(
            select(ledger_entries.c.ref, ledger_entries.c.seq)
            .where(ledger_entries.c.ref.in_(refs[i : i + 500]))
            .order_by(ledger_entries.c.seq)
        ):
            out[r.ref.split(":", 1)[1]].append(int(r.seq))
    return out


def register_certificate(
    conn: Connection,
    *,
    registry: str,
    serial: str,
    kind: str,
    volume: float,
    unit: str,
    vintage: int,
    note: str = "",
    created_by: int | None = None,
) -> tuple[str, Entry]:
    """Register a held certificate; a serial already registered is a :class:`Conflict`."""
    from greenlane.webapp.store import new_id

    check_certificate(kind, volume, unit, vintage)
    check_certificate_move(None, "held")
    exists = conn.execute(
        select(certificates.c.id).where(
            and_(certificates.c.registry == registry, certificates.c.serial == serial)
        )
    ).first()
    if exists is not None:
        raise Conflict(
            f"{registry} serial {serial} is already registered ({exists.id})", field="serial"
        )
    cert_id = new_id("ce")
    values = {
        "id": cert_id,
        "registry": registry,
        "serial": serial,
        "kind": kind,
        "volume": volume,
        "unit": unit,
        "vintage": vintage,
        "status": "held",
        "assigned_kind": None,
        "assigned_ref": None,
        "claim_year": None,
        "beneficiary": None,
        "note": note,
    }
    conn.execute(certificates.insert().values(**values, created_at=utcnow(), created_by=created_by))
    return cert_id, append_entry(
        conn, "certificate", f"certificate:{cert_id}", _cert_payload("registered", values)
    )


def move_certificate(
    conn: Connection,
    cert_id: str,
    status: str,
    *,
    assigned_kind: str | None = None,
    assigned_ref: str | None = None,
    claim_year: int | None = None,
    beneficiary: str | None = None,
) -> Entry:
    """Assign, release or retire a certificate; every move is an entry.

    ``assigned``: to a shipment or a trade lane. ``held``: released from its assignment.
    ``retired``: for ``claim_year`` (default: this year), keeping or setting its assignment;
    a second retirement of the serial is refused here and, failing that, by the database.
    """
    row = get_certificate(conn, cert_id)
    if row is None:
        raise LookupError(cert_id)
    try:
        check_certificate_move(row.status, status)
    except InputError as exc:
        raise Conflict(exc.message, field=exc.field) from None
    values = {
        k: getattr(row, k)
        for k in (
            "id",
            "registry",
            "serial",
            "kind",
            "volume",
            "unit",
            "vintage",
            "assigned_kind",
            "assigned_ref",
            "claim_year",
            "beneficiary",
        )
    }
    values["status"] = status
    if status == "assigned":
        if assigned_kind not in ("shipment", "lane") or not assigned_ref:
            raise InputError("give a shipment_id or a lane", field="shipment_id")
        values.update(assigned_kind=assigned_kind, assigned_ref=assigned_ref)
        event = "assigned"
    elif status == "held":
        values.update(assigned_kind=None, assigned_ref=None)
        event = "released"
    else:
        if assigned_ref:
            values.update(assigned_kind=assigned_kind, assigned_ref=assigned_ref)
        year = claim_year or utcnow().year
        values.update(claim_year=year, beneficiary=beneficiary or "")
        event = "retired"
        conn.execute(
            certificate_retirements.insert().values(
                certificate_id=cert_id,
                registry=row.registry,
                serial=row.serial,
                claim_year=year,
                beneficiary=beneficiary or "",
                retired_at=utcnow(),
            )
        )
    conn.execute(
        update(certificates)
        .where(certificates.c.id == cert_id)
        .values(
            status=status,
            assigned_kind=values["assigned_kind"],
            assigned_ref=values["assigned_ref"],
            claim_year=values["claim_year"],
            beneficiary=values["beneficiary"],
        )
    )
    return append_entry(conn, "certificate", f"certificate:{cert_id}", _cert_payload(event, values))


def certificates_for(
    conn: Connection,
    shipment_ids: Iterable[str],
    lanes: Iterable[str],
) -> list[Row[Any]]:
    """Certificates assigned (or retired) to any of the shipments or trade lanes."""
    ships, lns = sorted(set(shipment_ids)), sorted(set(lanes))
    found: dict[str, Row[Any]] = {}
    for kind, refs in (("shipment", ships), ("lane", lns)):
        for i in range(0, len(refs), 500):
            for r in conn.execute(
                select(certificates).where(
                    and_(
                        certificates.c.assigned_kind == kind,
                        certificates.c.assigned_ref.in_(refs[i : i + 500]),
                    )
                )
            ):
                found[r.id] = r
    return sorted(found.values(), key=lambda r: (r.kind, r.registry, r.serial))


def pdf_certificates(rows: Iterable[Row[Any]]) -> list[dict[str, Any]]:
    """Certificate records in the shape ``footprint_report_pdf`` lists."""
    return [
        {
            "registry": r.registry,
            "serial": r.serial,
            "kind": r.kind,
            "volume": r.volume,
            "unit": r.unit,
            "vintage": r.vintage,
            "status": r.status,
        }
        for r in rows
    ]


def report_context(
    conn: Connection, plan_id: str, result: Mapping[str, Any], shipment_ids: Iterable[str]
) -> tuple[list[dict[str, Any]], str]:
    """For a plan report: certificates of its shipments and their trade lanes (beside the
    emissions), and ``plan_id`` labelled with the ledger entries behind the report."""
    wanted = set(shipment_ids)
    trade = {
        lane_key(s["origin"], s["destination"])
        for s in result.get("shipments", [])
        if s["shipment_id"] in wanted
    }
    certs = certificates_for(conn, wanted, trade)
    seqs = [
        int(r.seq)
        for r in conn.execute(
            select(ledger_entries.c.seq).where(ledger_entries.c.ref == f"plan:{plan_id}")
        )
    ]
    seqs += [s for v in certificate_seqs(conn, [c.id for c in certs]).values() for s in v]
    label = f"{plan_id}; ledger entries {seqs_label(seqs)}" if seqs else plan_id
    return pdf_certificates(certs), label


# ----------------------------------------------------------------------------- baseline


def current_baseline(conn: Connection) -> dict[str, Any]:
    """The baseline and target in force: the newest setting, else ``data/targets.csv``."""
    from greenlane.emissions.intensity import default_target

    row = conn.execute(
        select(baseline_settings).order_by(baseline_settings.c.id.desc()).limit(1)
    ).first()
    if row is None:
        t = default_target()
        return {
            "baseline_year": t.baseline_year,
            "baseline_intensity_g_per_tkm": t.baseline_intensity_g_per_tkm,
            "target_year": t.target_year,
            "reduction_share": t.reduction_share,
            "method": "default",
            "source": t.source,
            "set_at": None,
            "entry": None,
        }
    seq = conn.execute(
        select(ledger_entries.c.seq).where(ledger_entries.c.ref == f"baseline:{row.id}")
    ).scalar()
    return {
        "baseline_year": row.baseline_year,
        "baseline_intensity_g_per_tkm": row.baseline_intensity_g_per_tkm,
        "target_year": row.target_year,
        "reduction_share": row.reduction_share,
        "method": row.method,
        "source": row.source,
        "set_at": _iso(row.created_at),
        "entry": seq,
    }


def target_of(baseline: Mapping[str, Any]) -> Any:
    """The ``emissions.intensity.Target`` of a baseline dict."""
    from greenlane.emissions.intensity import make_target

    return make_target(
        int(baseline["baseline_year"]),
        float(baseline["baseline_intensity_g_per_tkm"]),
        int(baseline["target_year"]),
        float(baseline["reduction_share"]),
        str(baseline["source"]),
    )


def set_baseline(
    conn: Connection,
    *,
    baseline_year: int,
    intensity_g_per_tkm: float | None,
    target_year: int,
    reduction_share: float,
    source: str,
    created_by: int | None = None,
) -> Entry:
    """Record a baseline: stated (``intensity_g_per_tkm``) or computed from the year's actuals."""
    from greenlane.emissions.intensity import make_target

    method = "set"
    if intensity_g_per_tkm is None:
        co2, tkm, value = intensity_of(records(conn), baseline_year)
        if tkm <= 0:
            raise InputError(
                f"no recorded actuals in {baseline_year}: import that year's "
                "history or state the intensity",
                field="intensity_g_per_tkm",
            )
        intensity_g_per_tkm, method = value, "history"
        source = source or (
            f"recorded actuals {baseline_year}: {co2:,.1f} kg CO2e WTW over {tkm:,.1f} tkm (GCD)"
        )
    make_target(baseline_year, intensity_g_per_tkm, target_year, reduction_share)
    result = conn.execute(
        baseline_settings.insert().values(
            baseline_year=baseline_year,
            baseline_intensity_g_per_tkm=intensity_g_per_tkm,
            target_year=target_year,
            reduction_share=reduction_share,
            method=method,
            source=source or "stated",
            created_at=utcnow(),
            created_by=created_by,
        )
    )
    bid = int(result.inserted_primary_key[0])  # type: ignore[index]
    payload = {
        "event": "set",
        "baseline_id": bid,
        "baseline_year": baseline_year,
        "baseline_intensity_g_per_tkm": intensity_g_per_tkm,
        "target_year": target_year,
        "reduction_share": reduction_share,
        "method": method,
        "source": source or "stated",
    }
    return append_entry(conn, "baseline", f"baseline:{bid}", payload)


# ----------------------------------------------------------------------------- KPI


def _num(x: float, nd: int = 4) -> float:
    return round(x, nd) if math.isfinite(x) else 0.0


def kpi_report(
    conn: Connection,
    period: str = "year",
    by: str | None = None,
    year: int | None = None,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Intensity rows by period (and dimension), the baseline, the glide path and the
    year's standing with its year-end projection."""
    if by is not None and by not in KPI_DIMENSIONS:
        raise InputError(f"must be one of {', '.join(KPI_DIMENSIONS)}", field="by")
    period_key(date(2000, 1, 1), period)  # validates ``period``
    recs = records(conn)
    baseline = current_baseline(conn)
    target = target_of(baseline)
    today = utcnow().date()
    years = sorted({r.when.year for r in recs})
    focus = year or (max(years) if years else today.year)
    as_of = as_of or min(today, date(focus, 12, 31))
    shown = [r for r in recs if year is None or r.when.year == year]
    rows = [
        {
            "period": k.period,
            "dimension": k.dimension,
            "value": k.value,
            "co2e_wtw_kg": _num(k.co2e_wtw_kg),
            "tkm_gcd": _num(k.tkm_gcd),
            "intensity_g_per_tkm": _num(k.intensity_g_per_tkm),
            "target_g_per_tkm": _num(target.intensity_g_per_tkm(int(k.period[:4]))),
        }
        for k in kpi(shown, period, by)
    ]
    s = standing(recs, target, focus, as_of)
    # No actual in the year to date: no standing (not "on track" on nothing).
    measured = any(r.tkm_gcd > 0 and r.when.year == s.year and r.when <= as_of for r in recs)
    by_year = []
    for y in years:
        co2, tkm, value = intensity_of(recs, y)
        by_year.append(
            {
                "year": y,
                "co2e_wtw_kg": _num(co2),
                "tkm_gcd": _num(tkm),
                "intensity_g_per_tkm": _num(value),
                "target_g_per_tkm": _num(target.intensity_g_per_tkm(y)),
            }
        )
    last = head(conn)
    return {
        "period": period,
        "by": by or "network",
        "year": year,
        "rows": rows,
        "baseline": baseline,
        "trajectory": [{"year": y, "target_g_per_tkm": _num(v)} for y, v in target.trajectory()],
        "by_year": by_year,
        "standing": {
            "year": s.year,
            "as_of": as_of.isoformat(),
            "to_date_g_per_tkm": _num(s.to_date_g_per_tkm),
            "projected_g_per_tkm": _num(s.projected_g_per_tkm),
            "target_g_per_tkm": _num(s.target_g_per_tkm),
            "on_track": s.on_track if measured else None,
            "gap_g_per_tkm": _num(s.projected_g_per_tkm - s.target_g_per_tkm) if measured else None,
        },
        "shipments": len({r.dims["shipment_id"] for r in shown}),
        "factor_data_sha256": sorted({r.data_sha256 for r in latest_actuals(conn)}),
        "ledger_head": {"seq": last.seq, "hash": last.hash} if last else None,
        "basis": "g CO2e WTW per tonne-km on the great-circle distance origin -> destination",
    }


KPI_COLUMNS = (
    "period",
    "dimension",
    "value",
    "co2e_wtw_kg",
    "tkm_gcd",
    "intensity_g_per_tkm",
    "target_g_per_tkm",
)


def kpi_csv(report: Mapping[str, Any]) -> bytes:
    """The KPI rows as CSV (UTF-8 with BOM, ``.`` decimals)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(KPI_COLUMNS)
    for r in report["rows"]:
        w.writerow(
            [spreadsheet_safe(v) if isinstance(v, str) else v for v in map(r.get, KPI_COLUMNS)]
        )
    return buf.getvalue().encode("utf-8-sig")


def kpi_xlsx(conn: Connection, period: str, year: int | None) -> bytes:
    """A workbook: network KPI, one sheet per dimension, the trajectory and an about sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    first = True
    base: dict[str, Any] = {}
    for by in (None, *KPI_DIMENSIONS):
        rep = kpi_report(conn, period, by, year)
        base = rep
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = f"by_{by}" if by else "network"
        ws.append(list(KPI_COLUMNS))
        for r in rep["rows"]:
            ws.append([r[k] for k in KPI_COLUMNS])
        for cell in ws[1]:
            cell.font = Font(bold=True)
    ws = wb.create_sheet("trajectory")
    ws.append(["year", "target_g_per_tkm", "actual_g_per_tkm"])
    actual = {r["year"]: r["intensity_g_per_tkm"] for r in base["by_year"]}
    for t in base["trajectory"]:
        ws.append([t["year"], t["target_g_per_tkm"], actual.get(t["year"])])
    ws = wb.create_sheet("about")
    b, s, h = base["baseline"], base["standing"], base["ledger_head"] or {}
    for k, v in (
        ("basis", base["basis"]),
        ("baseline_year", b["baseline_year"]),
        ("baseline_intensity_g_per_tkm", b["baseline_intensity_g_per_tkm"]),
        ("baseline_method", b["method"]),
        ("baseline_source", b["source"]),
        ("target_year", b["target_year"]),
        ("reduction_share", b["reduction_share"]),
        ("standing_year", s["year"]),
        ("as_of", s["as_of"]),
        ("to_date_g_per_tkm", s["to_date_g_per_tkm"]),
        ("projected_g_per_tkm", s["projected_g_per_tkm"]),
        ("target_g_per_tkm", s["target_g_per_tkm"]),
        ("on_track", s["on_track"]),
        ("ledger_head_seq", h.get("seq")),
        ("ledger_head_hash", h.get("hash")),
        ("factor_data_sha256", ", ".join(base["factor_data_sha256"])),
    ):
        ws.append([k, v])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ----------------------------------------------------------------------------- lanes


def lane_claim(conn: Connection, lane: str, year: int) -> dict[str, Any]:
    """The lane's report for a year: emissions, reductions vs baseline, retired credits,
    book-and-claim certificates beside them, and whether "carbon neutral" may be said."""
    rows = [r for r in latest_actuals(conn, lane=lane) if as_utc(r.completed_at).year == year]  # type: ignore[union-attr]
    co2 = sum(r.co2e_wtw_kg for r in rows)
    ttw = sum(r.co2e_ttw_kg for r in rows)
    tkm = sum(r.tkm_gcd for r in rows)
    ship_ids = [r.shipment_id for r in rows]
    certs = [
        c
        for c in certificates_for(conn, ship_ids, [lane])
        if c.assigned_kind == "shipment" or c.claim_year in (None, year)
    ]
    credits_kg = (
        sum(c.volume for c in certs if c.kind == "carbon_credit" and c.status == "retired") * 1000.0
    )
    baseline = current_baseline(conn)
    check = neutrality_check(
        lane, str(year), co2, tkm, float(baseline["baseline_intensity_g_per_tkm"]), credits_kg
    )
    actual_seqs = actual_entry_seqs(conn, [r.id for r in rows])
    cert_seqs = certificate_seqs(conn, [c.id for c in certs])
    seqs = sorted({*actual_seqs.values(), *(s for v in cert_seqs.values() for s in v)})
    statement = None
    if check.holds:
        statement = (
            f"Lane {lane} is carbon neutral for {year}: it emitted "
            f"{check.co2e_wtw_kg / 1000:,.3f} t CO2e WTW (gross), "
            f"{check.reductions_kg / 1000:,.3f} t below the {baseline['baseline_year']} "
            f"baseline intensity, and {check.credits_retired_kg / 1000:,.3f} t of retired "
            "carbon credits cover the remaining emissions."
        )
    return {
        "lane": lane,
        "year": year,
        "shipments": ship_ids,
        "emissions": {
            "co2e_wtw_kg": _num(co2),
            "co2e_ttw_kg": _num(ttw),
            "co2e_wtt_kg": _num(co2 - ttw),
            "tkm_gcd": _num(tkm),
            "intensity_g_per_tkm": _num(check.intensity_g_per_tkm),
        },
        "reductions": {
            "baseline_year": baseline["baseline_year"],
            "baseline_intensity_g_per_tkm": check.baseline_intensity_g_per_tkm,
            "baseline_co2e_kg": _num(check.baseline_co2e_kg),
            "reductions_kg": _num(check.reductions_kg),
        },
        "credits": {"retired_kg": _num(credits_kg), "uncovered_kg": _num(check.uncovered_kg)},
        "certificates": [certificate_json(c, cert_seqs.get(c.id, ())) for c in certs],
        "claim": {
            "carbon_neutral": check.holds,
            "statement": statement,
            "reasons": list(check.reasons),
        },
        "entries": seqs,
        "data_sha256": sorted({r.data_sha256 for r in rows}),
        "note": "emissions are gross: certificates and credits are listed beside them and "
        "never subtracted (ISO 14083 §5.2.7)",
        "_actual_ids": [r.id for r in rows],
    }


def lanes(conn: Connection) -> list[str]:
    """Trade lanes with recorded actuals."""
    return sorted({r.lane for r in conn.execute(select(actual_shipments.c.lane).distinct())})


# ----------------------------------------------------------------------------- verify


GUARDS: Mapping[str, tuple[str, ...]] = {
    "sqlite": (
        "ledger_entries_no_update",
        "ledger_entries_no_delete",
        "certificate_retirements_no_update",
        "certificate_retirements_no_delete",
        "certificates_retired_final",
    ),
    "postgresql": (
        "ledger_entries_append_only",
        "ledger_entries_no_truncate",
        "certificate_retirements_append_only",
        "certificate_retirements_no_truncate",
        "certificates_retired_final",
    ),
}
"""Triggers migration 0002 creates; :func:`verify` reports any that is missing."""


def _triggers(conn: Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        return {
            r[0]
            for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        }
    if conn.dialect.name == "postgresql":
        names: set[str] = set()
        for table in ("ledger_entries", "certificate_retirements", "certificates"):
            names |= {
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
                        "AND NOT tgisinternal"
                    ),
                    {"t": table},
                )
            }
        return names
    return set()


def _cmp(
    problems: list[str],
    what: str,
    row: Mapping[str, Any],
    expected: Mapping[str, Any],
    keys: Sequence[str],
) -> None:
    for k in keys:
        if row.get(k) != expected.get(k):
            problems.append(
                f"{what}: {k} is {row.get(k)!r} but the ledger says {expected.get(k)!r} (edited)"
            )


def verify(conn: Connection) -> dict[str, Any]:
    """Check the chain and every recorded row against it; ``problems`` is empty when intact."""
    from greenlane.webapp.db import plans

    pairs = entries(conn)
    chain = [e for _, e in pairs]
    problems = verify_chain(chain)
    refs = {e.seq: ref for ref, e in pairs}
    by_ref: dict[str, list[Entry]] = {}
    for e in chain:
        by_ref.setdefault(refs[e.seq], []).append(e)

    # actual shipments: every row has an entry, every entry a row, digests agree
    ids = {r.id for r in conn.execute(select(actual_shipments.c.id))}
    for ref, es in by_ref.items():
        if not ref.startswith("actual:"):
            continue
        aid = ref.split(":", 1)[1]
        digest = actual_digest(conn, aid)
        if digest is None:
            problems.append(f"actual {aid} (entry {es[0].seq}) is missing (deleted)")
        elif digest != es[0].payload.get("row_sha256"):
            problems.append(f"actual {aid} differs from entry {es[0].seq} (edited)")
    for aid in sorted(ids - {r.split(":", 1)[1] for r in by_ref if r.startswith("actual:")}):
        problems.append(f"actual {aid} has no ledger entry (written around the ledger)")

    # certificates: replay the moves and compare with the rows
    state: dict[str, dict[str, Any]] = {}
    retired_in_ledger: set[str] = set()
    for e in chain:
        if e.kind == "certificate":
            cid = str(e.payload.get("certificate_id"))
            state[cid] = dict(e.payload)
            if e.payload.get("event") == "retired":
                retired_in_ledger.add(cid)
    rows = {r.id: r._mapping for r in conn.execute(select(certificates))}
    keys = (
        "registry",
        "serial",
        "kind",
        "volume",
        "unit",
        "vintage",
        "status",
        "assigned_kind",
        "assigned_ref",
        "claim_year",
    )
    for cid, expected in state.items():
        row = rows.get(cid)
        if row is None:
            problems.append(f"certificate {cid} is missing (deleted)")
            continue
        _cmp(problems, f"certificate {cid}", dict(row), expected, keys)
    for cid in sorted(set(rows) - set(state)):
        problems.append(f"certificate {cid} has no ledger entry (written around the ledger)")
    retirements = {
        r.certificate_id for r in conn.execute(select(certificate_retirements.c.certificate_id))
    }
    for cid in sorted(retired_in_ledger - retirements):
        problems.append(f"certificate {cid}: its retirement row is missing (deleted)")
    for cid in sorted(retirements - retired_in_ledger):
        problems.append(f"certificate {cid}: retired without a ledger entry")

    # baselines
    brow = {f"baseline:{r.id}": r._mapping for r in conn.execute(select(baseline_settings))}
    for ref, es in by_ref.items():
        if not ref.startswith("baseline:"):
            continue
        row = brow.get(ref)
        if row is None:
            problems.append(f"{ref} (entry {es[0].seq}) is missing (deleted)")
            continue
        _cmp(
            problems,
            ref,
            dict(row),
            es[0].payload,
            (
                "baseline_year",
                "baseline_intensity_g_per_tkm",
                "target_year",
                "reduction_share",
                "method",
            ),
        )
    for ref in sorted(set(brow) - set(by_ref)):
        problems.append(f"{ref} has no ledger entry (written around the ledger)")

    # accepted plans
    accepted = {r.id: r for r in conn.execute(select(plans).where(plans.c.state == "accepted"))}
    for ref, es in by_ref.items():
        if not ref.startswith("plan:"):
            continue
        pid = ref.split(":", 1)[1]
        prow = accepted.get(pid)
        if prow is None:
            problems.append(f"plan {pid} (entry {es[0].seq}) is missing or no longer accepted")
        elif plan_digest(prow) != es[-1].payload.get("plan_sha256"):
            problems.append(f"plan {pid} differs from entry {es[-1].seq} (edited)")
    for pid in sorted(
        set(accepted) - {r.split(":", 1)[1] for r in by_ref if r.startswith("plan:")}
    ):
        problems.append(f"plan {pid} is accepted without a ledger entry")

    missing = sorted(set(GUARDS.get(conn.dialect.name, ())) - _triggers(conn))
    if missing:
        problems.append(
            f"the database does not guard the ledger (triggers missing: "
            f"{', '.join(missing)}); rows can be changed unnoticed until verified"
        )
    last = chain[-1] if chain else None
    return {
        "intact": not problems,
        "problems": problems,
        "entries": len(chain),
        "head": {"seq": last.seq, "hash": last.hash} if last else None,
        "checked_at": utcnow().isoformat(),
    }


# ----------------------------------------------------------------------------- lever runs


def insert_lever_run(
    conn: Connection, request: dict[str, Any], created_by: int | None, owner: str | None = None
) -> str:
    """A queued lever run claimed by server process ``owner`` (``webapp.heartbeat``)."""
    from greenlane.webapp.store import new_id

    run_id = new_id("mc")
    now = utcnow()
    conn.execute(
        lever_runs.insert().values(
            id=run_id,
            status="queued",
            request=request,
            created_at=now,
            created_by=created_by,
            owner=owner,
            heartbeat_at=now if owner else None,
        )
    )
    return run_id


def set_lever_run(conn: Connection, run_id: str, **values: Any) -> None:
    """Update a lever run's status and result."""
    conn.execute(update(lever_runs).where(lever_runs.c.id == run_id).values(**values))


def get_lever_run(conn: Connection, run_id: str | None = None) -> Row[Any] | None:
    """A lever run, or the newest finished one when ``run_id`` is None."""
    query = select(lever_runs)
    if run_id is None:
        query = (
            query.where(lever_runs.c.status == "done")
            .order_by(lever_runs.c.created_at.desc())
            .limit(1)
        )
    else:
        query = query.where(lever_runs.c.id == run_id)
    return conn.execute(query).first()


def lever_run_json(row: Row[Any]) -> dict[str, Any]:
    """A lever run as the API shows it."""
    return {
        "id": row.id,
        "status": row.status,
        "request": row.request,
        "result": row.result,
        "error": row.error,
        "created_at": _iso(row.created_at),
        "finished_at": _iso(row.finished_at),
    }


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


def _place(net: Any, ref: str, field: str) -> tuple[str, float, float]:
    """(label, lat, lon) of a place reference: a hub (by id, LOCODE, IATA) or ``lat;lon``."""
    from greenlane.routing.candidates import resolve_place

    ref = ref.strip()
    if ";" in ref:
        try:
            lat, lon = (float(x) for x in ref.split(";"))
        except ValueError:
            raise InputError(f"{ref!r} is not 'lat;lon'", field=field) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InputError(f"{ref!r} is out of range", field=field)
        return f"{lat:.4f};{lon:.4f}", lat, lon
    hub = resolve_place(net, ref, field)
    return hub.hub_id, hub.lat, hub.lon


def planned_shipment(
    conn: Connection, shipment_id: str, plan_id: str | None = None
) -> tuple[Row[Any], dict[str, Any]] | None:
    """(plan row, planned shipment) the shipment executes: the named plan, else the newest
    accepted plan that planned it (None if there is none)."""
    from greenlane.webapp.db import plans

    if plan_id is not None:
        row = conn.execute(select(plans).where(plans.c.id == plan_id)).first()
        if row is None:
            raise InputError(f"no plan {plan_id!r}", field="plan_id")
        for s in row.result["shipments"]:
            if s["shipment_id"] == shipment_id:
                return row, s
        raise InputError(f"plan {plan_id} has no planned shipment {shipment_id!r}", field="plan_id")
    query = (
        select(plans)
        .where(plans.c.state == "accepted")
        .order_by(plans.c.accepted_at.desc(), plans.c.id)
    )
    for row in conn.execute(query):
        for s in row.result["shipments"]:
            if s["shipment_id"] == shipment_id:
                return row, s
    return None


def compute_actual(conn: Connection, shipment_id: str, body: ActualRequest, net: Any) -> ActualIn:
    """Validate an actual against the plans and the network and compute its footprint with
    the same engine as every plan (``emissions.chain.footprint_from_chain``)."""
    from greenlane.emissions.chain import footprint_from_chain
    from greenlane.emissions.distance import gcd_km
    from greenlane.fleet import resolve_vehicle

    found = planned_shipment(conn, shipment_id, body.plan_id)
    origin = body.origin or (found[1]["origin"] if found else None)
    destination = body.destination or (found[1]["destination"] if found else None)
    if not origin:
        raise InputError("needed when no accepted plan has this shipment", field="origin")
    if not destination:
        raise InputError("needed when no accepted plan has this shipment", field="destination")
    o_label, o_lat, o_lon = _place(net, origin, "origin")
    d_label, d_lat, d_lon = _place(net, destination, "destination")
    if (o_lat, o_lon) == (d_lat, d_lon):
        raise InputError("origin and destination are the same place", field="destination")
    carriers: list[str | None] = []
    legs: list[dict[str, Any]] = []
    for i, leg in enumerate(body.legs):
        leg = dict(leg)
        who = leg.pop("carrier", None)
        if who is not None and (not isinstance(who, str) or not 1 <= len(who) <= 200):
            raise InputError("must be a name of 1..200 characters", field=f"legs[{i}].carrier")
        tce_id = leg.get("tce_id")
        if isinstance(tce_id, str) and len(tce_id) > 200:
            raise InputError("at most 200 characters", field=f"legs[{i}].tce_id")
        carriers.append(who)
        legs.append(leg)
    chain: dict[str, Any] = {
        "shipment_id": shipment_id,
        "mass_t": body.mass_t,
        "factor_sets": body.factor_sets,
        "gwp_basis": body.gwp_basis,
        "legs": legs,
    }
    if body.volume_m3 is not None:
        chain["volume_m3"] = body.volume_m3
    fp = footprint_from_chain(chain, resolver=resolve_vehicle)
    t = fp.totals
    if not all(math.isfinite(x) for x in (t.co2e_wtw_kg, t.co2e_ttw_kg, t.tkm)) or any(
        not math.isfinite(x.distance_km) for x in fp.tces
    ):
        raise InputError("the legs give a non-finite distance or emission", field="legs")
    tkm_gcd = body.mass_t * gcd_km(o_lat, o_lon, d_lat, d_lon)
    leg_shares(fp, tkm_gcd)  # a chain of hubs only has no KPI activity: refuse it now
    return ActualIn(
        shipment_id=shipment_id,
        plan_id=found[0].id if found else None,
        completed_at=body.completed_at,
        origin=o_label,
        destination=d_label,
        carrier=body.carrier,
        mass_t=body.mass_t,
        tkm_gcd=tkm_gcd,
        request=body.model_dump(mode="json"),
        footprint=fp,
        carriers=tuple(carriers),
    )


def actual_json(conn: Connection, row: Row[Any], seq: int | None = None) -> dict[str, Any]:
    """An actual shipment with its legs and entry as the API shows it."""
    legs = legs_of(conn, [row.id])[row.id]
    if seq is None:
        seq = actual_entry_seqs(conn, [row.id]).get(row.id)
    return {
        "id": row.id,
        "shipment_id": row.shipment_id,
        "version": row.version,
        "plan_id": row.plan_id,
        "completed_at": _iso(row.completed_at),
        "origin": row.origin,
        "destination": row.destination,
        "lane": row.lane,
        "carrier": row.carrier,
        "mass_t": row.mass_t,
        "co2e_wtw_kg": _num(row.co2e_wtw_kg),
        "co2e_ttw_kg": _num(row.co2e_ttw_kg),
        "co2e_wtt_kg": _num(row.co2e_wtw_kg - row.co2e_ttw_kg),
        "tkm": _num(row.tkm),
        "tkm_gcd": _num(row.tkm_gcd),
        "intensity_g_per_tkm": _num(
            row.co2e_wtw_kg * 1000.0 / row.tkm_gcd if row.tkm_gcd > 0 else 0.0
        ),
        "data_sha256": row.data_sha256,
        "entry": seq,
        "legs": [
            {
                "tce_id": g.tce_id,
                "kind": g.kind,
                "mode": g.mode,
                "carrier": g.carrier,
                "energy_carrier": g.energy_carrier,
                "data_type": g.data_type,
                "distance_km": _num(g.distance_km),
                "tkm": _num(g.tkm),
                "tkm_gcd": _num(g.tkm_gcd),
                "co2e_wtw_kg": _num(g.co2e_wtw_kg),
                "co2e_ttw_kg": _num(g.co2e_ttw_kg),
            }
            for g in legs
        ],
        "links": {
            "comparison": f"/api/v1/shipments/{row.shipment_id}/comparison",
            "versions": f"/api/v1/shipments/{row.shipment_id}/actuals",
        },
    }


def record_actuals(
    items: Sequence[tuple[str, ActualRequest]],
    net: Any,
    created_by: int | None,
    engine: Engine | None = None,
) -> list[dict[str, Any]]:
    """Compute and store actuals, all or nothing; each appends one entry."""

    def work(conn: Connection) -> list[dict[str, Any]]:
        out = []
        for i, (sid, body) in enumerate(items):
            try:
                computed = compute_actual(conn, sid, body, net)
            except InputError as exc:
                if len(items) == 1:
                    raise
                raise InputError(exc.message, field=f"[{i}] {sid}: {exc.field}") from None
            actual_id, entry = insert_actual(conn, computed, created_by)
            row = conn.execute(
                select(actual_shipments).where(actual_shipments.c.id == actual_id)
            ).one()
            out.append(actual_json(conn, row, entry.seq))
        return out

    return in_ledger_transaction(work, engine)


IMPORT_COLUMNS = (
    "shipment_id",
    "completed_at",
    "mass_t",
    "origin",
    "destination",
    "plan_id",
    "carrier",
    "mode",
    "distance_km",
    "distance_basis",
    "from",
    "to",
    "energy_carrier",
    "energy_amount",
    "energy_unit",
    "share_of_vehicle",
    "vehicle_activity_tkm",
    "vehicle_type",
    "load_t",
    "toc_id",
    "hub",
    "hoc_id",
)
"""Columns of an actuals CSV: one row per leg or hub, in chain order per shipment."""
_SHIPMENT_COLUMNS = ("completed_at", "mass_t", "origin", "destination", "plan_id")


def parse_actuals_csv(text_: str, net: Any) -> list[tuple[str, ActualRequest]]:
    """Actual shipments from a CSV (``IMPORT_COLUMNS``); errors name ``line N: column``."""
    reader = csv.DictReader(io.StringIO(text_.lstrip("\ufeff")))
    missing = [
        c
        for c in ("shipment_id", "completed_at", "mass_t", "mode")
        if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", field="header")
    unknown = [c for c in reader.fieldnames or [] if c not in IMPORT_COLUMNS]
    if unknown:
        raise InputError(
            f"unknown column(s) {', '.join(unknown)}; expected {', '.join(IMPORT_COLUMNS)}",
            field="header",
        )
    groups: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        sid = row.get("shipment_id", "")
        if not sid:
            raise InputError("is empty", field=f"line {line}: shipment_id")
        g = groups.setdefault(sid, {"line": line, "legs": [], "lines": []})
        for c in _SHIPMENT_COLUMNS:
            if row.get(c):
                if c in g and g[c] != row[c]:
                    raise InputError(
                        f"differs from line {g['line']} ({g[c]!r})", field=f"line {line}: {c}"
                    )
                g[c] = row[c]
        if row.get("carrier") and "carrier" not in g:
            g["carrier"] = row["carrier"]
        g["legs"].append(_csv_leg(row, line, net))
        g["lines"].append(line)
    out = []
    for sid, g in groups.items():
        doc = {k: g[k] for k in _SHIPMENT_COLUMNS if k in g}
        doc["legs"] = g["legs"]
        if "mass_t" in doc:
            doc["mass_t"] = _float(doc["mass_t"], f"line {g['line']}: mass_t")
        try:
            out.append((sid, ActualRequest.model_validate(doc)))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise InputError(err["msg"], field=f"line {g['line']}: {loc}") from None
    if not out:
        raise InputError("no rows", field="file")
    return out


def _float(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InputError(f"{value!r} is not a number", field=field) from None


def _csv_leg(row: Mapping[str, str], line: int, net: Any) -> dict[str, Any]:
    where = f"line {line}"
    if row.get("hub"):
        if not row.get("hoc_id"):
            raise InputError("a hub row needs hoc_id", field=f"{where}: hoc_id")
        return {"hub": row["hub"], "hoc": {"hoc_id": row["hoc_id"]}}
    leg: dict[str, Any] = {"mode": row.get("mode", "")}
    if row.get("carrier"):
        leg["carrier"] = row["carrier"]
    if row.get("distance_km"):
        leg["distance_km"] = _float(row["distance_km"], f"{where}: distance_km")
    if row.get("distance_basis"):
        leg["distance_basis"] = row["distance_basis"]
    for key, col in (("origin", "from"), ("destination", "to")):
        if row.get(col):
            label, lat, lon = _place(net, row[col], f"{where}: {col}")
            leg[key] = {"lat": lat, "lon": lon, "name": label}
    if row.get("energy_amount"):
        item: dict[str, Any] = {
            "carrier": row.get("energy_carrier", ""),
            "amount": _float(row["energy_amount"], f"{where}: energy_amount"),
            "unit": row.get("energy_unit", ""),
        }
        for col in ("share_of_vehicle", "vehicle_activity_tkm"):
            if row.get(col):
                item[col] = _float(row[col], f"{where}: {col}")
        leg["energy"] = [item]
    elif row.get("vehicle_type"):
        vehicle: dict[str, Any] = {"type": row["vehicle_type"]}
        if row.get("energy_carrier"):
            vehicle["carrier"] = row["energy_carrier"]
        if row.get("load_t"):
            vehicle["load_t"] = _float(row["load_t"], f"{where}: load_t")
        leg["vehicle"] = vehicle
    elif row.get("toc_id"):
        leg["toc"] = {"toc_id": row["toc_id"]}
    else:
        raise InputError(
            "give energy_amount (primary data), vehicle_type or toc_id",
            field=f"{where}: energy_amount",
        )
    return leg


def comparison(conn: Connection, shipment_id: str) -> dict[str, Any]:
    """Plan vs actual of one shipment (the newest actual against the plan it executes)."""
    rows = latest_actuals(conn, shipment_id=shipment_id)
    actual = actual_json(conn, rows[0]) if rows else None
    found = planned_shipment(conn, shipment_id, rows[0].plan_id if rows else None)
    if actual is None and found is None:
        raise LookupError(shipment_id)
    planned = None
    if found is not None:
        prow, s = found
        planned = {
            "plan_id": prow.id,
            "plan_name": prow.name,
            "state": prow.state,
            "path": s["path"],
            "co2e_wtw_kg": float(s["co2e_wtw_kg"]),
            "co2e_ttw_kg": float(s["co2e_ttw_kg"]),
            "tkm_gcd": float(s["tkm_gcd"]),
            "cost_cny": float(s["cost_cny"]),
            "intensity_g_per_tkm": float(s["intensity_g_per_tkm"]),
            "distance_km": _num(sum(float(leg["distance_km"]) for leg in s["legs"])),
            "legs": [
                {
                    "lane_id": leg["lane_id"],
                    "mode": leg["mode"],
                    "origin": leg["origin"],
                    "destination": leg["destination"],
                    "vehicle_id": leg["vehicle_id"],
                    "energy_carrier": leg["energy_carrier"],
                    "distance_km": float(leg["distance_km"]),
                    "co2e_wtw_kg": float(leg["co2e_wtw_kg"]),
                }
                for leg in s["legs"]
            ],
            "data_sha256": dict(prow.data_sha256),
        }
    delta = None
    if planned and actual:
        d = actual["co2e_wtw_kg"] - planned["co2e_wtw_kg"]
        delta = {
            "co2e_wtw_kg": _num(d),
            "co2e_wtw_pct": _num(100.0 * d / planned["co2e_wtw_kg"], 2)
            if planned["co2e_wtw_kg"]
            else None,
            "intensity_g_per_tkm": _num(
                actual["intensity_g_per_tkm"] - planned["intensity_g_per_tkm"]
            ),
            "distance_km": _num(
                sum(g["distance_km"] for g in actual["legs"]) - planned["distance_km"]
            ),
        }
    return {
        "shipment_id": shipment_id,
        "planned": planned,
        "actual": actual,
        "delta": delta,
        "versions": len(actual_versions(conn, shipment_id)),
    }


def lever_book(conn: Connection, plan_id: str | None) -> list[dict[str, Any]]:
    """The recorded book: the shipments of the named plan, else of every accepted plan
    (a shipment in several accepted plans counts once, from the newest)."""
    from greenlane.webapp.db import plans

    if plan_id is not None:
        row = conn.execute(select(plans).where(plans.c.id == plan_id)).first()
        if row is None:
            raise InputError(f"no plan {plan_id!r}", field="plan_id")
        return list(row.request["shipments"])
    book: dict[str, dict[str, Any]] = {}
    for row in conn.execute(
        select(plans).where(plans.c.state == "accepted").order_by(plans.c.accepted_at, plans.c.id)
    ):
        for s in row.request["shipments"]:
            book[s["shipment_id"]] = s
    if not book:
        raise InputError("no accepted plan yet: accept a plan or name plan_id", field="plan_id")
    return list(book.values())


def compute_levers(
    request: Mapping[str, Any], net: Any, progress: Callable[[float], None] | None = None
) -> dict[str, Any]:
    """The MACC of a stored lever request (``routing.levers.macc``)."""
    from greenlane.routing import PlanOptions, SolverParams, parse_shipments
    from greenlane.routing.levers import KINDS, macc, macc_to_dict

    shipments = parse_shipments(request["shipments"])
    options = PlanOptions(
        carbon_price_cny_per_t=float(request.get("carbon_price_cny_per_t", 0.0)),
        carriers=request.get("carriers", "all"),
        solver=SolverParams(time_limit_s=float(request["time_limit_s"]), seed=0, workers=1),
    )
    m = macc(
        shipments,
        net,
        options,
        kinds=tuple(request.get("kinds") or KINDS),
        max_levers=int(request.get("max_levers", 12)),
        progress=progress,
    )
    return macc_to_dict(m)


__all__ = [
    "APPEND_ONLY",
    "CERTIFICATE_KINDS",
    "CERTIFICATE_STATUSES",
    "LEDGER_TABLES",
    "Conflict",
    "append_entry",
    "in_ledger_transaction",
    "verify",
]
