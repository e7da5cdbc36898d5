"""Delivery receipts: parse and format the SMPP 3.4 Appendix B text, merged with the typed TLVs.

Appendix B describes the receipt carried in a ``deliver_sm`` short_message as::

    id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
    stat:DDDDDDD err:E text:...

The appendix is informative, and SMSCs in the field vary it: 12-digit dates with seconds, hex or
decimal ids, hex ``err:`` values, ``submit_date:`` with an underscore, any letter case, extra vendor
fields, fields left out. The parser accepts all of these; the only error it raises is
:class:`ReceiptParseError`.

When the ``deliver_sm`` also carries ``receipted_message_id``, ``message_state`` or
``network_error_code`` (SMPP 3.4 §5.3.2.12, §5.3.2.35, §5.3.2.31), those typed values take
precedence over the text, which is free-form by comparison.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tidings.errors import TidingsError

__all__ = [
    "DeliveryReceipt",
    "ReceiptParseError",
    "ReceiptState",
    "format_receipt",
    "looks_like_receipt",
    "message_id_variants",
    "message_state_to_receipt_state",
    "parse_receipt",
    "receipt_state_to_message_state",
]


class ReceiptParseError(TidingsError):
    """The delivery receipt could not be understood."""


class ReceiptState(StrEnum):
    """The final (or interim) state a receipt reports: the 7-letter Appendix B ``stat:`` words."""

    DELIVRD = "DELIVRD"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"
    UNDELIV = "UNDELIV"
    ACCEPTD = "ACCEPTD"
    UNKNOWN = "UNKNOWN"
    REJECTD = "REJECTD"
    ENROUTE = "ENROUTE"

    @property
    def is_final(self) -> bool:
        """Whether no further receipt is expected for the message.

        ENROUTE is an intermediate notification (SMPP 3.4 §5.2.12 esm_class), and ACCEPTD means an
        operator accepted the message on the subscriber's behalf, which SMSCs follow up on.
        """
        return self not in (ReceiptState.ENROUTE, ReceiptState.ACCEPTD)


# SMPP 3.4 §5.2.28 message_state values.
_MESSAGE_STATE_TO_RECEIPT_STATE: dict[int, ReceiptState] = {
    1: ReceiptState.ENROUTE,
    2: ReceiptState.DELIVRD,
    3: ReceiptState.EXPIRED,
    4: ReceiptState.DELETED,
    5: ReceiptState.UNDELIV,
    6: ReceiptState.ACCEPTD,
    7: ReceiptState.UNKNOWN,
    8: ReceiptState.REJECTD,
}
_RECEIPT_STATE_TO_MESSAGE_STATE: dict[ReceiptState, int] = {
    state: value for value, state in _MESSAGE_STATE_TO_RECEIPT_STATE.items()
}

# Words seen after ``stat:`` in the field, folded to upper case with separators removed.
_STATE_WORDS: dict[str, ReceiptState] = {
    **{state.value: state for state in ReceiptState},
    "DELIVERED": ReceiptState.DELIVRD,
    "UNDELIVERABLE": ReceiptState.UNDELIV,
    "UNDELIVERED": ReceiptState.UNDELIV,
    "ACCEPTED": ReceiptState.ACCEPTD,
    "REJECTED": ReceiptState.REJECTD,
}

# Field names as they appear in the wild, normalised (lower case, no spaces or underscores).
_FIELD_ALIASES: dict[str, str] = {
    "id": "id",
    "sub": "sub",
    "dlvrd": "dlvrd",
    "submitdate": "submit_date",
    "donedate": "done_date",
    "stat": "stat",
    "err": "err",
    "text": "text",
}

# A field name starts at the beginning or after whitespace: one word, optionally followed by
# "date" (for "submit date"/"done date"), then a colon. Anchoring on whitespace keeps colons inside
# values (ids like "a:b") from being read as field names.
_FIELD_NAME = re.compile(r"(?<!\S)([A-Za-z][A-Za-z0-9]*(?:[ _]+date)?)[ \t]*:", re.IGNORECASE)
_TEXT_FIELD = re.compile(r"(?<!\S)text[ \t]*:", re.IGNORECASE)
# The Appendix B layout exactly as most SMSCs send it (one space between fields, names in lower
# case): matched at C speed, it gives what the general field scan gives, in a fraction of the
# time. Any other spelling or order goes through the general scan.
_APPENDIX_B = re.compile(
    r"id:(\S*) sub:(\S*) dlvrd:(\S*) submit date:(\S*) done date:(\S*) stat:(\S*) err:(\S*)"
    r"(?: text:(.*))?",
    re.DOTALL,
)
_APPENDIX_B_KEYS = ("id", "sub", "dlvrd", "submit_date", "done_date", "stat", "err", "text")
# Field spellings and dates repeat from receipt to receipt; remembering a bounded number of them
# keeps the per-receipt work down without letting odd input grow memory.
_MEMO_LIMIT = 1024
_field_keys: dict[str, str | None] = {}
_dates: dict[str, datetime | None] = {}

# Receipt texts longer than this are not receipts; bounding the input bounds the parser's work.
_MAX_RECEIPT_CHARS = 2048
# Ids longer than this are not converted between bases (int() of huge digit strings is costly).
_MAX_NUMERIC_ID_CHARS = 40
_APPENDIX_B_TEXT_CHARS = 20


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """One delivery receipt, with the typed TLVs already merged over the text."""

    message_id: str
    state: ReceiptState
    error_code: int | None
    network_error: tuple[int, int] | None
    submitted: int | None
    delivered: int | None
    submit_date: datetime | None
    done_date: datetime | None
    text: str | None
    raw: str
    error_raw: str | None = None
    extra: tuple[tuple[str, str], ...] = ()
    # The ``stat:`` text as sent, and whether it named a state (or UNKNOWN only stands in for
    # a word we do not know, which says nothing final); a message_state TLV is always a state.
    state_raw: str | None = None
    state_recognised: bool = True


def _decode_short_message(short_message: bytes | str) -> str:
    if isinstance(short_message, str):
        return short_message
    # A few SMSCs send receipts in UCS-2 (data_coding 8): ASCII text then has a NUL before every
    # character. Anything else is read as Latin-1, which maps every octet and so cannot fail.
    if len(short_message) >= 2 and len(short_message) % 2 == 0 and short_message[0] == 0:
        try:
            return short_message.decode("utf-16-be").replace("\x00", "")
        except UnicodeDecodeError:
            pass
    # A C-octet string's terminating NUL (SMPP 3.4 §3.1) is not part of the text.
    return short_message.decode("latin-1").replace("\x00", "")


def _split_fields(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Split ``name:value`` pairs; ``text:`` runs to the end since it may hold spaces and colons."""
    common = _APPENDIX_B.fullmatch(text)
    if common is not None:
        return {
            key: value
            for key, value in zip(_APPENDIX_B_KEYS, common.groups(), strict=True)
            if value is not None
        }, []
    return _scan_fields(text)


