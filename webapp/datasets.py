"""An organisation's datasets: upload, store, re-materialise, compare, activate.

A dataset is a company's own tables in the shapes of ``data/`` (``routing.datasets``), uploaded
as several CSV files, one XLSX workbook or one JSON document. The files are checked (names,
count, size) and loaded by ``routing.datasets.load_dataset_files``, which merges them over the
shipped defaults and names the table, row and column of any error (a 422 here; nothing is
stored). The files themselves are stored in ``dataset_files`` (one dataset per content hash
and organisation), so any server process re-materialises the merged folder the loaders read.

Each organisation has a dataset in force (``dataset_activations``, newest row; none: the
shipped data): plans that name no ``options.dataset_id`` are made on it. A token sees only
its organisation's datasets; another organisation's id is answered like an unknown one.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from greenlane.emissions.errors import DataError, GreenlaneError, InputError
from greenlane.routing import Network
from greenlane.routing.datasets import (
    Dataset,
    default_dataset,
    diff_datasets,
    load_dataset_files,
)
from greenlane.webapp.auth import Principal
from greenlane.webapp.db import as_utc, transaction, utcnow
from greenlane.webapp.problems import ApiProblem
from greenlane.webapp.resources import network as load_net
from greenlane.webapp.tables import dataset_activations, dataset_files, datasets

SHIPPED = "default"
"""The id of the shipped tables of ``data/`` (``routing.datasets.default_dataset``): as
``options.dataset_id`` or activation target, the organisation plans on the shipped data."""
SUFFIXES = (".csv", ".xlsx", ".json")
MANIFEST = "dataset.json"
"""The optional declarations beside CSV tables (``routing.datasets.MANIFEST``)."""
DETAILED_TABLES = ("hubs", "lanes")
"""Tables whose added, removed and changed ids are listed; other tables show counts."""


@dataclass(frozen=True, slots=True)
class Stored:
    """An uploaded dataset's id, and whether this upload created it (False: same content)."""

    dataset_id: str
    created: bool


# ----------------------------------------------------------------------------- files


def upload_format(files: Sequence[tuple[str, bytes]], config: Mapping[str, Any]) -> str:
    """``csv``, ``xlsx`` or ``json`` for an upload's ``(name, content)`` files.

    Several CSV files (one per table, named like ``lanes.csv``, with an optional
    ``dataset.json`` declaring table modes), or exactly one XLSX or JSON file. Errors name
    the file (``files[i]``); more than ``DATASET_MAX_FILES`` files or ``DATASET_MAX_BYTES``
    in total is a 413.
    """
    if not files:
        raise InputError("upload at least one file", field="files")
    max_files = int(config["DATASET_MAX_FILES"])
    if len(files) > max_files:
        raise ApiProblem(413, "Payload Too Large", f"at most {max_files} files", field="files")
    limit = int(config["DATASET_MAX_BYTES"])
    total = sum(len(data) for _, data in files)
    if total > limit:
        raise ApiProblem(
            413, "Payload Too Large", f"{total} bytes; the limit is {limit} bytes", field="files"
        )
    seen: set[str] = set()
    kinds: set[str] = set()
    for i, (name, data) in enumerate(files):
        suffix = Path(name).suffix.lower()
        if not name or name != Path(name).name or suffix not in SUFFIXES:
            raise InputError(
                f"{name!r}: name each file like lanes.csv, or one .xlsx or .json",
                field=f"files[{i}]",
            )
        if name.lower() in seen:
            raise InputError(f"{name!r} is given twice", field=f"files[{i}]")
        if not data:
            raise InputError(f"{name!r} is empty", field=f"files[{i}]")
        seen.add(name.lower())
        kinds.add("csv" if name == MANIFEST else suffix[1:])
    if kinds != {"csv"} and len(files) != 1:
        raise InputError(
            "upload several CSV files, or exactly one XLSX workbook or JSON document",
            field="files",
        )
    return kinds.pop()


def _load(files: Mapping[str, bytes], dataset_id: str, app: Flask) -> Dataset:
    """The merged dataset of ``files``; a bad table, row or column is a 422 naming it."""
    try:
        return load_dataset_files(files, dataset_id=dataset_id, cache_dir=cache_dir(app))
    except GreenlaneError as exc:
        raise ApiProblem(422, "Invalid dataset", exc.message, field=exc.field) from None


def cache_dir(app: Flask | None = None) -> Path:
    """Where materialised datasets live (``DATASET_CACHE_DIR``, else ``instance/datasets``)."""
    app = app or current_app
    folder = app.config.get("DATASET_CACHE_DIR")
    return Path(folder) if folder else Path(app.instance_path) / "datasets"


# ----------------------------------------------------------------------------- upload


