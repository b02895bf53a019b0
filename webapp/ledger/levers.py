"""Lever runs (marginal abatement cost curves) as jobs of kind ``levers``.

A lever run is a row of the one job table (``webapp.tables.jobs``, migration 0006): small
books are computed in the request, larger ones in the app's job pool (``webapp.jobs``),
claimed by the server process with a heartbeat like every job (``webapp.heartbeat``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Row

from greenlane.emissions.errors import GreenlaneError, InputError
from greenlane.webapp.auth import Principal
from greenlane.webapp.db import engine_of, instance_id, transaction, utcnow
from greenlane.webapp.jobs import runner
from greenlane.webapp.ledger.chain import iso_utc
from greenlane.webapp.ledger.schemas import LeversIn
from greenlane.webapp.resources import network
from greenlane.webapp.store import insert_job
from greenlane.webapp.tables import jobs, plans

# ----------------------------------------------------------------------------- lever runs

KIND = "levers"
"""The ``kind`` of a lever run in the job table."""


def insert_lever_run(
    conn: Connection, request: dict[str, Any], created_by: int | None, owner: str | None = None
) -> str:
    """A queued lever run claimed by server process ``owner`` (``webapp.heartbeat``)."""
    return insert_job(conn, KIND, request, created_by, owner, prefix="mc")


def set_lever_run(conn: Connection, run_id: str, **values: Any) -> None:
    """Update a lever run's status and result."""
    conn.execute(update(jobs).where(jobs.c.id == run_id, jobs.c.kind == KIND).values(**values))


def get_lever_run(conn: Connection, run_id: str | None = None) -> Row[Any] | None:
    """A lever run, or the newest finished one when ``run_id`` is None."""
    query = select(jobs).where(jobs.c.kind == KIND)
    if run_id is None:
        query = query.where(jobs.c.status == "done").order_by(jobs.c.created_at.desc()).limit(1)
    else:
        query = query.where(jobs.c.id == run_id)
    return conn.execute(query).first()


def lever_run_json(row: Row[Any]) -> dict[str, Any]:
    """A lever run as the API shows it."""
    return {
        "id": row.id,
        "status": row.status,
        "request": row.request,
        "result": row.result,
        "error": row.error,
        "created_at": iso_utc(row.created_at),
        "finished_at": iso_utc(row.finished_at),
    }


def lever_book(conn: Connection, plan_id: str | None) -> list[dict[str, Any]]:
    """The recorded book: the shipments of the named plan, else of every accepted plan
    (a shipment in several accepted plans counts once, from the newest)."""
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
    """The MACC of a stored lever request (``routing.macc``)."""
    from greenlane.routing import PlanOptions, SolverParams, parse_shipments
    from greenlane.routing.scenarios.levers import KINDS, macc, macc_to_dict

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


# ----------------------------------------------------------------------------- levers


def start_levers(body: LeversIn, who: Principal, force_async: bool = False) -> str:
    """Store a lever run and compute it now (small books) or in the job pool."""
    config = current_app.config
    limit = body.time_limit_s or float(config["SOLVER_TIME_LIMIT_S"])
    if limit > float(config["SOLVER_MAX_TIME_LIMIT_S"]):
        raise InputError(
            f"must be <= {config['SOLVER_MAX_TIME_LIMIT_S']} s on this server", field="time_limit_s"
        )
    with transaction() as conn:
        shipments = lever_book(conn, body.plan_id)
    if len(shipments) > int(config["MAX_SHIPMENTS"]):
        raise InputError(f"at most {config['MAX_SHIPMENTS']} shipments", field="plan_id")
    doc = {
        "shipments": shipments,
        "plan_id": body.plan_id,
        "kinds": body.kinds,
        "max_levers": body.max_levers,
        "time_limit_s": limit,
        "carriers": body.carriers,
        "carbon_price_cny_per_t": body.carbon_price_cny_per_t,
    }
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if force_async or body.run_async or len(shipments) > int(config["ASYNC_THRESHOLD_SHIPMENTS"]):
        with transaction() as conn:
            run_id = insert_lever_run(conn, doc, who.token_id, owner=instance_id(app))
        runner().submit(run_id)
        return run_id
    outcome = _lever_outcome(app, doc)  # computed before any write: no lock held meanwhile
    with transaction() as conn:
        run_id = insert_lever_run(conn, doc, who.token_id)
        set_lever_run(conn, run_id, **outcome)
    return run_id


def run_lever_job(app: Flask, run_id: str) -> None:
    """Compute a queued lever run in the job pool (the ``levers`` handler of ``webapp.jobs``)."""
    engine = engine_of(app)
    with transaction(engine) as conn:
        row = get_lever_run(conn, run_id)
        if row is None or row.status != "queued":
            return
        now = utcnow()
        set_lever_run(
            conn, run_id, status="running", started_at=now, owner=instance_id(app), heartbeat_at=now
        )
        doc = dict(row.request)
    outcome = _lever_outcome(app, doc, run_id)
    with transaction(engine) as conn:
        set_lever_run(conn, run_id, **outcome)


def _lever_outcome(app: Flask, doc: dict[str, Any], run_id: str = "") -> dict[str, Any]:
    """Compute a lever run: the column values of a finished (done or failed) run."""
    try:
        with app.app_context():
            result = compute_levers(doc, network(app))
    except GreenlaneError as exc:
        return {
            "status": "failed",
            "finished_at": utcnow(),
            "error": {"title": "Invalid input", "detail": exc.message, "field": exc.field},
        }
    except Exception as exc:
        app.logger.exception("lever run %s failed", run_id)
        return {
            "status": "failed",
            "finished_at": utcnow(),
            "error": {"title": "Solver error", "detail": f"{type(exc).__name__}: {exc}"},
        }
    return {"status": "done", "progress": 1.0, "result": result, "finished_at": utcnow()}
