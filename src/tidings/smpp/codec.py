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


# A whole PDU, header included.
Encoder = Callable[[Pdu], bytes]
# (data, start, end, command_id, sequence_number, command_status) → the PDU in data[start:end],
# body and optional parameters; its header has already been read.
Decoder = Callable[[bytes, int, int, int, int, int], Pdu]


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


def _encode_tlvs(tlvs: dict[int, bytes]) -> bytes:
    # A PDU carries a handful of TLVs: concatenating beats collecting parts for a join.
    out = b""
    pack = _TLV_HEADER.pack
    for tag, value in tlvs.items():
        length = len(value)
        if length > 0xFFFF:
            raise LocalProtocolError(f"optional parameter 0x{tag:04X} exceeds 65535 octets")
        out += pack(tag, length) + value
    return out


def _too_long(length: int) -> LocalProtocolError:
    return LocalProtocolError(f"PDU of {length} octets exceeds {MAX_COMMAND_LENGTH}")


def _truncated(cls: type[Pdu], cid: int, seq: int) -> RemoteProtocolError:
    return RemoteProtocolError(
        f"{cls.__name__} body is truncated",
        command_status=CommandStatus.ESME_RINVCMDLEN,
        command_id=cid,
        sequence_number=seq,
    )


def _cstring_error_at(
    cls: type[Pdu],
    data: bytes,
    pos: int,
    end: int,
    name: str,
    max_length: int,
    status: int,
    cid: int,
    seq: int,
) -> RemoteProtocolError:
    if pos > end:
        # A one-octet field before this string already lay past the end of the PDU.
        return _truncated(cls, cid, seq)
    return _cstring_error(data[:end], pos, name, max_length, status, cid, seq)


def _decode_tlvs(data: bytes, pos: int, end: int, cid: int, seq: int) -> dict[int, bytes]:
    tlvs: dict[int, bytes] = {}
    while pos < end:
        if end - pos < 4:
            raise RemoteProtocolError(
                "truncated optional parameter",
                command_status=CommandStatus.ESME_RINVOPTPARSTREAM,
                command_id=cid,
                sequence_number=seq,
            )
        tag, tlv_length = _TLV_HEADER.unpack_from(data, pos)
        pos += 4
        if pos + tlv_length > end:
            raise RemoteProtocolError(
                f"optional parameter 0x{tag:04X} runs past the end of the PDU",
                command_status=CommandStatus.ESME_RINVPARLEN,
                command_id=cid,
                sequence_number=seq,
            )
        tlvs[tag] = data[pos : pos + tlv_length]
        pos += tlv_length
    return tlvs


