"""WhatsApp message templates as SmartDialog keeps them: stored per account, filled with
numbered parameters (``{{1}}``, ``{{2}}``, … as in WhatsApp's template syntax).

A send goes over WhatsApp when a route carries it (the template by the name Meta knows it by,
``core.whatsapp.template_name``, with the send's parameters: :func:`send_parameters`), else
only as SMS with the template's text filled in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from tidings.core.accounts import utcnow
from tidings.errors import AlreadyExists, InvalidRequest, NotFound, TidingsError
from tidings.store import services as service_store
from tidings.store.engine import Database
from tidings.store.ids import new_id
from tidings.store.records import AccountRecord
from tidings.store.services import WhatsAppTemplateRecord
from tidings.whatsapp import templates as wa
from tidings.whatsapp.errors import LocalProtocolError

# Meta's template categories (the older per-use categories were merged into these in 2023).
CATEGORIES = ("Authentication", "Marketing", "Utility")
BUTTON_TYPES = ("Call", "QuickReply", "Url")
_PARAMETER = re.compile(r"\{\{(\d+)\}\}")


@dataclass(frozen=True, slots=True)
class Submitted:
    """A template as Meta took it for review: through which route, under which name and id,
    with the status it answered (PENDING, or APPROVED at once)."""

    route_id: int
    name: str
    meta_id: str | None
    status: wa.TemplateStatus


class NoWhatsAppChannel(TidingsError):
    """No WhatsApp channel is configured; set UseSmsFallback to send this template as SMS."""


async def create_template(
    database: Database,
    account: AccountRecord,
    *,
    identity: str,
    display_name: str,
    raw_content: str,
    category: str,
    language: str,
    buttons: Sequence[Mapping[str, Any]] = (),
    attachment_url: str | None = None,
    submitted: Submitted | None = None,
    components: str | None = None,
) -> WhatsAppTemplateRecord:
    """A template kept for the account; ``submitted`` when it went for review to a route's
    WhatsApp Business Account (its status then follows Meta's, ``core.whatsapp_templates``)."""
    if not display_name.strip():
        raise InvalidRequest("a template needs a name", field="DisplayName")
    if not raw_content.strip():
        raise InvalidRequest("a template needs content", field="RawContent")
    chosen = next((c for c in CATEGORIES if c.lower() == category.strip().lower()), None)
    if chosen is None:
        raise InvalidRequest(
            f"unknown category {category!r} (one of {', '.join(CATEGORIES)})", field="Category"
        )
    if not language.strip():
        raise InvalidRequest("a template needs a language", field="Language")
    for button in buttons:
        if button.get("Type") not in BUTTON_TYPES:
            raise InvalidRequest(
                f"a button type is one of {', '.join(BUTTON_TYPES)}", field="Buttons"
            )
    values: dict[str, Any] = {
        "id": new_id(),
        "account_id": account.id,
        "identity": identity,
        "display_name": display_name.strip(),
        "raw_content": raw_content,
        "category": chosen,
        "language": language.strip(),
        "buttons": json.dumps([dict(b) for b in buttons]),
        "attachment_url": attachment_url,
        "created_at": utcnow(),
        "components": components,
    }
    if submitted is not None:
        values.update(
            name=submitted.name,
            route_id=submitted.route_id,
            status=submitted.status.value,
            meta_id=submitted.meta_id,
            status_at=values["created_at"],
        )
    try:
        async with database.write() as connection:
            return await service_store.insert_template(connection, **values)
    except IntegrityError:
        raise AlreadyExists(
            f"a template named {display_name!r} already exists in {language.strip()!r}"
        ) from None


async def list_templates(
    database: Database, account: AccountRecord, *, template_id: str | None = None
) -> list[WhatsAppTemplateRecord]:
    async with database.read() as connection:
        return await service_store.list_templates(connection, account.id, template_id=template_id)


async def get_template(
    database: Database, account: AccountRecord, id_or_name: str
) -> WhatsAppTemplateRecord:
    """A template by its id (what a template picker hands over) or by its display name."""
    async with database.read() as connection:
        found = await service_store.find_template(connection, account.id, id_or_name)
    if found is None:
        raise NotFound(f"no WhatsApp template with the id or name {id_or_name!r}")
    return found


def send_parameters(
    template: WhatsAppTemplateRecord,
    *,
    header: Sequence[str],
    header_media: str | None,
    body: Sequence[str],
    buttons: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """A WhatsApp template send's ``template`` (``core.whatsapp.TemplateSend``'s fields) from
    SmartDialog's: each of ``buttons`` gives the value of the template's button of the same
    type and label (else of the same position): a quick reply's payload, a URL's suffix."""
    stored = json.loads(template.buttons or "[]")
    values: list[dict[str, Any]] = []
    for position, button in enumerate(buttons):
        kind = button.get("Type")
        if kind == "Call":
            continue  # a phone number button takes no parameter
        index = next(
            (
                i
                for i, b in enumerate(stored)
                if b.get("Type") == kind and b.get("Label") == button.get("Label")
            ),
            position,
        )
        value = button.get("Data") or button.get("Label") or ""
        values.append(
            {
                "index": index,
                "type": "quick_reply" if kind == "QuickReply" else "url",
                "value": value,
            }
        )
    return {
        "name": whatsapp_template_name(template.display_name),
        "language": template.language,
        "header": list(header),
        "header_media": header_media,
        "body": list(body),
        "buttons": values,
    }


def meta_template(
    *,
    display_name: str,
    raw_content: str,
    category: str,
    language: str,
    buttons: Sequence[Mapping[str, Any]] = (),
) -> wa.Template:
    """The template as it is submitted to Meta for review: its text as the body, its buttons
    (quick replies, URLs, phone numbers); refused as Meta's review would refuse it."""
    shown: list[wa.Button] = []
    for button in buttons:
        label = str(button.get("Label") or button.get("Data") or "")
        kind = button.get("Type")
        if kind == "QuickReply":
            shown.append(wa.Button(wa.ButtonType.QUICK_REPLY, label))
        elif kind == "Url":
            shown.append(wa.Button(wa.ButtonType.URL, label, url=button.get("Data")))
        else:
            shown.append(
                wa.Button(wa.ButtonType.PHONE_NUMBER, label, phone_number=button.get("Data"))
            )
    try:
        template = wa.Template(
            name=whatsapp_template_name(display_name),
            language=language.strip(),
            category=wa.Category(category.strip().upper()),
            body=raw_content,
            buttons=tuple(shown),
        )
        template.check()
    except ValueError:
        raise InvalidRequest(
            f"unknown category {category!r} (one of {', '.join(CATEGORIES)})", field="Category"
        ) from None
    except LocalProtocolError as error:
        raise InvalidRequest(f"WhatsApp would refuse the template: {error.message}") from None
    return template


def whatsapp_template_name(display_name: str) -> str:
    """The name a template is submitted to Meta by: lower-case letters, digits and
    underscores (Meta's rule), from the display name a person gave it."""
    return re.sub(r"[^a-z0-9_]+", "_", display_name.strip().lower()).strip("_") or "template"


def fill_template(template: WhatsAppTemplateRecord, parameters: Sequence[str]) -> str:
    """The template's text with ``{{n}}`` replaced by the n-th parameter (1-based)."""

    def replace(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if not 1 <= index <= len(parameters):
            raise InvalidRequest(
                f"the template needs parameter {index}; {len(parameters)} given",
                field="BodyParameters",
            )
        return parameters[index - 1]

    return _PARAMETER.sub(replace, template.raw_content)
