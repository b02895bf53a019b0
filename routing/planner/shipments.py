"""Shipment books: validated from JSON or CSV into frozen ``Shipment`` records.

CSV columns: ``shipment_id, origin, destination, mass_t, volume_m3, teu, ready_at, due_at,
allowed_modes, max_co2e_kg``. ``origin``/``destination`` are a hub id, UN/LOCODE or IATA code
of ``data/hubs.csv``, or ``lat;lon``. Dates are ISO 8601 (a bare date means 00:00 UTC).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from greenlane.emissions.model import Mode

MAX_BOOK_BYTES = 50 * 1024 * 1024
"""Largest shipment book accepted [bytes]."""


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
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)

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

    def to_shipment(self) -> Shipment:
        """The frozen domain record."""
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
        )


def _loc_path(prefix: str, loc: Sequence[int | str]) -> str:
    return prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def parse_shipments(
    items: Sequence[Mapping[str, Any]], prefix: str = "shipments", start: int = 0
) -> list[Shipment]:
    """Validate a list of shipment objects; errors name ``shipments[i].field``.

    ``start`` numbers the items (CSV books use ``line[2]`` for the first data line).
    """
    if not isinstance(items, Sequence) or isinstance(items, str | bytes) or not items:
        raise InputError("a non-empty list of shipments is needed", field=prefix)
    out: list[Shipment] = []
    seen: set[str] = set()
    for i, item in enumerate(items, start=start):
        try:
            shipment = ShipmentIn.model_validate(item).to_shipment()
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


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    required = {"shipment_id", "origin", "destination", "mass_t", "ready_at", "due_at"}
    missing = required - set(reader.fieldnames or ())
    if missing:
        raise InputError(f"missing column(s): {', '.join(sorted(missing))}", field="csv header")
    rows = []
    for row in reader:
        clean: dict[str, Any] = {k: v.strip() for k, v in row.items() if k and v and v.strip()}
        if None in row:
            raise InputError("more cells than header columns", field=f"row {len(rows) + 2}")
        if "allowed_modes" in clean:
            clean["allowed_modes"] = [m.strip() for m in clean["allowed_modes"].split(";") if m]
        rows.append(clean)
    return rows


def read_book(path: Path) -> list[Shipment]:
    """Read a shipment book from ``.json`` (a list, or ``{"shipments": [...]}``) or ``.csv``."""
    if path.stat().st_size > MAX_BOOK_BYTES:
        raise InputError(f"file larger than {MAX_BOOK_BYTES} bytes", field=str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", field=str(path)) from None
    if path.suffix.lower() == ".csv":
        return parse_shipments(_csv_rows(text), prefix="line", start=2)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON at line {exc.lineno}: {exc.msg}", field=str(path)) from None
    items = doc.get("shipments") if isinstance(doc, Mapping) else doc
    return parse_shipments(items)
