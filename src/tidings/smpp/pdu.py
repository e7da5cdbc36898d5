"""SMPP 3.4 PDUs as plain dataclasses.

Every operation of SMPP 3.4 §4 is a class here. A class declares its mandatory body fields in
``BODY`` (name, kind, maximum length including the NUL for C-octet strings, the command_status to
answer a violation with) and the codec in ``codec.py`` walks that table. Optional parameters (TLVs)
are kept generically in ``tlvs`` (tag → raw value, in wire order); known tags get typed access
through :meth:`Pdu.get_tlv` and :meth:`Pdu.set_tlv`, unknown tags are carried through untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import Enum
from types import MappingProxyType
from typing import ClassVar, NamedTuple

from tidings.smpp.constants import CommandId, CommandStatus, Tag


class FieldKind(Enum):
    CSTRING = "cstring"  # C-octet string, NUL terminated
    UINT8 = "uint8"
    SHORT_MESSAGE = "short_message"  # sm_length (1 octet) followed by that many octets
    DEST_ADDRESSES = "dest_addresses"  # submit_multi: number_of_dests + dest_address list
    UNSUCCESS_SMES = "unsuccess_smes"  # submit_multi_resp: no_unsuccess + unsuccess_sme list


class FieldSpec(NamedTuple):
    name: str
    kind: FieldKind
    max_length: int = 0
    error_status: int = CommandStatus.ESME_RINVPARLEN


def _c(name: str, max_length: int, error_status: int = CommandStatus.ESME_RINVPARLEN) -> FieldSpec:
    return FieldSpec(name, FieldKind.CSTRING, max_length, error_status)


def _u8(name: str) -> FieldSpec:
    return FieldSpec(name, FieldKind.UINT8)


_SM = FieldSpec("short_message", FieldKind.SHORT_MESSAGE, 254, CommandStatus.ESME_RINVMSGLEN)
_SOURCE_21 = (
    _u8("source_addr_ton"),
    _u8("source_addr_npi"),
    _c("source_addr", 21, CommandStatus.ESME_RINVSRCADR),
)
_DEST_21 = (
    _u8("dest_addr_ton"),
    _u8("dest_addr_npi"),
    _c("destination_addr", 21, CommandStatus.ESME_RINVDSTADR),
)
_SCHEDULE = (
    _c("schedule_delivery_time", 17, CommandStatus.ESME_RINVSCHED),
    _c("validity_period", 17, CommandStatus.ESME_RINVEXPIRY),
)
_BIND = (
    _c("system_id", 16, CommandStatus.ESME_RINVSYSID),
    _c("password", 9, CommandStatus.ESME_RINVPASWD),
    _c("system_type", 13, CommandStatus.ESME_RINVSYSTYP),
    _u8("interface_version"),
    _u8("addr_ton"),
    _u8("addr_npi"),
    _c("address_range", 41),
)
_SHORT_MESSAGE_BODY = (
    _c("service_type", 6, CommandStatus.ESME_RINVSERTYP),
    *_SOURCE_21,
    *_DEST_21,
    _u8("esm_class"),
    _u8("protocol_id"),
    _u8("priority_flag"),
    *_SCHEDULE,
    _u8("registered_delivery"),
    _u8("replace_if_present_flag"),
    _u8("data_coding"),
    _u8("sm_default_msg_id"),
    _SM,
)


class TlvKind(Enum):
    INT = "int"  # unsigned big-endian integer of the tag's size
    CSTRING = "cstring"
    OCTETS = "octets"


# Known tags and how to read them (SMPP 3.4 §5.3.2). Integer sizes are the spec's; on decode any
# length up to 4 octets is accepted, because real SMSCs get these sizes wrong now and then.
TLV_TYPES: Mapping[int, tuple[TlvKind, int]] = MappingProxyType(
    {
        Tag.DEST_ADDR_SUBUNIT: (TlvKind.INT, 1),
        Tag.DEST_NETWORK_TYPE: (TlvKind.INT, 1),
        Tag.DEST_BEARER_TYPE: (TlvKind.INT, 1),
        Tag.DEST_TELEMATICS_ID: (TlvKind.INT, 2),
        Tag.SOURCE_ADDR_SUBUNIT: (TlvKind.INT, 1),
        Tag.SOURCE_NETWORK_TYPE: (TlvKind.INT, 1),
        Tag.SOURCE_BEARER_TYPE: (TlvKind.INT, 1),
        Tag.SOURCE_TELEMATICS_ID: (TlvKind.INT, 1),
        Tag.QOS_TIME_TO_LIVE: (TlvKind.INT, 4),
        Tag.PAYLOAD_TYPE: (TlvKind.INT, 1),
        Tag.ADDITIONAL_STATUS_INFO_TEXT: (TlvKind.CSTRING, 256),
        Tag.RECEIPTED_MESSAGE_ID: (TlvKind.CSTRING, 65),
        Tag.MS_MSG_WAIT_FACILITIES: (TlvKind.INT, 1),
        Tag.PRIVACY_INDICATOR: (TlvKind.INT, 1),
        Tag.SOURCE_SUBADDRESS: (TlvKind.OCTETS, 23),
        Tag.DEST_SUBADDRESS: (TlvKind.OCTETS, 23),
        Tag.USER_MESSAGE_REFERENCE: (TlvKind.INT, 2),
        Tag.USER_RESPONSE_CODE: (TlvKind.INT, 1),
        Tag.SOURCE_PORT: (TlvKind.INT, 2),
        Tag.DESTINATION_PORT: (TlvKind.INT, 2),
        Tag.SAR_MSG_REF_NUM: (TlvKind.INT, 2),
        Tag.LANGUAGE_INDICATOR: (TlvKind.INT, 1),
        Tag.SAR_TOTAL_SEGMENTS: (TlvKind.INT, 1),
        Tag.SAR_SEGMENT_SEQNUM: (TlvKind.INT, 1),
        Tag.SC_INTERFACE_VERSION: (TlvKind.INT, 1),
        Tag.CALLBACK_NUM_PRES_IND: (TlvKind.INT, 1),
        Tag.CALLBACK_NUM_ATAG: (TlvKind.OCTETS, 65),
        Tag.NUMBER_OF_MESSAGES: (TlvKind.INT, 1),
        Tag.CALLBACK_NUM: (TlvKind.OCTETS, 19),
        Tag.DPF_RESULT: (TlvKind.INT, 1),
        Tag.SET_DPF: (TlvKind.INT, 1),
        Tag.MS_AVAILABILITY_STATUS: (TlvKind.INT, 1),
        Tag.NETWORK_ERROR_CODE: (TlvKind.OCTETS, 3),
        Tag.MESSAGE_PAYLOAD: (TlvKind.OCTETS, 65_536),
        Tag.DELIVERY_FAILURE_REASON: (TlvKind.INT, 1),
        Tag.MORE_MESSAGES_TO_SEND: (TlvKind.INT, 1),
        Tag.MESSAGE_STATE: (TlvKind.INT, 1),
        Tag.USSD_SERVICE_OP: (TlvKind.INT, 1),
        Tag.DISPLAY_TIME: (TlvKind.INT, 1),
        Tag.SMS_SIGNAL: (TlvKind.INT, 2),
        Tag.MS_VALIDITY: (TlvKind.INT, 1),
        Tag.ALERT_ON_MESSAGE_DELIVERY: (TlvKind.OCTETS, 0),
        Tag.ITS_REPLY_TYPE: (TlvKind.INT, 1),
        Tag.ITS_SESSION_INFO: (TlvKind.OCTETS, 2),
    }
)

TlvValue = int | str | bytes


def decode_tlv_value(tag: int, raw: bytes) -> TlvValue:
    """Read a TLV value by its tag's type; unknown tags come back as raw bytes."""
    kind = TLV_TYPES.get(tag)
    if kind is None or kind[0] is TlvKind.OCTETS:
        return raw
    if kind[0] is TlvKind.INT:
        return int.from_bytes(raw, "big")
    return raw.split(b"\x00", 1)[0].decode("latin-1")


