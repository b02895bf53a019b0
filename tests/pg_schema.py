"""A throw-away PostgreSQL schema for the real-database tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
"""PostgreSQL of this machine kind (trust auth); GREENLANE_TEST_DATABASE_URL overrides."""


@contextmanager
def fresh_pg_schema(prefix: str) -> Iterator[str]:
    """Yield a URL whose search_path is a new schema ``<prefix>_<hex>``, dropped afterwards.

    Skips the test when no server answers.
    """
    from sqlalchemy import create_engine, text

    from greenlane.webapp.config import normalise_database_url, test_database_url

    base = normalise_database_url(test_database_url() or DEFAULT_PG)
    try:
        admin = create_engine(base, connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # any driver or network error means: no server here
        pytest.skip(f"PostgreSQL not reachable at {base.split('@')[-1]}: {type(exc).__name__}")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
