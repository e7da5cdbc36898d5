"""The e-mail that carries one fax to a T.37 gateway (RFC 3192 addressing, RFC 3302 image/tiff,
simple mode of RFC 2305 with the DSN it asks for).

- To: ``FAX=+61261111111@gateway`` (RFC 3192 §3: the service selector ``FAX=`` and the
  global phone number in the local part; a T.33 sub-address as ``/T33S=``).
- The TIFF-F as an ``image/tiff; application=faxbw`` attachment (RFC 3302 §2, RFC 3949).
- A delivery status notification requested through SMTP's DSN extension (RFC 3461:
  ``RET=HDRS``, ``ENVID``, ``NOTIFY=SUCCESS,FAILURE,DELAY``); ``Disposition-Notification-To``
  asks extended-mode gateways (RFC 2532) for an MDN as well.
- The envelope id, the Message-ID's left part and the reference kept on the message are one
  token, so whichever report comes back names the fax it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

__all__ = ["FaxEmail", "build_fax_email", "dsn_options", "fax_address", "reference_of"]

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SUBADDRESS = re.compile(r"^[0-9#*]{1,20}$")
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def fax_address(number: str, gateway: str, *, subaddress: str | None = None) -> str:
    """The RFC 3192 address of ``number`` (E.164) at ``gateway`` (a mail domain)."""
    if not _E164.match(number):
        raise ValueError(f"{number!r} is not an E.164 fax number")
    local = f"FAX={number}"
    if subaddress:
        if not _SUBADDRESS.match(subaddress):
            raise ValueError(f"{subaddress!r} is not a T.33 sub-address")
        local += f"/T33S={subaddress}"
    return f"{local}@{gateway}"


def reference_of(message_id_header: str) -> str | None:
    """The token a Message-ID (``<token@domain>``) or an envelope id carries."""
    value = message_id_header.strip().strip("<>").strip()
    token = value.split("@", 1)[0]
    return token if _TOKEN.match(token) else None


@dataclass(frozen=True, slots=True)
class FaxEmail:
    message: EmailMessage
    sender: str
    recipient: str
    #: The envelope id (RFC 3461 ENVID) and Message-ID's left part: the fax's reference.
    reference: str


def build_fax_email(
    *,
    reference: str,
    sender: str,
    domain: str,
    number: str,
    gateway: str,
    tiff: bytes,
    pages: int,
    now: datetime,
    subject: str | None = None,
    cover_text: str | None = None,
    report_to: str | None = None,
) -> FaxEmail:
    """The fax for ``number`` as one e-mail, ready for SMTP."""
    if not _TOKEN.match(reference):
        raise ValueError(f"{reference!r} cannot be an envelope id")
    recipient = fax_address(number, gateway)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject or f"Fax to {number} ({pages} page{'s' if pages != 1 else ''})"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{reference}@{domain}>"
    message["Disposition-Notification-To"] = report_to or sender
    message.set_content(cover_text or f"Fax of {pages} page{'s' if pages != 1 else ''}.\n")
    # RFC 3302: the application parameter says which fax profile the TIFF follows.
    message.add_attachment(
        tiff,
        maintype="image",
        subtype="tiff",
        params={"application": "faxbw"},
        filename=f"{reference}.tif",
    )
    return FaxEmail(message, sender, recipient, reference)


def _xtext(value: str) -> str:
    """RFC 3461 §4: xtext, '+' and '=' and anything outside '!'..'~' as +XX."""
    return "".join(
        f"+{ord(char):02X}" if char in "+=" or not "!" <= char <= "~" else char for char in value
    )


def dsn_options(fax: FaxEmail) -> tuple[list[str], list[str]]:
    """(MAIL FROM options, RCPT TO options) asking for a DSN of success, failure and delay."""
    return (
        ["RET=HDRS", f"ENVID={_xtext(fax.reference)}"],
        ["NOTIFY=SUCCESS,FAILURE,DELAY", f"ORCPT=rfc822;{_xtext(fax.recipient)}"],
    )
