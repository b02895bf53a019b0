"""Rows in and out: plans, jobs and shares (callers hold the transaction).

A stored plan keeps its request (shipments and options as validated), the planner's answer
(``routing.plan_to_dict``), the footprints losslessly (TCE geometry and times included, via a
pydantic ``TypeAdapter`` of the emissions dataclasses) so every report is regenerated from
exactly the numbers the planner produced, the data hashes and the software version.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection, Row

from greenlane.emissions.model import Footprint
from greenlane.routing import Plan, plan_to_dict
from greenlane.webapp.db import utcnow
from greenlane.webapp.tables import jobs, plans, report_downloads, shares

_FOOTPRINTS = TypeAdapter(list[Footprint])


@cache
def software_version() -> str:
    """The installed greenlane version."""
    try:
        return version("greenlane")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def new_id(prefix: str) -> str:
    """A random id such as ``pl_3f9a0c2e1b7d4a65``."""
    return f"{prefix}_{secrets.token_hex(8)}"


def footprints_json(footprints: Sequence[Footprint]) -> list[Any]:
    """Footprints as JSON-ready data (lossless)."""
    return _FOOTPRINTS.dump_python(list(footprints), mode="json")  # type: ignore[no-any-return]


def footprints_from_json(doc: list[Any]) -> list[Footprint]:
    """The footprints stored by :func:`footprints_json`."""
    return _FOOTPRINTS.validate_python(doc)


def pareto_points(plans_: Sequence[Plan]) -> list[dict[str, Any]]:
    """Summaries of the frontier's plans (for the trade-off chart and the API)."""
    out = []
    for p in plans_:
        summary = plan_to_dict(p, include_footprints=False)["summary"]
        out.append(
            {
                "cost_cny": summary["cost_cny"],
                "co2e_wtw_kg": summary["co2e_wtw_kg"],
                "co2e_ttw_kg": summary["co2e_ttw_kg"],
                "intensity_g_per_tkm": summary["intensity_g_per_tkm"],
                "on_time_share": summary["on_time_share"],
                "shipments_planned": summary["shipments_planned"],
                "paths": p.choice(),
            }
        )
    return out


# ----------------------------------------------------------------------------- plans


def insert_plan(
    conn: Connection,
    plan: Plan,
    request: dict[str, Any],
    *,
    name: str = "",
    created_by: int | None = None,
    pareto: Sequence[Plan] | None = None,
    organisation: str = "default",
) -> str:
    """Store a plan of ``organisation``; returns its id.

    The dataset the plan was made on (``plan.dataset``) is kept as ``plans.dataset_id``
    (NULL for the shipped ``default``) and its sha256 as ``data_sha256["dataset"]``.
    """
    plan_id = new_id("pl")
    hashes = dict(plan.data_sha256)
    dataset_id = None
    if plan.dataset:
        hashes["dataset"] = plan.dataset["sha256"]
        dataset_id = None if plan.dataset["id"] == "default" else plan.dataset["id"]
    conn.execute(
        plans.insert().values(
            id=plan_id,
            name=name or plan_id,
            status=plan.status,
            state="proposed",
            request=request,
            result=plan_to_dict(plan),
            footprints=footprints_json([s.footprint for s in plan.shipments]),
            pareto=pareto_points(pareto) if pareto is not None else None,
            data_sha256=hashes,
            software_version=software_version(),
            created_at=utcnow(),
            created_by=created_by,
            organisation=organisation,
            dataset_id=dataset_id,
        )
    )
    return plan_id


def get_plan(conn: Connection, plan_id: str) -> Row[Any] | None:
    """A plan row or None."""
    return conn.execute(select(plans).where(plans.c.id == plan_id)).first()


def list_plans(conn: Connection, limit: int = 50, organisation: str = "default") -> list[Row[Any]]:
    """The newest plans of an organisation (without the heavy columns)."""
    cols = [
        plans.c.id,
        plans.c.name,
        plans.c.status,
        plans.c.state,
        plans.c.created_at,
        plans.c.accepted_at,
        plans.c.result,
        plans.c.dataset_id,
    ]
    query = select(*cols).where(plans.c.organisation == organisation)
    return list(conn.execute(query.order_by(plans.c.created_at.desc()).limit(limit)))


def accept_plan(conn: Connection, plan_id: str, when: datetime) -> bool:
    """Mark a plan accepted (idempotent); False if there is no such plan."""
    result = conn.execute(
        update(plans).where(plans.c.id == plan_id).values(state="accepted", accepted_at=when)
    )
    return bool(result.rowcount)