def upload(files: Sequence[tuple[str, bytes]], name: str, principal: Principal) -> Stored:
    """Check, load and store an organisation's upload (one transaction; same content: the
    stored dataset)."""
    from greenlane.webapp.store import new_id

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    fmt = upload_format(files, app.config)
    dataset_id = new_id("ds")
    ds = _load(dict(files), dataset_id, app)
    org = principal.organisation
    try:
        with transaction() as conn:
            existing = _by_sha(conn, org, ds.sha256)
            if existing is not None:
                return Stored(existing.id, created=False)
            conn.execute(
                datasets.insert().values(
                    id=dataset_id,
                    organisation=org,
                    name=(name.strip() or ", ".join(n for n, _ in files))[:200],
                    sha256=ds.sha256,
                    upload_format=fmt,
                    tables=table_summary(ds),
                    created_at=utcnow(),
                    created_by=principal.token_id,
                )
            )
            for file_name, data in files:
                conn.execute(
                    dataset_files.insert().values(
                        dataset_id=dataset_id,
                        name=file_name,
                        size_bytes=len(data),
                        sha256=hashlib.sha256(data).hexdigest(),
                        content=data,
                    )
                )
    except IntegrityError:  # the same content stored by a concurrent upload
        with transaction() as conn:
            existing = _by_sha(conn, org, ds.sha256)
        if existing is None:
            raise
        return Stored(existing.id, created=False)
    _remember(app, dataset_id, ds)
    return Stored(dataset_id, created=True)


def _by_sha(conn: Connection, organisation: str, sha256: str) -> Row[Any] | None:
    query = select(datasets).where(
        datasets.c.organisation == organisation, datasets.c.sha256 == sha256
    )
    return conn.execute(query).first()


def table_summary(ds: Dataset) -> dict[str, Any]:
    """Per table the dataset gives: ``replace`` or ``merge``, the rows given, and how many
    rows it adds, removes and changes against the shipped table."""
    return {
        table: {
            "mode": change.mode,
            "rows": change.rows,
            "added": len(change.added),
            "removed": len(change.removed),
            "changed": len(change.replaced),
        }
        for table, change in sorted(ds.changes.items())
    }


_KINDS = ("added", "removed", "changed")


# ----------------------------------------------------------------------------- reading


def row_of(conn: Connection, dataset_id: str, principal: Principal) -> Row[Any]:
    """The caller's organisation's dataset, else 404 (another organisation's too)."""
    row = conn.execute(
        select(datasets).where(
            datasets.c.id == dataset_id, datasets.c.organisation == principal.organisation
        )
    ).first()
    if row is None:
        raise ApiProblem(404, "Not Found", f"no dataset {dataset_id!r}")
    return row


def in_force_id(conn: Connection, organisation: str) -> str | None:
    """The id of the organisation's dataset in force (None: the shipped data)."""
    query = (
        select(dataset_activations.c.dataset_id)
        .where(dataset_activations.c.organisation == organisation)
        .order_by(dataset_activations.c.id.desc())
        .limit(1)
    )
    found = conn.execute(query).first()
    return None if found is None else found.dataset_id


