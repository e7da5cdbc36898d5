"""The ipp transport: letters and postcards as print jobs to an IPP printer or print server
(RFC 8010/8011; CUPS, IPP Everywhere printers, a print-and-mail house's IPP queue), through
``net.ipp`` over the sans-IO client in ``tidings.ipp``.

A submit makes the print-ready PDF for the message (``documents.letter``: the address in the
envelope window's field or on an address sheet; ``documents.postcard``: front and back with
the address block) and sends it as one Print-Job (or Create-Job + Send-Document, for printers
that want that), with ``job-name`` the message id and the job's ``media``, ``sides``,
``print-color-mode`` and ``job-priority``. The printer's answer decides: a job made is
``sent`` (its reference ``ipp:<route id>:<job id>``: printers number jobs from 1), a refusal
the printer calls temporary (busy, not accepting jobs) or no answer is retried, any other
refused.

Then the route follows its jobs with Get-Job-Attributes (``ipp.client.JobWatch``: often while
processing, seldom while pending or held) until each is final: ``completed`` is delivered
(printed, in the mail), ``aborted`` and ``canceled`` failed, each with the job's state reasons
kept in the history and the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import ClassVar

import httpx
import structlog
from pydantic import Field, SecretStr

from tidings.core.channels import Channel
from tidings.core.documents import PrintResult
from tidings.core.transport_settings import RequestSettings
from tidings.dispatch.outcomes import Report, SubmitOutcome
from tidings.dispatch.transport import Claim, RequestTransport, TransportContext
from tidings.dispatch.transports.post_rendering import ready_to_print
from tidings.ipp.client import JobAccepted, JobStatus, JobTicket, JobWatch, RequestRefused
from tidings.ipp.constants import JobState
from tidings.lifecycle import MessageStatus
from tidings.net.ipp import IppPrinter, PrinterUnreachable
from tidings.store.records import RouteRecord

__all__ = ["IPP_KIND", "IppSettings", "IppTransport"]

log = structlog.get_logger("tidings.dispatch")

IPP_KIND = "ipp"

# A final job state → the message's status.
JOB_STATUS: Mapping[JobState, MessageStatus] = MappingProxyType(
    {
        JobState.COMPLETED: MessageStatus.DELIVERED,
        JobState.ABORTED: MessageStatus.FAILED,
        JobState.CANCELED: MessageStatus.FAILED,
    }
)
# A printer that cannot be asked about a job is asked again this much later.
UNREACHABLE_RETRY = 15.0


class IppSettings(RequestSettings):
    printer_uri: str = Field(
        min_length=8,
        max_length=2000,
        pattern=r"^(ipps?|https?)://",
        description="ipp://host[:631]/printers/<queue> (ipps:// over TLS)",
    )
    user: str = Field(default="tidings", max_length=200, description="requesting-user-name")
    username: str | None = Field(default=None, max_length=200, description="HTTP Basic user")
    password: SecretStr | None = Field(default=None, max_length=200)
    verify_tls: bool = True
    create_then_send: bool = Field(
        default=False, description="Create-Job + Send-Document instead of Print-Job"
    )
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)


def _now() -> datetime:
    return datetime.now(UTC)


class IppTransport(RequestTransport[IppSettings]):
    kind: ClassVar[str] = IPP_KIND
    channels: ClassVar[frozenset[Channel]] = frozenset({Channel.LETTER, Channel.POSTCARD})
    settings_model: ClassVar[type[IppSettings]] = IppSettings

    def __init__(
        self, route: RouteRecord, settings: IppSettings, context: TransportContext
    ) -> None:
        super().__init__(route, settings, context)
        auth = None
        if settings.username is not None:
            password = settings.password.get_secret_value() if settings.password else ""
            auth = httpx.BasicAuth(settings.username, password)
        self._http = httpx.AsyncClient(
            timeout=settings.timeout_seconds,
            verify=settings.verify_tls,
            limits=httpx.Limits(max_connections=settings.concurrency + 1),
        )
        self.printer = IppPrinter(settings.printer_uri, self._http, user=settings.user, auth=auth)
        self.jobs = JobWatch()

    def reference(self, job_id: int) -> str:
        # Printers number their jobs from 1: the route's prefix tells two printers' jobs apart.
        return f"{self.reference_prefix}{job_id}"

    async def stop(self) -> None:
        await super().stop()
        await self._http.aclose()

    async def submit(self, claim: Claim) -> SubmitOutcome:
        context = self.context
        message = claim.message
        ready = await ready_to_print(context, claim)
        if isinstance(ready, SubmitOutcome):
            return ready
        document = ready.document
        attributes = document.attributes
        ticket = JobTicket(
            job_name=message.id,
            media=attributes.media,
            sides=attributes.sides.value,
            print_color_mode=attributes.print_color_mode,
            job_priority=attributes.job_priority,
        )
        try:
            with self.handing_over():
                if self.settings.create_then_send:
                    answer = await self.printer.create_and_send(ticket, document.pdf)
                else:
                    answer = await self.printer.print_job(ticket, document.pdf)
        except PrinterUnreachable as error:
            return context.retry(claim, "IPP_NO_ANSWER", error.message)
        if isinstance(answer, RequestRefused):
            code = f"IPP_{answer.status:#06x}"
            if answer.temporary:
                return context.retry(claim, code, f"the printer: {answer.describe()}")
            return context.rejected(claim, code, f"the printer refused it: {answer.describe()}")
        if not isinstance(answer, JobAccepted):  # a printer that answers out of turn
            return context.retry(claim, "IPP_BAD_ANSWER", "the printer made no job")
        if answer.ignored:
            log.info("printer ignored attributes", route=self.route.name, ignored=answer.ignored)
        claim.sent.append((1, self.reference(answer.job_id)))
        self.jobs.watch(answer.job_id, asyncio.get_running_loop().time())
        self.wake_watch()
        return context.sent(claim)

    # --- following the jobs -----------------------------------------------------------------

    async def watch(self, awaiting: list[str]) -> None:
        loop = asyncio.get_running_loop()
        # Jobs sent before this process (re)started are followed again: their state is the
        # printer's to tell.
        for number in awaiting:
            if number.isdigit():
                self.jobs.watch(int(number), loop.time())
        while True:
            deadline = self.jobs.next_deadline()
            if deadline is None:
                await self.handed_over()
                continue
            delay = deadline - loop.time()
            if delay > 0:
                await self.handed_over(within=delay)
                continue
            for job_id in self.jobs.due(loop.time()):
                await self._ask(job_id)

    async def _ask(self, job_id: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            answer = await self.printer.job_status(job_id)
        except PrinterUnreachable as error:
            log.warning("printer unreachable", route=self.route.name, job=job_id, error=str(error))
            self.jobs.retry_later(job_id, loop.time(), UNREACHABLE_RETRY)
            return
        if isinstance(answer, RequestRefused):
            # A job the printer no longer knows (purged, the printer reset): nothing to learn.
            log.warning("job status refused", route=self.route.name, job=job_id, answer=answer)
            self.jobs.forget(job_id)
            detail = f"the printer no longer knows job {job_id}: {answer.describe()}"
            self.context.report(
                Report(self.reference(job_id), None, "unknown-job", None, _now(), detail=detail)
            )
            return
        if not isinstance(answer, JobStatus):
            self.jobs.retry_later(job_id, loop.time(), UNREACHABLE_RETRY)
            return
        self.jobs.seen(job_id, answer.state, loop.time())
        if not answer.state.final:
            return
        reasons = ", ".join(answer.reasons)
        status = JOB_STATUS[answer.state]
        self.context.report(
            Report(
                reference=self.reference(job_id),
                status=status,
                state=answer.state.keyword,
                error_code=None
                if status is MessageStatus.DELIVERED
                else f"job-{answer.state.keyword}",
                at=_now(),
                detail=f"job {job_id} {answer.state.keyword}"
                + (f" ({reasons})" if reasons else "")
                + (f": {answer.message}" if answer.message else ""),
                result=PrintResult(
                    job_id=job_id,
                    job_state=answer.state.keyword,
                    reasons=answer.reasons,
                    impressions=answer.impressions,
                    sheets=answer.sheets,
                ),
            )
        )