def _compile(cls: type[Pdu]) -> tuple[Encoder, Decoder]:
    specs = cls.BODY
    namespace: dict[str, object] = {
        "cls": cls,
        "new": object.__new__,
        "specs": specs,
        "struct_error": struct.error,
        "checked": _encode_body_checked,
        "join": b"".join,
        "header": _HEADER.pack,
        "encode_tlvs": _encode_tlvs,
        "decode_tlvs": _decode_tlvs,
        "too_long": _too_long,
        "truncated": _truncated,
        "_encode_dest_addresses": _encode_dest_addresses,
        "_encode_unsuccess_smes": _encode_unsuccess_smes,
        "_decode_dest_addresses": _decode_dest_addresses,
        "_decode_unsuccess_smes": _decode_unsuccess_smes,
        "cstring_error": _cstring_error_at,
        "RemoteProtocolError": RemoteProtocolError,
        "ESME_RINVMSGLEN": CommandStatus.ESME_RINVMSGLEN,
    }
    # Encoder: the whole body is one bytes %-format, C-octet strings as "%s\0" and one-octet
    # fields as "%c" (which refuses values outside 0..255), then the header in front. Any doubt
    # (wrong type, too long, NUL inside, out of range) falls back to the checked path, which
    # raises the precise LocalProtocolError. Empty strings, the commonest value of most string
    # fields, skip the str.encode call; "0 in raw" is several times cheaper than b"\0" in raw.
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
            enc_pre.append(f"f{i} = pdu.{name}")
            enc_pre.append(f"f{i} = b'' if f{i} == '' else f{i}.encode('latin-1')")
            enc_checks.append(f"len(f{i}) >= {spec.max_length} or 0 in f{i}")
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
    enc = ["def encode_pdu(pdu):", "    status = pdu.command_status"]
    indent = "    "
    if not specs:
        enc.append("    body = b''")
    else:
        if cls.RESPONSE:
            # A response with an error status goes without its body (SMPP 3.4 §4: "the body is
            # not returned"), which is what most SMSCs send and all of them accept.
            enc += ["    if status:", "        body = b''", "    else:"]
            indent = "        "
        enc.append(f"{indent}try:")
        enc += [f"{indent}    {line}" for line in enc_pre] or [f"{indent}    pass"]
        body = f"body_format % ({''.join(arg + ', ' for arg in enc_args)})"
        if enc_checks:
            enc.append(f"{indent}    if {' or '.join(enc_checks)}:")
            enc.append(f"{indent}        body = join(checked(pdu))")
            enc.append(f"{indent}    else:")
            enc.append(f"{indent}        body = {body}")
        else:
            enc.append(f"{indent}    body = {body}")
        enc.append(
            f"{indent}except (AttributeError, TypeError, ValueError, OverflowError, struct_error):"
        )
        enc.append(f"{indent}    body = join(checked(pdu))")
    enc += [
        "    tlvs = pdu.tlvs",
        "    if tlvs:",
        "        body += encode_tlvs(tlvs)",
        "    length = 16 + len(body)",
        f"    if length > {MAX_COMMAND_LENGTH}:",
        "        raise too_long(length)",
        f"    return header(length, {int(cls.COMMAND_ID)}, status, pdu.sequence_number) + body",
    ]

    # Decoder: straight-line reads from the receive buffer into a fresh instance (no
    # keyword-argument __init__ call), bounded by ``end``, the end of this PDU: bytes past it
    # belong to the next one. A one-octet field read past ``end`` is caught by the check after
    # the fields; everything else checks ``end`` itself.
    dec = [
        "def decode_body(data, start, end, cid, seq, status):",
        "    obj = new(cls)",
        "    obj.sequence_number = seq",
        "    obj.command_status = status",
    ]
    if any(spec.kind in (FieldKind.DEST_ADDRESSES, FieldKind.UNSUCCESS_SMES) for spec in specs):
        # submit_multi and its response are rare: their list readers work on a frame of their
        # own, which bounds them by its length.
        dec += ["    data = data[start:end]", "    end -= start", "    start = 0"]
    dec.append("    pos = start + 16")
    for i, spec in enumerate(specs):
        name = spec.name
        if spec.kind is FieldKind.CSTRING:
            dec += [
                "    if pos < end and data[pos] == 0:",
                f"        obj.{name} = ''",
                "        pos += 1",
                "    else:",
                f"        nul = data.find(0, pos, pos + {spec.max_length})",
                "        if nul < 0 or nul >= end:",
                f"            raise cstring_error(cls, data, pos, end, {name!r},"
                f" {spec.max_length}, {int(spec.error_status)}, cid, seq)",
                f"        obj.{name} = data[pos:nul].decode('latin-1')",
                "        pos = nul + 1",
            ]
        elif spec.kind is FieldKind.UINT8:
            # A run of one-octet fields reads at constant offsets and moves pos once.
            run = 0
            if dec[-1].startswith("    pos += "):  # the previous field was one octet too
                run = int(dec.pop().removeprefix("    pos += "))
            offset = f"pos + {run}" if run else "pos"
            dec += [f"    obj.{name} = data[{offset}]", f"    pos += {run + 1}"]
        elif spec.kind is FieldKind.SHORT_MESSAGE:
            dec += [
                "    if pos >= end:",
                "        raise truncated(cls, cid, seq)",
                "    sm_end = pos + 1 + data[pos]",
                "    if sm_end > end:",
                "        raise RemoteProtocolError('sm_length runs past the end of the PDU',"
                " command_status=ESME_RINVMSGLEN, command_id=cid, sequence_number=seq)",
                f"    obj.{name} = data[pos + 1:sm_end]",
                "    pos = sm_end",
            ]
        elif spec.kind is FieldKind.DEST_ADDRESSES:
            dec.append(
                f"    obj.{name}, pos = _decode_dest_addresses(data, pos, specs[{i}], cid, seq)"
            )
        else:
            dec.append(
                f"    obj.{name}, pos = _decode_unsuccess_smes(data, pos, specs[{i}], cid, seq)"
            )
    dec += [
        "    if pos >= end:",
        "        if pos > end:",
        "            raise truncated(cls, cid, seq)",
        "        obj.tlvs = {}",
        "    else:",
        "        obj.tlvs = decode_tlvs(data, pos, end, cid, seq)",
        "    return obj",
    ]
    exec("\n".join(enc), namespace)
    exec("\n".join(dec), namespace)
    return namespace["encode_pdu"], namespace["decode_body"]  # type: ignore[return-value]


