"""One outbound call against a scripted far end: every path a trunk can take it down."""

from __future__ import annotations

import itertools

import pytest

from tidings.sip import sdp
from tidings.sip.call import (
    Answered,
    Call,
    CallConfig,
    CallState,
    Credentials,
    Ended,
    InfoDigit,
    Outcome,
    Proceeding,
    Ringing,
    outcome_of_final,
)
from tidings.sip.message import Headers, NameAddr, Request, Response, parse_message, response_to

ANSWER_SDP = sdp.answer_offer(
    sdp.build_offer(address="127.0.0.1", port=4000, session_id=1),
    address="127.0.0.2",
    port=5000,
    session_id=2,
)[0]


def _call(**config: object) -> Call:
    counter = itertools.count()
    settings = {
        "target": "sip:+61411111111@trunk.example",
        "from_uri": "sip:+61400000000@tidings.example",
        "local_host": "127.0.0.1",
        "local_port": 5070,
        "ring_timeout": 30.0,
        **config,
    }
    call = Call(
        CallConfig(**settings),  # type: ignore[arg-type]
        offer=sdp.build_offer(address="127.0.0.1", port=4000, session_id=1),
        now=0.0,
        new_id=lambda: f"id{next(counter)}",
    )
    call.start(0.0)
    return call


def _sent(call: Call) -> list[Request | Response]:
    return [parse_message(data) for data in call.take_outgoing()]


def _only_request(call: Call, method: str) -> Request:
    messages = [m for m in _sent(call) if isinstance(m, Request) and m.method == method]
    assert len(messages) == 1, messages
    return messages[0]


def _ok(invite: Request, *, record_route: tuple[str, ...] = ()) -> Response:
    headers = [("Contact", "<sip:far@127.0.0.2:5090>")]
    headers += [("Record-Route", route) for route in record_route]
    headers.append(("Content-Type", "application/sdp"))
    return response_to(invite, 200, to_tag="far", headers=headers, body=ANSWER_SDP)


def test_an_answered_call_acknowledges_plays_and_says_bye() -> None:
    call = _call()
    invite = _only_request(call, "INVITE")
    assert invite.headers.get("Content-Type") == "application/sdp"
    assert b"m=audio 4000 RTP/AVP 0 8 101" in invite.body
    assert call.receive(response_to(invite, 100), 0.1) == [Proceeding(100)]
    assert call.receive(response_to(invite, 180, to_tag="far"), 0.2) == [Ringing(180)]
    assert call.state is CallState.RINGING
    events = call.receive(_ok(invite, record_route=("<sip:p2;lr>", "<sip:p1;lr>")), 1.0)
    assert isinstance(events[0], Answered)
    assert (events[0].media.address, events[0].media.port) == ("127.0.0.2", 5000)
    ack = _only_request(call, "ACK")
    assert ack.uri == "sip:far@127.0.0.2:5090"  # the remote target (§12.1.2)
    assert ack.headers.get_all("Route") == ["<sip:p1;lr>", "<sip:p2;lr>"]  # reversed
    assert ack.cseq.number == invite.cseq.number
    # A retransmitted 200 (our ACK was lost) is acknowledged again.
    assert call.receive(_ok(invite), 1.5) == []
    assert _only_request(call, "ACK").cseq.number == invite.cseq.number
    call.hangup(9.0)
    bye = _only_request(call, "BYE")
    assert bye.cseq.number == invite.cseq.number + 1
    assert NameAddr.parse(bye.headers.get("To") or "").tag == "far"
    events = call.receive(response_to(bye, 200), 9.1)
    assert events == [Ended(Outcome.COMPLETED, None, "hung up", False)]
    assert call.duration == pytest.approx(8.1)


