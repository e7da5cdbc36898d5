"""The transport interface: a transport the service has never heard of (a test's own, carrying
voice) is given to the service, and a message of that channel goes through the whole pipeline
with no change to the dispatcher: a route of its kind made through /v1/routes, its typed
content stored and handed to the transport, the hand-over recorded, a report from the far end
(over HTTP, to the API process) made final with its callback, and an inbound call with an
attachment stored and announced. SMS keeps going over the SMPP route beside it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, Field, SecretStr

from tests.integration.compliance.conftest import webhook_events
from tests.integration.dispatch.conftest import (
    Running,
    running_service,
    service_settings,
)
from tests.integration.events.sink import Sink
from tidings.core import accounts, messaging, routing
from tidings.core.channels import Channel
from tidings.core.content import Attachments, ChannelContent, MediaRef, load_content
from tidings.core.transport_settings import TransportSettings
from tidings.dispatch.outcomes import Inbound, Report, SubmitOutcome
from tidings.dispatch.reception import Reception
from tidings.dispatch.transport import Claim, Transport, TransportContext
from tidings.dispatch.transports import default_transports
from tidings.lifecycle import MessageStatus
from tidings.store.messages import find_message
from tidings.store.records import RouteRecord

OUR_NUMBER = "+358409999999"
HANDSET = "+358401112223"


class CallContent(ChannelContent):
    """What a voice message of this test carries besides its text."""

    voice: str
    repeat: int = 1


class LoopSettings(TransportSettings):
    lines: int = Field(default=2, ge=1, le=10)
    token: SecretStr


class FarEndReport(BaseModel):
    reference: str
    state: Literal["answered", "busy"]


@dataclass
class FarEnd:
    """What the test's carrier saw: each call handed to it, and the transports made."""

    calls: list[tuple[str, CallContent | None, str]] = field(default_factory=list)
    transports: list[Any] = field(default_factory=list)


def loop_transport(far_end: FarEnd) -> type[Transport[LoopSettings]]:
    """A transport of kind ``test-loop`` whose carrier is ``far_end``."""

    class LoopTransport(Transport[LoopSettings]):
        kind: ClassVar[str] = "test-loop"
        channels: ClassVar[frozenset[Channel]] = frozenset({Channel.VOICE})
        settings_model: ClassVar[type[LoopSettings]] = LoopSettings

        def __init__(
            self, route: RouteRecord, settings: LoopSettings, context: TransportContext
        ) -> None:
            super().__init__(route, settings, context)
            far_end.transports.append(self)

        @property
        def concurrency(self) -> int:
            return self.settings.lines

        async def submit(self, claim: Claim) -> SubmitOutcome:
            message = claim.message
            content = load_content(CallContent, message.content)
            far_end.calls.append((message.id, content, self.settings.token.get_secret_value()))
            claim.sent.append((1, f"call-{message.id}"))
            return self.context.sent(claim)

        async def ring(self, sender: str, recipient: str, recording: MediaRef) -> None:
            """A call comes in and leaves a voicemail."""
            await self.context.inbound(
                Inbound(
                    route_id=self.route.id,
                    sender=sender,
                    recipient=recipient,
                    body="call me back",
                    encoding="utf8",
                    at=datetime.now(UTC),
                    channel=Channel.VOICE,
                    content=Attachments(attachments=(recording,)),
                )
            )

        @classmethod
        def callback_router(cls, reception: Callable[[], Reception]) -> APIRouter:
            router = APIRouter()

            @router.post("/report")
            async def report(body: FarEndReport) -> dict[str, bool]:
                status = MessageStatus.DELIVERED if body.state == "answered" else None
                await reception().report(
                    Report(body.reference, status, body.state, None, datetime.now(UTC))
                )
                return {"recorded": True}

            return router

    return LoopTransport


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    receiver = Sink()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def test_a_new_transport_carries_its_channel_through_the_whole_pipeline(
    tmp_path: Path, database_url: str, sink: Sink
) -> None:
    far_end = FarEnd()
    transports = default_transports().with_transports(loop_transport(far_end))
    settings = service_settings(
        tmp_path, database_url, webhook_allow_loopback=True, outbox_poll_seconds=0.05
    )
    async with running_service(settings, transports=transports) as running:
        await _pipeline(running, far_end, sink)


async def _operator(running: Running) -> httpx.AsyncClient:
    key = await accounts.create_api_key(
        running.service.database, running.account.id, role=accounts.Role.OPERATOR
    )
    return httpx.AsyncClient(
        base_url=str(running.http.base_url),
        headers={"Authorization": f"Bearer {key.secret}"},
        timeout=30.0,
    )


