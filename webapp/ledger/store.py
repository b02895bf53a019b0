"""The ledger's rows: actual shipments and legs, certificates and their retirements,
baseline settings, and the reports read from them (KPI, lane claim, plan vs actual).

Each write appends its entry to the hash chain (``webapp.ledger.chain``) in the same
transaction. A certificate serial can be retired once: ``certificate_retirements`` is UNIQUE
on ``(registry, serial)``. Certificates are listed beside emissions and never subtracted. The
accounting itself (footprints, KPI, standing, certificate rules, neutrality) lives in
``greenlane.emissions``; this module stores, aggregates rows into
``emissions.ledger.Record`` objects and shapes answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection, Engine, Row

from greenlane.emissions import units
from greenlane.emissions.errors import InputError
from greenlane.emissions.ledger import (
    KPI_DIMENSIONS,
    Entry,
    Record,
    change_pct,
    check_certificate,
    check_certificate_move,
    intensity_of,
    kpi,
    lane_key,
    leg_shares,
    neutrality_check,
    neutrality_statement,
    period_key,
    retired_credits_kg,
    standing,
)
from greenlane.webapp.db import as_utc, utcnow
from greenlane.webapp.ledger.chain import (
    Conflict,
    append_entry,
    head,
    in_ledger_transaction,
    iso_utc,
    seqs_label,
    sha256_of,
)
from greenlane.webapp.ledger.schemas import ActualRequest
from greenlane.webapp.tables import (
    actual_legs,
    actual_shipments,
    baseline_settings,
    certificate_retirements,
    certificates,
    ledger_entries,
)

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
        "completed_at": iso_utc(row.completed_at),
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
    return sha256_of(doc)


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
        "created_at": iso_utc(row.created_at),
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
        "set_at": iso_utc(row.created_at),
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
            "on_track": s.on_track,
            "gap_g_per_tkm": _num(s.projected_g_per_tkm - s.target_g_per_tkm),
        },
        "shipments": len({r.dims["shipment_id"] for r in shown}),
        "factor_data_sha256": sorted({r.data_sha256 for r in latest_actuals(conn)}),
        "ledger_head": {"seq": last.seq, "hash": last.hash} if last else None,
        "basis": "g CO2e WTW per tonne-km on the great-circle distance origin -> destination",
    }


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
    credits_kg = retired_credits_kg(certs)
    baseline = current_baseline(conn)
    check = neutrality_check(
        lane, str(year), co2, tkm, float(baseline["baseline_intensity_g_per_tkm"]), credits_kg
    )
    actual_seqs = actual_entry_seqs(conn, [r.id for r in rows])
    cert_seqs = certificate_seqs(conn, [c.id for c in certs])
    seqs = sorted({*actual_seqs.values(), *(s for v in cert_seqs.values() for s in v)})
    statement = neutrality_statement(check, int(baseline["baseline_year"]))
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


def place_of(net: Any, ref: str, field: str) -> tuple[str, float, float]:
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
    from greenlane.webapp.tables import plans

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
    o_label, o_lat, o_lon = place_of(net, origin, "origin")
    d_label, d_lat, d_lon = place_of(net, destination, "destination")
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
        "completed_at": iso_utc(row.completed_at),
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
        "intensity_g_per_tkm": _num(units.intensity_g_per_tkm(row.co2e_wtw_kg, row.tkm_gcd)),
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
        pct = change_pct(actual["co2e_wtw_kg"], planned["co2e_wtw_kg"])
        delta = {
            "co2e_wtw_kg": _num(d),
            "co2e_wtw_pct": None if pct is None else _num(pct, 2),
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
