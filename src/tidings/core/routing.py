"""Routes (connections to carriers, each of a transport kind) and senders, and choosing the
route for a message.

Managing routes is an operator task (``core.accounts.Role``): only an operator creates, changes,
lists or removes routes, and assigns a route to a sender. Senders belong to an account and are
added and removed by it; a tenant sees only the names and state of the routes its messages
take (:func:`routes_of_account`). A route carries channels; each channel has at most one
default route, where its messages go when their sender has no route of its own carrying it.
The route named ``simulator`` (the embedded SMSC) is ensured at ``tidings migrate`` and at
service start, not by a schema migration, because its port comes from the settings.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core.accounts import utcnow
from tidings.core.channels import Channel
from tidings.core.transport_settings import TransportSettings
from tidings.errors import (
    AlreadyExists,
    InvalidRequest,
    NotFound,
    RouteInUse,
    UnregisteredSender,
)
from tidings.phone import InvalidSender, SenderKind, parse_sender
from tidings.store import routes as route_store
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.records import AccountRecord, RouteRecord, SenderRecord

SIMULATOR_ROUTE = "simulator"
SMPP = "smpp"


class RouteKinds(Protocol):
    """What routing needs to know of the transports: the registry in ``dispatch.transport``
    provides it, passed in by whoever builds the service, the app or the CLI command."""

    def settings_model(self, kind: str) -> type[TransportSettings]:
        """The settings model of ``kind``; :class:`InvalidRequest` when no transport has it."""
        ...

    def channels_of(self, kind: str) -> frozenset[Channel]:
        """The channels a transport of ``kind`` can carry."""
        ...


_ROUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _check_name(name: str) -> None:
    if not _ROUTE_NAME.match(name):
        raise InvalidRequest("a route name is 1-64 of A-Z a-z 0-9 _ . -", field="name")


def _check_channels(kinds: RouteKinds, kind: str, channels: Collection[str]) -> list[str]:
    carried = kinds.channels_of(kind)
    checked: list[str] = []
    for channel in channels:
        if channel not in carried:
            allowed = ", ".join(sorted(carried))
            raise InvalidRequest(
                f"a {kind} route carries {allowed}, not {channel!r}", field="channels"
            )
        if channel not in checked:
            checked.append(channel)
    if not checked:
        raise InvalidRequest("a route carries at least one channel", field="channels")
    return checked


async def create_route(
    database: Database,
    kinds: RouteKinds,
    *,
    name: str,
    kind: str = SMPP,
    settings: Mapping[str, Any],
    channels: Collection[str] | None = None,
    is_default: bool = False,
) -> RouteRecord:
    """A new route of ``kind``, its settings checked by the kind's model. It carries
    ``channels`` (every channel its transport can, if None), and becomes the default route
    of each it carries if ``is_default``, or if no route is that channel's default yet."""
    _check_name(name)
    checked = kinds.settings_model(kind).checked(settings)
    wanted = kinds.channels_of(kind) if channels is None else channels
    carried = _check_channels(kinds, kind, wanted)
    shown, hidden = checked.stored()
    async with database.write() as connection:
        if await route_store.find_route_by_name(connection, name) is not None:
            raise AlreadyExists(f"a route named {name!r} exists")
        route = await route_store.insert_route(
            connection,
            name=name,
            kind=kind,
            settings=shown,
            secrets=hidden,
            channels=carried,
            at=utcnow(),
        )
        defaults = (
            carried
            if is_default
            else await route_store.channels_without_default(connection, carried)
        )
        if defaults:
            await route_store.make_default_route(connection, route.id, defaults)
            updated = await route_store.find_route(connection, route.id)
            assert updated is not None
            route = updated
    return route


async def get_route(database: Database, name: str) -> RouteRecord:
    async with database.read() as connection:
        route = await route_store.find_route_by_name(connection, name)
    if route is None:
        raise NotFound(f"no route named {name!r}")
    return route


async def list_routes(database: Database) -> list[RouteRecord]:
    async with database.read() as connection:
        return await route_store.list_routes(connection)


