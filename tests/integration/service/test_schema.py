"""The migrations and the models describe the same schema, on whichever backend runs the suite."""

from __future__ import annotations

from tidings.store.engine import Database
from tidings.store.migrate import current_revision, schema_differences, upgrade


async def test_migrated_schema_matches_the_models(database: Database) -> None:
    assert await schema_differences(database) == []


async def test_migrations_are_at_head_and_rerunning_them_changes_nothing(
    database: Database,
) -> None:
    before = await current_revision(database)
    await upgrade(database)
    assert before is not None
    assert await current_revision(database) == before
    assert await schema_differences(database) == []


async def test_an_empty_database_differs_from_the_models(database_url: str) -> None:
    # Guards the comparison itself: without migrations it must report the missing tables.
    empty = Database.from_url(database_url)
    try:
        differences = await schema_differences(empty)
    finally:
        await empty.close()
    added_tables = {diff[1].name for diff in differences if diff[0] == "add_table"}
    assert {"accounts", "messages", "message_parts", "idempotency"} <= added_tables
