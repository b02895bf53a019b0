"""Certificates (SAF, green power, carbon credits) beside the emissions, never subtracted:
registration, moves held -> assigned -> retired with their ledger entries, and reads.

A serial can be retired once: ``certificate_retirements`` is UNIQUE on ``(registry, serial)``.
The rules (kinds, units, moves) are ``greenlane.emissions.ledger``'s."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection, Row

from greenlane.emissions.errors import InputError
from greenlane.emissions.ledger import Entry, check_certificate, check_certificate_move
from greenlane.webapp.db import utcnow
from greenlane.webapp.ledger.chain import Conflict, append_entry, iso_utc
from greenlane.webapp.tables import certificate_retirements, certificates, ledger_entries

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
        "created_at": iso_utc(row.created_at),
        "entries": list(seqs),
    }


AUDITED_KEYS = (
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
"""Certificate columns whose ledger entry the audit compares with the table row."""


def _cert_payload(event: str, row: Mapping[str, Any]) -> dict[str, Any]:
    keys = (*AUDITED_KEYS, "beneficiary")
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
    conn: Connection, shipment_ids: Iterable[str], lanes: Iterable[str]
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
