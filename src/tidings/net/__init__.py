"""asyncio adapters around the sans-IO SMPP core: the ESME client and the SMSC server base."""

from tidings.net.connection import BindFailed, ConnectionLost, ResponseTimeout, SmppProtocol
from tidings.net.esme import BindMode, EsmeClient, EsmeConfig, NotBound, SubmitUnacknowledged
from tidings.net.server import BindRequest, SmscConnection, SmscHandler, SmscServer

__all__ = [
    "BindFailed",
    "BindMode",
    "BindRequest",
    "ConnectionLost",
    "EsmeClient",
    "EsmeConfig",
    "NotBound",
    "ResponseTimeout",
    "SmppProtocol",
    "SmscConnection",
    "SmscHandler",
    "SmscServer",
    "SubmitUnacknowledged",
]
