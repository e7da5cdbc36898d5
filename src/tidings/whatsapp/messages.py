"""What ``POST /{version}/{phone-number-id}/messages`` takes and answers.

A message is one of :class:`Text`, :class:`MediaMessage`, :class:`TemplateMessage` or
:class:`InteractiveButtons`; :func:`payload` writes its JSON as the API documents it
(``messaging_product``, ``recipient_type``, ``to`` without its "+", ``type`` and the object of
that type). :func:`read_payload` is the API's side: the simulator reads a request with it, and
the same checks refuse what the API refuses. A send is answered with the message's id, the
wamid (:func:`read_answer`), by which its status webhooks come back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tidings.whatsapp.errors import LocalProtocolError, RemoteProtocolError
from tidings.whatsapp.templates import Media, MediaKind

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_INTERACTIVE_BODY = 1024
MAX_REPLY_BUTTONS = 3
MAX_REPLY_TITLE = 20


@dataclass(frozen=True, slots=True)
class Text:
    body: str
    preview_url: bool = False


@dataclass(frozen=True, slots=True)
class MediaMessage:
    media: Media


@dataclass(frozen=True, slots=True)
class TemplateMessage:
    name: str
    language: str
    components: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ReplyButton:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class InteractiveButtons:
    """A free-form message with up to three reply buttons (``interactive`` of type
    ``button``): the user's tap comes back as a ``button_reply``."""

    body: str
    buttons: tuple[ReplyButton, ...]
    header: str | None = None
    footer: str | None = None


Message = Text | MediaMessage | TemplateMessage | InteractiveButtons


def wa_id(number: str) -> str:
    """A phone number as the API writes it: digits, country code first, no "+"."""
    digits = number.removeprefix("+")
    if not digits.isdigit():
        raise LocalProtocolError(f"{number!r} is not a phone number")
    return digits


def check(message: Message) -> None:
    """Refuse, as a :class:`LocalProtocolError`, what the API would refuse with 100/131009."""
    if isinstance(message, Text):
        if not message.body or len(message.body) > MAX_TEXT:
            raise LocalProtocolError(f"a text message is 1 to {MAX_TEXT} characters")
    elif isinstance(message, MediaMessage):
        message.media.object()
        if message.media.caption and len(message.media.caption) > MAX_CAPTION:
            raise LocalProtocolError(f"a caption is at most {MAX_CAPTION} characters")
    elif isinstance(message, InteractiveButtons):
        if not message.body or len(message.body) > MAX_INTERACTIVE_BODY:
            raise LocalProtocolError(
                f"an interactive body is 1 to {MAX_INTERACTIVE_BODY} characters"
            )
        if not 1 <= len(message.buttons) <= MAX_REPLY_BUTTONS:
            raise LocalProtocolError(f"an interactive message has 1 to {MAX_REPLY_BUTTONS} buttons")
        ids = [b.id for b in message.buttons]
        if len(set(ids)) != len(ids):
            raise LocalProtocolError("reply button ids must differ")
        for button in message.buttons:
            if not button.title or len(button.title) > MAX_REPLY_TITLE:
                raise LocalProtocolError(
                    f"a reply button's title is 1 to {MAX_REPLY_TITLE} characters: {button.title!r}"
                )


def payload(to: str, message: Message, *, context: str | None = None) -> dict[str, Any]:
    """The JSON body that sends ``message`` to the number ``to``; ``context`` a wamid it
    replies to."""
    check(message)
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa_id(to),
    }
    if context is not None:
        body["context"] = {"message_id": context}
    if isinstance(message, Text):
        body["type"] = "text"
        body["text"] = {"preview_url": message.preview_url, "body": message.body}
    elif isinstance(message, MediaMessage):
        kind = message.media.kind.value
        body["type"] = kind
        body[kind] = message.media.object()
    elif isinstance(message, TemplateMessage):
        template: dict[str, Any] = {"name": message.name, "language": {"code": message.language}}
        if message.components:
            template["components"] = [dict(c) for c in message.components]
        body["type"] = "template"
        body["template"] = template
    else:
        interactive: dict[str, Any] = {
            "type": "button",
            "body": {"text": message.body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": b.id, "title": b.title}}
                    for b in message.buttons
                ]
            },
        }
        if message.header:
            interactive["header"] = {"type": "text", "text": message.header}
        if message.footer:
            interactive["footer"] = {"text": message.footer}
        body["type"] = "interactive"
        body["interactive"] = interactive
    return body


def read_answer(body: Any) -> str:
    """The wamid of a send's answer: ``{"messaging_product", "contacts", "messages": [{"id"}]}``."""
    try:
        wamid = body["messages"][0]["id"]
    except (KeyError, IndexError, TypeError):
        raise RemoteProtocolError("the send's answer names no message id") from None
    if not isinstance(wamid, str) or not wamid:
        raise RemoteProtocolError("the send's answer names no message id")
    return wamid


def answer(to: str, wamid: str) -> dict[str, Any]:
    """The answer to a send (the simulator's side of :func:`read_answer`)."""
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to.removeprefix("+")}],
        "messages": [{"id": wamid}],
    }


@dataclass(frozen=True, slots=True)
class Request:
    """A send as the API reads it."""

    to: str
    message: Message
    context: str | None = None


def read_payload(body: Any) -> Request:
    """The API's reading of a send; what it would refuse is a :class:`RemoteProtocolError`."""
    if not isinstance(body, dict):
        raise RemoteProtocolError("the body is not a JSON object")
    if body.get("messaging_product") != "whatsapp":
        raise RemoteProtocolError("messaging_product must be whatsapp")
    to = body.get("to")
    if not isinstance(to, str) or not to.removeprefix("+").isdigit():
        raise RemoteProtocolError("to must be a phone number")
    kind = body.get("type", "text")
    item = body.get(kind)
    if not isinstance(item, dict):
        raise RemoteProtocolError(f"the message has type {kind!r} but no {kind!r} object")
    message: Message
    try:
        if kind == "text":
            message = Text(str(item["body"]), bool(item.get("preview_url", False)))
        elif kind in {k.value for k in MediaKind}:
            message = MediaMessage(
                Media(
                    MediaKind(kind),
                    link=item.get("link"),
                    id=item.get("id"),
                    caption=item.get("caption"),
                    filename=item.get("filename"),
                )
            )
        elif kind == "template":
            language = item["language"]
            code = language["code"] if isinstance(language, dict) else language
            message = TemplateMessage(
                str(item["name"]), str(code), tuple(item.get("components") or ())
            )
        elif kind == "interactive":
            if item.get("type") != "button":
                raise RemoteProtocolError(f"interactive type {item.get('type')!r} is not served")
            header = item.get("header")
            footer = item.get("footer")
            message = InteractiveButtons(
                body=str(item["body"]["text"]),
                buttons=tuple(
                    ReplyButton(str(b["reply"]["id"]), str(b["reply"]["title"]))
                    for b in item["action"]["buttons"]
                ),
                header=header.get("text") if isinstance(header, dict) else None,
                footer=footer.get("text") if isinstance(footer, dict) else None,
            )
        else:
            raise RemoteProtocolError(f"message type {kind!r} is not served")
        check(message)
    except LocalProtocolError as error:
        raise RemoteProtocolError(error.message) from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise RemoteProtocolError(f"the {kind} object cannot be read: {error}") from None
    context = body.get("context")
    replied = context.get("message_id") if isinstance(context, dict) else None
    return Request(to.removeprefix("+"), message, replied if isinstance(replied, str) else None)
