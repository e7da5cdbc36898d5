"""What a strict SMSC refuses in a submit, and with which command_status.

A lenient simulator accepts whatever decodes; a real SMSC answers a malformed message with an
error, so an ESME's mistakes show up in tests only against a strict one. :func:`submit_error`
checks one submit_sm, data_sm or submit_multi and gives the status of the first rule it breaks
(None when it breaks none).
"""

from __future__ import annotations

from tidings.smpp.concat import (
    IEI_CONCAT_8BIT,
    IEI_CONCAT_16BIT,
    UdhParseError,
    parse_udh,
)
from tidings.smpp.constants import CommandStatus, EsmClass, Tag
from tidings.smpp.pdu import DataSm, SubmitMulti, SubmitSm

Submit = SubmitSm | DataSm | SubmitMulti

# SMPP 3.4 §5.2.21: sm_length 0 to 254.
MAX_SHORT_MESSAGE = 254
_UCS2 = 0x08


def _text(pdu: Submit) -> bytes:
    payload = pdu.tlvs.get(int(Tag.MESSAGE_PAYLOAD)) if pdu.tlvs else None
    if payload is not None:
        return payload
    return b"" if isinstance(pdu, DataSm) else pdu.short_message


def valid_data_coding(dcs: int) -> bool:
    """SMPP 3.4 Table 5-6 for 0x00-0x0F, 3GPP TS 23.038 §4 coding groups above.

    Refused: 0x0B, 0x0C and 0x0F (reserved in SMPP 3.4); a general data coding group (00xx,
    01xx) naming the reserved alphabet 11; the reserved groups 1000-1011; a message waiting
    group (1100-1110) with its reserved bit 2 set; the message class group (1111) with its
    reserved bit 3 set (0xF8-0xFF).
    """
    if dcs <= 0x0F:
        return dcs not in (0x0B, 0x0C, 0x0F)
    group = dcs >> 4
    if group <= 0x7:
        return (dcs >> 2) & 0x03 != 0x03
    if group <= 0xB:
        return False
    if group <= 0xE:
        return not dcs & 0x04
    return not dcs & 0x08


# Read per submit: a table lookup instead of the rules above.
_DATA_CODING_VALID = tuple(valid_data_coding(dcs) for dcs in range(256))
_UDHI = int(EsmClass.UDHI)
_RINVMSGLEN = int(CommandStatus.ESME_RINVMSGLEN)
_RINVDCS = int(CommandStatus.ESME_RINVDCS)


def submit_error(pdu: Submit) -> int | None:
    """The command_status a strict SMSC answers ``pdu`` with, or None to accept it.

    Checked in order: the length of short_message (ESME_RINVMSGLEN), the data coding
    (ESME_RINVDCS), the UDH (ESME_RINVESMCLASS when it runs past the message or numbers a part
    beyond its total), UCS-2 text of an odd length (ESME_RINVMSGLEN), the SAR TLVs
    (ESME_RINVOPTPARAMVAL, ESME_RMISSINGOPTPARAM). The common submit (no UDH, no TLVs, a
    non-UCS-2 coding) takes the first lines only: the simulator's submit path is benchmarked.
    """
    is_data_sm = type(pdu) is DataSm
    if not is_data_sm and len(pdu.short_message) > MAX_SHORT_MESSAGE:  # type: ignore[union-attr]
        return _RINVMSGLEN
    dcs = pdu.data_coding
    if not _DATA_CODING_VALID[dcs]:
        return _RINVDCS
    if not pdu.tlvs and not pdu.esm_class & _UDHI and dcs != _UCS2:
        return None
    return _user_data(pdu) or _sar(pdu)


def _user_data(pdu: Submit) -> int | None:
    """The UDH fits in the message and its concatenation element numbers a real part; UCS-2
    text (after the UDH) is whole characters."""
    text = _text(pdu)
    if pdu.esm_class & _UDHI:
        try:
            header, text = parse_udh(text)
        except UdhParseError:
            return CommandStatus.ESME_RINVESMCLASS
        for element in header.elements:
            if element.iei == IEI_CONCAT_8BIT:
                total, sequence = element.data[1], element.data[2]
            elif element.iei == IEI_CONCAT_16BIT:
                total, sequence = element.data[2], element.data[3]
            else:
                continue
            if not 1 <= sequence <= total:
                return CommandStatus.ESME_RINVESMCLASS
    if pdu.data_coding == _UCS2 and len(text) % 2:
        return _RINVMSGLEN
    return None


def _sar(pdu: Submit) -> int | None:
    if not pdu.tlvs or int(Tag.SAR_MSG_REF_NUM) not in pdu.tlvs:
        return None
    total = pdu.get_int_tlv(Tag.SAR_TOTAL_SEGMENTS)
    sequence = pdu.get_int_tlv(Tag.SAR_SEGMENT_SEQNUM)
    if total is None or sequence is None:
        return CommandStatus.ESME_RMISSINGOPTPARAM
    if not 1 <= sequence <= total:
        return CommandStatus.ESME_RINVOPTPARAMVAL
    return None