async def _pipeline(running: Running, far_end: FarEnd, sink: Sink) -> None:
    async with await _operator(running) as operator:
        await _voice(running, operator, far_end, sink)


async def _voice(running: Running, http: httpx.AsyncClient, far_end: FarEnd, sink: Sink) -> None:
    kinds = (await http.get("/v1/route-kinds")).json()
    [loop] = [k for k in kinds if k["kind"] == "test-loop"]
    assert loop["channels"] == ["voice"]
    assert loop["settings_schema"]["properties"]["token"]["writeOnly"] is True

    created = await http.post(
        "/v1/routes",
        json={
            "name": "calls",
            "kind": "test-loop",
            "settings": {"token": "t0ps3cret", "lines": 3},
            # The service's own voice route (to the phone network simulator) is the default.
            "is_default": True,
        },
    )
    assert created.status_code == 201, created.text
    route = created.json()
    assert (route["channels"], route["default_for"]) == (["voice"], ["voice"])
    assert route["settings"] == {"lines": 3}
    assert "t0ps3cret" not in created.text
    assert "t0ps3cret" not in (await http.get("/v1/routes/calls")).text
    # The number is registered on the SMPP route: a voice message from it still finds the
    # route that carries voice.
    await routing.add_sender(running.service.database, running.account, OUR_NUMBER, route_name=None)
    hooks = await http.post(
        "/v1/webhooks",
        json={"url": f"{sink.url}/hook", "events": ["message.status", "message.received"]},
    )
    assert hooks.status_code == 201, hooks.text

    result = await messaging.accept_messages(
        running.service.database,
        running.account,
        messaging.SendRequest(
            to=[HANDSET],
            sender=OUR_NUMBER,
            body="Your code is 1234",
            channel=Channel.VOICE,
            content=CallContent(voice="fi-FI", repeat=2),
        ),
    )
    [accepted] = result.recipients
    assert accepted.id is not None
    message_id = accepted.id
    sent = await running.wait_for(message_id, {"sent"})
    assert sent["channel"] == "voice"
    async with running.service.database.read() as connection:
        stored = await find_message(connection, running.account.id, message_id)
    assert stored is not None and stored.route_id == route["id"]
    assert far_end.calls == [(message_id, CallContent(voice="fi-FI", repeat=2), "t0ps3cret")]

    # The far end reports over HTTP, to the API process.
    reported = await http.post(
        "/carriers/test-loop/report",
        json={"reference": f"call-{message_id}", "state": "answered"},
    )
    assert reported.status_code == 200, reported.text
    delivered = await running.wait_for(message_id, {"delivered"})
    assert [entry["status"] for entry in delivered["history"]] == ["queued", "sent", "delivered"]
    assert delivered["history"][-1]["detail"] == "receipt answered"
    statuses = await webhook_events(sink, "message.status", 2)
    assert [(e["data"]["message_id"], e["data"]["status"]) for e in statuses] == [
        (message_id, "sent"),
        (message_id, "delivered"),
    ]

    # A call comes in on the route with a recording: stored, threaded, announced.
    [transport] = far_end.transports
    recording = MediaRef(id="sha256:" + "0" * 64, content_type="audio/wav", size=48_000)
    await transport.ring(HANDSET, OUR_NUMBER, recording)
    [received] = await webhook_events(sink, "message.received")
    data = received["data"]
    assert (data["from"], data["to"], data["channel"]) == (HANDSET, OUR_NUMBER, "voice")
    assert data["content"] == {
        "attachments": [{"id": recording.id, "content_type": "audio/wav", "size": 48_000}]
    }
    inbound = (await http.get(f"/v1/messages/{data['message_id']}")).json()
    assert (inbound["channel"], inbound["body"]) == ("voice", "call me back")

    # SMS goes on over the SMPP route beside it.
    sms_id = await running.send_one(HANDSET)
    assert (await running.wait_for(sms_id))["status"] == "delivered"
    assert len(far_end.calls) == 1


async def test_a_channel_no_route_carries_fails_with_that_reason(
    tmp_path: Path, database_url: str
) -> None:
    # Without the simulator nobody made a fax route (the simulator's fax gateway brings one).
    settings = service_settings(tmp_path, database_url, simulator=False)
    async with running_service(settings) as running:
        await _fails_for_want_of_a_route(running, Channel.FAX)


async def _fails_for_want_of_a_route(running: Running, channel: Channel) -> None:
    result = await messaging.accept_messages(
        running.service.database,
        running.account,
        messaging.SendRequest(
            to=[HANDSET], sender="Tidings", body="Hei", channel=channel, content=None
        ),
    )
    [accepted] = result.recipients
    assert accepted.id is not None
    failed = await running.wait_for(accepted.id)
    assert (failed["status"], failed["error_code"]) == ("failed", "no_route")
    assert failed["error_detail"] == f"no route carries {channel}"


