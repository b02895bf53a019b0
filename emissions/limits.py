"""Limits on every document greenlane reads, and the strict readers that apply them.

Each limit is refused with an :class:`InputError` naming where (file, ``line[N]``, field) and
what, before the document can cost more than a second or a few hundred MB:

=====================  =================  ==================================================
limit                  value              applies to
=====================  =================  ==================================================
``MAX_CHAIN_BYTES``    8 MiB              a chain JSON file (checked before reading); the
                                          API's request body limit is the same
``MAX_BOOK_BYTES``     50 MiB             a shipment book or actuals file
``MAX_JSON_DEPTH``     32                 nesting of JSON arrays/objects
``MAX_NUMBER_CHARS``   40                 characters of one JSON number literal
``MAX_FIELD_CHARS``    1,000              characters of one CSV cell
``MAX_BOOK_ROWS``      5,000              shipments of one plan book (as ``POST /plans``)
``MAX_DATASET_BYTES``  50 MiB             all files of one dataset together
``MAX_DATASET_ROWS``   200,000            data rows of one dataset, all tables together
``MAX_DATASET_COLS``   100                columns of one dataset table
``MAX_DATASET_CELL``   4,000              characters of one dataset cell (sources and notes)
=====================  =================  ==================================================
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from greenlane.emissions.errors import InputError

MAX_CHAIN_BYTES = 8 * 1024 * 1024
"""Largest chain JSON file [bytes] (the API's ``MAX_CONTENT_LENGTH`` is the same)."""
MAX_BOOK_BYTES = 50 * 1024 * 1024
"""Largest shipment book or actuals CSV [bytes]."""
MAX_JSON_DEPTH = 32
"""Deepest nesting of JSON arrays and objects accepted."""
MAX_NUMBER_CHARS = 40
"""Longest JSON number literal accepted [characters] (a float64 needs at most 24)."""
MAX_FIELD_CHARS = 1000
"""Longest CSV cell accepted [characters]."""
MAX_BOOK_ROWS = 5000
"""Most shipments in one plan book (the same as ``POST /api/v1/plans``)."""
MAX_DATASET_BYTES = 50 * 1024 * 1024
"""Largest dataset (folder, workbook or JSON; all its files together) [bytes]."""
MAX_DATASET_ROWS = 200_000
"""Most data rows of one dataset, all tables together."""
MAX_DATASET_COLS = 100
"""Most columns of one dataset table (a workbook sheet or a CSV header)."""
MAX_DATASET_CELL = 4000
"""Longest cell of a dataset table [characters] (the shipped tables' notes reach 1,399)."""


def check_file_size(path: Path, max_bytes: int, where: str | None = None) -> None:
    """Refuse a file larger than ``max_bytes`` before reading any of it."""
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"file of {size} bytes is larger than the limit of {max_bytes} bytes",
            field=where or str(path),
        )


def decode_utf8(data: bytes, where: str) -> str:
    """UTF-8 text (a BOM is dropped); an invalid byte names its line and column."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            f"not UTF-8 text at line {line} column {col} (byte 0x{data[exc.start]:02x})",
            field=where,
        ) from None


def decode_json_bytes(data: bytes, where: str) -> str:
    """A JSON body's text: UTF-16/32 as RFC 8259 and ``json.loads`` detect them, else UTF-8."""
    encoding = json.detect_encoding(data)
    if encoding.startswith("utf-8"):
        return decode_utf8(data, where)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"not {encoding} text ({exc.reason})", field=where) from None


def read_text(path: Path, max_bytes: int, where: str | None = None) -> str:
    """A UTF-8 text file of at most ``max_bytes``, size checked before reading."""
    check_file_size(path, max_bytes, where)
    return decode_utf8(path.read_bytes(), where or str(path))


def _number(kind: type[int] | type[float], where: str) -> Any:
    def parse(text: str) -> int | float:
        if len(text) > MAX_NUMBER_CHARS:
            raise InputError(
                f"a number of {len(text)} characters is longer than the limit of "
                f"{MAX_NUMBER_CHARS}",
                field=where,
            )
        return kind(text)

    return parse


def _depth(doc: Any) -> int:
    """Deepest nesting of lists and dicts in ``doc`` (iterative: no recursion limit)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            values = item.values() if isinstance(item, dict) else item
            stack.extend((v, level + 1) for v in values)
    return deepest


def loads_json(text: str, where: str) -> Any:
    """Parse JSON under the limits: depth and number length.

    ``NaN`` and ``Infinity`` parse (as ``json.loads`` does) so that the schema that reads the
    document names the field holding them; every greenlane schema refuses non-finite numbers.
    """
    try:
        doc = json.loads(
            text,
            parse_int=_number(int, where),
            parse_float=_number(float, where),
        )
    except RecursionError:
        raise InputError(
            f"nesting deeper than the limit of {MAX_JSON_DEPTH} levels", field=where
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", field=where
        ) from None
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(f"invalid JSON: {exc}", field=where) from None
    if _depth(doc) > MAX_JSON_DEPTH:
        raise InputError(f"nesting deeper than the limit of {MAX_JSON_DEPTH} levels", field=where)
    return doc


def read_json(path: Path, max_bytes: int = MAX_CHAIN_BYTES, where: str | None = None) -> Any:
    """A JSON file under the limits (size checked before reading)."""
    where = where or str(path)
    return loads_json(read_text(path, max_bytes, where), where)


def csv_rows(
    text: str,
    *,
    max_rows: int | None = None,
    where: str = "line",
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and ``(line number, row)`` pairs of a CSV text under the limits.

    A cell longer than ``MAX_FIELD_CHARS``, a row with more cells than the header, or more
    than ``max_rows`` data rows is refused naming ``line[N]`` (the header is line 1).
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise InputError(str(exc), field=f"{where}[1]") from None
    header = [h.strip() for h in header]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        n = 0
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(
                    f"{exc} (cells are limited to {MAX_FIELD_CHARS} characters)",
                    field=f"{where}[{start}]",
                ) from None
            if not any(c.strip() for c in cells):
                continue
            n += 1
            if max_rows is not None and n > max_rows:
                raise InputError(
                    f"more than the limit of {max_rows} rows", field=f"{where}[{start}]"
                )
            for j, cell in enumerate(cells):
                if len(cell) > MAX_FIELD_CHARS:
                    col = header[j] if j < len(header) else f"column {j + 1}"
                    raise InputError(
                        f"a cell of {len(cell)} characters is longer than the limit of "
                        f"{MAX_FIELD_CHARS}",
                        field=f"{where}[{start}].{col}",
                    )
            if len(cells) > len(header):
                raise InputError("more cells than header columns", field=f"{where}[{start}]")
            yield start, dict(zip(header, cells, strict=False))

    return header, rows()
