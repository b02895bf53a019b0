"""Datasets: a company's own tables in the shapes of ``data/``, over the shipped defaults.

A dataset is a set of tables (``hubs``, ``lanes``, ``vehicle_types``, ``energy_prices``, ...;
see :data:`TABLES`) given as a folder of CSV files, an XLSX workbook (one sheet per table) or
a JSON document ``{"tables": {"lanes": [{column: value}, ...]}}``. The rules:

* A table the dataset leaves out is the shipped one.
* A table the dataset gives **replaces** the shipped table in full (mode ``replace``), unless
  it is declared ``merge``: then its rows override the shipped rows with the same id (the
  table's id columns, :attr:`TableSpec.id_columns`), new ids are added, and a row with
  ``_delete`` = 1 removes the shipped row with its id. A table with a ``_delete`` column is
  merged unless declared otherwise. Modes are declared in ``dataset.json`` (folder, JSON:
  ``{"mode": {"lanes": "merge"}}``) or a ``_dataset`` sheet (columns ``table``, ``mode``).
* Every column of the shipped table is required except ``note`` (and the table's optional
  columns; a table of removals alone needs only the id columns); an unknown table or column
  is an error. Cells are text as written; numbers of a workbook or JSON are written in their
  shortest form (``4``, ``0.5``).

:func:`load_dataset` materialises the merged tables (every table of ``data/``) into a
temporary folder, validates all of them with the loaders the planner uses (factors, fleet,
prices, FX, rate cards, regulation, hub operations, stations, targets, transit variability,
the network, each kind of lane priced, and the ``check`` of every registered table), and
only then renames the folder into the content-addressed cache
``<cache_dir>/<sha256[:24]>/``. Any error is a :class:`DatasetError` naming the table, the row
(line of a CSV, row of a sheet, ``n + 1`` for the n-th object of a JSON list) and the column;
nothing is written then. The ``sha256`` is :func:`~greenlane.emissions.tables.tables_sha256`
of the merged tables, so the same content has the same hash however it was given.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import GreenlaneError, InputError
from greenlane.emissions.limits import (
    MAX_DATASET_BYTES,
    MAX_DATASET_CELL,
    MAX_DATASET_COLS,
    MAX_DATASET_ROWS,
    decode_json_bytes,
    decode_utf8,
    loads_json,
)
from greenlane.emissions.tables import canonical_csv, dataset_ref, tables_sha256

if TYPE_CHECKING:
    from greenlane.routing.network.model import Lane

__all__ = [
    "DEFAULT_CACHE_DIR",
    "DELETE_COLUMN",
    "TABLES",
    "Dataset",
    "DatasetDiff",
    "DatasetError",
    "TableChange",
    "TableDiff",
    "TableSpec",
    "cached_dataset",
    "dataset_ref",
    "default_dataset",
    "diff_datasets",
    "load_dataset",
    "load_dataset_files",
    "register_table",
]

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "greenlane" / "datasets"
"""Where validated datasets are kept (one folder per content hash) unless ``cache_dir``."""
DELETE_COLUMN = "_delete"
"""Optional column of a merged table: 1 removes the shipped row with the row's id."""
MANIFEST = "dataset.json"
"""The dataset's declarations in a folder (``{"mode": {table: "replace"|"merge"}}``); in a
materialised dataset, its hash and changes."""
MODE_SHEET = "_dataset"
"""The workbook sheet declaring table modes (columns ``table``, ``mode``)."""
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""A dataset id: letters, digits, ``.``, ``_``, ``-``; at most 64 characters."""
Mode = Literal["replace", "merge"]


class DatasetError(InputError):
    """A dataset is invalid; ``table``, ``line`` and ``column`` say where (when known).

    ``field`` reads ``<where>[line N].<column>``, ``where`` being the file as given (e.g.
    ``lanes.csv``, ``book.xlsx:lanes``, ``data.json:tables.lanes``) or, for a row the
    dataset kept from the shipped table, ``<table> (shipped)``.
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        where: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.table, self.line, self.column = table, line, column
        place = where or table
        if place is not None:
            if line is not None:
                place += f"[line {line}]"
            if column is not None:
                place += f".{column}"
        super().__init__(message, field=place)

    def to_dict(self) -> dict[str, Any]:
        """``{"field", "message", "table", "line", "column"}`` for APIs and CLIs."""
        return {**super().to_dict(), "table": self.table, "line": self.line, "column": self.column}


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A table a dataset may give: its file name, id columns and optional columns.

    ``columns`` is the header of a table that ``data/`` does not ship (for a shipped table it
    is read from the shipped file); ``optional`` columns may be left out of a given file (they
    are written empty). ``check`` loads the table from a folder as its user does (raising
    DataError naming file, line and column); it runs, when the folder holds the table, after the
    built-in checks, so it may read the network and fleet tables of the same folder."""

    name: str
    id_columns: tuple[str, ...]
    optional: frozenset[str] = frozenset({"note"})
    columns: tuple[str, ...] = ()
    check: Callable[[Path], object] | None = None
    nullable_ids: frozenset[str] = frozenset()
    """Id columns that may be empty (a timetable row gives a lane id or a port pair)."""
    extra_columns: tuple[str, ...] = ()
    """Optional columns the shipped file does not have (appended when a given file has them)."""
    """Id columns that may be empty (a timetable row gives a lane id or a port pair)."""

    @property
    def key(self) -> str:
        """The table's name without ``.csv`` (sheet name, JSON key)."""
        return self.name.removesuffix(".csv")


