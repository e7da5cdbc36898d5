"""Graph API errors: the error object Meta answers with, and what each code means for us.

Every failed Graph request answers ``{"error": {"message", "type", "code", "error_subcode",
"error_data": {"messaging_product", "details"}, "fbtrace_id"}}``; a ``failed`` status webhook
carries ``errors: [{"code", "title", "message", "error_data": {"details"}}]``. The codes are
Meta's (WhatsApp Cloud API "Error codes" reference); :data:`CLASSES` says what each one means
for a message, so the transport, the webhook endpoint and the SMS fallback read one table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from tidings.errors import TidingsError


class ErrorClass(StrEnum):
    """What an error code means for the message that met it."""

    # Try again later, with backoff: rate limits, Meta's own trouble.
    RETRY = "retry"
    # The access token is no good (expired, revoked): the route is broken until it is changed.
    AUTH = "auth"
    # The number has no WhatsApp, or the message cannot reach it: SMS may.
    UNREACHABLE = "unreachable"
    # A free-form message outside the 24-hour customer-service window: only a template may go.
    WINDOW = "window"
    # The template: missing, not approved, paused, disabled, parameters that do not fit.
    TEMPLATE = "template"
    # The request was wrong (a parameter, a media file): sending it again changes nothing.
    INVALID = "invalid"
    # The business may not send (policy, account, payment): nothing a retry or SMS fixes.
    REFUSED = "refused"


RETRY_CODES = frozenset({4, 80007, 130429, 131000, 131016, 131056, 133004})

# Meta's codes, as its error reference names them.
CLASSES: Mapping[int, ErrorClass] = MappingProxyType(
    {
        0: ErrorClass.AUTH,  # AuthException
        3: ErrorClass.REFUSED,  # API method: capability or permission
        4: ErrorClass.RETRY,  # API too many calls (application rate limit)
        10: ErrorClass.REFUSED,  # permission denied
        100: ErrorClass.INVALID,  # invalid parameter
        190: ErrorClass.AUTH,  # access token expired or invalid
        200: ErrorClass.REFUSED,  # permissions (200-299)
        368: ErrorClass.REFUSED,  # temporarily blocked for policy violations
        80007: ErrorClass.RETRY,  # rate limit issues (WABA)
        130429: ErrorClass.RETRY,  # rate limit hit (Cloud API throughput)
        130472: ErrorClass.UNREACHABLE,  # user's number is part of an experiment
        130497: ErrorClass.REFUSED,  # business account restricted from messaging users here
        131000: ErrorClass.RETRY,  # something went wrong
        131005: ErrorClass.REFUSED,  # access denied
        131008: ErrorClass.INVALID,  # required parameter is missing
        131009: ErrorClass.INVALID,  # parameter value is not valid
        131016: ErrorClass.RETRY,  # service unavailable
        131021: ErrorClass.INVALID,  # recipient cannot be sender
        131026: ErrorClass.UNREACHABLE,  # message undeliverable (no WhatsApp, old app, terms)
        131031: ErrorClass.REFUSED,  # business account locked
        131042: ErrorClass.REFUSED,  # business eligibility: payment issue
        131045: ErrorClass.REFUSED,  # incorrect certificate
        131047: ErrorClass.WINDOW,  # re-engagement message: more than 24 hours since the reply
        131049: ErrorClass.UNREACHABLE,  # not delivered to keep the ecosystem healthy
        131050: ErrorClass.UNREACHABLE,  # user stopped marketing messages
        131051: ErrorClass.INVALID,  # unsupported message type
        131052: ErrorClass.INVALID,  # media download error
        131053: ErrorClass.INVALID,  # media upload error
        131056: ErrorClass.RETRY,  # (business, consumer) pair rate limit
        132000: ErrorClass.TEMPLATE,  # number of parameters does not match
        132001: ErrorClass.TEMPLATE,  # template does not exist (in that language)
        132005: ErrorClass.TEMPLATE,  # translated text too long
        132007: ErrorClass.TEMPLATE,  # template format character policy violated
        132012: ErrorClass.TEMPLATE,  # template parameter format mismatch
        132015: ErrorClass.TEMPLATE,  # template is paused
        132016: ErrorClass.TEMPLATE,  # template is disabled
        132068: ErrorClass.TEMPLATE,  # flow is blocked
        132069: ErrorClass.TEMPLATE,  # flow is throttled
        133004: ErrorClass.RETRY,  # server temporarily unavailable
        133010: ErrorClass.REFUSED,  # phone number not registered
    }
)


def error_class(code: int) -> ErrorClass:
    """What ``code`` means; a code Meta adds later is read by its range (132xxx templates,
    5xx-like 1xxxxx server trouble is not guessed: an unknown code is not retried)."""
    found = CLASSES.get(code)
    if found is not None:
        return found
    if 200 <= code <= 299:
        return ErrorClass.REFUSED
    if 132000 <= code <= 132999:
        return ErrorClass.TEMPLATE
    return ErrorClass.INVALID


@dataclass(frozen=True, slots=True)
class GraphError:
    """One Graph API error: of a request (``{"error": ...}``) or of a message (a ``failed``
    status webhook's ``errors[]``)."""

    code: int
    message: str
    title: str | None = None
    type: str | None = None
    subcode: int | None = None
    details: str | None = None
    fbtrace_id: str | None = None

    @property
    def error_class(self) -> ErrorClass:
        return error_class(self.code)

    @property
    def summary(self) -> str:
        """One line for a message's history: the code, Meta's words and their details."""
        words = self.title or self.message
        if self.details and self.details not in words:
            words = f"{words}: {self.details}"
        return f"({self.code}) {words}"

    def as_response(self) -> dict[str, Any]:
        """The ``{"error": ...}`` body of a failed request, as Meta writes it."""
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.type or "OAuthException",
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = self.fbtrace_id or "A" + format(abs(hash(self.message)), "x")[:22]
        return {"error": error}

    def as_status_error(self) -> dict[str, Any]:
        """An entry of a ``failed`` status webhook's ``errors``."""
        entry: dict[str, Any] = {
            "code": self.code,
            "title": self.title or self.message,
            "message": self.title or self.message,
        }
        if self.details is not None:
            entry["error_data"] = {"details": self.details}
        return entry


def read_error(body: Any) -> GraphError | None:
    """The error of a failed request's JSON body, or None if it has none that can be read."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        return None
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    subcode = error.get("error_subcode")
    return GraphError(
        code=error["code"],
        message=str(error.get("message") or ""),
        title=error.get("error_user_title")
        if isinstance(error.get("error_user_title"), str)
        else None,
        type=error.get("type") if isinstance(error.get("type"), str) else None,
        subcode=subcode if isinstance(subcode, int) else None,
        details=details if isinstance(details, str) else None,
        fbtrace_id=error.get("fbtrace_id") if isinstance(error.get("fbtrace_id"), str) else None,
    )


class ProtocolError(TidingsError):
    """The Cloud API's rules were broken."""

    def __init__(self, message: str | None = None, *, http_status: int = 400) -> None:
        super().__init__(message)
        #: The HTTP status to answer the offending request with.
        self.http_status = http_status


class LocalProtocolError(ProtocolError):
    """We tried to send something the Cloud API does not take."""


class RemoteProtocolError(ProtocolError):
    """The other side sent something the Cloud API does not allow (or that we cannot read)."""
