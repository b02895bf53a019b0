"""The baseline and target, the intensity KPI with the year's standing, and the lane claim
(emissions, reductions, retired credits, the carbon-neutral statement when it holds).

The arithmetic is ``greenlane.emissions.ledger``'s; this module reads the rows and shapes
the answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from greenlane.emissions.errors import InputError
from greenlane.emissions.ledger import (
    KPI_DIMENSIONS,
    Entry,
    intensity_of,
    kpi,
    lane_key,
    neutrality_check,
    neutrality_statement,
    period_key,
    retired_credits_kg,
    standing,
)
from greenlane.webapp.db import as_utc, utcnow
from greenlane.webapp.ledger.actuals import actual_entry_seqs, latest_actuals, records, rounded
from greenlane.webapp.ledger.certificates import (
    certificate_json,
    certificate_seqs,
    certificates_for,
    pdf_certificates,
)
from greenlane.webapp.ledger.chain import append_entry, head, iso_utc, seqs_label
from greenlane.webapp.tables import actual_shipments, baseline_settings, ledger_entries


def report_context(
    conn: Connection, plan_id: str, result: Mapping[str, Any], shipment_ids: Iterable[str]
) -> tuple[list[dict[str, Any]], str]:
    """For a plan report: certificates of its shipments and their trade lanes (beside the
    emissions), and ``plan_id`` labelled with the ledger entries behind the report."""
    wanted = set(shipment_ids)
    trade = {
        lane_key(s["origin"], s["destination"])
        for s in result.get("shipments", [])
        if s["shipment_id"] in wanted
    }
    certs = certificates_for(conn, wanted, trade)
    seqs = [
        int(r.seq)
        for r in conn.execute(
            select(ledger_entries.c.seq).where(ledger_entries.c.ref == f"plan:{plan_id}")
        )
    ]
    seqs += [s for v in certificate_seqs(conn, [c.id for c in certs]).values() for s in v]
    label = f"{plan_id}; ledger entries {seqs_label(seqs)}" if seqs else plan_id
    return pdf_certificates(certs), label


# ----------------------------------------------------------------------------- baseline


def current_baseline(conn: Connection) -> dict[str, Any]:
    """The baseline and target in force: the newest setting, else ``data/targets.csv``."""
    from greenlane.emissions.intensity import default_target

    row = conn.execute(
        select(baseline_settings).order_by(baseline_settings.c.id.desc()).limit(1)
    ).first()
    if row is None:
        t = default_target()
        return {
            "baseline_year": t.baseline_year,
            "baseline_intensity_g_per_tkm": t.baseline_intensity_g_per_tkm,
            "target_year": t.target_year,
            "reduction_share": t.reduction_share,
            "method": "default",
            "source": t.source,
            "set_at": None,
            "entry": None,
        }
    seq = conn.execute(
        select(ledger_entries.c.seq).where(ledger_entries.c.ref == f"baseline:{row.id}")
    ).scalar()
    return {
        "baseline_year": row.baseline_year,
        "baseline_intensity_g_per_tkm": row.baseline_intensity_g_per_tkm,
        "target_year": row.target_year,
        "reduction_share": row.reduction_share,
        "method": row.method,
        "source": row.source,
        "set_at": iso_utc(row.created_at),
        "entry": seq,
    }


def target_of(baseline: Mapping[str, Any]) -> Any:
    """The ``emissions.intensity.Target`` of a baseline dict."""
    from greenlane.emissions.intensity import make_target

    return make_target(
        int(baseline["baseline_year"]),
        float(baseline["baseline_intensity_g_per_tkm"]),
        int(baseline["target_year"]),
        float(baseline["reduction_share"]),
        str(baseline["source"]),
    )


def set_baseline(
    conn: Connection,
    *,
    baseline_year: int,
    intensity_g_per_tkm: float | None,
    target_year: int,
    reduction_share: float,
    source: str,
    created_by: int | None = None,
) -> Entry:
    """Record a baseline: stated (``intensity_g_per_tkm``) or computed from the year's actuals."""
    from greenlane.emissions.intensity import make_target

    method = "set"
    if intensity_g_per_tkm is None:
        co2, tkm, value = intensity_of(records(conn), baseline_year)
        if tkm <= 0:
            raise InputError(
                f"no recorded actuals in {baseline_year}: import that year's "
                "history or state the intensity",
                field="intensity_g_per_tkm",
            )
        intensity_g_per_tkm, method = value, "history"
        source = source or (
            f"recorded actuals {baseline_year}: {co2:,.1f} kg CO2e WTW over {tkm:,.1f} tkm (GCD)"
        )
    make_target(baseline_year, intensity_g_per_tkm, target_year, reduction_share)
    result = conn.execute(
        baseline_settings.insert().values(
            baseline_year=baseline_year,
            baseline_intensity_g_per_tkm=intensity_g_per_tkm,
            target_year=target_year,
            reduction_share=reduction_share,
            method=method,
            source=source or "stated",
            created_at=utcnow(),
            created_by=created_by,
        )
    )
    bid = int(result.inserted_primary_key[0])  # type: ignore[index]
    payload = {
        "event": "set",
        "baseline_id": bid,
        "baseline_year": baseline_year,
        "baseline_intensity_g_per_tkm": intensity_g_per_tkm,
        "target_year": target_year,
        "reduction_share": reduction_share,
        "method": method,
        "source": source or "stated",
    }
    return append_entry(conn, "baseline", f"baseline:{bid}", payload)


# ----------------------------------------------------------------------------- KPI


