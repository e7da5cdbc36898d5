"""An IPP client for print jobs, sans-IO (RFC 8011 §4.2: Print-Job, Create-Job, Send-Document,
Get-Job-Attributes, Cancel-Job).

:class:`IppClient` builds each request's bytes and remembers what it asked under which
request-id; :meth:`IppClient.receive` reads the answer into one event: :class:`JobAccepted`,
:class:`JobStatus` or :class:`RequestRefused`. An answer that cannot be read, or that answers
nothing asked, raises :class:`RemoteProtocolError`; nothing else escapes. Which job to ask
about next, and when, is :class:`JobWatch`: deadlines, not timers.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tidings.ipp.codec import AttributeGroup, Message, decode_message, encode_message
from tidings.ipp.constants import (
    GroupTag,
    JobState,
    Operation,
    StatusCode,
    ValueTag,
    is_successful,
    status_name,
)
from tidings.ipp.errors import RemoteProtocolError

__all__ = [
    "IppClient",
    "JobAccepted",
    "JobStatus",
    "JobTicket",
    "JobWatch",
    "Request",
    "RequestRefused",
]

# IPP/1.1: what every printer and print server since 2000 reads (CUPS, IPP Everywhere
# printers answer 2.0 requests too, but nothing here needs 2.0).
VERSION = (1, 1)
# What Get-Job-Attributes asks for (RFC 8011 §5.3).
JOB_ATTRIBUTES = (
    "job-id",
    "job-state",
    "job-state-reasons",
    "job-state-message",
    "job-impressions-completed",
    "job-media-sheets-completed",
)
# Refusals worth trying again later: the printer is there but cannot take the job now.
_TEMPORARY = frozenset(
    {
        StatusCode.CLIENT_ERROR_TIMEOUT,
        StatusCode.SERVER_ERROR_SERVICE_UNAVAILABLE,
        StatusCode.SERVER_ERROR_DEVICE_ERROR,
        StatusCode.SERVER_ERROR_TEMPORARY_ERROR,
        StatusCode.SERVER_ERROR_NOT_ACCEPTING_JOBS,
        StatusCode.SERVER_ERROR_BUSY,
    }
)


@dataclass(frozen=True, slots=True)
class JobTicket:
    """A job's name and its Job Template attributes (RFC 8011 §5.2)."""

    job_name: str
    media: str
    sides: str
    print_color_mode: str
    job_priority: int = 50
    copies: int = 1
    document_format: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class Request:
    request_id: int
    operation: Operation
    body: bytes


@dataclass(frozen=True, slots=True)
class JobAccepted:
    """Print-Job or Create-Job made a job (Send-Document answers the same way)."""

    request_id: int
    job_id: int
    job_uri: str | None
    state: JobState | None
    #: Attributes the printer ignored or substituted (successful-ok-ignored-or-substituted).
    ignored: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class JobStatus:
    """What Get-Job-Attributes says of a job."""

    request_id: int
    job_id: int
    state: JobState
    reasons: tuple[str, ...]
    message: str | None
    impressions: int | None
    sheets: int | None


@dataclass(frozen=True, slots=True)
class RequestRefused:
    request_id: int
    operation: Operation
    status: int
    message: str | None

    @property
    def temporary(self) -> bool:
        return self.status in _TEMPORARY

    def describe(self) -> str:
        text = status_name(self.status)
        return f"{text}: {self.message}" if self.message else text


Event = JobAccepted | JobStatus | RequestRefused


