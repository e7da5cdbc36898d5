"""The one place where errors become ClickSend answers: ``{http_code, response_code,
response_msg, data}`` with ClickSend's response codes, also for per-message statuses."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from types import MappingProxyType
from typing import Any

import structlog
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from tidings.api.error_docs import ErrorShape
from tidings.core.documents import DocumentRefused
from tidings.core.messaging import RecipientError
from tidings.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    TidingsError,
    Unauthorized,
    UnregisteredSender,
)
from tidings.media.errors import MediaError
from tidings.phone import InvalidNumber, InvalidSender

_log = structlog.get_logger("tidings.api.clicksend")


class MissingRequiredField(InvalidRequest):
    """A required field is missing."""


class SubjectRequired(InvalidRequest):
    """An MMS needs a subject."""


class InvalidMediaFile(InvalidRequest):
    """The media file cannot be used."""


# Most specific class first: the first match decides (http_code, response_code).
_ERROR_CODES: tuple[tuple[type[TidingsError], int, str], ...] = (
    (Unauthorized, 401, "UNAUTHORIZED"),
    (Forbidden, 403, "FORBIDDEN"),
    (NotFound, 404, "NOT_FOUND"),
    (AlreadyExists, 400, "ALREADY_EXISTS"),
    (Conflict, 400, "BAD_REQUEST"),
    (RateLimited, 429, "TOO_MANY_REQUESTS"),
    (UnregisteredSender, 400, "INVALID_SENDER_ID"),
    (InvalidSender, 400, "INVALID_SENDER_ID"),
    (InvalidNumber, 400, "INVALID_RECIPIENT"),
    (MissingRequiredField, 400, "MISSING_REQUIRED_FIELDS"),
    (DocumentRefused, 400, "INVALID_MEDIA_FILE"),
    (MediaError, 400, "INVALID_MEDIA_FILE"),
    (SubjectRequired, 400, "SUBJECT_REQUIRED"),
    (InvalidMediaFile, 400, "INVALID_MEDIA_FILE"),
    (InvalidRequest, 400, "BAD_REQUEST"),
)

# An invalid request about one of these fields has ClickSend's own code.
_FIELD_CODES = {
    "body": "EMPTY_MESSAGE",
    "schedule": "INVALID_SCHEDULE",
    "from": "INVALID_SENDER_ID",
}

# Per-message statuses of a send: a recipient refused by core, named in ClickSend's words.
_RECIPIENT_STATUS = {
    RecipientError.INVALID_NUMBER: "INVALID_RECIPIENT",
    RecipientError.DUPLICATE: "INVALID_RECIPIENT",
    RecipientError.MISSING_PLACEHOLDER: "BAD_REQUEST",
    RecipientError.INVALID_TEXT: "EMPTY_MESSAGE",
}


def envelope(
    data: Any, *, http_code: int = 200, response_code: str = "SUCCESS", msg: str = ""
) -> JSONResponse:
    body = {
        "http_code": http_code,
        "response_code": response_code,
        "response_msg": msg,
        "data": data,
    }
    headers = None
    if http_code == 401:
        headers = {"WWW-Authenticate": 'Basic realm="tidings"'}
    return JSONResponse(body, status_code=http_code, headers=headers)


def code_for(error: TidingsError) -> tuple[int, str]:
    for cls, http_code, response_code in _ERROR_CODES:
        if isinstance(error, cls):
            if isinstance(error, InvalidRequest) and error.field in _FIELD_CODES:
                return 400, _FIELD_CODES[error.field]
            return http_code, response_code
    return 400, "BAD_REQUEST"


def message_status_for(error: TidingsError) -> str:
    """The per-message ``status`` of a message refused as a whole (bad sender, empty body)."""
    return code_for(error)[1]


def recipient_status(error: str | None) -> str:
    return "SUCCESS" if error is None else _RECIPIENT_STATUS.get(error, "BAD_REQUEST")


def error_response(error: TidingsError) -> JSONResponse:
    http_code, response_code = code_for(error)
    response = envelope(None, http_code=http_code, response_code=response_code, msg=error.message)
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def validation_response(error: RequestValidationError) -> JSONResponse:
    problems = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())[1:]]
        problems.append({"field": ".".join(location), "message": str(item.get("msg", "invalid"))})
    first = problems[0] if problems else {"field": "", "message": "invalid request"}
    missing = any(item.get("type") == "missing" for item in error.errors())
    return envelope(
        {"errors": problems},
        http_code=400,
        response_code="MISSING_REQUIRED_FIELDS" if missing else "BAD_REQUEST",
        msg=f"{first['field']}: {first['message']}" if first["field"] else first["message"],
    )


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_FOUND", 413: "BAD_REQUEST"}


class ClickSendRoute(APIRoute):
    """Routes whose every error, authentication included, is answered in ClickSend's envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except TidingsError as error:
                return error_response(error)
            except RequestValidationError as error:
                return validation_response(error)
            except StarletteHTTPException as error:
                code = _HTTP_CODES.get(error.status_code, "BAD_REQUEST")
                return envelope(
                    None, http_code=error.status_code, response_code=code, msg=str(error.detail)
                )
            except Exception as error:  # an answer the SDKs can parse, and the trace in the log
                _log.error("unhandled error", path=request.url.path, exc_info=error)
                return envelope(
                    None,
                    http_code=500,
                    response_code="INTERNAL_SERVER_ERROR",
                    msg="An unexpected error occurred.",
                )

        return handle


# The answers above as the dialect's OpenAPI document shows them (api/openapi.py).
OPENAPI_ERROR = ErrorShape(
    media_type="application/json",
    schema_name="ClickSendError",
    schema=MappingProxyType(
        {
            "type": "object",
            "description": "ClickSend's answer envelope, with the error in response_code.",
            "properties": {
                "http_code": {"type": "integer", "examples": [400]},
                "response_code": {"type": "string", "examples": ["BAD_REQUEST"]},
                "response_msg": {"type": "string"},
                "data": {"description": "null, or what the error concerns"},
            },
            "required": ["http_code", "response_code", "response_msg"],
        }
    ),
    validation_status=400,
    descriptions=MappingProxyType(
        {
            400: "The request is not valid or cannot be done: BAD_REQUEST, "
            "MISSING_REQUIRED_FIELDS, INVALID_RECIPIENT, INVALID_SENDER_ID, ALREADY_EXISTS…",
            401: "UNAUTHORIZED: missing or invalid credentials.",
            403: "FORBIDDEN: the key may not do this.",
            404: "NOT_FOUND: no such resource in the account.",
            429: "TOO_MANY_REQUESTS: retry later.",
        }
    ),
)