async def update_route(
    database: Database,
    kinds: RouteKinds,
    name: str,
    *,
    new_name: str | None = None,
    settings: Mapping[str, Any] | None = None,
    channels: Collection[str] | None = None,
    is_default: bool | None = None,
) -> RouteRecord:
    """Change a route: ``settings`` are changes to its settings (the rest stay), checked as a
    whole again; ``channels`` replaces what it carries; ``is_default`` makes it the default
    route of every channel it carries (false is refused while it is one: make another route
    the default instead)."""
    if new_name is not None:
        _check_name(new_name)
    async with database.write() as connection:
        route = await route_store.find_route_by_name(connection, name)
        if route is None:
            raise NotFound(f"no route named {name!r}")
        if is_default is False and route.is_default:
            raise RouteInUse("make another route the default instead")
        if (
            new_name
            and new_name != name
            and await route_store.find_route_by_name(connection, new_name) is not None
        ):
            raise AlreadyExists(f"a route named {new_name!r} exists")
        shown = hidden = None
        if settings:
            model = kinds.settings_model(route.kind)
            current = model.from_stored(route.settings, route.secrets)
            shown, hidden = current.with_changes(settings).stored()
        carried = list(route.channels)
        if channels is not None:
            carried = _check_channels(kinds, route.kind, channels)
            dropped = route.default_for - set(carried)
            if dropped:
                raise RouteInUse(
                    f"route {name!r} is the default route of {', '.join(sorted(dropped))}: "
                    "make another route the default first"
                )
            await route_store.set_route_channels(connection, route.id, carried)
            await route_store.make_default_route(
                connection,
                route.id,
                await route_store.channels_without_default(connection, carried),
            )
        if is_default:
            await route_store.make_default_route(connection, route.id, carried)
        updated = await route_store.update_route(
            connection, route.id, at=utcnow(), name=new_name, settings=shown, secrets=hidden
        )
    assert updated is not None
    return updated


async def routes_of_account(database: Database, account_id: str) -> list[RouteRecord]:
    """The routes an account's messages take: its senders' routes and the default route."""
    async with database.read() as connection:
        routes = await route_store.list_routes(connection)
        used = {
            sender.route_id
            for sender in await route_store.list_senders(connection, account_id)
            if sender.route_id is not None
        }
    return [route for route in routes if route.is_default or route.id in used]


async def remove_route(database: Database, name: str) -> None:
    async with database.write() as connection:
        route = await route_store.find_route_by_name(connection, name)
        if route is None:
            raise NotFound(f"no route named {name!r}")
        taken_over = await route_store.other_routes_carrying(
            connection, route.id, route.default_for
        )
        if taken_over:
            raise RouteInUse(
                f"route {name!r} is the default route of {', '.join(sorted(taken_over))}"
            )
        in_use = await route_store.count_senders_on_route(connection, route.id)
        if in_use:
            raise RouteInUse(f"route {name!r} is used by {in_use} sender(s)")
        await route_store.delete_route(connection, route.id)


async def ensure_simulator_route(
    database: Database, kinds: RouteKinds, *, port: int
) -> RouteRecord:
    """Make sure the route to the embedded simulator exists and points at its current port."""
    try:
        return await _ensure_simulator_route(database, kinds, port=port)
    except (IntegrityError, AlreadyExists):
        # Another process starting at the same moment created it first; now it exists.
        return await _ensure_simulator_route(database, kinds, port=port)


async def _ensure_simulator_route(
    database: Database, kinds: RouteKinds, *, port: int
) -> RouteRecord:
    async with database.read() as connection:
        route = await route_store.find_route_by_name(connection, SIMULATOR_ROUTE)
    if route is None:
        return await create_route(
            database,
            kinds,
            name=SIMULATOR_ROUTE,
            kind=SMPP,
            settings={
                "host": "127.0.0.1",
                "port": port,
                "system_id": "tidings",
                "password": "tidings",
                "window": 100,
            },
        )
    settings = route.settings
    if route.kind == SMPP and settings.get("host") == "127.0.0.1" and settings.get("port") != port:
        return await update_route(database, kinds, SIMULATOR_ROUTE, settings={"port": port})
    return route


