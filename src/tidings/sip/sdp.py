"""SDP offer/answer for one audio stream (RFC 4566, RFC 3264), G.711 and RFC 4733 events.

We offer PCMU and PCMA at 8 kHz with telephone-event, 20 ms packets, and read the answer: the
first of our codecs the answer lists is the one both ends send. The simulator and tests answer
offers with :func:`answer_offer`. Parsing is bounded like SIP's: an SDP that is too long, not
UTF-8, or has no usable audio stream is refused with 488 Not Acceptable Here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from tidings.sip.errors import RemoteProtocolError

MAX_SDP_BYTES = 8192
MAX_SDP_LINES = 200


@dataclass(frozen=True, slots=True)
class Codec:
    payload_type: int
    name: str
    clock_rate: int = 8000


PCMU = Codec(0, "PCMU")
PCMA = Codec(8, "PCMA")
AUDIO_CODECS = (PCMU, PCMA)
TELEPHONE_EVENT = "telephone-event"
DEFAULT_EVENT_PAYLOAD_TYPE = 101
PTIME_MS = 20


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """What one side of a negotiated audio stream uses."""

    address: str
    port: int
    codec: Codec
    event_payload_type: int | None
    direction: str = "sendrecv"

    @property
    def on_hold(self) -> bool:
        return self.port == 0 or self.direction in ("inactive", "sendonly")


def build_offer(
    *,
    address: str,
    port: int,
    session_id: int,
    version: int = 1,
    codecs: tuple[Codec, ...] = AUDIO_CODECS,
    event_payload_type: int = DEFAULT_EVENT_PAYLOAD_TYPE,
    user: str = "tidings",
) -> bytes:
    family = "IP6" if ":" in address else "IP4"
    formats = [str(codec.payload_type) for codec in codecs] + [str(event_payload_type)]
    lines = [
        "v=0",
        f"o={user} {session_id} {version} IN {family} {address}",
        "s=tidings",
        f"c=IN {family} {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(formats)}",
        *(f"a=rtpmap:{codec.payload_type} {codec.name}/{codec.clock_rate}" for codec in codecs),
        f"a=rtpmap:{event_payload_type} {TELEPHONE_EVENT}/8000",
        f"a=fmtp:{event_payload_type} 0-16",
        f"a=ptime:{PTIME_MS}",
        "a=sendrecv",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


@dataclass(frozen=True, slots=True)
class _Audio:
    address: str
    port: int
    formats: tuple[int, ...]
    rtpmap: dict[int, tuple[str, int]]
    direction: str


def _parse_audio(body: bytes) -> _Audio:
    if len(body) > MAX_SDP_BYTES:
        raise RemoteProtocolError("SDP too large", status_code=488)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RemoteProtocolError("SDP is not UTF-8", status_code=488) from error
    lines = text.replace("\r\n", "\n").split("\n")
    if len(lines) > MAX_SDP_LINES:
        raise RemoteProtocolError("SDP has too many lines", status_code=488)
    session_address: str | None = None
    media_address: str | None = None
    port: int | None = None
    formats: tuple[int, ...] = ()
    rtpmap: dict[int, tuple[str, int]] = {}
    direction = "sendrecv"
    version_seen = False
    for line in lines:
        if not line:
            continue
        if len(line) < 2 or line[1] != "=":
            raise RemoteProtocolError(f"malformed SDP line {line[:40]!r}", status_code=488)
        kind, value = line[0], line[2:]
        if kind == "v":
            if value != "0":
                raise RemoteProtocolError("SDP version is not 0", status_code=488)
            version_seen = True
        elif kind == "m":
            if port is not None:
                break  # only the first audio stream is used; later streams are not ours
            fields = value.split()
            if len(fields) < 4 or fields[0] != "audio":
                continue
            if not fields[1].isdigit() or int(fields[1]) > 65535:
                raise RemoteProtocolError("bad media port", status_code=488)
            if not all(f.isdigit() and len(f) <= 3 for f in fields[3:]):
                raise RemoteProtocolError("bad payload type", status_code=488)
            formats = tuple(int(f) for f in fields[3:] if int(f) < 128)
            port = int(fields[1])
        elif kind == "c":
            fields = value.split()
            if len(fields) != 3 or fields[0] != "IN":
                raise RemoteProtocolError("bad connection line", status_code=488)
            connection = fields[2].split("/")[0]
            try:
                ipaddress.ip_address(connection)
            except ValueError as error:
                raise RemoteProtocolError(
                    "connection address is not an IP", status_code=488
                ) from error
            if port is None:
                session_address = connection
            else:
                media_address = connection
        elif kind == "a" and value in ("sendrecv", "sendonly", "recvonly", "inactive"):
            direction = value
        elif kind == "a" and port is not None and value.startswith("rtpmap:"):
            pt_text, _, encoding = value[len("rtpmap:") :].partition(" ")
            parts = encoding.split("/")
            if pt_text.isdigit() and len(parts) >= 2 and parts[1].isdigit():
                rtpmap[int(pt_text)] = (parts[0], int(parts[1]))
    if not version_seen or port is None:
        raise RemoteProtocolError("SDP has no audio stream", status_code=488)
    address = media_address or session_address
    if address is None:
        raise RemoteProtocolError("SDP has no connection address", status_code=488)
    return _Audio(address, port, formats, rtpmap, direction)


def _codec_of(payload_type: int, rtpmap: dict[int, tuple[str, int]]) -> Codec | None:
    if payload_type in rtpmap:
        name, rate = rtpmap[payload_type]
        for codec in AUDIO_CODECS:
            if name.upper() == codec.name and rate == codec.clock_rate:
                return Codec(payload_type, codec.name, rate)
        return None
    # RFC 3551 static payload types may come without rtpmap.
    return next((codec for codec in AUDIO_CODECS if codec.payload_type == payload_type), None)


def _event_type(audio: _Audio) -> int | None:
    for payload_type in audio.formats:
        name, rate = audio.rtpmap.get(payload_type, ("", 0))
        if name.lower() == TELEPHONE_EVENT and rate == 8000:
            return payload_type
    return None


def parse_answer(body: bytes) -> MediaDescription:
    """The far end's side of the stream, from the SDP answer to our offer (RFC 3264 §6)."""
    audio = _parse_audio(body)
    for payload_type in audio.formats:
        codec = _codec_of(payload_type, audio.rtpmap)
        if codec is not None:
            return MediaDescription(
                audio.address, audio.port, codec, _event_type(audio), audio.direction
            )
    raise RemoteProtocolError("the answer accepts none of our codecs", status_code=488)


