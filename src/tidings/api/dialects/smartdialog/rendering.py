"""Core results written the way SmartDialog answers them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tidings.core.contacts import contact_properties
from tidings.core.messaging import RecipientResult
from tidings.store.contacts import ContactRecord
from tidings.store.services import WhatsAppTemplateRecord

_GENDERS = {"male": "Male", "female": "Female", "other": "Other"}


def sent(accepted: Sequence[RecipientResult], *, camel: bool = False) -> dict[str, Any]:
    """``{MessageId, MessagePartCount, Recipients}``; WhatsApp sends answer in camelCase.

    The first recipient's message id stands for the send; each recipient has its own id.
    """
    first = accepted[0]
    recipients = [{"Address": r.address or r.to, "Id": r.id} for r in accepted]
    if camel:
        return {
            "messageId": first.id,
            "messagePartCount": first.parts or 1,
            "recipients": [{"address": r["Address"], "id": r["Id"]} for r in recipients],
        }
    return {
        "MessageId": first.id,
        "MessagePartCount": first.parts or 1,
        "Recipients": recipients,
    }


def group_contact(contact: ContactRecord) -> dict[str, Any]:
    """Unset fields are left out (the connector's schema has no nulls)."""
    values = {
        "phone": contact.phone,
        "email": contact.email,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "gender": None if contact.gender is None else _GENDERS.get(contact.gender),
        "birthYear": contact.birth_year,
        "streetAddress": contact.street,
        "zipCode": contact.zip,
        "city": contact.city,
        "countryCode": contact.country,
        "failedMessages": contact.failed_messages,
        "customContactProperties": [
            {"name": name, "value": value} for name, value in contact_properties(contact).items()
        ],
    }
    return {name: value for name, value in values.items() if value is not None}


def template(record: WhatsAppTemplateRecord, status: str | None = None) -> dict[str, Any]:
    """A template; ``status`` Meta's review status (PENDING, APPROVED, REJECTED...) when the
    template's number is on WhatsApp."""
    parameters: dict[str, Any] = {"rawContent": record.raw_content}
    if status is not None:
        parameters["status"] = status
    return {
        "id": record.id,
        "displayName": record.display_name,
        "extensionParameters": parameters,
    }
