"""Transit-time risk: each leg's time varies with a coefficient of variation by mode.

Leg times are taken as independent normal variables (mean = the lane's transit time, spread =
cv x mean, cv from ``data/transit_variability.csv``), so a path's arrival spread is the root
sum of squares. Waiting for the next departure after a late arrival is not modelled. The
on-time probability is P(arrival <= due) under that normal approximation.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from statistics import NormalDist

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import DataError, InputError
from greenlane.emissions.model import Mode


@cache
def transit_cv(data_dir: Path = DATA_DIR) -> dict[Mode, float]:
    """Coefficient of variation of leg transit time by mode [-]."""
    out = {}
    with open(data_dir / "transit_variability.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if not row.get("source"):
                raise DataError("every row needs a source", field="transit_variability.csv")
            out[Mode(row["mode"])] = float(row["cv"])
    return out


def arrival_sd_h(legs: Iterable[tuple[Mode, float]]) -> float:
    """Standard deviation of a path's arrival [h] from (mode, transit_h) per leg."""
    cv = transit_cv()
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
