"""The embedded MMSC: an MM7 relay/server (TS 23.140) beside the SMSC simulator.

It takes SubmitReq over HTTP (Basic auth when configured), answers SubmitRsp or a fault as its
outcome rules say for the recipient's number, keeps what each handset received (subject, text,
media) for a person or a test to look at, sends DeliveryReportReq back to the VASP's MM7 URL,
and injects MMS from handsets (DeliverReq with attachments).

``async with Mmsc(MmscConfig(vasp_url=...)) as mmsc`` runs it on a free port of 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import Response as HttpResponse
from starlette.routing import Route

from tidings.http_server import EmbeddedHttpServer
from tidings.mm7 import mime
from tidings.mm7.endpoint import Endpoint, Role
from tidings.mm7.errors import RemoteProtocolError
from tidings.mm7.messages import (
    SUCCESS,
    Address,
    AddressKind,
    ContentPart,
    DeliverReq,
    DeliverRsp,
    DeliveryReportReq,
    Fault,
    Request,
    Response,
    Status,
    SubmitReq,
    SubmitRsp,
)
from tidings.mm7.status import MMStatus, StatusClass, StatusCode, status_class
from tidings.net.mm7 import BasicAuth, Mm7Peer, Mm7Unreachable, answer_request
from tidings.simulator.callbacks import CallbackQueue
from tidings.simulator.inbox import Inboxes

log = structlog.get_logger("tidings.simulator.mmsc")

__all__ = [
    "DEFAULT_MMS_RULES",
    "HandsetMms",
    "MmsOutcome",
    "MmsOutcomeRule",
    "Mmsc",
    "MmscConfig",
    "MmscError",
    "choose_mms_outcome",
]

# MMStatus values after which the handset has the message.
_IN_INBOX = frozenset({MMStatus.RETRIEVED, MMStatus.FORWARDED})


@dataclass(frozen=True, slots=True)
class MmsOutcome:
    """What the network does with an MMS: refuse the submit, or report ``mm_status``."""

    mm_status: MMStatus = MMStatus.RETRIEVED
    submit_status: int = StatusCode.SUCCESS
    status_text: str | None = None


@dataclass(frozen=True, slots=True)
class MmsOutcomeRule:
    """Every condition given must hold (as the SMSC simulator's rules): ``prefix``/``suffix``
    of the recipient's number (a leading "+" is ignored), and ``probability``."""

    outcome: MmsOutcome
    prefix: str | None = None
    suffix: str | None = None
    probability: float | None = None

    def __post_init__(self) -> None:
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability is within 0..1, not {self.probability}")
        if not 1000 <= self.outcome.submit_status <= 4999:
            raise ValueError(f"an MM7 status code is 1000..4999, not {self.outcome.submit_status}")

    def matches(self, number: str, rng: random.Random) -> bool:
        if self.prefix is not None and not number.startswith(self.prefix):
            return False
        if self.suffix is not None and not number.endswith(self.suffix):
            return False
        return self.probability is None or rng.random() < self.probability


# As the SMSC's: a number ending in 0 does not take the message (the handset rejects it);
# ending in 8 has no MMS (the report says Unrecognised: an SMS with a link may go instead);
# ending in 7 never fetches it (Expired).
DEFAULT_MMS_RULES: tuple[MmsOutcomeRule, ...] = (
    MmsOutcomeRule(
        MmsOutcome(MMStatus.REJECTED, status_text="Rejected by the handset"), suffix="0"
    ),
    MmsOutcomeRule(
        MmsOutcome(MMStatus.UNRECOGNISED, status_text="The handset cannot take MMS"), suffix="8"
    ),
    MmsOutcomeRule(MmsOutcome(MMStatus.EXPIRED, status_text="Not retrieved in time"), suffix="7"),
)
_RETRIEVED = MmsOutcome()


def choose_mms_outcome(
    rules: Sequence[MmsOutcomeRule], destination: str, rng: random.Random
) -> MmsOutcome:
    number = destination.removeprefix("+")
    for rule in rules:
        if rule.matches(number, rng):
            return rule.outcome
    return _RETRIEVED


@dataclass(frozen=True, slots=True)
class MmscConfig:
    """``vasp_url`` is where DeliverReq and DeliveryReportReq go (tidings' MM7 endpoint);
    ``username``/``password`` None let any VASP submit."""

    host: str = "127.0.0.1"
    port: int = 0
    vasp_url: str | None = None
    vasp_auth: BasicAuth | None = None
    username: str | None = None
    password: str | None = None
    rules: tuple[MmsOutcomeRule, ...] = DEFAULT_MMS_RULES
    seed: int | None = None
    report_delay_s: float = 0.05
    # What one MMS may weigh (carriers take 300 KB to 1 MB); more is refused with 2004.
    max_message_bytes: int = 1024 * 1024
    inbox_limit: int = 50
    inbox_total_limit: int = 10_000
    # Reports waiting for the VASP to answer; beyond this the oldest are dropped.
    pending_reports_limit: int = 100_000
    report_retry_s: float = 1.0


class MmscError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class HandsetMms:
    """One MMS as the handset shows it."""

    message_id: str
    sender: str
    subject: str | None
    parts: tuple[ContentPart, ...]
    received_at: datetime
    status: MMStatus

    @property
    def text(self) -> str:
        return "\n".join(part.text() for part in self.parts if part.is_text)

    def as_json(self, number: str, base_path: str = "") -> dict[str, object]:
        return {
            "id": self.message_id,
            "channel": "mms",
            "from": self.sender,
            "subject": self.subject,
            "text": self.text,
            "status": self.status.value,
            "received_at": self.received_at.isoformat(),
            "parts": [
                {
                    "index": index,
                    "content_type": part.content_type,
                    "size": len(part.data),
                    "name": part.location,
                    "url": f"{base_path}/mms/handsets/{number}/{self.message_id}/parts/{index}",
                }
                for index, part in enumerate(self.parts)
            ],
        }


@dataclass(slots=True)
class _Stats:
    submitted: int = 0
    refused: int = 0
    reports_sent: int = 0
    report_failures: int = 0
    inbound_delivered: int = 0
    inbound_refused: int = 0


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file a simulated handset sends."""

    content_type: str
    data: bytes = field(repr=False)
    name: str | None = None


class Mmsc:
    """The simulated MMSC. ``start`` returns once it listens; ``stop`` ends its tasks."""

    def __init__(self, config: MmscConfig | None = None) -> None:
        self.config = config or MmscConfig()
        self.endpoint = Endpoint(
            Role.RELAY, limits=mime.Limits(max_bytes=self.config.max_message_bytes * 2)
        )
        self._rng = random.Random(self.config.seed)
        self._ids = itertools.count(1)
        self._inboxes: Inboxes[HandsetMms] = Inboxes(
            per_number=self.config.inbox_limit,
            total=self.config.inbox_total_limit,
            received_at=lambda mms: mms.received_at,
        )
        # Reports of different messages are independent: one the VASP refuses for now waits
        # behind the others.
        self._reports: CallbackQueue[DeliveryReportReq] = CallbackQueue(
            self._send_report,
            ready=lambda: self._peer is not None,
            retry_s=self.config.report_retry_s,
            limit=self.config.pending_reports_limit,
            in_order=False,
        )
        self._server: EmbeddedHttpServer | None = None
        self._peer: Mm7Peer | None = None
        self.stats = _Stats()
        self.port: int | None = None

    # --- running ---

    @property
    def url(self) -> str:
        """The MM7 URL a VASP submits to."""
        assert self.port is not None, "the MMSC is not running"
        return f"http://{self.config.host}:{self.port}/mm7"

    async def start(self) -> None:
        app = Starlette(routes=[Route("/mm7", self._serve, methods=["POST"])])
        self._server = await EmbeddedHttpServer.start(
            app, self.config.host, self.config.port, lifespan="off"
        )
        self.port = self._server.port
        if self.config.vasp_url:
            self.set_vasp(self.config.vasp_url, self.config.vasp_auth)
        self._reports.start()
        log.info("mmsc listening", url=self.url)

    def set_vasp(self, url: str, auth: BasicAuth | None = None) -> None:
        """Where reports and inbound MMS go (the service knows its own URL only once it
        listens)."""
        old = self._peer
        self._peer = Mm7Peer(Role.RELAY, url, auth=auth, timeout=10.0)
        if old is not None:
            asyncio.get_running_loop().create_task(old.close())
        self._reports.wake()

    def set_rules(self, rules: Sequence[MmsOutcomeRule]) -> None:
        """What the network does with MMS from now on, for submits still to come (as the
        SMSC's outcome rules, which its control API sets)."""
        self.config = dataclasses.replace(self.config, rules=tuple(rules))

    async def stop(self) -> None:
        await self._reports.stop()
        if self._server is not None:
            await self._server.stop(timeout=5.0)
        if self._peer is not None:
            await self._peer.close()

    async def __aenter__(self) -> Mmsc:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- MM7 from the VASP ---

    async def _serve(self, request: HttpRequest) -> HttpResponse:
        if not self._authorised(request.headers.get("authorization")):
            return HttpResponse(
                "unauthorised", status_code=401, headers={"WWW-Authenticate": 'Basic realm="mm7"'}
            )
        body = await request.body()
        answer = await answer_request(
            self.endpoint, request.headers.get("content-type", ""), body, self._handle
        )
        return HttpResponse(answer.body, status_code=answer.status, media_type=answer.content_type)

    def _authorised(self, header: str | None) -> bool:
        if self.config.username is None:
            return True
        scheme, _, value = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except ValueError:  # binascii.Error, a character beyond ASCII, or not UTF-8
            return False
        return (user, password) == (self.config.username, self.config.password)

    async def _handle(self, request: Request) -> Response:
        if not isinstance(request, SubmitReq):
            raise RemoteProtocolError(
                "the MMSC takes SubmitReq", status=StatusCode.UNSUPPORTED_OPERATION
            )
        size = sum(len(part.data) for part in request.content)
        if size > self.config.max_message_bytes:
            self.stats.refused += 1
            return Fault(
                Status(
                    StatusCode.CONTENT_REFUSED,
                    f"{size} bytes of content; this MMSC takes {self.config.max_message_bytes}",
                ),
                from_relay=True,
            )
        recipients = (*request.recipients, *request.cc, *request.bcc)
        outcomes = [
            (address, choose_mms_outcome(self.config.rules, address.value, self._rng))
            for address in recipients
        ]
        refusal = next((o for _, o in outcomes if o.submit_status != StatusCode.SUCCESS), None)
        if refusal is not None:
            self.stats.refused += 1
            temporary = status_class(refusal.submit_status) is StatusClass.TEMPORARY
            return Fault(
                Status(refusal.submit_status, refusal.status_text or ""),
                from_relay=True,
                fault_code="Server" if temporary else "Client",
            )
        message_id = f"mmsc-{next(self._ids):08d}"
        self.stats.submitted += 1
        now = datetime.now(UTC)
        sender = request.sender or Address(request.vas_id or request.vasp_id or "unknown")
        for address, outcome in outcomes:
            if outcome.mm_status in _IN_INBOX:
                self._inboxes.keep(
                    address.value,
                    HandsetMms(
                        message_id,
                        sender.value,
                        request.subject,
                        request.content,
                        now,
                        outcome.mm_status,
                    ),
                )
            if request.delivery_report:
                self._reports.put(
                    DeliveryReportReq(
                        message_id=message_id,
                        recipient=address,
                        sender=sender,
                        date=now,
                        mm_status=outcome.mm_status,
                        status_text=outcome.status_text,
                    ),
                    self.config.report_delay_s,
                )
        return SubmitRsp(SUCCESS, message_id)

    # --- delivery reports to the VASP ---

    async def _send_report(self, report: DeliveryReportReq) -> bool:
        assert self._peer is not None
        try:
            answer = await self._peer.send(report)
        except (Mm7Unreachable, RemoteProtocolError) as error:
            self.stats.report_failures += 1
            log.info("report not taken", message_id=report.message_id, error=str(error))
            return False
        if isinstance(answer, Fault):
            self.stats.report_failures += 1
            log.info("report refused", message_id=report.message_id, status=answer.status.code)
            # Sent again only if the refusal was temporary; a permanent one would not change.
            return status_class(answer.status.code) is not StatusClass.TEMPORARY
        self.stats.reports_sent += 1
        return True

    # --- MMS from handsets ---

    async def inject(
        self,
        sender: str,
        recipient: str,
        *,
        subject: str | None = None,
        text: str | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> Status:
        """Send an MMS from handset ``sender`` to ``recipient`` (a number the VASP serves) as
        a DeliverReq; returns the VASP's status, raises :class:`MmscError` when it refused."""
        if self._peer is None:
            raise MmscError("no VASP URL is configured to deliver to")
        parts: list[ContentPart] = []
        if text:
            parts.append(ContentPart("text/plain", text.encode(), "text1", "text1.txt", "utf-8"))
        for index, attachment in enumerate(attachments, start=1):
            parts.append(
                ContentPart(
                    attachment.content_type,
                    attachment.data,
                    f"part{index}",
                    attachment.name or f"part{index}",
                )
            )
        request = DeliverReq(
            sender=Address(sender, AddressKind.NUMBER),
            recipients=(Address(recipient, AddressKind.NUMBER),),
            content=tuple(parts),
            subject=subject,
            relay_server_id="tidings-mmsc",
            timestamp=datetime.now(UTC),
        )
        try:
            answer = await self._peer.send(request)
        except Mm7Unreachable as error:
            self.stats.inbound_refused += 1
            raise MmscError(f"the VASP did not answer: {error}") from None
        except RemoteProtocolError as error:
            self.stats.inbound_refused += 1
            raise MmscError(f"the VASP's answer cannot be read: {error.message}") from None
        if isinstance(answer, Fault) or not answer.status.ok:
            self.stats.inbound_refused += 1
            raise MmscError(
                f"the VASP refused the MMS: {answer.status.code} {answer.status.text}",
                answer.status.code,
            )
        assert isinstance(answer, DeliverRsp)
        self.stats.inbound_delivered += 1
        return answer.status

    # --- what the control API shows ---

    @property
    def version(self) -> int:
        """Counts every change to the inboxes: watchers (the console) compare it."""
        return self._inboxes.version

    def inbox(self, number: str) -> list[HandsetMms]:
        return list(self._inboxes.get(number))

    def clear_inbox(self, number: str) -> int:
        return self._inboxes.clear(number)

    def handsets(self, limit: int = 100) -> list[tuple[str, datetime]]:
        """Numbers with MMS in their inbox, the latest to receive one first, with its time."""
        return self._inboxes.recent_numbers(limit)

    def part(self, number: str, message_id: str, index: int) -> ContentPart | None:
        for message in self._inboxes.get(number):
            if message.message_id == message_id and 0 <= index < len(message.parts):
                return message.parts[index]
        return None

    def status(self) -> dict[str, Any]:
        return {
            "mm7_url": self.url if self.port else None,
            "submitted": self.stats.submitted,
            "refused": self.stats.refused,
            "reports_sent": self.stats.reports_sent,
            "reports_pending": len(self._reports),
            "report_failures": self.stats.report_failures,
            "reports_dropped": self._reports.dropped,
            "inbound_delivered": self.stats.inbound_delivered,
            "inbound_refused": self.stats.inbound_refused,
            "handsets": len(self._inboxes),
        }
