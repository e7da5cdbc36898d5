"""Routes and senders from a file, so carrier connections can be versioned with the deployment.

A TOML file (``TIDINGS_CONFIG_FILE``, applied at every start, or ``tidings config apply FILE``)::

    [[routes]]
    name = "carrier-a"
    kind = "smpp"               # the default; every other key is a setting of the kind
    host = "smsc.example.net"
    port = 2775
    system_id = "acme"
    password = "secret"
    binds = 2
    window = 50
    max_tps = 100
    default = true              # the default route of every channel it carries
    # channels = ["sms"]        # what it carries (default: every channel its kind can)

    [[senders]]
    account = "01J..."          # account id
    address = "Acme"
    route = "carrier-a"

Applying is idempotent: a route is created, or updated to match the file; a sender is
registered if missing, and its route set to the file's. Nothing the file does not name is
removed, so routes and senders added through the API or CLI stay.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tidings.core import accounts, routing
from tidings.errors import InvalidRequest, NotFound
from tidings.phone import InvalidSender, parse_sender
from tidings.store.engine import Database
from tidings.store.records import AccountRecord, RouteRecord

# The keys of a [[routes]] table that are not settings of its kind's transport.
_ROUTE_KEYS = frozenset({"name", "kind", "default", "channels"})


class InvalidConfigFile(InvalidRequest):
    """The configuration file cannot be applied."""


@dataclass(slots=True)
class AppliedConfig:
    routes_created: list[str] = field(default_factory=list)
    routes_updated: list[str] = field(default_factory=list)
    senders_added: list[str] = field(default_factory=list)
    senders_updated: list[str] = field(default_factory=list)


def load_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise InvalidConfigFile(f"cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidConfigFile(f"{path} is not valid TOML: {error}") from None


def _table_list(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InvalidConfigFile(f"[[{key}]] must be an array of tables")
    return value


async def apply_config(
    database: Database, kinds: routing.RouteKinds, document: dict[str, Any]
) -> AppliedConfig:
    """Make the database's routes and senders match ``document`` (see the module docstring)."""
    unknown = set(document) - {"routes", "senders"}
    if unknown:
        raise InvalidConfigFile(f"unknown section(s): {', '.join(sorted(unknown))}")
    applied = AppliedConfig()
    existing = {route.name: route for route in await routing.list_routes(database)}
    for number, entry in enumerate(_table_list(document, "routes"), 1):
        name = entry.get("name")
        if not isinstance(name, str):
            raise InvalidConfigFile(f"routes #{number}: name is required")
        kind = entry.get("kind", routing.SMPP)
        channels = entry.get("channels")
        if not isinstance(kind, str):
            raise InvalidConfigFile(f"route {name!r}: kind is a string")
        if channels is not None and (
            not isinstance(channels, list) or not all(isinstance(c, str) for c in channels)
        ):
            raise InvalidConfigFile(f"route {name!r}: channels is a list of channel names")
        settings = {k: v for k, v in entry.items() if k not in _ROUTE_KEYS}
        try:
            if name in existing:
                if await _update_route(database, kinds, existing[name], entry, settings):
                    applied.routes_updated.append(name)
            else:
                await routing.create_route(
                    database,
                    kinds,
                    name=name,
                    kind=kind,
                    settings=settings,
                    channels=channels,
                    is_default=bool(entry.get("default")),
                )
                applied.routes_created.append(name)
        except InvalidConfigFile:
            raise
        except InvalidRequest as error:
            raise InvalidConfigFile(f"route {name!r}: {error.message}") from None
    for number, entry in enumerate(_table_list(document, "senders"), 1):
        account_id, address = entry.get("account"), entry.get("address")
        if not isinstance(account_id, str) or not isinstance(address, str):
            raise InvalidConfigFile(f"senders #{number}: account and address are required")
        route_name = entry.get("route")
        try:
            account = await accounts.get_account(database, account_id)
        except NotFound:
            raise InvalidConfigFile(f"sender {address!r}: no account {account_id}") from None
        try:
            registered = {
                view.sender.address: view
                for view in await routing.list_senders(database, account.id)
            }
            view = await _find_sender(registered, account, address)
            if view is None:
                await routing.add_sender(database, account, address, route_name=route_name)
                applied.senders_added.append(address)
            elif view.route_name != route_name:
                await routing.set_sender_route(database, account, view.sender.id, route_name)
                applied.senders_updated.append(address)
        except InvalidRequest as error:
            raise InvalidConfigFile(f"sender {address!r}: {error.message}") from None
    return applied


async def _update_route(
    database: Database,
    kinds: routing.RouteKinds,
    current: RouteRecord,
    entry: dict[str, Any],
    settings: dict[str, Any],
) -> bool:
    """Bring a route to what its table says; whether anything changed."""
    kind = entry.get("kind", routing.SMPP)
    if kind != current.kind:
        raise InvalidConfigFile(
            f"route {current.name!r} is a {current.kind} route; a route keeps its kind "
            "(give the new one another name)"
        )
    model = kinds.settings_model(kind)
    wanted = model.from_stored(current.settings, current.secrets).with_changes(settings)
    changed_settings = wanted.stored() != (dict(current.settings), dict(current.secrets))
    channels = entry.get("channels")
    changed_channels = channels is not None and set(channels) != current.channels
    make_default = bool(entry.get("default")) and current.default_for != current.channels
    if not (changed_settings or changed_channels or make_default):
        return False
    await routing.update_route(
        database,
        kinds,
        current.name,
        settings=settings if changed_settings else None,
        channels=channels if changed_channels else None,
        is_default=True if make_default else None,
    )
    return True


async def _find_sender(
    registered: dict[str, routing.SenderView], account: AccountRecord, address: str
) -> routing.SenderView | None:
    # The file may write a number the way people do; compare in the stored (normalised) form.
    try:
        normalised = parse_sender(address, account.region).address
    except InvalidSender as error:
        raise InvalidRequest(error.message, field="address") from None
    return registered.get(normalised)