PHONE_SIMULATOR_ROUTE = "voice"
SIP = "sip"


async def ensure_phone_simulator_route(
    database: Database, kinds: RouteKinds, *, port: int
) -> RouteRecord:
    """Make sure the ``voice`` route to the simulator's phone network exists and points at its
    current SIP port (which may change from one start to the next)."""
    try:
        return await _ensure_phone_simulator_route(database, kinds, port=port)
    except IntegrityError:
        return await _ensure_phone_simulator_route(database, kinds, port=port)


async def _ensure_phone_simulator_route(
    database: Database, kinds: RouteKinds, *, port: int
) -> RouteRecord:
    async with database.read() as connection:
        route = await route_store.find_route_by_name(connection, PHONE_SIMULATOR_ROUTE)
    if route is None:
        return await create_route(
            database,
            kinds,
            name=PHONE_SIMULATOR_ROUTE,
            kind=SIP,
            settings={
                "host": "127.0.0.1",
                "port": port,
                "max_calls": 20,
                "ring_timeout": 20.0,
                # Apart from the phone network's own media ports (40000-40999).
                "rtp_port_low": 44000,
                "rtp_port_high": 45999,
            },
        )
    settings = route.settings
    if route.kind == SIP and settings.get("host") == "127.0.0.1" and settings.get("port") != port:
        return await update_route(database, kinds, PHONE_SIMULATOR_ROUTE, settings={"port": port})
    return route


async def ensure_embedded_route(
    database: Database,
    kinds: RouteKinds,
    *,
    name: str,
    kind: str,
    settings: Mapping[str, Any],
    follows: Mapping[str, Any],
) -> RouteRecord:
    """Make sure the route ``name`` to one of the embedded simulators exists (made with
    ``settings`` and ``follows``), and that its ``follows`` settings (where the simulator
    listens, which may change from one start to the next) are current, unless someone pointed
    the route away from this host on purpose."""
    try:
        route = await get_route(database, name)
    except NotFound:
        try:
            return await create_route(
                database, kinds, name=name, kind=kind, settings={**settings, **follows}
            )
        except (AlreadyExists, IntegrityError):  # another process made it at the same moment
            route = await get_route(database, name)
    stale = {key: value for key, value in follows.items() if route.settings.get(key) != value}
    if route.kind != kind or not stale or "127.0.0.1" not in str(route.settings):
        return route
    return await update_route(database, kinds, name, settings=stale)


@dataclass(frozen=True, slots=True)
class SenderView:
    sender: SenderRecord
    route_name: str | None
    # alpha, long or short (as the address reads), or whatsapp: a number assigned to a route
    # that carries WhatsApp, i.e. one of that WhatsApp Business Account's phone numbers.
    kind: str


async def _route_id_for(connection: AsyncConnection, route_name: str | None) -> int | None:
    if route_name is None:
        return None
    route = await route_store.find_route_by_name(connection, route_name)
    if route is None:
        raise InvalidRequest(f"no route named {route_name!r}", field="route")
    return route.id


# The kind of a sender that is a WhatsApp business number (SmartDialog's identities).
WHATSAPP_SENDER = "whatsapp"


async def _view(connection: AsyncConnection, sender: SenderRecord) -> SenderView:
    route = (
        None
        if sender.route_id is None
        else await route_store.find_route(connection, sender.route_id)
    )
    kind = sender.kind
    if (
        route is not None
        and kind == SenderKind.LONG.value
        and await route_store.route_carries(connection, route.id, Channel.WHATSAPP)
    ):
        kind = WHATSAPP_SENDER
    return SenderView(sender=sender, route_name=None if route is None else route.name, kind=kind)


