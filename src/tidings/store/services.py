"""Services (named ways of sending: OneWay, TwoWay, Group) and WhatsApp templates.

Every function takes the owning account id and scopes its query to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
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
    name: str | None
    route_id: int | None
    status: str | None
    meta_id: str | None
    status_reason: str | None
    status_at: datetime | None
    components: str | None
    made_at_meta: bool


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
    connection: AsyncConnection,
    account_id: str,
    *,
    template_id: str | None = None,
    status: str | None = None,
    identity: str | None = None,
    name: str | None = None,
    language: str | None = None,
    route_id: int | None = None,
) -> list[WhatsAppTemplateRecord]:
    table = whatsapp_templates
    query = select(table).where(table.c.account_id == account_id)
    for column, value in (
        (table.c.id, template_id),
        (table.c.status, status),
        (table.c.identity, identity),
        (table.c.name, name),
        (table.c.language, language),
        (table.c.route_id, route_id),
    ):
        if value is not None:
            query = query.where(column == value)
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


async def set_template_status(
    connection: AsyncConnection,
    *,
    route_id: int,
    name: str,
    language: str,
    status: str,
    reason: str | None,
    at: datetime,
    meta_id: str | None = None,
    account_id: str | None = None,
) -> int:
    """Meta's review status on the templates of this name and language submitted through the
    route (of every account that did, or of ``account_id`` only); how many changed."""
    table = whatsapp_templates
    query = (
        update(table)
        .where(table.c.route_id == route_id, table.c.name == name, table.c.language == language)
        .where(
            ~and_(
                table.c.status.is_not_distinct_from(status),
                table.c.status_reason.is_not_distinct_from(reason),
            )
        )
    )
    if account_id is not None:
        query = query.where(table.c.account_id == account_id)
    values: dict[str, Any] = {"status": status, "status_reason": reason, "status_at": at}
    if meta_id is not None:
        values["meta_id"] = meta_id
    result = await connection.execute(query.values(**values))
    return result.rowcount


async def taken_on_route_by_others(
    connection: AsyncConnection, account_id: str, route_id: int
) -> set[tuple[str, str]]:
    """The (name, language) of templates other accounts submitted through the route (not
    those they imported from it): a listing of its WhatsApp Business Account never imports
    those into ``account_id`` (another tenant's template stays theirs). Only the keys are
    read, nothing of their content."""
    table = whatsapp_templates
    result = await connection.execute(
        select(table.c.name, table.c.language).where(
            table.c.route_id == route_id,
            table.c.account_id != account_id,
            table.c.name.is_not(None),
            table.c.made_at_meta.is_(False),
        )
    )
    return {(str(name), str(language)) for name, language in result}


async def display_names(connection: AsyncConnection, account_id: str, language: str) -> set[str]:
    """The account's template names in this language (unique per account and language)."""
    table = whatsapp_templates
    result = await connection.execute(
        select(table.c.display_name).where(
            table.c.account_id == account_id, table.c.language == language
        )
    )
    return {str(name) for (name,) in result}


async def delete_template(connection: AsyncConnection, account_id: str, template_id: str) -> bool:
    result = await connection.execute(
        delete(whatsapp_templates).where(
            whatsapp_templates.c.account_id == account_id, whatsapp_templates.c.id == template_id
        )
    )
    return result.rowcount > 0


async def delete_service(connection: AsyncConnection, account_id: str, service_id: str) -> bool:
    result = await connection.execute(
        delete(services).where(services.c.account_id == account_id, services.c.id == service_id)
    )
    return result.rowcount == 1