def encode_tlv_value(tag: int, value: TlvValue) -> bytes:
    if isinstance(value, bytes):
        return value
    kind = TLV_TYPES.get(tag)
    if isinstance(value, int):
        size = kind[1] if kind is not None and kind[0] is TlvKind.INT else 4
        return value.to_bytes(size, "big")
    return value.encode("latin-1") + b"\x00"


@dataclass(slots=True, kw_only=True)
class Pdu:
    """Header fields and optional parameters shared by every PDU (SMPP 3.4 §3.2)."""

    COMMAND_ID: ClassVar[int]
    BODY: ClassVar[tuple[FieldSpec, ...]] = ()
    # Whether the body may be left out entirely: SMPP 3.4 §4 lets an SMSC omit the body of a
    # response whose command_status is not zero.
    RESPONSE: ClassVar[bool] = False

    sequence_number: int = 0
    command_status: int = CommandStatus.ESME_ROK
    tlvs: dict[int, bytes] = field(default_factory=dict)

    @property
    def command_id(self) -> int:
        return self.COMMAND_ID

    def get_tlv(self, tag: int) -> TlvValue | None:
        raw = self.tlvs.get(tag)
        return None if raw is None else decode_tlv_value(tag, raw)

    def set_tlv(self, tag: int, value: TlvValue) -> None:
        self.tlvs[tag] = encode_tlv_value(tag, value)

    def get_int_tlv(self, tag: int) -> int | None:
        raw = self.tlvs.get(tag)
        return None if raw is None else int.from_bytes(raw[:4], "big")

    def get_str_tlv(self, tag: int) -> str | None:
        raw = self.tlvs.get(tag)
        return None if raw is None else raw.split(b"\x00", 1)[0].decode("latin-1")