async def add_sender(
    database: Database,
    account: AccountRecord,
    address: str,
    *,
    route_name: str | None = None,
    default: bool = False,
) -> SenderView:
    """Register a sender; ``default`` makes it the account's default sender instead of the
    one that was."""
    try:
        parsed = parse_sender(address, account.region)
    except InvalidSender as error:
        raise InvalidRequest(error.message, field="address") from None
    async with database.write() as connection:
        route_id = await _route_id_for(connection, route_name)
        if await route_store.find_sender_by_address(connection, account.id, parsed.address):
            raise AlreadyExists(f"sender {parsed.address!r} is already registered")
        if default:
            await route_store.clear_default_sender(connection, account.id)
        try:
            sender = await route_store.insert_sender(
                connection,
                id=new_id(),
                account_id=account.id,
                address=parsed.address,
                kind=parsed.kind.value,
                route_id=route_id,
                created_at=utcnow(),
                is_default=default,
            )
        except IntegrityError:
            raise AlreadyExists(f"sender {parsed.address!r} is already registered") from None
        return await _view(connection, sender)


async def list_senders(database: Database, account_id: str | None) -> list[SenderView]:
    """The account's senders, or every account's when ``account_id`` is None (CLI only)."""
    async with database.read() as connection:
        senders = await route_store.list_senders(connection, account_id)
        return [await _view(connection, sender) for sender in senders]


async def get_sender(database: Database, account: AccountRecord, sender_id: str) -> SenderView:
    async with database.read() as connection:
        sender = await route_store.find_sender(connection, account.id, sender_id)
        if sender is None:
            raise NotFound(f"no sender {sender_id}")
        return await _view(connection, sender)


async def set_sender_route(
    database: Database, account: AccountRecord, sender_id: str, route_name: str | None
) -> SenderView:
    async with database.write() as connection:
        route_id = await _route_id_for(connection, route_name)
        sender = await route_store.update_sender(
            connection, account.id, sender_id, route_id=route_id
        )
        if sender is None:
            raise NotFound(f"no sender {sender_id}")
        return await _view(connection, sender)


async def set_default_sender(
    database: Database, account: AccountRecord, sender_id: str, default: bool
) -> SenderView:
    """Make the sender the account's default sender (the one before it no longer is), or stop
    it being the default."""
    async with database.write() as connection:
        if default:
            await route_store.clear_default_sender(connection, account.id)
        sender = await route_store.update_sender(
            connection, account.id, sender_id, is_default=default
        )
        if sender is None:
            raise NotFound(f"no sender {sender_id}")
        return await _view(connection, sender)


async def default_sender(database: Database, account: AccountRecord) -> SenderRecord | None:
    """What a message goes out under when its request names no sender (ClickSend's connector
    has no sender field; TrueDialog's channel 22 is "the account's long code"): the sender the
    account marked as default, or else its first registered long code; None without either."""
    async with database.read() as connection:
        return await route_store.find_default_sender(connection, account.id)


async def remove_sender(database: Database, account: AccountRecord, sender_id: str) -> None:
    async with database.write() as connection:
        if not await route_store.delete_sender(connection, account.id, sender_id):
            raise NotFound(f"no sender {sender_id}")


async def route_for_sender(
    connection: AsyncConnection,
    account: AccountRecord,
    sender_address: str,
    channel: str = Channel.SMS,
) -> int | None:
    """The route a message of ``channel`` from ``sender_address`` takes.

    A registered sender uses its own route if that carries the channel, or else the channel's
    default route. An unregistered sender goes over the default route unless the account sends
    only from registered senders.
    """
    registered, own_route, default_route = await route_store.route_choice_for_sender(
        connection, account.id, sender_address, channel
    )
    if not registered and account.restrict_to_registered_senders:
        raise UnregisteredSender(
            f"{sender_address!r} is not a registered sender of this account", field="from"
        )
    return own_route if own_route is not None else default_route


async def owner_of_number(database: Database, address: str) -> SenderRecord | None:
    """Inbound routing: the registered long or short code ``address`` (E.164 or short code).

    An SMSC may give an international number without its type of number (TON 0), so a long run
    of digits that matches no short code is also tried as E.164.
    """
    async with database.read() as connection:
        owner = await route_store.find_number_owner(connection, address)
        if owner is None and address.isdigit() and len(address) > 8:
            owner = await route_store.find_number_owner(connection, "+" + address)
        return owner
