"""One reader for the reference tables of ``data/``: typed rows, errors naming file, line, column.

Every table has a pydantic row model (a :class:`TableRow`) next to the code that owns the
table. :func:`read_table` checks the header (each model field without a default is a required
column), validates every row and raises :class:`~greenlane.emissions.errors.DataError` naming
the file, the line (1 = the header) and the column of the first bad cell. Checks that need
other rows or tables use :meth:`TableRow.error`, which names the same place.

Cells are stripped; an empty cell reads as ``""`` (``str``) or ``None`` (:data:`OptFloat`,
:data:`OptDecimal`). Numbers must be finite.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
)

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import DataError
from greenlane.emissions.model import Mode

__all__ = [
    "Flag",
    "ModeOrEmpty",
    "OptDecimal",
    "OptFloat",
    "TableRow",
    "Text",
    "Year",
    "canonical_csv",
    "dataset_ref",
    "read_table",
    "table_path",
    "tables_sha256",
    "within",
]


def _none_if_empty(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _flag(value: object) -> object:
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("1", "true"):
            return True
        if text in ("", "0", "false"):
            return False
        raise ValueError(f"must be 1/true or 0/false/empty, got {value!r}")
    return value


Text = Annotated[str, Field(min_length=1)]
"""A cell that must not be empty."""
OptFloat = Annotated[float | None, BeforeValidator(_none_if_empty)]
"""A number or an empty cell (``None``)."""
OptDecimal = Annotated[Decimal | None, BeforeValidator(_none_if_empty)]
"""A decimal number (money) or an empty cell (``None``)."""
Year = Annotated[int, Field(ge=1900, le=2100)]
"""A year of publication or validity."""
Flag = Annotated[bool, BeforeValidator(_flag)]
"""``1``/``true`` or ``0``/``false``/empty."""


def _mode_or_empty(value: str) -> str:
    if value and value not in {str(m) for m in Mode}:
        raise ValueError(f"must be one of {', '.join(str(m) for m in Mode)} or empty")
    return value


ModeOrEmpty = Annotated[str, AfterValidator(_mode_or_empty)]
"""A transport mode (``road``, ``rail``, ...) or an empty cell."""


def within(lo: float = -math.inf, hi: float = math.inf) -> AfterValidator:
    """Bounds of an optional number: ``Annotated[OptFloat, within(0, 1)]`` (empty passes)."""

    def check(value: float | None) -> float | None:
        if value is not None and not lo <= value <= hi:
            raise ValueError(f"must lie in [{lo:g}, {hi:g}]")
        return value

    return AfterValidator(check)


class TableRow(BaseModel):
    """One validated row of a reference table; knows its file and line."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", str_strip_whitespace=True, allow_inf_nan=False
    )

    _file: str = PrivateAttr(default="")
    _line: int = PrivateAttr(default=0)

    @property
    def file(self) -> str:
        """Name of the table file the row was read from."""
        return self._file

    @property
    def line(self) -> int:
        """Line of the row in its file (the header is line 1)."""
        return self._line

    def error(self, column: str, message: str) -> DataError:
        """A DataError naming this row's file, line and ``column``."""
        return DataError(message, file=self._file, line=self._line, column=column)


R = TypeVar("R", bound=TableRow)


def table_path(name_or_path: str | Path, data_dir: Path = DATA_DIR) -> Path:
    """A bare table name (``"hubs.csv"``) resolved in ``data_dir``; a path as given."""
    path = Path(name_or_path)
    if isinstance(name_or_path, str) and path.parent == Path("."):
        return data_dir / path
    return path


def _cell_error(exc: ValidationError, file: str, line: int) -> DataError:
    first = exc.errors(include_url=False)[0]
    loc = first.get("loc") or ()
    column = str(loc[0]) if loc else "?"
    message = str(first.get("msg", "invalid value"))
    given = first.get("input")
    if isinstance(given, str):
        message += f", got {given!r}"
    return DataError(message, file=file, line=line, column=column)


