"""Tidy tables: one row per TCE (EcoTransIT "mass calculation" style) and a summary sheet.

Numbers are plain decimals with a ``.`` separator, no thousands separators and no exponent,
quantised to 3 dp (kg to the gram). Text cells that a spreadsheet would run as a formula
(leading ``= + - @``, tab, CR) get a ``'`` (:func:`spreadsheet_safe`). Files are UTF-8 with a
BOM so spreadsheet programs show Chinese place names; totals live in the separate summary,
never in the TCE rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from greenlane.emissions.model import TCE, Footprint, Mode
from greenlane.emissions.report._decimal import dec
from greenlane.emissions.units import intensity_g_per_tkm, t_to_kg

Cell = str | Decimal | None
"""A table cell: text, a quantised number, or empty."""

TCE_COLUMNS: tuple[str, ...] = (
    "shipment_id",
    "tce_id",
    "prev_tce_ids",
    "kind",
    "mode",
    "toc_id",
    "hoc_id",
    "hub",
    "origin_name",
    "origin_locode",
    "destination_name",
    "destination_locode",
    "departure_at",
    "arrival_at",
    "mass_kg",
    "distance_km",
    "distance_basis",
    "transport_activity_tkm",
    "energy_carrier",
    "energy_mj",
    "co2e_wtt_kg",
    "co2e_ttw_kg",
    "co2e_wtw_kg",
    "intensity_wtw_g_per_tkm",
    "method",
    "data_type",
    "factor_source",
    "factor_year",
    "temperature_control",
    "co2e_refrigerant_kg",
)
"""Columns of the per-TCE table, in order (units in the names)."""

SUMMARY_COLUMNS: tuple[str, ...] = (
    "level",
    "shipment_id",
    "mode",
    "tce_count",
    "transport_activity_tkm",
    "co2e_wtt_kg",
    "co2e_ttw_kg",
    "co2e_wtw_kg",
    "intensity_wtw_g_per_tkm",
)
"""Columns of the summary table."""

HUB_GROUP = "hub"
"""Name of the hub-operations group in the per-mode breakdown."""

LIST_SEPARATOR = ";"
"""Separator inside one cell holding several values (prev_tce_ids, factor_source/year)."""


def as_footprints(footprints: Footprint | Sequence[Footprint]) -> list[Footprint]:
    """Accept one footprint or a sequence (e.g. ``[s.footprint for s in plan.shipments]``)."""
    return [footprints] if isinstance(footprints, Footprint) else list(footprints)


def _unique(items: Iterable[str]) -> str | None:
    out = LIST_SEPARATOR.join(dict.fromkeys(i for i in items if i))
    return out or None


def tce_record(tce: TCE) -> dict[str, Cell]:
    """One TCE as a row of :data:`TCE_COLUMNS` [kg, km, tkm, MJ, kg CO2e, g CO2e/tkm].

    Hubs have no distance, basis or intensity (empty) and zero tkm (ISO 14083 §5.1).
    """
    leg = tce.kind != "hub"
    o, d = tce.origin, tce.destination
    return {
        "shipment_id": tce.shipment_id,
        "tce_id": tce.tce_id,
        "prev_tce_ids": _unique(tce.prev_tce_ids),
        "kind": tce.kind,
        "mode": str(tce.mode) if tce.mode else None,
        "toc_id": tce.toc_id,
        "hoc_id": tce.hoc_id,
        "hub": tce.hub,
        "origin_name": o.name if o else None,
        "origin_locode": o.locode if o else None,
        "destination_name": d.name if d else None,
        "destination_locode": d.locode if d else None,
        "departure_at": tce.departure_at,
        "arrival_at": tce.arrival_at,
        "mass_kg": dec(t_to_kg(tce.mass_t)),
        "distance_km": dec(tce.distance_km) if leg else None,
        "distance_basis": str(tce.distance_basis) if leg and tce.distance_basis else None,
        "transport_activity_tkm": dec(tce.activity_tkm),
        "energy_carrier": tce.energy_carrier,
        "energy_mj": dec(tce.energy_mj) if tce.energy_mj is not None else None,
        "co2e_wtt_kg": dec(tce.co2e_wtt_kg),
        "co2e_ttw_kg": dec(tce.co2e_ttw_kg),
        "co2e_wtw_kg": dec(tce.co2e_wtw_kg),
        "intensity_wtw_g_per_tkm": dec(tce.intensity_wtw_g_per_tkm) if leg else None,
        "method": str(tce.method),
        "data_type": str(tce.data_type),
        "factor_source": _unique(f.source for f in tce.factors),
        "factor_year": _unique(str(f.year) for f in tce.factors if f.year is not None),
        "temperature_control": tce.temperature_control,
        "co2e_refrigerant_kg": dec(tce.co2e_refrigerant_kg) if tce.co2e_refrigerant_kg else None,
    }


def tce_rows(footprints: Footprint | Sequence[Footprint]) -> list[dict[str, Cell]]:
    """All TCE rows of the footprints, in shipment and chain order."""
    return [tce_record(t) for fp in as_footprints(footprints) for t in fp.tces]


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a text cell as a formula (OWASP)."""


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet shows as text: a leading ``= + - @``, tab or CR gets a ``'``.

    OWASP's CSV-injection defence; apply it to text cells only, so numbers stay numeric.
    """
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _text(cell: Cell | int) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal | int):
        return format(cell, "f") if isinstance(cell, Decimal) else str(cell)
    return spreadsheet_safe(str(cell))


def _csv(columns: Sequence[str], rows: Iterable[Mapping[str, Cell | int]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row[c]) for c in columns])
    return buf.getvalue()


def footprints_to_csv(footprints: Footprint | Sequence[Footprint]) -> str:
    """The per-TCE table as CSV text (RFC 4180, CRLF; no BOM: see :func:`write_csv`)."""
    return _csv(TCE_COLUMNS, tce_rows(footprints))


def write_csv(path: str | Path, footprints: Footprint | Sequence[Footprint]) -> Path:
    """Write the per-TCE table to ``path`` as UTF-8 with a BOM (``utf-8-sig``)."""
    out = Path(path)
    out.write_text(footprints_to_csv(footprints), encoding="utf-8-sig", newline="")
    return out


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """A total over a group of TCEs [tkm, kg CO2e].

    ``level`` is ``shipment`` (one shipment's chain), ``mode`` (all legs of one mode, or the
    hub operations as mode ``hub``, over all shipments; ISO 14083 §13.3) or ``total``.
    """

    level: str
    shipment_id: str | None
    mode: str | None
    tce_count: int
    transport_activity_tkm: float
    co2e_wtt_kg: float
    co2e_ttw_kg: float
    co2e_wtw_kg: float

    @property
    def intensity_wtw_g_per_tkm(self) -> float | None:
        """WTW intensity [g CO2e/tkm]; ``None`` for a group without tkm (hubs)."""
        if self.transport_activity_tkm <= 0:
            return None
        return intensity_g_per_tkm(self.co2e_wtw_kg, self.transport_activity_tkm)

    def record(self) -> dict[str, Cell | int]:
        """The row as :data:`SUMMARY_COLUMNS`, numbers quantised to 3 dp."""
        intensity = self.intensity_wtw_g_per_tkm
        return {
            "level": self.level,
            "shipment_id": self.shipment_id,
            "mode": self.mode,
            "tce_count": self.tce_count,
            "transport_activity_tkm": dec(self.transport_activity_tkm),
            "co2e_wtt_kg": dec(self.co2e_wtt_kg),
            "co2e_ttw_kg": dec(self.co2e_ttw_kg),
            "co2e_wtw_kg": dec(self.co2e_wtw_kg),
            "intensity_wtw_g_per_tkm": dec(intensity) if intensity is not None else None,
        }


def _group(level: str, shipment_id: str | None, mode: str | None, tces: list[TCE]) -> SummaryRow:
    return SummaryRow(
        level=level,
        shipment_id=shipment_id,
        mode=mode,
        tce_count=len(tces),
        transport_activity_tkm=sum(t.activity_tkm for t in tces),
        co2e_wtt_kg=sum(t.co2e_wtt_kg for t in tces),
        co2e_ttw_kg=sum(t.co2e_ttw_kg for t in tces),
        co2e_wtw_kg=sum(t.co2e_wtw_kg for t in tces),
    )


def mode_key(tce: TCE) -> str:
    """Breakdown group of a TCE: its mode, or ``hub`` for hub operations."""
    return HUB_GROUP if tce.kind == "hub" or tce.mode is None else str(tce.mode)


def summary_rows(footprints: Footprint | Sequence[Footprint]) -> list[SummaryRow]:
    """Totals per shipment, per mode (hubs as ``hub``; ISO 14083 §13.3) and overall.

    Modes come in :class:`~emissions.model.Mode` order, then ``hub``; only groups present.
    """
    fps = as_footprints(footprints)
    rows = [_group("shipment", fp.shipment_id, None, list(fp.tces)) for fp in fps]
    every = [t for fp in fps for t in fp.tces]
    for key in [*(str(m) for m in Mode), HUB_GROUP]:
        members = [t for t in every if mode_key(t) == key]
        if members:
            rows.append(_group("mode", None, key, members))
    rows.append(_group("total", None, None, every))
    return rows


def summary_to_csv(footprints: Footprint | Sequence[Footprint]) -> str:
    """The summary table as CSV text (the spreadsheet's separate totals sheet)."""
    return _csv(SUMMARY_COLUMNS, (r.record() for r in summary_rows(footprints)))


def write_summary_csv(path: str | Path, footprints: Footprint | Sequence[Footprint]) -> Path:
    """Write the summary table to ``path`` as UTF-8 with a BOM."""
    out = Path(path)
    out.write_text(summary_to_csv(footprints), encoding="utf-8-sig", newline="")
    return out
