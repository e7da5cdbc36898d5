"""Run the Alembic migrations shipped inside the package, programmatically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import String, Text, text
from sqlalchemy.engine import Connection

from tidings.store.engine import Database
from tidings.store.models import Base

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Any constant works; it only has to be the same for every tidings process on one database.
_MIGRATION_LOCK_ID = 0x7469_6469


def compare_column_types(
    context: MigrationContext,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: Any,
    metadata_type: Any,
) -> bool | None:
    """Alembic's type comparison (None), except that on SQLite a VARCHAR's width is not
    compared: SQLite keeps no widths, and widening a column there (``0015``) would rebuild its
    table, and the tables that refer to it, for nothing. PostgreSQL still compares them."""
    if (
        context.dialect.name == "sqlite"
        and isinstance(inspected_type, String)
        and isinstance(metadata_type, String)
        and isinstance(inspected_type, Text) == isinstance(metadata_type, Text)
    ):
        return False
    return None


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Two processes starting at once must not both create the tables.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
    command.upgrade(alembic_config(connection), revision)


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (default: the newest)."""
    async with database.write() as connection:
        await connection.run_sync(_upgrade, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(database: Database) -> str | None:
    async with database.read() as connection:
        return await connection.run_sync(_current)


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": compare_column_types})
    return list(compare_metadata(context, Base.metadata))


async def schema_differences(database: Database) -> list[Any]:
    """What autogenerate would change to make the database match the models (empty when in sync)."""
    async with database.read() as connection:
        return await connection.run_sync(_diff)