class IppClient:
    """Requests to one printer (``printer_uri``, ipp:// or ipps://) and what their answers mean."""

    def __init__(self, printer_uri: str, *, user: str = "tidings") -> None:
        self.printer_uri = printer_uri
        self.user = user
        self._ids = itertools.count(1)
        self._asked: dict[int, Operation] = {}

    @property
    def outstanding(self) -> int:
        return len(self._asked)

    def _request(
        self,
        operation: Operation,
        operation_attributes: AttributeGroup,
        job: AttributeGroup | None = None,
        data: bytes = b"",
    ) -> Request:
        # request-id runs 1 to 2**31 - 1 (RFC 8010 §3.4.4).
        request_id = (next(self._ids) - 1) % 0x7FFFFFFF + 1
        groups = [operation_attributes] + ([job] if job and job.attributes else [])
        body = encode_message(Message(VERSION, operation, request_id, groups, data))
        self._asked[request_id] = operation
        return Request(request_id, operation, body)

    def _operation_group(self, *, job_id: int | None = None) -> AttributeGroup:
        # RFC 8011 §4.1.4: charset and natural language first, then the target.
        group = AttributeGroup(GroupTag.OPERATION)
        group.add("attributes-charset", ValueTag.CHARSET, "utf-8")
        group.add("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en")
        group.add("printer-uri", ValueTag.URI, self.printer_uri)
        if job_id is not None:
            group.add("job-id", ValueTag.INTEGER, job_id)
        group.add("requesting-user-name", ValueTag.NAME, self.user)
        return group

    def _job_group(self, ticket: JobTicket) -> AttributeGroup:
        group = AttributeGroup(GroupTag.JOB)
        group.add("media", ValueTag.KEYWORD, ticket.media)
        group.add("sides", ValueTag.KEYWORD, ticket.sides)
        group.add("print-color-mode", ValueTag.KEYWORD, ticket.print_color_mode)
        group.add("job-priority", ValueTag.INTEGER, ticket.job_priority)
        group.add("copies", ValueTag.INTEGER, ticket.copies)
        return group

    def print_job(self, ticket: JobTicket, document: bytes) -> Request:
        """Print-Job (§4.2.1): the job and its one document in one request."""
        group = self._operation_group()
        group.add("job-name", ValueTag.NAME, ticket.job_name)
        group.add("document-format", ValueTag.MIME_MEDIA_TYPE, ticket.document_format)
        return self._request(Operation.PRINT_JOB, group, self._job_group(ticket), document)

    def create_job(self, ticket: JobTicket) -> Request:
        """Create-Job (§4.2.4): a job without its document, for :meth:`send_document`."""
        group = self._operation_group()
        group.add("job-name", ValueTag.NAME, ticket.job_name)
        return self._request(Operation.CREATE_JOB, group, self._job_group(ticket))

    def send_document(self, job_id: int, ticket: JobTicket, document: bytes) -> Request:
        """Send-Document (§4.3.1), the job's last (and only) document."""
        group = self._operation_group(job_id=job_id)
        group.add("document-name", ValueTag.NAME, ticket.job_name)
        group.add("document-format", ValueTag.MIME_MEDIA_TYPE, ticket.document_format)
        group.add("last-document", ValueTag.BOOLEAN, True)
        return self._request(Operation.SEND_DOCUMENT, group, None, document)

    def get_job_attributes(self, job_id: int) -> Request:
        """Get-Job-Attributes (§4.3.4) for the job's state."""
        group = self._operation_group(job_id=job_id)
        group.add("requested-attributes", ValueTag.KEYWORD, *JOB_ATTRIBUTES)
        return self._request(Operation.GET_JOB_ATTRIBUTES, group)

    def cancel_job(self, job_id: int) -> Request:
        return self._request(Operation.CANCEL_JOB, self._operation_group(job_id=job_id))

    def forget(self, request_id: int) -> None:
        """The request will get no answer (the connection failed): stop expecting one."""
        self._asked.pop(request_id, None)

    def receive(self, body: bytes) -> Event:
        """The event an answer means; :class:`RemoteProtocolError` if it cannot be read."""
        message = decode_message(body)
        operation = self._asked.pop(message.request_id, None)
        if operation is None:
            raise RemoteProtocolError(f"an answer to request {message.request_id}, never asked")
        status = message.code
        operation_group = message.group(GroupTag.OPERATION)
        status_message = _text(operation_group, "status-message") if operation_group else None
        if not is_successful(status):
            return RequestRefused(message.request_id, operation, status, status_message)
        job = message.group(GroupTag.JOB)
        if operation in (Operation.PRINT_JOB, Operation.CREATE_JOB, Operation.SEND_DOCUMENT):
            job_id = _integer(job, "job-id")
            if job_id is None:
                raise RemoteProtocolError(f"the {operation.name} answer has no job-id")
            unsupported = message.group(GroupTag.UNSUPPORTED)
            ignored = tuple(a.name for a in unsupported.attributes) if unsupported else ()
            state = _state(job)
            return JobAccepted(message.request_id, job_id, _text(job, "job-uri"), state, ignored)
        if operation == Operation.GET_JOB_ATTRIBUTES:
            job_id = _integer(job, "job-id")
            state = _state(job)
            if job_id is None or state is None:
                raise RemoteProtocolError("the job's attributes have no job-id or job-state")
            reasons = job.get("job-state-reasons") if job else None
            return JobStatus(
                message.request_id,
                job_id,
                state,
                tuple(str(v) for v in reasons.values if isinstance(v, str)) if reasons else (),
                _text(job, "job-state-message"),
                _integer(job, "job-impressions-completed"),
                _integer(job, "job-media-sheets-completed"),
            )
        # Cancel-Job and the rest: success says it all.
        return JobAccepted(message.request_id, 0, None, None, ())


def _integer(group: AttributeGroup | None, name: str) -> int | None:
    attribute = group.get(name) if group else None
    value = attribute.value if attribute else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(group: AttributeGroup | None, name: str) -> str | None:
    attribute = group.get(name) if group else None
    value = attribute.value if attribute else None
    if isinstance(value, str):
        return value
    text = getattr(value, "text", None)
    return text if isinstance(text, str) else None


def _state(group: AttributeGroup | None) -> JobState | None:
    value = _integer(group, "job-state")
    if value is None:
        return None
    try:
        return JobState(value)
    except ValueError as error:
        raise RemoteProtocolError(f"job-state {value} is not a job state") from error


# How long to wait before asking again about a job in each state, in seconds: a job waiting
# in the queue changes slowly, one being printed soon.
POLL_AFTER: Mapping[JobState, float] = MappingProxyType(
    {
        JobState.PENDING: 5.0,
        JobState.PENDING_HELD: 30.0,
        JobState.PROCESSING: 2.0,
        JobState.PROCESSING_STOPPED: 30.0,
    }
)


class JobWatch:
    """Jobs whose final state is not known yet, each with the time to ask about it next.

    The caller passes the clock in (``now``, in seconds of any monotonic clock) and sleeps
    until :meth:`next_deadline`.
    """

    def __init__(self, *, first_poll: float = 1.0) -> None:
        self._due: dict[int, float] = {}
        self._first_poll = first_poll

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, job_id: int) -> bool:
        return job_id in self._due

    def watch(self, job_id: int, now: float) -> None:
        self._due[job_id] = now + self._first_poll

    def forget(self, job_id: int) -> None:
        self._due.pop(job_id, None)

    def seen(self, job_id: int, state: JobState, now: float) -> None:
        """The job was seen in ``state``: forget it when final, else ask again later."""
        if state.final:
            self._due.pop(job_id, None)
        elif job_id in self._due:
            self._due[job_id] = now + POLL_AFTER[state]

    def retry_later(self, job_id: int, now: float, delay: float) -> None:
        if job_id in self._due:
            self._due[job_id] = now + delay

    def next_deadline(self) -> float | None:
        return min(self._due.values(), default=None)

    def due(self, now: float) -> list[int]:
        return [job_id for job_id, at in self._due.items() if at <= now]
