"""Message templates as the Cloud API has them: submitted for review
(``POST /{waba-id}/message_templates``), listed back with their status, and sent with their
parameters filled in (a ``template`` message's ``components``).

A template is a header (text with at most one ``{{1}}``, or an image, video or document), a
body with ``{{1}}``..``{{n}}``, an optional footer and up to ten buttons (quick replies, URLs
whose address may end in ``{{1}}``, phone numbers). What a send gives for each parameter is a
:class:`Parameters`; :func:`send_components` checks it against the template the way the API
does (error 132000 when the counts differ) and writes the components, :func:`render` shows the
message as the handset will.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tidings.whatsapp.errors import LocalProtocolError, RemoteProtocolError

_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
# Meta's rule for template names: lower-case letters, digits and underscores, at most 512.
NAME = re.compile(r"^[a-z0-9_]{1,512}$")
MAX_BODY = 1024
MAX_HEADER_TEXT = 60
MAX_FOOTER = 60
MAX_BUTTONS = 10
MAX_BUTTON_TEXT = 25


class Category(StrEnum):
    AUTHENTICATION = "AUTHENTICATION"
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"


class TemplateStatus(StrEnum):
    """A template's review status (the ``message_template_status_update`` webhook's event)."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"
    IN_APPEAL = "IN_APPEAL"
    PENDING_DELETION = "PENDING_DELETION"
    DELETED = "DELETED"
    FLAGGED = "FLAGGED"
    REINSTATED = "REINSTATED"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"


class HeaderFormat(StrEnum):
    TEXT = "TEXT"
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    DOCUMENT = "DOCUMENT"


MEDIA_FORMATS = frozenset({HeaderFormat.IMAGE, HeaderFormat.VIDEO, HeaderFormat.DOCUMENT})


class ButtonType(StrEnum):
    QUICK_REPLY = "QUICK_REPLY"
    URL = "URL"
    PHONE_NUMBER = "PHONE_NUMBER"


@dataclass(frozen=True, slots=True)
class Header:
    format: HeaderFormat
    text: str | None = None  # TEXT: may hold one {{1}}


