"""Transit-time risk: each leg's time varies with a coefficient of variation by mode.

Leg times are taken as independent normal variables (mean = the lane's transit time, spread =
cv x mean, cv from ``data/transit_variability.csv``), so a path's arrival spread is the root
sum of squares. Waiting for the next departure after a late arrival is not modelled. The
on-time probability is P(arrival <= due) under that normal approximation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from statistics import NormalDist
from typing import Annotated

from pydantic import Field

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import InputError
from greenlane.emissions.model import Mode
from greenlane.emissions.tables import TableRow, Text, read_table


class TransitVariabilityRow(TableRow):
    """A row of ``transit_variability.csv``: the coefficient of variation of a mode [-]."""

    mode: Mode
    cv: Annotated[float, Field(ge=0.0)]
    data_quality: str
    source: Text
    note: str = ""


@cache
def transit_cv(data_dir: Path = DATA_DIR) -> dict[Mode, float]:
    """Coefficient of variation of leg transit time by mode [-]."""
    rows = read_table(data_dir / "transit_variability.csv", TransitVariabilityRow)
    return {row.mode: row.cv for row in rows}


def arrival_sd_h(legs: Iterable[tuple[Mode, float]], data_dir: Path = DATA_DIR) -> float:
    """Standard deviation of a path's arrival [h] from (mode, transit_h) per leg, with the
    variability of ``transit_variability.csv`` in ``data_dir``."""
    cv = transit_cv(data_dir)
    return math.sqrt(sum((cv[mode] * hours) ** 2 for mode, hours in legs))


def on_time_probability(slack_h: float, sd_h: float) -> float:
    """P(arrival <= due) for a mean arrival ``slack_h`` before the due date [-]."""
    if sd_h <= 0:
        return 1.0 if slack_h >= 0 else 0.0
    return NormalDist().cdf(slack_h / sd_h)


def required_margin_h(probability: float, sd_h: float) -> float:
    """Hours the mean arrival must precede the due date to be on time with ``probability``."""
    if not 0 < probability < 1:
        raise InputError("must lie in (0, 1)", field="on_time_probability")
    return NormalDist().inv_cdf(probability) * sd_h
