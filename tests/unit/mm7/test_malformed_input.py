"""Whatever arrives, the MM7 side answers with a fault and never crashes: malformed XML and
MIME, DTDs and entities, bodies over the limits, operations the side does not take."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.mm7.test_wire_format import EXAMPLE_BODY, EXAMPLE_TYPE, _submit
from tidings.mm7 import mime, soap
from tidings.mm7.endpoint import Endpoint, Role
from tidings.mm7.errors import RemoteProtocolError
from tidings.mm7.messages import SUCCESS, ContentPart, Fault, SubmitRsp
from tidings.mm7.status import StatusCode


def _refused(content_type: str, body: bytes, role: Role = Role.VASP) -> RemoteProtocolError:
    endpoint = Endpoint(role, limits=mime.Limits(max_bytes=64 * 1024, max_parts=8))
    with pytest.raises(RemoteProtocolError) as caught:
        endpoint.receive_request(content_type, body)
    answer = endpoint.error_answer(caught.value)
    assert answer.status == 500
    fault = ET.fromstring(answer.body).find(f"{{{soap.SOAP_ENV}}}Body/{{{soap.SOAP_ENV}}}Fault")
    assert fault is not None
    error = "RSErrorRsp" if role is Role.RELAY else "VASPErrorRsp"
    ns = soap.MM7_NS
    code = fault.findtext(f"detail/{{{ns}}}{error}/{{{ns}}}Status/{{{ns}}}StatusCode")
    assert code == str(caught.value.status)
    return caught.value


@given(
    st.binary(max_size=2000),
    st.sampled_from(["text/xml", EXAMPLE_TYPE, "multipart/related; boundary=x"]),
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_random_bytes_are_refused_not_crashed_on(body: bytes, content_type: str) -> None:
    endpoint = Endpoint(Role.VASP)
    try:
        endpoint.receive_request(content_type, body)
    except RemoteProtocolError as error:
        endpoint.error_answer(error)


@given(st.data())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_damaged_real_messages_are_refused_or_read_never_crashed_on(data: st.DataObject) -> None:
    body = bytearray(EXAMPLE_BODY)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(body) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "dup"]))
        if action == "flip":
            body[position] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del body[position : position + data.draw(st.integers(1, 40))]
        else:
            body[position:position] = body[position : position + 30]
        if not body:
            break
    endpoint = Endpoint(Role.VASP)
    try:
        endpoint.receive_request(EXAMPLE_TYPE, bytes(body))
    except RemoteProtocolError as error:
        endpoint.error_answer(error)


def test_a_dtd_and_entities_are_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>'
        b"&lol2;</env:Body></env:Envelope>"
    )
    error = _refused("text/xml", bomb)
    assert "DTD" in error.message
    external = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"/>'
    )
    _refused("text/xml", external)


def test_limits_are_enforced() -> None:
    assert "over 65,536 bytes" in _refused(EXAMPLE_TYPE, EXAMPLE_BODY + bytes(70_000)).message
    many = tuple(
        ContentPart("text/plain", f"part {n}".encode(), f"t{n}", f"t{n}.txt") for n in range(20)
    )
    request = Endpoint(Role.VASP).send_request(_submit(content=many), now=0)
    refused = _refused(request.http.content_type, request.http.body, role=Role.RELAY)
    assert "more than 8 parts" in refused.message
    deep = b"<a>" * 40 + b"</a>" * 40
    envelope = (
        b'<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>'
        + deep
        + b"</env:Body></env:Envelope>"
    )
    assert "deeper" in _refused("text/xml", envelope).message


def test_the_wrong_operation_for_the_side_is_refused_with_its_status() -> None:
    # A VASP does not take SubmitReq: that is what it sends.
    request = Endpoint(Role.VASP).send_request(_submit(), now=0)
    error = _refused(request.http.content_type, request.http.body, role=Role.VASP)
    assert error.status == StatusCode.UNSUPPORTED_OPERATION
    assert error.transaction_id == request.transaction_id


def test_a_request_without_a_transaction_id_is_refused() -> None:
    request = Endpoint(Role.VASP).send_request(_submit(), now=0)
    body = request.http.body.replace(b"mm7:TransactionID", b"mm7:Other")
    assert "TransactionID" in _refused(request.http.content_type, body, role=Role.RELAY).message


def test_answers_are_matched_to_their_transaction_and_deadline() -> None:
    vasp, relay = Endpoint(Role.VASP, response_timeout=30), Endpoint(Role.RELAY)
    first = vasp.send_request(_submit(), now=100)
    second = vasp.send_request(_submit(), now=110)
    tid, received = relay.receive_request(first.http.content_type, first.http.body)
    answer = relay.answer(tid, received, SubmitRsp(SUCCESS, "M"))
    # The answer to the first request does not answer the second.
    with pytest.raises(RemoteProtocolError, match="not " + second.transaction_id):
        vasp.receive_response(second.transaction_id, 200, answer.content_type, answer.body)
    assert vasp.expired(now=129) == []
    assert vasp.expired(now=130) == [first.transaction_id]
    assert vasp.open_transactions == 0


def test_http_refusals_become_faults_the_transport_can_class() -> None:
    vasp = Endpoint(Role.VASP)
    for http_status, code in ((401, 4001), (503, 3000), (404, 2000)):
        request = vasp.send_request(_submit(), now=0)
        answer = vasp.receive_response(request.transaction_id, http_status, "text/html", b"<h1>no")
        assert isinstance(answer, Fault) and answer.status.code == code