# ----------------------------------------------------------------------------- jobs


def insert_job(
    conn: Connection,
    kind: str,
    request: dict[str, Any],
    created_by: int | None,
    owner: str | None = None,
    prefix: str = "job",
) -> str:
    """A queued job run by server process ``owner`` (``webapp.heartbeat``); returns its id
    (``prefix`` + random part)."""
    job_id = new_id(prefix)
    now = utcnow()
    conn.execute(
        jobs.insert().values(
            id=job_id,
            kind=kind,
            status="queued",
            progress=0.0,
            request=request,
            created_at=now,
            created_by=created_by,
            owner=owner,
            heartbeat_at=now if owner else None,
        )
    )
    return job_id


def get_job(conn: Connection, job_id: str) -> Row[Any] | None:
    """A job row or None."""
    return conn.execute(select(jobs).where(jobs.c.id == job_id)).first()


def set_job(conn: Connection, job_id: str, **values: Any) -> None:
    """Update a job's columns."""
    conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))


# ----------------------------------------------------------------------------- shares


def add_shares(
    conn: Connection,
    plan_id: str,
    partner_id: str,
    shipment_ids: Sequence[str] | None,
    created_by: int | None,
) -> list[Row[Any]]:
    """Share the plan (``shipment_ids`` None) or shipments with a partner; existing kept."""
    wanted: list[str | None] = [None] if shipment_ids is None else list(dict.fromkeys(shipment_ids))
    existing = {
        r.shipment_id
        for r in conn.execute(
            select(shares.c.shipment_id).where(
                and_(shares.c.plan_id == plan_id, shares.c.partner_id == partner_id)
            )
        )
    }
    now = utcnow()
    for sid in wanted:
        if sid not in existing:
            conn.execute(
                shares.insert().values(
                    plan_id=plan_id,
                    shipment_id=sid,
                    partner_id=partner_id,
                    created_at=now,
                    created_by=created_by,
                )
            )
    cond = (
        shares.c.shipment_id.is_(None)
        if shipment_ids is None
        else shares.c.shipment_id.in_([s for s in wanted if s is not None])
    )
    return list(
        conn.execute(
            select(shares)
            .where(and_(shares.c.plan_id == plan_id, shares.c.partner_id == partner_id, cond))
            .order_by(shares.c.id)
        )
    )


def remove_shares(
    conn: Connection, plan_id: str, partner_id: str, shipment_id: str | None = None
) -> int:
    """Stop sharing a plan with a partner (every share, or the one of ``shipment_id``)."""
    cond = [shares.c.plan_id == plan_id, shares.c.partner_id == partner_id]
    if shipment_id is not None:
        cond.append(shares.c.shipment_id == shipment_id)
    return int(conn.execute(delete(shares).where(and_(*cond))).rowcount or 0)


def record_download(
    conn: Connection,
    plan_id: str,
    shipment_id: str | None,
    fmt: str,
    partner_id: str,
    token_id: int,
) -> None:
    """Log one report a partner downloaded."""
    conn.execute(
        report_downloads.insert().values(
            plan_id=plan_id,
            shipment_id=shipment_id,
            fmt=fmt,
            partner_id=partner_id,
            token_id=token_id,
            created_at=utcnow(),
        )
    )


def plan_downloads(conn: Connection, plan_id: str, limit: int = 50) -> list[Row[Any]]:
    """The newest partner downloads of a plan's reports, newest first."""
    query = (
        select(report_downloads)
        .where(report_downloads.c.plan_id == plan_id)
        .order_by(report_downloads.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query))


def plan_shares(conn: Connection, plan_id: str) -> list[Row[Any]]:
    """Every share of a plan."""
    query = select(shares).where(shares.c.plan_id == plan_id).order_by(shares.c.id)
    return list(conn.execute(query))


def partner_shares(conn: Connection, partner_id: str) -> list[Row[Any]]:
    """Everything shared with a partner, oldest first."""
    return list(
        conn.execute(select(shares).where(shares.c.partner_id == partner_id).order_by(shares.c.id))
    )


def visible_shipments(conn: Connection, plan_id: str, partner_id: str) -> set[str] | None:
    """Shipment ids of a plan a partner may see: None = the whole plan, empty = nothing."""
    rows = list(
        conn.execute(
            select(shares.c.shipment_id).where(
                and_(shares.c.plan_id == plan_id, shares.c.partner_id == partner_id)
            )
        )
    )
    if any(r.shipment_id is None for r in rows):
        return None
    return {r.shipment_id for r in rows}
