"""The ProductFootprints a partner may see, and the ``$filter`` subset of PACT v2.

Every plan or shipment shared with the partner (``shares``) yields one PACT v2
ProductFootprint per planned shipment, rendered by ``emissions.report.pact`` from the
footprints stored with the plan, with the iLEAP ShipmentFootprint as its data model
extension. The id is the one of the plan's ``report.ileap.json`` (uuid5 of plan and
shipment), ``created`` the plan's creation time. The list is ordered by ``created``, then id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from greenlane.emissions.errors import InputError
from greenlane.emissions.report.pact import to_pact_product_footprint
from greenlane.webapp import store
from greenlane.webapp.db import as_utc, reading
from greenlane.webapp.reports import _NAMESPACE
from greenlane.webapp.tables import plans


def pf_id(plan_id: str, shipment_id: str) -> str:
    """The ProductFootprint id of a shipment of a plan (stable)."""
    return str(uuid.uuid5(_NAMESPACE, f"{plan_id}/{shipment_id}"))


def visible_footprints(partner_id: str) -> list[dict[str, Any]]:
    """Every ProductFootprint shared with ``partner_id``, oldest first."""
    config = current_app.config
    with reading() as conn:
        plan_ids = list(dict.fromkeys(r.plan_id for r in store.partner_shares(conn, partner_id)))
        out: list[dict[str, Any]] = []
        for plan_id in plan_ids:
            visible = store.visible_shipments(conn, plan_id, partner_id)
            row = conn.execute(
                select(plans.c.id, plans.c.created_at, plans.c.footprints).where(
                    plans.c.id == plan_id
                )
            ).first()
            if row is None:
                continue
            created = as_utc(row.created_at)
            for fp in store.footprints_from_json(row.footprints):
                if visible is not None and fp.shipment_id not in visible:
                    continue
                try:
                    doc = to_pact_product_footprint(
                        fp,
                        company_name=config["COMPANY_NAME"],
                        company_ids=[config["COMPANY_ID"]],
                        pf_id=pf_id(row.id, fp.shipment_id),
                        created=created,  # type: ignore[arg-type]
                    )
                except InputError as exc:  # e.g. no transport activity: not a PACT footprint
                    current_app.logger.warning(
                        "PACT: shipment %s of plan %s not exported: %s",
                        fp.shipment_id,
                        row.id,
                        exc,
                    )
                    continue
                out.append(doc)
    out.sort(key=lambda d: (d["created"], d["id"]))
    return out


def visible_tads(partner_id: str) -> list[dict[str, Any]]:
    """iLEAP Transport Activity Data of every leg shared with ``partner_id`` (legs without
    located end points or times have none); ``activityId`` is ``<plan id>/<TCE id>``."""
    from greenlane.emissions.report.ileap import to_ileap_tad

    out: list[dict[str, Any]] = []
    with reading() as conn:
        plan_ids = list(dict.fromkeys(r.plan_id for r in store.partner_shares(conn, partner_id)))
        for plan_id in plan_ids:
            visible = store.visible_shipments(conn, plan_id, partner_id)
            row = conn.execute(
                select(plans.c.id, plans.c.footprints).where(plans.c.id == plan_id)
            ).first()
            if row is None:
                continue
            for fp in store.footprints_from_json(row.footprints):
                if visible is not None and fp.shipment_id not in visible:
                    continue
                for tce in fp.tces:
                    tad = to_ileap_tad(tce, f"{row.id}/{tce.tce_id}")
                    if tad is not None:
                        out.append(tad)
    return out


# ----------------------------------------------------------------------------- $filter


class FilterError(Exception):
    """A ``$filter`` greenlane cannot evaluate; ``code`` is the PACT error code."""

    def __init__(self, message: str, code: str = "BadRequest") -> None:
        super().__init__(message)
        self.code = code


_STR = r"'((?:[^']|'')*)'"
_PATH = r"([A-Za-z][A-Za-z0-9]*(?:/[A-Za-z][A-Za-z0-9]*)*)"
_CMP = re.compile(rf"^{_PATH}\s+(eq|ne|gt|ge|lt|le)\s+{_STR}$")
_ANY = re.compile(
    rf"^{_PATH}/any\(\s*([A-Za-z]\w*)\s*:\s*\(?\s*"
    rf"([A-Za-z]\w*)\s+eq\s+{_STR}\s*\)?\s*\)$"
)
_AND = re.compile(r"\s+and\s+")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


@dataclass(frozen=True, slots=True)
class _Clause:
    path: tuple[str, ...]
    op: str
    value: str
    any_of: bool


def _lookup(doc: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def _as_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or "T" not in text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else None


def _split_and(text: str) -> list[str]:
    """Split on `` and `` outside quotes and parentheses."""
    parts: list[str] = []
    depth, start, i, quoted = 0, 0, 0, False
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch in "()":
            depth += 1 if ch == "(" else -1
        elif not quoted and depth == 0:
            m = _AND.match(text, i)
            if m is not None:
                parts.append(text[start:i])
                start = i = m.end()
                continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_filter(text: str) -> list[_Clause]:
    """Clauses of a ``$filter``: ``path op 'value'`` and ``coll/any(x:(x eq 'v'))``
    joined by ``and`` (the subset PACT v2 names); anything else is a FilterError."""
    if len(text) > 2000:
        raise FilterError("$filter is longer than 2000 characters")
    clauses = []
    for part in _split_and(text.strip()):
        m = _CMP.match(part)
        if m:
            path, op, value = m.groups()
            clauses.append(_Clause(tuple(path.split("/")), op, value.replace("''", "'"), False))
            continue
        m = _ANY.match(part)
        if m:
            path, var, var2, value = m.groups()
            if var != var2:
                raise FilterError(f"$filter: lambda variable {var2!r} is not {var!r}")
            clauses.append(_Clause(tuple(path.split("/")), "eq", value.replace("''", "'"), True))
            continue
        raise FilterError(
            f"$filter expression not supported: {part!r} (supported: <field> eq|ne|gt|ge|lt|le "
            "'<value>', <list>/any(x:(x eq '<value>')), joined by 'and')",
            code="NotImplemented",
        )
    return clauses


def _matches(doc: dict[str, Any], clause: _Clause) -> bool:
    found = _lookup(doc, clause.path)
    if clause.any_of:
        return isinstance(found, list) and clause.value in found
    if found is None or isinstance(found, dict | list):
        return False
    left: Any = found
    right: Any = clause.value
    lt, rt = _as_time(left), _as_time(right)
    if lt is not None and rt is not None:
        left, right = lt, rt
    elif isinstance(found, bool):
        left = "true" if found else "false"
    elif isinstance(found, int | float):
        try:
            right = float(clause.value)
        except ValueError:
            return False
    else:
        left = str(found)
    return _OPS[clause.op](left, right)


def apply_filter(docs: list[dict[str, Any]], text: str | None) -> list[dict[str, Any]]:
    """The footprints matching every clause of ``text`` (all of them if empty)."""
    if not text or not text.strip():
        return docs
    clauses = parse_filter(text)
    return [d for d in docs if all(_matches(d, c) for c in clauses)]