@dataclass(frozen=True, slots=True)
class Button:
    type: ButtonType
    text: str
    url: str | None = None  # URL: may end in {{1}}, the part a send gives
    phone_number: str | None = None  # PHONE_NUMBER

    @property
    def takes_parameter(self) -> bool:
        """Quick replies take a payload, dynamic URLs their suffix; phone numbers nothing."""
        if self.type is ButtonType.QUICK_REPLY:
            return True
        return self.type is ButtonType.URL and bool(self.url and _PLACEHOLDER.search(self.url))


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    language: str
    category: Category
    body: str
    header: Header | None = None
    footer: str | None = None
    buttons: tuple[Button, ...] = ()

    def check(self) -> None:
        """Refuse what the API would refuse at review (as a :class:`LocalProtocolError`)."""
        if not NAME.match(self.name):
            raise LocalProtocolError(
                f"template name {self.name!r}: lower-case letters, digits and underscores only"
            )
        if not self.body.strip() or len(self.body) > MAX_BODY:
            raise LocalProtocolError(f"a template body is 1 to {MAX_BODY} characters")
        placeholders(self.body)
        if self.header is not None:
            if self.header.format is HeaderFormat.TEXT:
                text = self.header.text or ""
                if not text.strip() or len(text) > MAX_HEADER_TEXT:
                    raise LocalProtocolError(f"a header text is 1 to {MAX_HEADER_TEXT} characters")
                if placeholders(text) > 1:
                    raise LocalProtocolError("a header text takes at most one parameter")
            elif self.header.text:
                raise LocalProtocolError("a media header has no text")
        if self.footer is not None and (
            len(self.footer) > MAX_FOOTER or _PLACEHOLDER.search(self.footer)
        ):
            raise LocalProtocolError(f"a footer is at most {MAX_FOOTER} characters, no parameters")
        if len(self.buttons) > MAX_BUTTONS:
            raise LocalProtocolError(f"a template has at most {MAX_BUTTONS} buttons")
        for button in self.buttons:
            if not button.text.strip() or len(button.text) > MAX_BUTTON_TEXT:
                raise LocalProtocolError(
                    f"a button's text is 1 to {MAX_BUTTON_TEXT} characters: {button.text!r}"
                )
            if button.type is ButtonType.URL and not (button.url or "").startswith(
                ("https://", "http://")
            ):
                raise LocalProtocolError(f"the URL button {button.text!r} needs an http(s) URL")
            if button.type is ButtonType.URL and button.url and placeholders(button.url) > 1:
                raise LocalProtocolError("a URL button takes at most one parameter, at its end")
            if button.type is ButtonType.PHONE_NUMBER and not button.phone_number:
                raise LocalProtocolError(f"the phone button {button.text!r} needs a number")

    @property
    def header_parameters(self) -> int:
        if self.header is None or self.header.format is not HeaderFormat.TEXT:
            return 0
        return placeholders(self.header.text or "")

    @property
    def body_parameters(self) -> int:
        return placeholders(self.body)

    def submission(self, *, header_handle: str | None = None) -> dict[str, Any]:
        """The body of ``POST /{waba-id}/message_templates``. Parameters need examples (the
        reviewer reads them); ``header_handle`` is the uploaded example of a media header."""
        components: list[dict[str, Any]] = []
        if self.header is not None:
            header: dict[str, Any] = {"type": "HEADER", "format": self.header.format.value}
            if self.header.format is HeaderFormat.TEXT:
                header["text"] = self.header.text
                if self.header_parameters:
                    header["example"] = {"header_text": ["sample"]}
            elif header_handle is not None:
                header["example"] = {"header_handle": [header_handle]}
            components.append(header)
        body: dict[str, Any] = {"type": "BODY", "text": self.body}
        if self.body_parameters:
            body["example"] = {
                "body_text": [[f"sample{i}" for i in range(1, self.body_parameters + 1)]]
            }
        components.append(body)
        if self.footer:
            components.append({"type": "FOOTER", "text": self.footer})
        if self.buttons:
            buttons: list[dict[str, Any]] = []
            for button in self.buttons:
                entry: dict[str, Any] = {"type": button.type.value, "text": button.text}
                if button.type is ButtonType.URL:
                    entry["url"] = button.url
                    if button.takes_parameter:
                        entry["example"] = [_PLACEHOLDER.sub("sample", button.url or "")]
                if button.type is ButtonType.PHONE_NUMBER:
                    entry["phone_number"] = button.phone_number
                buttons.append(entry)
            components.append({"type": "BUTTONS", "buttons": buttons})
        return {
            "name": self.name,
            "language": self.language,
            "category": self.category.value,
            "components": components,
        }


def placeholders(text: str) -> int:
    """How many parameters ``text`` takes: ``{{1}}``..``{{n}}``, each number at least once and
    none skipped (the API refuses ``{{1}} {{3}}``)."""
    numbers = {int(n) for n in _PLACEHOLDER.findall(text)}
    if numbers and numbers != set(range(1, max(numbers) + 1)):
        raise LocalProtocolError(f"parameters must run from {{{{1}}}} without gaps: {text!r}")
    return len(numbers)


