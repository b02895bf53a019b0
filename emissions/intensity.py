"""Intensity KPI and the target trajectory: a straight glide path from the baseline year.

The KPI is g CO2e WTW per tonne-km on the **route-independent** distance (great-circle
origin -> destination), so a detour can never improve it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import DataError, InputError
from greenlane.emissions.tables import TableRow, Text, Year, read_table


@dataclass(frozen=True, slots=True)
class Target:
    """A reduction target: ``reduction_share`` below the baseline by ``target_year``."""

    baseline_year: int
    baseline_intensity_g_per_tkm: float
    target_year: int
    reduction_share: float
    source: str = ""

    def intensity_g_per_tkm(self, year: int) -> float:
        """Target intensity for ``year`` on the straight glide path [g CO2e/tkm].

        Before the baseline year the baseline applies; after the target year the final value.
        """
        span = self.target_year - self.baseline_year
        progress = min(max((year - self.baseline_year) / span, 0.0), 1.0)
        return self.baseline_intensity_g_per_tkm * (1 - self.reduction_share * progress)

    def trajectory(self) -> list[tuple[int, float]]:
        """(year, target intensity) for every year from baseline to target."""
        return [
            (y, self.intensity_g_per_tkm(y))
            for y in range(self.baseline_year, self.target_year + 1)
        ]


class TargetRow(TableRow):
    """A row of ``targets.csv``: a reduction target and where it comes from."""

    baseline_year: Year
    baseline_intensity_g_per_tkm: float
    target_year: Year
    reduction_share: float
    source: Text
    note: str = ""


@cache
def default_target(path: Path | None = None) -> Target:
    """The company target from ``data/targets.csv`` (first row)."""
    table = path or DATA_DIR / "targets.csv"
    rows = read_table(table, TargetRow)
    if not rows:
        raise DataError("needs a row", file=table.name, line=2)
    row = rows[0]
    try:
        return make_target(
            row.baseline_year,
            row.baseline_intensity_g_per_tkm,
            row.target_year,
            row.reduction_share,
            row.source,
        )
    except InputError as exc:
        raise row.error(exc.field or "?", exc.message) from None


def make_target(
    baseline_year: int,
    baseline_intensity_g_per_tkm: float,
    target_year: int,
    reduction_share: float,
    source: str = "request",
) -> Target:
    """A validated target; fields named in errors."""
    if baseline_intensity_g_per_tkm <= 0:
        raise InputError("must be positive", field="baseline_intensity_g_per_tkm")
    if target_year <= baseline_year:
        raise InputError("must be after the baseline year", field="target_year")
    if not 0 < reduction_share < 1:
        raise InputError("must lie in (0, 1)", field="reduction_share")
    return Target(baseline_year, baseline_intensity_g_per_tkm, target_year, reduction_share, source)
