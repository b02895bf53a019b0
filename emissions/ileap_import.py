"""Import a carrier's iLEAP data as rows of ``carrier_intensities.csv``.

Accepted documents (JSON): an iLEAP ``TOC`` or ``HOC`` object, a ``ShipmentFootprint``, a
list of them, or PACT ProductFootprints (one, a list or ``{"data": [...]}``) carrying them as
data-model extensions. Units follow the iLEAP specification: TOC intensities are kg CO2e per
``transportActivityUnit`` (``tkm``, or ``TEUkm`` turned into tkm with a stated t/TEU), HOC
intensities kg CO2e per ``hubActivityUnit`` (``tonnes`` or ``TEU``) leaving the hub.

From ShipmentFootprints the intensity of each ``tocId`` is Σ WTW / Σ transport activity over
its TCEs, on the distance basis whose value x mass gives the stated activity; of each
``hocId`` Σ WTW / Σ mass leaving the hub. Every error names the document path at fault.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from greenlane.emissions.carriers import (
    CARRIER_TABLE,
    COLUMNS,
    CarrierIntensityRow,
    parse_carrier_intensities,
)
from greenlane.emissions.errors import DataError, InputError
from greenlane.emissions.model import DataType, DistanceBasis, Mode
from greenlane.emissions.tables import read_table
from greenlane.emissions.units import G_PER_KG, KG_PER_T

ILEAP_MODES: Mapping[str, Mode] = {
    "Road": Mode.ROAD,
    "Rail": Mode.RAIL,
    "Air": Mode.AIR,
    "Sea": Mode.SEA,
    "InlandWaterway": Mode.INLAND_WATER,
}
"""iLEAP TransportMode -> greenlane mode."""
ILEAP_HUB_KINDS: Mapping[str, str | None] = {
    "MaritimeContainerTerminal": "seaport",
    "Warehouse": "warehouse",
    "StorageAndTransshipment": "warehouse",
    "Transshipment": None,
    "LiquidBulkTerminal": None,
}
"""iLEAP HubType -> greenlane hub kind (None: give it, e.g. rail_terminal or airport)."""
ACTIVITY_TOLERANCE = 0.005
"""Largest relative gap between mass x distance and a TCE's stated transport activity [-]."""


@dataclass(frozen=True, slots=True)
class ImportSettings:
    """What the iLEAP data does not say: the carrier, the period and provenance of the data,
    its data-quality type, and where needed the mode, hub kind, basis and t per TEU."""

    carrier: str
    source: str
    licence: str
    date: str
    data_quality: DataType = DataType.PRIMARY
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    mode: Mode | None = None
    hub_kind: str | None = None
    distance_basis: DistanceBasis = DistanceBasis.SFD
    t_per_teu: float | None = None


def _dec(value: Any, where: str) -> float:
    if not isinstance(value, str):
        raise InputError("a decimal string is required", field=where)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise InputError(f"not a decimal: {value!r}", field=where) from None
    if not number.is_finite() or number < 0:
        raise InputError(f"not a finite decimal >= 0: {value!r}", field=where)
    return float(number)


