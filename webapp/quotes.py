"""``POST /api/v1/quotes``: price one shipment fast, four ways, for an ERP/MES.

The shipment's candidates come from the planner's own ``CandidateBuilder``
(``routing.planner.candidates``: k-shortest paths on cost, CO2e and time, each dressed with
the cheapest, greenest and carbon-priced vehicle options), kept warm per carbon price and
carrier set. A quote prices
the shipment travelling alone (its own vehicles on dedicated legs, scheduled services per
tonne), as the planner's ``alone`` figures do; a plan of a book may pool trucks and cost less.
Among the candidates arriving by the due date (all candidates if none does) it picks:

- ``cheapest``: least cost [CNY]; ``greenest``: least WTW CO2e [kg]; ``fastest``: earliest
  arrival; ``carbon_price``: least cost + carbon price x WTW CO2e.

Each answer carries cost, CO2e WTW/TTW/WTT, transit time [h] from ready to arrival, and the
on-time probability (``routing.network.transit_risk``: normal leg-time spread by mode).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Literal

from flask import Flask, Response, current_app, jsonify
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field

from greenlane.emissions.report._decimal import num
from greenlane.emissions.units import KG_PER_T
from greenlane.routing.network.places import resolve_all
from greenlane.routing.network.transit_risk import arrival_sd_h, on_time_probability
from greenlane.routing.planner.candidates import (
    Candidate,
    CandidateBuilder,
    datetime_at,
    hours_since_epoch,
)
from greenlane.routing.planner.shipments import Shipment, ShipmentIn
from greenlane.webapp.auth import roles
from greenlane.webapp.problems import ApiProblem
from greenlane.webapp.schemas import Problem

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
quotes_tag = Tag(name="quotes", description="Price one shipment fast (ERP/MES)")
api = APIBlueprint("quotes", __name__, url_prefix="/api/v1", abp_security=SECURITY)

MAX_BUILDERS = 8
"""Warm candidate builders kept (one per carbon price and carrier set)."""
_EXT = "greenlane_quote_builders"


class QuoteIn(BaseModel):
    """One shipment to price and the carbon price of the ``carbon_price`` choice."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    shipment: ShipmentIn
    carbon_price_cny_per_t: float = Field(0.0, ge=0, le=100_000, description="[CNY/t CO2e]")
    carriers: Literal["all", "fossil"] = "all"


class QuoteOut(BaseModel):
    """The four choices, each with cost, CO2e, transit time and on-time probability."""

    model_config = ConfigDict(extra="allow")


_ERRORS: dict[str | int, Any] = {code: Problem for code in (400, 401, 403, 404, 409, 413, 422, 429)}


class _Warm:
    """A candidate builder and the lock that serialises its (not thread-safe) caches."""

    def __init__(self, builder: CandidateBuilder) -> None:
        self.builder = builder
        self.lock = threading.Lock()

    @property
    def builder_key(self) -> tuple[float, str]:
        """(carbon price [CNY/t], carriers) the builder was made for."""
        return self.builder.carbon_price_cny_per_t, self.builder.carriers


def _warm(app: Flask, price: float, carriers: str) -> _Warm:
    from greenlane.emissions.factors import load_factors
    from greenlane.webapp.resources import network

    pool: OrderedDict[tuple[float, str], _Warm] = app.extensions.setdefault(_EXT, OrderedDict())
    key = (price, carriers)
    found = pool.get(key)
    if found is None:
        found = _Warm(CandidateBuilder(network(app), load_factors(), 4, price, carriers))
        pool[key] = found
        while len(pool) > MAX_BUILDERS:
            pool.popitem(last=False)
    else:
        pool.move_to_end(key)
    return found


def _alone_ttw_kg(c: Candidate, mass_t: float) -> float:
    """TTW of the shipment travelling alone [kg]: the per-tonne part and hubs (``var_ttw``)
    plus whole dedicated vehicles."""
    return c.var_ttw_kg + sum(o.vehicles_for(mass_t) * o.vehicle_ttw_kg for o in c.options)


