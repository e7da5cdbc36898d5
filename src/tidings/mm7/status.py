"""MM7 status codes (TS 23.140 Table 8.7.4, "Request Status Codes") and delivery-report
MMStatus values, as tables. What they mean for a message's lifecycle is decided by the MM7
transport (``dispatch``), not here."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class StatusCode(IntEnum):
    SUCCESS = 1000
    PARTIAL_SUCCESS = 1100
    CLIENT_ERROR = 2000
    OPERATION_RESTRICTED = 2001
    ADDRESS_ERROR = 2002
    ADDRESS_NOT_FOUND = 2003
    CONTENT_REFUSED = 2004
    MESSAGE_ID_NOT_FOUND = 2005
    LINKED_ID_NOT_FOUND = 2006
    MESSAGE_FORMAT_CORRUPT = 2007
    APPLICATION_ID_NOT_FOUND = 2008
    REPLY_APPLICATION_ID_NOT_FOUND = 2009
    SERVER_ERROR = 3000
    NOT_POSSIBLE = 3001
    MESSAGE_REJECTED = 3002
    MULTIPLE_ADDRESSES_NOT_SUPPORTED = 3003
    APPLICATION_ADDRESSING_NOT_SUPPORTED = 3004
    GENERAL_SERVICE_ERROR = 4000
    IMPROPER_IDENTIFICATION = 4001
    UNSUPPORTED_VERSION = 4002
    UNSUPPORTED_OPERATION = 4003
    VALIDATION_ERROR = 4004
    SERVICE_ERROR = 4005
    SERVICE_UNAVAILABLE = 4006
    SERVICE_DENIED = 4007
    APPLICATION_DENIED = 4008


class StatusClass(StrEnum):
    """What the sender of a request should do about the answer."""

    SUCCESS = "success"
    # Refused for good: the same request would be refused again.
    PERMANENT = "permanent"
    # The relay could not take it now: the same request may succeed later.
    TEMPORARY = "temporary"


# Codes not in the table are classed by their thousand, as §8.7.4 tells a receiver to do with
# codes it does not know: 1xxx success, 2xxx client errors, 3xxx server, 4xxx service errors.
STATUS_CLASS: dict[int, StatusClass] = {
    StatusCode.SUCCESS: StatusClass.SUCCESS,
    StatusCode.PARTIAL_SUCCESS: StatusClass.SUCCESS,
    StatusCode.SERVER_ERROR: StatusClass.TEMPORARY,
    StatusCode.NOT_POSSIBLE: StatusClass.TEMPORARY,
    StatusCode.MESSAGE_REJECTED: StatusClass.PERMANENT,
    StatusCode.MULTIPLE_ADDRESSES_NOT_SUPPORTED: StatusClass.PERMANENT,
    StatusCode.APPLICATION_ADDRESSING_NOT_SUPPORTED: StatusClass.PERMANENT,
    StatusCode.GENERAL_SERVICE_ERROR: StatusClass.TEMPORARY,
    StatusCode.SERVICE_ERROR: StatusClass.TEMPORARY,
    StatusCode.SERVICE_UNAVAILABLE: StatusClass.TEMPORARY,
}
_BY_THOUSAND = {
    1: StatusClass.SUCCESS,
    2: StatusClass.PERMANENT,
    3: StatusClass.TEMPORARY,
    4: StatusClass.PERMANENT,
}


def status_class(code: int) -> StatusClass:
    found = STATUS_CLASS.get(code)
    if found is not None:
        return found
    return _BY_THOUSAND.get(code // 1000, StatusClass.PERMANENT)


def status_name(code: int) -> str:
    """The code's name as an error code string (``MM7_2004_CONTENT_REFUSED``)."""
    try:
        return f"MM7_{code}_{StatusCode(code).name}"
    except ValueError:
        return f"MM7_{code}"


class MMStatus(StrEnum):
    """A delivery report's MMStatus (TS 23.140 §8.4.2, schema ``mmDeliveryStatusType``)."""

    EXPIRED = "Expired"
    RETRIEVED = "Retrieved"
    REJECTED = "Rejected"
    DEFERRED = "Deferred"
    UNRECOGNISED = "Unrecognised"
    INDETERMINATE = "Indeterminate"
    FORWARDED = "Forwarded"
    DELIVERY_CONDITION_NOT_MET = "DeliveryConditionNotMet"


class MessageClass(StrEnum):
    PERSONAL = "Personal"
    INFORMATIONAL = "Informational"
    ADVERTISEMENT = "Advertisement"
    AUTO = "Auto"


class Priority(StrEnum):
    LOW = "Low"
    NORMAL = "Normal"
    HIGH = "High"


class ChargedParty(StrEnum):
    SENDER = "Sender"
    RECIPIENT = "Recipient"
    BOTH = "Both"
    NEITHER = "Neither"
    THIRD_PARTY = "ThirdParty"
