"""Read-only resources shared by the app's services: the network the app plans on."""

from __future__ import annotations

from flask import Flask, current_app

from greenlane.routing import Network, load_network


def network(app: Flask | None = None) -> Network:
    """The hubs-and-lanes network (loaded once per process; cached by ``routing``)."""
    app = app or current_app
    cache_dir = app.config.get("NETWORK_CACHE_DIR")
    return load_network(cache_dir=cache_dir) if cache_dir else load_network()