def fill(text: str, values: Sequence[str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values[int(m.group(1)) - 1], text)


# --- reading templates back (GET /{waba-id}/message_templates, the review webhook) ---


def read_template(item: Mapping[str, Any]) -> tuple[Template, str, TemplateStatus, str | None]:
    """A template of a list answer: the template, its id, status and rejection reason."""
    try:
        header = None
        body = ""
        footer = None
        buttons: list[Button] = []
        for component in item.get("components") or ():
            kind = str(component.get("type", "")).upper()
            if kind == "HEADER":
                header = Header(HeaderFormat(component["format"]), component.get("text"))
            elif kind == "BODY":
                body = str(component["text"])
            elif kind == "FOOTER":
                footer = str(component["text"])
            elif kind == "BUTTONS":
                buttons = [
                    Button(
                        ButtonType(b["type"]),
                        str(b["text"]),
                        url=b.get("url"),
                        phone_number=b.get("phone_number"),
                    )
                    for b in component.get("buttons") or ()
                ]
        template = Template(
            name=str(item["name"]),
            language=str(item["language"]),
            category=Category(str(item["category"]).upper()),
            body=body,
            header=header,
            footer=footer,
            buttons=tuple(buttons),
        )
        reason = item.get("rejected_reason")
        return (
            template,
            str(item["id"]),
            TemplateStatus(item["status"]),
            None if reason in (None, "NONE") else str(reason),
        )
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise RemoteProtocolError(f"a template that cannot be read: {error}") from None


def as_listed(template: Template, template_id: str, status: TemplateStatus) -> dict[str, Any]:
    """A template as the list answer shows it (the simulator's side of :func:`read_template`)."""
    return {
        **template.submission(),
        "parameter_format": "POSITIONAL",
        "status": status.value,
        "id": template_id,
    }


# --- sending a template: its parameters and components ---


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"
    AUDIO = "audio"
    STICKER = "sticker"


def media_kind(content_type: str) -> MediaKind:
    """How WhatsApp sends a file of this type: images (JPEG, PNG), video, audio, else as a
    document."""
    if content_type in ("image/jpeg", "image/png"):
        return MediaKind.IMAGE
    if content_type.startswith("video/"):
        return MediaKind.VIDEO
    if content_type.startswith("audio/"):
        return MediaKind.AUDIO
    return MediaKind.DOCUMENT


@dataclass(frozen=True, slots=True)
class Media:
    """A file a message carries: by ``link`` (Meta fetches it) or by the ``id`` an upload to
    ``/{phone-number-id}/media`` gave."""

    kind: MediaKind
    link: str | None = None
    id: str | None = None
    caption: str | None = None
    filename: str | None = None

    def object(self) -> dict[str, Any]:
        if (self.link is None) == (self.id is None):
            raise LocalProtocolError("a media object has a link or an id, one of them")
        found: dict[str, Any] = {"link": self.link} if self.link else {"id": self.id}
        if self.caption and self.kind in (MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.DOCUMENT):
            found["caption"] = self.caption
        if self.filename and self.kind is MediaKind.DOCUMENT:
            found["filename"] = self.filename
        return found


@dataclass(frozen=True, slots=True)
class ButtonParameter:
    index: int  # the button's position among the template's buttons, from 0
    type: ButtonType
    value: str  # a quick reply's payload, or a URL button's suffix


@dataclass(frozen=True, slots=True)
class Parameters:
    header_text: tuple[str, ...] = ()
    header_media: Media | None = None
    body: tuple[str, ...] = ()
    buttons: tuple[ButtonParameter, ...] = field(default=())


def send_components(template: Template, parameters: Parameters) -> list[dict[str, Any]]:
    """The ``components`` of a template message, checked against the template as the API
    checks them (a mismatch it would answer with 132000 is a :class:`LocalProtocolError`)."""
    components: list[dict[str, Any]] = []
    header = template.header
    if parameters.header_text and template.header_parameters != len(parameters.header_text):
        raise LocalProtocolError(
            f"the header takes {template.header_parameters} parameters; "
            f"{len(parameters.header_text)} given"
        )
    if header is not None and header.format in MEDIA_FORMATS:
        media = parameters.header_media
        if media is None:
            raise LocalProtocolError(
                f"the template's header is {header.format.lower()}: a file is needed"
            )
        if media.kind.value != header.format.lower():
            raise LocalProtocolError(
                f"the template's header is {header.format.lower()}, not {media.kind.value}"
            )
        components.append(
            {
                "type": "header",
                "parameters": [{"type": media.kind.value, media.kind.value: media.object()}],
            }
        )
    elif parameters.header_media is not None:
        raise LocalProtocolError("the template's header takes no file")
    elif template.header_parameters:
        if len(parameters.header_text) != template.header_parameters:
            raise LocalProtocolError(
                f"the header takes {template.header_parameters} parameter; none given"
            )
        components.append(
            {
                "type": "header",
                "parameters": [{"type": "text", "text": v} for v in parameters.header_text],
            }
        )
    if len(parameters.body) != template.body_parameters:
        raise LocalProtocolError(
            f"the body takes {template.body_parameters} parameters; {len(parameters.body)} given"
        )
    if parameters.body:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": v} for v in parameters.body]}
        )
    given = {p.index: p for p in parameters.buttons}
    for index, button in enumerate(template.buttons):
        parameter = given.pop(index, None)
        if parameter is None:
            if button.type is ButtonType.URL and button.takes_parameter:
                raise LocalProtocolError(f"the URL button {button.text!r} needs its parameter")
            continue
        if not button.takes_parameter or parameter.type is not button.type:
            raise LocalProtocolError(f"button {index} ({button.text!r}) takes no such parameter")
        if button.type is ButtonType.QUICK_REPLY:
            value = {"type": "payload", "payload": parameter.value}
            sub_type = "quick_reply"
        else:
            value = {"type": "text", "text": parameter.value}
            sub_type = "url"
        # The index a number, as Meta's Node.js SDK and pywa send it (the API takes "0" too).
        components.append(
            {"type": "button", "sub_type": sub_type, "index": index, "parameters": [value]}
        )
    if given:
        raise LocalProtocolError(f"the template has no button {min(given)}")
    return components