def materialise(dataset_id: str, app: Flask | None = None) -> Dataset:
    """The merged dataset of a stored id (from this process's memory, else rebuilt from the
    stored files; the content hash must match the stored one)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache = _cache(app)
    with cache.lock:
        if dataset_id in cache.items:
            return cache.items[dataset_id]
    with transaction() as conn:
        row = conn.execute(select(datasets).where(datasets.c.id == dataset_id)).first()
        files = list(
            conn.execute(
                select(dataset_files.c.name, dataset_files.c.content)
                .where(dataset_files.c.dataset_id == dataset_id)
                .order_by(dataset_files.c.id)
            )
        )
    if row is None:
        raise DataError(f"no stored dataset {dataset_id!r}", field="options.dataset_id")
    try:
        ds = load_dataset_files(
            {f.name: bytes(f.content) for f in files},
            dataset_id=dataset_id,
            cache_dir=cache_dir(app),
        )
    except GreenlaneError as exc:
        raise DataError(f"stored dataset {dataset_id!r}: {exc.message}", field=exc.field) from None
    if ds.sha256 != row.sha256:
        raise DataError(
            f"stored dataset {dataset_id!r} re-materialised with sha256 {ds.sha256}, "
            f"stored {row.sha256}",
            field="datasets.sha256",
        )
    _remember(app, dataset_id, ds)
    return ds


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[str, Dataset] = {}


def _cache(app: Flask) -> _Cache:
    cache = app.extensions.get("greenlane_datasets")
    if cache is None:
        cache = app.extensions.setdefault("greenlane_datasets", _Cache())
    return cache  # type: ignore[no-any-return]


def _remember(app: Flask, dataset_id: str, ds: Dataset) -> None:
    cache = _cache(app)
    with cache.lock:
        cache.items[dataset_id] = ds


def dataset_of(dataset_id: str | None, app: Flask | None = None) -> Dataset:
    """The dataset a stored plan request names (None or ``default``: the shipped data)."""
    if dataset_id in (None, SHIPPED):
        return default_dataset()
    return materialise(str(dataset_id), app)


def network_of(ds: Dataset, app: Flask | None = None) -> Network:
    """The hubs-and-lanes network of a dataset."""
    return load_net(app, ds.data_dir)


def resolve(dataset_id: str | None, principal: Principal, field: str) -> str:
    """The concrete dataset a request asks for: its id or ``default``.

    None: the organisation's dataset in force. An id of another organisation is answered like
    an unknown one (422 naming ``field``).
    """
    if dataset_id == SHIPPED:
        return SHIPPED
    with transaction() as conn:
        if dataset_id is None:
            return in_force_id(conn, principal.organisation) or SHIPPED
        found = conn.execute(
            select(datasets.c.id).where(
                datasets.c.id == dataset_id, datasets.c.organisation == principal.organisation
            )
        ).first()
    if found is None:
        raise InputError(f"no dataset {dataset_id!r} in your organisation", field=field)
    return dataset_id


# ----------------------------------------------------------------------------- compare


def diff_json(base: Dataset, new: Dataset) -> dict[str, Any]:
    """What ``new`` changes against ``base``: ids for hubs and lanes, counts for the rest."""
    diff = diff_datasets(base, new)
    tables: dict[str, Any] = {}
    for table, change in sorted(diff.tables.items()):
        ids = {kind: sorted(getattr(change, kind)) for kind in _KINDS}
        entry: dict[str, Any] = {kind: len(ids[kind]) for kind in _KINDS}
        if table in DETAILED_TABLES:
            entry.update({f"{kind}_ids": ids[kind] for kind in _KINDS})
        tables[table] = entry
    return {"base": {"id": base.dataset_id, "sha256": base.sha256}, "tables": tables}


# ----------------------------------------------------------------------------- answers


def _iso(value: Any) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value is not None else None


def _files(conn: Connection, dataset_id: str) -> list[dict[str, Any]]:
    query = (
        select(dataset_files.c.name, dataset_files.c.size_bytes, dataset_files.c.sha256)
        .where(dataset_files.c.dataset_id == dataset_id)
        .order_by(dataset_files.c.id)
    )
    return [
        {"name": f.name, "size_bytes": f.size_bytes, "sha256": f.sha256}
        for f in conn.execute(query)
    ]


def dataset_json(conn: Connection, row: Row[Any], in_force: str | None) -> dict[str, Any]:
    """A stored dataset as the API's ``DatasetOut`` (without the comparison)."""
    base = f"/api/v1/datasets/{row.id}"
    return {
        "id": row.id,
        "name": row.name,
        "organisation": row.organisation,
        "sha256": row.sha256,
        "upload_format": row.upload_format,
        "created_at": _iso(row.created_at),
        "in_force": row.id == in_force,
        "files": _files(conn, row.id),
        "tables": dict(row.tables),
        "links": {"self": base, "activate": f"{base}/activate"},
    }


def detail(dataset_id: str, principal: Principal) -> dict[str, Any]:
    """``GET /datasets/{id}``: the dataset and what it changes against the one in force."""
    with transaction() as conn:
        row = row_of(conn, dataset_id, principal)
        in_force = in_force_id(conn, principal.organisation)
        out = dataset_json(conn, row, in_force)
    base = dataset_of(in_force)
    out["changes_vs_in_force"] = diff_json(base, materialise(row.id))
    out["changes_vs_in_force"]["base"]["id"] = in_force or SHIPPED
    return out


def listing(principal: Principal) -> dict[str, Any]:
    """``GET /datasets``: the organisation's datasets, newest first, and the one in force."""
    with transaction() as conn:
        in_force = in_force_id(conn, principal.organisation)
        rows = list(
            conn.execute(
                select(datasets)
                .where(datasets.c.organisation == principal.organisation)
                .order_by(datasets.c.created_at.desc(), datasets.c.id)
            )
        )
        items = [dataset_json(conn, r, in_force) for r in rows]
    return {"organisation": principal.organisation, "in_force": in_force or SHIPPED, "items": items}


def activate(dataset_id: str, principal: Principal) -> dict[str, Any]:
    """Put a dataset (or ``default``) in force for the caller's organisation."""
    with transaction() as conn:
        target = None if dataset_id == SHIPPED else row_of(conn, dataset_id, principal).id
        conn.execute(
            dataset_activations.insert().values(
                organisation=principal.organisation,
                dataset_id=target,
                activated_at=utcnow(),
                activated_by=principal.token_id,
            )
        )
    return listing(principal)
