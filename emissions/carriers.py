"""Carriers' own emission intensities (``carrier_intensities.csv``): TOCs and HOCs per carrier.

A carrier's TOC [g CO2e/tkm on its ``distance_basis``] replaces the modelled energy of the legs
of lanes it runs; its HOC [kg CO2e/t] the default HOC at hubs of a kind where the shipment
boards (or, at the last hub, leaves) its lanes. Each row states its ISO 14083 data-quality
type: ``primary`` (the carrier's measured data), ``modelled`` or ``default``; the footprint
records it per TCE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import field_validator

from greenlane.data import DATA_DIR
from greenlane.emissions.factors import load_factors
from greenlane.emissions.model import DataType, DistanceBasis, FactorRef, Mode
from greenlane.emissions.tables import (
    ModeOrEmpty,
    OptFloat,
    TableRow,
    Text,
    read_table,
    within,
)

CARRIER_TABLE = "carrier_intensities.csv"
COLUMNS = (
    "carrier",
    "element",
    "mode",
    "hub_kind",
    "intensity_id",
    "energy_carrier",
    "wtw_g_per_tkm",
    "ttw_g_per_tkm",
    "wtw_kg_per_t",
    "ttw_kg_per_t",
    "distance_basis",
    "data_quality",
    "period_start",
    "period_end",
    "source",
    "date",
    "licence",
    "note",
)
"""Columns of ``carrier_intensities.csv`` in file order (the importer writes them)."""
MAX_G_PER_TKM = 10_000.0
"""Largest TOC intensity accepted [g CO2e/tkm] (air freight is about 500-1,500)."""
MAX_KG_PER_T = 1_000.0
"""Largest HOC intensity accepted [kg CO2e/t]."""


class CarrierIntensityRow(TableRow):
    """A row of ``carrier_intensities.csv``: one TOC (per mode) or HOC (per hub kind) of a
    carrier, with its data-quality type, reporting period and provenance."""

    carrier: Text
    element: Literal["toc", "hoc"]
    mode: ModeOrEmpty
    hub_kind: str
    intensity_id: Text
    energy_carrier: str = ""
    wtw_g_per_tkm: Annotated[OptFloat, within(0.0, MAX_G_PER_TKM)]
    ttw_g_per_tkm: Annotated[OptFloat, within(0.0, MAX_G_PER_TKM)]
    wtw_kg_per_t: Annotated[OptFloat, within(0.0, MAX_KG_PER_T)]
    ttw_kg_per_t: Annotated[OptFloat, within(0.0, MAX_KG_PER_T)]
    distance_basis: str
    data_quality: DataType
    period_start: dt.date
    period_end: dt.date
    source: Text
    date: Text
    licence: Text
    note: str = ""

    @field_validator("distance_basis")
    @classmethod
    def _basis(cls, value: str) -> str:
        if value and value not in {str(b) for b in DistanceBasis}:
            raise ValueError(f"must be one of {', '.join(str(b) for b in DistanceBasis)}")
        return value


@dataclass(frozen=True, slots=True)
class CarrierIntensity:
    """A carrier's TOC [g CO2e/tkm on ``distance_basis``] or HOC [kg CO2e/t].

    ``wtw`` and ``ttw`` are in the element's unit; ``data_type`` is the ISO 14083
    data-quality type the footprint records.
    """

    carrier: str
    element: str
    intensity_id: str
    mode: Mode | None
    hub_kind: str | None
    energy_carrier: str | None
    wtw: float
    ttw: float
    distance_basis: DistanceBasis | None
    data_type: DataType
    period_start: dt.date
    period_end: dt.date
    source: str
    licence: str

    @property
    def unit(self) -> str:
        """Unit of ``wtw`` and ``ttw``."""
        return "g CO2e/tkm" if self.element == "toc" else "kg CO2e/t"

    def factor_ref(self) -> FactorRef:
        """The intensity as a factor reference of a TCE."""
        return FactorRef(
            f"carrier_{self.element}",
            self.intensity_id,
            self.wtw,
            self.unit,
            f"{self.carrier}: {self.source} ({self.licence})",
            self.period_end.year,
        )

    def rule(self) -> str:
        """How the intensity was applied, for a TCE's rules."""
        basis = f" on {self.distance_basis} distance" if self.distance_basis else ""
        return (
            f"carrier {self.carrier} {self.element.upper()} {self.intensity_id}: "
            f"{self.wtw:g} {self.unit} WTW, {self.ttw:g} TTW{basis} ({self.data_type} data, "
            f"period {self.period_start}..{self.period_end})"
        )


