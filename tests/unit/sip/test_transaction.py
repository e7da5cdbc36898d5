"""Client transaction timers (RFC 3261 §17.1) as deadlines: nothing here sleeps."""

from __future__ import annotations

from tidings.sip.message import Headers, Request, parse_message, response_to
from tidings.sip.transaction import (
    ClientTransaction,
    Received,
    TimedOut,
    Transmit,
    TxState,
)


def _request(method: str) -> Request:
    return Request(
        method,
        "sip:bob@example.com",
        Headers.of(
            [
                ("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKtx1"),
                ("Max-Forwards", "70"),
                ("From", "<sip:a@b>;tag=1"),
                ("To", "<sip:bob@example.com>"),
                ("Call-ID", "c1"),
                ("CSeq", f"1 {method}"),
            ]
        ),
    )


def _retransmissions(tx: ClientTransaction, until: float) -> list[float]:
    times = []
    while (deadline := tx.next_deadline()) is not None and deadline <= until:
        events = tx.poll(deadline)
        times += [deadline for event in events if isinstance(event, Transmit)]
        if any(isinstance(event, TimedOut) for event in events):
            times.append(-deadline)
            break
    return times


def test_invite_over_udp_retransmits_on_timer_a_and_gives_up_on_timer_b() -> None:
    tx = ClientTransaction(_request("INVITE"), reliable=False, now=0.0)
    assert isinstance(tx.start()[0], Transmit)
    times = _retransmissions(tx, 100.0)
    # Timer A doubles from T1 (0.5 s): 0.5, 1.5, 3.5, 7.5, 15.5, 31.5; Timer B at 64·T1 = 32 s.
    assert times == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5, -32.0]
    assert tx.terminated


def test_non_invite_retransmissions_are_capped_at_t2_and_end_on_timer_f() -> None:
    tx = ClientTransaction(_request("BYE"), reliable=False, now=0.0)
    times = _retransmissions(tx, 100.0)
    sent = times[:-1]
    intervals = [b - a for a, b in zip([0.0, *sent[:-1]], sent, strict=True)]
    assert intervals[:4] == [0.5, 1.0, 2.0, 4.0]
    assert set(intervals[4:]) == {4.0}
    assert times[-1] == -32.0


def test_nothing_is_retransmitted_over_tcp() -> None:
    tx = ClientTransaction(_request("INVITE"), reliable=True, now=0.0)
    assert _retransmissions(tx, 100.0) == [-32.0]


def test_a_provisional_response_stops_invite_retransmissions() -> None:
    request = _request("INVITE")
    tx = ClientTransaction(request, reliable=False, now=0.0)
    events = tx.receive(response_to(request, 180, to_tag="t"), 0.2)
    assert [type(e) for e in events] == [Received]
    assert tx.state is TxState.PROCEEDING
    assert tx.next_deadline() is None


def test_a_failure_is_acknowledged_by_the_transaction_and_retransmissions_absorbed() -> None:
    request = _request("INVITE")
    tx = ClientTransaction(request, reliable=False, now=0.0)
    busy = response_to(request, 486, to_tag="t")
    events = tx.receive(busy, 0.1)
    assert isinstance(events[0], Transmit) and isinstance(events[1], Received)
    ack = parse_message(events[0].data)
    assert isinstance(ack, Request)
    assert ack.method == "ACK" and ack.cseq.number == 1
    assert ack.headers.get("Via") == request.headers.get("Via")  # same branch (§17.1.1.3)
    assert "tag=t" in (ack.headers.get("To") or "")
    # The same 486 again: ACK again, nothing for the call.
    again = tx.receive(busy, 1.0)
    assert [type(e) for e in again] == [Transmit]
    # Timer D: 32 s later the transaction is gone.
    assert tx.next_deadline() == 32.1
    tx.poll(32.1)
    assert tx.terminated


def test_a_non_invite_transaction_lingers_t4_after_its_final_response() -> None:
    request = _request("BYE")
    tx = ClientTransaction(request, reliable=False, now=0.0)
    assert [type(e) for e in tx.receive(response_to(request, 200), 0.1)] == [Received]
    assert tx.state is TxState.COMPLETED
    assert tx.receive(response_to(request, 200), 0.2) == []
    tx.poll(5.1)
    assert tx.terminated
