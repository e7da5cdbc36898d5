"""MIME framing of MM7 (TS 23.140 §8.4.1, SOAP Messages with Attachments): the SOAP envelope
and the multimedia content travel as parts of one ``multipart/related`` HTTP body; the content
is itself ``multipart/related`` with a SMIL presentation first (``type="application/smil"``),
or ``multipart/mixed`` without one, or a single part.

Writing is done by hand (deterministic bytes, binary parts in base64). Reading uses the
standard library's ``email`` parser, which never raises on malformed input but records
defects; the limits below are checked before and after it.
"""

from __future__ import annotations

import base64
import email
import email.policy
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message as MimeMessage
from xml.sax.saxutils import quoteattr

from tidings.mm7.errors import LocalProtocolError, RemoteProtocolError
from tidings.mm7.messages import ContentPart

MAX_PARTS = 50
MAX_DEPTH = 3
_TEXT_TYPES = ("text/", "application/smil", "application/xml")


@dataclass(frozen=True, slots=True)
class Limits:
    """What an incoming MM7 body may be: its size in bytes and its number of parts."""

    max_bytes: int = 5 * 1024 * 1024
    max_parts: int = MAX_PARTS


def _boundary() -> str:
    return f"tidings-{secrets.token_hex(12)}"


def _header_value(value: str) -> str:
    if any(char in value for char in "\r\n\0"):
        raise LocalProtocolError(f"a MIME header value holds a line break: {value!r}")
    return value


