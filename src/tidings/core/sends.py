"""What a send is made of: its request, what was made of each recipient, its answer, and the
send prepared to be written. Opt-out screening reads and refuses these in the transaction that
stores them (``optout.screen_sends``), without depending on the messaging that prepares them."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from tidings.core.channels import Channel
from tidings.core.content import ChannelContent
from tidings.errors import InvalidRequest
from tidings.store.messages import EventRow, OutboundMessageRow
from tidings.store.records import AccountRecord


class RecipientError:
    INVALID_NUMBER = "invalid_number"
    DUPLICATE = "duplicate"
    MISSING_PLACEHOLDER = "missing_placeholder"
    INVALID_TEXT = "invalid_text"
    OPTED_OUT = "opted_out"
    UNDELIVERABLE = "undeliverable"
    BLOCKED = "blocked"
    # A list member a fax cannot go to: its contact has no fax number.
    NO_FAX_NUMBER = "no_fax_number"
    # A list member a letter or postcard cannot go to: no printable postal address.
    NO_POSTAL_ADDRESS = "no_postal_address"


class InvalidTargetReason(enum.IntEnum):
    """The reason ids of refused recipients (issue 4 §3), next to the string codes."""

    INVALID = 0
    OPTED_OUT = 1
    DUPLICATE = 2
    BLOCKED = 3
    UNDELIVERABLE = 4
    SINGLE_USE = 5


REASON_OF = {
    RecipientError.INVALID_NUMBER: InvalidTargetReason.INVALID,
    RecipientError.MISSING_PLACEHOLDER: InvalidTargetReason.INVALID,
    RecipientError.INVALID_TEXT: InvalidTargetReason.INVALID,
    RecipientError.NO_FAX_NUMBER: InvalidTargetReason.INVALID,
    RecipientError.NO_POSTAL_ADDRESS: InvalidTargetReason.INVALID,
    RecipientError.DUPLICATE: InvalidTargetReason.DUPLICATE,
    RecipientError.OPTED_OUT: InvalidTargetReason.OPTED_OUT,
    RecipientError.BLOCKED: InvalidTargetReason.BLOCKED,
    RecipientError.UNDELIVERABLE: InvalidTargetReason.UNDELIVERABLE,
}


def _no_refusals() -> Mapping[str, tuple[str, str]]:
    return {}


@dataclass(frozen=True, slots=True)
class SendRequest:
    to: Sequence[str]
    sender: str
    body: str
    personalization: Mapping[str, Mapping[str, str]] | None = None
    send_at: datetime | None = None
    # The request's id, kept with each message; repeated within the idempotency window it
    # replays the first answer, unless replay_by_request_id is False: an id the API makes for
    # the request itself (a TrueDialog push's action) only labels the messages.
    request_id: str | None = None
    replay_by_request_id: bool = True
    idempotency_key: str | None = None
    customer_data: str | None = None
    dlr_url: str | None = None
    max_parts: int | None = None
    ad: bool = False
    # Send to recipients that opted out or are blocked; recorded in their history.
    force_opt_in: bool = False
    # Numbers known to be valid E.164 already (a contact's phone), not parsed again.
    normalized: frozenset[str] = frozenset()
    # Recipients (as in ``to``) refused before planning: (code, detail) each. A list member a
    # fax cannot go to is answered like any refused recipient.
    refused: Mapping[str, tuple[str, str]] = field(default_factory=_no_refusals)
    # Every recipient or none: one refused, when prepared or by the screening in the storing
    # transaction, refuses the whole send and nothing of it is stored (RecipientsRefused).
    all_or_nothing: bool = False
    # The channel it goes on, and what that channel carries besides the body (typed; stored as
    # JSON, read back by the transport with the same model). SMS bodies are planned in
    # segments; other channels' bodies go whole.
    channel: Channel = Channel.SMS
    subject: str | None = None
    content: ChannelContent | None = None
    # Each recipient's own content, by its index in ``to`` (letters to a list: each member's
    # address); None: ``content`` for all.
    contents: Sequence[ChannelContent] | None = None


@dataclass(frozen=True, slots=True)
class RecipientResult:
    to: str
    id: str | None = None
    address: str | None = None
    status: str | None = None
    encoding: str | None = None
    parts: int | None = None
    price: str | None = None
    error: str | None = None
    error_detail: str | None = None
    reason: int | None = None
    # missing_placeholder: the placeholders this recipient has no value for.
    placeholders: list[str] | None = None


class RecipientsRefused(InvalidRequest):
    """The send wanted all its recipients or none and some were refused; nothing was stored."""

    def __init__(self, refused: list[RecipientResult]) -> None:
        super().__init__(
            f"{len(refused)} recipient(s) refused, so the send was refused as a whole", field="to"
        )
        self.refused = refused


@dataclass(frozen=True, slots=True)
class SendResult:
    recipients: list[RecipientResult]
    accepted: int
    rejected: int
    replayed: bool = False

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if k != "replayed"})

    @classmethod
    def from_json(cls, text: str) -> SendResult:
        data = json.loads(text)
        return cls(
            recipients=[RecipientResult(**entry) for entry in data["recipients"]],
            accepted=data["accepted"],
            rejected=data["rejected"],
            replayed=True,
        )


@dataclass(slots=True)
class PreparedSend:
    """A validated, planned send request, ready to be written (see :func:`store_sends`)."""

    account: AccountRecord
    key: str | None
    not_before: datetime
    now: datetime
    sender_address: str
    message_rows: list[OutboundMessageRow]
    event_rows: list[EventRow]
    result: SendResult
    force_opt_in: bool = False
    request_id: str | None = None
    all_or_nothing: bool = False
    # A reply keeps the route of the conversation it answers instead of the sender's route.
    route_id: int | None = None
    channel: str = Channel.SMS
