"""greenlane as a PACT client: pull a partner's ProductFootprints and record them as
primary data in the carbon ledger.

``pull(app, host)`` gets a token from the partner's host (client credentials), reads
``/2/footprints`` page by page (``Link: rel="next"``, same origin only) and keeps every new
ProductFootprint version in ``pact_pulled``. A footprint carrying an iLEAP
ShipmentFootprint is matched to the planned shipment of that id (the newest accepted plan
with it, else the newest plan); its legs get their transport mode from the planned legs
(same TCE id, else the same position when the leg counts agree). It is then recorded as an
actual shipment of the ledger (``webapp.ledger.actuals.record_actuals``), each leg with the
partner's emission intensity (its ``co2eWTW``/``co2eTTW`` per ``transportActivity``) as a
TOC of data type ``primary`` and the partner as carrier, each hub with its intensity per
tonne as a primary HOC; a newer version of the footprint records a corrected version. A
footprint that cannot be matched or read is kept with the reason and not recorded.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select, update

from greenlane.emissions.errors import InputError
from greenlane.emissions.model import Footprint
from greenlane.emissions.units import intensity_g_per_tkm, kg_to_t
from greenlane.webapp import store
from greenlane.webapp.db import engine_of, reading, transaction, utcnow
from greenlane.webapp.pact.partners import PartnerHost
from greenlane.webapp.pact.remote import RemoteError, call, fetch_token
from greenlane.webapp.tables import pact_pulled, pact_remotes, plans

MAX_PAGES = 1000
"""Most pages read in one pull."""
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True, slots=True)
class Pulled:
    """What became of one pulled ProductFootprint version."""

    pf_id: str
    pf_version: int
    shipment_id: str | None
    status: str  # recorded | unmatched | invalid | known
    reason: str | None = None
    plan_id: str | None = None
    actual_id: str | None = None


def _next_link(header: str | None, base_url: str) -> str | None:
    """The ``rel="next"`` URL of a Link header if it is on the host's origin."""
    if not header:
        return None
    m = _NEXT.search(header)
    if m is None:
        return None
    url, base = urlsplit(m.group(1)), urlsplit(base_url)
    if (url.scheme, url.netloc) != (base.scheme, base.netloc):
        raise RemoteError(f"next page {m.group(1)!r} is not on the host {base_url}")
    return m.group(1)


def fetch_all(app: Flask, host: PartnerHost) -> list[dict[str, Any]]:
    """Every ProductFootprint the host lists for greenlane's client."""
    cafile = app.config.get("PACT_CA_FILE")
    token = fetch_token(host.base_url, host.client_id, host.client_secret, cafile)
    url: str | None = f"{host.base_url}/2/footprints"
    docs: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        if url is None:
            return docs
        answer = call(
            "GET",
            url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            cafile=cafile,
        )
        body = answer.body
        if answer.status not in (200, 202) or not isinstance(body, dict):
            raise RemoteError(f"GET {url} answered {answer.status}: {str(body)[:300]}")
        if not isinstance(body.get("data"), list):
            raise RemoteError(f"GET {url}: no data list in the answer")
        docs.extend(d for d in body["data"] if isinstance(d, dict))
        url = _next_link(answer.headers.get("link"), host.base_url)
    raise RemoteError(f"more than {MAX_PAGES} pages at {host.base_url}")


# ----------------------------------------------------------------------------- reading


def _dec(value: Any, field: str) -> float:
    if not isinstance(value, str):
        raise InputError("a decimal string is required", field=field)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise InputError(f"not a decimal: {value!r}", field=field) from None
    if not number.is_finite():
        raise InputError(f"not a finite decimal: {value!r}", field=field)
    return float(number)


