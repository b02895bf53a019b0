"""Sailing and rail timetables (``schedules.csv``): the departures a scheduled lane offers.

A row is one service between one port pair: its departures (weekdays or explicit dates, at a
time of day), the cut-off before each departure, the transit time of the pair and the capacity
per departure, valid between two dates. A lane with rows departs only at their departures; a
lane without keeps the uniform ``168 h / departures_per_week`` rule of the planner.

A shipment boards a departure when it reaches the cut-off: arrival at the port + handling
<= departure - ``cutoff_h``. Departures of a lane are numbered in time order (the slot of the
departure, which keys its capacity in the planner).
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from greenlane.data import DATA_DIR
from greenlane.emissions.model import Mode
from greenlane.emissions.tables import (
    ModeOrEmpty,
    OptFloat,
    TableRow,
    Text,
    read_table,
    within,
)
from greenlane.emissions.units import S_PER_H
from greenlane.routing.network.graph import Network

SCHEDULE_TABLE = "schedules.csv"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
"""Weekday names of the ``weekdays`` column (ISO order, Monday first)."""
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_VALIDITY_DAYS = 3 * 366
"""Longest validity of one row [days]: a published timetable covers a season or a year."""


class ScheduleRow(TableRow):
    """A row of ``schedules.csv``: one service's departures between one port pair.

    The lane is ``lane_id``, or every lane ``origin`` -> ``destination`` of ``mode``. Exactly
    one of ``weekdays`` (``Mon;Thu``) and ``dates`` (``2026-12-03;2026-12-17``) is given;
    ``departure_time`` is ``HH:MM`` local time at ``utc_offset_h`` [h]; ``cutoff_h`` [h before
    departure]; ``transit_h`` [h]; ``capacity_t`` [t per departure] (empty: the lane's).
    """

    service_id: Text
    lane_id: str
    origin: str
    destination: str
    mode: ModeOrEmpty
    carrier: Text
    weekdays: str
    dates: str
    departure_time: Annotated[str, Field(pattern=TIME_RE.pattern)]
    utc_offset_h: Annotated[float, Field(ge=-12.0, le=14.0)] = 0.0
    cutoff_h: Annotated[float, Field(ge=0.0, le=720.0)]
    transit_h: Annotated[float, Field(gt=0.0, le=10_000.0)]
    capacity_t: Annotated[OptFloat, within(1e-6, 1e7)]
    valid_from: dt.date
    valid_to: dt.date
    source: Text
    date: Text
    licence: Text
    note: str = ""

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: str) -> str:
        for day in (d.strip() for d in value.split(";") if d.strip()):
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not one of {', '.join(WEEKDAYS)}")
        return value

    @field_validator("dates")
    @classmethod
    def _dates(cls, value: str) -> str:
        for day in (d.strip() for d in value.split(";") if d.strip()):
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                raise ValueError(f"{day!r} is not a date YYYY-MM-DD") from None
        return value


@dataclass(frozen=True, slots=True)
class Departure:
    """One departure of a scheduled lane: when [h since the planner's epoch], the cut-off
    before it [h], its transit [h] and capacity [t], and the service running it."""

    depart_h: float
    cutoff_h: float
    transit_h: float
    capacity_t: float
    service_id: str
    carrier: str

    @property
    def cutoff_at_h(self) -> float:
        """Latest arrival at the port, handling done [h since the epoch]."""
        return self.depart_h - self.cutoff_h


@dataclass(frozen=True, slots=True)
class LaneSchedule:
    """The departures of one lane in time order (slot = position in ``departures``)."""

    lane_id: str
    departures: tuple[Departure, ...]
    departs_h: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "departs_h", tuple(d.depart_h for d in self.departures))

    @property
    def mean_wait_h(self) -> float:
        """Half the mean time between departures [h] (the expected wait of a random arrival)."""
        d = self.departs_h
        return (d[-1] - d[0]) / (len(d) - 1) / 2 if len(d) > 1 else 0.0

    @property
    def mean_transit_h(self) -> float:
        """Mean transit time of the departures [h]."""
        return sum(x.transit_h for x in self.departures) / len(self.departures)

    def board(self, ready_h: float, waits: int = 0) -> tuple[int, Departure] | None:
        """(slot, departure) of the first departure whose cut-off ``ready_h`` reaches
        [h since the epoch], or of the ``waits``-th such departure after it; None when the
        timetable has no such departure."""
        i = bisect_left(self.departs_h, ready_h - 1e-9)
        left = waits
        while i < len(self.departures):
            if self.departures[i].cutoff_at_h >= ready_h - 1e-9:
                if left == 0:
                    return i, self.departures[i]
                left -= 1
            i += 1
        return None


def _lanes_of(row: ScheduleRow, network: Network) -> list[str]:
    """Lane ids a row applies to (its ``lane_id``, or every lane of its pair and mode)."""
    if row.lane_id:
        try:
            lane = network.lane(row.lane_id)
        except KeyError:
            raise row.error("lane_id", f"unknown lane {row.lane_id!r}") from None
        for column in ("origin", "destination", "mode"):
            given = getattr(row, column)
            if given and given != str(getattr(lane, column)):
                raise row.error(
                    column,
                    f"{given!r} does not match lane {lane.lane_id} ({column} "
                    f"{getattr(lane, column)})",
                )
        if lane.mode is Mode.ROAD:
            raise row.error("lane_id", f"{lane.lane_id} is a road lane: trucks run on demand")
        return [lane.lane_id]
    for column in ("origin", "destination", "mode"):
        if not getattr(row, column):
            raise row.error(column, "give lane_id, or origin, destination and mode")
    if row.mode == str(Mode.ROAD):
        raise row.error(
            "mode", "road lanes run on demand; a timetable is for sea, rail, air, inland_water"
        )
    ids = [
        lane.lane_id
        for lane in network.lanes
        if lane.origin == row.origin
        and lane.destination == row.destination
        and str(lane.mode) == row.mode
    ]
    if not ids:
        raise row.error(
            "origin", f"no {row.mode} lane {row.origin} -> {row.destination} in the network"
        )
    return ids


def _days(row: ScheduleRow) -> list[dt.date]:
    """The departure days of a row within its validity."""
    if bool(row.weekdays.strip()) == bool(row.dates.strip()):
        raise row.error("weekdays", "give exactly one of weekdays and dates")
    if row.valid_to < row.valid_from:
        raise row.error("valid_to", f"{row.valid_to} is before valid_from {row.valid_from}")
    span = (row.valid_to - row.valid_from).days
    if span > MAX_VALIDITY_DAYS:
        raise row.error(
            "valid_to", f"valid for {span} days; one row may cover at most {MAX_VALIDITY_DAYS}"
        )
    if row.dates.strip():
        days = sorted({dt.date.fromisoformat(d.strip()) for d in row.dates.split(";") if d.strip()})
        outside = [d for d in days if not row.valid_from <= d <= row.valid_to]
        if outside:
            raise row.error("dates", f"{outside[0]} lies outside valid_from..valid_to")
        return days
    wanted = {WEEKDAYS.index(d.strip()) for d in row.weekdays.split(";") if d.strip()}
    return [
        row.valid_from + timedelta(days=k)
        for k in range(span + 1)
        if (row.valid_from + timedelta(days=k)).weekday() in wanted
    ]


def lane_schedules(
    network: Network,
    rows: Iterable[ScheduleRow],
    epoch: datetime,
) -> dict[str, LaneSchedule]:
    """Departures per lane id from timetable rows [h since ``epoch``].

    A departure's transit is the row's plus the lane's ``disruption_extra_h`` (a re-routed
    or delayed lane of a disrupted network). Raises DataError naming the row and column when
    a row names an unknown lane or a road lane, has no departure day, or repeats a service
    on a lane."""
    per_lane: dict[str, list[Departure]] = {}
    seen: set[tuple[str, str]] = set()
    for row in rows:
        days = _days(row)
        if not days:
            raise row.error("weekdays", "no departure day within valid_from..valid_to")
        clock = time.fromisoformat(row.departure_time)
        for lane_id in _lanes_of(row, network):
            if (row.service_id, lane_id) in seen:
                raise row.error("service_id", f"{row.service_id} appears twice for {lane_id}")
            seen.add((row.service_id, lane_id))
            lane = network.lane(lane_id)
            cap = row.capacity_t if row.capacity_t is not None else lane.capacity_t_per_departure
            out = per_lane.setdefault(lane_id, [])
            for day in days:
                local = datetime.combine(day, clock, tzinfo=UTC)
                at = local - timedelta(hours=row.utc_offset_h)
                out.append(
                    Departure(
                        (at - epoch).total_seconds() / S_PER_H,
                        row.cutoff_h,
                        row.transit_h + lane.disruption_extra_h,
                        cap,
                        row.service_id,
                        row.carrier,
                    )
                )
    return {
        lane_id: LaneSchedule(
            lane_id, tuple(sorted(deps, key=lambda d: (d.depart_h, d.service_id)))
        )
        for lane_id, deps in sorted(per_lane.items())
    }


def read_schedules(data_dir: Path = DATA_DIR) -> list[ScheduleRow]:
    """Rows of ``schedules.csv`` in ``data_dir`` (none when the folder has no such table)."""
    path = Path(data_dir) / SCHEDULE_TABLE
    if not path.exists():
        return []
    return read_table(path, ScheduleRow)


def load_schedules(
    network: Network, epoch: datetime, data_dir: Path = DATA_DIR
) -> Mapping[str, LaneSchedule]:
    """The timetabled lanes of ``network`` from ``data_dir/schedules.csv`` [h since epoch]."""
    return lane_schedules(network, read_schedules(data_dir), epoch)
