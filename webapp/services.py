"""Service functions the views call: one call per request, no accounting or optimisation here.

They turn validated requests into ``routing`` calls, store the results in one transaction
each, and shape rows for the API and the UI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, current_app
from sqlalchemy.engine import Connection, Row

from greenlane.emissions.errors import DataError, GreenlaneError, InputError
from greenlane.fleet.cost import market_prices
from greenlane.routing import (
    Network,
    Plan,
    PlanOptions,
    Shipment,
    SolverParams,
    pareto,
    parse_shipments,
    plan,
)
from greenlane.routing.datasets import Dataset
from greenlane.routing.planner.candidates import resolve_place
from greenlane.webapp import datasets, store
from greenlane.webapp.auth import Principal
from greenlane.webapp.db import as_utc, engine_of, instance_id, transaction, utcnow
from greenlane.webapp.jobs import fail, runner
from greenlane.webapp.problems import ApiProblem
from greenlane.webapp.resources import network  # noqa: F401  (callers import it from here)
from greenlane.webapp.schemas import ParetoRequest, PlanRequest

Progress = Callable[[float], None]


# ----------------------------------------------------------------------------- requests


def request_doc(
    body: PlanRequest,
    config: Mapping[str, Any],
    kind: str = "plan",
    principal: Principal | None = None,
) -> dict[str, Any]:
    """The canonical request stored with a job or plan (server defaults filled in).

    ``options.dataset_id`` is resolved for ``principal``'s organisation (unset: its dataset
    in force; ``default`` when none), so the stored request names the data it is planned on.
    """
    doc = body.model_dump(mode="json", by_alias=False, exclude={"run_async"})
    opts = doc["options"]
    org = principal.organisation if principal is not None else "default"
    if principal is not None:
        opts["dataset_id"] = datasets.resolve(
            opts.get("dataset_id"), principal, "options.dataset_id"
        )
    doc["organisation"] = org
    if opts.get("time_limit_s") is None:
        opts["time_limit_s"] = float(config["SOLVER_TIME_LIMIT_S"])
    if opts["time_limit_s"] > float(config["SOLVER_MAX_TIME_LIMIT_S"]):
        raise InputError(
            f"must be <= {config['SOLVER_MAX_TIME_LIMIT_S']} s on this server",
            field="options.time_limit_s",
        )
    if opts.get("target_year") is not None:
        try:  # the target trajectory's years are data: checked before anything is stored
            plan_options(opts).validate()
        except InputError as exc:
            raise InputError(exc.message, field=f"options.{exc.field}") from None
    if len(doc["shipments"]) > int(config["MAX_SHIPMENTS"]):
        raise InputError(
            f"at most {config['MAX_SHIPMENTS']} shipments per request", field="shipments"
        )
    doc["kind"] = kind
    return doc


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def plan_options(opts: Mapping[str, Any]) -> PlanOptions:
    """Routing options from the stored request's ``options``."""
    return PlanOptions(
        carbon_price_cny_per_t=float(opts.get("carbon_price_cny_per_t", 0.0)),
        target_year=opts.get("target_year"),
        due_dates=opts.get("due_dates", "hard"),
        late_penalty_cny_per_t_day=float(opts.get("late_penalty_cny_per_t_day", 200.0)),
        objective=opts.get("objective", "cost"),
        k_paths=int(opts.get("k_paths", 4)),
        factor_sets=tuple(opts.get("factor_sets") or ()),
        stop_level_routing=bool(opts.get("stop_level_routing", False)),
        co2e_cap_kg=None if opts.get("co2e_cap_kg") is None else float(opts["co2e_cap_kg"]),
        regulatory_costs=bool(opts.get("regulatory_costs", True)),
        travel_year=opts.get("travel_year"),
        eua_eur_per_t=_opt_float(opts.get("eua_eur_per_t")),
        ets2_eur_per_t=_opt_float(opts.get("ets2_eur_per_t")),
        price_basis=opts.get("price_basis", "operating_cost"),
        rate_card_index=float(opts.get("rate_card_index", 1.0)),
        energy_prices=market_prices(
            float(opts.get("bunker_price_factor", 1.0)), float(opts.get("jet_price_factor", 1.0))
        ),
        solver=SolverParams(
            time_limit_s=float(opts.get("time_limit_s") or 10.0),
            seed=int(opts.get("seed", 0)),
            workers=1,
            deterministic_time=(
                None
                if opts.get("deterministic_time") is None
                else float(opts["deterministic_time"])
            ),
        ),
    )


