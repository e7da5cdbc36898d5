"""The embedded SMSC simulator: outcome rules, handset inboxes, inbound injection, chaos and a
control API.

``async with Simulator(SimulatorConfig()) as sim`` runs an SMSC on a free port of 127.0.0.1 in
the current event loop; ``tidings simulator serve`` runs one on its own.
"""

from __future__ import annotations

from tidings.simulator.config import (
    DEFAULT_RULES,
    ChaosConfig,
    MessageIdFormat,
    Outcome,
    OutcomeRule,
    SimulatorConfig,
    choose_outcome,
)
from tidings.simulator.control import ControlServer, InboundRequest, control_app, control_router
from tidings.simulator.errors import InboundRejected, NoReceiverBound, SimulatorError
from tidings.simulator.inbox import HandsetInboxes, HandsetMessage
from tidings.simulator.smsc import Simulator, SimulatorStats

__all__ = [
    "DEFAULT_RULES",
    "ChaosConfig",
    "ControlServer",
    "HandsetInboxes",
    "HandsetMessage",
    "InboundRejected",
    "InboundRequest",
    "MessageIdFormat",
    "NoReceiverBound",
    "Outcome",
    "OutcomeRule",
    "Simulator",
    "SimulatorConfig",
    "SimulatorError",
    "SimulatorStats",
    "choose_outcome",
    "control_app",
    "control_router",
]
