"""Read-only resources shared by the app's services: the network the app plans on."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from greenlane.data import DATA_DIR
from greenlane.routing import Network, load_network


def network(app: Flask | None = None, data_dir: Path | None = None) -> Network:
    """The hubs-and-lanes network of ``data_dir`` (default: the shipped tables); loaded once
    per process and folder (cached by ``routing``)."""
    app = app or current_app
    cache_dir = app.config.get("NETWORK_CACHE_DIR")
    folder = data_dir or DATA_DIR
    return load_network(folder, cache_dir=cache_dir) if cache_dir else load_network(folder)