def _objects(doc: Any, where: str = "$") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, path, object) of every TOC, HOC and ShipmentFootprint in a document."""
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from _objects(item, f"{where}[{i}]")
        return
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object or array", field=where)
    if isinstance(doc.get("data"), list):
        yield from _objects(doc["data"], f"{where}.data")
        return
    if "extensions" in doc:
        found = False
        for i, ext in enumerate(doc.get("extensions") or []):
            schema = str(ext.get("dataSchema", "")) if isinstance(ext, dict) else ""
            for kind in ("shipment-footprint", "toc", "hoc"):
                if schema.endswith(f"/{kind}.json") and isinstance(ext.get("data"), dict):
                    found = True
                    yield kind, f"{where}.extensions[{i}].data", ext["data"]
        if not found:
            raise InputError("no iLEAP TOC, HOC or ShipmentFootprint extension", field=where)
        return
    if "tocId" in doc and "co2eIntensityWTW" in doc:
        yield "toc", where, doc
    elif "hocId" in doc and "co2eIntensityWTW" in doc:
        yield "hoc", where, doc
    elif "tces" in doc and "shipmentId" in doc:
        yield "shipment-footprint", where, doc
    else:
        raise InputError("not an iLEAP TOC, HOC or ShipmentFootprint", field=where)


def _period(s: ImportSettings, where: str, found: Sequence[dt.date] = ()) -> tuple[str, str]:
    start = s.period_start or (min(found) if found else None)
    end = s.period_end or (max(found) if found else None)
    if start is None or end is None:
        raise InputError("the data states no period: give the period start and end", field=where)
    return start.isoformat(), end.isoformat()


def _row(s: ImportSettings, **cells: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        carrier=s.carrier,
        data_quality=str(s.data_quality),
        source=s.source,
        date=s.date,
        licence=s.licence,
    )
    row.update(cells)
    return row


def _num(value: float) -> str:
    return format(Decimal(repr(value)).normalize(), "f")


def _per_tonne(unit: Any, tonne_unit: str, teu_unit: str, s: ImportSettings, field: str) -> float:
    """Factor from an intensity per ``unit`` to one per ``tonne_unit`` [-]: 1, or 1 / t per
    TEU for ``teu_unit`` (which needs ``s.t_per_teu``)."""
    if unit == tonne_unit:
        return 1.0
    if unit != teu_unit:
        raise InputError(f"unknown unit {unit!r}", field=field)
    if s.t_per_teu is None:
        raise InputError(
            f"intensity per {teu_unit}: give the tonnes per TEU to turn it into {tonne_unit}",
            field=field,
        )
    return 1 / s.t_per_teu


def _toc_row(obj: dict[str, Any], where: str, s: ImportSettings) -> dict[str, str]:
    mode = ILEAP_MODES.get(str(obj.get("mode")))
    if mode is None:
        raise InputError(f"unknown iLEAP mode {obj.get('mode')!r}", field=f"{where}.mode")
    unit = obj.get("transportActivityUnit")
    per_tkm = _per_tonne(unit, "tkm", "TEUkm", s, f"{where}.transportActivityUnit")
    wtw = _dec(obj.get("co2eIntensityWTW"), f"{where}.co2eIntensityWTW")
    ttw = _dec(obj.get("co2eIntensityTTW"), f"{where}.co2eIntensityTTW")
    start, end = _period(s, where)
    note = "iLEAP TOC, kg CO2e/tkm x 1000"
    if unit == "TEUkm":
        note += f"; per TEUkm / {s.t_per_teu:g} t/TEU"
    return _row(
        s,
        element="toc",
        mode=str(mode),
        intensity_id=str(obj.get("tocId")),
        wtw_g_per_tkm=_num(wtw * per_tkm * G_PER_KG),
        ttw_g_per_tkm=_num(ttw * per_tkm * G_PER_KG),
        distance_basis=str(s.distance_basis),
        period_start=start,
        period_end=end,
        note=note + (f"; {obj['description']}" if obj.get("description") else ""),
    )


def _hub_kind(hub_type: Any, s: ImportSettings, where: str) -> str:
    if s.hub_kind:
        return s.hub_kind
    kind = ILEAP_HUB_KINDS.get(str(hub_type))
    if kind is None:
        raise InputError(
            f"hub type {hub_type!r} maps to no single greenlane hub kind: give the hub kind",
            field=where,
        )
    return kind


def _hoc_row(obj: dict[str, Any], where: str, s: ImportSettings) -> dict[str, str]:
    unit = obj.get("hubActivityUnit")
    per_t = _per_tonne(unit, "tonnes", "TEU", s, f"{where}.hubActivityUnit")
    wtw = _dec(obj.get("co2eIntensityWTW"), f"{where}.co2eIntensityWTW")
    ttw = _dec(obj.get("co2eIntensityTTW"), f"{where}.co2eIntensityTTW")
    start, end = _period(s, where)
    return _row(
        s,
        element="hoc",
        hub_kind=_hub_kind(obj.get("hubType"), s, f"{where}.hubType"),
        intensity_id=str(obj.get("hocId")),
        wtw_kg_per_t=_num(wtw * per_t),
        ttw_kg_per_t=_num(ttw * per_t),
        period_start=start,
        period_end=end,
        note=f"iLEAP HOC, kg CO2e/{unit}"
        + (f"; {obj['description']}" if obj.get("description") else ""),
    )


def _basis_of(tce: dict[str, Any], mass_t: float, activity: float, where: str) -> DistanceBasis:
    """The distance basis whose value x mass is the stated transport activity."""
    distance = tce.get("distance")
    if not isinstance(distance, dict):
        raise InputError("a GLECDistance object is required", field=f"{where}.distance")
    for basis in (DistanceBasis.SFD, DistanceBasis.ACTUAL, DistanceBasis.GCD):
        value = distance.get(str(basis))
        if value is None:
            continue
        km = _dec(value, f"{where}.distance.{basis}")
        if abs(mass_t * km - activity) <= ACTIVITY_TOLERANCE * max(activity, 1e-9):
            return basis
    raise InputError(
        "no distance x mass gives the stated transportActivity", field=f"{where}.transportActivity"
    )


def _footprint_rows(
    docs: Sequence[tuple[str, dict[str, Any]]], s: ImportSettings
) -> tuple[list[dict[str, str]], list[str]]:
    """TOC and HOC rows from ShipmentFootprints, and the hub ids left out (no hub kind)."""
    legs: dict[str, list[float]] = {}
    bases: dict[str, DistanceBasis] = {}
    hubs: dict[str, list[float]] = {}
    days: list[dt.date] = []
    first: dict[str, str] = {}
    for where, doc in docs:
        tces = doc.get("tces")
        if not isinstance(tces, list) or not tces:
            raise InputError("a non-empty list of TCEs is required", field=f"{where}.tces")
        for i, tce in enumerate(tces):
            at = f"{where}.tces[{i}]"
            if not isinstance(tce, dict):
                raise InputError("a TCE object is required", field=at)
            wtw = _dec(tce.get("co2eWTW"), f"{at}.co2eWTW")
            ttw = _dec(tce.get("co2eTTW"), f"{at}.co2eTTW")
            mass_t = _dec(tce.get("mass"), f"{at}.mass") / KG_PER_T
            for key in ("departureAt", "arrivalAt"):
                if isinstance(tce.get(key), str):
                    try:
                        days.append(dt.datetime.fromisoformat(tce[key]).date())
                    except ValueError:
                        raise InputError("not a date-time", field=f"{at}.{key}") from None
            if tce.get("hocId"):
                hid = str(tce["hocId"])
                sums = hubs.setdefault(hid, [0.0, 0.0, 0.0])
                sums[0] += wtw
                sums[1] += ttw
                sums[2] += mass_t
                first.setdefault(hid, at)
            elif tce.get("tocId"):
                tid = str(tce["tocId"])
                activity = _dec(tce.get("transportActivity"), f"{at}.transportActivity")
                basis = _basis_of(tce, mass_t, activity, at)
                if bases.setdefault(tid, basis) != basis:
                    raise InputError(
                        f"TOC {tid}: activity on {basis} here, on {bases[tid]} before",
                        field=f"{at}.distance",
                    )
                sums = legs.setdefault(tid, [0.0, 0.0, 0.0])
                sums[0] += wtw
                sums[1] += ttw
                sums[2] += activity
                first.setdefault(tid, at)
            else:
                raise InputError("a TCE needs a tocId or a hocId", field=at)
    rows: list[dict[str, str]] = []
    skipped: list[str] = []
    for tid, (wtw, ttw, tkm) in sorted(legs.items()):
        if s.mode is None:
            raise InputError(
                "a ShipmentFootprint states no transport mode: give the mode", field=first[tid]
            )
        if tkm <= 0:
            raise InputError(f"TOC {tid} has no transport activity", field=first[tid])
        start, end = _period(s, first[tid], days)
        rows.append(
            _row(
                s,
                element="toc",
                mode=str(s.mode),
                intensity_id=tid,
                wtw_g_per_tkm=_num(wtw / tkm * G_PER_KG),
                ttw_g_per_tkm=_num(ttw / tkm * G_PER_KG),
                distance_basis=str(bases[tid]),
                period_start=start,
                period_end=end,
                note=f"from iLEAP ShipmentFootprints: {wtw:g} kg WTW / {tkm:g} tkm",
            )
        )
    for hid, (wtw, ttw, mass_t) in sorted(hubs.items()):
        if not s.hub_kind:
            skipped.append(hid)
            continue
        start, end = _period(s, first[hid], days)
        rows.append(
            _row(
                s,
                element="hoc",
                hub_kind=s.hub_kind,
                intensity_id=hid,
                wtw_kg_per_t=_num(wtw / mass_t),
                ttw_kg_per_t=_num(ttw / mass_t),
                period_start=start,
                period_end=end,
                note=f"from iLEAP ShipmentFootprints: {wtw:g} kg WTW / {mass_t:g} t",
            )
        )
    return rows, skipped


def rows_from_ileap(doc: Any, settings: ImportSettings) -> tuple[list[dict[str, str]], list[str]]:
    """``carrier_intensities.csv`` rows from an iLEAP document, and the hub (HOC) ids of
    ShipmentFootprints left out because no hub kind was given."""
    rows: list[dict[str, str]] = []
    footprints: list[tuple[str, dict[str, Any]]] = []
    for kind, where, obj in _objects(doc):
        if kind == "toc":
            rows.append(_toc_row(obj, where, settings))
        elif kind == "hoc":
            rows.append(_hoc_row(obj, where, settings))
        else:
            footprints.append((where, obj))
    skipped: list[str] = []
    if footprints:
        more, skipped = _footprint_rows(footprints, settings)
        rows += more
    if not rows:
        raise InputError("no TOC or HOC could be taken from the document", field="$")
    return rows, skipped


def _key(row: Mapping[str, str]) -> tuple[str, ...]:
    return (row["carrier"], row["element"], row["mode"], row["hub_kind"], row["energy_carrier"])


def write_rows(target: Path, rows: Sequence[Mapping[str, str]]) -> Path:
    """Merge ``rows`` into ``carrier_intensities.csv`` (``target`` a dataset folder or a CSV
    path): a row replaces the existing row of the same carrier, element, mode / hub kind and
    energy carrier. The merged table is validated first; nothing is written when it fails."""
    path = target / CARRIER_TABLE if target.is_dir() else target
    merged: dict[tuple[str, ...], dict[str, str]] = {}
    if path.exists():
        for old in read_table(path, CarrierIntensityRow):
            cells = {c: _cell(getattr(old, c)) for c in COLUMNS}
            merged[_key(cells)] = cells
    for row in rows:
        merged[_key(row)] = dict(row)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(merged.values())
    text = buf.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        check = Path(tmp) / CARRIER_TABLE
        check.write_text(text, encoding="utf-8")
        try:
            parse_carrier_intensities(read_table(check, CarrierIntensityRow))
        except DataError as exc:
            raise DataError(exc.message, file=path.name, line=exc.line, column=exc.column) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".carrier-", suffix=".csv")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp_name, path)
    return path


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _num(value)
    return str(value)