@dataclass(slots=True, kw_only=True)
class GenericNack(Pdu):
    COMMAND_ID = CommandId.GENERIC_NACK
    RESPONSE = True


@dataclass(slots=True, kw_only=True)
class _Bind(Pdu):
    BODY = _BIND
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    interface_version: int = 0x34
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(slots=True, kw_only=True)
class _BindResp(Pdu):
    BODY = (_c("system_id", 16, CommandStatus.ESME_RINVSYSID),)
    RESPONSE = True
    system_id: str = ""


@dataclass(slots=True, kw_only=True)
class BindTransmitter(_Bind):
    COMMAND_ID = CommandId.BIND_TRANSMITTER


@dataclass(slots=True, kw_only=True)
class BindTransmitterResp(_BindResp):
    COMMAND_ID = CommandId.BIND_TRANSMITTER_RESP


@dataclass(slots=True, kw_only=True)
class BindReceiver(_Bind):
    COMMAND_ID = CommandId.BIND_RECEIVER


@dataclass(slots=True, kw_only=True)
class BindReceiverResp(_BindResp):
    COMMAND_ID = CommandId.BIND_RECEIVER_RESP


@dataclass(slots=True, kw_only=True)
class BindTransceiver(_Bind):
    COMMAND_ID = CommandId.BIND_TRANSCEIVER


@dataclass(slots=True, kw_only=True)
class BindTransceiverResp(_BindResp):
    COMMAND_ID = CommandId.BIND_TRANSCEIVER_RESP


@dataclass(slots=True, kw_only=True)
class Outbind(Pdu):
    COMMAND_ID = CommandId.OUTBIND
    BODY = (
        _c("system_id", 16, CommandStatus.ESME_RINVSYSID),
        _c("password", 9, CommandStatus.ESME_RINVPASWD),
    )
    system_id: str = ""
    password: str = ""


@dataclass(slots=True, kw_only=True)
class Unbind(Pdu):
    COMMAND_ID = CommandId.UNBIND


@dataclass(slots=True, kw_only=True)
class UnbindResp(Pdu):
    COMMAND_ID = CommandId.UNBIND_RESP
    RESPONSE = True


@dataclass(slots=True, kw_only=True)
class EnquireLink(Pdu):
    COMMAND_ID = CommandId.ENQUIRE_LINK


@dataclass(slots=True, kw_only=True)
class EnquireLinkResp(Pdu):
    COMMAND_ID = CommandId.ENQUIRE_LINK_RESP
    RESPONSE = True


@dataclass(slots=True, kw_only=True)
class _ShortMessage(Pdu):
    """The common body of submit_sm and deliver_sm (SMPP 3.4 §4.4.1, §4.6.1)."""

    BODY = _SHORT_MESSAGE_BODY
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""


@dataclass(slots=True, kw_only=True)
class SubmitSm(_ShortMessage):
    COMMAND_ID = CommandId.SUBMIT_SM


@dataclass(slots=True, kw_only=True)
class _MessageIdResp(Pdu):
    BODY = (_c("message_id", 65, CommandStatus.ESME_RINVMSGID),)
    RESPONSE = True
    message_id: str = ""


@dataclass(slots=True, kw_only=True)
class SubmitSmResp(_MessageIdResp):
    COMMAND_ID = CommandId.SUBMIT_SM_RESP


@dataclass(slots=True, kw_only=True)
class DeliverSm(_ShortMessage):
    COMMAND_ID = CommandId.DELIVER_SM


@dataclass(slots=True, kw_only=True)
class DeliverSmResp(_MessageIdResp):
    COMMAND_ID = CommandId.DELIVER_SM_RESP


