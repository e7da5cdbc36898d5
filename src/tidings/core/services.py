"""Services: named ways of sending for an account, each with its senders.

A service is OneWay (send only), TwoWay (replies come back to its numbers) or Group (backed by a
contact list, the group's members). Provider dialects whose tenants pick a service per request
(SmartDialog) resolve it here; the send itself is the ordinary :mod:`tidings.core.messaging` one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError

from tidings.core import contacts, lists
from tidings.core.accounts import utcnow
from tidings.errors import AlreadyExists, InvalidRequest, NotFound
from tidings.phone import InvalidNumber, InvalidSender, normalize_number, parse_sender
from tidings.store import contacts as contact_store
from tidings.store import services as service_store
from tidings.store.contacts import ContactRecord
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.records import AccountRecord
from tidings.store.services import ServiceRecord


class ServiceKind(StrEnum):
    ONE_WAY = "OneWay"
    TWO_WAY = "TwoWay"
    GROUP = "Group"


def parse_kind(value: str) -> ServiceKind:
    for kind in ServiceKind:
        if kind.value.lower() == value.strip().lower():
            return kind
    raise InvalidRequest(
        f"unknown service type {value!r} (OneWay, TwoWay or Group)", field="ServiceType"
    )


def senders_of(service: ServiceRecord) -> list[str]:
    loaded = json.loads(service.senders)
    return [str(sender) for sender in loaded] if isinstance(loaded, list) else []


async def create_service(
    database: Database,
    account: AccountRecord,
    name: str,
    kind: ServiceKind,
    *,
    senders: Sequence[str] = (),
    allow_reply: bool = False,
) -> ServiceRecord:
    """Create a service; a Group service gets a contact list of the same name for its members."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidRequest("a service name has 1 to 200 characters", field="name")
    cleaned: list[str] = []
    for sender in senders:
        try:
            cleaned.append(parse_sender(sender, account.region).address)
        except InvalidSender as error:
            raise InvalidRequest(error.message, field="senders") from None
    list_id = None
    if kind is ServiceKind.GROUP:
        list_id = (await lists.ensure_list(database, account, f"service {name}")).id
    values = {
        "id": new_id(),
        "account_id": account.id,
        "name": name,
        "kind": kind.value,
        "senders": json.dumps(cleaned),
        "list_id": list_id,
        "allow_reply": allow_reply,
        "created_at": utcnow(),
    }
    try:
        async with database.write() as connection:
            return await service_store.insert_service(connection, **values)
    except IntegrityError:
        raise AlreadyExists(f"a service named {name!r} already exists") from None


async def list_services(
    database: Database,
    account: AccountRecord,
    *,
    kind: ServiceKind | None = None,
    allow_reply: bool | None = None,
) -> list[ServiceRecord]:
    async with database.read() as connection:
        found = await service_store.list_services(
            connection, account.id, kind=None if kind is None else kind.value
        )
    return [s for s in found if allow_reply is None or s.allow_reply == allow_reply]


async def get_service(
    database: Database, account: AccountRecord, service_id: str, *, kind: ServiceKind | None = None
) -> ServiceRecord:
    """The account's service; another account's, or one of another kind, is not found."""
    async with database.read() as connection:
        found = await service_store.find_service(connection, account.id, service_id)
    if found is None or (kind is not None and found.kind != kind.value):
        what = "service" if kind is None else f"{kind.value} service"
        raise NotFound(f"no {what} {service_id}")
    return found


def check_sender(account: AccountRecord, service: ServiceRecord, sender: str) -> str:
    """The sender, if the service may send from it (a service without senders allows any)."""
    allowed = senders_of(service)
    if not allowed:
        return sender
    try:
        address = parse_sender(sender, account.region).address
    except InvalidSender as error:
        raise InvalidRequest(error.message, field="Sender") from None
    if address not in allowed:
        raise InvalidRequest(
            f"service {service.name!r} does not send from {sender!r}", field="Sender"
        )
    return sender


def group_list_id(service: ServiceRecord) -> str:
    if service.kind != ServiceKind.GROUP.value or service.list_id is None:
        raise NotFound(f"no Group service {service.id}")
    return service.list_id


async def find_group_member(
    database: Database, account: AccountRecord, service: ServiceRecord, phone: str, *, region: str
) -> ContactRecord:
    """The contact with this phone in the Group service's list (else not found)."""
    list_id = group_list_id(service)
    try:
        number = normalize_number(phone, region)
    except InvalidNumber as error:
        raise InvalidRequest(error.message, field="Phone") from None
    async with database.read() as connection:
        contact = await contact_store.find_contact_by_phone(connection, account.id, number)
        member = contact is not None and await contact_store.is_member(
            connection, list_id, contact.id
        )
    if contact is None or not member:
        raise NotFound(f"no contact {number} in group {service.name!r}")
    return contact


async def add_group_member(
    database: Database,
    account: AccountRecord,
    service: ServiceRecord,
    values: dict[str, Any],
    *,
    region: str,
) -> ContactRecord:
    """Create the contact (or update the one with that phone) and put it in the group."""
    list_id = group_list_id(service)
    try:
        values = {**values, "phone": normalize_number(str(values.get("phone", "")), region)}
    except InvalidNumber as error:
        raise InvalidRequest(error.message, field="phone") from None
    existing = await contacts.find_contact_by_phone(database, account, values["phone"])
    if existing is None:
        contact = await contacts.create_contact(database, account, values)
    else:
        changes = {k: v for k, v in values.items() if k != "phone"}
        contact = await contacts.update_contact(database, account, existing.id, changes)
    await lists.add_members(database, account, list_id, [contact.id])
    return contact


async def delete_service(database: Database, account: AccountRecord, service_id: str) -> None:
    """Remove a service; a Group service's contact list and its contacts stay."""
    async with database.write() as connection:
        if not await service_store.delete_service(connection, account.id, service_id):
            raise NotFound(f"no service {service_id}")
