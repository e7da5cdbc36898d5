"""Bytes ⇄ PDUs: encoding, decoding and stream framing (SMPP 3.4 §3).

Decoding is tolerant where the spec leaves room (unknown command_status values, TLV tags and
data_coding values are kept) and strict where a peer could hurt us (command_length is bounded,
C-octet strings have their spec maximum lengths). A violation is a :class:`RemoteProtocolError`
carrying the command_status to answer with; nothing else escapes ``decode`` or ``FrameReader``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from types import MappingProxyType

from tidings.smpp.constants import (
    HEADER_SIZE,
    MAX_COMMAND_LENGTH,
    CommandId,
    CommandStatus,
)
from tidings.smpp.errors import LocalProtocolError, RemoteProtocolError
from tidings.smpp.pdu import (
    PDU_CLASSES,
    DestAddress,
    FieldKind,
    FieldSpec,
    Pdu,
    UnsuccessSme,
)

_HEADER = struct.Struct(">IIII")
_TLV_HEADER = struct.Struct(">HH")
_UINT32 = struct.Struct(">I")

# --- per-class encoders and decoders ---------------------------------------------------------
#
# The BODY tables in pdu.py are the single description of each PDU. Walking them field by field
# for every PDU costs several times more than straight-line code, and the codec sits on the
# message hot path (four encode/decode operations per message on each side), so at import we
# turn each table into one straight-line function, the way dataclasses and namedtuple do.


def _cstring_error(
    data: bytes, pos: int, name: str, max_length: int, status: int, cid: int, seq: int
) -> RemoteProtocolError:
    if len(data) - pos < max_length:
        return RemoteProtocolError(
            f"PDU ends inside {name}",
            command_status=CommandStatus.ESME_RINVCMDLEN,
            command_id=cid,
            sequence_number=seq,
        )
    return RemoteProtocolError(
        f"{name} is longer than its maximum of {max_length - 1} octets",
        command_status=status,
        command_id=cid,
        sequence_number=seq,
    )


def _encode_cstring(value: str, spec: FieldSpec) -> bytes:
    try:
        raw = value.encode("latin-1")
    except (UnicodeEncodeError, AttributeError) as exc:
        raise LocalProtocolError(
            f"{spec.name} must be an ASCII/Latin-1 string: {value!r}",
            command_status=spec.error_status,
        ) from exc
    if len(raw) >= spec.max_length or b"\x00" in raw:
        raise LocalProtocolError(
            f"{spec.name} is {len(raw)} octets; SMPP 3.4 allows at most {spec.max_length - 1}",
            command_status=spec.error_status,
        )
    return raw + b"\x00"


def _encode_uint8(value: int, name: str) -> bytes:
    if not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise LocalProtocolError(f"{name} must fit one octet, got {value!r}")
    return bytes((value,))


def _encode_short_message(value: bytes) -> bytes:
    if len(value) > 254:
        raise LocalProtocolError(
            f"short_message is {len(value)} octets; SMPP 3.4 allows at most 254 "
            "(use the message_payload TLV for longer content)",
            command_status=CommandStatus.ESME_RINVMSGLEN,
        )
    return bytes((len(value),)) + value


def _encode_dest_addresses(dests: list[DestAddress], spec: FieldSpec) -> bytes:
    if not 1 <= len(dests) <= 254:
        raise LocalProtocolError(
            "submit_multi needs 1 to 254 destinations",
            command_status=CommandStatus.ESME_RINVNUMDESTS,
        )
    out = [bytes((len(dests),))]
    for dest in dests:
        if dest.is_distribution_list:
            out.append(b"\x02")
            out.append(_encode_cstring(dest.address, spec._replace(name="dl_name", max_length=21)))
        else:
            out.append(bytes((1, dest.ton, dest.npi)))
            out.append(
                _encode_cstring(dest.address, spec._replace(name="destination_addr", max_length=21))
            )
    return b"".join(out)


def _encode_unsuccess_smes(smes: list[UnsuccessSme], spec: FieldSpec) -> bytes:
    out = [bytes((len(smes),))]
    for sme in smes:
        out.append(bytes((sme.ton, sme.npi)))
        out.append(_encode_cstring(sme.address, spec._replace(name="dest_addr", max_length=21)))
        out.append(_UINT32.pack(sme.error_status))
    return b"".join(out)


def _decode_dest_addresses(
    data: bytes, pos: int, spec: FieldSpec, cid: int, seq: int
) -> tuple[list[DestAddress], int]:
    dests: list[DestAddress] = []
    count = data[pos]
    pos += 1
    for _ in range(count):
        flag = data[pos]
        pos += 1
        if flag == 1:
            ton, npi = data[pos], data[pos + 1]
            pos += 2
            name, status = "destination_addr", spec.error_status
        elif flag == 2:
            ton = npi = 0
            name, status = "dl_name", CommandStatus.ESME_RINVDLNAME
        else:
            raise RemoteProtocolError(
                f"dest_flag {flag} is not 1 or 2",
                command_status=CommandStatus.ESME_RINVDESTFLAG,
                command_id=cid,
                sequence_number=seq,
            )
        nul = data.find(0, pos, pos + 21)
        if nul < 0:
            raise _cstring_error(data, pos, name, 21, status, cid, seq)
        dests.append(DestAddress(data[pos:nul].decode("latin-1"), ton, npi, flag == 2))
        pos = nul + 1
    return dests, pos


def _decode_unsuccess_smes(
    data: bytes, pos: int, spec: FieldSpec, cid: int, seq: int
) -> tuple[list[UnsuccessSme], int]:
    smes: list[UnsuccessSme] = []
    count = data[pos]
    pos += 1
    for _ in range(count):
        ton, npi = data[pos], data[pos + 1]
        pos += 2
        nul = data.find(0, pos, pos + 21)
        if nul < 0:
            raise _cstring_error(data, pos, "dest_addr", 21, spec.error_status, cid, seq)
        address = data[pos:nul].decode("latin-1")
        (status,) = _UINT32.unpack_from(data, nul + 1)
        smes.append(UnsuccessSme(address, ton, npi, status))
        pos = nul + 5
    return smes, pos


Encoder = Callable[[Pdu], bytes]
Decoder = Callable[[bytes, int, int, int], tuple[Pdu, int]]


def _encode_body_checked(pdu: Pdu) -> list[bytes]:
    """The slow path: every field validated on its own, for a clear error message."""
    out: list[bytes] = []
    for spec in pdu.BODY:
        value = getattr(pdu, spec.name)
        if spec.kind is FieldKind.CSTRING:
            out.append(_encode_cstring(value, spec))
        elif spec.kind is FieldKind.UINT8:
            out.append(_encode_uint8(value, spec.name))
        elif spec.kind is FieldKind.SHORT_MESSAGE:
            out.append(_encode_short_message(value))
        elif spec.kind is FieldKind.DEST_ADDRESSES:
            out.append(_encode_dest_addresses(value, spec))
        else:
            out.append(_encode_unsuccess_smes(value, spec))
    return out


def _compile(cls: type[Pdu]) -> tuple[Encoder, Decoder]:
    specs = cls.BODY
    namespace: dict[str, object] = {
        "cls": cls,
        "new": object.__new__,
        "specs": specs,
        "struct_error": struct.error,
        "checked": _encode_body_checked,
        "join": b"".join,
        "_encode_dest_addresses": _encode_dest_addresses,
        "_encode_unsuccess_smes": _encode_unsuccess_smes,
        "_decode_dest_addresses": _decode_dest_addresses,
        "_decode_unsuccess_smes": _decode_unsuccess_smes,
        "_cstring_error": _cstring_error,
        "RemoteProtocolError": RemoteProtocolError,
        "ESME_RINVMSGLEN": CommandStatus.ESME_RINVMSGLEN,
    }
    # Encoder: the whole body is one bytes %-format, C-octet strings as "%s\0" and one-octet
    # fields as "%c" (which refuses values outside 0..255). Any doubt (wrong type, too long, NUL
    # inside, out of range) falls back to the checked path, which raises the precise
    # LocalProtocolError.
    enc_pre: list[str] = []
    enc_checks: list[str] = []
    enc_format: list[bytes] = []
    enc_args: list[str] = []
    for i, spec in enumerate(specs):
        name = spec.name
        if spec.kind is FieldKind.UINT8:
            enc_format.append(b"%c")
            enc_args.append(f"pdu.{name}")
        elif spec.kind is FieldKind.CSTRING:
            enc_pre.append(f"f{i} = pdu.{name}.encode('latin-1')")
            enc_checks.append(f"len(f{i}) >= {spec.max_length} or b'\\x00' in f{i}")
            enc_format.append(b"%s\x00")
            enc_args.append(f"f{i}")
        elif spec.kind is FieldKind.SHORT_MESSAGE:
            enc_pre.append(f"f{i} = pdu.{name}")
            enc_checks.append(f"len(f{i}) > 254")
            enc_format.append(b"%c%s")
            enc_args += [f"len(f{i})", f"f{i}"]
        elif spec.kind is FieldKind.DEST_ADDRESSES:
            enc_format.append(b"%s")
            enc_args.append(f"_encode_dest_addresses(pdu.{name}, specs[{i}])")
        else:
            enc_format.append(b"%s")
            enc_args.append(f"_encode_unsuccess_smes(pdu.{name}, specs[{i}])")
    namespace["body_format"] = b"".join(enc_format)
    enc = ["def encode_body(pdu):", "    try:"]
    enc += [f"        {line}" for line in enc_pre] or ["        pass"]
    if enc_checks:
        enc.append(f"        if {' or '.join(enc_checks)}:")
        enc.append("            return join(checked(pdu))")
    enc.append(f"        return body_format % ({''.join(arg + ', ' for arg in enc_args)})")
    enc.append("    except (AttributeError, TypeError, ValueError, OverflowError, struct_error):")
    enc.append("        return join(checked(pdu))")

    # Decoder: straight-line reads into a fresh instance (no keyword-argument __init__ call).
    dec = [
        "def decode_body(data, cid, seq, status):",
        "    obj = new(cls)",
        "    obj.sequence_number = seq",
        "    obj.command_status = status",
        "    pos = 16",
    ]
    for i, spec in enumerate(specs):
        name = spec.name
        if spec.kind is FieldKind.CSTRING:
            dec += [
                f"    nul = data.find(0, pos, pos + {spec.max_length})",
                "    if nul < 0:",
                f"        raise _cstring_error(data, pos, {name!r}, {spec.max_length},"
                f" {int(spec.error_status)}, cid, seq)",
                f"    obj.{name} = data[pos:nul].decode('latin-1')",
                "    pos = nul + 1",
            ]
        elif spec.kind is FieldKind.UINT8:
            dec += [f"    obj.{name} = data[pos]", "    pos += 1"]
        elif spec.kind is FieldKind.SHORT_MESSAGE:
            dec += [
                "    end = pos + 1 + data[pos]",
                "    if end > len(data):",
                "        raise RemoteProtocolError('sm_length runs past the end of the PDU',"
                " command_status=ESME_RINVMSGLEN, command_id=cid, sequence_number=seq)",
                f"    obj.{name} = data[pos + 1:end]",
                "    pos = end",
            ]
        elif spec.kind is FieldKind.DEST_ADDRESSES:
            dec.append(
                f"    obj.{name}, pos = _decode_dest_addresses(data, pos, specs[{i}], cid, seq)"
            )
        else:
            dec.append(
                f"    obj.{name}, pos = _decode_unsuccess_smes(data, pos, specs[{i}], cid, seq)"
            )
    dec.append("    return obj, pos")
    exec("\n".join(enc), namespace)
    exec("\n".join(dec), namespace)
    return namespace["encode_body"], namespace["decode_body"]  # type: ignore[return-value]


_CODECS: Mapping[int, tuple[type[Pdu], Encoder, Decoder]] = MappingProxyType(
    {command_id: (cls, *_compile(cls)) for command_id, cls in PDU_CLASSES.items()}
)


def encode(pdu: Pdu) -> bytes:
    """Serialise one PDU, header included. Raises :class:`LocalProtocolError` on bad fields."""
    codec = _CODECS.get(pdu.COMMAND_ID)
    if codec is None:  # pragma: no cover - every Pdu subclass is registered
        raise LocalProtocolError(f"no codec for {type(pdu).__name__}")
    # A response with an error status goes without its body (SMPP 3.4 §4: "the body is not
    # returned"), which is what most SMSCs send and all of them accept.
    body = b"" if pdu.RESPONSE and pdu.command_status != CommandStatus.ESME_ROK else codec[1](pdu)
    tlvs = pdu.tlvs
    if tlvs:
        parts = [body]
        for tag, value in tlvs.items():
            if len(value) > 0xFFFF:
                raise LocalProtocolError(f"optional parameter 0x{tag:04X} exceeds 65535 octets")
            parts.append(_TLV_HEADER.pack(tag, len(value)))
            parts.append(value)
        body = b"".join(parts)
    length = HEADER_SIZE + len(body)
    if length > MAX_COMMAND_LENGTH:
        raise LocalProtocolError(f"PDU of {length} octets exceeds {MAX_COMMAND_LENGTH}")
    return _HEADER.pack(length, pdu.COMMAND_ID, pdu.command_status, pdu.sequence_number) + body


def decode(frame: bytes) -> Pdu:
    """Parse exactly one PDU. ``frame`` must be a whole PDU as cut by :class:`FrameReader`."""
    if len(frame) < HEADER_SIZE:
        raise RemoteProtocolError(
            f"PDU of {len(frame)} octets is shorter than the 16-octet header",
            command_status=CommandStatus.ESME_RINVCMDLEN,
            fatal=True,
        )
    length, command_id, command_status, sequence_number = _HEADER.unpack_from(frame)
    if length != len(frame):
        raise RemoteProtocolError(
            f"command_length {length} does not match the {len(frame)} octets given",
            command_status=CommandStatus.ESME_RINVCMDLEN,
            command_id=command_id,
            sequence_number=sequence_number,
        )
    codec = _CODECS.get(command_id)
    if codec is None:
        raise RemoteProtocolError(
            f"unknown command_id 0x{command_id:08X}",
            command_status=CommandStatus.ESME_RINVCMDID,
            command_id=command_id,
            sequence_number=sequence_number,
        )
    cls, _, decode_body = codec
    # An SMSC may leave out the whole body of a failed response (SMPP 3.4 §4); some also leave it
    # out of a successful one. Either way the fields keep their defaults.
    if cls.RESPONSE and length == HEADER_SIZE:
        return cls(sequence_number=sequence_number, command_status=command_status)
    try:
        pdu, pos = decode_body(frame, command_id, sequence_number, command_status)
    except (IndexError, struct.error):
        raise RemoteProtocolError(
            f"{cls.__name__} body is truncated",
            command_status=CommandStatus.ESME_RINVCMDLEN,
            command_id=command_id,
            sequence_number=sequence_number,
        ) from None
    tlvs: dict[int, bytes] = {}
    while pos < length:
        if length - pos < 4:
            raise RemoteProtocolError(
                "truncated optional parameter",
                command_status=CommandStatus.ESME_RINVOPTPARSTREAM,
                command_id=command_id,
                sequence_number=sequence_number,
            )
        tag, tlv_length = _TLV_HEADER.unpack_from(frame, pos)
        pos += 4
        if pos + tlv_length > length:
            raise RemoteProtocolError(
                f"optional parameter 0x{tag:04X} runs past the end of the PDU",
                command_status=CommandStatus.ESME_RINVPARLEN,
                command_id=command_id,
                sequence_number=sequence_number,
            )
        tlvs[tag] = frame[pos : pos + tlv_length]
        pos += tlv_length
    pdu.tlvs = tlvs
    return pdu


class FrameReader:
    """Cuts a TCP byte stream into PDUs, buffering partial ones.

    ``feed`` appends bytes; ``next_pdu`` returns the next decoded PDU or None when more bytes are
    needed. A bad PDU whose length is sane raises a non-fatal :class:`RemoteProtocolError` (its
    bytes are consumed, the stream stays in sync). A bad command_length raises a fatal one: the
    boundary of the next PDU is unknown and the connection must close.
    """

    __slots__ = ("_broken", "_buffer", "_max_length", "_pos")

    def __init__(self, max_command_length: int = MAX_COMMAND_LENGTH) -> None:
        self._buffer = bytearray()
        self._pos = 0
        self._max_length = max_command_length
        self._broken = False

    def feed(self, data: bytes) -> None:
        if self._pos and self._pos >= len(self._buffer) // 2:
            del self._buffer[: self._pos]
            self._pos = 0
        self._buffer += data

    @property
    def buffered(self) -> int:
        return len(self._buffer) - self._pos

    def next_pdu(self) -> Pdu | None:
        frame = self.next_frame()
        return None if frame is None else decode(frame)

    def next_frame(self) -> bytes | None:
        if self._broken:
            raise RemoteProtocolError(
                "the stream is out of sync",
                command_status=CommandStatus.ESME_RINVCMDLEN,
                fatal=True,
            )
        available = len(self._buffer) - self._pos
        if available < 4:
            return None
        (length,) = _UINT32.unpack_from(self._buffer, self._pos)
        if length < HEADER_SIZE or length > self._max_length:
            self._broken = True
            command_id = sequence = None
            if available >= HEADER_SIZE:
                _, command_id, _, sequence = _HEADER.unpack_from(self._buffer, self._pos)
            raise RemoteProtocolError(
                f"command_length {length} is outside 16..{self._max_length}",
                command_status=CommandStatus.ESME_RINVCMDLEN,
                command_id=command_id,
                sequence_number=sequence,
                fatal=True,
            )
        if available < length:
            return None
        frame = bytes(self._buffer[self._pos : self._pos + length])
        self._pos += length
        if self._pos == len(self._buffer):
            self._buffer.clear()
            self._pos = 0
        return frame


__all__ = ["CommandId", "FrameReader", "decode", "encode"]
