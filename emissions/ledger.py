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
from typing import Any, Protocol

from greenlane.emissions.errors import InputError
from greenlane.emissions.intensity import Target
from greenlane.emissions.model import Footprint
from greenlane.emissions.units import PCT, g_per_tkm_to_kg, intensity_g_per_tkm, kg_to_t, t_to_kg

GENESIS = "0" * 64
"""Hash standing before the first entry of a chain."""
ENTRY_KINDS = ("plan", "actual", "certificate", "baseline")
CERTIFICATE_KINDS = ("saf", "green_power", "carbon_credit")
CERTIFICATE_STATUSES = ("held", "assigned", "retired")
_MOVES = {("held", "assigned"), ("held", "retired"), ("assigned", "retired"), ("assigned", "held")}


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def entry_hash(
    prev_hash: str, seq: int, kind: str, payload: Mapping[str, Any], created_at: str
) -> str:
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
        raise InputError("this certificate is already retired (no double counting)", field="status")
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


# ----------------------------------------------------------------------------- recorded shipments

LANE_SEPARATOR = ">"
"""Joins origin and destination into a trade-lane key, e.g. ``F-NANJING>C-MADRID``."""
HUB_DIMENSION = "hub"
"""Mode and energy-carrier value of hub operations (they carry emissions but no tkm)."""
KPI_DIMENSIONS = ("mode", "lane", "carrier", "energy_carrier")
"""Breakdowns of the intensity KPI."""


def lane_key(origin: str, destination: str) -> str:
    """The trade lane (corridor) of a shipment: ``origin>destination`` (hub ids or refs)."""
    return f"{origin}{LANE_SEPARATOR}{destination}"


@dataclass(frozen=True, slots=True)
class LegShare:
    """One TCE of a recorded shipment with its share of the great-circle activity [tkm]."""

    tce_id: str
    kind: str
    mode: str
    energy_carrier: str
    carrier: str
    co2e_wtw_kg: float
    co2e_ttw_kg: float
    tkm: float
    tkm_gcd: float


def leg_shares(
    fp: Footprint,
    tkm_gcd: float,
    carriers: Sequence[str | None] = (),
    default_carrier: str | None = None,
) -> list[LegShare]:
    """Split a shipment's great-circle activity over its legs by their share of leg tkm.

    The KPI denominator is route-independent (mass x GCD origin -> destination); a
    breakdown by mode or carrier needs it per leg, so each leg gets ``tkm_gcd`` x its share
    of the chain's leg activity. Hubs keep their emissions and get no tkm. ``carriers`` are
    the operators per TCE (None: ``default_carrier``, else ``unknown``).
    """
    leg_tkm = sum(t.activity_tkm for t in fp.tces if t.kind == "leg")
    if leg_tkm <= 0:
        raise InputError("a recorded shipment needs at least one leg with activity", field="legs")
    out = []
    for i, t in enumerate(fp.tces):
        who = (carriers[i] if i < len(carriers) else None) or default_carrier or "unknown"
        is_leg = t.kind == "leg"
        out.append(
            LegShare(
                tce_id=t.tce_id,
                kind=t.kind,
                mode=str(t.mode) if is_leg and t.mode is not None else HUB_DIMENSION,
                energy_carrier=(t.energy_carrier or "unknown") if is_leg else HUB_DIMENSION,
                carrier=who,
                co2e_wtw_kg=t.co2e_wtw_kg,
                co2e_ttw_kg=t.co2e_ttw_kg,
                tkm=t.activity_tkm,
                tkm_gcd=tkm_gcd * t.activity_tkm / leg_tkm if is_leg else 0.0,
            )
        )
    return out


def intensity_of(records: Iterable[Record], year: int | None = None) -> tuple[float, float, float]:
    """(kg CO2e, tkm on GCD, g/tkm) of the records, optionally of one calendar year."""
    co2 = tkm = 0.0
    for r in records:
        if year is None or r.when.year == year:
            co2 += r.co2e_wtw_kg
            tkm += r.tkm_gcd
    return co2, tkm, intensity_g_per_tkm(co2, tkm)


# ----------------------------------------------------------------------------- certificates

CERTIFICATE_UNITS: Mapping[str, tuple[str, ...]] = {
    "saf": ("t", "tCO2e"),
    "green_power": ("MWh",),
    "carbon_credit": ("tCO2e",),
}
"""Units a certificate of each kind is issued in: SAF book-and-claim in tonnes of SAF or
tonnes of CO2e reduction, green power (I-REC, GEC) in MWh, carbon credits in tCO2e."""


