"""How a simulator behaves: where it listens, who may bind, what happens to each message."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from tidings.simulator.fax_gateway import FaxGatewayConfig
from tidings.simulator.mmsc import MmscConfig
from tidings.simulator.phones import PhoneNetworkConfig
from tidings.simulator.print_house import PrintHouseConfig
from tidings.simulator.printer import PrinterConfig
from tidings.smpp.constants import CommandStatus
from tidings.smpp.receipts import ReceiptState

__all__ = [
    "DEFAULT_RULES",
    "FINAL_OUTCOME_STATES",
    "ChaosConfig",
    "MessageIdFormat",
    "Outcome",
    "OutcomeRule",
    "SimulatorConfig",
    "choose_outcome",
]

# The outcomes a simulated network can report for a message (SMPP 3.4 Appendix B stat: words).
FINAL_OUTCOME_STATES = frozenset(
    {ReceiptState.DELIVRD, ReceiptState.UNDELIV, ReceiptState.EXPIRED, ReceiptState.REJECTD}
)


class MessageIdFormat(StrEnum):
    """How submit_sm_resp message ids are written: a counter in hex or in decimal."""

    HEX = "hex"
    DECIMAL = "decimal"

    def render(self, counter: int) -> str:
        return format(counter, "x") if self is MessageIdFormat.HEX else str(counter)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the network did with one message, as its receipt will say."""

    state: ReceiptState
    err: int = 0


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    """One outcome rule: every condition given must hold for ``state``/``err`` to apply.

    ``prefix`` and ``suffix`` test the destination number (a leading "+" is ignored);
    ``probability`` applies the rule to that fraction of the messages it otherwise matches.
    A rule with no condition matches everything, which makes it a catch-all.
    """

    state: ReceiptState
    err: int = 0
    prefix: str | None = None
    suffix: str | None = None
    probability: float | None = None
    # The Outcome this rule gives, made once: choose_outcome runs for every message submitted.
    outcome: Outcome = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome(self.state, self.err))
        if self.state not in FINAL_OUTCOME_STATES:
            names = ", ".join(sorted(FINAL_OUTCOME_STATES))
            raise ValueError(f"an outcome rule's state is one of {names}, not {self.state}")
        if not 0 <= self.err <= 999:
            raise ValueError(f"err is 3 digits in a receipt (0..999), not {self.err}")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability is within 0..1, not {self.probability}")

    def matches(self, number: str, rng: random.Random) -> bool:
        if self.prefix is not None and not number.startswith(self.prefix):
            return False
        if self.suffix is not None and not number.endswith(self.suffix):
            return False
        return self.probability is None or rng.random() < self.probability


# A number ending in 0 is undeliverable (err 1: unknown subscriber); everything else is delivered.
DEFAULT_RULES: tuple[OutcomeRule, ...] = (
    OutcomeRule(state=ReceiptState.UNDELIV, err=1, suffix="0"),
)
_DELIVERED = Outcome(ReceiptState.DELIVRD, 0)


def choose_outcome(rules: Sequence[OutcomeRule], destination: str, rng: random.Random) -> Outcome:
    """The first matching rule's outcome for ``destination``; DELIVRD when none matches."""
    number = destination.removeprefix("+")
    for rule in rules:
        if rule.matches(number, rng):
            return rule.outcome
    return _DELIVERED


@dataclass(frozen=True, slots=True)
class ChaosConfig:
    """Failures to inject, so that clients can be tested against a misbehaving SMSC.

    ``reject_fraction`` of submits are answered with ``reject_status`` (ESME_RTHROTTLED by
    default) instead of being accepted; every response waits ``response_delay_s``; each submit
    closes its connection abruptly with ``drop_probability``, unanswered; and each receipt is
    sent again ``duplicate_receipt_delay_s`` later with ``duplicate_receipt_probability``.
    """

    reject_fraction: float = 0.0
    reject_status: int = CommandStatus.ESME_RTHROTTLED
    response_delay_s: float = 0.0
    drop_probability: float = 0.0
    duplicate_receipt_probability: float = 0.0
    duplicate_receipt_delay_s: float = 0.3

    def __post_init__(self) -> None:
        for name in ("reject_fraction", "drop_probability", "duplicate_receipt_probability"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} is within 0..1, not {value}")
        if self.response_delay_s < 0:
            raise ValueError(f"response_delay_s must not be negative, not {self.response_delay_s}")
        if self.reject_status == CommandStatus.ESME_ROK:
            raise ValueError("reject_status must be an error status, not ESME_ROK")

    @property
    def active(self) -> bool:
        return bool(
            self.reject_fraction
            or self.response_delay_s
            or self.drop_probability
            or self.duplicate_receipt_probability
        )


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Everything a :class:`~tidings.simulator.Simulator` needs; ports 0 pick free ones.

    ``system_id``/``password`` of None let any credentials bind. ``control_port`` None runs no
    control API. ``seed`` makes the outcome rules and chaos reproducible. ``strict`` refuses a
    malformed submit with the error a strict SMSC answers (``strict=False``: lenient).
    """

    host: str = "127.0.0.1"
    smpp_port: int = 0
    control_port: int | None = 0
    system_id: str | None = None
    password: str | None = None
    receipt_delay_s: float = 0.05
    rules: tuple[OutcomeRule, ...] = DEFAULT_RULES
    chaos: ChaosConfig = field(default_factory=ChaosConfig)
    seed: int | None = None
    message_id_format: MessageIdFormat = MessageIdFormat.HEX
    # Deliver_sm sent to one connection and not yet answered; more wait in the SMSC's queue.
    delivery_window: int = 100
    # How long a deliver_sm may wait for its response before it is sent again.
    delivery_timeout_s: float = 10.0
    # Handset inboxes: the newest messages are kept, per number and in total.
    inbox_limit: int = 100
    inbox_total_limit: int = 100_000
    # Receipts waiting for a receiver to bind; beyond this the oldest are dropped.
    stored_receipts_limit: int = 1_000_000
    # How long the parts of a concatenated message wait for the rest.
    reassembly_timeout_s: float = 60.0
    enquire_link_interval_s: float | None = 30.0
    # A connection must bind within this; one that sends nothing for the second is closed.
    bind_timeout_s: float | None = 30.0
    inactivity_timeout_s: float | None = 120.0
    # Connections held at once, in total and per peer address; 0 = from the file limit.
    max_connections: int = 0
    max_connections_per_address: int = 0
    # The phone network beside the SMSC (voice calls over SIP); None runs none.
    phones: PhoneNetworkConfig | None = None
    # The MMSC beside the SMSC (MMS over MM7); None runs none.
    mmsc: MmscConfig | None = None
    # The fax gateway (T.37 over SMTP) and the printer (IPP) beside it; None runs none.
    fax: FaxGatewayConfig | None = None
    printer: PrinterConfig | None = None
    # The print-and-mail house's SFTP drop, printing on the printer above; None runs none.
    print_house: PrintHouseConfig | None = None
    # Refuse malformed submits as a strict SMSC does (simulator/strict.py); False accepts
    # whatever decodes.
    strict: bool = True

    def __post_init__(self) -> None:
        if self.receipt_delay_s < 0:
            raise ValueError(f"receipt_delay_s must not be negative, not {self.receipt_delay_s}")
        for name in (
            "delivery_window",
            "inbox_limit",
            "inbox_total_limit",
            "stored_receipts_limit",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.delivery_timeout_s <= 0 or self.reassembly_timeout_s <= 0:
            raise ValueError("delivery_timeout_s and reassembly_timeout_s must be positive")
