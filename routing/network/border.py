"""Customs and border dwell (``border_dwell.csv``): time a shipment waits at a border.

Two defaults and per-hub rows. ``border_crossing``: at every hub of kind border crossing a
shipment passes (customs and transit formalities, on top of the gauge-change dwell of
``hub_operations.csv``). ``eu_entry``: at the first EU/EEA hub of a shipment that started
outside (import entry at the port, airport or rail border). A ``hub`` row (``hub_id`` given)
replaces the defaults at that hub; at a border crossing that is also the entry the larger
default applies. A hub that is neither a border crossing nor a shipment's entry point adds
no customs dwell, whatever its row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from greenlane.data import DATA_DIR
from greenlane.emissions.tables import TableRow, Text, read_table
from greenlane.fleet.cost import EU_MEMBERS
from greenlane.routing.network.model import Hub, HubKind

BORDER_TABLE = "border_dwell.csv"
EEA_MEMBERS = EU_MEMBERS | frozenset({"IS", "LI", "NO"})
"""Countries of the EU customs entry rule: the EU-27 and the EEA states (ISO 3166-1)."""


class BorderDwellRow(TableRow):
    """A row of ``border_dwell.csv``: a default (``border_crossing``, ``eu_entry``) or one
    hub's customs dwell [h]."""

    scope: Literal["border_crossing", "eu_entry", "hub"]
    hub_id: str = ""
    dwell_h: Annotated[float, Field(ge=0.0, le=24 * 60)]
    data_quality: Text
    source: Text
    date: Text
    licence: Text
    note: str = ""


@dataclass(frozen=True, slots=True)
class BorderDwell:
    """Customs dwell defaults and per-hub values [h], with the rule text of each."""

    border_crossing_h: float = 0.0
    eu_entry_h: float = 0.0
    per_hub: Mapping[str, float] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    def at(self, hub: Hub, entry: bool) -> tuple[float, str]:
        """(dwell [h], why) of a shipment passing ``hub``; ``entry``: it is the shipment's
        first EU/EEA hub. (0, "") where no customs happen."""
        border = hub.kind is HubKind.BORDER_CROSSING
        if not (border or entry):
            return 0.0, ""
        what = " + ".join(
            w for w, on in (("border crossing", border), ("EU/EEA entry", entry)) if on
        )
        if hub.hub_id in self.per_hub:
            return self.per_hub[hub.hub_id], f"customs {what} at {hub.hub_id} (hub row)"
        dwell = max(self.border_crossing_h if border else 0.0, self.eu_entry_h if entry else 0.0)
        return dwell, f"customs {what} at {hub.hub_id} (default)"


def entry_index(hubs: Sequence[Hub]) -> int | None:
    """Position of the first EU/EEA hub of a path that starts outside (None: no entry)."""
    if not hubs or hubs[0].country in EEA_MEMBERS:
        return None
    for i, hub in enumerate(hubs):
        if hub.country in EEA_MEMBERS:
            return i
    return None


def path_dwells_h(hubs: Sequence[Hub], table: BorderDwell) -> tuple[tuple[float, str], ...]:
    """Customs (dwell [h], why) at each hub of a path; the first hub (the shipment's own
    origin) has none."""
    entry = entry_index(hubs)
    return tuple((0.0, "") if i == 0 else table.at(hub, i == entry) for i, hub in enumerate(hubs))


@cache
def border_dwell(data_dir: Path = DATA_DIR, hub_ids: frozenset[str] | None = None) -> BorderDwell:
    """Customs dwell of ``data_dir/border_dwell.csv`` (none when the folder has no such
    table). Raises DataError naming the row and column for a repeated default or hub row, a
    ``hub`` row without ``hub_id``, a default with one, or (given ``hub_ids``) an unknown hub."""
    path = Path(data_dir) / BORDER_TABLE
    if not path.exists():
        return BorderDwell(per_hub={}, sources={})
    defaults: dict[str, float] = {}
    per_hub: dict[str, float] = {}
    sources: dict[str, str] = {}
    for row in read_table(path, BorderDwellRow):
        if row.scope == "hub":
            if not row.hub_id:
                raise row.error("hub_id", "a hub row needs hub_id")
            if hub_ids is not None and row.hub_id not in hub_ids:
                raise row.error("hub_id", f"unknown hub {row.hub_id!r}")
            if row.hub_id in per_hub:
                raise row.error("hub_id", f"{row.hub_id} appears twice")
            per_hub[row.hub_id] = row.dwell_h
            sources[row.hub_id] = row.source
            continue
        if row.hub_id:
            raise row.error("hub_id", f"a {row.scope} default has no hub_id (use scope hub)")
        if row.scope in defaults:
            raise row.error("scope", f"the {row.scope} default appears twice")
        defaults[row.scope] = row.dwell_h
        sources[row.scope] = row.source
    return BorderDwell(
        defaults.get("border_crossing", 0.0), defaults.get("eu_entry", 0.0), per_hub, sources
    )
