"""Customs and border dwell (``border_dwell.csv``): time a shipment waits at a border.

Defaults and per-hub rows. ``border_crossing``: at every hub of kind border crossing a
shipment passes (customs and transit formalities, on top of the gauge-change dwell of
``hub_operations.csv``). ``eu_entry``: at the first EU/EEA hub of a shipment that started
outside (import entry at the port, airport or rail border), with a row per hub kind where
entry differs (an airport clears faster; at a rail border goods enter under transit and are
cleared inland). A ``hub`` row (``hub_id`` given)
replaces the defaults at that hub; at a border crossing that is also the entry the larger
default applies. A hub that is neither a border crossing nor a shipment's entry point adds
no customs dwell, whatever its row.

A through lane that crosses borders without a border-crossing hub at either end (a direct
China-Europe train, whose countries ``lane_segments.csv`` lists) waits at each border
between customs territories on the way: the EU/EEA, the Eurasian Economic Union (one customs
union: no customs between its members) and every other country on its own. Each such border
adds the ``border_crossing`` default, the entry into the EU/EEA the larger of the two
defaults (none when the lane's transit time is a published end-to-end figure, which holds its
border stops); a shipment entering the EU/EEA on such a lane has no second entry at a hub.
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
EAEU_MEMBERS = frozenset({"AM", "BY", "KG", "KZ", "RU"})
"""The Eurasian Economic Union, one customs territory (Treaty on the EAEU, 2014)."""


def territory(country: str) -> str:
    """Customs territory of a country: ``EU/EEA``, ``EAEU`` or the country itself."""
    if country in EEA_MEMBERS:
        return "EU/EEA"
    return "EAEU" if country in EAEU_MEMBERS else country


class BorderDwellRow(TableRow):
    """A row of ``border_dwell.csv``: a default (``border_crossing``, ``eu_entry``, the
    latter optionally for one ``hub_kind``) or one hub's customs dwell [h]."""

    scope: Literal["border_crossing", "eu_entry", "hub"]
    hub_id: str = ""
    hub_kind: str = ""
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
    eu_entry_by_kind: Mapping[str, float] = field(default_factory=dict)
    """EU/EEA entry dwell at hubs of a kind [h] (else ``eu_entry_h``)."""
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
        dwell = max(
            self.border_crossing_h if border else 0.0,
            self.entry_h(str(hub.kind)) if entry else 0.0,
        )
        return dwell, f"customs {what} at {hub.hub_id} (default)"

    def entry_h(self, kind: str) -> float:
        """EU/EEA entry dwell at a hub of ``kind`` [h]."""
        return self.eu_entry_by_kind.get(kind, self.eu_entry_h)


def lane_customs_h(
    countries: Sequence[str],
    origin: Hub,
    destination: Hub,
    table: BorderDwell,
    in_transit_h: bool = False,
) -> tuple[float, str, bool]:
    """(dwell [h], why, enters the EU/EEA) of the borders a through lane crosses on the way:
    none unless ``countries`` (its segments) are given and neither end is a border crossing;
    0 h when ``in_transit_h`` (the lane's published transit time already holds its border
    stops), the entry still counted."""
    if not countries or HubKind.BORDER_CROSSING in (origin.kind, destination.kind):
        return 0.0, "", False
    seen = {territory(c) for c in (origin.country, *countries, destination.country)}
    borders = len(seen) - 1
    if borders <= 0:
        return 0.0, "", False
    entry = territory(origin.country) != "EU/EEA" and "EU/EEA" in seen
    dwell = (borders - entry) * table.border_crossing_h
    if entry:  # at a rail or road border on the way
        dwell += max(table.border_crossing_h, table.entry_h(str(HubKind.BORDER_CROSSING)))
    why = (
        f"customs en route: {borders} border(s) between {', '.join(sorted(seen))}"
        f"{' incl. EU/EEA entry' if entry else ''}"
    )
    if in_transit_h:
        return 0.0, why + " (in the lane's published transit time)", entry
    return dwell, why + " (defaults)", entry


def entry_index(hubs: Sequence[Hub]) -> int | None:
    """Position of the first EU/EEA hub of a path that starts outside (None: no entry)."""
    if not hubs or hubs[0].country in EEA_MEMBERS:
        return None
    for i, hub in enumerate(hubs):
        if hub.country in EEA_MEMBERS:
            return i
    return None


def path_dwells_h(
    hubs: Sequence[Hub], table: BorderDwell, entered_en_route: Sequence[bool] = ()
) -> tuple[tuple[float, str], ...]:
    """Customs (dwell [h], why) at each hub of a path; the first hub (the shipment's own
    origin) has none. ``entered_en_route[i]``: lane ``i`` (hub i -> i + 1) entered the
    EU/EEA on the way (:func:`lane_customs_h`), so no hub after it is the entry."""
    entry = entry_index(hubs)
    if entry is not None and any(entered_en_route[:entry]):
        entry = None
    return tuple((0.0, "") if i == 0 else table.at(hub, i == entry) for i, hub in enumerate(hubs))


@cache
def border_dwell(data_dir: Path = DATA_DIR, hub_ids: frozenset[str] | None = None) -> BorderDwell:
    """Customs dwell of ``data_dir/border_dwell.csv`` (none when the folder has no such
    table). Raises DataError naming the row and column for a repeated default or hub row, a
    ``hub`` row without ``hub_id``, a default with one, or (given ``hub_ids``) an unknown hub."""
    path = Path(data_dir) / BORDER_TABLE
    if not path.exists():
        return BorderDwell(per_hub={}, sources={})
    defaults: dict[tuple[str, str], float] = {}
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
        if row.hub_kind and row.scope != "eu_entry":
            raise row.error("hub_kind", "only an eu_entry default may name a hub kind")
        if row.hub_kind and row.hub_kind not in {str(k) for k in HubKind}:
            raise row.error("hub_kind", f"unknown hub kind {row.hub_kind!r}")
        key = (row.scope, row.hub_kind)
        if key in defaults:
            raise row.error("scope", f"the {row.scope} {row.hub_kind} default appears twice")
        defaults[key] = row.dwell_h
        sources[f"{row.scope}:{row.hub_kind}"] = row.source
    return BorderDwell(
        defaults.get(("border_crossing", ""), 0.0),
        defaults.get(("eu_entry", ""), 0.0),
        {k: v for (scope, k), v in defaults.items() if scope == "eu_entry" and k},
        per_hub,
        sources,
    )