TABLES: dict[str, TableSpec] = {}
"""The tables a dataset may give, by key (``lanes``); extend with :func:`register_table`."""


def register_table(spec: TableSpec) -> None:
    """Make ``spec`` a table a dataset may give (a new table, or new id/optional columns)."""
    TABLES[spec.key] = spec


for _table in (
    TableSpec("hubs.csv", ("hub_id",)),
    TableSpec("lanes.csv", ("lane_id",), extra_columns=("carrier",)),
    TableSpec(
        "vehicle_types.csv",
        ("type_id",),
        frozenset({"note", "cost_data_quality", "cost_source"}),
    ),
    TableSpec("energy_carriers.csv", ("key", "factor_set")),
    TableSpec("tocs.csv", ("toc_id",)),
    TableSpec("hocs.csv", ("hoc_id",)),
    TableSpec(
        "energy_prices.csv",
        ("carrier", "region"),
        frozenset({"note", "price_local", "currency", "licence"}),
    ),
    TableSpec("fx_rates.csv", ("currency", "date"), frozenset({"note", "licence"})),
    TableSpec("rate_cards.csv", ("rate_id",)),
    TableSpec("hub_operations.csv", ("kind",)),
    TableSpec("regulatory_costs.csv", ("scheme", "parameter", "year")),
    TableSpec("charging_stations.csv", ("station_id",)),
    TableSpec("saf_blends.csv", ("energy_share",)),
    TableSpec("targets.csv", ("baseline_year", "target_year")),
    TableSpec("transit_variability.csv", ("mode",)),
    TableSpec(
        "schedules.csv",
        ("service_id", "lane_id", "origin", "destination"),
        frozenset({"note", "lane_id", "origin", "destination", "capacity_t", "dates", "weekdays"}),
        nullable_ids=frozenset({"lane_id", "origin", "destination"}),
        check=lambda folder: _check_schedules(folder),
    ),
    TableSpec(
        "carrier_intensities.csv",
        ("carrier", "intensity_id"),
        check=lambda folder: _check_carrier_intensities(folder),
    ),
):
    register_table(_table)


def _check_schedules(folder: Path) -> object:
    """Load the timetables of ``folder`` on its network, as the planner does."""
    from greenlane.routing.network import load_network
    from greenlane.routing.network.schedules import load_schedules
    from greenlane.routing.planner.candidates import EPOCH

    return load_schedules(load_network(folder), EPOCH, folder)


def _check_carrier_intensities(folder: Path) -> object:
    """Load the carriers' TOCs and HOCs of ``folder`` against its hub kinds."""
    from greenlane.emissions.carriers import load_carrier_intensities
    from greenlane.routing.network.model import HubKind

    return load_carrier_intensities(folder, frozenset(str(k) for k in HubKind))


@dataclass(frozen=True, slots=True)
class TableChange:
    """What a dataset changed in one table against the shipped one (row ids)."""

    mode: Mode
    rows: int
    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "mode": self.mode,
            "rows": self.rows,
            "added": list(self.added),
            "replaced": list(self.replaced),
            "removed": list(self.removed),
        }


@dataclass(frozen=True)
class Dataset:
    """A validated set of tables: every table of ``data/`` in ``data_dir`` (merged).

    ``dataset_id`` is ``default`` for the shipped data, else the given id or ``ds-`` + the
    first 12 hex digits of ``sha256``; ``changes`` lists per table the dataset gave (keyed
    ``lanes``, ``hubs``, ...) the row ids added, replaced (given with a shipped id and
    different cells) and removed; a composite id joins its cells with ``/``."""

    dataset_id: str
    sha256: str
    data_dir: Path
    changes: Mapping[str, TableChange] = field(default_factory=dict)

    def ref(self) -> dict[str, str]:
        """``{"id", "sha256"}``: what a plan or footprint records."""
        return {"id": self.dataset_id, "sha256": self.sha256}

    def to_dict(self) -> dict[str, Any]:
        """JSON form: id, sha256 and the changes per table."""
        return self.ref() | {"changes": {k: v.to_dict() for k, v in self.changes.items()}}