def kpi_report(
    conn: Connection,
    period: str = "year",
    by: str | None = None,
    year: int | None = None,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Intensity rows by period (and dimension), the baseline, the glide path and the
    year's standing with its year-end projection."""
    if by is not None and by not in KPI_DIMENSIONS:
        raise InputError(f"must be one of {', '.join(KPI_DIMENSIONS)}", field="by")
    period_key(date(2000, 1, 1), period)  # validates ``period``
    recs = records(conn)
    baseline = current_baseline(conn)
    target = target_of(baseline)
    today = utcnow().date()
    years = sorted({r.when.year for r in recs})
    focus = year or (max(years) if years else today.year)
    as_of = as_of or min(today, date(focus, 12, 31))
    shown = [r for r in recs if year is None or r.when.year == year]
    rows = [
        {
            "period": k.period,
            "dimension": k.dimension,
            "value": k.value,
            "co2e_wtw_kg": rounded(k.co2e_wtw_kg),
            "tkm_gcd": rounded(k.tkm_gcd),
            "intensity_g_per_tkm": rounded(k.intensity_g_per_tkm),
            "target_g_per_tkm": rounded(target.intensity_g_per_tkm(int(k.period[:4]))),
        }
        for k in kpi(shown, period, by)
    ]
    s = standing(recs, target, focus, as_of)
    # No actual in the year to date: no standing (not "on track" on nothing).
    measured = any(r.tkm_gcd > 0 and r.when.year == s.year and r.when <= as_of for r in recs)
    by_year = []
    for y in years:
        co2, tkm, value = intensity_of(recs, y)
        by_year.append(
            {
                "year": y,
                "co2e_wtw_kg": rounded(co2),
                "tkm_gcd": rounded(tkm),
                "intensity_g_per_tkm": rounded(value),
                "target_g_per_tkm": rounded(target.intensity_g_per_tkm(y)),
            }
        )
    last = head(conn)
    return {
        "period": period,
        "by": by or "network",
        "year": year,
        "rows": rows,
        "baseline": baseline,
        "trajectory": [{"year": y, "target_g_per_tkm": rounded(v)} for y, v in target.trajectory()],
        "by_year": by_year,
        "standing": {
            "year": s.year,
            "as_of": as_of.isoformat(),
            "to_date_g_per_tkm": rounded(s.to_date_g_per_tkm),
            "projected_g_per_tkm": rounded(s.projected_g_per_tkm),
            "target_g_per_tkm": rounded(s.target_g_per_tkm),
            "on_track": s.on_track if measured else None,
            "gap_g_per_tkm": (
                rounded(s.projected_g_per_tkm - s.target_g_per_tkm) if measured else None
            ),
        },
        "shipments": len({r.dims["shipment_id"] for r in shown}),
        "factor_data_sha256": sorted({r.data_sha256 for r in latest_actuals(conn)}),
        "ledger_head": {"seq": last.seq, "hash": last.hash} if last else None,
        "basis": "g CO2e WTW per tonne-km on the great-circle distance origin -> destination",
    }


# ----------------------------------------------------------------------------- lanes


def lane_claim(conn: Connection, lane: str, year: int) -> dict[str, Any]:
    """The lane's report for a year: emissions, reductions vs baseline, retired credits,
    book-and-claim certificates beside them, and whether "carbon neutral" may be said."""
    rows = [r for r in latest_actuals(conn, lane=lane) if as_utc(r.completed_at).year == year]  # type: ignore[union-attr]
    co2 = sum(r.co2e_wtw_kg for r in rows)
    ttw = sum(r.co2e_ttw_kg for r in rows)
    tkm = sum(r.tkm_gcd for r in rows)
    ship_ids = [r.shipment_id for r in rows]
    certs = [
        c
        for c in certificates_for(conn, ship_ids, [lane])
        if c.assigned_kind == "shipment" or c.claim_year in (None, year)
    ]
    credits_kg = retired_credits_kg(certs)
    baseline = current_baseline(conn)
    check = neutrality_check(
        lane, str(year), co2, tkm, float(baseline["baseline_intensity_g_per_tkm"]), credits_kg
    )
    actual_seqs = actual_entry_seqs(conn, [r.id for r in rows])
    cert_seqs = certificate_seqs(conn, [c.id for c in certs])
    seqs = sorted({*actual_seqs.values(), *(s for v in cert_seqs.values() for s in v)})
    statement = neutrality_statement(check, int(baseline["baseline_year"]))
    return {
        "lane": lane,
        "year": year,
        "shipments": ship_ids,
        "emissions": {
            "co2e_wtw_kg": rounded(co2),
            "co2e_ttw_kg": rounded(ttw),
            "co2e_wtt_kg": rounded(co2 - ttw),
            "tkm_gcd": rounded(tkm),
            "intensity_g_per_tkm": rounded(check.intensity_g_per_tkm),
        },
        "reductions": {
            "baseline_year": baseline["baseline_year"],
            "baseline_intensity_g_per_tkm": check.baseline_intensity_g_per_tkm,
            "baseline_co2e_kg": rounded(check.baseline_co2e_kg),
            "reductions_kg": rounded(check.reductions_kg),
        },
        "credits": {"retired_kg": rounded(credits_kg), "uncovered_kg": rounded(check.uncovered_kg)},
        "certificates": [certificate_json(c, cert_seqs.get(c.id, ())) for c in certs],
        "claim": {
            "carbon_neutral": check.holds,
            "statement": statement,
            "reasons": list(check.reasons),
        },
        "entries": seqs,
        "data_sha256": sorted({r.data_sha256 for r in rows}),
        "note": "emissions are gross: certificates and credits are listed beside them and "
        "never subtracted (ISO 14083 §5.2.7)",
        "_actual_ids": [r.id for r in rows],
    }


def lanes(conn: Connection) -> list[str]:
    """Trade lanes with recorded actuals."""
    return sorted({r.lane for r in conn.execute(select(actual_shipments.c.lane).distinct())})
