"""Disruptions: closed sea passages, hubs, border crossings and lanes; delays; capacity cuts.

A disruption is data (API, UI, CSV). Applied to a network it yields the disrupted network:
sea lanes through a closed passage are re-routed on the sea-lane network around it (the Red Sea
crisis: Suez and Bab-el-Mandeb closed -> round the Cape), lanes touching a closed hub or border
crossing disappear, delays lengthen transit, capacity cuts shrink each departure.

A re-routed lane's distance, time and emissions follow the new route: distance and geometry
from ``searoute``, time by :func:`~greenlane.routing.network.graph.sea_transit_h` (distance
at the service speed + canal time of the passages sailed), emissions from the new distance
when the lane is priced. A re-route never opens a canal the lane did not sail before: an
Asia-Europe service avoiding Suez goes round the Cape (as carriers did in 2024), not through
Panama, whose locks its vessels do not fit (straits stay open).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from greenlane.emissions.distance import convert_distance_km, sea_route
from greenlane.emissions.errors import InputError
from greenlane.emissions.geo import unwrap
from greenlane.emissions.model import DistanceBasis, Mode
from greenlane.routing.network.graph import (
    PASSAGE_RULES,
    REVERSE_SUFFIX,
    Network,
    add_to_graph,
    sea_transit_h,
)
from greenlane.routing.network.model import Lane

PASSAGES = ("suez", "babalmandab", "panama", "gibraltar", "bosporus", "ormuz", "malacca")
"""Sea passages the ``searoute`` network can close (its names)."""
ALWAYS_CLOSED = ("northwest",)
"""Passages closed in every routing (``searoute`` default: the Northwest passage)."""


class DisruptionIn(BaseModel):
    """Request model of one disruption."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    disruption_id: str = Field(min_length=1, max_length=100)
    kind: Literal["passage", "hub", "lane"]
    ref: str = Field(min_length=1, max_length=100)
    start: datetime
    end: datetime
    effect: Literal["closed", "delay", "capacity"] = "closed"
    delay_h: float = Field(default=0.0, ge=0, le=24 * 365)
    capacity_share: float = Field(default=1.0, ge=0, le=1)
    reason: str = ""

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)

    @model_validator(mode="after")
    def _check(self) -> DisruptionIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.kind == "passage" and self.effect != "closed":
            raise ValueError("a passage can only be closed")
        if self.effect == "delay" and self.delay_h <= 0:
            raise ValueError("a delay needs delay_h > 0")
        if self.effect == "capacity" and self.capacity_share >= 1:
            raise ValueError("a capacity cut needs capacity_share < 1")
        return self


@dataclass(frozen=True, slots=True)
class Disruption:
    """A validated disruption over ``[start, end)`` [UTC]."""

    disruption_id: str
    kind: str
    ref: str
    start: datetime
    end: datetime
    effect: str = "closed"
    delay_h: float = 0.0
    capacity_share: float = 1.0
    reason: str = ""

    def active(self, when: datetime) -> bool:
        """True if the disruption is in force at ``when``."""
        return self.start <= when < self.end


def parse_disruptions(
    items: Sequence[Mapping[str, Any]], network: Network | None = None, prefix: str = "disruptions"
) -> list[Disruption]:
    """Validate disruption objects; with a network, hub and lane refs must exist."""
    if not isinstance(items, Sequence) or isinstance(items, str | bytes) or not items:
        raise InputError("a non-empty list of disruptions is needed", field=prefix)
    out = []
    for i, item in enumerate(items):
        try:
            d = DisruptionIn.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = "".join(f".{p}" for p in err["loc"])
            raise InputError(err["msg"], field=f"{prefix}[{i}]{loc}") from None
        if d.kind == "passage" and d.ref not in PASSAGES:
            raise InputError(
                f"unknown passage {d.ref!r}; one of {', '.join(PASSAGES)}",
                field=f"{prefix}[{i}].ref",
            )
        if network is not None:
            if d.kind == "hub" and d.ref not in network.hubs:
                raise InputError(f"unknown hub {d.ref!r}", field=f"{prefix}[{i}].ref")
            if d.kind == "lane" and d.ref not in {lane.lane_id for lane in network.lanes}:
                raise InputError(f"unknown lane {d.ref!r}", field=f"{prefix}[{i}].ref")
        out.append(Disruption(**d.model_dump()))
    return out