def shipments_of(doc: Mapping[str, Any], net: Network) -> list[Shipment]:
    """Validated shipments whose places exist in the network (errors name the field)."""
    shipments = parse_shipments(doc["shipments"])
    for i, s in enumerate(shipments):
        at = s.where or f"shipments[{i}]"
        resolve_place(net, s.origin, f"{at}.origin")
        resolve_place(net, s.destination, f"{at}.destination")
    return shipments


@dataclass(frozen=True, slots=True)
class Computed:
    """A solved request: the plan and, if asked, the frontier."""

    plan: Plan | None
    frontier: list[Plan] | None


def dataset_of(doc: Mapping[str, Any], app: Flask | None = None) -> Dataset:
    """The dataset a stored request is planned on (``options.dataset_id``)."""
    return datasets.dataset_of((doc.get("options") or {}).get("dataset_id"), app)


def on_dataset(
    options: PlanOptions, doc: Mapping[str, Any], app: Flask | None = None
) -> PlanOptions:
    """``options`` reading the tables of the request's dataset and recording its id."""
    ds = dataset_of(doc, app)
    return replace(options, data_dir=ds.data_dir, dataset_id=ds_id(doc))


def ds_id(doc: Mapping[str, Any]) -> str:
    """The dataset id a stored request names (requests from before datasets: ``default``)."""
    return str((doc.get("options") or {}).get("dataset_id") or datasets.SHIPPED)


def network_for(doc: Mapping[str, Any], app: Flask | None = None) -> Network:
    """The network of the dataset a stored request is planned on."""
    return datasets.network_of(dataset_of(doc, app), app)


def compute(
    doc: Mapping[str, Any],
    net: Network,
    progress: Progress | None = None,
    app: Flask | None = None,
) -> Computed:
    """Run the planner (and the Pareto sweep) for a stored request on its dataset."""
    shipments = shipments_of(doc, net)
    options = on_dataset(plan_options(doc["options"]), doc, app)
    note = progress or (lambda _x: None)
    if doc.get("kind") == "pareto":
        note(0.1)
        return Computed(None, pareto(shipments, net, options, points=int(doc.get("points", 6))))
    note(0.1)
    chosen = plan(shipments, net, options)
    frontier = None
    points = int(doc.get("pareto_points") or 0)
    if points >= 2:
        note(0.5)
        # the trade-off curve stays point-to-point: stop-level routing of every point would
        # multiply the vehicle-routing time by the number of points
        frontier = pareto(shipments, net, replace(options, stop_level_routing=False), points=points)
    note(0.95)
    return Computed(chosen, frontier)


# ----------------------------------------------------------------------------- submit


@dataclass(frozen=True, slots=True)
class Submitted:
    """Where a submitted request went: a stored plan (sync) or a queued job (async)."""

    plan_id: str | None = None
    job_id: str | None = None
    pareto: list[dict[str, Any]] | None = None


def submit_plan(
    body: PlanRequest,
    principal: Principal,
    *,
    force_async: bool = False,
    pareto_points: int = 0,
    extra: Mapping[str, Any] | None = None,
) -> Submitted:
    """Plan now (small books) or queue a job (large books, ``async``, or forced).

    ``extra`` is stored with the request (e.g. ``scenario_of``: the plan it was edited from).
    """
    config = current_app.config
    doc = request_doc(body, config, kind="plan", principal=principal)
    doc.update(extra or {})
    if pareto_points:
        doc["pareto_points"] = pareto_points
    net = network_for(doc)
    shipments_of(doc, net)  # bad places are a 422 now, not a failed job later
    big = len(doc["shipments"]) > int(config["ASYNC_THRESHOLD_SHIPMENTS"])
    if force_async or body.run_async or big:
        return Submitted(job_id=_queue("plan", doc, principal))
    result = compute(doc, net)
    assert result.plan is not None
    with transaction() as conn:
        plan_id = store.insert_plan(
            conn,
            result.plan,
            doc,
            name=body.name or "",
            created_by=principal.token_id,
            pareto=result.frontier,
            organisation=principal.organisation,
        )
    return Submitted(plan_id=plan_id)


