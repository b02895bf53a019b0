"""The ledger's audit check: the hash chain, every recorded row against its entry, and the
database triggers that keep entries append-only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from greenlane.emissions.ledger import Entry, verify_chain
from greenlane.webapp.db import utcnow
from greenlane.webapp.ledger.actuals import actual_digest
from greenlane.webapp.ledger.certificates import AUDITED_KEYS
from greenlane.webapp.ledger.chain import entries, plan_digest
from greenlane.webapp.tables import (
    actual_shipments,
    baseline_settings,
    certificate_retirements,
    certificates,
)

# ----------------------------------------------------------------------------- verify


GUARDS: Mapping[str, tuple[str, ...]] = {
    "sqlite": (
        "ledger_entries_no_update",
        "ledger_entries_no_delete",
        "certificate_retirements_no_update",
        "certificate_retirements_no_delete",
        "certificates_retired_final",
    ),
    "postgresql": (
        "ledger_entries_append_only",
        "ledger_entries_no_truncate",
        "certificate_retirements_append_only",
        "certificate_retirements_no_truncate",
        "certificates_retired_final",
    ),
}
"""Triggers migration 0002 creates; :func:`verify` reports any that is missing."""


def _triggers(conn: Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        return {
            r[0]
            for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        }
    if conn.dialect.name == "postgresql":
        names: set[str] = set()
        for table in ("ledger_entries", "certificate_retirements", "certificates"):
            names |= {
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
                        "AND NOT tgisinternal"
                    ),
                    {"t": table},
                )
            }
        return names
    return set()


def _cmp(
    problems: list[str],
    what: str,
    row: Mapping[str, Any],
    expected: Mapping[str, Any],
    keys: Sequence[str],
) -> None:
    for k in keys:
        if row.get(k) != expected.get(k):
            problems.append(
                f"{what}: {k} is {row.get(k)!r} but the ledger says {expected.get(k)!r} (edited)"
            )


def verify(conn: Connection) -> dict[str, Any]:
    """Check the chain and every recorded row against it; ``problems`` is empty when intact."""
    from greenlane.webapp.tables import plans

    pairs = entries(conn)
    chain = [e for _, e in pairs]
    problems = verify_chain(chain)
    refs = {e.seq: ref for ref, e in pairs}
    by_ref: dict[str, list[Entry]] = {}
    for e in chain:
        by_ref.setdefault(refs[e.seq], []).append(e)

    # actual shipments: every row has an entry, every entry a row, digests agree
    ids = {r.id for r in conn.execute(select(actual_shipments.c.id))}
    for ref, es in by_ref.items():
        if not ref.startswith("actual:"):
            continue
        aid = ref.split(":", 1)[1]
        digest = actual_digest(conn, aid)
        if digest is None:
            problems.append(f"actual {aid} (entry {es[0].seq}) is missing (deleted)")
        elif digest != es[0].payload.get("row_sha256"):
            problems.append(f"actual {aid} differs from entry {es[0].seq} (edited)")
    for aid in sorted(ids - {r.split(":", 1)[1] for r in by_ref if r.startswith("actual:")}):
        problems.append(f"actual {aid} has no ledger entry (written around the ledger)")

    # certificates: replay the moves and compare with the rows
    state: dict[str, dict[str, Any]] = {}
    retired_in_ledger: set[str] = set()
    for e in chain:
        if e.kind == "certificate":
            cid = str(e.payload.get("certificate_id"))
            state[cid] = dict(e.payload)
            if e.payload.get("event") == "retired":
                retired_in_ledger.add(cid)
    rows = {r.id: r._mapping for r in conn.execute(select(certificates))}
    for cid, expected in state.items():
        row = rows.get(cid)
        if row is None:
            problems.append(f"certificate {cid} is missing (deleted)")
            continue
        _cmp(problems, f"certificate {cid}", dict(row), expected, AUDITED_KEYS)
    for cid in sorted(set(rows) - set(state)):
        problems.append(f"certificate {cid} has no ledger entry (written around the ledger)")
    retirements = {
        r.certificate_id for r in conn.execute(select(certificate_retirements.c.certificate_id))
    }
    for cid in sorted(retired_in_ledger - retirements):
        problems.append(f"certificate {cid}: its retirement row is missing (deleted)")
    for cid in sorted(retirements - retired_in_ledger):
        problems.append(f"certificate {cid}: retired without a ledger entry")

    # baselines
    brow = {f"baseline:{r.id}": r._mapping for r in conn.execute(select(baseline_settings))}
    for ref, es in by_ref.items():
        if not ref.startswith("baseline:"):
            continue
        row = brow.get(ref)
        if row is None:
            problems.append(f"{ref} (entry {es[0].seq}) is missing (deleted)")
            continue
        _cmp(
            problems,
            ref,
            dict(row),
            es[0].payload,
            (
                "baseline_year",
                "baseline_intensity_g_per_tkm",
                "target_year",
                "reduction_share",
                "method",
            ),
        )
    for ref in sorted(set(brow) - set(by_ref)):
        problems.append(f"{ref} has no ledger entry (written around the ledger)")

    # accepted plans
    accepted = {r.id: r for r in conn.execute(select(plans).where(plans.c.state == "accepted"))}
    for ref, es in by_ref.items():
        if not ref.startswith("plan:"):
            continue
        pid = ref.split(":", 1)[1]
        prow = accepted.get(pid)
        if prow is None:
            problems.append(f"plan {pid} (entry {es[0].seq}) is missing or no longer accepted")
        elif plan_digest(prow) != es[-1].payload.get("plan_sha256"):
            problems.append(f"plan {pid} differs from entry {es[-1].seq} (edited)")
    for pid in sorted(
        set(accepted) - {r.split(":", 1)[1] for r in by_ref if r.startswith("plan:")}
    ):
        problems.append(f"plan {pid} is accepted without a ledger entry")

    missing = sorted(set(GUARDS.get(conn.dialect.name, ())) - _triggers(conn))
    if missing:
        problems.append(
            f"the database does not guard the ledger (triggers missing: "
            f"{', '.join(missing)}); rows can be changed unnoticed until verified"
        )
    last = chain[-1] if chain else None
    return {
        "intact": not problems,
        "problems": problems,
        "entries": len(chain),
        "head": {"seq": last.seq, "hash": last.hash} if last else None,
        "checked_at": utcnow().isoformat(),
    }
