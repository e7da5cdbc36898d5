"""The embedded IPP printer: takes print jobs (RFC 8011) and drops each letter in the mailbox
of the address it shows.

It serves IPP over HTTP like CUPS (``ipp://host:port/printers/<name>``): Print-Job, Create-Job
with Send-Document, Get-Job-Attributes, Cancel-Job and Get-Printer-Attributes. A job is
``pending``, then ``processing``, then ``completed`` as time passes (``pending_seconds``,
``processing_seconds``), unless it cannot be printed: a document that is no readable PDF is
``aborted`` (``document-format-error``), and so is one whose address nobody could read, since
the mail room would have nowhere to send it (``document-unprintable-error``).

The mail room reads the address the way a windowed envelope shows it: the text in the address
field of page 1 (DIN 5008 form B, :data:`tidings.documents.letter.ADDRESS_FIELD`; on a postcard
the address block on the back). Each finished letter goes into the mailbox of that address,
with its PDF, viewable at ``/v1/simulator/post``.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pypdfium2 as pdfium
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tidings.documents.letter import ADDRESS_FIELD, AddressField
from tidings.documents.postcard import ADDRESS_BLOCK
from tidings.http_server import EmbeddedHttpServer
from tidings.ipp.codec import AttributeGroup, Message, decode_message, encode_message
from tidings.ipp.constants import GroupTag, JobState, Operation, StatusCode, ValueTag
from tidings.ipp.errors import RemoteProtocolError

__all__ = ["PrintedJob", "PrinterConfig", "PrinterSimulator"]

SUPPORTED = {
    "media": ("iso_a4_210x297mm", "na_letter_8.5x11in", "iso_a6_105x148mm"),
    "sides": ("one-sided", "two-sided-long-edge", "two-sided-short-edge"),
    "print-color-mode": ("color", "monochrome"),
}
FORMATS = ("application/pdf", "application/octet-stream")


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    host: str = "127.0.0.1"
    port: int = 0
    name: str = "post"
    pending_seconds: float = 0.1
    processing_seconds: float = 0.2
    #: Jobs kept (the oldest finished ones are forgotten first).
    max_jobs: int = 1000


@dataclass(slots=True)
class PrintedJob:
    id: int
    name: str
    media: str
    sides: str
    print_color_mode: str
    priority: int
    created: float
    created_at: datetime
    pdf: bytes = b""
    pages: int = 0
    address: tuple[str, ...] = ()
    mailbox: str | None = None
    #: Set when the job cannot print, or was cancelled: the state it ended in, and why.
    ended: tuple[JobState, str] | None = None
    document_received: bool = False
    ignored: list[str] = field(default_factory=list)

    def state(self, now: float, config: PrinterConfig) -> tuple[JobState, str]:
        if self.ended is not None:
            return self.ended
        if not self.document_received or now < self.created + config.pending_seconds:
            return JobState.PENDING, "none"
        if now < self.created + config.pending_seconds + config.processing_seconds:
            return JobState.PROCESSING, "job-printing"
        return JobState.COMPLETED, "job-completed-successfully"

    def as_json(self, now: float, config: PrinterConfig) -> dict[str, Any]:
        state, reason = self.state(now, config)
        return {
            "job_id": self.id,
            "job_name": self.name,
            "state": state.keyword,
            "reason": reason,
            "pages": self.pages,
            "media": self.media,
            "sides": self.sides,
            "print_color_mode": self.print_color_mode,
            "job_priority": self.priority,
            "address": list(self.address),
            "mailbox": self.mailbox,
            "created_at": self.created_at.isoformat(),
        }


def _slug(lines: Sequence[str]) -> str:
    text = "-".join(lines).lower()
    return re.sub(r"[^0-9a-zà-ɏ]+", "-", text).strip("-")[:120]


def read_address(pdf: bytes) -> tuple[int, tuple[str, ...]]:
    """(page count, the recipient's lines as the envelope window or card shows them)."""
    document = pdfium.PdfDocument(pdf)
    try:
        pages = len(document)
        page = document[pages - 1] if pages == 2 and _is_card(document[0]) else document[0]
        width, height = page.get_size()
        area: AddressField = ADDRESS_BLOCK if width > height else ADDRESS_FIELD
        text_page = page.get_textpage()
        text = text_page.get_text_bounded(
            left=area.left,
            bottom=height - area.top - area.height,
            right=area.left + area.width,
            top=height - area.top - area.return_zone,
        )
    finally:
        document.close()
    lines = tuple(line.strip() for line in text.splitlines() if line.strip())
    return pages, lines


def _is_card(page: pdfium.PdfPage) -> bool:
    width, height = page.get_size()
    return bool(width > height and width < 500)


class PrinterSimulator:
    """See the module docstring."""

    def __init__(self, config: PrinterConfig | None = None) -> None:
        self.config = config or PrinterConfig()
        self._jobs: dict[int, PrintedJob] = {}
        self._ids = itertools.count(1)
        self._server: EmbeddedHttpServer | None = None
        self.app = Starlette(routes=[Route("/printers/{name}", self._endpoint, methods=["POST"])])

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the printer is not running")
        return self._server.port

    @property
    def uri(self) -> str:
        return f"ipp://{self.config.host}:{self.port}/printers/{self.config.name}"

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        self._server = await EmbeddedHttpServer.start(
            self.app, self.config.host, self.config.port, lifespan="off"
        )

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def __aenter__(self) -> PrinterSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- mailboxes ------------------------------------------------------------------------------

    def jobs(self) -> list[PrintedJob]:
        return list(self._jobs.values())

    def job(self, job_id: int) -> PrintedJob | None:
        return self._jobs.get(job_id)

    def mailboxes(self) -> dict[str, list[PrintedJob]]:
        now = time.monotonic()
        boxes: dict[str, list[PrintedJob]] = {}
        for job in self._jobs.values():
            if job.mailbox and job.state(now, self.config)[0] is JobState.COMPLETED:
                boxes.setdefault(job.mailbox, []).append(job)
        return boxes

    def mailbox(self, key: str) -> list[PrintedJob]:
        return self.mailboxes().get(key, [])

    def status(self) -> dict[str, Any]:
        return {"ipp_uri": self.uri if self.running else None, "jobs": len(self._jobs)}

    # -- IPP ------------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        if request.path_params["name"] != self.config.name:
            body = await request.body()
            request_id = int.from_bytes(body[4:8], "big") if len(body) >= 8 else 0
            return _ipp(_answer(request_id, StatusCode.CLIENT_ERROR_NOT_FOUND, "no such printer"))
        if not request.headers.get("content-type", "").startswith("application/ipp"):
            return Response("IPP requests are application/ipp", status_code=400)
        return _ipp(self.handle(await request.body(), time.monotonic()))

    def handle(self, body: bytes, now: float) -> Message:
        """The answer to one IPP request; a request that cannot be read gets a bad-request."""
        try:
            request = decode_message(body)
        except RemoteProtocolError as error:
            request_id = int.from_bytes(body[4:8], "big") if len(body) >= 8 else 0
            return _answer(request_id, error.status, error.message)
        if request.version[0] not in (1, 2):
            return _answer(
                request.request_id, StatusCode.SERVER_ERROR_VERSION_NOT_SUPPORTED, "IPP/1.1 or 2.x"
            )
        operation = request.group(GroupTag.OPERATION)
        if (
            operation is None
            or not operation.attributes
            or operation.attributes[0].name != ("attributes-charset")
        ):
            return _answer(
                request.request_id,
                StatusCode.CLIENT_ERROR_BAD_REQUEST,
                "the operation attributes start with attributes-charset (RFC 8011 §4.1.4)",
            )
        handlers = {
            Operation.PRINT_JOB: self._print_job,
            Operation.CREATE_JOB: self._create_job,
            Operation.SEND_DOCUMENT: self._send_document,
            Operation.GET_JOB_ATTRIBUTES: self._get_job_attributes,
            Operation.CANCEL_JOB: self._cancel_job,
            Operation.GET_PRINTER_ATTRIBUTES: self._get_printer_attributes,
        }
        handler = handlers.get(request.code)  # type: ignore[call-overload]
        if handler is None:
            return _answer(
                request.request_id,
                StatusCode.SERVER_ERROR_OPERATION_NOT_SUPPORTED,
                f"operation 0x{request.code:04x} is not supported",
            )
        answer: Message = handler(request, operation, now)
        return answer

    def _new_job(self, request: Message, operation: AttributeGroup, now: float) -> PrintedJob:
        template = request.group(GroupTag.JOB) or AttributeGroup(GroupTag.JOB)

        def keyword(name: str, default: str) -> str:
            attribute = template.get(name)
            return str(attribute.value) if attribute and attribute.value else default

        priority = template.get("job-priority")
        name = operation.get("job-name")
        job = PrintedJob(
            id=next(self._ids),
            name=str(name.value) if name and name.value else "untitled",
            media=keyword("media", "iso_a4_210x297mm"),
            sides=keyword("sides", "one-sided"),
            print_color_mode=keyword("print-color-mode", "color"),
            priority=int(priority.value) if priority and isinstance(priority.value, int) else 50,
            created=now,
            created_at=datetime.now(UTC),
        )
        for attribute, supported in SUPPORTED.items():
            if keyword(attribute, supported[0]) not in supported:
                job.ignored.append(attribute)
        self._keep(job)
        return job

    def _keep(self, job: PrintedJob) -> None:
        self._jobs[job.id] = job
        while len(self._jobs) > self.config.max_jobs:
            del self._jobs[next(iter(self._jobs))]

    def take_drop(self, name: str, pdf: bytes, ticket: Mapping[str, Any]) -> PrintedJob:
        """A letter a print-and-mail house collected from its SFTP drop (``print_house``),
        printed as a job of this printer with the manifest's ``ticket`` (media, sides, colour,
        priority), and filed by the mail room like any other."""
        now = time.monotonic()
        job = PrintedJob(
            id=next(self._ids),
            name=name,
            media=str(ticket.get("media") or "iso_a4_210x297mm"),
            sides=str(ticket.get("sides") or "one-sided"),
            print_color_mode="color" if ticket.get("colour") else "monochrome",
            priority=100 if ticket.get("priority") else 50,
            created=now,
            created_at=datetime.now(UTC),
        )
        self._keep(job)
        self._read_document(job, pdf, now)
        return job

    def _take_document(
        self, job: PrintedJob, operation: AttributeGroup, data: bytes, now: float
    ) -> None:
        document_format = operation.get("document-format")
        if document_format and document_format.value not in FORMATS:
            job.pdf = data
            job.document_received = True
            job.created = now
            job.ended = (JobState.ABORTED, "unsupported-document-format")
            return
        self._read_document(job, data, now)

    def _read_document(self, job: PrintedJob, data: bytes, now: float) -> None:
        job.pdf = data
        job.document_received = True
        job.created = now
        try:
            job.pages, job.address = read_address(data)
        except pdfium.PdfiumError:
            job.ended = (JobState.ABORTED, "document-format-error")
            return
        if not job.address:
            job.ended = (JobState.ABORTED, "document-unprintable-error")
            return
        job.mailbox = _slug(job.address)

    def _accepted(self, request: Message, job: PrintedJob, now: float) -> Message:
        status = (
            StatusCode.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED
            if job.ignored
            else StatusCode.SUCCESSFUL_OK
        )
        answer = _answer(request.request_id, status)
        if job.ignored:
            unsupported = AttributeGroup(GroupTag.UNSUPPORTED)
            for name in job.ignored:
                unsupported.add(name, ValueTag.UNSUPPORTED, None)
            answer.groups.append(unsupported)
        answer.groups.append(self._job_group(job, now))
        return answer

    def _job_group(self, job: PrintedJob, now: float) -> AttributeGroup:
        state, reason = job.state(now, self.config)
        group = AttributeGroup(GroupTag.JOB)
        group.add("job-id", ValueTag.INTEGER, job.id)
        group.add("job-uri", ValueTag.URI, f"ipp://{self.config.host}/jobs/{job.id}")
        group.add("job-name", ValueTag.NAME, job.name)
        group.add("job-state", ValueTag.ENUM, int(state))
        group.add("job-state-reasons", ValueTag.KEYWORD, reason)
        if state is JobState.COMPLETED:
            group.add("job-impressions-completed", ValueTag.INTEGER, job.pages)
            sheets = (job.pages + 1) // 2 if job.sides != "one-sided" else job.pages
            group.add("job-media-sheets-completed", ValueTag.INTEGER, sheets)
        return group

    def _print_job(self, request: Message, operation: AttributeGroup, now: float) -> Message:
        job = self._new_job(request, operation, now)
        self._take_document(job, operation, request.data, now)
        return self._accepted(request, job, now)

    def _create_job(self, request: Message, operation: AttributeGroup, now: float) -> Message:
        return self._accepted(request, self._new_job(request, operation, now), now)

    def _find(self, request: Message, operation: AttributeGroup) -> PrintedJob | Message:
        job_id = operation.get("job-id")
        job = self._jobs.get(job_id.value) if job_id and isinstance(job_id.value, int) else None
        if job is None:
            return _answer(request.request_id, StatusCode.CLIENT_ERROR_NOT_FOUND, "no such job")
        return job

    def _send_document(self, request: Message, operation: AttributeGroup, now: float) -> Message:
        job = self._find(request, operation)
        if isinstance(job, Message):
            return job
        if job.document_received:
            return _answer(
                request.request_id, StatusCode.CLIENT_ERROR_NOT_POSSIBLE, "the job has its document"
            )
        self._take_document(job, operation, request.data, now)
        return self._accepted(request, job, now)

    def _get_job_attributes(
        self, request: Message, operation: AttributeGroup, now: float
    ) -> Message:
        job = self._find(request, operation)
        if isinstance(job, Message):
            return job
        answer = _answer(request.request_id, StatusCode.SUCCESSFUL_OK)
        answer.groups.append(self._job_group(job, now))
        return answer

    def _cancel_job(self, request: Message, operation: AttributeGroup, now: float) -> Message:
        job = self._find(request, operation)
        if isinstance(job, Message):
            return job
        if job.state(now, self.config)[0].final:
            return _answer(request.request_id, StatusCode.CLIENT_ERROR_NOT_POSSIBLE, "job is done")
        job.ended = (JobState.CANCELED, "job-canceled-by-user")
        return _answer(request.request_id, StatusCode.SUCCESSFUL_OK)

    def _get_printer_attributes(
        self, request: Message, operation: AttributeGroup, now: float
    ) -> Message:
        answer = _answer(request.request_id, StatusCode.SUCCESSFUL_OK)
        printer = AttributeGroup(GroupTag.PRINTER)
        printer.add("printer-name", ValueTag.NAME, self.config.name)
        printer.add("printer-state", ValueTag.ENUM, 3)
        printer.add("printer-is-accepting-jobs", ValueTag.BOOLEAN, True)
        printer.add("operations-supported", ValueTag.ENUM, *[int(o) for o in Operation])
        printer.add("document-format-supported", ValueTag.MIME_MEDIA_TYPE, *FORMATS)
        for attribute, supported in SUPPORTED.items():
            printer.add(f"{attribute}-supported", ValueTag.KEYWORD, *supported)
        answer.groups.append(printer)
        return answer


def _answer(request_id: int, status: int, message: str | None = None) -> Message:
    operation = AttributeGroup(GroupTag.OPERATION)
    operation.add("attributes-charset", ValueTag.CHARSET, "utf-8")
    operation.add("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en")
    if message:
        operation.add("status-message", ValueTag.TEXT, message[:255])
    return Message((1, 1), status, request_id, [operation])


def _ipp(message: Message) -> Response:
    return Response(encode_message(message), media_type="application/ipp")
