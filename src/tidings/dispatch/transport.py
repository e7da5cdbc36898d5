"""The transport interface: how the messages of a route reach its carrier, and how what the
carrier says back reaches the status writer.

A route has a kind (``routes.kind``); a transport class serves one kind. It declares:

- ``kind``, the ``channels`` it can carry and ``settings_model``, the pydantic model of its
  routes' settings (``core.transport_settings.TransportSettings``; fields typed ``SecretStr``
  are stored apart and never shown);
- ``concurrency``: how many submits may be under way at once (SMPP: window × binds; SIP:
  concurrent calls). The dispatcher's route runner (``dispatch.runner``) runs that many
  workers over the route's queue of claimed messages, and owns claims, retries and
  ``finish``: a transport never sees the queue;
- ``start()`` (connect, bind, listen; in the background, so a carrier that is down does not
  hold the dispatcher up) and ``stop()``;
- ``watch(awaiting)``, for a transport that asks its carrier itself what became of what it
  handed over (IPP job states, SFTP drops collected): the base class runs it as one task from
  ``start()`` to ``stop()``, with the references its earlier processes left awaiting a report;
  a submit calls ``wake_watch()`` when it hands something new over, and the watch waits for
  that with ``handed_over()``;
- ``submit(claim)``: hand one claimed message to the carrier and return when the carrier
  accepted or refused it, as a ``SubmitOutcome`` built with the context's ``sent``,
  ``retry``, ``rejected`` or ``failed``. Each part the carrier accepts is appended to
  ``claim.sent`` as it is: if the route stops in the middle, the runner hands the message
  back with those parts recorded, and only the others are submitted again.

What the far end sends later goes through the :class:`TransportContext`: ``report`` (a status
for a part, found by the reference the carrier gave for it) and ``inbound`` (a message that
arrived, attachments as media refs). Both return a future that completes once committed, so
the carrier is acknowledged only then; an inbound message's future fails if it could not be
stored, and the carrier is then told to try again. A far end that calls us over HTTP (MM7,
WhatsApp) reaches the same path from the API process: the transport's ``callback_router``
gives the endpoints, mounted under ``/carriers/<kind>``, with the API process's
``Reception``.

A new transport is one module (its protocol core sans-IO beside ``smpp/``), one line in
``dispatch.transports.BUILT_IN``, its simulator and its migration; nothing in the dispatcher
changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar

import structlog

from tidings.core.channels import Channel
from tidings.core.transport_settings import RequestSettings, TransportSettings
from tidings.dispatch.outcomes import Inbound, Report, SubmitOutcome
from tidings.errors import InvalidRequest
from tidings.store.dispatch import ClaimedMessage
from tidings.store.records import RouteRecord

if TYPE_CHECKING:
    from fastapi import APIRouter

    from tidings.core.media import MediaLibrary
    from tidings.dispatch.reception import Reception

log = structlog.get_logger("tidings.dispatch")


class Claim:
    """One claimed message on its way through a transport."""

    __slots__ = ("already_sent", "message", "sent")

    def __init__(self, message: ClaimedMessage, already_sent: set[int] | None = None) -> None:
        self.message = message
        # Parts the carrier accepted in an earlier attempt: not to be handed over again.
        self.already_sent = already_sent
        # (part seq, carrier reference) of each part accepted in this attempt, as it is.
        self.sent: list[tuple[int, str]] = []


class TransportContext(Protocol):
    """What a transport may ask of the dispatcher: outcomes under its retry policy, and the
    way in for what the far end sends."""

    def sent(self, claim: Claim) -> SubmitOutcome:
        """Every part of the message was accepted (``claim.sent``)."""
        ...

    def retry(self, claim: Claim, error_code: str, detail: str) -> SubmitOutcome:
        """A temporary failure: the message is queued again with backoff, until it is too old
        (then it fails). The parts in ``claim.sent`` stay accepted."""
        ...

    def rejected(self, claim: Claim, error_code: str, detail: str) -> SubmitOutcome:
        """The carrier refused the message for good."""
        ...

    def failed(self, claim: Claim, error_code: str, detail: str) -> SubmitOutcome:
        """The message cannot be sent (content the carrier cannot carry, a bad address)."""
        ...

    def report(self, report: Report) -> asyncio.Future[None]:
        """A status from the far end; the future completes once it is committed."""
        ...

    def inbound(self, message: Inbound) -> asyncio.Future[None]:
        """A message that arrived; the future completes once it is stored (or dropped for an
        address no account owns), and fails if it could not be."""
        ...

    def connections_up(self, count: int) -> None:
        """How many connections to the carrier are up now (``tidings_binds_up``)."""
        ...

    def malformed(self, what: Literal["report", "inbound"]) -> None:
        """Count a report or an inbound message too malformed to read (acknowledged anyway,
        or the far end would send it again forever)."""
        ...

    @property
    def media(self) -> MediaLibrary:
        """The media store, for transports that send files (MMS, WhatsApp, fax, post)."""
        ...

    async def awaiting_reports(self, prefix: str) -> list[str]:
        """The references starting with ``prefix`` of parts the carrier took and has not
        reported on yet: a transport that asks its carrier for their state itself (IPP job
        states) asks again for these when it starts, after its process restarted."""
        ...


SettingsT = TypeVar("SettingsT", bound=TransportSettings)


class Transport(ABC, Generic[SettingsT]):
    """One route's connection to its carrier. See the module docstring."""

    kind: ClassVar[str]
    channels: ClassVar[frozenset[Channel]]
    settings_model: ClassVar[type[TransportSettings]]

    def __init__(self, route: RouteRecord, settings: SettingsT, context: TransportContext) -> None:
        self.route = route
        self.settings = settings
        self.context = context
        self._watcher: asyncio.Task[None] | None = None
        self._handed_over = asyncio.Event()

    @property
    @abstractmethod
    def concurrency(self) -> int:
        """How many submits may be under way at once."""

    @property
    def in_flight(self) -> int:
        """Hand-overs the carrier has not answered yet (``tidings_window_in_use``)."""
        return 0

    @property
    def held(self) -> Collection[str]:
        """Messages whose delivery this process holds after the carrier took them (a call
        under way): their lease is renewed with the claims, so another dispatcher can tell
        them from those of a process that died."""
        return ()

    async def start(self) -> None:
        """Connect; a carrier that is down is retried in the background. Starts ``watch`` when
        the transport has one (a subclass's ``start`` calls this one)."""
        if type(self).watch is not Transport.watch:
            self._watcher = asyncio.get_running_loop().create_task(self._run_watch())

    async def stop(self) -> None:
        """Disconnect. Submits still running are cancelled by the runner afterwards. Stops
        ``watch`` (a subclass's ``stop`` calls this one)."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    @property
    def reference_prefix(self) -> str:
        """How this route's carrier references begin, for a transport whose carrier numbers
        things per server (print jobs from 1, drops by message id): ``<kind>:<route id>:``
        tells two routes' apart, and finds the route's own after a restart."""
        return f"{self.kind}:{self.route.id}:"

    async def watch(self, awaiting: list[str]) -> None:
        """Follow, in the background from ``start()`` to ``stop()``, what the carrier took and
        will not report by itself, and report it through the context. ``awaiting``: what the
        route's earlier processes handed over and heard nothing of yet (the references with
        ``reference_prefix``, without it): nothing else would ask about those. None by
        default; a transport that polls its carrier overrides it and never returns."""

    def wake_watch(self) -> None:
        """Something new was handed over: the watch, waiting in ``handed_over()``, goes on."""
        self._handed_over.set()

    async def handed_over(self, within: float | None = None) -> None:
        """Wait until ``wake_watch()`` is called (at once if it was since the last wait) or
        ``within`` seconds have passed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._handed_over.wait(), within)
        self._handed_over.clear()

    async def _run_watch(self) -> None:
        prefix = self.reference_prefix
        try:
            references = await self.context.awaiting_reports(prefix)
        except Exception:  # the database is down: they wait for the route's next start
            log.exception("references awaiting a report not read", route=self.route.name)
            references = []
        await self.watch([reference.removeprefix(prefix) for reference in references])

    @abstractmethod
    async def submit(self, claim: Claim) -> SubmitOutcome:
        """Hand the claimed message over; return once the carrier accepted or refused it."""

    @staticmethod
    def reference_variants(reference: str) -> Sequence[str]:
        """Other spellings of a carrier reference that mean the same part (an SMSC may give
        a message id in hex and report it in decimal); tried for reports that match nothing."""
        return ()

    @classmethod
    def callback_router(cls, reception: Callable[[], Reception]) -> APIRouter | None:
        """HTTP endpoints the far end calls (reports, inbound messages), or None. Mounted
        under ``/carriers/<kind>`` in every API process; a handler asks ``reception()`` for
        the process's reception when a request comes (it is made when the app starts)."""
        return None


