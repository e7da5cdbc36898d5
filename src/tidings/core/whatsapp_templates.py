"""WhatsApp templates as Meta reviews them: each template submitted to a route's WhatsApp
Business Account keeps its review status (PENDING, APPROVED, REJECTED, PAUSED, DISABLED...),
changed by the ``message_template_status_update`` webhook (:func:`record_review`) and by
listings of the account (:func:`apply_listing`), which also import the templates made at Meta
directly (in WhatsApp Manager) into the accounts whose business numbers send through that
route. Only an APPROVED template is sent (:func:`require_approved`, when a send is accepted).

The Graph API calls themselves (submit, list, delete) are the transport's
(``dispatch.transports.whatsapp``); this module keeps what they answer. Templates kept here
only (no WhatsApp route: SmartDialog sends them as SMS) have no status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core.accounts import utcnow
from tidings.core.channels import Channel
from tidings.core.media import MediaLibrary
from tidings.core.templates import CATEGORIES, whatsapp_template_name
from tidings.errors import InvalidRequest, NotFound
from tidings.media.errors import UnsupportedMedia
from tidings.phone import InvalidNumber, normalize_number
from tidings.store import routes as route_store
from tidings.store import services as service_store
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.records import AccountRecord
from tidings.store.services import WhatsAppTemplateRecord
from tidings.whatsapp.templates import (
    Button,
    ButtonType,
    Category,
    HeaderFormat,
    Template,
    TemplateStatus,
    read_template,
)
from tidings.whatsapp.webhooks import TemplateUpdate

__all__ = [
    "EXAMPLE_TYPES",
    "ListedTemplate",
    "TemplateStatus",
    "WhatsAppTemplateRecord",
    "apply_listing",
    "as_template",
    "body_parameters",
    "business_number",
    "business_routes",
    "delete_template",
    "find_template",
    "get_template",
    "header_example",
    "list_templates",
    "record_review",
    "require_approved",
    "sender_route",
    "smartdialog_buttons",
]

_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")

# The types Meta takes as a media header's example (and sends in such a header).
EXAMPLE_TYPES: dict[HeaderFormat, frozenset[str]] = {
    HeaderFormat.IMAGE: frozenset({"image/jpeg", "image/png"}),
    HeaderFormat.VIDEO: frozenset({"video/mp4"}),
    HeaderFormat.DOCUMENT: frozenset({"application/pdf"}),
}


async def header_example(
    media: MediaLibrary,
    account: AccountRecord,
    reference: str,
    *,
    header: HeaderFormat | None,
    field: str,
) -> tuple[HeaderFormat, bytes, str]:
    """A media header's example file: the account's media, or a URL fetched under the SSRF
    guard, typed by its bytes. Of a type ``header`` takes, or when no header is named, the
    header its type makes (a picture IMAGE, a video VIDEO, a PDF DOCUMENT). Refused on
    ``field`` otherwise: nothing is uploaded or submitted then."""
    try:
        record = await media.resolve(account.id, reference)
    except NotFound:
        raise InvalidRequest(
            f"no media {reference!r}: upload the example with POST /v1/media first", field=field
        ) from None
    except (InvalidRequest, UnsupportedMedia) as error:
        raise InvalidRequest(error.message, field=field) from None
    if header is None:
        header = next(
            (h for h, types in EXAMPLE_TYPES.items() if record.content_type in types), None
        )
        if header is None:
            raise InvalidRequest(
                f"a media header's example is a JPEG or PNG picture, an MP4 video or a PDF "
                f"document, not {record.content_type}",
                field=field,
            )
    allowed = EXAMPLE_TYPES[header]
    if record.content_type not in allowed:
        raise InvalidRequest(
            f"an {header.value} header's example is {' or '.join(sorted(allowed))}, "
            f"not {record.content_type}",
            field=field,
        )
    return header, await media.content(record), record.content_type


@dataclass(frozen=True, slots=True)
class ListedTemplate:
    """A template as the WhatsApp Business Account lists it now."""

    name: str
    language: str
    status: TemplateStatus
    meta_id: str | None = None
    reason: str | None = None
    # What Meta lists of it (header, body, footer, buttons): kept when it is imported.
    template: Template | None = None


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


async def business_routes(database: Database, account: AccountRecord) -> dict[int, str]:
    """The WhatsApp routes the account's business numbers send through (each number's own
    route when it carries WhatsApp, else WhatsApp's default route), each with the first of
    those numbers: the WhatsApp Business Accounts whose templates the account sees."""
    found: dict[int, str] = {}
    carries: dict[int, bool] = {}  # asked once per route, however many numbers it has
    async with database.read() as connection:
        senders = await route_store.list_senders(connection, account.id)
        default = await route_store.find_default_route(connection, Channel.WHATSAPP)
        for sender in senders:
            if not sender.address.startswith("+"):
                continue  # a sender name is no business number
            own = sender.route_id
            if own is not None and own not in carries:
                carries[own] = await route_store.route_carries(connection, own, Channel.WHATSAPP)
            route_id = own if own is not None and carries[own] else None
            if route_id is None and default is not None:
                route_id = default.id
            if route_id is not None:
                found.setdefault(route_id, sender.address)
    return found


def body_parameters(template: WhatsAppTemplateRecord) -> int:
    """How many parameters the template's body takes (``{{1}}``..``{{n}}``)."""
    return max((int(n) for n in _PLACEHOLDER.findall(template.raw_content)), default=0)