@dataclass(frozen=True, slots=True)
class TableDiff:
    """Row ids of one table added, removed and changed from one dataset to another."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, list[str]]:
        """JSON form."""
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
        }


@dataclass(frozen=True)
class DatasetDiff:
    """What changes from ``base`` to ``new``, per id-keyed table (tables without changes are
    left out)."""

    base: dict[str, str]
    new: dict[str, str]
    tables: Mapping[str, TableDiff]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "base": self.base,
            "new": self.new,
            "tables": {k: v.to_dict() for k, v in self.tables.items()},
        }


# ----------------------------------------------------------------------------- public API


@cache
def default_dataset() -> Dataset:
    """The shipped tables of ``data/`` as the dataset ``default``."""
    return Dataset("default", tables_sha256(DATA_DIR), DATA_DIR, {})


def load_dataset(
    source: Path, dataset_id: str | None = None, cache_dir: Path | None = None
) -> Dataset:
    """Validate and materialise a dataset: a folder of CSV files (and an optional
    ``dataset.json``), an ``.xlsx`` workbook, a ``.json`` document or one ``.csv`` table.

    Raises :class:`DatasetError` naming table, row and column; nothing is written then."""
    source = Path(source)
    if source.is_dir():
        files: dict[str, bytes] = {}
        total = 0
        for path in sorted(source.iterdir()):
            if path.name.startswith(".") or path.is_dir():
                continue
            total += path.stat().st_size
            if total > MAX_DATASET_BYTES:
                raise DatasetError(
                    f"the dataset is larger than the limit of {MAX_DATASET_BYTES} bytes",
                    where=path.name,
                )
            files[path.name] = path.read_bytes()
        if not files:
            raise DatasetError(f"the folder {source} holds no table", where=source.name)
        return load_dataset_files(files, dataset_id, cache_dir)
    if not source.is_file():
        raise DatasetError(f"no such folder or file: {source}", where=source.name)
    if source.stat().st_size > MAX_DATASET_BYTES:
        raise DatasetError(
            f"the file is larger than the limit of {MAX_DATASET_BYTES} bytes", where=source.name
        )
    return load_dataset_files({source.name: source.read_bytes()}, dataset_id, cache_dir)


def load_dataset_files(
    files: Mapping[str, bytes], dataset_id: str | None = None, cache_dir: Path | None = None
) -> Dataset:
    """Validate and materialise uploaded files: tables ``lanes.csv``, ``hubs.csv``, ... (and an
    optional ``dataset.json`` declaring modes), or one ``*.xlsx`` workbook, or one ``*.json``
    document. Raises :class:`DatasetError`; nothing is written then."""
    if dataset_id is not None and (not ID_RE.match(dataset_id) or dataset_id == "default"):
        raise DatasetError(
            "a dataset id is 1-64 letters, digits, '.', '_' or '-' and not 'default'",
            where="dataset_id",
        )
    size = sum(len(b) for b in files.values())
    if size > MAX_DATASET_BYTES:
        raise DatasetError(
            f"the dataset is larger than the limit of {MAX_DATASET_BYTES} bytes", where="files"
        )
    given, modes = _parse_files(files)
    merged = {spec.key: _merge(spec, given.get(spec.key), modes) for spec in _all_specs()}
    return _materialise(merged, {k: merged[k].change for k in given}, dataset_id, cache_dir)


def cached_dataset(
    sha256: str, dataset_id: str | None = None, cache_dir: Path | None = None
) -> Dataset:
    """The dataset of this hash as :func:`load_dataset` stored it (to plan on it again, e.g.
    to recompute a plan that recorded it); ``default`` for the hash of ``data/``. Raises
    DatasetError when the cache does not hold it."""
    if sha256 == default_dataset().sha256 and dataset_id in (None, "default"):
        return default_dataset()
    root = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    folder = root / sha256[:24]
    if not re.fullmatch(r"[0-9a-f]{64}", sha256) or not _complete(folder, sha256):
        raise DatasetError(f"no stored dataset with sha256 {sha256!r}", where="sha256")
    doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    changes = {
        k: TableChange(
            v["mode"], v["rows"], tuple(v["added"]), tuple(v["replaced"]), tuple(v["removed"])
        )
        for k, v in doc.get("changes", {}).items()
    }
    return Dataset(dataset_id or f"ds-{sha256[:12]}", sha256, folder, changes)


def diff_datasets(base: Dataset, new: Dataset) -> DatasetDiff:
    """Rows added, removed and changed (by id) in every id-keyed table from ``base`` to
    ``new``; tables without a difference are left out."""
    tables: dict[str, TableDiff] = {}
    for spec in _all_specs():
        old, cur = _rows_by_id(base.data_dir, spec), _rows_by_id(new.data_dir, spec)
        if old == cur:
            continue
        diff = TableDiff(
            added=tuple(k for k in cur if k not in old),
            removed=tuple(k for k in old if k not in cur),
            changed=tuple(k for k in cur if k in old and cur[k] != old[k]),
        )
        if diff.added or diff.removed or diff.changed:
            tables[spec.key] = diff
    return DatasetDiff(base.ref(), new.ref(), tables)


# ----------------------------------------------------------------------------- reading


@dataclass
class _Given:
    """A table as given: where it came from, header and (source line, cells) rows."""

    spec: TableSpec
    where: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]


@dataclass
class _Merged:
    """A merged table: canonical header, rows with their origin (where, line), change."""

    spec: TableSpec
    header: list[str]
    rows: list[tuple[list[str], tuple[str, int]]]
    change: TableChange


def _all_specs() -> list[TableSpec]:
    return [TABLES[k] for k in sorted(TABLES)]


def _spec(name: str, where: str) -> TableSpec:
    """The table named ``name`` (``lanes``, ``lanes.csv``, ``Lanes``: case is ignored)."""
    key = name.strip().lower().removesuffix(".csv")
    if key not in TABLES:
        raise DatasetError(
            f"unknown table {key!r}; a dataset may give: {', '.join(sorted(TABLES))}",
            where=where,
        )
    return TABLES[key]


def _parse_files(files: Mapping[str, bytes]) -> tuple[dict[str, _Given], dict[str, Mode]]:
    """Given tables by key and declared modes, from uploaded file names and bytes."""
    counter = _RowCounter()
    names = [n for n in files if not n.lower().startswith("readme")]
    books = [
        n
        for n in names
        if n.lower().endswith((".xlsx", ".json")) and (n != MANIFEST or len(names) == 1)
    ]  # a dataset.json alone is a JSON document of tables
    if books:
        if len(names) > 1:
            raise DatasetError(
                "give either CSV tables or one workbook or one JSON document, not both",
                where=", ".join(sorted(names)),
            )
        name = books[0]
        if name.lower().endswith(".xlsx"):
            return _read_xlsx(files[name], name, counter)
        return _read_json(files[name], name, counter)
    given: dict[str, _Given] = {}
    modes: dict[str, Mode] = {}
    for name in sorted(names):
        if name == MANIFEST:
            doc = loads_json(decode_json_bytes(files[name], name), name)
            if not isinstance(doc, dict) or set(doc) - {"mode"}:
                raise DatasetError('must be {"mode": {table: "replace"|"merge"}}', where=name)
            modes = _modes(doc.get("mode", {}), f"{name}:mode")
            continue
        if not name.lower().endswith(".csv"):
            raise DatasetError(
                "unknown file: a dataset folder holds <table>.csv files and an optional "
                f"{MANIFEST}",
                where=name,
            )
        spec = _spec(name, name)
        _once(spec, given, name)
        given[spec.key] = _read_csv(spec, files[name], name, counter)
    if not given:
        raise DatasetError("the dataset gives no table", where=", ".join(sorted(names)) or "files")
    _check_modes(modes, given)
    return given, modes


def _once(spec: TableSpec, given: Mapping[str, _Given], where: str) -> None:
    if spec.key in given:
        raise DatasetError(
            f"the table {spec.key} is given twice (also as {given[spec.key].where})", where=where
        )


def _modes(doc: object, where: str) -> dict[str, Mode]:
    if not isinstance(doc, dict):
        raise DatasetError('must be an object {table: "replace"|"merge"}', where=where)
    out: dict[str, Mode] = {}
    for table, mode in doc.items():
        spec = _spec(str(table), f"{where}.{table}")
        if mode not in ("replace", "merge"):
            raise DatasetError(
                f"must be 'replace' or 'merge', got {mode!r}", where=f"{where}.{table}"
            )
        out[spec.key] = mode
    return out


def _check_modes(modes: Mapping[str, Mode], given: Mapping[str, _Given]) -> None:
    for key in modes:
        if key not in given:
            raise DatasetError(
                f"declares a mode for {key!r}, which the dataset does not give", where="mode"
            )


def _cell_checks(where: str, line: int, column: str, value: str) -> str:
    if len(value) > MAX_DATASET_CELL:
        raise DatasetError(
            f"a cell of {len(value)} characters is longer than the limit of {MAX_DATASET_CELL}",
            where=where,
            line=line,
            column=column,
        )
    if "\n" in value or "\r" in value:
        raise DatasetError(
            "a cell may not hold a line break", where=where, line=line, column=column
        )
    return value


class _RowCounter:
    """Counts data rows of the whole dataset against MAX_DATASET_ROWS."""

    def __init__(self) -> None:
        self.n = 0

    def add(self, where: str, line: int) -> None:
        self.n += 1
        if self.n > MAX_DATASET_ROWS:
            raise DatasetError(
                f"the dataset has more than the limit of {MAX_DATASET_ROWS} rows",
                where=where,
                line=line,
            )


def _header(spec: TableSpec, cells: list[str], where: str) -> list[str]:
    header = [c.strip() for c in cells]
    if len(header) > MAX_DATASET_COLS:
        raise DatasetError(
            f"{len(header)} columns, more than the limit of {MAX_DATASET_COLS}",
            where=where,
            line=1,
        )
    known = set(_columns(spec)) | set(spec.extra_columns) | {DELETE_COLUMN}
    for i, name in enumerate(header):
        if not name:
            raise DatasetError(f"column {i + 1} has no name", where=where, line=1)
        if header.count(name) > 1:
            raise DatasetError("column appears twice", where=where, line=1, column=name)
        if name not in known:
            raise DatasetError(
                f"unknown column of {spec.name}; its columns: {', '.join(_columns(spec))}",
                where=where,
                line=1,
                column=name,
            )
    for name in spec.id_columns:
        if name not in header:
            raise DatasetError("the id column is missing", where=where, line=1, column=name)
    return header


def _read_csv(spec: TableSpec, data: bytes, where: str, counter: _RowCounter) -> _Given:
    text = decode_utf8(data, where)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        first = next(reader, None)
        if first is None:
            raise DatasetError("the table has no header", where=where, line=1)
        header = _header(spec, first, where)
        rows: list[tuple[int, dict[str, str]]] = []
        last = reader.line_num
        for cells in reader:
            line, last = last + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise DatasetError(
                    f"row has {len(cells)} cells, the header {len(header)}",
                    where=where,
                    line=line,
                )
            counter.add(where, line)
            rows.append(
                (
                    line,
                    {
                        h: _cell_checks(where, line, h, c)
                        for h, c in zip(header, cells, strict=True)
                    },
                )
            )
    except csv.Error as exc:
        raise DatasetError(f"invalid CSV: {exc}", where=where, line=reader.line_num) from None
    return _Given(spec, where, header, rows)


def _text(value: object) -> str:
    """A workbook or JSON value as cell text: numbers in their shortest form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers must be finite")
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise ValueError(f"a cell must be text, a number or empty, got {type(value).__name__}")


