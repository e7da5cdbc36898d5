"""Alembic environment: always run programmatically on a connection the caller provides."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from tidings.store.migrate import compare_column_types
from tidings.store.models import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=compare_column_types,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through tidings.store.migrate, which passes a connection")
_run(connection)