@dataclass(slots=True, kw_only=True)
class DataSm(Pdu):
    """SMPP 3.4 §4.7.1: the message travels in the message_payload TLV."""

    COMMAND_ID = CommandId.DATA_SM
    BODY = (
        _c("service_type", 6, CommandStatus.ESME_RINVSERTYP),
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 65, CommandStatus.ESME_RINVSRCADR),
        _u8("dest_addr_ton"),
        _u8("dest_addr_npi"),
        _c("destination_addr", 65, CommandStatus.ESME_RINVDSTADR),
        _u8("esm_class"),
        _u8("registered_delivery"),
        _u8("data_coding"),
    )
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    registered_delivery: int = 0
    data_coding: int = 0


@dataclass(slots=True, kw_only=True)
class DataSmResp(_MessageIdResp):
    COMMAND_ID = CommandId.DATA_SM_RESP


@dataclass(slots=True, kw_only=True)
class QuerySm(Pdu):
    COMMAND_ID = CommandId.QUERY_SM
    BODY = (_c("message_id", 65, CommandStatus.ESME_RINVMSGID), *_SOURCE_21)
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""


@dataclass(slots=True, kw_only=True)
class QuerySmResp(Pdu):
    COMMAND_ID = CommandId.QUERY_SM_RESP
    BODY = (
        _c("message_id", 65, CommandStatus.ESME_RINVMSGID),
        _c("final_date", 17),
        _u8("message_state"),
        _u8("error_code"),
    )
    RESPONSE = True
    message_id: str = ""
    final_date: str = ""
    message_state: int = 0
    error_code: int = 0


@dataclass(slots=True, kw_only=True)
class CancelSm(Pdu):
    COMMAND_ID = CommandId.CANCEL_SM
    BODY = (
        _c("service_type", 6, CommandStatus.ESME_RINVSERTYP),
        _c("message_id", 65, CommandStatus.ESME_RINVMSGID),
        *_SOURCE_21,
        *_DEST_21,
    )
    service_type: str = ""
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""


@dataclass(slots=True, kw_only=True)
class CancelSmResp(Pdu):
    COMMAND_ID = CommandId.CANCEL_SM_RESP
    RESPONSE = True


@dataclass(slots=True, kw_only=True)
class ReplaceSm(Pdu):
    COMMAND_ID = CommandId.REPLACE_SM
    BODY = (
        _c("message_id", 65, CommandStatus.ESME_RINVMSGID),
        *_SOURCE_21,
        *_SCHEDULE,
        _u8("registered_delivery"),
        _u8("sm_default_msg_id"),
        _SM,
    )
    message_id: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""


@dataclass(slots=True, kw_only=True)
class ReplaceSmResp(Pdu):
    COMMAND_ID = CommandId.REPLACE_SM_RESP
    RESPONSE = True


class DestAddress(NamedTuple):
    """One submit_multi destination (SMPP 3.4 §4.5.1.1): an SME address or a distribution list."""

    address: str
    ton: int = 0
    npi: int = 0
    is_distribution_list: bool = False


class UnsuccessSme(NamedTuple):
    """One failed submit_multi destination (SMPP 3.4 §4.5.2.1)."""

    address: str
    ton: int
    npi: int
    error_status: int


@dataclass(slots=True, kw_only=True)
class SubmitMulti(Pdu):
    COMMAND_ID = CommandId.SUBMIT_MULTI
    BODY = (
        _c("service_type", 6, CommandStatus.ESME_RINVSERTYP),
        *_SOURCE_21,
        FieldSpec("dest_addresses", FieldKind.DEST_ADDRESSES, 254, CommandStatus.ESME_RINVNUMDESTS),
        _u8("esm_class"),
        _u8("protocol_id"),
        _u8("priority_flag"),
        *_SCHEDULE,
        _u8("registered_delivery"),
        _u8("replace_if_present_flag"),
        _u8("data_coding"),
        _u8("sm_default_msg_id"),
        _SM,
    )
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addresses: list[DestAddress] = field(default_factory=list)
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""


