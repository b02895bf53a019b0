"""Impact of disruptions on an accepted plan, and re-planning only what is hit.

A shipment is hit when one of its legs runs on a lane a disruption touches (re-routed,
closed, delayed or cut) while the disruption is in force, or passes a closed hub. Hit
shipments are re-planned on the disrupted network against the capacity the unaffected
shipments still hold; unaffected shipments keep their legs. The result lists, per hit
shipment, the before and after cost, WTW CO2e, arrival and due-date risk, and the totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from greenlane.emissions.units import S_PER_H, intensity_g_per_tkm
from greenlane.routing.network.graph import Network
from greenlane.routing.network.places import resolve_all
from greenlane.routing.planner.plan import Plan, ShipmentPlan, plan_to_dict
from greenlane.routing.planner.problem import PlanOptions, build_problem
from greenlane.routing.planner.shipments import Shipment
from greenlane.routing.planner.solve import solve_problem
from greenlane.routing.scenarios.disruptions import Disruption, affects, apply_disruptions


@dataclass(frozen=True, slots=True)
class ShipmentImpact:
    """One hit shipment: what hit it, and its plan before and after [CNY, kg CO2e, h]."""

    shipment_id: str
    hit_by: tuple[str, ...]
    before: ShipmentPlan
    after: ShipmentPlan | None
    reasons: tuple[str, ...] = ()

    @property
    def delta_cost_cny(self) -> float | None:
        """Cost change [CNY] (None if it can no longer be served)."""
        return None if self.after is None else self.after.cost_cny - self.before.cost_cny

    @property
    def delta_co2e_wtw_kg(self) -> float | None:
        """WTW CO2e change [kg]."""
        if self.after is None:
            return None
        return self.after.footprint.totals.co2e_wtw_kg - self.before.footprint.totals.co2e_wtw_kg

    @property
    def delta_arrival_h(self) -> float | None:
        """Arrival change [h]."""
        if self.after is None:
            return None
        return (self.after.arrival_at - self.before.arrival_at).total_seconds() / S_PER_H

    @property
    def due_date_risk(self) -> str:
        """``late`` or ``unserved`` when the re-plan misses the due date, else ``on time``."""
        if self.after is None:
            return "unserved"
        return "on time" if self.after.on_time else "late"


@dataclass(frozen=True, slots=True)
class Impact:
    """The disruption's effect on a plan: lane changes, hit shipments, the merged plan."""

    disruptions: tuple[Disruption, ...]
    lane_changes: dict[str, str]
    hits: tuple[ShipmentImpact, ...]
    unaffected: tuple[ShipmentPlan, ...]
    replan: Plan
    before: Plan

    @property
    def delta_cost_cny(self) -> float:
        """Total cost change over the served hit shipments [CNY]."""
        return sum(h.delta_cost_cny or 0.0 for h in self.hits)

    @property
    def delta_co2e_wtw_kg(self) -> float:
        """Total WTW CO2e change over the served hit shipments [kg]."""
        return sum(h.delta_co2e_wtw_kg or 0.0 for h in self.hits)

    @property
    def intensity_after_g_per_tkm(self) -> float:
        """Plan intensity after re-planning (unaffected + re-planned) [g/tkm on GCD]."""
        served = [*self.unaffected, *(h.after for h in self.hits if h.after is not None)]
        tkm = sum(s.tkm_gcd for s in served)
        co2 = sum(s.footprint.totals.co2e_wtw_kg for s in served)
        return intensity_g_per_tkm(co2, tkm)


def _active_during(d: Disruption, start: datetime, end: datetime) -> bool:
    return d.start < end and start < d.end


def hit_by(s: ShipmentPlan, network: Network, disruptions: Sequence[Disruption]) -> list[str]:
    """Ids of the disruptions that touch one of the shipment's legs while in force."""
    out = []
    for d in disruptions:
        for leg in s.legs:
            lane = network.lane(leg.lane_id)
            if affects(lane, d) and _active_during(d, leg.departure_at, leg.arrival_at):
                out.append(d.disruption_id)
                break
    return out


