"""SmartDialog's error answers, in one place.

SmartDialog is an ASP.NET service behind Azure API Management; its errors are ASP.NET Core
problem details (``{type, title, status, detail, errors: {Field: [messages]}}``), which the
connector's flows show as they are. Every domain error of the dialect is answered here.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from types import MappingProxyType
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from tidings.api.error_docs import ErrorShape
from tidings.core.oauth import MissingScope
from tidings.core.templates import NoWhatsAppChannel
from tidings.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    TidingsError,
    Unauthorized,
)

_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    501: "https://tools.ietf.org/html/rfc9110#section-15.6.2",
}
_TITLES = {
    400: "One or more validation errors occurred.",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    501: "Not Implemented",
}


def error_response(
    status: int,
    detail: str,
    *,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": _TYPES.get(status, _TYPES[400]),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer error="invalid_token"'}
    return JSONResponse(body, status_code=status, headers=headers)


def _status_of(error: TidingsError) -> int:
    match error:
        case Unauthorized():
            return 401
        case MissingScope() | Forbidden():
            return 403
        case NotFound():
            return 404
        case Conflict():
            return 409
        case RateLimited():
            return 429
        case InvalidRequest() | NoWhatsAppChannel():
            return 400
    return 400


def from_domain(error: TidingsError) -> JSONResponse:
    status = _status_of(error)
    field = getattr(error, "field", None)
    errors = {field: [error.message]} if field and status == 400 else None
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else None
    if isinstance(error, MissingScope):
        headers = {"WWW-Authenticate": 'Bearer error="insufficient_scope"'}
    return error_response(status, error.message, errors=errors, headers=headers)


def from_validation(error: RequestValidationError) -> JSONResponse:
    errors: dict[str, list[str]] = {}
    for entry in error.errors():
        location = [str(part) for part in entry.get("loc", ()) if part not in ("body",)]
        name = ".".join(
            location[1:] if location[:1] in (["header"], ["path"], ["query"]) else location
        )
        errors.setdefault(name or "body", []).append(str(entry.get("msg", "invalid")))
    return error_response(400, "The request is not valid.", errors=errors)


class SmartDialogRoute(APIRoute):
    """Routes whose errors, of any kind, are answered in SmartDialog's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                return from_validation(error)
            except TidingsError as error:
                return from_domain(error)
            except HTTPException as error:  # a body that does not parse, say
                headers = dict(error.headers) if error.headers else None
                return error_response(error.status_code, str(error.detail), headers=headers)

        return answer


# The answers above as the dialect's OpenAPI document shows them (api/openapi.py).
OPENAPI_ERROR = ErrorShape(
    media_type="application/json",
    schema_name="SmartDialogProblem",
    schema=MappingProxyType(
        {
            "type": "object",
            "description": "ASP.NET Core problem details, with each invalid field's messages.",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string", "examples": [_TITLES[400]]},
                "status": {"type": "integer", "examples": [400]},
                "detail": {"type": "string"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["type", "title", "status"],
        }
    ),
    validation_status=400,
    descriptions=MappingProxyType(
        {
            400: _TITLES[400],
            401: "The access token is missing, invalid or expired.",
            403: "The token lacks a scope, or the key may not do this.",
            404: "No such resource in the account.",
            409: "The resource's state does not allow this.",
            429: "Too many requests; retry after Retry-After seconds.",
        }
    ),
)