@dataclass(slots=True, kw_only=True)
class SubmitMultiResp(Pdu):
    COMMAND_ID = CommandId.SUBMIT_MULTI_RESP
    BODY = (
        _c("message_id", 65, CommandStatus.ESME_RINVMSGID),
        FieldSpec("unsuccess_smes", FieldKind.UNSUCCESS_SMES, 254),
    )
    RESPONSE = True
    message_id: str = ""
    unsuccess_smes: list[UnsuccessSme] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class AlertNotification(Pdu):
    COMMAND_ID = CommandId.ALERT_NOTIFICATION
    BODY = (
        _u8("source_addr_ton"),
        _u8("source_addr_npi"),
        _c("source_addr", 65, CommandStatus.ESME_RINVSRCADR),
        _u8("esme_addr_ton"),
        _u8("esme_addr_npi"),
        _c("esme_addr", 65),
    )
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    esme_addr_ton: int = 0
    esme_addr_npi: int = 0
    esme_addr: str = ""


PDU_CLASSES: Mapping[int, type[Pdu]] = MappingProxyType(
    {
        cls.COMMAND_ID: cls
        for cls in (
            GenericNack,
            BindTransmitter,
            BindTransmitterResp,
            BindReceiver,
            BindReceiverResp,
            BindTransceiver,
            BindTransceiverResp,
            Outbind,
            Unbind,
            UnbindResp,
            EnquireLink,
            EnquireLinkResp,
            SubmitSm,
            SubmitSmResp,
            DeliverSm,
            DeliverSmResp,
            DataSm,
            DataSmResp,
            QuerySm,
            QuerySmResp,
            CancelSm,
            CancelSmResp,
            ReplaceSm,
            ReplaceSmResp,
            SubmitMulti,
            SubmitMultiResp,
            AlertNotification,
        )
    }
)

# Plain ints rather than IntEnum members: command ids are hashed and compared on every PDU.
for _cls in PDU_CLASSES.values():
    _cls.COMMAND_ID = int(_cls.COMMAND_ID)

# The response class for each request (generic_nack answers anything that cannot be read).
RESPONSE_CLASSES: Mapping[int, type[Pdu]] = MappingProxyType(
    {
        CommandId.BIND_TRANSMITTER: BindTransmitterResp,
        CommandId.BIND_RECEIVER: BindReceiverResp,
        CommandId.BIND_TRANSCEIVER: BindTransceiverResp,
        CommandId.UNBIND: UnbindResp,
        CommandId.ENQUIRE_LINK: EnquireLinkResp,
        CommandId.SUBMIT_SM: SubmitSmResp,
        CommandId.DELIVER_SM: DeliverSmResp,
        CommandId.DATA_SM: DataSmResp,
        CommandId.QUERY_SM: QuerySmResp,
        CommandId.CANCEL_SM: CancelSmResp,
        CommandId.REPLACE_SM: ReplaceSmResp,
        CommandId.SUBMIT_MULTI: SubmitMultiResp,
    }
)


def is_response(command_id: int) -> bool:
    return bool(command_id & 0x8000_0000)


def _blank_maker(cls: type[Pdu]) -> Callable[[int, int], Pdu]:
    """``cls(sequence_number=..., command_status=...)`` as straight-line code.

    The same instance the dataclass __init__ makes (every other field at its default), for
    less than half the cost: an SMSC answers every submit_sm, an ESME every deliver_sm.
    """
    namespace: dict[str, object] = {"new": object.__new__, "cls": cls}
    lines = [
        "def blank(sequence_number, command_status):",
        "    obj = new(cls)",
        "    obj.sequence_number = sequence_number",
        "    obj.command_status = command_status",
    ]
    for item in fields(cls):
        if item.name in ("sequence_number", "command_status"):
            continue
        if item.default_factory is not MISSING:
            namespace[f"factory_{item.name}"] = item.default_factory
            lines.append(f"    obj.{item.name} = factory_{item.name}()")
        else:
            namespace[f"default_{item.name}"] = item.default
            lines.append(f"    obj.{item.name} = default_{item.name}")
    lines.append("    return obj")
    exec("\n".join(lines), namespace)
    return namespace["blank"]  # type: ignore[return-value]


# command_id of a request → a maker of its empty response.
_RESPONSE_MAKERS: Mapping[int, Callable[[int, int], Pdu]] = MappingProxyType(
    {int(command_id): _blank_maker(cls) for command_id, cls in RESPONSE_CLASSES.items()}
)
_GENERIC_NACK_MAKER = _blank_maker(GenericNack)


def response_for(request: Pdu, command_status: int = CommandStatus.ESME_ROK) -> Pdu:
    """The empty response to ``request`` with the same sequence number (generic_nack if none)."""
    make = _RESPONSE_MAKERS.get(request.COMMAND_ID, _GENERIC_NACK_MAKER)
    return make(request.sequence_number, command_status)
