"""Routing: the multimodal network, candidate paths and the planner.

Public names of the network layer are re-exported here; ``routing.network`` imports
networkx, so it loads on first use of these names rather than on ``import routing``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from routing.model import Hub as Hub
from routing.model import HubKind as HubKind
from routing.model import Lane as Lane

if TYPE_CHECKING:
    from routing.network import Network as Network
    from routing.network import load_network as load_network

__all__ = ["Hub", "HubKind", "Lane", "Network", "load_network"]


def __getattr__(name: str) -> Any:
    if name in ("Network", "load_network"):
        from routing import network

        return getattr(network, name)
    raise AttributeError(f"module 'routing' has no attribute {name!r}")