def read_table(name_or_path: str | Path, row_model: type[R], data_dir: Path = DATA_DIR) -> list[R]:
    """Rows of a reference table validated by ``row_model``, in file order.

    ``name_or_path`` is a table name in ``data_dir`` or a path. Every problem (missing file or
    column, a short or long row, a bad cell) raises DataError naming file, line and column.
    """
    path = table_path(name_or_path, data_dir)
    if not path.is_file():
        raise DataError("table is missing", file=path.name)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return _rows(csv.reader(fh), row_model, path.name)
    except OSError as exc:
        raise DataError(f"cannot read the table: {exc.strerror}", file=path.name) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text: {exc.reason}", file=path.name) from None


def _rows(reader: Any, row_model: type[R], file: str) -> list[R]:
    header = [h.strip() for h in next(reader, [])]
    if not any(header):
        raise DataError("table has no header", file=file, line=1)
    for name in header:
        if name and header.count(name) > 1:
            raise DataError("column appears twice", file=file, line=1, column=name)
    for name, info in row_model.model_fields.items():
        if info.is_required() and name not in header:
            raise DataError("required column is missing", file=file, line=1, column=name)
    wanted = [(i, h) for i, h in enumerate(header) if h in row_model.model_fields]
    rows: list[R] = []
    last = reader.line_num
    for cells in reader:
        line, last = last + 1, reader.line_num
        if not cells:
            continue  # a blank line
        if len(cells) != len(header):
            column = header[len(cells)] if len(cells) < len(header) else f"cell {len(header) + 1}"
            raise DataError(
                f"row has {len(cells)} cells, the header {len(header)}",
                file=file,
                line=line,
                column=column,
            )
        record: dict[str, Any] = {h: cells[i] for i, h in wanted}
        try:
            row = row_model.model_validate(record)
        except ValidationError as exc:
            raise _cell_error(exc, file, line) from None
        row._file, row._line = file, line
        rows.append(row)
    return rows


def canonical_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table as canonical CSV text: ``\\n`` line ends, minimal quoting, cells verbatim."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def tables_sha256(folder: Path) -> str:
    """sha256 of the ``*.csv`` tables of ``folder`` (the content hash of a dataset).

    Tables are taken in name order; each adds its name and its canonical CSV text
    (:func:`canonical_csv` of the parsed rows, blank lines dropped), so quoting and line ends
    do not change the hash. A table that cannot be read raises DataError naming it.
    """
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.csv")):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read the table: {exc}", file=path.name) from None
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
        body = canonical_csv(rows[0], rows[1:]) if rows else ""
        digest.update(path.name.encode() + b"\0" + body.encode() + b"\0")
    return digest.hexdigest()


@cache
def _shipped_sha256() -> str:
    return tables_sha256(DATA_DIR)


def dataset_ref(data_dir: Path | None, dataset_id: str | None = None) -> dict[str, str]:
    """``{"id", "sha256"}`` of the tables in ``data_dir`` (None: the shipped ``data/``): what a
    plan or footprint records. The id is ``dataset_id`` when given, else ``default`` for
    ``data/`` and ``ds-`` + 12 hex digits of the hash for another folder."""
    if data_dir is None or Path(data_dir).resolve() == DATA_DIR:
        return {"id": dataset_id or "default", "sha256": _shipped_sha256()}
    folder = Path(data_dir).resolve()
    stamp = tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.csv"))
    )
    sha = _folder_sha256(str(folder), stamp)
    return {"id": dataset_id or f"ds-{sha[:12]}", "sha256": sha}


@lru_cache(maxsize=64)
def _folder_sha256(folder: str, stamp: tuple[tuple[str, int, int], ...]) -> str:
    """:func:`tables_sha256` of a folder, cached while its files' times and sizes hold."""
    return tables_sha256(Path(folder))
