"""WhatsApp templates as Meta reviews them: each template submitted to a route's WhatsApp
Business Account keeps its review status (PENDING, APPROVED, REJECTED, PAUSED, DISABLED...),
changed by the ``message_template_status_update`` webhook (:func:`record_review`) and by
listings of the account (:func:`apply_listing`). Only an APPROVED template is sent
(:func:`require_approved`, when a send is accepted).

The Graph API calls themselves (submit, list, delete) are the transport's
(``dispatch.transports.whatsapp``); this module keeps what they answer. Templates kept here
only (no WhatsApp route: SmartDialog sends them as SMS) have no status.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from tidings.core.accounts import utcnow
from tidings.core.channels import Channel
from tidings.errors import InvalidRequest
from tidings.phone import InvalidNumber, normalize_number
from tidings.store import routes as route_store
from tidings.store import services as service_store
from tidings.store.engine import Database
from tidings.store.records import AccountRecord
from tidings.store.services import WhatsAppTemplateRecord
from tidings.whatsapp.templates import TemplateStatus
from tidings.whatsapp.webhooks import TemplateUpdate

__all__ = [
    "ListedTemplate",
    "TemplateStatus",
    "WhatsAppTemplateRecord",
    "apply_listing",
    "body_parameters",
    "list_templates",
    "record_review",
    "require_approved",
    "sender_route",
]

_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


@dataclass(frozen=True, slots=True)
class ListedTemplate:
    """A template as the WhatsApp Business Account lists it now."""

    name: str
    language: str
    status: TemplateStatus
    meta_id: str | None = None
    reason: str | None = None


async def sender_route(database: Database, account: AccountRecord, sender: str) -> int | None:
    """The id of the route a WhatsApp message from ``sender`` goes through (the sender's own,
    else WhatsApp's default route), whose WhatsApp Business Account holds its templates."""
    try:
        number = normalize_number(sender, account.region)
    except InvalidNumber:
        return None
    async with database.read() as connection:
        _, own_route, default_route = await route_store.route_choice_for_sender(
            connection, account.id, number, Channel.WHATSAPP
        )
    return own_route if own_route is not None else default_route


async def list_templates(
    database: Database,
    account: AccountRecord,
    *,
    status: TemplateStatus | str | None = None,
    sender: str | None = None,
) -> list[WhatsAppTemplateRecord]:
    """The account's WhatsApp templates with their review status as last told by Meta
    (``record.status``; None for a template never submitted), oldest first.

    ``status`` keeps those with that status (``TemplateStatus.APPROVED``: the ones that can be
    sent); ``sender`` those submitted to the WhatsApp Business Account of the route that
    business number sends through (none when it sends through no WhatsApp route)."""
    wanted = None if status is None else TemplateStatus(str(status).upper()).value
    route_id = None
    if sender is not None:
        route_id = await sender_route(database, account, sender)
        if route_id is None:
            return []
    async with database.read() as connection:
        return await service_store.list_templates(
            connection, account.id, status=wanted, route_id=route_id
        )


def body_parameters(template: WhatsAppTemplateRecord) -> int:
    """How many parameters the template's body takes (``{{1}}``..``{{n}}``)."""
    return max((int(n) for n in _PLACEHOLDER.findall(template.raw_content)), default=0)


async def record_review(
    database: Database, route_id: int, update: TemplateUpdate, *, at: datetime | None = None
) -> int:
    """Meta's review of a template (the ``message_template_status_update`` webhook the route
    received): kept on the templates of that name and language submitted through the route;
    how many changed (0 for a template submitted elsewhere, or already so)."""
    async with database.write() as connection:
        return await service_store.set_template_status(
            connection,
            route_id=route_id,
            name=update.name,
            language=update.language,
            status=update.status.value,
            reason=update.reason,
            at=at or utcnow(),
            meta_id=update.template_id or None,
        )


async def apply_listing(
    database: Database,
    account: AccountRecord,
    route_id: int,
    listed: Mapping[tuple[str, str], ListedTemplate],
) -> None:
    """The statuses the route's WhatsApp Business Account lists now, kept on the account's
    templates submitted through it; one the account no longer has there is DELETED."""
    now = utcnow()
    async with database.write() as connection:
        kept = await service_store.list_templates(connection, account.id, route_id=route_id)
        for template in kept:
            if template.name is None:
                continue
            found = listed.get((template.name, template.language))
            status, reason, meta_id = (
                (TemplateStatus.DELETED, None, None)
                if found is None
                else (found.status, found.reason, found.meta_id)
            )
            await service_store.set_template_status(
                connection,
                route_id=route_id,
                name=template.name,
                language=template.language,
                status=status.value,
                reason=reason,
                at=now,
                meta_id=meta_id,
                account_id=account.id,
            )


async def require_approved(
    database: Database, account: AccountRecord, *, sender: str, name: str, language: str
) -> None:
    """Refuse a send of a template the account submitted and Meta has not approved (pending,
    rejected, paused, disabled): Meta would refuse it for every recipient. A template the
    account never submitted through tidings is left to Meta (132001 when it has none)."""
    route_id = await sender_route(database, account, sender)
    if route_id is None:
        return
    async with database.read() as connection:
        kept = await service_store.list_templates(
            connection, account.id, route_id=route_id, name=name, language=language
        )
    statuses = {t.status for t in kept if t.status is not None}
    if not statuses or TemplateStatus.APPROVED.value in statuses:
        return
    [status, *_] = sorted(statuses)
    reason = next((t.status_reason for t in kept if t.status_reason), None)
    raise InvalidRequest(
        f"the WhatsApp template {name} ({language}) is {status}"
        + (f" ({reason})" if reason else "")
        + ", not APPROVED: only an approved template can be sent",
        field="template",
    )
