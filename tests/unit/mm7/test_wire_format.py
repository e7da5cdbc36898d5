"""The MM7 wire format: round trips through both sides, the elements in the order of the
REL-6-MM7-1-4 schema, and the examples' layout of TS 23.140 Annex L read back.

The published REL-6-MM7-1-4.xsd could not be obtained here to validate against, so the
element sequences below are checked one by one against the schema's sequences as the
specification gives them (TS 23.140 §8.7 tables and Annex L)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from tidings.mm7 import codec, mime, soap
from tidings.mm7.endpoint import Endpoint, Role
from tidings.mm7.messages import (
    SUCCESS,
    Address,
    ContentPart,
    DeliverReq,
    DeliverRsp,
    DeliveryReportReq,
    DeliveryReportRsp,
    Fault,
    Status,
    SubmitReq,
    SubmitRsp,
)
from tidings.mm7.status import MessageClass, MMStatus, Priority, StatusClass, status_class

NS = soap.MM7_NS
ENV = soap.SOAP_ENV
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) + b"\r\n--not-a-boundary\r\n\xff\xd9"

# The schema's sequences (REL-6-MM7-1-4), for the elements tidings writes.
SUBMIT_REQ_SEQUENCE = [
    "MM7Version", "SenderIdentification", "Recipients", "PreferredChannels", "ServiceCode",
    "LinkedID", "MessageClass", "TimeStamp", "ReplyCharging", "EarliestDeliveryTime",
    "ExpiryDate", "DeliveryReport", "ReadReply", "Priority", "Subject", "ChargedParty",
    "ChargedPartyID", "ThirdPartyPayer", "DistributionIndicator", "DeliveryCondition",
    "ApplicID", "ReplyApplicID", "AuxApplicInfo", "ContentClass", "DRMContent", "Content",
]  # fmt: skip
SENDER_IDENTIFICATION_SEQUENCE = ["VASPID", "VASID", "SenderAddress"]
DELIVER_REQ_SEQUENCE = [
    "MM7Version", "MMSRelayServerID", "VASPID", "VASID", "LinkedID", "Sender", "Recipients",
    "Previouslysentby", "Previouslysentdateandtime", "SenderSPI", "RecipientSPI", "TimeStamp",
    "ReplyChargingID", "Priority", "Subject", "ApplicID", "ReplyApplicID", "AuxApplicInfo",
    "UACapabilities", "Content",
]  # fmt: skip
DELIVERY_REPORT_REQ_SEQUENCE = [
    "MM7Version", "MMSRelayServerID", "MessageID", "Recipient", "Sender", "Date", "MMStatus",
    "MMStatusExtension", "StatusText", "ApplicID", "ReplyApplicID", "AuxApplicInfo",
    "UACapabilities",
]  # fmt: skip
SUBMIT_RSP_SEQUENCE = ["MM7Version", "Status", "MessageID"]
DELIVER_RSP_SEQUENCE = ["MM7Version", "Status", "ServiceCode"]
STATUS_SEQUENCE = ["StatusCode", "StatusText", "Details"]


def _submit(**changes: object) -> SubmitReq:
    fields: dict[str, object] = {
        "recipients": (Address.number("+358401234567"), Address.number("+358401234568")),
        "content": (
            ContentPart("text/plain", "Hyvää päivää".encode(), "text1", "text1.txt", "utf-8"),
            ContentPart("image/jpeg", JPEG, "image1", "photo.jpg"),
        ),
        "vasp_id": "tidings",
        "vas_id": "news",
        "sender": Address.short_code("12345"),
        "service_code": "gold-sp33-im42",
        "linked_id": "L-1",
        "message_class": MessageClass.INFORMATIONAL,
        "timestamp": datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
        "expiry": datetime(2026, 12, 9, 8, 0, tzinfo=UTC),
        "priority": Priority.NORMAL,
        "subject": "News for today",
    }
    fields.update(changes)
    return SubmitReq(**fields)  # type: ignore[arg-type]


def _body_element(body: bytes, content_type: str) -> ET.Element:
    envelope = mime.decode(content_type, body).envelope
    root = ET.fromstring(envelope)
    assert root.tag == f"{{{ENV}}}Envelope"
    header, body_element = list(root)
    assert header.tag == f"{{{ENV}}}Header"
    (transaction,) = list(header)
    assert transaction.tag == f"{{{NS}}}TransactionID"
    assert transaction.get(f"{{{ENV}}}mustUnderstand") == "1"
    assert body_element.tag == f"{{{ENV}}}Body"
    (element,) = list(body_element)
    return element


def _names(element: ET.Element) -> list[str]:
    names = []
    for child in element:
        namespace, _, name = child.tag[1:].partition("}")
        assert namespace == NS, child.tag
        names.append(name)
    return names


def _in_schema_order(names: list[str], sequence: list[str]) -> None:
    positions = [sequence.index(name) for name in names]  # ValueError: not in the schema
    assert positions == sorted(positions), names
    assert len(set(names)) == len(names)


def test_a_submit_req_has_the_schema_s_elements_in_order() -> None:
    vasp = Endpoint(Role.VASP)
    request = vasp.send_request(_submit(), now=0)
    element = _body_element(request.http.body, request.http.content_type)
    assert element.tag == f"{{{NS}}}SubmitReq"
    names = _names(element)
    _in_schema_order(names, SUBMIT_REQ_SEQUENCE)
    assert names[:3] == ["MM7Version", "SenderIdentification", "Recipients"]
    assert element.findtext(f"{{{NS}}}MM7Version") == "6.8.0"
    identification = element.find(f"{{{NS}}}SenderIdentification")
    assert identification is not None
    _in_schema_order(_names(identification), SENDER_IDENTIFICATION_SEQUENCE)
    assert identification.findtext(f"{{{NS}}}VASPID") == "tidings"
    sender = identification.find(f"{{{NS}}}SenderAddress/{{{NS}}}ShortCode")
    assert sender is not None and sender.text == "12345"
    numbers = [n.text for n in element.iterfind(f"{{{NS}}}Recipients/{{{NS}}}To/{{{NS}}}Number")]
    assert numbers == ["+358401234567", "+358401234568"]
    assert element.findtext(f"{{{NS}}}DeliveryReport") == "true"
    assert element.findtext(f"{{{NS}}}TimeStamp") == "2026-12-07T08:00:00Z"
    content = element.find(f"{{{NS}}}Content")
    assert content is not None and content.get("href") == "cid:mms-content"
    assert content.get("allowAdaptations") == "true"


def test_the_content_travels_as_multipart_related_with_a_smil_first() -> None:
    vasp = Endpoint(Role.VASP)
    request = vasp.send_request(_submit(), now=0)
    content_type = request.http.content_type
    assert content_type.startswith("multipart/related;")
    assert 'type="text/xml"' in content_type and 'start="<mm7-soap>"' in content_type
    decoded = mime.decode(content_type, request.http.body)
    assert decoded.roots == ("mms-content",)
    parts = list(decoded.parts.values())
    assert [p.content_type for p in parts] == ["application/smil", "text/plain", "image/jpeg"]
    smil = ET.fromstring(parts[0].data)
    sources = [item.get("src") for item in smil.iter() if item.get("src")]
    assert sources == ["cid:image1", "cid:text1"]
    assert parts[2].data == JPEG  # binary, byte for byte
    assert parts[1].text() == "Hyvää päivää"


def test_every_message_survives_the_trip_between_the_two_sides() -> None:
    vasp, relay = Endpoint(Role.VASP), Endpoint(Role.RELAY)
    sent = _submit()
    request = vasp.send_request(sent, now=0)
    transaction_id, received = relay.receive_request(request.http.content_type, request.http.body)
    assert transaction_id == request.transaction_id
    assert received == sent
    answer = relay.answer(transaction_id, received, SubmitRsp(SUCCESS, "MSG-0001"))
    assert answer.status == 200
    response = vasp.receive_response(
        transaction_id, answer.status, answer.content_type, answer.body
    )
    assert response == SubmitRsp(Status(1000, "Success"), "MSG-0001")

    report = DeliveryReportReq(
        message_id="MSG-0001",
        recipient=Address.number("+358401234567"),
        sender=Address.short_code("12345"),
        date=datetime(2026, 12, 7, 8, 5, tzinfo=UTC),
        mm_status=MMStatus.RETRIEVED,
        status_text="Retrieved by the handset",
    )
    outgoing = relay.send_request(report, now=0)
    element = _body_element(outgoing.http.body, outgoing.http.content_type)
    _in_schema_order(_names(element), DELIVERY_REPORT_REQ_SEQUENCE)
    tid, got = vasp.receive_request(outgoing.http.content_type, outgoing.http.body)
    assert got == report
    rsp = vasp.answer(tid, got, DeliveryReportRsp(SUCCESS))
    assert relay.receive_response(tid, rsp.status, rsp.content_type, rsp.body) == (
        DeliveryReportRsp(Status(1000, "Success"))
    )

    mo = DeliverReq(
        sender=Address.number("+358401234567"),
        recipients=(Address.short_code("12345"),),
        content=(
            ContentPart("text/plain", b"STOP", "t", "t.txt", "us-ascii"),
            ContentPart("image/png", b"\x89PNG\r\n\x1a\n" + bytes(50), "p", "cat.png"),
        ),
        subject="Re: News",
        relay_server_id="mmsc.example",
        timestamp=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
        priority=Priority.HIGH,
    )
    outgoing = relay.send_request(mo, now=0)
    element = _body_element(outgoing.http.body, outgoing.http.content_type)
    _in_schema_order(_names(element), DELIVER_REQ_SEQUENCE)
    tid, got = vasp.receive_request(outgoing.http.content_type, outgoing.http.body)
    assert got == mo
    rsp = vasp.answer(tid, got, DeliverRsp(SUCCESS, service_code="free"))
    element = _body_element(rsp.body, rsp.content_type)
    _in_schema_order(_names(element), DELIVER_RSP_SEQUENCE)
    status = element.find(f"{{{NS}}}Status")
    assert status is not None
    _in_schema_order(_names(status), STATUS_SEQUENCE)
    assert relay.receive_response(tid, rsp.status, rsp.content_type, rsp.body) == DeliverRsp(
        Status(1000, "Success"), "free"
    )


def test_a_submit_rsp_and_a_fault_have_the_schema_s_shape() -> None:
    relay = Endpoint(Role.RELAY)
    request = Endpoint(Role.VASP).send_request(_submit(), now=0)
    tid, received = relay.receive_request(request.http.content_type, request.http.body)
    rsp = relay.answer(tid, received, SubmitRsp(SUCCESS, "M1"))
    element = _body_element(rsp.body, rsp.content_type)
    _in_schema_order(_names(element), SUBMIT_RSP_SEQUENCE)
    fault = relay.answer(tid, received, Fault(Status(2002, "Address error"), from_relay=True))
    assert fault.status == 500
    body = ET.fromstring(fault.body).find(f"{{{ENV}}}Body")
    assert body is not None
    (fault_element,) = list(body)
    assert fault_element.tag == f"{{{ENV}}}Fault"
    assert [child.tag for child in fault_element] == ["faultcode", "faultstring", "detail"]
    assert fault_element.findtext("faultcode") == "env:Client"
    error = fault_element.find(f"detail/{{{NS}}}RSErrorRsp")
    assert error is not None
    assert _names(error) == ["MM7Version", "Status"]
    assert error.findtext(f"{{{NS}}}Status/{{{NS}}}StatusCode") == "2002"


# A DeliverReq laid out as the specification's examples are: a default namespace on the body
# element, an earlier schema release, an element tidings does not model, the content as
# multipart/mixed with a binary (not base64) picture, and CRLF line ends throughout.
EXAMPLE_ENVELOPE = (
    b'<?xml version="1.0" ?>\r\n'
    b'<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">\r\n'
    b"<env:Header>\r\n"
    b'<mm7:TransactionID xmlns:mm7="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/'
    b'schema/REL-5-MM7-1-2" env:mustUnderstand="1">vas00001-deliver</mm7:TransactionID>\r\n'
    b"</env:Header>\r\n<env:Body>\r\n"
    b'<DeliverReq xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/'
    b'REL-5-MM7-1-2">\r\n'
    b"<MM7Version>5.6.0</MM7Version>\r\n"
    b"<MMSRelayServerID>240.17.43.6</MMSRelayServerID>\r\n"
    b"<LinkedID>wthr8391</LinkedID>\r\n"
    b"<Sender><Number>7255441234</Number></Sender>\r\n"
    b"<Recipients><To><ShortCode>1234</ShortCode></To></Recipients>\r\n"
    b"<TimeStamp>2002-04-02T10:04:00-05:00</TimeStamp>\r\n"
    b'<UACapabilities UAProf="profile" TimeStamp="2002-04-02T10:04:00-05:00"/>\r\n'
    b"<Priority>Normal</Priority>\r\n"
    b"<Subject>Weather Forecast</Subject>\r\n"
    b'<Content href="cid:SaturnPics-01020930@news.com" allowAdaptations="true"/>\r\n'
    b"</DeliverReq>\r\n</env:Body>\r\n</env:Envelope>"
)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\r\n\x00,;"
EXAMPLE_BODY = (
    b"--NextPart_000_0028_01C19839.84698430\r\n"
    b'Content-Type:text/xml; charset="utf-8"\r\n'
    b"Content-ID: </tnn-200102/mm7-deliver>\r\n\r\n"
    + EXAMPLE_ENVELOPE
    + b"\r\n--NextPart_000_0028_01C19839.84698430\r\n"
    b'Content-Type: multipart/mixed; boundary="StoryParts-74526-8432-2002-77645"\r\n'
    b"Content-ID:<SaturnPics-01020930@news.com>\r\n\r\n"
    b"--StoryParts-74526-8432-2002-77645\r\n"
    b'Content-Type: text/plain; charset="us-ascii"\r\n\r\n'
    b"Science news, new Saturn pictures...\r\n"
    b"--StoryParts-74526-8432-2002-77645\r\n"
    b"Content-Type: image/gif\r\n"
    b"Content-ID:<saturn.gif>\r\n"
    b"Content-Transfer-Encoding: binary\r\n\r\n"
    + GIF
    + b"\r\n--StoryParts-74526-8432-2002-77645--\r\n\r\n"
    b"--NextPart_000_0028_01C19839.84698430--\r\n"
)
EXAMPLE_TYPE = (
    'multipart/related; boundary="NextPart_000_0028_01C19839.84698430"; type=text/xml; '
    'start="</tnn-200102/mm7-deliver>"'
)


def test_the_specification_s_example_layout_is_read() -> None:
    transaction_id, message = Endpoint(Role.VASP).receive_request(EXAMPLE_TYPE, EXAMPLE_BODY)
    assert transaction_id == "vas00001-deliver"
    assert isinstance(message, DeliverReq)
    assert message.sender == Address.number("7255441234")
    assert message.recipients == (Address.short_code("1234"),)
    assert message.subject == "Weather Forecast"
    assert message.linked_id == "wthr8391"
    assert message.timestamp == datetime(2002, 4, 2, 15, 4, tzinfo=UTC)
    assert [p.content_type for p in message.content] == ["text/plain", "image/gif"]
    assert message.content[0].text() == "Science news, new Saturn pictures..."
    assert message.content[1].data == GIF


def test_status_codes_are_classed_as_the_specification_says() -> None:
    assert status_class(1000) is StatusClass.SUCCESS
    assert status_class(1100) is StatusClass.SUCCESS
    assert status_class(2002) is StatusClass.PERMANENT
    assert status_class(2999) is StatusClass.PERMANENT  # unknown: by its thousand
    assert status_class(3000) is StatusClass.TEMPORARY
    assert status_class(3002) is StatusClass.PERMANENT
    assert status_class(4006) is StatusClass.TEMPORARY
    assert status_class(4001) is StatusClass.PERMANENT


def test_codec_refuses_what_mm7_does_not_allow_to_send() -> None:
    from tidings.mm7.errors import LocalProtocolError

    with pytest.raises(LocalProtocolError):
        codec.encode(_submit(recipients=()), "t1")
    with pytest.raises(LocalProtocolError):
        codec.encode(_submit(timestamp=datetime(2026, 1, 1)), "t1")
    with pytest.raises(LocalProtocolError):
        Endpoint(Role.VASP).send_request(DeliverReq(sender=Address.number("1"), content=()), now=0)