async def test_route_settings_keep_their_secrets_apart(running: Running) -> None:
    async def stored() -> RouteRecord:
        return await routing.get_route(running.service.database, "simulator")

    simulator = await stored()
    assert simulator.secrets == {"password": "tidings"}
    assert "password" not in simulator.settings
    # Changing another setting keeps the secret; a new secret replaces it, and is not shown.
    async with await _operator(running) as operator:
        patched = await operator.patch(
            "/v1/routes/simulator", json={"settings": {"window": 99, "password": "n3w"}}
        )
    assert patched.status_code == 200, patched.text
    assert "n3w" not in patched.text
    assert json.loads(patched.text)["settings"]["window"] == 99
    assert (await stored()).secrets == {"password": "n3w"}


class PollSettings(TransportSettings):
    pass


@dataclass
class PolledCarrier:
    """A carrier that reports nothing by itself: the transport asks it what became of each
    hand-over (as IPP job states and SFTP drops are asked about)."""

    # Whether it has delivered what it took, when asked.
    delivering: bool = True
    # What each transport's watch was given as left awaiting by earlier processes.
    awaiting: list[list[str]] = field(default_factory=list)
    watches_ended: int = 0


def polling_transport(carrier: PolledCarrier) -> type[Transport[PollSettings]]:
    """A transport of kind ``test-poll`` whose only way to learn an outcome is its watch."""

    class PollingTransport(Transport[PollSettings]):
        kind: ClassVar[str] = "test-poll"
        channels: ClassVar[frozenset[Channel]] = frozenset({Channel.VOICE})
        settings_model: ClassVar[type[PollSettings]] = PollSettings

        def __init__(
            self, route: RouteRecord, settings: PollSettings, context: TransportContext
        ) -> None:
            super().__init__(route, settings, context)
            self.pending: set[str] = set()

        @property
        def concurrency(self) -> int:
            return 1

        async def submit(self, claim: Claim) -> SubmitOutcome:
            claim.sent.append((1, f"{self.reference_prefix}{claim.message.id}"))
            self.pending.add(claim.message.id)
            self.wake_watch()
            return self.context.sent(claim)

        async def watch(self, awaiting: list[str]) -> None:
            carrier.awaiting.append(list(awaiting))
            self.pending.update(awaiting)
            try:
                while True:
                    while not (self.pending and carrier.delivering):
                        await self.handed_over(within=0.2)
                    for message_id in sorted(self.pending):
                        self.pending.discard(message_id)
                        self.context.report(
                            Report(
                                f"{self.reference_prefix}{message_id}",
                                MessageStatus.DELIVERED,
                                "asked",
                                None,
                                datetime.now(UTC),
                            )
                        )
            finally:
                carrier.watches_ended += 1

    return PollingTransport


async def test_a_transport_that_asks_its_carrier_gets_its_watch_run_and_what_was_left_awaiting(
    tmp_path: Path, database_url: str
) -> None:
    carrier = PolledCarrier(delivering=False)
    transports = default_transports().with_transports(polling_transport(carrier))
    settings = service_settings(tmp_path, database_url)
    async with running_service(settings, transports=transports) as running:
        account = running.account
        async with await _operator(running) as operator:
            created = await operator.post(
                "/v1/routes",
                json={"name": "polled", "kind": "test-poll", "settings": {}, "is_default": True},
            )
        assert created.status_code == 201, created.text
        # The carrier takes the call and tells nothing yet: the service stops with it sent.
        left_id = await _voice_message(running)
        await running.wait_for(left_id, {"sent"})
    assert carrier.awaiting == [[]]
    assert carrier.watches_ended == 1

    # The next process's watch is given what the last one left, and learns its outcome; what
    # it hands over itself it follows as it goes.
    carrier.delivering = True
    async with running_service(settings, transports=transports, account=account) as running:
        left = await running.wait_for(left_id, {"delivered"})
        assert left["history"][-1]["status"] == "delivered"
        new_id = await _voice_message(running)
        await running.wait_for(new_id, {"delivered"})
    assert carrier.awaiting[1] == [left_id]
    assert carrier.watches_ended == 2


async def _voice_message(running: Running) -> str:
    result = await messaging.accept_messages(
        running.service.database,
        running.account,
        messaging.SendRequest(
            to=[HANDSET], sender="Tidings", body="Hei", channel=Channel.VOICE, content=None
        ),
    )
    [accepted] = result.recipients
    assert accepted.id is not None
    return accepted.id
