"""Getting a database ready for a service: schema migrations, the embedded simulator's route, and
the routes and senders of the configuration file when there is one.

Only a starting service does all of it. CLI commands only migrate (``tidings.store.migrate``):
run from another terminal without the service's variables, they would point the simulator route at
their own default port and cut the running service off from its simulator.
"""

from __future__ import annotations

from tidings.config import Settings
from tidings.core.config_file import apply_config, load_config_file
from tidings.core.routing import RouteKinds, ensure_simulator_route
from tidings.store.engine import Database
from tidings.store.migrate import upgrade


async def prepare_database(database: Database, settings: Settings, kinds: RouteKinds) -> None:
    """Migrate to the newest schema, point the ``simulator`` route at this service's simulator
    port and apply the configuration file (its routes checked against ``kinds``).

    Run at service start; every step does nothing when already done.
    """
    await upgrade(database)
    await ensure_simulator_route(database, kinds, port=settings.simulator_port)
    if settings.config_file is not None:
        await apply_config(database, kinds, load_config_file(settings.config_file))
