"""Webhooks from the Cloud API: the verification handshake, the signature, the notifications.

- Handshake (when a callback URL is registered): ``GET ?hub.mode=subscribe&hub.verify_token=T
  &hub.challenge=C`` is answered with ``C`` when ``T`` is the configured token.
- Every POST carries ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the raw body
  under the app secret. A body is read only after its signature checks.
- A notification is ``{"object": "whatsapp_business_account", "entry": [{"id": <waba id>,
  "changes": [{"field", "value"}]}]}``. Field ``messages`` carries ``statuses`` (sent,
  delivered, read, failed with ``errors``) and ``messages`` from users; field
  ``message_template_status_update`` a template's review result. :func:`read_notification`
  reads them into values; the ``*_change`` functions write them (the simulator's side).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tidings.whatsapp.errors import GraphError, RemoteProtocolError
from tidings.whatsapp.templates import TemplateStatus

SIGNATURE_HEADER = "X-Hub-Signature-256"
OBJECT = "whatsapp_business_account"


def signature(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value of ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_matches(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` (compared in constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(header.encode(), signature(app_secret, body).encode())


def challenge_answer(params: Mapping[str, str], verify_token: str) -> str | None:
    """The handshake: the challenge to echo, or None when the request is not ours."""
    if params.get("hub.mode") != "subscribe":
        return None
    token = params.get("hub.verify_token") or ""
    if not verify_token or not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return params.get("hub.challenge")


# --- what a notification says ---


class DeliveryStatus(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    phone_number_id: str
    wamid: str
    status: DeliveryStatus
    at: datetime
    recipient: str  # the user's number, with "+"
    errors: tuple[GraphError, ...] = ()


@dataclass(frozen=True, slots=True)
class MediaInfo:
    id: str
    mime_type: str
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class SharedContact:
    name: str
    phones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UserMessage:
    """A message from a user to one of the business's numbers."""

    phone_number_id: str
    display_phone_number: str  # the business number it was sent to, digits only
    wamid: str
    sender: str  # the user's number, with "+"
    at: datetime
    type: str
    profile_name: str | None = None
    text: str | None = None
    media: MediaInfo | None = None
    # A tap on a template's quick reply (type button) or an interactive reply button.
    button_payload: str | None = None
    button_text: str | None = None
    location: Location | None = None
    contacts: tuple[SharedContact, ...] = ()
    context: str | None = None  # the wamid of the message this answers

    @property
    def as_text(self) -> str:
        """What the message says, as text: a button's label, a place, contacts' cards."""
        if self.text is not None:
            return self.text
        if self.button_text is not None:
            return self.button_text
        if self.location is not None:
            place = ", ".join(p for p in (self.location.name, self.location.address) if p)
            where = f"{self.location.latitude},{self.location.longitude}"
            return f"{place} ({where})" if place else where
        if self.contacts:
            return "\n".join(" ".join([c.name, *c.phones]).strip() for c in self.contacts)
        if self.media is not None:
            return self.media.caption or ""
        return ""


@dataclass(frozen=True, slots=True)
class TemplateUpdate:
    waba_id: str
    template_id: str
    name: str
    language: str
    status: TemplateStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    statuses: tuple[StatusUpdate, ...] = ()
    messages: tuple[UserMessage, ...] = ()
    templates: tuple[TemplateUpdate, ...] = ()
    # Fields this reader does not take (account updates, quality changes...): acknowledged.
    ignored: tuple[str, ...] = field(default=())