async def business_number(
    database: Database, account: AccountRecord, sender: str
) -> tuple[str, int]:
    """``sender`` (one of the account's registered numbers) and the id of the route whose
    WhatsApp Business Account a template from it is submitted to; refused when none."""
    try:
        number = normalize_number(sender, account.region)
    except InvalidNumber:
        raise InvalidRequest(
            f"a template is submitted from a business phone number, not {sender!r}", field="from"
        ) from None
    async with database.read() as connection:
        registered, own_route, default_route = await route_store.route_choice_for_sender(
            connection, account.id, number, Channel.WHATSAPP
        )
    if not registered:
        raise InvalidRequest(f"{number} is not one of the account's senders", field="from")
    route_id = own_route if own_route is not None else default_route
    if route_id is None:
        raise InvalidRequest(f"no WhatsApp route carries {number}", field="from")
    return number, route_id


async def find_template(
    database: Database, account: AccountRecord, *, name: str, language: str
) -> WhatsAppTemplateRecord | None:
    """The account's template submitted under this name in this language, if any."""
    async with database.read() as connection:
        found = await service_store.list_templates(
            connection, account.id, name=name, language=language
        )
    return found[0] if found else None


def as_template(record: WhatsAppTemplateRecord) -> Template:
    """The template as it was submitted: its components when kept (``/v1``), else its text
    and SmartDialog's buttons (``core.templates.meta_template``'s reading)."""
    name = record.name or whatsapp_template_name(record.display_name)
    try:
        category = Category(record.category.upper())
    except ValueError:
        category = Category.UTILITY
    if record.components is not None:
        listed = {
            "id": record.meta_id or "",
            "status": TemplateStatus.PENDING.value,  # the stored one is the record's
            "name": name,
            "language": record.language,
            "category": category.value,
            "components": json.loads(record.components),
        }
        template, _, _, _ = read_template(listed)
        return template
    buttons: list[Button] = []
    for button in json.loads(record.buttons or "[]"):
        label = str(button.get("Label") or button.get("Data") or "")
        kind = button.get("Type")
        if kind == "QuickReply":
            buttons.append(Button(ButtonType.QUICK_REPLY, label))
        elif kind == "Url":
            buttons.append(Button(ButtonType.URL, label, url=button.get("Data")))
        else:
            buttons.append(Button(ButtonType.PHONE_NUMBER, label, phone_number=button.get("Data")))
    return Template(
        name=name,
        language=record.language,
        category=category,
        body=record.raw_content,
        buttons=tuple(buttons),
    )


def smartdialog_buttons(template: Template) -> list[dict[str, str]]:
    """The template's buttons as SmartDialog keeps them (Type, Label, Data), so a template
    made on ``/v1`` is sent by SmartDialog's Send WhatsApp Message too."""
    kept: list[dict[str, str]] = []
    for button in template.buttons:
        if button.type is ButtonType.QUICK_REPLY:
            kept.append({"Type": "QuickReply", "Label": button.text})
        elif button.type is ButtonType.URL:
            kept.append({"Type": "Url", "Label": button.text, "Data": button.url or ""})
        else:
            kept.append({"Type": "Call", "Label": button.text, "Data": button.phone_number or ""})
    return kept


async def get_template(
    database: Database, account: AccountRecord, template_id: str
) -> WhatsAppTemplateRecord:
    async with database.read() as connection:
        found = await service_store.list_templates(connection, account.id, template_id=template_id)
    if not found:
        raise NotFound(f"no WhatsApp template {template_id}")
    return found[0]


async def delete_template(database: Database, account: AccountRecord, template_id: str) -> None:
    async with database.write() as connection:
        if not await service_store.delete_template(connection, account.id, template_id):
            raise NotFound(f"no WhatsApp template {template_id}")


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
    *,
    business_number: str | None = None,
) -> int:
    """The templates the route's WhatsApp Business Account lists now, kept for the account:
    the statuses of those it has there (one Meta no longer lists is DELETED), and, with the
    ``business_number`` that sends through the route, those made at Meta directly imported
    with their status and components (not one another account submitted through tidings:
    that is the other tenant's). How many were imported."""
    now = utcnow()
    imported = 0
    async with database.write() as connection:
        kept = await service_store.list_templates(connection, account.id, route_id=route_id)
        known: set[tuple[str, str]] = set()
        for template in kept:
            if template.name is None:
                continue
            known.add((template.name, template.language))
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
        unknown = [
            found
            for key, found in listed.items()
            if key not in known and found.template is not None
        ]
        if business_number is None or not unknown:
            return 0
        others = await service_store.taken_on_route_by_others(connection, account.id, route_id)
        for found in unknown:
            if (found.name, found.language) in others or found.status is TemplateStatus.DELETED:
                continue
            assert found.template is not None
            await _import(connection, account, route_id, business_number, found, found.template)
            imported += 1
    return imported


async def _import(
    connection: AsyncConnection,
    account: AccountRecord,
    route_id: int,
    business_number: str,
    found: ListedTemplate,
    template: Template,
) -> None:
    """A template made at Meta, kept as if it had been submitted through the route."""
    taken = await service_store.display_names(connection, account.id, template.language)
    # Names are unique per account and language; the same name on two WABAs (two routes)
    # is told apart by its route.
    display_name = template.name if template.name not in taken else f"{template.name}~{route_id}"
    category = next((c for c in CATEGORIES if c.upper() == template.category.value), CATEGORIES[-1])
    at = utcnow()
    await service_store.insert_template(
        connection,
        id=new_id(),
        account_id=account.id,
        identity=business_number,
        display_name=display_name,
        raw_content=template.body,
        category=category,
        language=template.language,
        buttons=json.dumps(smartdialog_buttons(template)),
        attachment_url=None,
        created_at=at,
        name=template.name,
        route_id=route_id,
        status=found.status.value,
        meta_id=found.meta_id,
        status_reason=found.reason,
        status_at=at,
        components=json.dumps(template.submission()["components"]),
        made_at_meta=True,
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