def submit_pareto(body: ParetoRequest, principal: Principal) -> Submitted:
    """The frontier now (small books) or as a job."""
    config = current_app.config
    doc = request_doc(body, config, kind="pareto", principal=principal)
    net = network_for(doc)
    shipments_of(doc, net)
    if body.run_async or len(doc["shipments"]) > int(config["ASYNC_THRESHOLD_SHIPMENTS"]):
        return Submitted(job_id=_queue("pareto", doc, principal))
    result = compute(doc, net)
    return Submitted(pareto=store.pareto_points(result.frontier or []))


def _queue(kind: str, doc: dict[str, Any], principal: Principal) -> str:
    with transaction() as conn:
        job_id = store.insert_job(conn, kind, doc, principal.token_id, owner=instance_id())
    runner().submit(job_id)
    return job_id


# ----------------------------------------------------------------------------- reading


def plan_row(conn: Connection, plan_id: str, principal: Principal) -> Row[Any]:
    """A plan the caller may see, else 404.

    Every token sees only its organisation's plans: planners all of them, an integration token
    only the plans it created, a partner only what is shared with it.
    """
    row = store.get_plan(conn, plan_id)
    if (
        row is None
        or row.organisation != principal.organisation
        or (principal.role == "integration" and row.created_by != principal.token_id)
    ):
        raise ApiProblem(404, "Not Found", f"no plan {plan_id!r}")
    if principal.is_partner:
        visible = store.visible_shipments(conn, plan_id, principal.partner_id or "")
        if visible is not None and not visible:
            raise ApiProblem(404, "Not Found", f"no plan {plan_id!r}")
    return row


def plan_links(plan_id: str) -> dict[str, str]:
    """URLs of a plan's resources."""
    base = f"/api/v1/plans/{plan_id}"
    return {
        "self": base,
        "accept": f"{base}/accept",
        "shares": f"{base}/shares",
        **{f"report_{k}": f"{base}/report.{fmt}" for k, fmt in _FORMATS.items()},
    }


_FORMATS = {"csv": "csv", "geojson": "geojson", "pdf": "pdf", "ileap": "ileap.json"}


def plan_json(row: Row[Any]) -> dict[str, Any]:
    """A stored plan as the API's ``PlanOut``."""
    result = dict(row.result)
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "state": row.state,
        "created_at": as_utc(row.created_at).isoformat(),  # type: ignore[union-attr]
        "accepted_at": _iso(row.accepted_at),
        "software_version": row.software_version,
        "data_sha256": dict(row.data_sha256),
        "summary": result["summary"],
        "shipments": result["shipments"],
        "unplanned": result["unplanned"],
        "stop_routes": result.get("stop_routes", []),
        "stop_dropped": result.get("stop_dropped", []),
        "solver": result.get("solver", {}),
        "options": result.get("options", {}),
        "dataset": plan_dataset(row),
        "links": plan_links(row.id),
    }


def plan_dataset(row: Row[Any]) -> dict[str, str]:
    """``{"id", "sha256"}`` of the dataset a stored plan was made on (``default``: the
    shipped tables; plans from before datasets have no dataset hash)."""
    return {
        "id": row.dataset_id or datasets.SHIPPED,
        "sha256": str(dict(row.data_sha256).get("dataset", "")),
    }


def get_plan_json(plan_id: str, principal: Principal) -> dict[str, Any]:
    """``GET /plans/{id}``."""
    with transaction() as conn:
        return plan_json(plan_row(conn, plan_id, principal))


def accept(plan_id: str, principal: Principal) -> dict[str, Any]:
    """Accept a plan (idempotent) and return it."""
    with transaction() as conn:
        row = plan_row(conn, plan_id, principal)
        if row.state != "accepted":
            from greenlane.webapp.ledger.chain import record_plan_acceptance

            store.accept_plan(conn, plan_id, utcnow())
            record_plan_acceptance(conn, plan_id)  # the ledger entry, same transaction
        return plan_json(plan_row(conn, plan_id, principal))