RequestSettingsT = TypeVar("RequestSettingsT", bound=RequestSettings)


class RequestTransport(Transport[RequestSettingsT]):
    """A transport whose carrier takes each message in one request of its own (HTTP, SMTP):
    no connection to keep up, ``settings.concurrency`` requests at once, each counted while
    the carrier has not answered it (``handing_over``)."""

    def __init__(
        self, route: RouteRecord, settings: RequestSettingsT, context: TransportContext
    ) -> None:
        super().__init__(route, settings, context)
        self._in_flight = 0

    @property
    def concurrency(self) -> int:
        return self.settings.concurrency

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def start(self) -> None:
        await super().start()
        # A connection is made per request: the carrier counts as reachable until it is not.
        self.context.connections_up(1)

    async def stop(self) -> None:
        self.context.connections_up(0)
        await super().stop()

    @contextlib.contextmanager
    def handing_over(self) -> Iterator[None]:
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1


AnyTransport = Transport[Any]


class TransportRegistry:
    """The transports a process knows, by route kind (``core.routing.RouteKinds`` for the
    routing rules). Built once by whoever builds the service, app or command, and passed."""

    def __init__(self, transports: Iterable[type[AnyTransport]]) -> None:
        self._by_kind: dict[str, type[AnyTransport]] = {}
        for transport in transports:
            if transport.kind in self._by_kind:
                raise ValueError(f"two transports of kind {transport.kind!r}")
            self._by_kind[transport.kind] = transport

    def with_transports(self, *transports: type[AnyTransport]) -> TransportRegistry:
        return TransportRegistry([*self._by_kind.values(), *transports])

    @property
    def kinds(self) -> list[str]:
        return sorted(self._by_kind)

    def transports(self) -> list[type[AnyTransport]]:
        return [self._by_kind[kind] for kind in self.kinds]

    def find(self, kind: str) -> type[AnyTransport] | None:
        return self._by_kind.get(kind)

    def get(self, kind: str) -> type[AnyTransport]:
        transport = self._by_kind.get(kind)
        if transport is None:
            known = ", ".join(self.kinds)
            raise InvalidRequest(f"no transport of kind {kind!r} (known: {known})", field="kind")
        return transport

    def settings_model(self, kind: str) -> type[TransportSettings]:
        return self.get(kind).settings_model

    def channels_of(self, kind: str) -> frozenset[Channel]:
        return self.get(kind).channels

    def reference_variants(self) -> Callable[[str], Sequence[str]]:
        """Every transport's other spellings of a reference, as one function."""
        spellings = [
            t.reference_variants
            for t in self._by_kind.values()
            if t.reference_variants is not Transport.reference_variants
        ]

        def variants(reference: str) -> list[str]:
            found: list[str] = []
            for spelling in spellings:
                found.extend(v for v in spelling(reference) if v not in found)
            return found

        return variants