def _option(c: Candidate, s: Shipment) -> dict[str, Any]:
    ready_h, due_h = hours_since_epoch(s.ready_at), hours_since_epoch(s.due_at)
    sd = arrival_sd_h((o.lane.mode, o.transit_h) for o in c.options)
    ttw = _alone_ttw_kg(c, s.mass_t)
    return {
        "path": c.label,
        "hubs": list(c.hubs),
        "legs": [
            {
                "lane_id": o.lane.lane_id,
                "mode": str(o.lane.mode),
                "vehicle_id": o.vehicle_id,
                "carrier": o.carrier,
                "departure_at": datetime_at(t.depart_h).isoformat().replace("+00:00", "Z"),
                "arrival_at": datetime_at(t.arrive_h).isoformat().replace("+00:00", "Z"),
            }
            for o, t in zip(c.options, c.timings, strict=True)
        ],
        "cost_cny": num(c.alone_cost_cny),
        "co2e_wtw_kg": num(c.alone_wtw_kg),
        "co2e_ttw_kg": num(ttw),
        "co2e_wtt_kg": num(c.alone_wtw_kg - ttw),
        "transit_h": num(c.arrival_h - ready_h),
        "arrival_at": datetime_at(c.arrival_h).isoformat().replace("+00:00", "Z"),
        "on_time": c.late_h <= 0,
        "on_time_probability": num(on_time_probability(due_h - c.arrival_h, sd)),
    }


def quote(body: QuoteIn, app: Flask | None = None) -> dict[str, Any]:
    """The four choices for ``body`` (see the module docstring)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    si = body.shipment
    shipment = si.to_shipment()
    warm = _warm(app, body.carbon_price_cny_per_t, body.carriers)
    net, places = resolve_all(
        warm.builder.network,
        ((si.origin, "shipment.origin"), (si.destination, "shipment.destination")),
        ((si.origin, si.destination),),
    )
    if net is not warm.builder.network:  # a port, airport or site outside the network
        warm = _Warm(CandidateBuilder(net, warm.builder.factors, 4, *warm.builder_key))
    origin, destination = places[si.origin].hub, places[si.destination].hub
    if origin.hub_id == destination.hub_id:
        raise ApiProblem(
            422,
            "Invalid input",
            "origin and destination are the same hub",
            field="shipment.destination",
        )
    with warm.lock:
        found = warm.builder.candidates(shipment, origin, destination)
    if si.max_co2e_kg is not None:
        found = [c for c in found if c.alone_wtw_kg <= si.max_co2e_kg]
    if not found:
        raise ApiProblem(
            422,
            "No route",
            f"no candidate route from {origin.hub_id} to {destination.hub_id}"
            + (" within max_co2e_kg" if si.max_co2e_kg is not None else ""),
            field="shipment",
        )
    on_time = [c for c in found if c.late_h <= 0]
    pool = on_time or found
    price = body.carbon_price_cny_per_t / KG_PER_T
    picks = {
        "cheapest": min(pool, key=lambda c: (c.alone_cost_cny, c.alone_wtw_kg, c.index)),
        "greenest": min(pool, key=lambda c: (c.alone_wtw_kg, c.alone_cost_cny, c.index)),
        "fastest": min(pool, key=lambda c: (c.arrival_h, c.alone_cost_cny, c.index)),
        "carbon_price": min(
            pool, key=lambda c: (c.alone_cost_cny + price * c.alone_wtw_kg, c.index)
        ),
    }
    try:
        quotes = {name: _option(c, shipment) for name, c in picks.items()}
    except OverflowError:  # an arrival past the year 9999
        raise ApiProblem(
            422, "Invalid input", "the arrival would fall after the year 9999", "shipment.ready_at"
        ) from None
    return {
        "shipment_id": si.shipment_id,
        "origin": origin.hub_id,
        "destination": destination.hub_id,
        "origin_resolved": places[si.origin].to_dict(),
        "destination_resolved": places[si.destination].to_dict(),
        "mass_t": si.mass_t,
        "ready_at": si.ready_at.isoformat().replace("+00:00", "Z"),
        "due_at": si.due_at.isoformat().replace("+00:00", "Z"),
        "carbon_price_cny_per_t": body.carbon_price_cny_per_t,
        "candidates": len(found),
        "on_time_candidates": len(on_time),
        "basis": "the shipment travelling alone (own vehicles on dedicated legs)",
        "quotes": quotes,
    }


def _hooks() -> None:
    from greenlane.webapp.api_guard import guard

    guard(api)


_hooks()


def _no_replay(func: Any) -> Any:
    """A read-only POST: nothing to store for Idempotency-Key replays."""
    func.greenlane_no_replay = True
    return func


@api.post("/quotes", tags=[quotes_tag], responses={200: QuoteOut, **_ERRORS})
@roles("planner", "integration")
@_no_replay
def create_quote(body: QuoteIn) -> Response:
    """Price one shipment: cheapest, greenest, fastest and at the carbon price.

    Read-only: an `Idempotency-Key` is ignored (nothing is stored).
    """
    return jsonify(quote(body))


def init_app(app: Any) -> None:
    """Register ``POST /api/v1/quotes`` (in the OpenAPI document)."""
    app.register_api(api)
