"""IPP numbers: delimiter and value tags (RFC 8010 §3.5), operations, status codes and job
states (RFC 8011 §5.4.15, §B, §5.3.7)."""

from __future__ import annotations

from enum import IntEnum


class GroupTag(IntEnum):
    """Delimiter tags (RFC 8010 §3.5.1)."""

    OPERATION = 0x01
    JOB = 0x02
    END = 0x03
    PRINTER = 0x04
    UNSUPPORTED = 0x05
    SUBSCRIPTION = 0x06
    EVENT_NOTIFICATION = 0x07
    DOCUMENT = 0x09


class ValueTag(IntEnum):
    """Value tags (RFC 8010 §3.5.2)."""

    UNSUPPORTED = 0x10
    UNKNOWN = 0x12
    NO_VALUE = 0x13
    NOT_SETTABLE = 0x15
    DELETE_ATTRIBUTE = 0x16
    ADMIN_DEFINE = 0x17
    INTEGER = 0x21
    BOOLEAN = 0x22
    ENUM = 0x23
    OCTET_STRING = 0x30
    DATE_TIME = 0x31
    RESOLUTION = 0x32
    RANGE_OF_INTEGER = 0x33
    BEGIN_COLLECTION = 0x34
    TEXT_WITH_LANGUAGE = 0x35
    NAME_WITH_LANGUAGE = 0x36
    END_COLLECTION = 0x37
    TEXT = 0x41
    NAME = 0x42
    KEYWORD = 0x44
    URI = 0x45
    URI_SCHEME = 0x46
    CHARSET = 0x47
    NATURAL_LANGUAGE = 0x48
    MIME_MEDIA_TYPE = 0x49
    MEMBER_ATTR_NAME = 0x4A
    EXTENSION = 0x7F


class Operation(IntEnum):
    PRINT_JOB = 0x0002
    VALIDATE_JOB = 0x0004
    CREATE_JOB = 0x0005
    SEND_DOCUMENT = 0x0006
    CANCEL_JOB = 0x0008
    GET_JOB_ATTRIBUTES = 0x0009
    GET_JOBS = 0x000A
    GET_PRINTER_ATTRIBUTES = 0x000B


class StatusCode(IntEnum):
    """The status codes this package names (RFC 8011 Appendix B); others are kept as ints."""

    SUCCESSFUL_OK = 0x0000
    SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED = 0x0001
    SUCCESSFUL_OK_CONFLICTING = 0x0002
    CLIENT_ERROR_BAD_REQUEST = 0x0400
    CLIENT_ERROR_FORBIDDEN = 0x0401
    CLIENT_ERROR_NOT_AUTHENTICATED = 0x0402
    CLIENT_ERROR_NOT_AUTHORIZED = 0x0403
    CLIENT_ERROR_NOT_POSSIBLE = 0x0404
    CLIENT_ERROR_TIMEOUT = 0x0405
    CLIENT_ERROR_NOT_FOUND = 0x0406
    CLIENT_ERROR_GONE = 0x0407
    CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE = 0x0408
    CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED = 0x040A
    CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED = 0x040B
    CLIENT_ERROR_CHARSET_NOT_SUPPORTED = 0x040D
    CLIENT_ERROR_CONFLICTING_ATTRIBUTES = 0x040E
    CLIENT_ERROR_DOCUMENT_FORMAT_ERROR = 0x0410
    SERVER_ERROR_INTERNAL_ERROR = 0x0500
    SERVER_ERROR_OPERATION_NOT_SUPPORTED = 0x0501
    SERVER_ERROR_SERVICE_UNAVAILABLE = 0x0502
    SERVER_ERROR_VERSION_NOT_SUPPORTED = 0x0503
    SERVER_ERROR_DEVICE_ERROR = 0x0504
    SERVER_ERROR_TEMPORARY_ERROR = 0x0505
    SERVER_ERROR_NOT_ACCEPTING_JOBS = 0x0506
    SERVER_ERROR_BUSY = 0x0507
    SERVER_ERROR_JOB_CANCELED = 0x0508


def is_successful(status: int) -> bool:
    return 0x0000 <= status <= 0x00FF


def is_client_error(status: int) -> bool:
    """A request the printer will refuse however often it is sent."""
    return 0x0400 <= status <= 0x04FF


def status_name(status: int) -> str:
    try:
        return StatusCode(status).name.lower().replace("_", "-")
    except ValueError:
        return f"0x{status:04x}"


class JobState(IntEnum):
    """job-state (RFC 8011 §5.3.7)."""

    PENDING = 3
    PENDING_HELD = 4
    PROCESSING = 5
    PROCESSING_STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9

    @property
    def keyword(self) -> str:
        return self.name.lower().replace("_", "-")

    @property
    def final(self) -> bool:
        return self >= JobState.CANCELED
