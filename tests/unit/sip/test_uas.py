"""The answering side of a call (the simulator's phones), against our own caller's messages."""

from __future__ import annotations

import itertools

from tidings.sip import sdp
from tidings.sip.call import Call, CallConfig
from tidings.sip.message import Request, Response, parse_message
from tidings.sip.uas import (
    Cancelled,
    Confirmed,
    HungUp,
    IncomingCall,
    Terminated,
    UasState,
)

OFFER = sdp.build_offer(address="127.0.0.1", port=4000, session_id=1)


def _pair(ring_timeout: float = 30.0) -> tuple[Call, IncomingCall]:
    counter = itertools.count()
    call = Call(
        CallConfig(
            target="sip:+61411111110@127.0.0.2:5090",
            from_uri="sip:+61400000000@tidings.example",
            local_host="127.0.0.1",
            local_port=5070,
            ring_timeout=ring_timeout,
        ),
        offer=OFFER,
        now=0.0,
        new_id=lambda: f"c{next(counter)}",
    )
    call.start(0.0)
    [invite] = [parse_message(d) for d in call.take_outgoing()]
    assert isinstance(invite, Request)
    phone = IncomingCall(
        invite, contact="<sip:61411111110@127.0.0.2:5090>", reliable=False, now=0.0
    )
    return call, phone


def _deliver(source: Call | IncomingCall, target: Call | IncomingCall, now: float) -> list[object]:
    events: list[object] = []
    for data in source.take_outgoing():
        message = parse_message(data)
        events += target.receive(message, now)
    return events


def test_ring_answer_ack_and_bye_from_the_phone() -> None:
    call, phone = _pair()
    phone.ring()
    assert _deliver(phone, call, 0.1)  # Proceeding (100), Ringing (180)
    answer, _ = sdp.answer_offer(OFFER, address="127.0.0.2", port=6000, session_id=2)
    phone.answer(answer, 1.0)
    events = _deliver(phone, call, 1.0)
    assert call.media is not None and call.media.port == 6000
    assert _deliver(call, phone, 1.0) == [Confirmed()]
    assert phone.state is UasState.CONFIRMED
    phone.hangup(5.0)
    _deliver(phone, call, 5.0)
    assert call.ended is not None and call.ended.by_remote
    assert _deliver(call, phone, 5.1) == [HungUp(by_remote=False)]
    assert phone.state is UasState.ENDED
    assert events


def test_the_answer_is_retransmitted_until_the_ack() -> None:
    _, phone = _pair()
    answer, _ = sdp.answer_offer(OFFER, address="127.0.0.2", port=6000, session_id=2)
    phone.answer(answer, 0.0)
    phone.take_outgoing()
    times = []
    while (deadline := phone.next_deadline()) is not None and deadline < 40:
        phone.poll(deadline)
        sent = [parse_message(d) for d in phone.take_outgoing()]
        if any(isinstance(m, Response) and m.status == 200 for m in sent):
            times.append(deadline)
        if any(isinstance(m, Request) and m.method == "BYE" for m in sent):
            break
    # T1 doubling to T2 (0.5, 1.5, 3.5, 7.5, 11.5, ...); no ACK after 64·T1: a BYE.
    assert times[:5] == [0.5, 1.5, 3.5, 7.5, 11.5]
    assert phone.state is UasState.ENDING


def test_a_cancel_gets_200_then_487_and_the_ack_ends_it() -> None:
    call, phone = _pair(ring_timeout=2.0)
    phone.ring()
    _deliver(phone, call, 0.1)
    call.poll(2.0)  # the ring timeout: CANCEL
    assert _deliver(call, phone, 2.0) == [Cancelled()]
    answers = [parse_message(d) for d in phone.take_outgoing()]
    assert [(m.status, m.cseq.method) for m in answers if isinstance(m, Response)] == [
        (200, "CANCEL"),
        (487, "INVITE"),
    ]
    for message in answers:
        call.receive(message, 2.1)
    assert call.ended is not None and call.ended.status == 487
    assert _deliver(call, phone, 2.1) == [Terminated()]
    assert phone.state is UasState.ENDED


def test_a_refusal_is_acknowledged() -> None:
    call, phone = _pair()
    phone.refuse(486, 0.5)
    _deliver(phone, call, 0.5)
    assert call.ended is not None and call.ended.status == 486
    assert _deliver(call, phone, 0.5) == [Terminated()]
