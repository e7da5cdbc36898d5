"""Services (named ways of sending: OneWay, TwoWay, Group) and WhatsApp templates.

Every function takes the owning account id and scopes its query to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.store.models import services, whatsapp_templates
from tidings.store.records import _Record


@dataclass(frozen=True, slots=True)
class ServiceRecord(_Record):
    id: str
    account_id: str
    name: str
    kind: str
    senders: str
    list_id: str | None
    allow_reply: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WhatsAppTemplateRecord(_Record):
    id: str
    account_id: str
    identity: str
    display_name: str
    raw_content: str
    category: str
    language: str
    buttons: str
    attachment_url: str | None
    created_at: datetime


async def insert_service(connection: AsyncConnection, **values: Any) -> ServiceRecord:
    row = (await connection.execute(insert(services).values(**values).returning(services))).one()
    return ServiceRecord.from_row(row)


async def find_service(
    connection: AsyncConnection, account_id: str, service_id: str
) -> ServiceRecord | None:
    row = (
        await connection.execute(
            select(services).where(services.c.account_id == account_id, services.c.id == service_id)
        )
    ).one_or_none()
    return None if row is None else ServiceRecord.from_row(row)


async def list_services(
    connection: AsyncConnection, account_id: str, *, kind: str | None = None
) -> list[ServiceRecord]:
    query = select(services).where(services.c.account_id == account_id)
    if kind is not None:
        query = query.where(services.c.kind == kind)
    result = await connection.execute(query.order_by(services.c.id))
    return [ServiceRecord.from_row(row) for row in result]


async def insert_template(connection: AsyncConnection, **values: Any) -> WhatsAppTemplateRecord:
    row = (
        await connection.execute(
            insert(whatsapp_templates).values(**values).returning(whatsapp_templates)
        )
    ).one()
    return WhatsAppTemplateRecord.from_row(row)


async def list_templates(
    connection: AsyncConnection, account_id: str, *, template_id: str | None = None
) -> list[WhatsAppTemplateRecord]:
    query = select(whatsapp_templates).where(whatsapp_templates.c.account_id == account_id)
    if template_id is not None:
        query = query.where(whatsapp_templates.c.id == template_id)
    result = await connection.execute(query.order_by(whatsapp_templates.c.id))
    return [WhatsAppTemplateRecord.from_row(row) for row in result]


async def find_template(
    connection: AsyncConnection, account_id: str, id_or_name: str
) -> WhatsAppTemplateRecord | None:
    """The account's template with this id, or else with this display name (names are unique
    per account; a name that is another template's id loses to that template)."""
    result = await connection.execute(
        select(whatsapp_templates).where(
            whatsapp_templates.c.account_id == account_id,
            or_(
                whatsapp_templates.c.id == id_or_name,
                whatsapp_templates.c.display_name == id_or_name,
            ),
        )
    )
    rows = [WhatsAppTemplateRecord.from_row(row) for row in result]
    return min(rows, key=lambda template: template.id != id_or_name, default=None)


async def delete_service(connection: AsyncConnection, account_id: str, service_id: str) -> bool:
    result = await connection.execute(
        delete(services).where(services.c.account_id == account_id, services.c.id == service_id)
    )
    return result.rowcount == 1
