"""The multimodal network: hubs, lanes, the graph and lane geometry.

``load_network()`` reads ``data/hubs.csv`` and ``data/lanes.csv`` (validated by
:mod:`routing.network.validate`), derives each lane's distance and geometry
(:mod:`routing.network.geometry`) and returns the :class:`Network` graph.
"""

from greenlane.routing.network.graph import (
    REVERSE_SUFFIX,
    ROAD_DAILY_REST_H,
    TRANSIT_RULES,
    Network,
    TransitRule,
    data_sha256,
    load_network,
    transit_h,
)
from greenlane.routing.network.model import Hub, HubKind, Lane
from greenlane.routing.network.transit_risk import (
    arrival_sd_h,
    on_time_probability,
    required_margin_h,
    transit_cv,
)

__all__ = [
    "REVERSE_SUFFIX",
    "ROAD_DAILY_REST_H",
    "TRANSIT_RULES",
    "Hub",
    "HubKind",
    "Lane",
    "Network",
    "TransitRule",
    "arrival_sd_h",
    "data_sha256",
    "load_network",
    "on_time_probability",
    "required_margin_h",
    "transit_cv",
    "transit_h",
]