def test_the_far_end_hangs_up() -> None:
    call = _call()
    invite = _only_request(call, "INVITE")
    call.receive(_ok(invite), 1.0)
    call.take_outgoing()
    bye = Request(
        "BYE",
        "sip:+61400000000@127.0.0.1:5070",
        Headers.of(
            [
                ("Via", "SIP/2.0/UDP 127.0.0.2:5090;branch=z9hG4bKfar1"),
                ("Max-Forwards", "70"),
                ("From", "<sip:+61411111111@trunk.example>;tag=far"),
                ("To", f"<sip:+61400000000@tidings.example>;tag={call.local_tag}"),
                ("Call-ID", call.call_id),
                ("CSeq", "1 BYE"),
            ]
        ),
    )
    events = call.receive(bye, 4.0)
    assert events == [Ended(Outcome.COMPLETED, None, "hung up by the far end", True)]
    (ok,) = _sent(call)
    assert isinstance(ok, Response) and ok.status == 200
    # Its retransmission gets the same answer and changes nothing.
    assert call.receive(bye, 4.5) == []
    assert isinstance(_sent(call)[0], Response)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (486, Outcome.BUSY),
        (600, Outcome.BUSY),
        (408, Outcome.NO_ANSWER),
        (480, Outcome.NO_ANSWER),
        (603, Outcome.REJECTED),
        (404, Outcome.FAILED),
        (503, Outcome.FAILED),
        (302, Outcome.FAILED),
    ],
)
def test_final_responses_map_to_true_statuses_and_keep_the_code(
    status: int, outcome: Outcome
) -> None:
    call = _call()
    invite = _only_request(call, "INVITE")
    events = call.receive(response_to(invite, status, to_tag="far"), 0.5)
    assert len(events) == 1 and isinstance(events[0], Ended)
    assert (events[0].outcome, events[0].status) == (outcome, status)
    assert outcome_of_final(status) is outcome
    assert _only_request(call, "ACK").cseq.method == "ACK"


def test_the_ring_timeout_cancels_and_487_means_no_answer() -> None:
    call = _call(ring_timeout=20.0)
    invite = _only_request(call, "INVITE")
    call.receive(response_to(invite, 180, to_tag="far"), 0.5)
    assert call.next_deadline() == 20.0
    call.poll(20.0)
    cancel = _only_request(call, "CANCEL")
    # §9.1: same Request-URI, Call-ID, CSeq number and top Via as the INVITE.
    assert cancel.uri == invite.uri and cancel.cseq.number == invite.cseq.number
    assert cancel.headers.get("Via") == invite.headers.get("Via")
    call.receive(response_to(cancel, 200, to_tag="far"), 20.1)
    events = call.receive(response_to(invite, 487, to_tag="far"), 20.2)
    assert events == [Ended(Outcome.NO_ANSWER, 487, "Request Terminated", False)]


def test_a_cancel_waits_for_a_provisional_response() -> None:
    call = _call(ring_timeout=5.0)
    _only_request(call, "INVITE")
    call.poll(5.0)
    assert [m for m in _sent(call) if isinstance(m, Request) and m.method == "CANCEL"] == []
    assert call.state is CallState.CANCELLING


def test_an_answer_that_crosses_our_cancel_is_acknowledged_and_hung_up() -> None:
    call = _call(ring_timeout=5.0)
    invite = _only_request(call, "INVITE")
    call.receive(response_to(invite, 180, to_tag="far"), 0.5)
    call.poll(5.0)
    _only_request(call, "CANCEL")
    call.receive(_ok(invite), 5.1)
    sent = {m.method for m in _sent(call) if isinstance(m, Request)}
    assert sent == {"ACK", "BYE"}
    assert call.state is CallState.ENDING


def test_no_response_at_all_is_a_failure_after_timer_b() -> None:
    call = _call()
    _only_request(call, "INVITE")
    events = []
    while call.ended is None:
        deadline = call.next_deadline()
        assert deadline is not None
        events += call.poll(deadline)
    assert events == [Ended(Outcome.FAILED, 408, "no response from the trunk", False)]
    assert call.ended_at == 32.0


