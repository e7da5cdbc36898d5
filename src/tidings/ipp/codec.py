"""IPP messages as bytes and back (RFC 8010 §3).

A message is a version, an operation-id (request) or status-code (response), a request-id,
groups of attributes each opened by a delimiter tag, the end-of-attributes tag, then the
document data. Decoding never trusts a length: every field is checked against what is left,
and a message that cannot be read raises :class:`RemoteProtocolError` with the status a server
answers it with (``client-error-bad-request``), never anything else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from tidings.ipp.constants import GroupTag, ValueTag
from tidings.ipp.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "Attribute",
    "AttributeGroup",
    "Collection",
    "Message",
    "Resolution",
    "TextWithLanguage",
    "Value",
    "decode_message",
    "encode_message",
]

# How deep collections may nest in what we read (media-col holds media-size: two levels).
_MAX_DEPTH = 8
_STRING_TAGS = frozenset(range(0x40, 0x60)) - {ValueTag.TEXT_WITH_LANGUAGE}
_OUT_OF_BAND = frozenset(range(0x10, 0x20))


@dataclass(frozen=True, slots=True)
class Resolution:
    x: int
    y: int
    #: 3: dots per inch, 4: dots per centimetre.
    units: int


@dataclass(frozen=True, slots=True)
class TextWithLanguage:
    language: str
    text: str


@dataclass(frozen=True, slots=True)
class Collection:
    """A collection value (RFC 8010 §3.1.6): member attributes by name, in order."""

    members: tuple[Attribute, ...]

    def get(self, name: str) -> Attribute | None:
        return next((m for m in self.members if m.name == name), None)


#: A decoded value. None stands for an out-of-band value (unsupported, unknown, no-value).
Value = (
    int
    | bool
    | str
    | bytes
    | datetime
    | Resolution
    | tuple[int, int]
    | TextWithLanguage
    | Collection
    | None
)


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    tag: int
    values: tuple[Value, ...]

    @property
    def value(self) -> Value:
        return self.values[0] if self.values else None


@dataclass(slots=True)
class AttributeGroup:
    tag: int
    attributes: list[Attribute] = field(default_factory=list)

    def get(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def add(self, name: str, tag: ValueTag, *values: Value) -> AttributeGroup:
        self.attributes.append(Attribute(name, int(tag), values))
        return self


@dataclass(slots=True)
class Message:
    version: tuple[int, int]
    #: operation-id in a request, status-code in a response.
    code: int
    request_id: int
    groups: list[AttributeGroup] = field(default_factory=list)
    data: bytes = b""

    def group(self, tag: GroupTag) -> AttributeGroup | None:
        return next((g for g in self.groups if g.tag == tag), None)

    def groups_of(self, tag: GroupTag) -> list[AttributeGroup]:
        return [g for g in self.groups if g.tag == tag]

    def attribute(self, tag: GroupTag, name: str) -> Attribute | None:
        group = self.group(tag)
        return group.get(name) if group else None


# -- encoding ---------------------------------------------------------------------------------


def _encode_value(tag: int, value: Value) -> bytes:
    if tag in _OUT_OF_BAND:
        return b""
    if tag in (ValueTag.INTEGER, ValueTag.ENUM):
        if not isinstance(value, int) or isinstance(value, bool):
            raise LocalProtocolError(f"an integer or enum value, not {value!r}")
        if not -(2**31) <= value < 2**31:
            raise LocalProtocolError(f"{value} does not fit a signed 32-bit integer")
        return struct.pack(">i", value)
    if tag == ValueTag.BOOLEAN:
        return b"\x01" if value else b"\x00"
    if tag == ValueTag.RANGE_OF_INTEGER and isinstance(value, tuple):
        return struct.pack(">ii", *value)
    if tag == ValueTag.RESOLUTION and isinstance(value, Resolution):
        return struct.pack(">iib", value.x, value.y, value.units)
    if tag == ValueTag.DATE_TIME and isinstance(value, datetime):
        return _encode_datetime(value)
    if tag in (ValueTag.TEXT_WITH_LANGUAGE, ValueTag.NAME_WITH_LANGUAGE) and isinstance(
        value, TextWithLanguage
    ):
        language, text = value.language.encode("ascii"), value.text.encode("utf-8")
        return struct.pack(">H", len(language)) + language + struct.pack(">H", len(text)) + text
    if tag in _STRING_TAGS and isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise LocalProtocolError(f"cannot encode {value!r} with value tag 0x{tag:02x}")


def _encode_datetime(value: datetime) -> bytes:
    """RFC 2579 DateAndTime, as RFC 8010 §3.9 uses it."""
    offset = value.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    direction = b"+" if minutes >= 0 else b"-"
    hours, mins = divmod(abs(minutes), 60)
    return struct.pack(
        ">HBBBBBBcBB",
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 100_000,
        direction,
        hours,
        mins,
    )


def _encode_attribute(out: bytearray, attribute: Attribute, *, name: bool = True) -> None:
    values = attribute.values or (None,)
    for index, value in enumerate(values):
        tag = attribute.tag
        key = attribute.name.encode("utf-8") if index == 0 and name else b""
        if isinstance(value, Collection):
            out += struct.pack(">BH", ValueTag.BEGIN_COLLECTION, len(key)) + key
            out += struct.pack(">H", 0)
            for member in value.members:
                member_name = member.name.encode("utf-8")
                out += struct.pack(">BHH", ValueTag.MEMBER_ATTR_NAME, 0, len(member_name))
                out += member_name
                _encode_attribute(out, member, name=False)
            out += struct.pack(">BHH", ValueTag.END_COLLECTION, 0, 0)
            continue
        encoded = _encode_value(tag, value)
        if len(encoded) > 0xFFFF:
            raise LocalProtocolError(f"the value of {attribute.name!r} is over 65,535 bytes")
        out += struct.pack(">BH", tag, len(key)) + key + struct.pack(">H", len(encoded)) + encoded


def encode_message(message: Message) -> bytes:
    out = bytearray(
        struct.pack(
            ">BBHI", message.version[0], message.version[1], message.code, message.request_id
        )
    )
    for group in message.groups:
        out.append(group.tag)
        for attribute in group.attributes:
            _encode_attribute(out, attribute)
    out.append(GroupTag.END)
    out += message.data
    return bytes(out)


# -- decoding ---------------------------------------------------------------------------------


class _Reader:
    __slots__ = ("data", "offset")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, count: int, what: str) -> bytes:
        end = self.offset + count
        if end > len(self.data):
            raise RemoteProtocolError(f"the IPP message ends inside {what}")
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    def short(self, what: str) -> int:
        value: int = struct.unpack(">H", self.take(2, what))[0]
        return value

    def peek(self) -> int | None:
        return self.data[self.offset] if self.offset < len(self.data) else None


def _decode_value(tag: int, raw: bytes, name: str) -> Value:
    try:
        if tag in _OUT_OF_BAND:
            return None
        if tag in (ValueTag.INTEGER, ValueTag.ENUM):
            number: int = struct.unpack(">i", raw)[0]
            return number
        if tag == ValueTag.BOOLEAN:
            if len(raw) != 1:
                raise struct.error("a boolean is one octet")
            return raw != b"\x00"
        if tag == ValueTag.RANGE_OF_INTEGER:
            lower, upper = struct.unpack(">ii", raw)
            return (lower, upper)
        if tag == ValueTag.RESOLUTION:
            x, y, units = struct.unpack(">iib", raw)
            return Resolution(x, y, units)
        if tag == ValueTag.DATE_TIME:
            return _decode_datetime(raw)
        if tag in (ValueTag.TEXT_WITH_LANGUAGE, ValueTag.NAME_WITH_LANGUAGE):
            inner = _Reader(raw)
            language = inner.take(inner.short("a language"), "a language")
            text = inner.take(inner.short("a text"), "a text")
            return TextWithLanguage(
                language.decode("ascii", "replace"), text.decode("utf-8", "replace")
            )
        if tag in _STRING_TAGS:
            return raw.decode("utf-8", "replace")
    except (struct.error, ValueError) as error:
        raise RemoteProtocolError(
            f"the value of {name!r} (tag 0x{tag:02x}) cannot be read: {error}"
        ) from error
    return bytes(raw)


def _decode_datetime(raw: bytes) -> datetime:
    year, month, day, hour, minute, second, decis, direction, hours, mins = struct.unpack(
        ">HBBBBBBcBB", raw
    )
    offset = timedelta(hours=hours, minutes=mins)
    zone = UTC if not offset else timezone(offset if direction == b"+" else -offset)
    return datetime(year, month, day, hour, minute, second, decis * 100_000, tzinfo=zone)


def _read_collection(reader: _Reader, depth: int) -> Collection:
    if depth > _MAX_DEPTH:
        raise RemoteProtocolError(f"collections nested more than {_MAX_DEPTH} deep")
    members: list[tuple[str, int, list[Value]]] = []
    while True:
        tag = reader.byte("a collection")
        name_length = reader.short("a collection member")
        reader.take(name_length, "a collection member's name")  # always empty in members
        raw = reader.take(reader.short("a collection value"), "a collection value")
        if tag == ValueTag.END_COLLECTION:
            return Collection(
                tuple(Attribute(name, t, tuple(values)) for name, t, values in members)
            )
        if tag == ValueTag.MEMBER_ATTR_NAME:
            members.append((raw.decode("utf-8", "replace"), -1, []))
            continue
        if not members:
            raise RemoteProtocolError("a collection value before any member name")
        name, member_tag, values = members[-1]
        if member_tag == -1:
            members[-1] = (name, tag, values)
        if tag == ValueTag.BEGIN_COLLECTION:
            values.append(_read_collection(reader, depth + 1))
        elif tag < 0x10:
            raise RemoteProtocolError(f"a delimiter tag 0x{tag:02x} inside a collection")
        else:
            values.append(_decode_value(tag, raw, name))


def decode_message(data: bytes) -> Message:
    """Read one IPP message; :class:`RemoteProtocolError` if it cannot be read."""
    reader = _Reader(data)
    major, minor = reader.byte("the version"), reader.byte("the version")
    code = reader.short("the operation or status code")
    request_id: int = struct.unpack(">I", reader.take(4, "the request id"))[0]
    message = Message((major, minor), code, request_id)
    group: AttributeGroup | None = None
    pending: tuple[str, int, list[Value]] | None = None

    def flush() -> None:
        if pending is not None and group is not None:
            group.attributes.append(Attribute(pending[0], pending[1], tuple(pending[2])))

    while True:
        tag = reader.byte("the attributes (no end-of-attributes tag)")
        if tag < 0x10:
            flush()
            pending = None
            if tag == GroupTag.END:
                message.data = data[reader.offset :]
                return message
            if tag == 0x00:
                raise RemoteProtocolError("delimiter tag 0x00 is reserved")
            group = AttributeGroup(tag)
            message.groups.append(group)
            continue
        if group is None:
            raise RemoteProtocolError("an attribute before any attribute group")
        name = reader.take(reader.short("an attribute name"), "an attribute name")
        raw = reader.take(reader.short("an attribute value"), "an attribute value")
        if name:
            flush()
            pending = (name.decode("utf-8", "replace"), tag, [])
        elif pending is None:
            raise RemoteProtocolError("an additional value with no attribute before it")
        if tag == ValueTag.BEGIN_COLLECTION:
            pending[2].append(_read_collection(reader, 1))
        else:
            pending[2].append(_decode_value(tag, raw, pending[0]))