@dataclass(frozen=True, slots=True)
class CarrierIntensities:
    """Carriers' TOCs by (carrier, mode, energy carrier or "") and HOCs by (carrier, hub
    kind)."""

    tocs: Mapping[tuple[str, Mode, str], CarrierIntensity]
    hocs: Mapping[tuple[str, str], CarrierIntensity]

    def toc(self, carrier: str, mode: Mode, energy_carrier: str = "") -> CarrierIntensity | None:
        """The carrier's TOC for ``mode``: the row of this energy carrier, else its
        carrier-wide row (None: the carrier has none)."""
        if not carrier:
            return None
        found = self.tocs.get((carrier, mode, energy_carrier))
        return found if found is not None else self.tocs.get((carrier, mode, ""))

    def hoc(self, carrier: str, hub_kind: str) -> CarrierIntensity | None:
        """The carrier's HOC at hubs of ``hub_kind`` (None: it has none)."""
        return self.hocs.get((carrier, hub_kind)) if carrier else None

    def __bool__(self) -> bool:
        return bool(self.tocs or self.hocs)


def parse_carrier_intensities(
    rows: Iterable[CarrierIntensityRow],
    carrier_keys: frozenset[str] | None = None,
    hub_kinds: frozenset[str] | None = None,
) -> CarrierIntensities:
    """Check rows across columns and rows; raise DataError naming row and column.

    A TOC needs ``mode``, both g/tkm values and ``distance_basis`` and no kg/t; a HOC needs
    ``hub_kind`` and both kg/t values and no g/tkm; TTW <= WTW is not required (biofuels);
    ``energy_carrier`` must be in ``carrier_keys`` and ``hub_kind`` in ``hub_kinds`` when
    given; one row per key."""
    tocs: dict[tuple[str, Mode, str], CarrierIntensity] = {}
    hocs: dict[tuple[str, str], CarrierIntensity] = {}
    for r in rows:
        if r.period_end < r.period_start:
            raise r.error("period_end", f"{r.period_end} is before period_start")
        if r.element == "toc":
            for col in ("mode", "distance_basis", "wtw_g_per_tkm", "ttw_g_per_tkm"):
                if getattr(r, col) in (None, ""):
                    raise r.error(col, f"a TOC row needs {col}")
            for col in ("hub_kind", "wtw_kg_per_t", "ttw_kg_per_t"):
                if getattr(r, col) not in (None, ""):
                    raise r.error(col, f"a TOC row leaves {col} empty")
            if (
                carrier_keys is not None
                and r.energy_carrier
                and r.energy_carrier not in (carrier_keys)
            ):
                raise r.error("energy_carrier", f"unknown energy carrier {r.energy_carrier!r}")
            mode = Mode(r.mode)
            key = (r.carrier, mode, r.energy_carrier)
            if key in tocs:
                raise r.error("mode", f"a second TOC of {r.carrier} for {mode}")
            assert r.wtw_g_per_tkm is not None and r.ttw_g_per_tkm is not None
            tocs[key] = _intensity(r, r.wtw_g_per_tkm, r.ttw_g_per_tkm)
        else:
            for col in ("hub_kind", "wtw_kg_per_t", "ttw_kg_per_t"):
                if getattr(r, col) in (None, ""):
                    raise r.error(col, f"a HOC row needs {col}")
            for col in ("mode", "energy_carrier", "distance_basis", "wtw_g_per_tkm"):
                if getattr(r, col) not in (None, ""):
                    raise r.error(col, f"a HOC row leaves {col} empty")
            if hub_kinds is not None and r.hub_kind not in hub_kinds:
                raise r.error(
                    "hub_kind", f"{r.hub_kind!r} is not one of {', '.join(sorted(hub_kinds))}"
                )
            if (r.carrier, r.hub_kind) in hocs:
                raise r.error("hub_kind", f"a second HOC of {r.carrier} for {r.hub_kind}")
            assert r.wtw_kg_per_t is not None and r.ttw_kg_per_t is not None
            hocs[(r.carrier, r.hub_kind)] = _intensity(r, r.wtw_kg_per_t, r.ttw_kg_per_t)
    return CarrierIntensities(tocs, hocs)


def _intensity(r: CarrierIntensityRow, wtw: float, ttw: float) -> CarrierIntensity:
    return CarrierIntensity(
        carrier=r.carrier,
        element=r.element,
        intensity_id=r.intensity_id,
        mode=Mode(r.mode) if r.mode else None,
        hub_kind=r.hub_kind or None,
        energy_carrier=r.energy_carrier or None,
        wtw=wtw,
        ttw=ttw,
        distance_basis=DistanceBasis(r.distance_basis) if r.distance_basis else None,
        data_type=r.data_quality,
        period_start=r.period_start,
        period_end=r.period_end,
        source=r.source,
        licence=r.licence,
    )


def load_carrier_intensities(
    data_dir: Path = DATA_DIR, hub_kinds: frozenset[str] | None = None
) -> CarrierIntensities:
    """Carriers' TOCs and HOCs from ``data_dir/carrier_intensities.csv`` (none when the
    folder has no such table); energy carriers are checked against ``load_factors()``."""
    path = Path(data_dir) / CARRIER_TABLE
    if not path.exists():
        return CarrierIntensities({}, {})
    keys = frozenset(load_factors().carriers)
    return parse_carrier_intensities(read_table(path, CarrierIntensityRow), keys, hub_kinds)
