"""Shipment books: validated from JSON or CSV into frozen ``Shipment`` records.

CSV columns: ``shipment_id, origin, destination, mass_t, volume_m3, teu, ready_at, due_at,
allowed_modes, max_co2e_kg``. ``origin``/``destination`` are a hub id, UN/LOCODE or IATA code
of ``data/hubs.csv``, ``lat;lon``, a searoute seaport, an IATA airport or a city
(``routing.network.places``). Dates are ISO 8601 (a bare date means 00:00 UTC).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from greenlane.emissions.errors import InputError
from greenlane.emissions.limits import (
    MAX_BOOK_BYTES,
    MAX_BOOK_ROWS,
    csv_rows,
    loads_json,
    read_text,
)
from greenlane.emissions.model import Mode

__all__ = [
    "MAX_BOOK_BYTES",
    "MAX_BOOK_ROWS",
    "Shipment",
    "ShipmentIn",
    "parse_shipments",
    "read_book",
]


@dataclass(frozen=True, slots=True)
class Shipment:
    """A shipment to plan: place references, mass [t], time window [UTC]."""

    shipment_id: str
    origin: str
    destination: str
    mass_t: float
    ready_at: datetime
    due_at: datetime
    volume_m3: float | None = None
    teu: float | None = None
    allowed_modes: frozenset[Mode] | None = None
    max_co2e_kg: float | None = None
    where: str = field(default="", compare=False)
    """Where the shipment was given (``line[3]`` of a CSV book, ``shipments[1]`` of JSON)."""


class ShipmentIn(BaseModel):
    """Request model of one shipment (API and file books)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    shipment_id: str = Field(min_length=1, max_length=200)
    origin: str = Field(min_length=2, max_length=64)
    destination: str = Field(min_length=2, max_length=64)
    mass_t: float = Field(gt=0, le=100_000)
    volume_m3: float | None = Field(default=None, gt=0, le=1_000_000)
    teu: float | None = Field(default=None, gt=0, le=30_000)
    ready_at: datetime
    due_at: datetime
    allowed_modes: list[Mode] | None = None
    max_co2e_kg: float | None = Field(default=None, gt=0, le=1e10)

    @field_validator("ready_at", "due_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        try:
            return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+03:04 is before year 1 in UTC
            raise ValueError("the time in UTC is outside the years 1-9999") from None

    @field_validator("destination")
    @classmethod
    def _elsewhere(cls, v: str, info: ValidationInfo) -> str:
        if v == info.data.get("origin"):
            raise ValueError("origin and destination are the same place")
        return v

    @field_validator("due_at")
    @classmethod
    def _after_ready(cls, v: datetime, info: ValidationInfo) -> datetime:
        ready = info.data.get("ready_at")
        if ready is not None and v <= ready:
            raise ValueError("due_at must be after ready_at")
        return v

    def to_shipment(self, where: str = "") -> Shipment:
        """The frozen domain record; ``where`` names its place in the input."""
        return Shipment(
            shipment_id=self.shipment_id,
            origin=self.origin,
            destination=self.destination,
            mass_t=self.mass_t,
            ready_at=self.ready_at,
            due_at=self.due_at,
            volume_m3=self.volume_m3,
            teu=self.teu,
            allowed_modes=frozenset(self.allowed_modes) if self.allowed_modes else None,
            max_co2e_kg=self.max_co2e_kg,
            where=where,
        )


def _loc_path(prefix: str, loc: Sequence[int | str]) -> str:
    return prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def parse_shipments(
    items: Sequence[Mapping[str, Any]],
    prefix: str = "shipments",
    start: int = 0,
    numbers: Sequence[int] | None = None,
) -> list[Shipment]:
    """Validate a list of shipment objects; errors name ``shipments[i].field``.

    ``start`` numbers the items (CSV books use ``line[2]`` for the first data line);
    ``numbers`` gives each item's own number instead (a CSV row's line).
    """
    if not isinstance(items, Sequence) or isinstance(items, str | bytes) or not items:
        raise InputError("a non-empty list of shipments is needed", field=prefix)
    out: list[Shipment] = []
    seen: set[str] = set()
    labels = numbers if numbers is not None else range(start, start + len(items))
    for i, item in zip(labels, items, strict=True):
        try:
            shipment = ShipmentIn.model_validate(item).to_shipment(f"{prefix}[{i}]")
        except ValidationError as exc:
            err = exc.errors()[0]
            raise InputError(err["msg"], field=_loc_path(f"{prefix}[{i}]", err["loc"])) from None
        if shipment.shipment_id in seen:
            raise InputError(
                f"duplicate shipment_id {shipment.shipment_id!r}",
                field=f"{prefix}[{i}].shipment_id",
            )
        seen.add(shipment.shipment_id)
        out.append(shipment)
    return out


def _csv_rows(text: str, max_rows: int) -> tuple[list[int], list[dict[str, Any]]]:
    header, rows = csv_rows(text, max_rows=max_rows)
    required = {"shipment_id", "origin", "destination", "mass_t", "ready_at", "due_at"}
    missing = required - set(header)
    if missing:
        raise InputError(f"missing column(s): {', '.join(sorted(missing))}", field="csv header")
    lines: list[int] = []
    out: list[dict[str, Any]] = []
    for line, row in rows:
        clean: dict[str, Any] = {k: v.strip() for k, v in row.items() if k and v and v.strip()}
        if "allowed_modes" in clean:
            clean["allowed_modes"] = [m.strip() for m in clean["allowed_modes"].split(";") if m]
        lines.append(line)
        out.append(clean)
    return lines, out


def read_book(path: Path, max_rows: int = MAX_BOOK_ROWS) -> list[Shipment]:
    """Read a shipment book from ``.json`` (a list, or ``{"shipments": [...]}``) or ``.csv``.

    The limits of :mod:`greenlane.emissions.limits` apply (size before reading, rows, cells,
    JSON depth and number length); CSV errors name ``line[N]`` (line 2 is the first row).
    """
    text = read_text(path, MAX_BOOK_BYTES)
    if path.suffix.lower() == ".csv":
        lines, rows = _csv_rows(text, max_rows)
        return parse_shipments(rows, prefix="line", numbers=lines)
    doc = loads_json(text, str(path))
    items: Any = doc.get("shipments") if isinstance(doc, Mapping) else doc
    if isinstance(items, list) and len(items) > max_rows:
        raise InputError(
            f"{len(items)} shipments are more than the limit of {max_rows}", field="shipments"
        )
    return parse_shipments(items)