def _given_from_records(
    spec: TableSpec,
    where: str,
    header_cells: list[object],
    records: Iterator[tuple[int, list[Any]]],
    counter: _RowCounter,
) -> _Given:
    header = _header(spec, [_text(h) for h in header_cells], where)
    rows: list[tuple[int, dict[str, str]]] = []
    for line, values in records:
        if len(values) > len(header) and any(v not in (None, "") for v in values[len(header) :]):
            raise DatasetError("a cell beyond the header's columns", where=where, line=line)
        values = (list(values) + [None] * len(header))[: len(header)]
        cells: dict[str, str] = {}
        for h, v in zip(header, values, strict=True):
            try:
                cells[h] = _cell_checks(where, line, h, _text(v))
            except ValueError as exc:
                raise DatasetError(str(exc), where=where, line=line, column=h) from None
        if not any(c.strip() for c in cells.values()):
            continue
        counter.add(where, line)
        rows.append((line, cells))
    return _Given(spec, where, header, rows)


def _read_xlsx(
    data: bytes, name: str, counter: _RowCounter
) -> tuple[dict[str, _Given], dict[str, Mode]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise DatasetError(f"not a readable XLSX workbook: {exc}", where=name) from None
    given: dict[str, _Given] = {}
    modes: dict[str, Mode] = {}
    try:
        _read_sheets(book, name, counter, given, modes)
    except DatasetError:
        raise
    except Exception as exc:  # a damaged sheet (XML) surfaces while its rows are read
        raise DatasetError(f"not a readable XLSX workbook: {exc}", where=name) from None
    finally:
        book.close()
    if not given:
        raise DatasetError("the workbook has no table sheet", where=name)
    _check_modes(modes, given)
    return given, modes


def _read_sheets(
    book: Any,
    name: str,
    counter: _RowCounter,
    given: dict[str, _Given],
    modes: dict[str, Mode],
) -> None:
    """Fill ``given`` and ``modes`` from the sheets of an open workbook."""
    for ws in book.worksheets:
        where = f"{name}:{ws.title}"
        rows = ws.iter_rows(values_only=True)
        first = next(rows, None)
        if ws.title == MODE_SHEET:
            modes.update(_xlsx_modes(first, rows, where))
            continue
        spec = _spec(ws.title, where)
        _once(spec, given, where)
        if first is None:
            raise DatasetError("the sheet has no header", where=where, line=1)
        width = len(first)
        while width and first[width - 1] in (None, ""):
            width -= 1
        if width > MAX_DATASET_COLS:
            raise DatasetError(
                f"more than the limit of {MAX_DATASET_COLS} columns", where=where, line=1
            )
        records = ((i, list(r[: MAX_DATASET_COLS + 1])) for i, r in enumerate(rows, start=2))
        given[spec.key] = _given_from_records(spec, where, list(first[:width]), records, counter)


def _xlsx_modes(first: Any, rows: Iterator[Any], where: str) -> dict[str, Mode]:
    header = [_text(c).strip() for c in (first or ())]
    if header[:2] != ["table", "mode"]:
        raise DatasetError("the sheet needs the columns table, mode", where=where, line=1)
    doc = {}
    for r in rows:
        if r and r[0] not in (None, ""):
            doc[_text(r[0]).strip()] = _text(r[1] if len(r) > 1 else None).strip()
    return _modes(doc, where)


def _read_json(
    data: bytes, name: str, counter: _RowCounter
) -> tuple[dict[str, _Given], dict[str, Mode]]:
    doc = loads_json(decode_json_bytes(data, name), name)
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise DatasetError('must be {"tables": {table: [{column: value}, ...]}}', where=name)
    unknown = set(doc) - {"tables", "mode"}
    if unknown:
        raise DatasetError(f"unknown key {sorted(unknown)[0]!r}", where=name)
    modes = _modes(doc.get("mode", {}), f"{name}:mode")
    given: dict[str, _Given] = {}
    for key, rows in doc["tables"].items():
        where = f"{name}:tables.{key}"
        spec = _spec(str(key), where)
        _once(spec, given, where)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DatasetError("must be a list of objects {column: value}", where=where)
        header: dict[str, None] = {}
        for r in rows:
            header.update(dict.fromkeys(str(k) for k in r))
        cols = list(header)
        records = ((i + 2, [r.get(c) for c in cols]) for i, r in enumerate(rows))
        given[spec.key] = _given_from_records(spec, where, list(cols), records, counter)
    if not given:
        raise DatasetError("the document gives no table", where=name)
    _check_modes(modes, given)
    return given, modes


# ----------------------------------------------------------------------------- merging


def _columns(spec: TableSpec) -> tuple[str, ...]:
    return spec.columns or _shipped(spec.name)[0]


@cache
def _shipped(name: str) -> tuple[tuple[str, ...], tuple[tuple[int, tuple[str, ...]], ...]]:
    """Header and (line, cells) rows of a shipped table (empty if ``data/`` has none)."""
    path = DATA_DIR / name
    if not path.is_file():
        return (), ()
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    header = tuple(h.strip() for h in next(reader))
    rows = []
    last = reader.line_num
    for cells in reader:
        line, last = last + 1, reader.line_num
        if any(c.strip() for c in cells):
            rows.append((line, tuple(cells)))
    return header, tuple(rows)


def _row_id(spec: TableSpec, cells: Mapping[str, str]) -> str:
    return "/".join(cells.get(c, "").strip() for c in spec.id_columns)


def _flag(value: str, where: str, line: int) -> bool:
    text = value.strip().lower()
    if text in ("1", "true"):
        return True
    if text in ("", "0", "false"):
        return False
    raise DatasetError(
        f"must be 1 (remove the row) or 0/empty, got {value!r}",
        where=where,
        line=line,
        column=DELETE_COLUMN,
    )


def _merge(spec: TableSpec, given: _Given | None, modes: Mapping[str, Mode]) -> _Merged:
    """The table as the planner reads it, each row with its origin, and what changed."""
    header = list(_columns(spec))
    if given is not None:
        header += [c for c in spec.extra_columns if c in given.header and c not in header]
    shipped_label = f"{spec.name} (shipped)"
    base = [
        (dict(zip(header, cells, strict=False)), line) for line, cells in _shipped(spec.name)[1]
    ]
    base_ids = {_row_id(spec, cells): (cells, line) for cells, line in base}
    if given is None:
        rows = [([c.get(h, "") for h in header], (shipped_label, line)) for c, line in base]
        return _Merged(spec, header, rows, TableChange("replace", 0))
    has_delete = DELETE_COLUMN in given.header
    mode: Mode = modes.get(spec.key, "merge" if has_delete else "replace")
    if mode == "replace" and has_delete:
        raise DatasetError(
            "a table in replace mode cannot remove rows: declare it 'merge'",
            where=given.where,
            line=1,
            column=DELETE_COLUMN,
        )
    seen: dict[str, int] = {}
    keep: dict[str, tuple[dict[str, str], int]] = {}
    deleted: list[str] = []
    for line, cells in given.rows:
        for c in spec.id_columns:
            if c not in spec.nullable_ids and not cells.get(c, "").strip():
                raise DatasetError(
                    "an id cell may not be empty", where=given.where, line=line, column=c
                )
        rid = _row_id(spec, cells)
        if rid in seen:
            raise DatasetError(
                f"duplicate id {rid!r} (first on line {seen[rid]})",
                where=given.where,
                line=line,
                column=spec.id_columns[0],
            )
        seen[rid] = line
        if has_delete and _flag(cells.get(DELETE_COLUMN, ""), given.where, line):
            if rid not in base_ids:
                raise DatasetError(
                    f"no shipped row {rid!r} to remove",
                    where=given.where,
                    line=line,
                    column=spec.id_columns[0],
                )
            deleted.append(rid)
            continue
        keep[rid] = ({h: cells.get(h, "") for h in header}, line)
    missing = [c for c in header if c not in given.header and c not in spec.optional]
    if missing and keep:  # a table of removals alone needs only the id columns
        raise DatasetError(
            "required column is missing", where=given.where, line=1, column=missing[0]
        )
    out: list[tuple[list[str], tuple[str, int]]] = []
    if mode == "merge":
        for cells, line in base:
            rid = _row_id(spec, cells)
            if rid in deleted:
                continue
            if rid in keep:
                new, gline = keep[rid]
                out.append(([new[h] for h in header], (given.where, gline)))
            else:
                out.append(([cells.get(h, "") for h in header], (shipped_label, line)))
        out += [
            ([new[h] for h in header], (given.where, gline))
            for rid, (new, gline) in keep.items()
            if rid not in base_ids
        ]
    else:
        out = [([new[h] for h in header], (given.where, gline)) for new, gline in keep.values()]
    result_ids = set(keep) | (set(base_ids) - set(deleted) if mode == "merge" else set())
    change = TableChange(
        mode=mode,
        rows=len(given.rows),
        added=tuple(rid for rid in keep if rid not in base_ids),
        replaced=tuple(
            rid
            for rid, (new, _) in keep.items()
            if rid in base_ids
            and [new[h].strip() for h in header]
            != [base_ids[rid][0].get(h, "").strip() for h in header]
        ),
        removed=tuple(rid for rid in base_ids if rid not in result_ids),
    )
    return _Merged(spec, header, out, change)


def _rows_by_id(folder: Path, spec: TableSpec) -> dict[str, tuple[str, ...]]:
    path = folder / spec.name
    if not path.is_file():
        return {}
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    header = [h.strip() for h in next(reader, [])]
    out: dict[str, tuple[str, ...]] = {}
    for cells in reader:
        if any(c.strip() for c in cells):
            row = dict(zip(header, cells, strict=False))
            out[_row_id(spec, row)] = tuple(c.strip() for c in cells)
    return out


# ----------------------------------------------------------------------------- materialising


def _materialise(
    merged: Mapping[str, _Merged],
    changes: Mapping[str, TableChange],
    dataset_id: str | None,
    cache_dir: Path | None,
) -> Dataset:
    """Write every table into a temporary folder, validate, rename into the cache."""
    root = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    root.mkdir(parents=True, exist_ok=True)
    _sweep_stale(root)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        origins: dict[str, dict[int, tuple[str, int]]] = {}
        for m in merged.values():
            if not m.rows and not (DATA_DIR / m.spec.name).exists() and m.spec.key not in changes:
                continue  # a registered table neither shipped nor given: absent, as in data/
            text, lines = _write_table(m)
            (tmp / m.spec.name).write_text(text, encoding="utf-8")
            origins[m.spec.name] = lines
        for path in sorted(DATA_DIR.glob("*.csv")):
            if not (tmp / path.name).exists():  # tables a dataset cannot give: as shipped
                shutil.copyfile(path, tmp / path.name)
        sha = tables_sha256(tmp)
        final = root / sha[:24]
        if not _complete(final, sha):
            _validate(tmp, origins)
            manifest = {
                "sha256": sha,
                "changes": {k: v.to_dict() for k, v in changes.items()},
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            try:
                os.replace(tmp, final)  # atomic: a folder of this name is always complete
            except OSError as exc:
                if not _complete(final, sha):  # else a concurrent load wrote the same data
                    raise DatasetError(
                        f"cannot write the dataset folder {final}: {exc.strerror}; it exists "
                        "without a manifest (remove it)",
                        where="cache_dir",
                    ) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return Dataset(dataset_id or f"ds-{sha[:12]}", sha, final, dict(changes))


STALE_TMP_S = 3600.0
"""Age after which a temporary folder of an interrupted load is removed [s]."""


def _sweep_stale(root: Path) -> None:
    """Remove temporary folders that interrupted loads left (older than STALE_TMP_S)."""
    now = time.time()
    for tmp in root.glob(".tmp-*"):
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > STALE_TMP_S:
                shutil.rmtree(tmp, ignore_errors=True)


def _complete(folder: Path, sha: str) -> bool:
    """A materialised dataset folder of this hash (its manifest is written last)."""
    with contextlib.suppress(OSError, ValueError):
        doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return bool(doc.get("sha256") == sha)
    return False


def _write_table(m: _Merged) -> tuple[str, dict[int, tuple[str, int]]]:
    """Canonical CSV of a merged table and, per written line, the row's origin."""
    lines: dict[int, tuple[str, int]] = {}
    for i, (_, origin) in enumerate(m.rows):
        lines[i + 2] = origin  # no cell holds a line break: one row per line
    return canonical_csv(m.header, (cells for cells, _ in m.rows)), lines


def _validate(folder: Path, origins: Mapping[str, Mapping[int, tuple[str, int]]]) -> None:
    """Load every table as the planner does; errors translated to the rows as given."""
    own = [
        spec.check
        for spec in _all_specs()
        if spec.check is not None and (folder / spec.name).exists()
    ]
    for check in [*_checks(), *own]:
        try:
            check(folder)
        except DatasetError:
            raise
        except GreenlaneError as exc:
            raise _translate(exc, origins) from None
        except Exception as exc:  # a loader's own failure on data it did not expect
            raise DatasetError(
                f"the tables do not load together ({type(exc).__name__}: {exc})",
                where=getattr(check, "__name__", "dataset"),
            ) from None


def _translate(
    exc: GreenlaneError, origins: Mapping[str, Mapping[int, tuple[str, int]]]
) -> DatasetError:
    file = getattr(exc, "file", None)
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    if file is None:
        return DatasetError(exc.message, where=exc.field)
    table = file
    where: str = file
    if line is not None and line in origins.get(file, {}):
        where, line = origins[file][line]
    return DatasetError(exc.message, table=table, where=where, line=line, column=column)


def _checks() -> list[Callable[[Path], object]]:
    """The loaders a dataset must pass, in dependency order (factors before fleet, fleet
    before network and pricing)."""
    from greenlane.emissions.factors import load_factors
    from greenlane.fleet.catalog import energy_prices, fx_rates, vehicle_types
    from greenlane.fleet.rates import rate_cards
    from greenlane.fleet.regulation import regulatory_table
    from greenlane.routing.planner.pricing import hub_operations, saf_blend_shares
    from greenlane.routing.vrp.model import load_stations

    return [
        lambda d: load_factors(data_dir=d),
        fx_rates,
        vehicle_types,
        energy_prices,
        rate_cards,
        _check_rate_cards,
        regulatory_table,
        hub_operations,
        saf_blend_shares,
        load_stations,
        _check_hub_operations,
        _check_targets_and_variability,
        _check_network,
    ]


def _check_rate_cards(folder: Path) -> None:
    from greenlane.emissions.errors import DataError
    from greenlane.emissions.tables import read_table
    from greenlane.fleet.catalog import fx_rates
    from greenlane.fleet.rates import RateCardRow

    rates = fx_rates(folder)
    for row in read_table(folder / "rate_cards.csv", RateCardRow):
        if row.currency not in rates:
            raise DataError(
                f"no FX rate for {row.currency!r} in fx_rates.csv",
                file=row.file,
                line=row.line,
                column="currency",
            )


def _check_hub_operations(folder: Path) -> None:
    from greenlane.emissions.errors import DataError
    from greenlane.emissions.factors import load_factors
    from greenlane.emissions.tables import read_table
    from greenlane.routing.network.validate import HubRow
    from greenlane.routing.planner.pricing import HubOperationRow

    hocs = load_factors(data_dir=folder).hocs
    kinds = set()
    for op in read_table(folder / "hub_operations.csv", HubOperationRow):
        kinds.add(op.kind)
        if op.hoc_id and op.hoc_id not in hocs:
            raise DataError(
                f"unknown HOC {op.hoc_id!r} (hocs.csv)", file=op.file, line=op.line, column="hoc_id"
            )
    for hub in read_table(folder / "hubs.csv", HubRow):
        if str(hub.kind) not in kinds:
            raise DataError(
                f"no row of hub_operations.csv for the hub kind {hub.kind}",
                file=hub.file,
                line=hub.line,
                column="kind",
            )


def _check_targets_and_variability(folder: Path) -> None:
    """The company target reads (first row of targets.csv) and every mode has a transit-time
    variability (on-time probabilities need it for every leg)."""
    from greenlane.emissions.errors import DataError
    from greenlane.emissions.intensity import default_target
    from greenlane.emissions.model import Mode
    from greenlane.routing.network.transit_risk import transit_cv

    default_target(folder / "targets.csv")
    missing = [str(m) for m in Mode if m not in transit_cv(folder)]
    if missing:
        raise DataError(
            f"no row for the mode(s) {', '.join(missing)}",
            file="transit_variability.csv",
            column="mode",
        )


def _check_network(folder: Path) -> None:
    """The network loads and every lane has a priced option, as the planner prices it.

    Whether a lane is priced depends on its mode, vehicle types, the countries and region of
    its ends and, for battery and fuel-cell trucks, on its length (their range): the longest
    lane of each such kind is priced, and stands for the others."""
    from greenlane.emissions.errors import DataError
    from greenlane.emissions.factors import load_factors
    from greenlane.emissions.tables import read_table
    from greenlane.routing.network.graph import load_network
    from greenlane.routing.network.validate import LaneTableRow
    from greenlane.routing.planner.pricing import price_lane

    network = load_network(folder)
    factors = load_factors(data_dir=folder)
    kinds: dict[tuple[object, ...], Lane] = {}
    for lane in network.lanes:
        if lane.reverse_of:
            continue
        o, d = network.hubs[lane.origin], network.hubs[lane.destination]
        key = (lane.mode, lane.vehicle_types, o.country, o.region, d.country)
        if key not in kinds or lane.distance_km > kinds[key].distance_km:
            kinds[key] = lane
    for lane in kinds.values():
        try:
            price_lane(
                lane,
                network.hubs[lane.origin],
                factors,
                destination=network.hubs[lane.destination],
                data_dir=folder,
            )
        except GreenlaneError as exc:
            lines = {r.lane_id: r.line for r in read_table(folder / "lanes.csv", LaneTableRow)}
            raise DataError(
                f"{lane.lane_id}: {exc.message}",
                file="lanes.csv",
                line=lines.get(lane.lane_id),
                column="vehicle_types",
            ) from None