def read_send_components(template: Template, components: Sequence[Mapping[str, Any]]) -> Parameters:
    """What a template message's ``components`` give (the API's side of
    :func:`send_components`); a mismatch is a :class:`RemoteProtocolError` (132000)."""
    header_text: list[str] = []
    header_media: Media | None = None
    body: list[str] = []
    buttons: list[ButtonParameter] = []
    try:
        for component in components:
            kind = str(component.get("type", "")).lower()
            values = component.get("parameters") or []
            if kind == "header":
                for value in values:
                    if value["type"] == "text":
                        header_text.append(str(value["text"]))
                    else:
                        media = value[value["type"]]
                        header_media = Media(
                            MediaKind(value["type"]),
                            link=media.get("link"),
                            id=media.get("id"),
                            filename=media.get("filename"),
                        )
            elif kind == "body":
                body.extend(str(value["text"]) for value in values)
            elif kind == "button":
                index = int(component["index"])
                sub_type = str(component["sub_type"]).lower()
                [value] = values
                if sub_type == "quick_reply":
                    buttons.append(
                        ButtonParameter(index, ButtonType.QUICK_REPLY, str(value["payload"]))
                    )
                elif sub_type == "url":
                    buttons.append(ButtonParameter(index, ButtonType.URL, str(value["text"])))
                else:
                    raise ValueError(f"button sub_type {sub_type!r}")
            else:
                raise ValueError(f"component type {kind!r}")
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise RemoteProtocolError(f"components that cannot be read: {error}") from None
    parameters = Parameters(tuple(header_text), header_media, tuple(body), tuple(buttons))
    try:
        send_components(template, parameters)
    except LocalProtocolError as error:
        raise RemoteProtocolError(error.message) from None
    return parameters


@dataclass(frozen=True, slots=True)
class Rendered:
    """A template message as the handset shows it."""

    header_text: str | None
    header_media: Media | None
    body: str
    footer: str | None
    buttons: tuple[tuple[ButtonType, str, str | None], ...]  # type, label, URL or number


def render(template: Template, parameters: Parameters) -> Rendered:
    header = template.header
    header_text = None
    if header is not None and header.format is HeaderFormat.TEXT:
        header_text = fill(header.text or "", parameters.header_text)
    suffixes = {p.index: p.value for p in parameters.buttons if p.type is ButtonType.URL}
    buttons = []
    for index, button in enumerate(template.buttons):
        target = button.phone_number
        if button.type is ButtonType.URL:
            target = fill(button.url or "", (suffixes.get(index, ""),))
        buttons.append((button.type, button.text, target))
    return Rendered(
        header_text=header_text,
        header_media=parameters.header_media,
        body=fill(template.body, parameters.body),
        footer=template.footer,
        buttons=tuple(buttons),
    )


def as_text(rendered: Rendered) -> str:
    """The message as plain text (what an SMS instead of it says, what a listing shows)."""
    lines = [rendered.header_text, rendered.body, rendered.footer]
    for kind, label, target in rendered.buttons:
        if kind is ButtonType.URL and target:
            lines.append(f"{label}: {target}")
    return "\n".join(line for line in lines if line)
