"""Our ESME client against our SMSC server base, over real TCP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.integration.dispatch.conftest import eventually
from tidings.net import (
    BindMode,
    EsmeClient,
    EsmeConfig,
    NotBound,
    SmscConnection,
    SmscServer,
    SubmitUnacknowledged,
)
from tidings.net.server import BindRequest
from tidings.smpp import CommandStatus
from tidings.smpp.pdu import DeliverSm, DeliverSmResp, Pdu, SubmitSm, SubmitSmResp


class Recorder:
    """An SMSC handler whose answer to each submit is decided by the test."""

    def __init__(self) -> None:
        self.submits: list[SubmitSm] = []
        self.connections: list[SmscConnection] = []
        self.unbinds = 0
        self.answer: Callable[[SubmitSm], Pdu | Awaitable[Pdu]] = self.accept
        self.in_flight = 0
        self.max_in_flight = 0

    def accept(self, pdu: SubmitSm) -> Pdu:
        return SubmitSmResp(sequence_number=pdu.sequence_number, message_id=f"m{len(self.submits)}")

    def handle_request(self, conn: SmscConnection, pdu: Pdu) -> Pdu | Awaitable[Pdu]:
        assert isinstance(pdu, SubmitSm)
        self.submits.append(pdu)
        return self.answer(pdu)

    def bound(self, conn: SmscConnection) -> None:
        self.connections.append(conn)

    def unbound(self, conn: SmscConnection) -> None:
        self.unbinds += 1


def only(system_id: str, password: str) -> Callable[[BindRequest], int]:
    def check(request: BindRequest) -> int:
        if request.system_id != system_id:
            return CommandStatus.ESME_RINVSYSID
        if request.password != password:
            return CommandStatus.ESME_RINVPASWD
        return CommandStatus.ESME_ROK

    return check


@pytest.fixture
async def smsc() -> AsyncIterator[tuple[SmscServer, Recorder]]:
    recorder = Recorder()
    server = SmscServer(recorder, authenticator=only("tidings", "secret"), window=100)
    await server.start()
    yield server, recorder
    await server.stop()


def config(server: SmscServer, **overrides: object) -> EsmeConfig:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "system_id": "tidings",
        "password": "secret",
        "reconnect_initial": 0.05,
        "reconnect_max": 0.2,
        # An answer that is coming may be slow on a loaded machine; only a hang should time out.
        "response_timeout": 30.0,
        "throttle_initial": 0.01,
    }
    values.update(overrides)
    return EsmeConfig(**values)  # type: ignore[arg-type]


def submit(n: int = 0) -> SubmitSm:
    return SubmitSm(source_addr="Tidings", destination_addr=f"35840123{n:04d}", short_message=b"hi")


async def test_submit_round_trip_and_graceful_unbind(smsc: tuple[SmscServer, Recorder]) -> None:
    server, recorder = smsc
    client = EsmeClient(config(server))
    await client.start()
    response = await client.submit(submit())
    assert isinstance(response, SubmitSmResp)
    assert response.message_id == "m1"
    assert recorder.submits[0].destination_addr == "358401230000"
    await client.stop()

    async def unbound() -> bool:
        return recorder.unbinds == 1

    await eventually(unbound, "the server to see the unbind")


async def test_wrong_password_is_reported(smsc: tuple[SmscServer, Recorder]) -> None:
    server, _ = smsc
    client = EsmeClient(config(server, password="wrong"))
    with pytest.raises(NotBound, match="ESME_RINVPASWD"):
        # start() waits all of ``wait`` while the binds keep being refused; long enough that a
        # slow first refusal still comes within it.
        await client.start(wait=5.0)


async def test_window_bounds_outstanding_submits(smsc: tuple[SmscServer, Recorder]) -> None:
    server, recorder = smsc
    release = asyncio.Event()

    async def slow(pdu: SubmitSm) -> Pdu:
        recorder.in_flight += 1
        recorder.max_in_flight = max(recorder.max_in_flight, recorder.in_flight)
        await release.wait()
        recorder.in_flight -= 1
        return recorder.accept(pdu)

    recorder.answer = slow
    client = EsmeClient(config(server, window=5))
    await client.start()
    tasks = [asyncio.create_task(client.submit(submit(i))) for i in range(20)]

    async def window_full() -> bool:
        return recorder.in_flight == 5

    await eventually(window_full, "the window's five submits to reach the server")
    release.set()
    responses = await asyncio.gather(*tasks)
    assert all(r.command_status == 0 for r in responses)
    assert recorder.max_in_flight == 5
    await client.stop()


async def test_throttled_submits_are_retried(smsc: tuple[SmscServer, Recorder]) -> None:
    server, recorder = smsc

    def throttle_twice(pdu: SubmitSm) -> Pdu:
        if len(recorder.submits) <= 2:
            return SubmitSmResp(
                sequence_number=pdu.sequence_number, command_status=CommandStatus.ESME_RTHROTTLED
            )
        return recorder.accept(pdu)

    recorder.answer = throttle_twice
    client = EsmeClient(config(server))
    await client.start()
    response = await client.submit(submit())
    assert response.command_status == CommandStatus.ESME_ROK
    assert len(recorder.submits) == 3
    await client.stop()


async def test_permanent_error_is_returned_not_retried(smsc: tuple[SmscServer, Recorder]) -> None:
    server, recorder = smsc
    recorder.answer = lambda pdu: SubmitSmResp(
        sequence_number=pdu.sequence_number, command_status=CommandStatus.ESME_RINVDSTADR
    )
    client = EsmeClient(config(server))
    await client.start()
    response = await client.submit(submit())
    assert response.command_status == CommandStatus.ESME_RINVDSTADR
    assert len(recorder.submits) == 1
    await client.stop()


async def test_dropped_bind_returns_unacknowledged_submits_and_reconnects(
    smsc: tuple[SmscServer, Recorder],
) -> None:
    server, recorder = smsc
    never = asyncio.Event()

    async def hang(pdu: SubmitSm) -> Pdu:
        await never.wait()
        return recorder.accept(pdu)

    recorder.answer = hang
    client = EsmeClient(config(server, window=10))
    await client.start()
    tasks = [asyncio.create_task(client.submit(submit(i))) for i in range(3)]

    async def all_arrived() -> bool:
        return len(recorder.submits) == 3

    await eventually(all_arrived, "the three submits to reach the server")
    recorder.connections[0].close()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, SubmitUnacknowledged) for r in results)
    # None of them was resent behind the caller's back.
    assert len(recorder.submits) == 3
    recorder.answer = recorder.accept
    response = await client.submit(submit(9))  # after the reconnect
    assert response.command_status == 0
    assert len(recorder.connections) == 2
    await client.stop()


async def test_response_timeout_drops_the_bind(smsc: tuple[SmscServer, Recorder]) -> None:
    server, recorder = smsc
    never = asyncio.Event()

    async def hang(pdu: SubmitSm) -> Pdu:
        await never.wait()
        return recorder.accept(pdu)

    recorder.answer = hang
    # Short, for the hang; the submit after the reconnect still has to be answered within it.
    client = EsmeClient(config(server, response_timeout=2.0))
    await client.start()
    with pytest.raises(SubmitUnacknowledged):
        await client.submit(submit())
    recorder.answer = recorder.accept
    assert (await client.submit(submit())).command_status == 0
    assert len(recorder.connections) == 2
    await client.stop()


async def test_deliver_sm_status_comes_from_the_application(
    smsc: tuple[SmscServer, Recorder],
) -> None:
    server, recorder = smsc
    received: list[DeliverSm] = []

    async def on_deliver(pdu: DeliverSm | object) -> int:
        assert isinstance(pdu, DeliverSm)
        received.append(pdu)
        if pdu.short_message == b"cannot store":
            return CommandStatus.ESME_RX_T_APPN
        return CommandStatus.ESME_ROK

    client = EsmeClient(config(server), on_deliver=on_deliver)  # type: ignore[arg-type]
    await client.start()
    conn = recorder.connections[0]
    ok = await conn.request(DeliverSm(source_addr="3584", short_message=b"hello"))
    refused = await conn.request(DeliverSm(source_addr="3584", short_message=b"cannot store"))
    assert isinstance(ok, DeliverSmResp)
    assert ok.command_status == 0
    assert refused.command_status == CommandStatus.ESME_RX_T_APPN
    assert [p.short_message for p in received] == [b"hello", b"cannot store"]
    await client.stop()


async def test_deliver_sm_answered_by_a_future_waits_for_it(
    smsc: tuple[SmscServer, Recorder],
) -> None:
    # The status writer answers with a future that completes once the receipt is committed:
    # the SMSC hears nothing before that, and a temporary error if storing it failed.
    server, recorder = smsc
    loop = asyncio.get_running_loop()
    pending: list[asyncio.Future[int | None]] = []
    both_arrived = asyncio.Event()

    def on_deliver(pdu: DeliverSm | object) -> asyncio.Future[int | None]:
        future: asyncio.Future[int | None] = loop.create_future()
        pending.append(future)
        if len(pending) == 2:
            both_arrived.set()
        return future

    client = EsmeClient(config(server), on_deliver=on_deliver)  # type: ignore[arg-type]
    await client.start()
    conn = recorder.connections[0]
    stored = asyncio.ensure_future(conn.request(DeliverSm(source_addr="3584", short_message=b"a")))
    failed = asyncio.ensure_future(conn.request(DeliverSm(source_addr="3584", short_message=b"b")))
    await both_arrived.wait()
    assert not stored.done() and not failed.done()
    pending[0].set_result(None)
    pending[1].set_exception(RuntimeError("database unavailable"))
    ok, refused = await stored, await failed
    assert isinstance(ok, DeliverSmResp)
    assert ok.command_status == 0
    assert refused.command_status == CommandStatus.ESME_RX_T_APPN
    await client.stop()


async def test_transmitter_receiver_pair(smsc: tuple[SmscServer, Recorder]) -> None:
    server, recorder = smsc
    client = EsmeClient(config(server, bind_mode=BindMode.TRANSMITTER_RECEIVER, binds=2))
    await client.start()

    async def all_bound() -> bool:
        return sum(1 for c in recorder.connections if c.bind) == 4

    await eventually(all_bound, "both pairs of binds to come up")
    modes = sorted(c.bind.mode.value for c in recorder.connections if c.bind)
    assert modes == ["rx", "rx", "tx", "tx"]
    for i in range(4):
        assert (await client.submit(submit(i))).command_status == 0
    await client.stop()


async def test_garbage_from_a_peer_does_not_stop_the_server(
    smsc: tuple[SmscServer, Recorder],
) -> None:
    server, _ = smsc
    loop = asyncio.get_running_loop()
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setblocking(False)
    # An unknown command id with a sane length, then an impossible command_length.
    await loop.sock_sendall(sock, struct.pack(">IIII", 16, 0x77, 0, 5))
    nack = await asyncio.wait_for(loop.sock_recv(sock, 16), 30)
    assert struct.unpack(">IIII", nack) == (16, 0x8000_0000, CommandStatus.ESME_RINVCMDID, 5)
    await loop.sock_sendall(sock, struct.pack(">IIII", 0xFFFF_FFFF, 4, 0, 6))

    async def until_dropped() -> None:
        with contextlib.suppress(ConnectionError):
            while await loop.sock_recv(sock, 64):
                pass  # its answer to the impossible length, then the end of the connection

    await asyncio.wait_for(until_dropped(), 30)
    sock.close()
    client = EsmeClient(config(server))
    await client.start()
    assert (await client.submit(submit())).command_status == 0
    await client.stop()