def _part(headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    lines = "".join(f"{name}: {_header_value(value)}\r\n" for name, value in headers)
    return lines.encode("utf-8") + b"\r\n" + body


def _multipart(boundary: str, parts: Sequence[bytes]) -> bytes:
    delimiter = f"--{boundary}".encode()
    out = bytearray()
    for part in parts:
        out += delimiter + b"\r\n" + part + b"\r\n"
    out += delimiter + b"--\r\n"
    return bytes(out)


def _encode_part(part: ContentPart) -> bytes:
    content_type = part.content_type
    if part.charset:
        content_type += f'; charset="{part.charset}"'
    headers = [("Content-Type", content_type), ("Content-ID", f"<{part.content_id}>")]
    if part.location:
        headers.append(("Content-Location", part.location))
    if part.content_type.startswith(_TEXT_TYPES):
        headers.append(("Content-Transfer-Encoding", "8bit"))
        return _part(headers, part.data)
    headers.append(("Content-Transfer-Encoding", "base64"))
    return _part(headers, base64.encodebytes(part.data).replace(b"\n", b"\r\n").rstrip(b"\r\n"))


def presentation(parts: Sequence[ContentPart]) -> ContentPart:
    """A SMIL presentation of ``parts`` (OMA MMS conformance layout): one slide per picture or
    video with the text under it, sound played with the first slide, other files referenced."""
    visual = [p for p in parts if p.content_type.startswith(("image/", "video/"))]
    texts = [p for p in parts if p.content_type == "text/plain"]
    sounds = [p for p in parts if p.content_type.startswith("audio/")]
    others = [p for p in parts if p not in visual and p not in texts and p not in sounds]
    slides: list[str] = []
    count = max(len(visual), len(texts), 1)
    for index in range(count):
        items: list[str] = []
        if index < len(visual):
            tag = "video" if visual[index].content_type.startswith("video/") else "img"
            items.append(
                f'<{tag} src={quoteattr("cid:" + visual[index].content_id)} region="Image"/>'
            )
        if index < len(texts):
            items.append(f'<text src={quoteattr("cid:" + texts[index].content_id)} region="Text"/>')
        if index == 0:
            items += [f"<audio src={quoteattr('cid:' + s.content_id)}/>" for s in sounds]
            items += [f"<ref src={quoteattr('cid:' + o.content_id)}/>" for o in others]
        slides.append(f'<par dur="5000ms">{"".join(items)}</par>')
    smil = (
        "<smil><head><layout>"
        '<root-layout width="320" height="480"/>'
        '<region id="Image" top="0" left="0" width="320" height="320" fit="meet"/>'
        '<region id="Text" top="320" left="0" width="320" height="160" fit="scroll"/>'
        f"</layout></head><body>{''.join(slides)}</body></smil>"
    )
    return ContentPart("application/smil", smil.encode(), "presentation", "presentation.smil")


@dataclass(frozen=True, slots=True)
class Encoded:
    """An HTTP body and its Content-Type."""

    content_type: str
    body: bytes


def encode(envelope: bytes, content: Sequence[ContentPart], content_id: str) -> Encoded:
    """The HTTP body of an MM7 request: the envelope alone as ``text/xml`` when there is no
    content, else both in ``multipart/related`` with a SMIL presentation added."""
    if not content:
        return Encoded('text/xml; charset="utf-8"', envelope)
    if len(content) + 1 > MAX_PARTS:
        raise LocalProtocolError(f"an MM7 message takes at most {MAX_PARTS - 1} parts")
    ids = [part.content_id for part in content]
    if len(set(ids)) != len(ids) or "presentation" in ids:
        raise LocalProtocolError("content part ids must be distinct (and not 'presentation')")
    smil = presentation(content)
    inner = _boundary()
    inner_body = _multipart(inner, [_encode_part(part) for part in (smil, *content)])
    outer = _boundary()
    body = _multipart(
        outer,
        [
            _part(
                [("Content-Type", 'text/xml; charset="utf-8"'), ("Content-ID", "<mm7-soap>")],
                envelope,
            ),
            _part(
                [
                    (
                        "Content-Type",
                        f'multipart/related; boundary="{inner}"; type="application/smil"; '
                        'start="<presentation>"',
                    ),
                    ("Content-ID", f"<{content_id}>"),
                ],
                inner_body,
            ),
        ],
    )
    return Encoded(
        f'multipart/related; boundary="{outer}"; type="text/xml"; start="<mm7-soap>"', body
    )


# --- reading ---


@dataclass(frozen=True, slots=True)
class Decoded:
    envelope: bytes
    # Every part of the multimedia content, SMIL included, keyed by Content-ID.
    parts: dict[str, ContentPart]
    # The Content-ID of the content as a whole (what the envelope's Content href names).
    roots: tuple[str, ...]


def _header(part: MimeMessage, name: str) -> str | None:
    value = part.get(name)
    # The parser hands back a Header object for a value it could not read as ASCII.
    return None if value is None else str(value)


def _strip_id(value: str | None) -> str:
    return (value or "").strip().strip("<>").strip()


def _parse(content_type: str, body: bytes) -> MimeMessage:
    if any(char in content_type for char in "\r\n\0"):
        raise RemoteProtocolError("a line break in the Content-Type header")
    return email.message_from_bytes(
        b"Content-Type: " + content_type.encode("latin-1", errors="replace") + b"\r\n\r\n" + body,
        policy=email.policy.compat32,
    )


def _payload(part: MimeMessage) -> bytes:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return b""
    return payload


def _leaf(part: MimeMessage, index: int) -> ContentPart:
    content_id = _strip_id(_header(part, "Content-ID")) or f"part-{index}"
    location = _header(part, "Content-Location")
    return ContentPart(
        content_type=part.get_content_type(),
        data=_payload(part),
        content_id=content_id[:200],
        location=location.strip()[:255] if location else None,
        charset=part.get_content_charset(),
    )


def decode(content_type: str, body: bytes, limits: Limits = Limits()) -> Decoded:
    """Split an MM7 HTTP body into its envelope and content parts."""
    if len(body) > limits.max_bytes:
        raise RemoteProtocolError(f"the MM7 body is over {limits.max_bytes:,} bytes")
    main = content_type.split(";", 1)[0].strip().lower()
    if main in ("text/xml", "application/xml", "application/soap+xml"):
        return Decoded(body, {}, ())
    if not main.startswith("multipart/"):
        raise RemoteProtocolError(f"an MM7 body is text/xml or multipart/related, not {main}")
    message = _parse(content_type, body)
    if not message.is_multipart():
        raise RemoteProtocolError("the multipart body has no parts (boundary missing?)")
    top = [part for part in message.get_payload() if isinstance(part, MimeMessage)]
    if not top:
        raise RemoteProtocolError("the multipart body has no parts")
    start = _strip_id(message.get_param("start", header="content-type") or None)  # type: ignore[arg-type]
    soap_part = next(
        (part for part in top if start and _strip_id(_header(part, "Content-ID")) == start), top[0]
    )
    parts: dict[str, ContentPart] = {}
    roots: list[str] = []
    counter = 0

    def collect(part: MimeMessage, depth: int) -> None:
        nonlocal counter
        if depth > MAX_DEPTH:
            raise RemoteProtocolError(f"MIME parts nest deeper than {MAX_DEPTH} levels")
        if part.is_multipart():
            for child in part.get_payload():
                if isinstance(child, MimeMessage):
                    collect(child, depth + 1)
            return
        counter += 1
        if counter > limits.max_parts:
            raise RemoteProtocolError(f"an MM7 message has more than {limits.max_parts} parts")
        leaf = _leaf(part, counter)
        parts.setdefault(leaf.content_id, leaf)

    for part in top:
        if part is soap_part:
            continue
        roots.append(_strip_id(_header(part, "Content-ID")) or f"part-{counter + 1}")
        collect(part, 1)
    envelope = _payload(soap_part)
    if not envelope:
        raise RemoteProtocolError("the SOAP part is empty")
    return Decoded(envelope, parts, tuple(roots))
