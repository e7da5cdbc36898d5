"""MM7 over HTTP: the asyncio side of ``tidings.mm7``.

:class:`Mm7Peer` sends requests to the other side's MM7 URL and reads the answers (tidings as
the VASP sends SubmitReq to the MMSC; the simulated MMSC sends DeliverReq and
DeliveryReportReq to tidings). :func:`answer_request` serves the receiving half for any ASGI
route: bytes in, an answer out, a fault for anything it cannot take.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from tidings.mm7 import mime
from tidings.mm7.endpoint import Endpoint, HttpMessage, Role
from tidings.mm7.errors import ProtocolError, RemoteProtocolError
from tidings.mm7.messages import Request, Response

# "" is what TS 23.140 §8.4.2 and SOAP 1.1 examples send; some relays want any value.
_SOAP_ACTION = '""'


class Mm7Unreachable(Exception):
    """The other side did not answer (connection refused, timeout, HTTP layer failure)."""


@dataclass(frozen=True, slots=True)
class BasicAuth:
    username: str
    password: str


class Mm7Peer:
    """One MM7 side talking to the other over HTTP (keep-alive connections, one client)."""

    def __init__(
        self,
        role: Role,
        url: str,
        *,
        auth: BasicAuth | None = None,
        timeout: float = 30.0,
        limits: mime.Limits | None = None,
        max_connections: int = 10,
    ) -> None:
        self.url = url
        self.endpoint = Endpoint(role, limits=limits or mime.Limits(), response_timeout=timeout)
        self._client = httpx.AsyncClient(
            timeout=timeout,
            auth=httpx.BasicAuth(auth.username, auth.password) if auth else None,
            limits=httpx.Limits(max_connections=max_connections),
            follow_redirects=False,
        )

    async def send(self, request: Request) -> Response:
        """Send ``request`` and return its answer: the response, or a Fault (an HTTP refusal
        is one too). Raises :class:`Mm7Unreachable` when no answer came, and
        :class:`RemoteProtocolError` when the answer cannot be read."""
        outgoing = self.endpoint.send_request(request, time.monotonic())
        try:
            answer = await self._client.post(
                self.url,
                content=outgoing.http.body,
                headers={"Content-Type": outgoing.http.content_type, "SOAPAction": _SOAP_ACTION},
            )
        except httpx.HTTPError as error:
            self.endpoint.forget(outgoing.transaction_id)
            raise Mm7Unreachable(f"{type(error).__name__}: {error}") from None
        return self.endpoint.receive_response(
            outgoing.transaction_id,
            answer.status_code,
            answer.headers.get("content-type", ""),
            answer.content,
        )

    async def close(self) -> None:
        await self._client.aclose()


Handler = Callable[[Request], Awaitable[Response]]


async def answer_request(
    endpoint: Endpoint, content_type: str, body: bytes, handle: Handler
) -> HttpMessage:
    """Read one MM7 request, let ``handle`` decide, and return the HTTP answer. A request that
    cannot be read, or that ``handle`` refuses with a :class:`ProtocolError`, is answered with
    the fault that error carries."""
    try:
        transaction_id, request = endpoint.receive_request(content_type, body)
    except RemoteProtocolError as error:
        return endpoint.error_answer(error)
    try:
        response = await handle(request)
    except ProtocolError as error:
        error.transaction_id = error.transaction_id or transaction_id
        return endpoint.error_answer(error)
    return endpoint.answer(transaction_id, request, response)
