"""SIP messages (RFC 3261 §7, §20, §25): parsing with strict limits, and serialising.

A datagram or a framed stream chunk goes in, a :class:`Request` or :class:`Response` comes out,
or a :class:`RemoteProtocolError` carrying the status to answer with. Nothing the peer sends can
raise anything else: the parser bounds every size and count before it looks at a value, decodes
strictly, and checks the headers every message must carry (§8.1.1, §20).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from tidings.sip.errors import LocalProtocolError, RemoteProtocolError

SIP_VERSION = "SIP/2.0"
# §8.1.1.7: the magic cookie that marks an RFC 3261 branch.
BRANCH_COOKIE = "z9hG4bK"


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of a message the parser accepts before it refuses it."""

    # A UDP datagram is at most 65,507 bytes of payload; a SIP message rarely needs 4 kB.
    max_message_bytes: int = 65_535
    max_header_bytes: int = 16_384
    max_headers: int = 128
    max_body_bytes: int = 32_768


DEFAULT_LIMITS = Limits()

# §7.3.3 compact forms, and those of the extensions a trunk commonly uses.
_COMPACT = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
    "u": "Allow-Events",
    "x": "Session-Expires",
}
# Canonical spellings of the headers we read; others keep the spelling they came with.
_CANONICAL = {
    name.lower(): name
    for name in (
        "Accept",
        "Allow",
        "Authorization",
        "Call-ID",
        "Contact",
        "Content-Length",
        "Content-Type",
        "CSeq",
        "Expires",
        "From",
        "Max-Forwards",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Reason",
        "Record-Route",
        "Require",
        "Route",
        "Server",
        "Supported",
        "To",
        "Unsupported",
        "User-Agent",
        "Via",
        "WWW-Authenticate",
        "Retry-After",
        "Warning",
    )
}
# Headers whose values are comma-separated lists that may also come as separate lines (§7.3.1).
# WWW-Authenticate and friends are not: their parameters contain commas.
_LIST_HEADERS = frozenset(
    {"via", "route", "record-route", "contact", "allow", "supported", "require", "unsupported"}
)
# §8.1.1: every request carries these; §20 marks the same mandatory in responses (less
# Max-Forwards).
_REQUIRED_IN_REQUEST = ("Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards")
_REQUIRED_IN_RESPONSE = ("Via", "From", "To", "Call-ID", "CSeq")

_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")
_REQUEST_LINE = re.compile(r"([A-Za-z0-9.!%*_+`'~-]+) ([^ \x00-\x1f]+) (SIP/\d+\.\d+)")
_STATUS_LINE = re.compile(r"(SIP/\d+\.\d+) ([1-6]\d\d) ([^\x00-\x08\x0a-\x1f\x7f]*)")
_CSEQ = re.compile(r"(\d{1,10})[ \t]+([A-Za-z0-9.!%*_+`'~-]+)")


def canonical_name(name: str) -> str:
    lower = name.lower()
    if lower in _COMPACT:
        return _COMPACT[lower]
    return _CANONICAL.get(lower, name)