_COMPILED = {int(command_id): (cls, *_compile(cls)) for command_id, cls in PDU_CLASSES.items()}
#: command_id → the encoder of its class: ``ENCODERS[pdu.COMMAND_ID](pdu)`` is ``encode(pdu)``
#: without the extra call, for the session's per-PDU path.
ENCODERS: Mapping[int, Encoder] = MappingProxyType(
    {command_id: encoder for command_id, (_, encoder, _) in _COMPILED.items()}
)
_DECODERS: Mapping[int, tuple[type[Pdu], Decoder]] = MappingProxyType(
    {command_id: (cls, decoder) for command_id, (cls, _, decoder) in _COMPILED.items()}
)


def encode(pdu: Pdu) -> bytes:
    """Serialise one PDU, header included. Raises :class:`LocalProtocolError` on bad fields."""
    encoder = ENCODERS.get(pdu.COMMAND_ID)
    if encoder is None:  # pragma: no cover - every Pdu subclass is registered
        raise LocalProtocolError(f"no codec for {type(pdu).__name__}")
    return encoder(pdu)


def _decode_at(
    data: bytes, start: int, end: int, command_id: int, command_status: int, sequence_number: int
) -> Pdu:
    """The PDU in ``data[start:end]``, whose header has been read and whose length is sane."""
    codec = _DECODERS.get(command_id)
    if codec is None:
        raise RemoteProtocolError(
            f"unknown command_id 0x{command_id:08X}",
            command_status=CommandStatus.ESME_RINVCMDID,
            command_id=command_id,
            sequence_number=sequence_number,
        )
    cls, decode_body = codec
    # An SMSC may leave out the whole body of a failed response (SMPP 3.4 §4); some also leave it
    # out of a successful one. Either way the fields keep their defaults.
    if end - start == HEADER_SIZE and cls.RESPONSE:
        return cls(sequence_number=sequence_number, command_status=command_status)
    try:
        return decode_body(data, start, end, command_id, sequence_number, command_status)
    except (IndexError, struct.error):
        raise _truncated(cls, command_id, sequence_number) from None


def decode(frame: bytes) -> Pdu:
    """Parse exactly one PDU. ``frame`` must be a whole PDU as cut by :class:`FrameReader`."""
    if len(frame) < HEADER_SIZE:
        raise RemoteProtocolError(
            f"PDU of {len(frame)} octets is shorter than the 16-octet header",
            command_status=CommandStatus.ESME_RINVCMDLEN,
            fatal=True,
        )
    frame = bytes(frame)
    length, command_id, command_status, sequence_number = _HEADER.unpack_from(frame)
    if length != len(frame):
        raise RemoteProtocolError(
            f"command_length {length} does not match the {len(frame)} octets given",
            command_status=CommandStatus.ESME_RINVCMDLEN,
            command_id=command_id,
            sequence_number=sequence_number,
        )
    return _decode_at(frame, 0, length, command_id, command_status, sequence_number)


