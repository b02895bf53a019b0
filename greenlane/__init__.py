"""greenlane: multimodal freight routes and their emissions (ISO 14083:2023 / GLEC v3).

One import root with five packages, layered bottom to top (no import points up):

- ``greenlane.data``: the shipped reference tables (CSV/GeoJSON, each row with its source).
- ``greenlane.emissions``: ISO 14083 / GLEC accounting (WTW = WTT + TTW per TCE and hub).
- ``greenlane.fleet``: vehicle and vessel types, energy vs payload, range, costs.
- ``greenlane.routing``: network, the multimodal planner, vehicle routing, scenarios.
- ``greenlane.webapp``: the Flask UI, the JSON API, partner reports and the CLI.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("greenlane")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