def _iso(value: Any) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value is not None else None


def job_json(row: Row[Any]) -> dict[str, Any]:
    """A job row as the API's ``JobOut``."""
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "progress": round(float(row.progress), 3),
        "created_at": _iso(row.created_at),
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "plan_id": row.result_plan_id,
        "result_url": f"/api/v1/plans/{row.result_plan_id}" if row.result_plan_id else None,
        "result": row.result,
        "error": row.error,
    }


def get_job_json(job_id: str, principal: Principal) -> dict[str, Any]:
    """``GET /jobs/{id}``: only the job's creator (or a planner) sees it."""
    with transaction() as conn:
        row = store.get_job(conn, job_id)
    if (
        row is None
        or row.kind == "levers"  # lever runs answer at /ledger/levers/{id}
        or (principal.role != "planner" and row.created_by != principal.token_id)
        or dict(row.request).get("organisation", "default") != principal.organisation
    ):
        raise ApiProblem(404, "Not Found", f"no job {job_id!r}")
    return job_json(row)


# ----------------------------------------------------------------------------- shares


def share(
    plan_id: str, partner_id: str, shipment_ids: list[str] | None, principal: Principal
) -> list[dict[str, Any]]:
    """Share a plan or some of its shipments with a partner."""
    with transaction() as conn:
        row = plan_row(conn, plan_id, principal)
        if shipment_ids is not None:
            known = {s["shipment_id"] for s in row.result["shipments"]}
            for i, sid in enumerate(shipment_ids):
                if sid not in known:
                    raise InputError(
                        f"no planned shipment {sid!r} in this plan", field=f"shipment_ids[{i}]"
                    )
        rows = store.add_shares(conn, plan_id, partner_id, shipment_ids, principal.token_id)
    return [share_json(r) for r in rows]


def share_json(row: Row[Any]) -> dict[str, Any]:
    """A share row as ``ShareOut``."""
    return {
        "plan_id": row.plan_id,
        "partner_id": row.partner_id,
        "shipment_id": row.shipment_id,
        "created_at": _iso(row.created_at),
    }


def list_plan_shares(plan_id: str, principal: Principal) -> list[dict[str, Any]]:
    """Shares of a plan."""
    with transaction() as conn:
        plan_row(conn, plan_id, principal)
        return [share_json(r) for r in store.plan_shares(conn, plan_id)]


def unshare(plan_id: str, partner_id: str, shipment_id: str | None, principal: Principal) -> int:
    """Stop sharing a plan (or one shipment of it) with a partner; 404 if nothing was shared."""
    with transaction() as conn:
        plan_row(conn, plan_id, principal)
        removed = store.remove_shares(conn, plan_id, partner_id, shipment_id)
        if not removed:
            what = f"shipment {shipment_id!r} of " if shipment_id is not None else ""
            raise ApiProblem(
                404, "Not Found", f"{what}plan {plan_id!r} is not shared with {partner_id!r}"
            )
    return removed


def shared_with(principal: Principal) -> list[dict[str, Any]]:
    """What a partner may download: plan name, totals of the shared shipments, links."""
    from greenlane.emissions.units import intensity_g_per_tkm

    with transaction() as conn:
        rows = store.partner_shares(conn, principal.partner_id or "")
        plans = {pid: store.get_plan(conn, pid) for pid in {r.plan_id for r in rows}}
    plans = {
        pid: p
        for pid, p in plans.items()
        if p is not None and p.organisation == principal.organisation
    }
    out = []
    for r in rows:
        if r.plan_id not in plans:
            continue
        base = f"/api/v1/plans/{r.plan_id}"
        if r.shipment_id is not None:
            base += f"/shipments/{quote(r.shipment_id, safe='/')}"
        plan = plans.get(r.plan_id)
        ships = [
            s
            for s in (plan.result["shipments"] if plan is not None else [])
            if r.shipment_id is None or s["shipment_id"] == r.shipment_id
        ]
        co2e_kg = sum(s["co2e_wtw_kg"] for s in ships)
        tkm_gcd = sum(s.get("tkm_gcd") or 0.0 for s in ships)
        out.append(
            {
                "plan_id": r.plan_id,
                "plan_name": plan.name if plan is not None else "",
                "shipment_id": r.shipment_id,
                "shipments": len(ships),
                "co2e_wtw_kg": round(co2e_kg, 3),
                "intensity_g_per_tkm": round(intensity_g_per_tkm(co2e_kg, tkm_gcd), 3),
                "shared_at": _iso(r.created_at),
                "reports": {k: f"{base}/report.{fmt}" for k, fmt in _FORMATS.items()},
            }
        )
    return out