def _scan_fields(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The general field scan: names in any case and spelling, in any order, unknown ones kept."""
    known: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    text_match = _TEXT_FIELD.search(text)
    head = text if text_match is None else text[: text_match.start()]
    if text_match is not None:
        known["text"] = text[text_match.end() :]
    names = list(_FIELD_NAME.finditer(head))
    for index, match in enumerate(names):
        end = names[index + 1].start() if index + 1 < len(names) else len(head)
        value = head[match.end() : end].strip()
        name = match.group(1)
        key = _field_key(name)
        if key is None:
            extra.append((name, value))
        elif key not in known:
            known[key] = value
    return known, extra


def _field_key(name: str) -> str | None:
    """The field a name in the wild stands for (any case, spaces or underscores), or None."""
    if name in _field_keys:
        return _field_keys[name]
    key = _FIELD_ALIASES.get(re.sub(r"[ _]+", "", name).lower())
    if len(_field_keys) >= _MEMO_LIMIT:
        _field_keys.clear()
    _field_keys[name] = key
    return key


def _parse_count(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def _parse_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    if value in _dates:
        return _dates[value]
    moment = _read_date(value)
    if len(_dates) >= _MEMO_LIMIT:
        _dates.clear()
    _dates[value] = moment
    return moment


def _read_date(value: str | None) -> datetime | None:
    """YYMMDDhhmm (Appendix B), YYMMDDhhmmss, or YYYYMMDDhhmmss; None when not a valid date.

    A bad date does not reject the receipt: state and id matter more, and ``raw`` keeps the text.
    """
    if value is None or not value.isascii() or not value.isdigit():
        return None
    if len(value) == 14:
        year, rest = int(value[:4]), value[4:]
    elif len(value) in (10, 12):
        year, rest = 2000 + int(value[:2]), value[2:]
    else:
        return None
    month, day, hour, minute = (int(rest[index : index + 2]) for index in range(0, 8, 2))
    second = int(rest[8:10]) if len(rest) == 10 else 0
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _parse_error_code(value: str | None) -> int | None:
    """Decimal (``err:000``) or hex (``err:0A5``, ``err:0x1F``, ``err:x1F``); None if neither.

    Hex without its prefix must start with a decimal digit, as zero-padded codes do: a word of
    letters (``err:abc``) is no number, and is kept as text (``DeliveryReceipt.error_raw``).
    """
    if not value or not value.isascii():
        return None
    lowered = value.lower()
    if lowered.startswith("0x"):
        digits = lowered[2:]
    elif lowered.startswith("x"):
        digits = lowered[1:]
    elif lowered.isdigit():
        return int(lowered) if len(lowered) <= _MAX_NUMERIC_ID_CHARS else None
    elif lowered[0].isdigit():
        digits = lowered
    else:
        return None
    if not digits or len(digits) > _MAX_NUMERIC_ID_CHARS:
        return None
    if all(char in "0123456789abcdef" for char in digits):
        return int(digits, 16)
    return None


def _parse_state_word(value: str | None) -> ReceiptState | None:
    if value is None:
        return None
    known = _STATE_WORDS.get(value)
    if known is not None:
        return known
    words = value.split()
    if not words:
        return None
    return _STATE_WORDS.get(re.sub(r"[_\-]", "", words[0]).upper(), ReceiptState.UNKNOWN)


def recognised_state_word(value: str | None) -> bool:
    """Whether a ``stat:`` word is one of the states (in any spelling we read), not a vendor
    word that :func:`parse_receipt` can only call UNKNOWN."""
    if not value:
        return False
    if value in _STATE_WORDS:
        return True
    words = value.split()
    return bool(words) and re.sub(r"[_\-]", "", words[0]).upper() in _STATE_WORDS


def message_state_to_receipt_state(message_state: int) -> ReceiptState:
    """Map a §5.2.28 message_state value to a state; values outside 1..8 are UNKNOWN."""
    return _MESSAGE_STATE_TO_RECEIPT_STATE.get(message_state, ReceiptState.UNKNOWN)


def receipt_state_to_message_state(state: ReceiptState) -> int:
    """The SMPP 3.4 §5.2.28 message_state value for the ``message_state`` TLV."""
    return _RECEIPT_STATE_TO_MESSAGE_STATE[state]


def _parse_network_error(network_error_code: bytes | None) -> tuple[int, int] | None:
    # §5.3.2.31: one octet network type (1 ANSI-136, 2 IS-95, 3 GSM, ...), then a 2-octet code.
    # A TLV of the wrong size is ignored rather than losing the whole receipt over it.
    if network_error_code is None or len(network_error_code) != 3:
        return None
    return network_error_code[0], int.from_bytes(network_error_code[1:3], "big")


def parse_receipt(
    short_message: bytes | str,
    *,
    receipted_message_id: str | None = None,
    message_state: int | None = None,
    network_error_code: bytes | None = None,
) -> DeliveryReceipt:
    """Parse a receipt's text and merge the typed TLVs over it.

    The message id comes from ``receipted_message_id`` when given, else from ``id:``; the state
    from ``message_state`` when it holds a §5.2.28 value, else from ``stat:``, else UNKNOWN.
    ``error_code`` is the ``err:`` value, falling back to the network_error_code's error when the
    text has none.

    Raises :class:`ReceiptParseError` when no message id can be found, or when the text holds
    no receipt fields and no TLV says what state the message is in.
    """
    text = _decode_short_message(short_message)
    if len(text) > _MAX_RECEIPT_CHARS:
        raise ReceiptParseError(f"Receipt text is {len(text)} characters; too long for a receipt.")
    fields, extra = _split_fields(text)

    receipted_id = receipted_message_id.strip("\x00 ") if receipted_message_id else ""
    message_id = receipted_id or fields.get("id", "")
    if not message_id:
        raise ReceiptParseError("Receipt has no message id (no id: field or receipted_message_id).")

    state = None
    state_raw = fields.get("stat")
    recognised = True
    if message_state is not None:
        state = _MESSAGE_STATE_TO_RECEIPT_STATE.get(message_state)
    if state is None:
        state = _parse_state_word(state_raw)
        recognised = recognised_state_word(state_raw)
    if state is None:
        if not fields.keys() - {"id"} and message_state is None:
            raise ReceiptParseError("Text does not look like a delivery receipt.")
        state = ReceiptState.UNKNOWN

    network_error = _parse_network_error(network_error_code)
    error_raw = fields.get("err")
    error_code = _parse_error_code(error_raw)
    if error_code is None and network_error is not None:
        error_code = network_error[1]

    return DeliveryReceipt(
        message_id=message_id,
        state=state,
        error_code=error_code,
        network_error=network_error,
        submitted=_parse_count(fields.get("sub")),
        delivered=_parse_count(fields.get("dlvrd")),
        submit_date=_parse_date(fields.get("submit_date")),
        done_date=_parse_date(fields.get("done_date")),
        text=fields.get("text"),
        raw=text,
        error_raw=error_raw,
        extra=tuple(extra),
        state_raw=state_raw,
        state_recognised=recognised,
    )


def looks_like_receipt(short_message: bytes | str) -> bool:
    """Whether the text carries an ``id:`` and a ``stat:`` field; cheap and never raises.

    Used when a deliver_sm's esm_class does not flag a receipt (some SMSCs never set it) to decide
    whether to treat it as one rather than as an inbound message.
    """
    text = _decode_short_message(short_message)
    if len(text) > _MAX_RECEIPT_CHARS:
        return False
    fields, _ = _split_fields(text)
    return bool(fields.get("id")) and bool(fields.get("stat"))


def _format_date(moment: datetime, *, seconds: bool) -> str:
    return moment.strftime("%y%m%d%H%M%S" if seconds else "%y%m%d%H%M")


def format_receipt(
    message_id: str,
    state: ReceiptState,
    *,
    submit_date: datetime,
    done_date: datetime,
    error_code: int = 0,
    submitted: int = 1,
    delivered: int | None = None,
    text: str = "",
    seconds: bool = False,
) -> str:
    """The canonical Appendix B receipt text.

    ``delivered`` defaults to ``submitted`` for DELIVRD and 0 otherwise. ``text`` is cut to the
    first 20 characters of the message, as Appendix B specifies. ``seconds`` adds seconds to the
    dates (YYMMDDhhmmss), a common extension. Raises ValueError for counts or codes outside 0..999.
    """
    if delivered is None:
        delivered = submitted if state is ReceiptState.DELIVRD else 0
    for name, value in (("submitted", submitted), ("delivered", delivered), ("error", error_code)):
        if not 0 <= value <= 999:
            raise ValueError(f"{name} must be within 0..999 (3 digits in Appendix B), not {value}")
    return (
        f"id:{message_id} sub:{submitted:03d} dlvrd:{delivered:03d}"
        f" submit date:{_format_date(submit_date, seconds=seconds)}"
        f" done date:{_format_date(done_date, seconds=seconds)}"
        f" stat:{state.value} err:{error_code:03d} text:{text[:_APPENDIX_B_TEXT_CHARS]}"
    )


def message_id_variants(message_id: str) -> tuple[str, ...]:
    """Normalised forms under which a receipt's id may match a submit_sm_resp's message_id.

    SMSCs disagree with themselves: the submit_sm_resp may give ``1A2B`` and the receipt ``6699``
    (the same number in decimal), or add or drop leading zeros or change case. The first variant is
    the id case-folded and trimmed; then the id without leading zeros; then the other base's
    reading. Index submitted ids by every variant and look a receipt up by its variants in order,
    so an exact match wins over a cross-base one.
    """
    variants: list[str] = []

    def add(candidate: str) -> None:
        if candidate and candidate not in variants:
            variants.append(candidate)

    folded = message_id.strip().strip("\x00").strip().casefold()
    add(folded)
    digits = folded[2:] if folded.startswith("0x") else folded
    add(digits.lstrip("0") or ("0" if digits else ""))
    if not digits or len(digits) > _MAX_NUMERIC_ID_CHARS or not digits.isascii():
        return tuple(variants)
    if digits.isdigit():
        value = int(digits)
        add(str(value))
        add(format(value, "x"))
    if all(char in "0123456789abcdef" for char in digits):
        value = int(digits, 16)
        add(format(value, "x"))
        add(str(value))
    return tuple(variants)