def check_certificate(kind: str, volume: float, unit: str, vintage: int) -> None:
    """Validate a certificate's kind, volume, unit and vintage (fields named in errors)."""
    if kind not in CERTIFICATE_KINDS:
        raise InputError(f"must be one of {', '.join(CERTIFICATE_KINDS)}", field="kind")
    if not volume > 0:
        raise InputError("must be > 0", field="volume")
    if unit not in CERTIFICATE_UNITS[kind]:
        raise InputError(
            f"a {kind} certificate is in {' or '.join(CERTIFICATE_UNITS[kind])}", field="unit"
        )
    if not 2000 <= vintage <= 2100:
        raise InputError("must be a year between 2000 and 2100", field="vintage")


class CertificateHolding(Protocol):
    """What the credit rule reads of a certificate: kind, status and volume (in its unit)."""

    kind: str
    status: str
    volume: float


def retired_credits_kg(certificates: Iterable[CertificateHolding]) -> float:
    """Retired carbon credits among ``certificates`` [kg CO2e]; credits are issued in tCO2e.

    Book-and-claim certificates (SAF, green power) and held or assigned credits count 0.
    """
    return t_to_kg(
        sum(c.volume for c in certificates if c.kind == "carbon_credit" and c.status == "retired")
    )


def change_pct(actual: float, planned: float) -> float | None:
    """``actual`` relative to ``planned`` [%]; None when nothing was planned."""
    return PCT * (actual - planned) / planned if planned else None


@dataclass(frozen=True, slots=True)
class NeutralityCheck:
    """Whether a lane may be called carbon neutral for a period (ISO 14068-1 style).

    All figures are gross [kg CO2e]: ``co2e_wtw_kg`` is what the lane emitted (WTW, nothing
    subtracted); ``reductions_kg`` what the same activity would have emitted at the baseline
    intensity minus what it did emit; ``credits_retired_kg`` the retired carbon credits
    assigned to the lane or its shipments. Book-and-claim certificates (SAF, green power) are
    shown beside the figures elsewhere and count neither as reductions nor as credits here.
    """

    lane: str
    period: str
    co2e_wtw_kg: float
    tkm_gcd: float
    baseline_intensity_g_per_tkm: float
    baseline_co2e_kg: float
    reductions_kg: float
    credits_retired_kg: float
    holds: bool
    reasons: tuple[str, ...]

    @property
    def intensity_g_per_tkm(self) -> float:
        """The lane's intensity over the period [g CO2e/tkm on GCD]."""
        return intensity_g_per_tkm(self.co2e_wtw_kg, self.tkm_gcd)

    @property
    def uncovered_kg(self) -> float:
        """Emissions not covered by retired credits [kg CO2e]."""
        return max(0.0, self.co2e_wtw_kg - self.credits_retired_kg)


def neutrality_check(
    lane: str,
    period: str,
    co2e_wtw_kg: float,
    tkm_gcd: float,
    baseline_intensity_g_per_tkm: float,
    credits_retired_kg: float,
) -> NeutralityCheck:
    """The carbon-neutral claim holds only if the report can show all three of: recorded
    emissions, reductions made against the baseline, and retired credits covering the
    emissions that remain (which, never netted, are all of ``co2e_wtw_kg``)."""
    baseline_kg = g_per_tkm_to_kg(baseline_intensity_g_per_tkm, tkm_gcd)
    reductions = baseline_kg - co2e_wtw_kg
    reasons = []
    if tkm_gcd <= 0 or co2e_wtw_kg <= 0:
        reasons.append("no recorded emissions for this lane in the period")
    if reductions <= 0:
        reasons.append(
            f"no reductions made: {intensity_g_per_tkm(co2e_wtw_kg, tkm_gcd):.2f} g/tkm is not "
            f"below the baseline {baseline_intensity_g_per_tkm:.2f} g/tkm"
        )
    if credits_retired_kg + 1e-9 < co2e_wtw_kg:
        reasons.append(
            f"retired credits {credits_retired_kg:,.1f} kg do not cover the remaining "
            f"{co2e_wtw_kg:,.1f} kg CO2e"
        )
    return NeutralityCheck(
        lane,
        period,
        co2e_wtw_kg,
        tkm_gcd,
        baseline_intensity_g_per_tkm,
        baseline_kg,
        reductions,
        credits_retired_kg,
        not reasons,
        tuple(reasons),
    )


def neutrality_statement(check: NeutralityCheck, baseline_year: int) -> str | None:
    """The carbon-neutral claim in words (tonnes CO2e), or None when it does not hold."""
    if not check.holds:
        return None
    return (
        f"Lane {check.lane} is carbon neutral for {check.period}: it emitted "
        f"{kg_to_t(check.co2e_wtw_kg):,.3f} t CO2e WTW (gross), "
        f"{kg_to_t(check.reductions_kg):,.3f} t below the {baseline_year} "
        f"baseline intensity, and {kg_to_t(check.credits_retired_kg):,.3f} t of retired "
        "carbon credits cover the remaining emissions."
    )