@dataclass(frozen=True, slots=True)
class Headers:
    """The header fields of a message, in order, names canonical (compact forms expanded)."""

    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        return cls(tuple((canonical_name(name), value) for name, value in pairs))

    def get(self, name: str) -> str | None:
        """The first value of ``name`` (a list header's first element), or None."""
        values = self.get_all(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``; list headers split at their top-level commas."""
        lower = canonical_name(name).lower()
        values = [value for key, value in self.items if key.lower() == lower]
        if lower in _LIST_HEADERS:
            return [part for value in values for part in split_list(value)]
        return values

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def with_added(self, name: str, value: str, *, first: bool = False) -> Headers:
        item = (canonical_name(name), value)
        return Headers((item, *self.items) if first else (*self.items, item))

    def without(self, name: str) -> Headers:
        lower = canonical_name(name).lower()
        return Headers(tuple(item for item in self.items if item[0].lower() != lower))

    def replaced(self, name: str, value: str) -> Headers:
        """``name`` set to the single ``value``, in the place of its first occurrence."""
        lower = canonical_name(name).lower()
        out: list[tuple[str, str]] = []
        done = False
        for key, old in self.items:
            if key.lower() == lower:
                if not done:
                    out.append((key, value))
                    done = True
                continue
            out.append((key, old))
        if not done:
            out.append((canonical_name(name), value))
        return Headers(tuple(out))

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    uri: str
    headers: Headers
    body: bytes = b""

    @property
    def call_id(self) -> str:
        return self.headers.get("Call-ID") or ""

    @property
    def cseq(self) -> CSeq:
        return CSeq.parse(self.headers.get("CSeq") or "")

    def encode(self) -> bytes:
        return _encode(f"{self.method} {self.uri} {SIP_VERSION}", self.headers, self.body)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    reason: str
    headers: Headers
    body: bytes = b""

    @property
    def call_id(self) -> str:
        return self.headers.get("Call-ID") or ""

    @property
    def cseq(self) -> CSeq:
        return CSeq.parse(self.headers.get("CSeq") or "")

    @property
    def branch(self) -> str | None:
        via = self.headers.get("Via")
        return Via.parse(via).branch if via else None

    def encode(self) -> bytes:
        return _encode(f"{SIP_VERSION} {self.status} {self.reason}", self.headers, self.body)


Message = Request | Response


def _encode(start_line: str, headers: Headers, body: bytes) -> bytes:
    lines = [start_line]
    for name, value in headers.without("Content-Length"):
        if "\r" in value or "\n" in value:
            raise LocalProtocolError(f"header {name} contains a line break")
        lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- parsing --------------------------------------------------------------------------------


def parse_message(
    data: bytes, limits: Limits = DEFAULT_LIMITS, *, stream: bool = False
) -> Request | Response:
    """One whole message (a datagram's payload).

    Over a datagram transport the body is what follows the headers, cut to Content-Length
    (§18.3: a longer datagram keeps the first Content-Length bytes; a shorter one is refused).
    """
    if len(data) > limits.max_message_bytes:
        raise RemoteProtocolError("message too large", status_code=513)
    end = data.find(b"\r\n\r\n")
    if end < 0:
        raise RemoteProtocolError("the header section has no end")
    if end > limits.max_header_bytes:
        raise RemoteProtocolError("header section too large", status_code=513)
    start_line, headers = _parse_head(data[:end], limits)
    body = data[end + 4 :]
    length_text = headers.get("Content-Length")
    if length_text is not None:
        length = _content_length(length_text)
        if length > len(body):
            raise RemoteProtocolError("the body is shorter than its Content-Length")
        body = body[:length]
    elif stream:
        raise RemoteProtocolError("Content-Length is required over a stream", fatal=True)
    if len(body) > limits.max_body_bytes:
        raise RemoteProtocolError("body too large", status_code=513)
    return _build(start_line, headers, body)


def _content_length(text: str) -> int:
    text = text.strip()
    if not text.isdigit() or len(text) > 9:
        raise RemoteProtocolError(f"bad Content-Length {text[:20]!r}", fatal=True)
    return int(text)


def _parse_head(head: bytes, limits: Limits) -> tuple[str, Headers]:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RemoteProtocolError("the header section is not UTF-8") from error
    lines = text.split("\r\n")
    start_line = lines[0]
    pairs: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            raise RemoteProtocolError("empty line inside the header section")
        if line[0] in " \t":
            # §7.3.1: a line starting with whitespace continues the previous header.
            if not pairs:
                raise RemoteProtocolError("continuation line before any header")
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or not _TOKEN.fullmatch(name):
            raise RemoteProtocolError(f"malformed header line {line[:40]!r}")
        if len(pairs) >= limits.max_headers:
            raise RemoteProtocolError("too many headers", status_code=513)
        pairs.append((canonical_name(name), value.strip(" \t")))
    return start_line, Headers(tuple(pairs))


def _build(start_line: str, headers: Headers, body: bytes) -> Request | Response:
    if start_line.startswith("SIP/"):
        status_match = _STATUS_LINE.fullmatch(start_line)
        if status_match is None:
            raise RemoteProtocolError(f"malformed status line {start_line[:60]!r}")
        _check_version(status_match.group(1))
        response = Response(int(status_match.group(2)), status_match.group(3), headers, body)
        _check_required(headers, _REQUIRED_IN_RESPONSE)
        _check_common(headers)
        return response
    request_match = _REQUEST_LINE.fullmatch(start_line)
    if request_match is None:
        raise RemoteProtocolError(f"malformed request line {start_line[:60]!r}")
    _check_version(request_match.group(3))
    method, uri = request_match.group(1), request_match.group(2)
    if ":" not in uri:
        raise RemoteProtocolError(f"Request-URI {uri[:60]!r} has no scheme", status_code=416)
    _check_required(headers, _REQUIRED_IN_REQUEST)
    cseq = _check_common(headers)
    if cseq.method != method:
        raise RemoteProtocolError("the CSeq method does not match the request method")
    forwards = (headers.get("Max-Forwards") or "").strip()
    if not forwards.isdigit() or len(forwards) > 3:
        raise RemoteProtocolError("bad Max-Forwards")
    return Request(method, uri, headers, body)


def _check_version(version: str) -> None:
    if version != SIP_VERSION:
        raise RemoteProtocolError(f"{version} is not supported", status_code=505)


def _check_required(headers: Headers, names: tuple[str, ...]) -> None:
    for name in names:
        if not headers.get(name):
            raise RemoteProtocolError(f"missing {name} header")


def _check_common(headers: Headers) -> CSeq:
    cseq = CSeq.parse(headers.get("CSeq") or "")
    Via.parse(headers.get("Via") or "")
    NameAddr.parse(headers.get("From") or "")
    NameAddr.parse(headers.get("To") or "")
    return cseq


@dataclass(slots=True)
class StreamParser:
    """Frames messages out of a byte stream (TCP, §18.3): Content-Length is mandatory there.

    CRLFs between messages are keep-alives (RFC 5626 §3.5.1) and are skipped. A framing error
    is fatal: the stream can no longer be trusted.
    """

    limits: Limits = DEFAULT_LIMITS
    _buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > self.limits.max_message_bytes * 2:
            raise RemoteProtocolError("too much unframed data", status_code=513, fatal=True)

    def next_message(self) -> Request | Response | None:
        buffer = self._buffer
        while buffer[:2] == b"\r\n":
            del buffer[:2]
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > self.limits.max_header_bytes:
                raise RemoteProtocolError("header section too large", status_code=513, fatal=True)
            return None
        if end > self.limits.max_header_bytes:
            raise RemoteProtocolError("header section too large", status_code=513, fatal=True)
        head = bytes(buffer[:end])
        length_match = re.search(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*([^\r]*)", head, re.I)
        if length_match is None:
            raise RemoteProtocolError("Content-Length is required over a stream", fatal=True)
        length = _content_length(length_match.group(1).decode("latin-1"))
        if length > self.limits.max_body_bytes:
            raise RemoteProtocolError("body too large", status_code=513, fatal=True)
        total = end + 4 + length
        if len(buffer) < total:
            return None
        data = bytes(buffer[:total])
        del buffer[:total]
        # A message that frames but does not parse is refused on its own; the stream goes on.
        return parse_message(data, self.limits, stream=True)


# --- header values --------------------------------------------------------------------------


def split_list(value: str) -> list[str]:
    """Split a list header at commas outside quotes and angle brackets."""
    parts: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    start = 0
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif quoted:
            if char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "<":
            depth += 1
        elif char == ">":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            parts.append(value[start:index].strip())
            start = index + 1
    parts.append(value[start:].strip())
    return [part for part in parts if part]


def parse_params(text: str) -> dict[str, str | None]:
    """``;name=value;flag`` → {name (lower case): value or None}."""
    params: dict[str, str | None] = {}
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        name, equals, value = item.partition("=")
        name = name.strip().lower()
        if not _TOKEN.fullmatch(name):
            raise RemoteProtocolError(f"bad parameter {item[:40]!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        params[name] = value if equals else None
    return params


def format_params(params: dict[str, str | None]) -> str:
    return "".join(
        f";{name}" if value is None else f";{name}={value}" for name, value in params.items()
    )


@dataclass(frozen=True, slots=True)
class CSeq:
    number: int
    method: str

    @classmethod
    def parse(cls, text: str) -> CSeq:
        match = _CSEQ.fullmatch(text.strip())
        if match is None:
            raise RemoteProtocolError(f"bad CSeq {text[:40]!r}")
        number = int(match.group(1))
        # §8.1.1.5: less than 2**31.
        if number >= 2**31:
            raise RemoteProtocolError("CSeq number out of range")
        return cls(number, match.group(2))

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


@dataclass(frozen=True, slots=True)
class Via:
    transport: str
    host: str
    port: int | None
    params: dict[str, str | None]

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @classmethod
    def parse(cls, text: str) -> Via:
        sent_protocol, _, rest = text.strip().partition(" ")
        protocol = [part.strip() for part in sent_protocol.split("/")]
        if len(protocol) != 3 or protocol[0].upper() != "SIP" or not rest:
            raise RemoteProtocolError(f"bad Via {text[:60]!r}")
        sent_by, _, params = rest.strip().partition(";")
        host, port = split_host_port(sent_by.strip())
        return cls(protocol[2].upper(), host, port, parse_params(params))

    def __str__(self) -> str:
        sent_by = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"SIP/2.0/{self.transport} {sent_by}{format_params(self.params)}"


def split_host_port(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not host:
            raise RemoteProtocolError(f"bad IPv6 reference {text[:60]!r}")
        host = f"[{host}]"
        port_text = rest[1:] if rest.startswith(":") else ("" if not rest else None)
    else:
        host, _, port_text = text.partition(":")
    if not host or port_text is None or not re.fullmatch(r"[A-Za-z0-9.\-_\[\]:]+", host):
        raise RemoteProtocolError(f"bad host {text[:60]!r}")
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise RemoteProtocolError(f"bad port {text[:60]!r}")
    return host, int(port_text)


@dataclass(frozen=True, slots=True)
class SipUri:
    """A sip: or sips: URI (§19.1), enough of it to address requests and read a Contact."""

    scheme: str
    user: str | None
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> SipUri:
        scheme, colon, rest = text.strip().partition(":")
        scheme = scheme.lower()
        if not colon or scheme not in ("sip", "sips"):
            raise RemoteProtocolError(f"not a SIP URI: {text[:60]!r}")
        rest = rest.partition("?")[0]
        userinfo, at, hostpart = rest.rpartition("@")
        user = userinfo.partition(":")[0] if at else None
        hostport, _, params = hostpart.partition(";")
        host, port = split_host_port(hostport)
        return cls(scheme, user or None, host, port, parse_params(params))

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}:{user}{self.host}{port}{format_params(self.params)}"


@dataclass(frozen=True, slots=True)
class NameAddr:
    """From, To, Contact, Route: ``"Display" <uri>;params`` or ``uri;params`` (§20.10)."""

    uri: str
    display: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def with_tag(self, tag: str) -> NameAddr:
        return replace(self, params={**self.params, "tag": tag})

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        text = text.strip()
        if not text:
            raise RemoteProtocolError("empty address")
        display: str | None = None
        if "<" in text:
            display_part, _, rest = text.partition("<")
            uri, bracket, params = rest.partition(">")
            if not bracket or not uri.strip():
                raise RemoteProtocolError(f"bad address {text[:60]!r}")
            display = display_part.strip().strip('"') or None
        elif text == "*":
            uri, params = "*", ""
        else:
            # §20.10: without angle brackets, everything after ';' are header parameters.
            uri, _, params = text.partition(";")
        uri = uri.strip()
        if uri != "*" and (":" not in uri or " " in uri):
            raise RemoteProtocolError(f"bad URI {uri[:60]!r}")
        return cls(uri, display, parse_params(params))

    def __str__(self) -> str:
        display = f'"{self.display}" ' if self.display else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"


def reason_phrase(status: int) -> str:
    return _REASONS.get(status, "Unknown")


_REASONS = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "Version Not Supported",
    513: "Message Too Large",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
}


def response_to(
    request: Request,
    status: int,
    *,
    to_tag: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    reason: str | None = None,
) -> Response:
    """A response to ``request`` with the headers §8.2.6.2 copies from it."""
    copied: list[tuple[str, str]] = [("Via", via) for via in request.headers.get_all("Via")]
    to = request.headers.get("To") or ""
    if to_tag is not None and status > 100:
        address = NameAddr.parse(to)
        if address.tag is None:
            to = str(address.with_tag(to_tag))
    copied += [
        ("From", request.headers.get("From") or ""),
        ("To", to),
        ("Call-ID", request.call_id),
        ("CSeq", request.headers.get("CSeq") or ""),
    ]
    copied += list(headers)
    return Response(status, reason or reason_phrase(status), Headers.of(copied), body)
