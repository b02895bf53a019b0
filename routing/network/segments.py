"""Lane country segments (``lane_segments.csv``): the share of a lane's km in each grid.

An electric train or battery truck on a lane crossing several grids draws its electricity in
each country (or Chinese grid region) for the km it runs there. A lane with rows here is
charged the km-weighted mix of the grids of its segments
(:func:`greenlane.routing.planner.grid_mix.with_grid_mix`); a lane without keeps its origin's
grid. The reverse (``:rev``) direction of a lane has the same segments.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import Field

from greenlane.data import DATA_DIR
from greenlane.emissions.tables import TableRow, Text, read_table

SEGMENT_TABLE = "lane_segments.csv"
SHARE_TOLERANCE = 1e-3
"""How far the shares of one lane may add up away from 1 [-]."""


class LaneSegmentRow(TableRow):
    """A row of ``lane_segments.csv``: the share of a lane's km in one country [-], or in one
    Chinese grid region (``grid_region`` such as ``CN-Northwest``)."""

    lane_id: Text
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    grid_region: str = ""
    share_km: Annotated[float, Field(gt=0.0, le=1.0)]
    method: Text
    data_quality: Text
    source: Text
    date: Text
    licence: Text
    note: str = ""


@dataclass(frozen=True, slots=True)
class Segment:
    """The share of a lane's km [-] in a country and grid region (empty: the country's)."""

    country: str
    grid_region: str
    share_km: float

    @property
    def label(self) -> str:
        """``CN-Northwest`` or ``KZ``."""
        return self.grid_region or self.country


def grid_keys(segment: Segment, eu_members: Collection[str]) -> tuple[str, ...]:
    """Energy-carrier keys that may hold a segment's grid factor, most specific first:
    ``electricity_<region>``, ``electricity_<country>``, ``electricity_eu`` (EU members)."""
    keys = []
    if segment.grid_region:
        keys.append("electricity_" + segment.grid_region.lower().replace("-", "_"))
    keys.append("electricity_" + segment.country.lower())
    if segment.country in eu_members:
        keys.append("electricity_eu")
    return tuple(keys)


@cache
def lane_segments(
    data_dir: Path = DATA_DIR, lane_ids: frozenset[str] | None = None
) -> Mapping[str, tuple[Segment, ...]]:
    """Segments per lane id from ``data_dir/lane_segments.csv`` (none without the table).

    Raises DataError naming the row and column for a repeated segment, shares of a lane not
    adding up to 1, or (given ``lane_ids``) an unknown lane."""
    path = Path(data_dir) / SEGMENT_TABLE
    if not path.exists():
        return {}
    rows = read_table(path, LaneSegmentRow)
    out: dict[str, list[Segment]] = {}
    last: dict[str, LaneSegmentRow] = {}
    for row in rows:
        if lane_ids is not None and row.lane_id not in lane_ids:
            raise row.error("lane_id", f"unknown lane {row.lane_id!r}")
        seg = Segment(row.country, row.grid_region, row.share_km)
        segs = out.setdefault(row.lane_id, [])
        if any(s.label == seg.label for s in segs):
            raise row.error("country", f"{seg.label} appears twice for {row.lane_id}")
        segs.append(seg)
        last[row.lane_id] = row
    for lane_id, segs in out.items():
        total = sum(s.share_km for s in segs)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise last[lane_id].error(
                "share_km", f"shares of {lane_id} add up to {total:.4f}, not 1"
            )
    return {k: tuple(v) for k, v in out.items()}
