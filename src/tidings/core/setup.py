"""Getting a database ready: schema migrations, the default simulator route, and the routes and
senders of the configuration file when there is one."""

from __future__ import annotations

from tidings.config import Settings
from tidings.core.config_file import apply_config, load_config_file
from tidings.core.routing import ensure_simulator_route
from tidings.store.engine import Database
from tidings.store.migrate import upgrade


async def prepare_database(database: Database, settings: Settings) -> None:
    """Migrate to the newest schema and make sure the ``simulator`` route exists.

    Run by ``tidings migrate`` and at service start; both steps do nothing when already done.
    """
    await upgrade(database)
    await ensure_simulator_route(database, port=settings.simulator_port)
    if settings.config_file is not None:
        await apply_config(database, load_config_file(settings.config_file))
