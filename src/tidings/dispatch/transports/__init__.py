"""The transports tidings ships, one module each; a new one is a line in ``BUILT_IN``."""

from __future__ import annotations

from tidings.dispatch.transport import AnyTransport, TransportRegistry
from tidings.dispatch.transports.fax_smtp import FaxSmtpTransport
from tidings.dispatch.transports.ipp import IppTransport
from tidings.dispatch.transports.mm7 import Mm7Transport
from tidings.dispatch.transports.sftp import SftpTransport
from tidings.dispatch.transports.sip import SipTransport
from tidings.dispatch.transports.smpp import SmppTransport
from tidings.dispatch.transports.whatsapp import WhatsAppCloudTransport

BUILT_IN: tuple[type[AnyTransport], ...] = (
    SmppTransport,
    Mm7Transport,
    SipTransport,
    FaxSmtpTransport,
    IppTransport,
    SftpTransport,
    WhatsAppCloudTransport,
)


def default_transports() -> TransportRegistry:
    return TransportRegistry(BUILT_IN)
