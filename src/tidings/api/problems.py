"""RFC 9457 problem details: the one place where errors become HTTP answers for /v1."""

from __future__ import annotations

from types import MappingProxyType

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tidings.api.error_docs import ErrorShape
from tidings.errors import (
    AccountSuspended,
    CarrierUnavailable,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    TidingsError,
    Unauthorized,
)
from tidings.lifecycle import InvalidTransition
from tidings.media.errors import ConversionUnavailable, MediaTooLarge, UnsupportedMedia
from tidings.phone import InvalidNumber, InvalidSender

PROBLEM_JSON = "application/problem+json"
_TYPE_PREFIX = "urn:tidings:problem:"

# Most specific class first: the first match decides.
_ERROR_STATUS: tuple[tuple[type[TidingsError], int, str], ...] = (
    (Unauthorized, 401, "unauthorized"),
    (AccountSuspended, 403, "account-suspended"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not-found"),
    (Conflict, 409, "conflict"),
    (InvalidTransition, 409, "conflict"),
    (RateLimited, 429, "rate-limited"),
    (CarrierUnavailable, 503, "carrier-unavailable"),
    (MediaTooLarge, 413, "media-too-large"),
    (UnsupportedMedia, 415, "unsupported-media-type"),
    (ConversionUnavailable, 422, "conversion-unavailable"),
    (InvalidRequest, 422, "invalid-request"),
    (InvalidNumber, 422, "invalid-request"),
    (InvalidSender, 422, "invalid-request"),
)

_HTTP_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

_log = structlog.get_logger("tidings.api")

# The problems above as the OpenAPI document shows them (api/openapi.py).
PROBLEM_ERROR_SCHEMA = MappingProxyType(
    {
        "type": "object",
        "description": "One invalid field.",
        "properties": {
            "path": {"type": "string", "description": "the field, e.g. `to[2]`"},
            "location": {"type": "string", "description": "body, query, path or header"},
            "message": {"type": "string"},
            "type": {"type": "string", "description": "the kind of error"},
        },
        "required": ["message"],
    }
)

PROBLEM_SCHEMA = MappingProxyType(
    {
        "type": "object",
        "description": "An error, as RFC 9457 problem details.",
        "properties": {
            "type": {
                "type": "string",
                "description": "`urn:tidings:problem:<kind>`, or `about:blank`",
                "examples": ["urn:tidings:problem:invalid-request"],
            },
            "title": {"type": "string", "examples": ["Unprocessable Content"]},
            "status": {"type": "integer", "examples": [422]},
            "detail": {"type": "string", "examples": ["The request is not valid."]},
            "errors": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ProblemError"},
                "description": "each invalid field, when the request had some",
            },
            "messages": {
                "type": "array",
                "items": {"type": "object"},
                "description": "a send that accepted no recipient: each recipient with its "
                "`error` (code, reason, detail), as a 202 answer lists them",
            },
            "accepted": {"type": "integer", "description": "0, with `messages`"},
            "rejected": {"type": "integer", "description": "the recipients refused"},
        },
        "required": ["type", "title", "status", "detail"],
    }
)

NATIVE_ERRORS = ErrorShape(
    media_type=PROBLEM_JSON,
    schema_name="Problem",
    schema=PROBLEM_SCHEMA,
    validation_status=422,
    descriptions=MappingProxyType(
        {
            400: "The body does not parse as what the operation takes (JSON, or a form).",
            401: "Missing or invalid API credentials.",
            403: "The key may not do this: an operator's action, or a suspended account.",
            404: "No such resource in the acting account.",
            409: "The resource's state does not allow this: it exists already, is in use, "
            "or can no longer change.",
            422: "The request is not valid; `errors` lists each invalid field (a send that "
            "accepted no recipient: `messages` says why each was refused).",
            429: "Too many requests; retry after `Retry-After` seconds.",
        }
    ),
    headers=MappingProxyType(
        {
            401: {
                "WWW-Authenticate": {
                    "description": "the schemes accepted: Basic and Bearer",
                    "schema": {"type": "string"},
                }
            },
            429: {
                "Retry-After": {
                    "description": "seconds to wait",
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
        }
    ),
    extra_schemas=MappingProxyType({"ProblemError": PROBLEM_ERROR_SCHEMA}),
)


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    body: dict[str, object] = {
        "type": f"{_TYPE_PREFIX}{slug}" if slug else "about:blank",
        "title": _HTTP_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field_path(location: tuple[int | str, ...]) -> str:
    # ("body", "to", 3) → "to[3]"; the location (body/query/path/header) is reported apart.
    path = ""
    for item in location[1:]:
        path += f"[{item}]" if isinstance(item, int) else (f".{item}" if path else str(item))
    return path


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TidingsError)
    status, slug = next(
        ((status, slug) for cls, status, slug in _ERROR_STATUS if isinstance(error, cls)),
        (400, "bad-request"),
    )
    headers = None
    if isinstance(error, RateLimited):
        headers = {"Retry-After": str(error.retry_after)}
    if status == 401:
        headers = {"WWW-Authenticate": 'Basic realm="tidings", Bearer realm="tidings"'}
    extra: dict[str, object] = {}
    field = getattr(error, "field", None)
    if field:
        extra["errors"] = [{"path": field, "message": error.message}]
    return problem(status, error.message, slug=slug, headers=headers, **extra)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {
            "path": _field_path(tuple(item.get("loc", ()))),
            "location": str(item.get("loc", ("body",))[0]),
            "message": str(item.get("msg", "invalid")),
            "type": str(item.get("type", "value_error")),
        }
        for item in error.errors()
    ]
    return problem(422, "The request is not valid.", slug="invalid-request", errors=errors)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    headers = dict(error.headers) if error.headers else None
    return problem(error.status_code, str(error.detail), headers=headers)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    _log.error("unhandled error", path=request.url.path, exc_info=error)
    return problem(500, "An unexpected error occurred.", slug="internal")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TidingsError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