def _reserved(kept: Sequence[ShipmentPlan], network: Network) -> dict[tuple[str, int], float]:
    """Tonnes the unaffected shipments hold per scheduled departure (lane, slot)."""
    held: dict[tuple[str, int], float] = defaultdict(float)
    for s in kept:
        for leg in s.legs:
            if leg.vehicles:
                continue  # own trucks: no shared capacity
            lane = network.lane(leg.lane_id)
            slot = leg.departure_slot(lane.departures_per_week)
            held[(leg.lane_id, slot)] += s.mass_t
    return dict(held)


def impact(
    plan: Plan,
    shipments: Sequence[Shipment],
    network: Network,
    disruptions: Sequence[Disruption],
    options: PlanOptions | None = None,
) -> Impact:
    """Find the hit shipments of ``plan`` and re-plan only them on the disrupted network."""
    options = options or PlanOptions()
    # the plan's places that are not hubs: the lanes it was planned on
    network, _ = resolve_all(
        network,
        (
            (ref, f"{s.where or s.shipment_id}.{end}")
            for s in shipments
            for ref, end in ((s.origin, "origin"), (s.destination, "destination"))
        ),
        ((s.origin, s.destination) for s in shipments),
    )
    disrupted, changes = apply_disruptions(network, disruptions)
    hits: dict[str, list[str]] = {}
    kept: list[ShipmentPlan] = []
    for s in plan.shipments:
        ids = hit_by(s, network, disruptions)
        if ids:
            hits[s.shipment_id] = ids
        else:
            kept.append(s)
    by_id = {s.shipment_id: s for s in shipments}
    affected = [by_id[sid] for sid in sorted(hits)]
    if affected:
        problem = build_problem(affected, disrupted, options)
        problem = replace(problem, reserved_t=_reserved(kept, disrupted))
        replanned = solve_problem(problem, options)
    else:
        replanned = Plan(status="optimal", shipments=(), unplanned=())
    after = {s.shipment_id: s for s in replanned.shipments}
    why = {u.shipment_id: u.reasons for u in replanned.unplanned}
    before = {s.shipment_id: s for s in plan.shipments}
    return Impact(
        disruptions=tuple(disruptions),
        lane_changes=changes,
        hits=tuple(
            ShipmentImpact(sid, tuple(hits[sid]), before[sid], after.get(sid), why.get(sid, ()))
            for sid in sorted(hits)
        ),
        unaffected=tuple(kept),
        replan=replanned,
        before=plan,
    )


def impact_to_dict(result: Impact) -> dict[str, Any]:
    """JSON of an impact: lane changes, per-shipment deltas, totals and the re-plan."""

    def num(x: float | None, nd: int = 3) -> float | None:
        return None if x is None else round(x, nd)

    return {
        "disruptions": [d.disruption_id for d in result.disruptions],
        "lane_changes": result.lane_changes,
        "summary": {
            "shipments_hit": len(result.hits),
            "shipments_unaffected": len(result.unaffected),
            "delta_cost_cny": num(result.delta_cost_cny, 2),
            "delta_co2e_wtw_kg": num(result.delta_co2e_wtw_kg),
            "intensity_before_g_per_tkm": num(result.before.intensity_g_per_tkm),
            "intensity_after_g_per_tkm": num(result.intensity_after_g_per_tkm),
            "late": sum(1 for h in result.hits if h.due_date_risk == "late"),
            "unserved": sum(1 for h in result.hits if h.due_date_risk == "unserved"),
        },
        "shipments": [
            {
                "shipment_id": h.shipment_id,
                "hit_by": list(h.hit_by),
                "path_before": h.before.label,
                "path_after": h.after.label if h.after else None,
                "delta_cost_cny": num(h.delta_cost_cny, 2),
                "delta_co2e_wtw_kg": num(h.delta_co2e_wtw_kg),
                "delta_arrival_h": num(h.delta_arrival_h, 1),
                "due_date_risk": h.due_date_risk,
                "reasons": list(h.reasons),
            }
            for h in result.hits
        ],
        "replan": plan_to_dict(result.replan, include_footprints=False),
    }
