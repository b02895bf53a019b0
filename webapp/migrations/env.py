"""Alembic environment: runs on the connection handed over by ``webapp.db.migrate``."""

from __future__ import annotations

from alembic import context

from greenlane.webapp.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through webapp.db.migrate
    raise RuntimeError("run migrations through webapp.db.migrate(engine)")
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