def startup(app: Flask) -> None:
    """Create tables if missing (``webapp.heartbeat`` then fails jobs of stopped processes)."""
    from greenlane.webapp.db import init_db

    if app.config.get("AUTO_INIT_DB", True):
        init_db(engine_of(app))


# ----------------------------------------------------------------------------- emissions


def footprint(doc: Any, fmt: str = "json") -> dict[str, Any]:
    """``POST /footprints``: the chain document's footprint (errors name the field)."""
    from greenlane.emissions.chain import footprint_from_chain
    from greenlane.emissions.report import footprint_to_dict, to_ileap_shipment_footprint
    from greenlane.fleet import resolve_vehicle

    if not isinstance(doc, Mapping):
        raise InputError("the body must be a JSON object (a transport chain)", field="$")
    fp = footprint_from_chain(doc, resolver=resolve_vehicle)
    return to_ileap_shipment_footprint(fp) if fmt == "ileap" else footprint_to_dict(fp)


def network_geojson(principal: Principal) -> dict[str, Any]:
    """``GET /network``: hubs and lanes of the caller's organisation's dataset in force."""
    in_force = datasets.resolve(None, principal, "dataset_id")
    doc = network_for({"options": {"dataset_id": in_force}}).to_geojson()
    doc.setdefault("properties", {})["dataset_id"] = in_force
    return doc


def seed_demo(token: str, book: Path | None = None) -> str | None:
    """Plan the demo book (``data/examples/shipments.csv``) if there is no plan yet."""
    from greenlane.data import DATA_DIR
    from greenlane.webapp import books
    from greenlane.webapp.auth import authenticate
    from greenlane.webapp.tables import plans

    book = book or DATA_DIR / "examples" / "shipments.csv"
    who = authenticate(engine_of(), token)
    if who is None or not book.exists():
        return None
    with transaction() as conn:
        if conn.execute(plans.select().limit(1)).first() is not None:
            return None
    body = PlanRequest.model_validate(
        {
            "shipments": books.from_upload(book.name, book.read_bytes()),
            "name": f"{book.stem} (cheapest)",
        }
    )
    sub = submit_plan(
        body, who, force_async=True, pareto_points=int(current_app.config["UI_PARETO_POINTS"])
    )
    assert sub.job_id is not None
    runner().wait(sub.job_id)
    with transaction() as conn:
        job = store.get_job(conn, sub.job_id)
    return job.result_plan_id if job is not None else None


# ----------------------------------------------------------------------------- disruptions


@dataclass(frozen=True, slots=True)
class Disrupted:
    """A disruption's impact on a stored plan and the id of the stored re-plan."""

    impact: dict[str, Any]
    plan_id: str


def _merged_stop_routes(before: Plan, kept: Any, replan: Plan) -> dict[str, Any]:
    """Stop routes of a merged re-plan: the original routes that carry a kept shipment (whose
    allocated legs come from them) and the re-plan's own routes (ids prefixed ``R``)."""
    ids = {s.shipment_id for s in kept}
    routes = [r for r in before.stop_routes if ids.intersection(r.shipment_ids)]
    routes += [replace(r, route_id=f"R{r.route_id}") for r in replan.stop_routes]
    dropped = [d for d in before.stop_dropped if d.shipment_id in ids]
    return {"stop_routes": tuple(routes), "stop_dropped": (*dropped, *replan.stop_dropped)}


