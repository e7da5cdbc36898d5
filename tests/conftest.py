"""Database fixtures shared by every test that needs a real database.

``database_url`` is SQLite in a temporary directory, or, when ``TIDINGS_TEST_DATABASE_URL`` is
set, PostgreSQL with a schema of its own (``search_path`` in the URL) that is dropped afterwards,
so concurrent runs never see each other's tables.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from hypothesis import settings
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tidings.store.engine import Database, create_engine
from tidings.store.migrate import upgrade

TEST_DATABASE_URL_ENV = "TIDINGS_TEST_DATABASE_URL"

# Property tests check behaviour, not speed: on a shared, loaded machine a first example can
# take far longer than hypothesis's default 200 ms deadline (loading a region's number metadata,
# say), and that would fail a correct test.
settings.register_profile("tidings", deadline=None)
settings.load_profile("tidings")

# The same holds for a test's own HTTP client: httpx gives up on a read after 5 s, and with two
# workers on two cores an in-process service has once taken longer than that to answer a plain
# GET (tests/integration/mms/test_cli.py in CI). A test that means a timeout passes one; every
# client of the service's own code passes its own, so this moves only the tests' clients.
TEST_CLIENT_TIMEOUT = httpx.Timeout(30.0)
for _client in (httpx.Client, httpx.AsyncClient):
    assert _client.__init__.__kwdefaults__ is not None
    _client.__init__.__kwdefaults__["timeout"] = TEST_CLIENT_TIMEOUT


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    server_url = os.environ.get(TEST_DATABASE_URL_ENV)
    if not server_url:
        yield f"sqlite+aiosqlite:///{tmp_path / 'tidings.db'}"
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(server_url)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield (
            make_url(server_url)
            .update_query_dict({"search_path": schema})
            .render_as_string(hide_password=False)
        )
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated database, closed after the test."""
    db = Database.from_url(database_url)
    await upgrade(db)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture(autouse=True)
def _private_cli_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test has a user config directory of its own, and no service URL or API secret
    from the environment the suite runs in: the CLI and `serve` read and write credentials
    there (``tidings.cli.credentials``)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    for name in ("TIDINGS_URL", "TIDINGS_API_SECRET"):
        monkeypatch.delenv(name, raising=False)


# Before pytest-xdist's own hook, which reads the xdist_group marks.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes no ``database_url`` (directly or through another fixture) cannot see
    the suite's database, so it runs the same on SQLite and on PostgreSQL: it is ``once``, and
    CI's PostgreSQL pass leaves it to the SQLite pass.

    Under ``pytest -n N --dist loadgroup`` the browser tests stay on one worker: they share one
    ``tidings serve`` and one Chromium per module, which other workers would start again."""
    for item in items:
        if "database_url" not in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.once)
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))