def shipment_footprint(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The iLEAP ShipmentFootprint extension of a ProductFootprint (None if it has none)."""
    for ext in doc.get("extensions") or []:
        if (
            isinstance(ext, dict)
            and str(ext.get("dataSchema", "")).endswith("shipment-footprint.json")
            and isinstance(ext.get("data"), dict)
        ):
            return ext["data"]
    return None


def _planned(sid: str) -> tuple[str, Footprint] | None:
    """(plan id, planned footprint) of shipment ``sid``: newest accepted plan, else newest."""
    with reading() as conn:
        rows = list(
            conn.execute(
                select(plans.c.id, plans.c.state, plans.c.footprints).order_by(
                    plans.c.created_at.desc()
                )
            )
        )
    rows.sort(key=lambda r: r.state != "accepted")  # stable: accepted first, newest first
    for row in rows:
        for fp in store.footprints_from_json(row.footprints):
            if fp.shipment_id == sid:
                return row.id, fp
    return None


def _completed_at(doc: dict[str, Any], sf: dict[str, Any]) -> datetime:
    ends = [t.get("arrivalAt") for t in sf["tces"] if isinstance(t.get("arrivalAt"), str)]
    end = (doc.get("pcf") or {}).get("referencePeriodEnd")
    for text in [*sorted(ends, reverse=True), end]:
        if isinstance(text, str):
            try:
                return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
            except ValueError:
                continue
    return utcnow()


def actual_request(
    doc: dict[str, Any], sf: dict[str, Any], planned: Footprint, plan_id: str, partner_id: str
) -> dict[str, Any]:
    """The ledger's ActualRequest body of a pulled ShipmentFootprint (legs in chain order)."""
    tces = sf.get("tces")
    if not isinstance(tces, list) or not tces:
        raise InputError("no TCEs", field="tces")
    planned_legs = [t for t in planned.tces if t.kind == "leg"]
    planned_hubs = {t.tce_id: t for t in planned.tces if t.kind == "hub"}
    by_id = {t.tce_id: t for t in planned_legs}
    pulled_legs = [t for t in tces if isinstance(t, dict) and "hocId" not in t]
    legs: list[dict[str, Any]] = []
    leg_no = -1
    for i, tce in enumerate(tces):
        where = f"tces[{i}]"
        if not isinstance(tce, dict):
            raise InputError("not an object", field=where)
        tce_id = str(tce.get("tceId") or f"{sf['shipmentId']}-{i + 1}")
        wtw = _dec(tce.get("co2eWTW"), f"{where}.co2eWTW")
        ttw = _dec(tce.get("co2eTTW"), f"{where}.co2eTTW")
        if "hocId" in tce:
            mass_t = kg_to_t(_dec(tce.get("mass"), f"{where}.mass"))
            if mass_t <= 0:
                raise InputError("a hub needs a mass > 0", field=f"{where}.mass")
            hub = planned_hubs.get(tce_id)
            legs.append(
                {
                    "hub": (hub.hub if hub is not None and hub.hub else None) or str(tce["hocId"]),
                    "tce_id": tce_id,
                    "hoc": {
                        "co2e_wtw_kg_per_t": wtw / mass_t,
                        "co2e_ttw_kg_per_t": ttw / mass_t,
                        "data_type": "primary",
                    },
                }
            )
            continue
        leg_no += 1
        distance = tce.get("distance")
        if not isinstance(distance, dict) or len(distance) != 1:
            raise InputError("one distance (actual, gcd or sfd) is required", field=where)
        ((basis, km_text),) = distance.items()
        km = _dec(km_text, f"{where}.distance.{basis}")
        tkm = _dec(tce.get("transportActivity"), f"{where}.transportActivity")
        leg = by_id.get(tce_id)
        if leg is None and len(pulled_legs) == len(planned_legs):
            leg = planned_legs[leg_no]
        if leg is None or leg.mode is None:
            raise InputError(
                f"no planned leg {tce_id!r} of shipment {sf['shipmentId']!r} gives the mode",
                field=f"{where}.tceId",
            )
        legs.append(
            {
                "mode": str(leg.mode),
                "tce_id": tce_id,
                "carrier": partner_id,
                "distance_km": km,
                "distance_basis": basis,
                "toc": {
                    "co2e_wtw_g_per_tkm": intensity_g_per_tkm(wtw, tkm),
                    "co2e_ttw_g_per_tkm": intensity_g_per_tkm(ttw, tkm),
                    "distance_basis": basis,
                    "data_type": "primary",
                },
            }
        )
    return {
        "completed_at": _completed_at(doc, sf).isoformat(),
        "mass_t": kg_to_t(_dec(sf.get("mass"), "mass")),
        "plan_id": plan_id,
        "carrier": partner_id,
        "legs": legs,
    }


# ----------------------------------------------------------------------------- pull


def _known(partner_id: str, pf_id: str, version: int) -> bool:
    with reading() as conn:
        return (
            conn.execute(
                select(pact_pulled.c.id).where(
                    pact_pulled.c.partner_id == partner_id,
                    pact_pulled.c.pf_id == pf_id,
                    pact_pulled.c.pf_version == version,
                )
            ).first()
            is not None
        )


def _record(app: Flask, host: PartnerHost, doc: dict[str, Any]) -> Pulled:
    from greenlane.webapp.ledger.actuals import record_actuals
    from greenlane.webapp.ledger.schemas import ActualRequest
    from greenlane.webapp.resources import network

    raw_id, version = doc.get("id"), doc.get("version", 0)
    try:
        pf_id = str(uuid.UUID(str(raw_id)))
    except ValueError:
        return Pulled(str(raw_id)[:36], -1, None, "invalid", "id is not a UUID")
    if not isinstance(version, int) or version < 0:
        return Pulled(pf_id, -1, None, "invalid", "version is not an integer >= 0")
    if _known(host.partner_id, pf_id, version):
        return Pulled(pf_id, version, None, "known")
    sf = shipment_footprint(doc)
    sid = sf.get("shipmentId") if sf is not None else None
    result: Pulled
    if sf is None or not isinstance(sid, str) or not sid:
        result = Pulled(pf_id, version, None, "unmatched", "no iLEAP ShipmentFootprint")
    else:
        found = _planned(sid)
        if found is None:
            result = Pulled(pf_id, version, sid, "unmatched", f"no planned shipment {sid!r}")
        else:
            plan_id, planned = found
            try:
                body = ActualRequest.model_validate(
                    actual_request(doc, sf, planned, plan_id, host.partner_id)
                )
                (out,) = record_actuals([(sid, body)], network(app), None)
                result = Pulled(pf_id, version, sid, "recorded", None, plan_id, out["id"])
            except InputError as exc:
                result = Pulled(pf_id, version, sid, "invalid", str(exc), plan_id)
            except ValueError as exc:  # pydantic ValidationError of the mapped request
                result = Pulled(pf_id, version, sid, "invalid", str(exc)[:500], plan_id)
    with transaction() as conn:
        conn.execute(
            pact_pulled.insert().values(
                partner_id=host.partner_id,
                host_id=host.id,
                pf_id=pf_id,
                pf_version=version,
                shipment_id=result.shipment_id,
                body=doc,
                pulled_at=utcnow(),
                status=result.status,
                reason=result.reason,
                plan_id=result.plan_id,
                actual_id=result.actual_id,
            )
        )
    return result


def pull(app: Flask, host: PartnerHost) -> list[Pulled]:
    """Pull the host's footprints; record the new ones (see the module docstring)."""
    docs = fetch_all(app, host)
    with app.app_context():
        out = [_record(app, host, doc) for doc in docs]
        with transaction(engine_of(app)) as conn:
            conn.execute(
                update(pact_remotes).where(pact_remotes.c.id == host.id).values(pulled_at=utcnow())
            )
    return out
