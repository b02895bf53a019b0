"""Actual shipments: recomputed with the plan engine from the legs as driven, stored with
their legs and a ledger entry, read back as KPI records, and compared with the plan."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine, Row

from greenlane.emissions import units
from greenlane.emissions.errors import InputError
from greenlane.emissions.ledger import Entry, Record, change_pct, lane_key, leg_shares
from greenlane.webapp.db import as_utc, utcnow
from greenlane.webapp.ledger.chain import append_entry, in_ledger_transaction, iso_utc, sha256_of
from greenlane.webapp.ledger.schemas import ActualRequest
from greenlane.webapp.tables import actual_legs, actual_shipments, ledger_entries

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


def rounded(x: float, nd: int = 4) -> float:
    """``x`` rounded to ``nd`` decimals for an answer; a non-finite value shows as 0."""
    return round(x, nd) if math.isfinite(x) else 0.0


def place_of(net: Any, ref: str, field: str) -> tuple[str, float, float]:
    """(label, lat, lon) of a place reference: a hub (by id, LOCODE, IATA) or ``lat;lon``."""
    from greenlane.routing.planner.candidates import resolve_place

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
        "co2e_wtw_kg": rounded(row.co2e_wtw_kg),
        "co2e_ttw_kg": rounded(row.co2e_ttw_kg),
        "co2e_wtt_kg": rounded(row.co2e_wtw_kg - row.co2e_ttw_kg),
        "tkm": rounded(row.tkm),
        "tkm_gcd": rounded(row.tkm_gcd),
        "intensity_g_per_tkm": rounded(units.intensity_g_per_tkm(row.co2e_wtw_kg, row.tkm_gcd)),
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
                "distance_km": rounded(g.distance_km),
                "tkm": rounded(g.tkm),
                "tkm_gcd": rounded(g.tkm_gcd),
                "co2e_wtw_kg": rounded(g.co2e_wtw_kg),
                "co2e_ttw_kg": rounded(g.co2e_ttw_kg),
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
            "distance_km": rounded(sum(float(leg["distance_km"]) for leg in s["legs"])),
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
            "co2e_wtw_kg": rounded(d),
            "co2e_wtw_pct": None if pct is None else rounded(pct, 2),
            "intensity_g_per_tkm": rounded(
                actual["intensity_g_per_tkm"] - planned["intensity_g_per_tkm"]
            ),
            "distance_km": rounded(
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
