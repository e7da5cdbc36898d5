"""IPP over HTTP (RFC 8010 §4: a POST of ``application/ipp``), around :class:`IppClient`.

``ipp://host[:631]/path`` is ``http://host:631/path``; ``ipps://`` the same over TLS
(RFC 7472). The sans-IO client builds and reads the messages; this module only carries them.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import httpx

from tidings.errors import TidingsError
from tidings.ipp.client import IppClient, JobAccepted, JobStatus, JobTicket, Request, RequestRefused
from tidings.ipp.errors import RemoteProtocolError

__all__ = ["IppPrinter", "PrinterUnreachable", "http_url"]

IPP_PORT = 631


class PrinterUnreachable(TidingsError):
    """The printer did not answer, or answered something other than IPP."""


def http_url(printer_uri: str) -> str:
    parts = urlsplit(printer_uri)
    schemes = {"ipp": "http", "ipps": "https", "http": "http", "https": "https"}
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"{printer_uri!r} is not an ipp:// or ipps:// printer URI")
    port = parts.port or IPP_PORT
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return urlunsplit((schemes[parts.scheme], f"{host}:{port}", parts.path or "/", "", ""))


class IppPrinter:
    """One printer's IPP endpoint, over a shared :class:`httpx.AsyncClient`."""

    def __init__(
        self,
        printer_uri: str,
        http: httpx.AsyncClient,
        *,
        user: str = "tidings",
        auth: httpx.Auth | None = None,
    ) -> None:
        self.client = IppClient(printer_uri, user=user)
        self.url = http_url(printer_uri)
        self._http = http
        self._auth = auth

    async def _call(self, request: Request) -> JobAccepted | JobStatus | RequestRefused:
        try:
            response = await self._http.post(
                self.url,
                content=request.body,
                headers={"Content-Type": "application/ipp"},
                auth=self._auth or httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as error:
            self.client.forget(request.request_id)
            raise PrinterUnreachable(f"{self.url}: {type(error).__name__}: {error}") from error
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith(
            "application/ipp"
        ):
            self.client.forget(request.request_id)
            raise PrinterUnreachable(
                f"{self.url} answered HTTP {response.status_code} "
                f"({response.headers.get('content-type', 'no content type')})"
            )
        try:
            return self.client.receive(response.content)
        except RemoteProtocolError as error:
            self.client.forget(request.request_id)
            raise PrinterUnreachable(f"{self.url} answered unreadable IPP: {error}") from error

    async def print_job(
        self, ticket: JobTicket, document: bytes
    ) -> JobAccepted | JobStatus | RequestRefused:
        return await self._call(self.client.print_job(ticket, document))

    async def create_and_send(
        self, ticket: JobTicket, document: bytes
    ) -> JobAccepted | JobStatus | RequestRefused:
        """Create-Job, then Send-Document: for printers that take no Print-Job."""
        created = await self._call(self.client.create_job(ticket))
        if not isinstance(created, JobAccepted):
            return created
        sent = await self._call(self.client.send_document(created.job_id, ticket, document))
        if isinstance(sent, JobAccepted) and sent.job_id == 0:
            return created
        return sent

    async def job_status(self, job_id: int) -> JobAccepted | JobStatus | RequestRefused:
        return await self._call(self.client.get_job_attributes(job_id))

    async def cancel_job(self, job_id: int) -> JobAccepted | JobStatus | RequestRefused:
        """Cancel-Job: the job ends ``canceled`` unless it is done already (then refused)."""
        return await self._call(self.client.cancel_job(job_id))
