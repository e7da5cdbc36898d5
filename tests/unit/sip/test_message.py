"""SIP message parsing and serialising: strict, bounded, and never anything but our error."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.sip.errors import RemoteProtocolError
from tidings.sip.message import (
    CSeq,
    Headers,
    Limits,
    NameAddr,
    Request,
    Response,
    SipUri,
    StreamParser,
    Via,
    parse_message,
    response_to,
    split_list,
)

INVITE = (
    b"INVITE sip:+61411111111@trunk.example SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"v: SIP/2.0/UDP proxy.example;branch=z9hG4bKother\r\n"
    b"Max-Forwards: 70\r\n"
    b'f: "Alice" <sip:alice@example.com>;tag=1928301774\r\n'
    b"To: <sip:+61411111111@trunk.example>\r\n"
    b"i: a84b4c76e66710@pc33.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@10.0.0.1>, <sip:alice@10.0.0.2>\r\n"
    b"Subject: a long\r\n"
    b"  folded value\r\n"
    b"Content-Type: application/sdp\r\n"
    b"l: 4\r\n"
    b"\r\n"
    b"v=0\r\n"
)


def test_a_request_is_read_with_compact_forms_folding_and_lists() -> None:
    message = parse_message(INVITE)
    assert isinstance(message, Request)
    assert message.method == "INVITE"
    assert message.uri == "sip:+61411111111@trunk.example"
    assert message.call_id == "a84b4c76e66710@pc33.example.com"
    assert message.cseq == CSeq(314159, "INVITE")
    assert len(message.headers.get_all("Via")) == 2
    assert message.headers.get_all("Contact") == ["<sip:alice@10.0.0.1>", "<sip:alice@10.0.0.2>"]
    assert message.headers.get("Subject") == "a long folded value"
    # Over a datagram, the body is cut to Content-Length.
    assert message.body == b"v=0\r"
    sender = NameAddr.parse(message.headers.get("From") or "")
    assert (sender.display, sender.uri, sender.tag) == (
        "Alice",
        "sip:alice@example.com",
        "1928301774",
    )


def test_encoding_and_parsing_round_trip() -> None:
    request = Request(
        "BYE",
        "sip:bob@192.0.2.4",
        Headers.of(
            [
                ("Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc"),
                ("Max-Forwards", "70"),
                ("From", "<sip:a@b>;tag=1"),
                ("To", "<sip:c@d>;tag=2"),
                ("Call-ID", "x@y"),
                ("CSeq", "2 BYE"),
            ]
        ),
        b"hello",
    )
    again = parse_message(request.encode())
    assert again == Request(
        request.method, request.uri, request.headers.with_added("Content-Length", "5"), b"hello"
    )


def test_a_response_copies_what_rfc3261_says_it_must() -> None:
    request = parse_message(INVITE)
    assert isinstance(request, Request)
    response = response_to(request, 486, to_tag="xyz")
    parsed = parse_message(response.encode())
    assert isinstance(parsed, Response)
    assert (parsed.status, parsed.reason) == (486, "Busy Here")
    assert parsed.headers.get_all("Via") == request.headers.get_all("Via")
    assert NameAddr.parse(parsed.headers.get("To") or "").tag == "xyz"
    assert parsed.cseq == request.cseq
    assert parsed.branch == "z9hG4bK776asdhds"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"INVITE sip:a@b SIP/3.0\r\n\r\n", 505),
        (INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: 314159 BYE"), 400),
        (INVITE.replace(b"Max-Forwards: 70\r\n", b""), 400),
        (INVITE.replace(b"i: a84b4c76e66710@pc33.example.com\r\n", b""), 400),
        (INVITE.replace(b"l: 4", b"l: 400"), 400),
        (INVITE.replace(b"l: 4", b"l: -4"), 400),
        (INVITE.replace(b"CSeq: 314159", b"CSeq: 99999999999"), 400),
        (INVITE.replace(b"sip:+61411111111@trunk.example SIP", b"nothing SIP"), 416),
        (INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards 70"), 400),
        (b"SIP/2.0 99 Odd\r\nVia: SIP/2.0/UDP h\r\n\r\n", 400),
        (INVITE.replace(b"Alice", b"\xff\xfe"), 400),
        (INVITE[:40], 400),
        (b"X" * 70_000, 513),
        (b"INVITE sip:a@b SIP/2.0\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 513),
    ],
)
def test_malformed_messages_are_refused_with_the_status_to_answer(data: bytes, status: int) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        parse_message(data)
    assert caught.value.status_code == status


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_anything_but_a_protocol_error(data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        parse_message(data)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_messages_never_raise_anything_but_a_protocol_error(data: st.DataObject) -> None:
    message = bytearray(INVITE)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(message) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            message[position] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del message[position]
        else:
            message.insert(position, data.draw(st.sampled_from(b':;<>"\r\n ,=@0')))
    try:
        parsed = parse_message(bytes(message))
    except RemoteProtocolError:
        return
    # Whatever parses can be read the way the call reads it, or refuses the same way.
    try:
        assert parsed.cseq.number >= 0
        for via in parsed.headers.get_all("Via"):
            Via.parse(via)
    except RemoteProtocolError:
        pass


def test_a_stream_frames_messages_by_content_length_and_skips_keepalives() -> None:
    parser = StreamParser()
    data = b"\r\n\r\n" + INVITE.replace(b"l: 4", b"l: 5") + INVITE.replace(b"l: 4", b"l: 5")
    parser.feed(data[:100])
    assert parser.next_message() is None
    parser.feed(data[100:])
    first, second = parser.next_message(), parser.next_message()
    assert isinstance(first, Request) and isinstance(second, Request)
    assert first.body == b"v=0\r\n"
    assert parser.next_message() is None


def test_a_stream_without_content_length_cannot_be_framed() -> None:
    parser = StreamParser()
    parser.feed(INVITE.replace(b"l: 4\r\n", b""))
    with pytest.raises(RemoteProtocolError) as caught:
        parser.next_message()
    assert caught.value.fatal


def test_a_stream_refuses_an_endless_header_section() -> None:
    parser = StreamParser(Limits(max_header_bytes=1000))
    parser.feed(b"INVITE sip:a@b SIP/2.0\r\n" + b"X: y\r\n" * 300)
    with pytest.raises(RemoteProtocolError) as caught:
        parser.next_message()
    assert caught.value.fatal and caught.value.status_code == 513


def test_header_values() -> None:
    assert split_list('"a, b" <sip:x>, <sip:y;p=1,2>') == ['"a, b" <sip:x>', "<sip:y;p=1,2>"]
    via = Via.parse("SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKx;received=1.2.3.4")
    assert (via.transport, via.host, via.port, via.branch) == (
        "TCP",
        "[2001:db8::1]",
        5061,
        "z9hG4bKx",
    )
    uri = SipUri.parse("sip:+614@trunk.example:5080;transport=tcp")
    assert (uri.user, uri.host, uri.port, uri.params) == (
        "+614",
        "trunk.example",
        5080,
        {"transport": "tcp"},
    )
    assert NameAddr.parse("sip:bob@b;tag=9").tag == "9"
    for bad in ("SIP/2.0/UDP", "SIP/2.0/UDP host:99999", "HTTP/1.1/TCP h"):
        with pytest.raises(RemoteProtocolError):
            Via.parse(bad)
