"""What the simulator answers when it cannot do what was asked (the control API maps them)."""

from __future__ import annotations

from tidings.errors import TidingsError


class SimulatorError(TidingsError):
    """The simulator could not do what was asked."""


class NoReceiverBound(SimulatorError):
    """No ESME that can receive messages (a receiver or transceiver) is bound."""


class InboundRejected(SimulatorError):
    """The ESME did not accept the inbound message."""