class FrameReader:
    """Cuts a TCP byte stream into PDUs, buffering partial ones.

    ``feed`` appends bytes; ``next_pdu`` returns the next decoded PDU or None when more bytes are
    needed. A bad PDU whose length is sane raises a non-fatal :class:`RemoteProtocolError` (its
    bytes are consumed, the stream stays in sync). A bad command_length raises a fatal one: the
    boundary of the next PDU is unknown and the connection must close.

    PDUs are decoded in place from the bytes received, each bounded by its command_length, with
    no copy of its frame. What arrives in whole PDUs (the usual case: peers write whole PDUs) is
    decoded from the very bytes object given to ``feed``; the start of a PDU that is not all
    there yet waits in a spill buffer that grows by appending (linear, whatever the chunk sizes)
    and is turned into bytes once that PDU is complete.
    """

    __slots__ = ("_broken", "_data", "_max_length", "_pos", "_spill")

    def __init__(self, max_command_length: int = MAX_COMMAND_LENGTH) -> None:
        self._data = b""  # received bytes being decoded, from _pos on
        self._pos = 0
        self._spill = bytearray()  # the start of an incomplete PDU, and what came after it
        self._max_length = max_command_length
        self._broken = False

    def feed(self, data: bytes) -> None:
        spill = self._spill
        if not spill and self._pos >= len(self._data):
            self._data = bytes(data)  # no copy when it is bytes already
            self._pos = 0
            return
        if self._pos < len(self._data):
            spill += memoryview(self._data)[self._pos :]
            self._data = b""
            self._pos = 0
        spill += data
        if len(spill) >= 4:
            (length,) = _UINT32.unpack_from(spill)
            # Hand over once the first PDU is complete, or its length is bad (which next_pdu
            # then reports).
            if len(spill) >= length or not HEADER_SIZE <= length <= self._max_length:
                self._data = bytes(spill)
                spill.clear()

    @property
    def buffered(self) -> int:
        return len(self._data) - self._pos + len(self._spill)

    def _bad_length(self, length: int) -> RemoteProtocolError:
        self._broken = True
        command_id = sequence = None
        if len(self._data) - self._pos >= HEADER_SIZE:
            _, command_id, _, sequence = _HEADER.unpack_from(self._data, self._pos)
        return RemoteProtocolError(
            f"command_length {length} is outside 16..{self._max_length}",
            command_status=CommandStatus.ESME_RINVCMDLEN,
            command_id=command_id,
            sequence_number=sequence,
            fatal=True,
        )

    def _out_of_sync(self) -> RemoteProtocolError:
        return RemoteProtocolError(
            "the stream is out of sync",
            command_status=CommandStatus.ESME_RINVCMDLEN,
            fatal=True,
        )

    def next_pdu(self) -> Pdu | None:
        if self._broken:
            raise self._out_of_sync()
        data = self._data
        start = self._pos
        available = len(data) - start
        if available < HEADER_SIZE:
            if available < 4:
                return None
            (length,) = _UINT32.unpack_from(data, start)
            if HEADER_SIZE <= length <= self._max_length:
                return None
            raise self._bad_length(length)
        length, command_id, command_status, sequence_number = _HEADER.unpack_from(data, start)
        if length < HEADER_SIZE or length > self._max_length:
            raise self._bad_length(length)
        if available < length:
            return None
        # Consumed before decoding: a bad PDU of sane length leaves the stream in sync.
        end = self._pos = start + length
        # What follows is _decode_at, inline: this runs for every PDU received.
        codec = _DECODERS.get(command_id)
        if codec is None or length == HEADER_SIZE:
            return _decode_at(data, start, end, command_id, command_status, sequence_number)
        try:
            return codec[1](data, start, end, command_id, sequence_number, command_status)
        except (IndexError, struct.error):
            raise _truncated(codec[0], command_id, sequence_number) from None

    def next_frame(self) -> bytes | None:
        """The next whole PDU as bytes, undecoded (None when more bytes are needed)."""
        if self._broken:
            raise self._out_of_sync()
        data = self._data
        start = self._pos
        available = len(data) - start
        if available < 4:
            return None
        (length,) = _UINT32.unpack_from(data, start)
        if length < HEADER_SIZE or length > self._max_length:
            raise self._bad_length(length)
        if available < length:
            return None
        self._pos = start + length
        return data[start : start + length]


__all__ = ["CommandId", "FrameReader", "decode", "encode"]