@pytest.mark.parametrize(
    ("status", "header"), [(401, "Authorization"), (407, "Proxy-Authorization")]
)
def test_a_challenge_is_answered_once_with_digest_credentials(status: int, header: str) -> None:
    call = _call(credentials=Credentials("trunkuser", "s3cret"))
    invite = _only_request(call, "INVITE")
    challenge_header = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
    challenge = response_to(
        invite,
        status,
        to_tag="far",
        headers=[(challenge_header, 'Digest realm="trunk", nonce="n1", qop="auth"')],
    )
    call.receive(challenge, 0.1)
    sent = _sent(call)
    assert [m.method for m in sent if isinstance(m, Request)] == ["ACK", "INVITE"]
    again = sent[1]
    assert isinstance(again, Request)
    assert again.cseq.number == invite.cseq.number + 1
    assert again.call_id == invite.call_id
    credentials = again.headers.get(header) or ""
    assert 'username="trunkuser"' in credentials and 'realm="trunk"' in credentials
    # The same challenge again: the credentials were refused, the call fails with its code.
    events = call.receive(
        response_to(
            again,
            status,
            to_tag="far",
            headers=[(challenge_header, 'Digest realm="trunk", nonce="n2"')],
        ),
        0.2,
    )
    assert events == [Ended(Outcome.FAILED, status, challenge.reason, False)]


def test_a_challenge_without_credentials_is_a_failure() -> None:
    call = _call()
    invite = _only_request(call, "INVITE")
    events = call.receive(
        response_to(
            invite, 401, to_tag="f", headers=[("WWW-Authenticate", 'Digest realm="r", nonce="n"')]
        ),
        0.1,
    )
    assert isinstance(events[0], Ended) and events[0].status == 401


def test_an_unusable_answer_is_acknowledged_and_hung_up_as_a_failure() -> None:
    call = _call()
    invite = _only_request(call, "INVITE")
    ok = response_to(
        invite,
        200,
        to_tag="far",
        headers=[("Contact", "<sip:far@127.0.0.2>")],
        body=b"v=0\r\nm=audio 5000 RTP/AVP 18\r\nc=IN IP4 127.0.0.2\r\n",
    )
    assert call.receive(ok, 0.5) == []
    bye = next(m for m in _sent(call) if isinstance(m, Request) and m.method == "BYE")
    events = call.receive(response_to(bye, 200), 0.6)
    assert len(events) == 1 and isinstance(events[0], Ended)
    assert events[0].outcome is Outcome.FAILED and "SDP" in events[0].reason


def test_dtmf_as_sip_info_is_reported() -> None:
    call = _call()
    invite = _only_request(call, "INVITE")
    call.receive(_ok(invite), 1.0)
    call.take_outgoing()
    info = Request(
        "INFO",
        "sip:x@127.0.0.1:5070",
        Headers.of(
            [
                ("Via", "SIP/2.0/UDP 127.0.0.2:5090;branch=z9hG4bKinfo"),
                ("Max-Forwards", "70"),
                ("From", "<sip:+61411111111@trunk.example>;tag=far"),
                ("To", f"<sip:+61400000000@tidings.example>;tag={call.local_tag}"),
                ("Call-ID", call.call_id),
                ("CSeq", "2 INFO"),
                ("Content-Type", "application/dtmf-relay"),
            ]
        ),
        b"Signal=5\r\nDuration=160\r\n",
    )
    assert call.receive(info, 2.0) == [InfoDigit("5")]


def test_requests_outside_the_dialog_get_481() -> None:
    call = _call()
    invite = _only_request(call, "INVITE")
    call.receive(_ok(invite), 1.0)
    call.take_outgoing()
    stranger = Request(
        "BYE",
        "sip:x@127.0.0.1",
        Headers.of(
            [
                ("Via", "SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKevil"),
                ("Max-Forwards", "70"),
                ("From", "<sip:evil@x>;tag=nope"),
                ("To", "<sip:y@z>;tag=nope"),
                ("Call-ID", call.call_id),
                ("CSeq", "1 BYE"),
            ]
        ),
    )
    assert call.receive(stranger, 2.0) == []
    (answer,) = _sent(call)
    assert isinstance(answer, Response) and answer.status == 481
    assert call.state is CallState.ANSWERED
