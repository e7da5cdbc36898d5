"""The server secret: generated once and shared through the database, or configured."""

from __future__ import annotations

import asyncio

import pytest

from tidings.core.secrets import SecretKeyTooShort, load_server_secret
from tidings.store.engine import Database


async def test_processes_sharing_a_database_derive_the_same_keys(
    database: Database, database_url: str
) -> None:
    # Two processes starting at once: each its own connection pool, one secret kept.
    other = Database.from_url(database_url)
    try:
        first, second = await asyncio.gather(
            load_server_secret(database, None), load_server_secret(other, None)
        )
        assert first.derive("media-url") == second.derive("media-url")
        again = await load_server_secret(other, None)
        assert again.derive("media-url") == first.derive("media-url")
    finally:
        await other.close()
    assert first.derive("media-url") != first.derive("console-session")
    assert len(first.derive("media-url")) == 32


async def test_a_configured_secret_wins_and_must_be_long_enough(database: Database) -> None:
    generated = await load_server_secret(database, None)
    configured = await load_server_secret(database, "correct horse battery staple")
    assert configured.derive("media-url") != generated.derive("media-url")
    assert configured == await load_server_secret(database, "correct horse battery staple")
    with pytest.raises(SecretKeyTooShort):
        await load_server_secret(database, "short")
    assert "correct horse" not in repr(configured)
