"""The carbon ledger's pure core: hash-chained entries, certificates, intensity KPIs.

Storage lives in the web layer; this module decides what an entry's hash is, whether a chain is
intact, which certificate moves are allowed, and how recorded shipments aggregate into the
intensity KPI (g CO2e WTW per tonne-km on the great-circle distance) by period and dimension.
Certificates are shown beside emissions and never subtracted from them (ISO 14083 §5.2.7).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from emissions.errors import InputError
from emissions.intensity import Target
from emissions.units import intensity_g_per_tkm

GENESIS = "0" * 64
"""Hash standing before the first entry of a chain."""
ENTRY_KINDS = ("plan", "actual", "certificate", "baseline")
CERTIFICATE_KINDS = ("saf", "green_power", "carbon_credit")
CERTIFICATE_STATUSES = ("held", "assigned", "retired")
_MOVES = {("held", "assigned"), ("held", "retired"), ("assigned", "retired"),
          ("assigned", "held")}


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def entry_hash(prev_hash: str, seq: int, kind: str, payload: Mapping[str, Any],
               created_at: str) -> str:
    """sha256 of an entry bound to the one before it (hex)."""
    if kind not in ENTRY_KINDS:
        raise InputError(f"unknown entry kind {kind!r}", field="kind")
    text = "\n".join((prev_hash, str(seq), kind, created_at, canonical_json(payload)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry as stored: position, kind, payload, time and the two hashes."""

    seq: int
    kind: str
    payload: Mapping[str, Any]
    created_at: str
    prev_hash: str
    hash: str


def verify_chain(entries: Sequence[Entry]) -> list[str]:
    """Problems found in a chain (empty when intact): edits, deletions, reordering."""
    problems = []
    prev = GENESIS
    for expected_seq, e in enumerate(sorted(entries, key=lambda x: x.seq), start=1):
        if e.seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing (next present is {e.seq})")
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq}: prev_hash does not match the entry before")
        again = entry_hash(e.prev_hash, e.seq, e.kind, e.payload, e.created_at)
        if again != e.hash:
            problems.append(f"entry {e.seq}: content does not match its hash (edited)")
        prev = e.hash
    return problems


def check_certificate_move(current: str | None, new: str) -> None:
    """Allow held -> assigned/retired, assigned -> retired/held; nothing after retired."""
    if new not in CERTIFICATE_STATUSES:
        raise InputError(f"unknown status {new!r}", field="status")
    if current is None:
        if new != "held":
            raise InputError("a new certificate starts as 'held'", field="status")
        return
    if current == "retired":
        raise InputError("this certificate is already retired (no double counting)",
                         field="status")
    if (current, new) not in _MOVES:
        raise InputError(f"cannot move a certificate from {current} to {new}", field="status")


@dataclass(frozen=True, slots=True)
class Record:
    """A recorded shipment's activity and emissions for the KPI [kg CO2e, tkm on GCD].

    ``dims`` holds the breakdown keys (mode, lane, carrier, energy_carrier) for one leg or the
    whole shipment; ``tkm_gcd`` is the route-independent activity share of that record.
    """

    when: date
    co2e_wtw_kg: float
    tkm_gcd: float
    dims: Mapping[str, str]


def period_key(when: date | datetime, period: str) -> str:
    """``2026-03`` (month), ``2026-Q1`` (quarter) or ``2026`` (year)."""
    if period == "month":
        return f"{when.year}-{when.month:02d}"
    if period == "quarter":
        return f"{when.year}-Q{(when.month - 1) // 3 + 1}"
    if period == "year":
        return str(when.year)
    raise InputError("must be month, quarter or year", field="period")


@dataclass(frozen=True, slots=True)
class KpiRow:
    """Intensity of one (period, dimension value) cell [g CO2e/tkm]."""

    period: str
    dimension: str
    value: str
    co2e_wtw_kg: float
    tkm_gcd: float

    @property
    def intensity_g_per_tkm(self) -> float:
        """WTW intensity on great-circle tkm [g/tkm]."""
        return intensity_g_per_tkm(self.co2e_wtw_kg, self.tkm_gcd)


def kpi(records: Iterable[Record], period: str = "year", by: str | None = None) -> list[KpiRow]:
    """Aggregate records into intensity rows by period and, optionally, one dimension."""
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in records:
        value = "all" if by is None else r.dims.get(by, "unknown")
        cell = sums[(period_key(r.when, period), value)]
        cell[0] += r.co2e_wtw_kg
        cell[1] += r.tkm_gcd
    return [KpiRow(p, by or "network", v, c, t) for (p, v), (c, t) in sorted(sums.items())]


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a year stands against the glide path, and the year-end projection [g/tkm]."""

    year: int
    target_g_per_tkm: float
    to_date_g_per_tkm: float
    projected_g_per_tkm: float
    on_track: bool


def standing(records: Sequence[Record], target: Target, year: int, as_of: date) -> Standing:
    """Year-to-date intensity, a year-end projection and the gap to the glide path.

    The projection extends the year-to-date activity and emissions linearly over the year's
    remaining days at the trailing 90-day intensity (the latest fleet mix), which is why it can
    differ from the year-to-date figure.
    """
    ytd = [r for r in records if r.when.year == year and r.when <= as_of]
    co2, tkm = sum(r.co2e_wtw_kg for r in ytd), sum(r.tkm_gcd for r in ytd)
    recent = [r for r in ytd if (as_of - r.when).days < 90]
    r_co2, r_tkm = sum(r.co2e_wtw_kg for r in recent), sum(r.tkm_gcd for r in recent)
    day_of_year = as_of.timetuple().tm_yday
    days_in_year = date(year, 12, 31).timetuple().tm_yday
    rest_tkm = tkm / max(day_of_year, 1) * (days_in_year - day_of_year)
    rest_co2 = rest_tkm * (r_co2 / r_tkm if r_tkm else (co2 / tkm if tkm else 0.0))
    projected = intensity_g_per_tkm(co2 + rest_co2, tkm + rest_tkm)
    goal = target.intensity_g_per_tkm(year)
    return Standing(year, goal, intensity_g_per_tkm(co2, tkm), projected, projected <= goal)
