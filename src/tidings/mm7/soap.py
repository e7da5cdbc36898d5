"""SOAP 1.1 envelopes of MM7 messages (TS 23.140 Annex L; schema REL-6-MM7-1-4).

Serialising writes the elements in the schema's sequence order. Parsing refuses a DTD (and so
every entity, the "billion laughs" and external entity attacks), bounds the depth and size it
reads, and raises :class:`RemoteProtocolError` with status 2007 for anything it cannot read;
it never raises anything else.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as defused

from tidings.mm7.errors import LocalProtocolError, RemoteProtocolError
from tidings.mm7.messages import (
    MM7_VERSION,
    Address,
    AddressKind,
    DeliverReq,
    DeliverRsp,
    DeliveryReportReq,
    DeliveryReportRsp,
    Fault,
    Message,
    Status,
    SubmitReq,
    SubmitRsp,
)
from tidings.mm7.status import ChargedParty, MessageClass, MMStatus, Priority, StatusCode

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MM7_NS = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4"
# Earlier schema releases a relay may still speak; their elements are read the same way.
KNOWN_NAMESPACES = (
    MM7_NS,
    "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-3",
    "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-2",
    "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-1",
    "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-0",
    "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-3",
    "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2",
    "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-1",
    "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-0",
)
MAX_ENVELOPE_BYTES = 256 * 1024
MAX_DEPTH = 16
# Schema limits tidings enforces on what it writes and reads.
MAX_RECIPIENTS = 1000
MAX_ID_LENGTH = 100
MAX_TEXT_LENGTH = 2000

ET.register_namespace("env", SOAP_ENV)
ET.register_namespace("mm7", MM7_NS)


def _q(name: str, namespace: str = MM7_NS) -> str:
    return f"{{{namespace}}}{name}"


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise LocalProtocolError("MM7 date-times must be aware (xs:dateTime with a zone)")
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _bool(value: bool) -> str:
    return "true" if value else "false"


class _Writer:
    """Builds the body element of one message, child by child in schema order."""

    def __init__(self, name: str) -> None:
        self.root = ET.Element(_q(name))

    def text(self, parent: ET.Element, name: str, value: str | None) -> None:
        if value is None:
            return
        if len(value) > MAX_TEXT_LENGTH:
            raise LocalProtocolError(f"{name} is longer than {MAX_TEXT_LENGTH} characters")
        ET.SubElement(parent, _q(name)).text = value

    def address(self, parent: ET.Element, name: str, address: Address) -> None:
        holder = ET.SubElement(parent, _q(name))
        _address_into(holder, address)


def _address_into(holder: ET.Element, address: Address) -> None:
    if not address.value or len(address.value) > MAX_ID_LENGTH:
        raise LocalProtocolError(f"address {address.value!r} is empty or too long")
    ET.SubElement(holder, _q(address.kind.value)).text = address.value


def _status_into(parent: ET.Element, status: Status) -> None:
    holder = ET.SubElement(parent, _q("Status"))
    ET.SubElement(holder, _q("StatusCode")).text = str(status.code)
    ET.SubElement(holder, _q("StatusText")).text = status.text or _default_text(status.code)


def _default_text(code: int) -> str:
    try:
        return StatusCode(code).name.replace("_", " ").capitalize()
    except ValueError:
        return "Status"


def _body(message: Message, content_id: str | None) -> ET.Element:
    if isinstance(message, SubmitReq):
        return _submit_req(message, content_id)
    if isinstance(message, DeliverReq):
        return _deliver_req(message, content_id)
    if isinstance(message, DeliveryReportReq):
        return _delivery_report_req(message)
    if isinstance(message, Fault):
        return _fault(message)
    name = {
        SubmitRsp: "SubmitRsp",
        DeliverRsp: "DeliverRsp",
        DeliveryReportRsp: "DeliveryReportRsp",
    }[type(message)]
    writer = _Writer(name)
    writer.text(writer.root, "MM7Version", MM7_VERSION)
    _status_into(writer.root, message.status)
    if isinstance(message, SubmitRsp):
        writer.text(writer.root, "MessageID", message.message_id)
    elif isinstance(message, DeliverRsp):
        writer.text(writer.root, "ServiceCode", message.service_code)
    return writer.root


def _content(parent: ET.Element, content_id: str | None, allow_adaptations: bool | None) -> None:
    if content_id is None:
        return
    element = ET.SubElement(parent, _q("Content"), {"href": f"cid:{content_id}"})
    if allow_adaptations is not None:
        element.set("allowAdaptations", _bool(allow_adaptations))


def _submit_req(message: SubmitReq, content_id: str | None) -> ET.Element:
    if not message.recipients and not message.cc and not message.bcc:
        raise LocalProtocolError("a SubmitReq needs at least one recipient")
    if len(message.recipients) + len(message.cc) + len(message.bcc) > MAX_RECIPIENTS:
        raise LocalProtocolError(f"a SubmitReq takes at most {MAX_RECIPIENTS} recipients")
    writer = _Writer("SubmitReq")
    root = writer.root
    writer.text(root, "MM7Version", MM7_VERSION)
    identification = ET.SubElement(root, _q("SenderIdentification"))
    writer.text(identification, "VASPID", message.vasp_id)
    writer.text(identification, "VASID", message.vas_id)
    if message.sender is not None:
        writer.address(identification, "SenderAddress", message.sender)
    recipients = ET.SubElement(root, _q("Recipients"))
    for name, group in (("To", message.recipients), ("Cc", message.cc), ("Bcc", message.bcc)):
        if group:
            holder = ET.SubElement(recipients, _q(name))
            for address in group:
                _address_into(holder, address)
    writer.text(root, "ServiceCode", message.service_code)
    writer.text(root, "LinkedID", message.linked_id)
    writer.text(root, "MessageClass", message.message_class)
    writer.text(root, "TimeStamp", _timestamp(message.timestamp) if message.timestamp else None)
    writer.text(root, "ExpiryDate", _timestamp(message.expiry) if message.expiry else None)
    writer.text(root, "DeliveryReport", _bool(message.delivery_report))
    if message.read_reply is not None:
        writer.text(root, "ReadReply", _bool(message.read_reply))
    writer.text(root, "Priority", message.priority)
    writer.text(root, "Subject", message.subject)
    writer.text(root, "ChargedParty", message.charged_party)
    _content(root, content_id, message.allow_adaptations)
    return root


def _deliver_req(message: DeliverReq, content_id: str | None) -> ET.Element:
    writer = _Writer("DeliverReq")
    root = writer.root
    writer.text(root, "MM7Version", MM7_VERSION)
    writer.text(root, "MMSRelayServerID", message.relay_server_id)
    writer.text(root, "LinkedID", message.linked_id)
    writer.address(root, "Sender", message.sender)
    if message.recipients:
        recipients = ET.SubElement(root, _q("Recipients"))
        holder = ET.SubElement(recipients, _q("To"))
        for address in message.recipients:
            _address_into(holder, address)
    writer.text(root, "TimeStamp", _timestamp(message.timestamp) if message.timestamp else None)
    writer.text(root, "Priority", message.priority)
    writer.text(root, "Subject", message.subject)
    _content(root, content_id, None)
    return root


def _delivery_report_req(message: DeliveryReportReq) -> ET.Element:
    writer = _Writer("DeliveryReportReq")
    root = writer.root
    writer.text(root, "MM7Version", MM7_VERSION)
    writer.text(root, "MMSRelayServerID", message.relay_server_id)
    writer.text(root, "MessageID", message.message_id)
    writer.address(root, "Recipient", message.recipient)
    writer.address(root, "Sender", message.sender)
    writer.text(root, "Date", _timestamp(message.date))
    writer.text(root, "MMStatus", message.mm_status)
    writer.text(root, "StatusText", message.status_text)
    return root


def _fault(message: Fault) -> ET.Element:
    fault = ET.Element(_q("Fault", SOAP_ENV))
    # faultcode, faultstring and detail are unqualified in SOAP 1.1 (§4.4).
    ET.SubElement(fault, "faultcode").text = f"env:{message.fault_code}"
    ET.SubElement(fault, "faultstring").text = message.fault_string or _default_text(
        message.status.code
    )
    detail = ET.SubElement(fault, "detail")
    error = ET.SubElement(detail, _q("RSErrorRsp" if message.from_relay else "VASPErrorRsp"))
    ET.SubElement(error, _q("MM7Version")).text = MM7_VERSION
    _status_into(error, message.status)
    return fault


def envelope(message: Message, transaction_id: str, content_id: str | None = None) -> bytes:
    """The SOAP envelope of ``message``; ``content_id`` is the Content-ID its ``Content``
    element refers to (the MIME part holding the multimedia content)."""
    if not transaction_id or len(transaction_id) > MAX_ID_LENGTH:
        raise LocalProtocolError("a TransactionID is 1 to 100 characters")
    root = ET.Element(_q("Envelope", SOAP_ENV))
    header = ET.SubElement(root, _q("Header", SOAP_ENV))
    ET.SubElement(
        header, _q("TransactionID"), {_q("mustUnderstand", SOAP_ENV): "1"}
    ).text = transaction_id
    body = ET.SubElement(root, _q("Body", SOAP_ENV))
    body.append(_body(message, content_id))
    serialised: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return serialised


# --- parsing ---


def _parse_xml(data: bytes) -> ET.Element:
    if len(data) > MAX_ENVELOPE_BYTES:
        raise RemoteProtocolError(f"the SOAP envelope is over {MAX_ENVELOPE_BYTES} bytes")
    try:
        root: ET.Element = defused.fromstring(data, forbid_dtd=True, forbid_entities=True)
    except DefusedXmlException:
        raise RemoteProtocolError("a DTD or entity declaration in an MM7 envelope") from None
    except ET.ParseError as error:
        raise RemoteProtocolError(f"the SOAP envelope is not XML: {error}") from None
    if _depth(root) > MAX_DEPTH:
        raise RemoteProtocolError(f"the SOAP envelope nests deeper than {MAX_DEPTH} levels")
    return root


def _depth(element: ET.Element, level: int = 1) -> int:
    if level > MAX_DEPTH:
        return level
    return max((_depth(child, level + 1) for child in element), default=level)


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return None, tag


class _Reader:
    """Reads one MM7 element's children by local name (within a known MM7 namespace)."""

    def __init__(self, element: ET.Element) -> None:
        self.element = element
        self.name = _local(element.tag)[1]

    def child(self, name: str) -> ET.Element | None:
        for child in self.element:
            namespace, local = _local(child.tag)
            if local == name and (namespace is None or namespace in KNOWN_NAMESPACES):
                return child
        return None

    def text(
        self, name: str, *, required: bool = False, limit: int = MAX_TEXT_LENGTH
    ) -> str | None:
        child = self.child(name)
        value = None if child is None else (child.text or "").strip()
        if not value:
            if required:
                raise RemoteProtocolError(f"{self.name} has no {name}")
            return None
        if len(value) > limit:
            raise RemoteProtocolError(f"{self.name}'s {name} is longer than {limit} characters")
        return value

    def address(self, name: str, *, required: bool = False) -> Address | None:
        holder = self.child(name)
        if holder is None:
            if required:
                raise RemoteProtocolError(f"{self.name} has no {name}")
            return None
        found = _addresses(holder)
        if not found:
            raise RemoteProtocolError(f"{self.name}'s {name} holds no address")
        return found[0]

    def date(self, name: str, *, required: bool = False) -> datetime | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise RemoteProtocolError(
                f"{self.name}'s {name} is not a date-time: {value!r}"
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def enum(self, name: str, kind: Callable[[str], Any]) -> Any:
        value = self.text(name)
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            raise RemoteProtocolError(f"{self.name}'s {name} is not valid: {value!r}") from None

    def content_id(self) -> str | None:
        content = self.child("Content")
        if content is None:
            return None
        href = content.get("href", "")
        if not href.lower().startswith("cid:") or len(href) > MAX_ID_LENGTH + 4:
            raise RemoteProtocolError(f"{self.name}'s Content href is not a cid: URI")
        return href[4:]

    def status(self) -> Status:
        holder = self.child("Status")
        if holder is None:
            raise RemoteProtocolError(f"{self.name} has no Status")
        status = _Reader(holder)
        code_text = status.text("StatusCode", required=True, limit=8)
        assert code_text is not None
        if not code_text.isdigit():
            raise RemoteProtocolError(f"StatusCode is not a number: {code_text!r}")
        return Status(int(code_text), status.text("StatusText") or "")


def _addresses(holder: ET.Element) -> list[Address]:
    found: list[Address] = []
    for child in holder:
        namespace, local = _local(child.tag)
        if namespace is not None and namespace not in KNOWN_NAMESPACES:
            continue
        try:
            kind = AddressKind(local)
        except ValueError:
            continue
        value = (child.text or "").strip()
        if not value or len(value) > MAX_ID_LENGTH:
            raise RemoteProtocolError(f"an empty or overlong {local} address")
        found.append(Address(value, kind))
        if len(found) > MAX_RECIPIENTS:
            raise RemoteProtocolError(f"more than {MAX_RECIPIENTS} addresses")
    return found


def _parse_submit_req(reader: _Reader) -> tuple[SubmitReq, str | None]:
    identification = reader.child("SenderIdentification")
    ident = _Reader(identification) if identification is not None else None
    groups: dict[str, list[Address]] = {"To": [], "Cc": [], "Bcc": []}
    recipients = reader.child("Recipients")
    if recipients is None:
        raise RemoteProtocolError("SubmitReq has no Recipients")
    for child in recipients:
        local = _local(child.tag)[1]
        if local in groups:
            groups[local].extend(_addresses(child))
    if not any(groups.values()):
        raise RemoteProtocolError("SubmitReq names no recipient")
    delivery_report = reader.text("DeliveryReport")
    read_reply = reader.text("ReadReply")
    content = reader.child("Content")
    message = SubmitReq(
        recipients=tuple(groups["To"]),
        cc=tuple(groups["Cc"]),
        bcc=tuple(groups["Bcc"]),
        content=(),
        vasp_id=ident.text("VASPID", limit=MAX_ID_LENGTH) if ident else None,
        vas_id=ident.text("VASID", limit=MAX_ID_LENGTH) if ident else None,
        sender=ident.address("SenderAddress") if ident else None,
        service_code=reader.text("ServiceCode", limit=MAX_ID_LENGTH),
        linked_id=reader.text("LinkedID", limit=MAX_ID_LENGTH),
        message_class=reader.enum("MessageClass", MessageClass),
        timestamp=reader.date("TimeStamp"),
        expiry=reader.date("ExpiryDate"),
        delivery_report=delivery_report in ("true", "1"),
        read_reply=None if read_reply is None else read_reply in ("true", "1"),
        priority=reader.enum("Priority", Priority),
        subject=reader.text("Subject"),
        charged_party=reader.enum("ChargedParty", ChargedParty),
        allow_adaptations=(content is None or content.get("allowAdaptations", "true") != "false"),
    )
    return message, reader.content_id()


def _parse_deliver_req(reader: _Reader) -> tuple[DeliverReq, str | None]:
    sender = reader.address("Sender", required=True)
    assert sender is not None
    recipients: list[Address] = []
    holder = reader.child("Recipients")
    if holder is not None:
        for child in holder:
            recipients.extend(_addresses(child))
    message = DeliverReq(
        sender=sender,
        content=(),
        recipients=tuple(recipients),
        relay_server_id=reader.text("MMSRelayServerID", limit=MAX_ID_LENGTH),
        linked_id=reader.text("LinkedID", limit=MAX_ID_LENGTH),
        timestamp=reader.date("TimeStamp"),
        priority=reader.enum("Priority", Priority),
        subject=reader.text("Subject"),
    )
    return message, reader.content_id()


def _parse_delivery_report_req(reader: _Reader) -> DeliveryReportReq:
    message_id = reader.text("MessageID", required=True, limit=MAX_ID_LENGTH)
    recipient = reader.address("Recipient", required=True)
    sender = reader.address("Sender", required=True)
    date = reader.date("Date", required=True)
    mm_status = reader.enum("MMStatus", MMStatus)
    if mm_status is None:
        raise RemoteProtocolError("DeliveryReportReq has no MMStatus")
    assert message_id is not None and recipient is not None and sender is not None
    assert date is not None
    return DeliveryReportReq(
        message_id=message_id,
        recipient=recipient,
        sender=sender,
        date=date,
        mm_status=mm_status,
        relay_server_id=reader.text("MMSRelayServerID", limit=MAX_ID_LENGTH),
        status_text=reader.text("StatusText"),
    )


def _parse_fault(fault: ET.Element) -> Fault:
    code = (fault.findtext("faultcode") or "").strip()
    string = (fault.findtext("faultstring") or "").strip()
    detail = fault.find("detail")
    status = Status(StatusCode.SERVER_ERROR if code.endswith("Server") else StatusCode.CLIENT_ERROR)
    from_relay = True
    if detail is not None:
        for child in detail:
            local = _local(child.tag)[1]
            if local in ("RSErrorRsp", "VASPErrorRsp"):
                status = _Reader(child).status()
                from_relay = local == "RSErrorRsp"
                break
    return Fault(
        status=status,
        from_relay=from_relay,
        fault_code=code.rpartition(":")[2] or "Server",
        fault_string=string[:MAX_TEXT_LENGTH],
    )


def parse_envelope(data: bytes) -> tuple[str | None, Message, str | None]:
    """(TransactionID, message, Content-ID of its content) from a SOAP envelope."""
    root = _parse_xml(data)
    if root.tag != _q("Envelope", SOAP_ENV):
        raise RemoteProtocolError("not a SOAP 1.1 envelope")
    transaction_id = None
    header = root.find(_q("Header", SOAP_ENV))
    if header is not None:
        for child in header:
            namespace, local = _local(child.tag)
            if local == "TransactionID" and namespace in KNOWN_NAMESPACES:
                transaction_id = (child.text or "").strip()[:MAX_ID_LENGTH] or None
    body = root.find(_q("Body", SOAP_ENV))
    if body is None or len(body) != 1:
        raise RemoteProtocolError(
            "the SOAP Body must hold exactly one element", transaction_id=transaction_id
        )
    element = body[0]
    try:
        if element.tag == _q("Fault", SOAP_ENV):
            return transaction_id, _parse_fault(element), None
        namespace, name = _local(element.tag)
        if namespace not in KNOWN_NAMESPACES:
            raise RemoteProtocolError(
                f"{name} is not in a known MM7 namespace ({namespace})",
                status=StatusCode.UNSUPPORTED_VERSION,
            )
        reader = _Reader(element)
        if reader.text("MM7Version", required=True, limit=16) is None:
            raise RemoteProtocolError(f"{name} has no MM7Version")
        if name == "SubmitReq":
            submit, content_id = _parse_submit_req(reader)
            return transaction_id, submit, content_id
        if name == "DeliverReq":
            deliver, content_id = _parse_deliver_req(reader)
            return transaction_id, deliver, content_id
        if name == "DeliveryReportReq":
            return transaction_id, _parse_delivery_report_req(reader), None
        if name == "SubmitRsp":
            return (
                transaction_id,
                SubmitRsp(reader.status(), reader.text("MessageID", limit=MAX_ID_LENGTH)),
                None,
            )
        if name == "DeliverRsp":
            return (
                transaction_id,
                DeliverRsp(reader.status(), reader.text("ServiceCode", limit=MAX_ID_LENGTH)),
                None,
            )
        if name == "DeliveryReportRsp":
            return transaction_id, DeliveryReportRsp(reader.status()), None
        raise RemoteProtocolError(
            f"{name} is not an operation tidings serves", status=StatusCode.UNSUPPORTED_OPERATION
        )
    except RemoteProtocolError as error:
        error.transaction_id = error.transaction_id or transaction_id
        raise
