"""Requests of the hottest routes answered before FastAPI's middleware stack and router.

A one-recipient ``POST /v1/messages`` spent about a seventh of its CPU passing through
Starlette's and FastAPI's middlewares (server errors, exceptions, exit stacks, the body size
limit), the router's matching and the response's trip back out through them. A *shortcut* is a
handler for one method and path that the app calls straight from its ASGI entry instead, with
the request's body already read. It returns None for any request it does not answer itself,
and that request then goes the whole way through FastAPI with the same body, as if nothing
had looked at it. What the skipped layers do for a request the shortcut does answer is done
here: the body size limit (by ``Content-Length``; a body without one takes the whole way), and
the mapping of exceptions to answers by the app's own exception handlers (problem+json).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.types import Message, Receive, Scope, Send

Shortcut = Callable[[Request, bytes], Awaitable[Response | None]]


class ShortcutApp(FastAPI):
    """FastAPI with shortcuts for some ``(method, path)`` pairs (see the module docstring).

    A request takes a shortcut only when it has no query string, a ``Content-Length`` within
    ``max_body_bytes``, and no dependency overrides are installed (tests that override
    dependencies get FastAPI's path, which honours them). Middlewares added to the app do not
    see the requests a shortcut answers.
    """

    def __init__(self, *, max_body_bytes: int, **options: Any) -> None:
        super().__init__(**options)
        self._max_body_bytes = max_body_bytes
        self._shortcuts: dict[tuple[str, str], Shortcut] = {}

    def add_shortcut(self, method: str, path: str, handler: Shortcut) -> None:
        self._shortcuts[(method, path)] = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("query_string"):
            handler = self._shortcuts.get((scope["method"], scope["path"]))
            if handler is not None and not self.dependency_overrides and not self.root_path:
                await self._shortcut(handler, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _shortcut(
        self, handler: Shortcut, scope: Scope, receive: Receive, send: Send
    ) -> None:
        declared = _content_length(scope)
        if declared is None or declared > self._max_body_bytes:
            # Chunked or too large: the body size limit middleware answers it as it reads.
            await super().__call__(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body arrived: nobody to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replay = _replaying(body, receive)
        scope["app"] = self
        request = Request(scope, replay)
        try:
            response = await handler(request, body)
        except Exception as error:
            response = await self._answer_for(request, error)
        if response is None:
            await super().__call__(scope, replay, send)
            return
        await response(scope, replay, send)

    async def _answer_for(self, request: Request, error: Exception) -> Response:
        """The answer the app's exception handlers give for ``error``, as FastAPI's stack would
        give it; an error no handler takes is raised for the server to log and answer 500."""
        for kind in type(error).__mro__:
            handler = self.exception_handlers.get(kind)
            if handler is not None:
                answer = handler(request, error)
                if isinstance(answer, Awaitable):
                    answer = await answer
                if not isinstance(answer, Response):
                    raise TypeError(f"exception handler for {kind.__name__} gave no Response")
                return answer
        raise error


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that gives ``body`` once more, then whatever the client sends next."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
