"""The ledger's hash chain: append-only entries and plan acceptances.

Every recorded plan acceptance, actual shipment, certificate movement and baseline setting
appends one entry to ``ledger_entries`` in the same transaction as the row it records. An
entry holds the hash of the one before (``emissions.ledger.entry_hash``) and a digest of the
rows it records, so ``webapp.ledger.audit.verify`` finds an edited or deleted entry *and* an
edited or deleted row. The database refuses UPDATE and DELETE on ``ledger_entries`` and
``certificate_retirements`` (triggers, see migration 0002); the app never updates them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from greenlane.emissions.errors import InputError
from greenlane.emissions.ledger import GENESIS, Entry, canonical_json, entry_hash
from greenlane.webapp.db import as_utc, transaction, utcnow
from greenlane.webapp.tables import ledger_entries

T = TypeVar("T")

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


def entry_of(row: Row[Any]) -> Entry:
    """A ``ledger_entries`` row as an ``emissions.ledger.Entry``."""
    return Entry(int(row.seq), row.kind, dict(row.payload), row.created_at, row.prev_hash, row.hash)


def head(conn: Connection) -> Entry | None:
    """The newest entry, or None for an empty ledger."""
    row = conn.execute(
        select(ledger_entries).order_by(ledger_entries.c.seq.desc()).limit(1)
    ).first()
    return entry_of(row) if row is not None else None


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
    return [(r.ref, entry_of(r)) for r in conn.execute(query)]


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


def sha256_of(doc: Any) -> str:
    """The SHA-256 of a document's canonical JSON (what an entry records of its rows)."""
    return hashlib.sha256(canonical_json({"doc": doc}).encode("utf-8")).hexdigest()


def iso_utc(value: Any) -> str | None:
    """A stored time as ISO 8601 UTC (None stays None)."""
    v = as_utc(value)
    return v.isoformat() if v is not None else None


# ----------------------------------------------------------------------------- plans


def plan_digest(row: Row[Any]) -> str:
    """sha256 of a stored plan's answer and footprints (what an acceptance vouches for)."""
    return sha256_of({"result": row.result, "footprints": row.footprints})


def record_plan_acceptance(conn: Connection, plan_id: str) -> Entry:
    """Append the entry of a plan acceptance (call in the accepting transaction)."""
    from greenlane.webapp.tables import plans

    row = conn.execute(select(plans).where(plans.c.id == plan_id)).first()
    assert row is not None
    summary = row.result["summary"]
    payload = {
        "event": "accepted",
        "plan_id": plan_id,
        "name": row.name,
        "accepted_at": iso_utc(row.accepted_at),
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