def _at(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def _plus(number: Any) -> str:
    digits = str(number)
    return digits if digits.startswith("+") else "+" + digits


def read_notification(body: bytes) -> Notification:
    """Read a webhook body (its signature already checked)."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RemoteProtocolError("the body is not JSON") from None
    if not isinstance(document, dict) or document.get("object") != OBJECT:
        raise RemoteProtocolError(f"object is not {OBJECT}")
    statuses: list[StatusUpdate] = []
    messages: list[UserMessage] = []
    templates: list[TemplateUpdate] = []
    ignored: list[str] = []
    try:
        for entry in document["entry"]:
            waba_id = str(entry.get("id", ""))
            for change in entry["changes"]:
                name = change["field"]
                value = change["value"]
                if name == "messages":
                    _read_messages(value, statuses, messages)
                elif name == "message_template_status_update":
                    templates.append(_read_template_update(waba_id, value))
                else:
                    ignored.append(str(name))
    except RemoteProtocolError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise RemoteProtocolError(f"a notification that cannot be read: {error!r}") from None
    return Notification(tuple(statuses), tuple(messages), tuple(templates), tuple(ignored))


def _read_messages(
    value: Mapping[str, Any], statuses: list[StatusUpdate], messages: list[UserMessage]
) -> None:
    metadata = value["metadata"]
    phone_number_id = str(metadata["phone_number_id"])
    display = str(metadata.get("display_phone_number", ""))
    for status in value.get("statuses") or ():
        errors = tuple(
            GraphError(
                code=int(e["code"]),
                message=str(e.get("message") or e.get("title") or ""),
                title=e.get("title"),
                details=(e.get("error_data") or {}).get("details"),
            )
            for e in status.get("errors") or ()
        )
        statuses.append(
            StatusUpdate(
                phone_number_id=phone_number_id,
                wamid=str(status["id"]),
                status=DeliveryStatus(status["status"]),
                at=_at(status["timestamp"]),
                recipient=_plus(status["recipient_id"]),
                errors=errors,
            )
        )
    profiles = {
        str(c.get("wa_id")): (c.get("profile") or {}).get("name")
        for c in value.get("contacts") or ()
    }
    for item in value.get("messages") or ():
        messages.append(_read_user_message(item, phone_number_id, display, profiles))


def _read_user_message(
    item: Mapping[str, Any], phone_number_id: str, display: str, profiles: Mapping[str, Any]
) -> UserMessage:
    kind = str(item["type"])
    sender = str(item["from"])
    context = item.get("context")
    fields: dict[str, Any] = {}
    if kind == "text":
        fields["text"] = str(item["text"]["body"])
    elif kind in ("image", "video", "audio", "document", "sticker", "voice"):
        media = item[kind]
        fields["media"] = MediaInfo(
            id=str(media["id"]),
            mime_type=str(media["mime_type"]),
            sha256=media.get("sha256"),
            caption=media.get("caption"),
            filename=media.get("filename"),
        )
    elif kind == "button":
        fields["button_payload"] = item["button"].get("payload")
        fields["button_text"] = str(item["button"]["text"])
    elif kind == "interactive":
        reply = item["interactive"]
        chosen = reply.get("button_reply") or reply.get("list_reply")
        fields["button_payload"] = str(chosen["id"])
        fields["button_text"] = str(chosen["title"])
    elif kind == "location":
        place = item["location"]
        fields["location"] = Location(
            float(place["latitude"]),
            float(place["longitude"]),
            place.get("name"),
            place.get("address"),
        )
    elif kind == "contacts":
        fields["contacts"] = tuple(
            SharedContact(
                str((c.get("name") or {}).get("formatted_name") or ""),
                tuple(str(p.get("phone")) for p in c.get("phones") or () if p.get("phone")),
            )
            for c in item["contacts"]
        )
    return UserMessage(
        phone_number_id=phone_number_id,
        display_phone_number=display,
        wamid=str(item["id"]),
        sender=_plus(sender),
        at=_at(item["timestamp"]),
        type=kind,
        profile_name=profiles.get(sender),
        context=context.get("id") if isinstance(context, dict) else None,
        **fields,
    )


def _read_template_update(waba_id: str, value: Mapping[str, Any]) -> TemplateUpdate:
    reason = value.get("reason")
    return TemplateUpdate(
        waba_id=waba_id,
        template_id=str(value["message_template_id"]),
        name=str(value["message_template_name"]),
        language=str(value["message_template_language"]),
        status=TemplateStatus(value["event"]),
        reason=None if reason in (None, "NONE") else str(reason),
    )


# --- writing them (the simulator's side) ---


def notification(
    waba_id: str, field_name: str, value: Mapping[str, Any], *, at: datetime | None = None
) -> dict[str, Any]:
    """The body of a webhook. The entry of a WhatsApp Business Account field other than
    ``messages`` (a template's review, ``message_template_status_update``) carries ``time``,
    when it was sent in Unix seconds, as Meta's do (readers such as pywa take the update's
    time from it); a ``messages`` entry has none."""
    entry: dict[str, Any] = {"id": waba_id}
    if field_name != "messages":
        entry["time"] = int((at or datetime.now(UTC)).timestamp())
    entry["changes"] = [{"value": dict(value), "field": field_name}]
    return {"object": OBJECT, "entry": [entry]}


def business_scoped_user_id(number: str, country: str = "ZZ") -> str:
    """A user's business-scoped id as Meta writes it beside (or instead of) the number in
    notifications since BSUIDs came: ``<ISO country>.<digits>``; here stable per number.
    ``ZZ`` when the country is not known."""
    digest = hashlib.sha256(number.removeprefix("+").encode()).hexdigest()
    return f"{country}.{int(digest[:16], 16)}"


def _contact(digits: str, profile_name: str | None = None) -> dict[str, Any]:
    contact: dict[str, Any] = {"wa_id": digits, "user_id": business_scoped_user_id(digits)}
    if profile_name is not None:
        contact = {"profile": {"name": profile_name}, **contact}
    return contact


def _metadata(display_phone_number: str, phone_number_id: str) -> dict[str, str]:
    return {
        "display_phone_number": display_phone_number.removeprefix("+"),
        "phone_number_id": phone_number_id,
    }


def status_change(
    *,
    display_phone_number: str,
    phone_number_id: str,
    wamid: str,
    status: DeliveryStatus,
    at: datetime,
    recipient: str,
    errors: Sequence[GraphError] = (),
    conversation_id: str | None = None,
    pricing_category: str = "service",
) -> dict[str, Any]:
    """The ``value`` of a ``messages`` change carrying one status."""
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status.value,
        "timestamp": str(int(at.timestamp())),
        "recipient_id": recipient.removeprefix("+"),
    }
    if status is not DeliveryStatus.FAILED and conversation_id is not None:
        entry["conversation"] = {"id": conversation_id, "origin": {"type": pricing_category}}
        entry["pricing"] = {
            "billable": True,
            "pricing_model": "CBP",
            "category": pricing_category,
        }
    if errors:
        entry["errors"] = [e.as_status_error() for e in errors]
    return {
        "messaging_product": "whatsapp",
        "metadata": _metadata(display_phone_number, phone_number_id),
        "contacts": [_contact(recipient.removeprefix("+"))],
        "statuses": [entry],
    }


def message_change(
    *,
    display_phone_number: str,
    phone_number_id: str,
    sender: str,
    profile_name: str,
    message: Mapping[str, Any],
) -> dict[str, Any]:
    """The ``value`` of a ``messages`` change carrying one user message (``message`` holds
    ``id``, ``timestamp``, ``type`` and its object)."""
    digits = sender.removeprefix("+")
    return {
        "messaging_product": "whatsapp",
        "metadata": _metadata(display_phone_number, phone_number_id),
        "contacts": [_contact(digits, profile_name)],
        "messages": [{"from": digits, **message}],
    }


def template_change(
    *, template_id: str, name: str, language: str, status: TemplateStatus, reason: str | None
) -> dict[str, Any]:
    return {
        "event": status.value,
        "message_template_id": int(template_id) if template_id.isdigit() else template_id,
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason or "NONE",
    }