def disrupt(plan_id: str, items: Any, principal: Principal) -> Disrupted:
    """``POST /plans/{id}/disruptions``: impact of ``items`` on a plan; store the re-plan.

    The stored plan is solved again from its request (same options and seed) to get the
    planner's objects back, then :func:`routing.scenarios.replan.impact` re-plans only the hit
    shipments. The re-plan (kept shipments + re-planned ones) becomes a new plan row whose
    request carries the disruptions, the original plan's id and the impact.
    """
    from greenlane.routing.scenarios.disruptions import parse_disruptions
    from greenlane.routing.scenarios.replan import impact, impact_to_dict

    with transaction() as conn:
        row = plan_row(conn, plan_id, principal)
    doc = dict(row.request)
    net = network_for(doc)
    disruptions = parse_disruptions(items, net)
    shipments = shipments_of(doc, net)
    options = on_dataset(plan_options(doc["options"]), doc)
    before = plan(shipments, net, options)
    result = impact(before, shipments, net, disruptions, options)
    order = {s.shipment_id: i for i, s in enumerate(shipments)}
    merged = Plan(
        status=result.replan.status if result.hits else before.status,
        shipments=tuple(
            sorted(
                (*result.unaffected, *result.replan.shipments),
                key=lambda s: order.get(s.shipment_id, len(order)),
            )
        ),
        unplanned=(*before.unplanned, *result.replan.unplanned),
        facts=dict(result.replan.facts or before.facts),
        options=dict(before.options),
        data_sha256=dict(before.data_sha256),
        dataset=dict(before.dataset),
        **_merged_stop_routes(before, result.unaffected, result.replan),
    )
    out = impact_to_dict(result)
    out["original_plan_id"] = plan_id
    new_doc = {
        **doc,
        "kind": "replan",
        "replan_of": plan_id,
        "disruptions": list(items),
        "impact": {k: v for k, v in out.items() if k != "replan"},
    }
    with transaction() as conn:
        new_id = store.insert_plan(
            conn,
            merged,
            new_doc,
            name=f"{row.name} (disrupted: {', '.join(out['disruptions'])})",
            created_by=principal.token_id,
            organisation=row.organisation,
        )
    out["replan_plan_id"] = new_id
    out["links"] = {
        "original": f"/api/v1/plans/{plan_id}",
        "replan": f"/api/v1/plans/{new_id}",
        "impact_page": f"/plans/{new_id}/impact",
    }
    return Disrupted(out, new_id)


def run_plan_job(app: Flask, job_id: str) -> None:
    """Solve a queued ``plan`` or ``pareto`` job (its handler in ``webapp.jobs``)."""
    engine = engine_of(app)
    with transaction(engine) as conn:
        row = store.get_job(conn, job_id)
        if row is None or row.status != "queued":
            return
        now = utcnow()
        store.set_job(
            conn,
            job_id,
            status="running",
            started_at=now,
            progress=0.05,
            owner=instance_id(app),
            heartbeat_at=now,
        )
        doc: dict[str, Any] = dict(row.request)
        kind, created_by = row.kind, row.created_by

    def progress(x: float) -> None:
        with transaction(engine) as c:
            store.set_job(c, job_id, progress=round(x, 3), heartbeat_at=utcnow())

    try:
        with app.app_context():
            result = compute(doc, network_for(doc, app), progress)
        with transaction(engine) as conn:
            if kind == "pareto":
                store.set_job(
                    conn,
                    job_id,
                    status="done",
                    progress=1.0,
                    finished_at=utcnow(),
                    result={"points": store.pareto_points(result.frontier or [])},
                )
            else:
                assert result.plan is not None
                plan_id = store.insert_plan(
                    conn,
                    result.plan,
                    doc,
                    name=doc.get("name") or "",
                    created_by=created_by,
                    pareto=result.frontier,
                    organisation=str(doc.get("organisation", "default")),
                )
                store.set_job(
                    conn,
                    job_id,
                    status="done",
                    progress=1.0,
                    finished_at=utcnow(),
                    result_plan_id=plan_id,
                )
    except GreenlaneError as exc:
        status = 500 if isinstance(exc, DataError) else 422
        fail(
            app,
            job_id,
            {
                "title": "Invalid input",
                "status": status,
                "detail": exc.message,
                "field": exc.field,
            },
        )
    except Exception as exc:
        app.logger.exception("job %s failed", job_id)
        fail(
            app,
            job_id,
            {"title": "Solver error", "status": 500, "detail": f"{type(exc).__name__}: {exc}"},
        )