def answer_offer(
    offer: bytes, *, address: str, port: int, session_id: int
) -> tuple[bytes, MediaDescription]:
    """Our answer to an offer, and the offerer's side of the stream (for the simulator)."""
    audio = _parse_audio(offer)
    chosen: Codec | None = None
    for payload_type in audio.formats:
        chosen = _codec_of(payload_type, audio.rtpmap)
        if chosen is not None:
            break
    if chosen is None:
        raise RemoteProtocolError("the offer has no G.711 codec", status_code=488)
    event_type = _event_type(audio)
    family = "IP6" if ":" in address else "IP4"
    formats = [str(chosen.payload_type)] + ([str(event_type)] if event_type is not None else [])
    lines = [
        "v=0",
        f"o=tidings {session_id} 1 IN {family} {address}",
        "s=tidings",
        f"c=IN {family} {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(formats)}",
        f"a=rtpmap:{chosen.payload_type} {chosen.name}/{chosen.clock_rate}",
    ]
    if event_type is not None:
        lines += [f"a=rtpmap:{event_type} {TELEPHONE_EVENT}/8000", f"a=fmtp:{event_type} 0-16"]
    lines += [f"a=ptime:{PTIME_MS}", "a=sendrecv"]
    remote = MediaDescription(audio.address, audio.port, chosen, event_type, audio.direction)
    return ("\r\n".join(lines) + "\r\n").encode(), remote