def affects(lane: Lane, d: Disruption) -> bool:
    """Does disruption ``d`` touch ``lane``?"""
    if d.kind == "passage":
        return lane.mode is Mode.SEA and d.ref in lane.passages
    if d.kind == "hub":
        return d.ref in (lane.origin, lane.destination)
    base = lane.reverse_of or lane.lane_id
    return d.ref in (lane.lane_id, base, base + REVERSE_SUFFIX)


def apply_disruptions(
    network: Network, disruptions: Iterable[Disruption]
) -> tuple[Network, dict[str, str]]:
    """The disrupted network and, per changed lane, what happened to it."""
    ds = list(disruptions)
    closed_passages = tuple(sorted({d.ref for d in ds if d.kind == "passage"}))
    lanes: list[Lane] = []
    changes: dict[str, str] = {}
    for lane in network.lanes:
        new: Lane | None = lane
        rerouted = False
        for d in ds:
            if new is None or not affects(lane, d):
                continue
            if d.kind == "passage":
                if rerouted:
                    continue  # already re-routed around every closed passage
                rerouted = True
                new = _reroute(new, network, closed_passages)
                changes[lane.lane_id] = (
                    f"re-routed avoiding {', '.join(closed_passages)}: "
                    f"{lane.distance_km:,.0f} -> {new.distance_km:,.0f} km"
                    if new
                    else f"no sea route avoiding {', '.join(closed_passages)}: lane closed"
                )
            elif d.effect == "closed":
                new = None
                changes[lane.lane_id] = f"closed by {d.disruption_id} ({d.kind} {d.ref})"
            elif d.effect == "delay":
                new = replace(
                    new,
                    transit_h=new.transit_h + d.delay_h,
                    disruption_extra_h=new.disruption_extra_h + d.delay_h,
                )
                changes[lane.lane_id] = f"+{d.delay_h:g} h by {d.disruption_id}"
            else:
                new = replace(
                    new, capacity_t_per_departure=new.capacity_t_per_departure * d.capacity_share
                )
                changes[lane.lane_id] = f"capacity x {d.capacity_share:g} by {d.disruption_id}"
        if new is not None:
            lanes.append(new)
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    add_to_graph(graph, network.hubs.values(), lanes)
    tag = ",".join(sorted(d.disruption_id for d in ds))
    return Network(
        hubs=network.hubs,
        lanes=tuple(lanes),
        graph=nx.freeze(graph),
        data_sha256=f"{network.data_sha256}+disrupted[{tag}]",
    ), changes


def _reroute(lane: Lane, network: Network, closed: tuple[str, ...]) -> Lane | None:
    """``lane`` sailing around the ``closed`` passages and every canal it did not sail
    before; its time grows by the difference of :func:`sea_transit_h` of the two routes."""
    a, b = network.hubs[lane.origin], network.hubs[lane.destination]
    unused = tuple(p for p in PASSAGE_RULES if p not in lane.passages)
    route = sea_route(a.lonlat, b.lonlat, tuple(dict.fromkeys((*ALWAYS_CLOSED, *closed, *unused))))
    if not route.coordinates or not math.isfinite(route.distance_km):
        return None
    old_km, _ = convert_distance_km(
        lane.distance_km, lane.mode, lane.distance_basis, DistanceBasis.SFD
    )
    extra_h = sea_transit_h(route.distance_km, route.passages) - sea_transit_h(
        old_km, lane.passages
    )
    return replace(
        lane,
        distance_km=route.distance_km,
        distance_basis=DistanceBasis.SFD,
        geometry=unwrap(route.coordinates),
        passages=route.passages,
        transit_h=lane.transit_h + extra_h,
        disruption_extra_h=lane.disruption_extra_h + extra_h,
        distance_rules=(
            *lane.distance_rules,
            f"re-routed avoiding {', '.join(closed)}: sfd = searoute path "
            f"({'/'.join(route.passages) or 'open sea'}), +{extra_h:.1f} h",
        ),
    )
