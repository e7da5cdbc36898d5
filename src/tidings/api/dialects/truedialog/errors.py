"""TrueDialog's error answers, in one place for the dialect.

TrueDialog runs on ASP.NET Web API; its errors are that framework's ``{"Message": ...}``, with a
``ModelState`` of field → messages for invalid input, and its 401 text for refused credentials.
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
from tidings.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    TidingsError,
    Unauthorized,
)
from tidings.phone import InvalidNumber, InvalidSender

DENIED = "Authorization has been denied for this request."
INVALID = "The request is invalid."


class InvalidTargets(InvalidRequest):
    """Some targets are not valid and IgnoreInvalidTargets is false; nothing was sent."""

    def __init__(self, targets: dict[str, str]) -> None:
        super().__init__(field="Targets")
        self.targets = targets


def error_response(error: RequestValidationError | HTTPException | TidingsError) -> JSONResponse:
    if isinstance(error, RequestValidationError):
        state: dict[str, list[str]] = {}
        for item in error.errors():
            location = [str(part) for part in item.get("loc", ()) if part != "body"]
            state.setdefault(".".join(["request", *location]), []).append(str(item.get("msg")))
        return JSONResponse({"Message": INVALID, "ModelState": state}, status_code=400)
    if isinstance(error, HTTPException):
        # FastAPI's own refusals (a malformed Authorization header): TrueDialog's texts.
        if error.status_code == 401:
            error = Unauthorized()
        else:
            return JSONResponse({"Message": str(error.detail)}, status_code=error.status_code)
    if isinstance(error, Unauthorized):
        return JSONResponse(
            {"Message": DENIED},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="api.truedialog.com"'},
        )
    if isinstance(error, Forbidden):
        return JSONResponse({"Message": error.message}, status_code=403)
    if isinstance(error, NotFound):
        return JSONResponse({"Message": error.message}, status_code=404)
    if isinstance(error, Conflict):
        return JSONResponse({"Message": error.message}, status_code=409)
    if isinstance(error, RateLimited):
        return JSONResponse(
            {"Message": error.message},
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    if isinstance(error, InvalidTargets):
        state = {f"request.Targets[{target}]": [reason] for target, reason in error.targets.items()}
        return JSONResponse({"Message": error.message, "ModelState": state}, status_code=400)
    if isinstance(error, InvalidRequest):
        field = f"request.{error.field}" if error.field else "request"
        return JSONResponse(
            {"Message": INVALID, "ModelState": {field: [error.message]}}, status_code=400
        )
    if isinstance(error, InvalidNumber | InvalidSender):
        return JSONResponse({"Message": INVALID, "ModelState": {"request": [error.message]}}, 400)
    # ASP.NET's answer to an unhandled error: no details leave the server.
    return JSONResponse({"Message": "An error has occurred."}, status_code=500)


class TrueDialogRoute(APIRoute):
    """Every error of a TrueDialog route, validation and authentication included, in its shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except (RequestValidationError, HTTPException, TidingsError) as error:
                return error_response(error)

        return handle


# The answers above as the dialect's OpenAPI document shows them (api/openapi.py).
OPENAPI_ERROR = ErrorShape(
    media_type="application/json",
    schema_name="TrueDialogError",
    schema=MappingProxyType(
        {
            "type": "object",
            "description": "ASP.NET Web API's error: a message, and each invalid field's "
            "messages in ModelState.",
            "properties": {
                "Message": {"type": "string", "examples": [INVALID]},
                "ModelState": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["Message"],
        }
    ),
    validation_status=400,
    descriptions=MappingProxyType(
        {
            400: "The request is invalid; ModelState names each field.",
            401: DENIED,
            403: "The key may not do this.",
            404: "No such resource in the account.",
            409: "The resource's state does not allow this.",
            429: "Too many requests; retry after Retry-After seconds.",
        }
    ),
)
