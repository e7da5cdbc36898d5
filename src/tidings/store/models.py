"""The schema, as typed SQLAlchemy 2 models.

The models describe tables; the hot paths query them with SQLAlchemy Core (``Model.__table__``)
so that accepting 10,000 messages is one ``executemany``, never 10,000 ORM objects.
Alembic migrations in ``migrations/`` must match this file; a test diffs them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite compares datetimes as text, so every stored value must have the same shape.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# 64-bit keys on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
BigIntegerKey = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    rate_limit: Mapped[str | None] = mapped_column(String(64))
    restrict_to_registered_senders: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    # The default of an MMS's fallback_sms (core.mms.sms_fallback) when the send names none.
    mms_fallback_sms: Mapped[bool] = mapped_column(Boolean, server_default=false())


class ApiKey(Base):
    __tablename__ = "api_keys"

    # The public key id; the secret embeds it (``tdk_<id>_<random>``), so lookup is by primary key.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # core.accounts.Role: ``tenant`` (its account's data) or ``operator`` (also routes, accounts,
    # unrouted inbound traffic).
    role: Mapped[str] = mapped_column(String(16), server_default="tenant")


class AuthChange(Base):
    """A count of changes to what verified API keys stand for (a key revoked, an account
    changed), one row, counted up in the transaction that makes the change. SQLite has no
    notices: a process that remembers verified keys reads this count before it trusts its
    memory (``store.accounts.SqliteAuthChanges``). On PostgreSQL, NOTIFY tells the others."""

    __tablename__ = "auth_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger)


class Route(Base):
    """A connection to a carrier. ``kind`` names its transport (``dispatch.transport``), whose
    settings model checks ``settings`` (JSON, shown back) and ``secrets`` (JSON of the
    settings typed as secrets: passwords, tokens; never shown back)."""

    __tablename__ = "routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32), server_default="smpp")
    settings: Mapped[str] = mapped_column(Text, server_default="{}")
    secrets: Mapped[str] = mapped_column(Text, server_default="{}")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RouteChannel(Base):
    """A channel a route carries (some of those its transport can), and whether it is that
    channel's default route: where a message of the channel goes when its sender names no
    route carrying it. One default per channel, kept so by ``core.routing``."""

    __tablename__ = "route_channels"

    route_id: Mapped[int] = mapped_column(
        ForeignKey("routes.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    is_default: Mapped[bool] = mapped_column(Boolean)


class Sender(Base):
    __tablename__ = "senders"
    __table_args__ = (
        UniqueConstraint("account_id", "address"),
        # At most one default sender per account.
        Index(
            "uq_senders_account_id_default",
            "account_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    # Inbound routing finds the owner of a long or short code by address alone.
    address: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    route_id: Mapped[int | None] = mapped_column(ForeignKey("routes.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    # What a request that names no sender goes out under (core.routing.default_sender).
    is_default: Mapped[bool] = mapped_column(Boolean, server_default=false())


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # The dispatcher claims by (status, next_attempt_at).
        Index("ix_messages_status_next_attempt_at", "status", "next_attempt_at"),
        # Listing pages through an account's messages newest first.
        Index("ix_messages_account_id_id", "account_id", "id"),
        Index("ix_messages_account_id_recipient", "account_id", "recipient"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    direction: Mapped[str] = mapped_column(String(3))
    sender: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(8))
    parts_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    status_at: Mapped[datetime]
    send_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None]
    route_id: Mapped[int | None] = mapped_column(ForeignKey("routes.id", ondelete="SET NULL"))
    customer_data: Mapped[str | None] = mapped_column(String(255))
    dlr_url: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(1000))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_detail: Mapped[str | None] = mapped_column(Text)
    max_parts: Mapped[int] = mapped_column(Integer)
    ad: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # core.channels.Channel; what the channel carries besides body and subject is the JSON of
    # its core.content.ChannelContent model.
    channel: Mapped[str] = mapped_column(String(16), server_default="sms")
    subject: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str | None] = mapped_column(Text)
    # What the far end told besides the status (a call's key press, duration...), as the JSON
    # of the channel's result model, written with the status that carried it.
    result: Mapped[str | None] = mapped_column(Text)


class MessagePart(Base):
    __tablename__ = "message_parts"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    # Reports are matched to parts by the carrier's reference for what was handed over: the id
    # the SMSC gave in submit_sm_resp (SMPP 3.4 §4.4.2), an MM7 MessageID, a SIP Call-ID...
    smsc_message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    error_code: Mapped[str | None] = mapped_column(String(32))
    submitted_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class MessageEvent(Base):
    __tablename__ = "message_events"
    __table_args__ = (Index("ix_message_events_message_id_id", "message_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    detail: Mapped[str | None] = mapped_column(Text)


class ParkedReceipt(Base):
    """A receipt that matched no part yet (it overtook its submit response, or came in on
    another dispatcher's bind). It is kept here from the moment it is acknowledged to the SMSC
    until it is applied or given up, so a restart does not lose it."""

    __tablename__ = "parked_receipts"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    smsc_message_id: Mapped[str] = mapped_column(String(255))
    # What the far end said, in its words (DELIVRD, Retrieved...), and the status it means
    # (null: progress, not a final status).
    state: Mapped[str] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]
    parked_at: Mapped[datetime]


class UnroutedInbound(Base):
    """An inbound message to an address no account owns: kept (not dropped) until an operator
    assigns it to an account, which then receives it as if it had just arrived."""

    __tablename__ = "unrouted_inbound"
    __table_args__ = (Index("ix_unrouted_inbound_recipient", "recipient"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    sender: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(8))
    parts_count: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime]
    route_id: Mapped[int | None] = mapped_column(ForeignKey("routes.id", ondelete="SET NULL"))
    detail: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str | None] = mapped_column(Text)


class InboundReference(Base):
    """The carrier's id of an inbound message stored (``whatsapp:<wamid>``), so that the
    carrier sending it again, even after a restart, does not store it twice."""

    __tablename__ = "inbound_references"
    # Pruned by age (core.inbound_references).
    __table_args__ = (Index("ix_inbound_references_received_at", "received_at"),)

    reference: Mapped[str] = mapped_column(String(255), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(26))
    received_at: Mapped[datetime]


class IdempotencyRecord(Base):
    __tablename__ = "idempotency"
    # Expired records are pruned by age (core.messaging.prune_idempotency).
    __table_args__ = (Index("ix_idempotency_created_at", "created_at"),)

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


accounts = _table(Account)
api_keys = _table(ApiKey)
auth_changes = _table(AuthChange)
routes = _table(Route)
route_channels = _table(RouteChannel)
senders = _table(Sender)
messages = _table(Message)
message_parts = _table(MessagePart)
message_events = _table(MessageEvent)
idempotency = _table(IdempotencyRecord)
parked_receipts = _table(ParkedReceipt)
unrouted_inbound = _table(UnroutedInbound)
inbound_references = _table(InboundReference)


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    # JSON list of event types; ["*"] means every event.
    event_types: Mapped[str] = mapped_column(Text)
    # A Standard Webhooks secret (``whsec_`` + base64), used to sign every delivery.
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    # How bodies are written (``events/formats``): "native", or a provider dialect's shape.
    payload_format: Mapped[str] = mapped_column(String(32), server_default="native")


class OutboxItem(Base):
    """One HTTP request that must leave the process: a dlr_url GET or a signed webhook POST."""

    __tablename__ = "outbox"
    __table_args__ = (
        # Workers claim by (state, next_attempt_at); a claim pushes next_attempt_at out as a lease.
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_outbox_subscription_id_id", "subscription_id", "id"),
    )

    # Sortable, and also the ``webhook-id`` a receiver dedupes on (the same on every retry).
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(12))
    method: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)
    # Kept apart from the url so a worker can skip hosts it is already saturating.
    target_host: Mapped[str] = mapped_column(String(255))
    body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[str | None] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(64))
    subscription_id: Mapped[str | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="SET NULL")
    )
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None]
    # Retries stop this long after pending_since; a manual replay restarts the clock.
    pending_since: Mapped[datetime]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_outbox_id_id", "outbox_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    outbox_id: Mapped[str] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


webhook_subscriptions = _table(WebhookSubscription)
outbox = _table(OutboxItem)
delivery_attempts = _table(DeliveryAttempt)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("account_id", "phone"),
        # Pages through an account's contacts in id order; searches by email.
        Index("ix_contacts_account_id_id", "account_id", "id"),
        Index("ix_contacts_account_id_email", "account_id", "email"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(8))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    street: Mapped[str | None] = mapped_column(String(200))
    zip: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    organisation: Mapped[str | None] = mapped_column(String(200))
    fax: Mapped[str | None] = mapped_column(String(20))
    # JSON object of custom property names to string values.
    properties: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)
    hard_errors_total: Mapped[int] = mapped_column(Integer)
    hard_errors_current: Mapped[int] = mapped_column(Integer)
    soft_errors_total: Mapped[int] = mapped_column(Integer)
    soft_errors_current: Mapped[int] = mapped_column(Integer)
    failed_messages: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(64))
    # When the current run of errors began; cleared by a delivery.
    error_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContactList(Base):
    __tablename__ = "contact_lists"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ListMember(Base):
    __tablename__ = "list_members"

    list_id: Mapped[str] = mapped_column(
        ForeignKey("contact_lists.id", ondelete="CASCADE"), primary_key=True
    )
    # Deleting a contact removes it from its lists, found through this index.
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime]
    # The contact as this list shows it (JSON of profile fields and properties), for provider
    # views whose contacts belong to one list (ClickSend's); NULL shows the contact itself.
    listed_fields: Mapped[str | None] = mapped_column(Text)


contacts = _table(Contact)
contact_lists = _table(ContactList)
list_members = _table(ListMember)


# --- opt-out compliance, keywords and inbound rules ---


class ComplianceSettings(Base):
    """An account's opt-out choices; an account without a row uses the defaults."""

    __tablename__ = "compliance_settings"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    # "account": a STOP to any of our numbers stops them all; "sender": only the number it went to.
    optout_scope: Mapped[str] = mapped_column(String(8))
    # JSON list of extra stop words, upper case (e.g. ["LOPETA"]).
    stop_words: Mapped[str] = mapped_column(Text)
    stop_reply: Mapped[str | None] = mapped_column(Text)
    help_text: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    # --- undeliverable recipients and START confirmation ---
    # Refuse a recipient whose contact has this many hard errors in a row; 0 never refuses.
    hard_error_limit: Mapped[int] = mapped_column(Integer, server_default="3")
    start_reply: Mapped[str | None] = mapped_column(Text)


class Suppression(Base):
    """A number an account does not send to: opted out (per sender or account-wide) or blocked."""

    __tablename__ = "suppressions"
    __table_args__ = (
        # The send path looks recipients up by (account, phone); sender "" means account-wide.
        UniqueConstraint("account_id", "phone", "kind", "sender"),
        Index("ix_suppressions_account_id_kind_id", "account_id", "kind", "id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]


class Keyword(Base):
    __tablename__ = "keywords"
    __table_args__ = (UniqueConstraint("account_id", "number", "keyword"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    # The receiving number (ours), as stored on inbound messages.
    number: Mapped[str] = mapped_column(String(20))
    # Upper case; matched against the first word of an inbound message.
    keyword: Mapped[str] = mapped_column(String(64))
    reply: Mapped[str | None] = mapped_column(Text)
    add_to_list_id: Mapped[str | None] = mapped_column(
        ForeignKey("contact_lists.id", ondelete="SET NULL")
    )
    remove_from_list_id: Mapped[str | None] = mapped_column(
        ForeignKey("contact_lists.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class InboundRule(Base):
    """ClickSend's inbound automation rule, field for field."""

    __tablename__ = "inbound_rules"
    __table_args__ = (Index("ix_inbound_rules_account_id_id", "account_id", "id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(200))
    # A receiving number, or "*" for all of them.
    dedicated_number: Mapped[str] = mapped_column(String(20))
    # 0 any, 1 starts with, 2 contains, 3 does not contain.
    message_search_type: Mapped[int] = mapped_column(Integer)
    message_search_term: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(16))
    action_address: Mapped[str | None] = mapped_column(Text)
    # For URL actions: "json" or "post" (form).
    webhook_type: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # --- clicksend automations ---
    # The shape of a URL action's body: "native" (tidings' fields) or "clicksend" (its push).
    payload_format: Mapped[str] = mapped_column(String(16), server_default="native")


compliance_settings = _table(ComplianceSettings)
suppressions = _table(Suppression)
keywords = _table(Keyword)
inbound_rules = _table(InboundRule)


# --- threads ---


class Thread(Base):
    """One conversation: an account, one of its numbers (or sender ids), and a handset."""

    __tablename__ = "threads"
    __table_args__ = (
        UniqueConstraint("account_id", "our_address", "their_address"),
        # Listing pages through an account's threads by last activity, newest first.
        Index("ix_threads_account_id_last_message_at_id", "account_id", "last_message_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    # Our side: the number or sender id messages go out from and come in to.
    our_address: Mapped[str] = mapped_column(String(20))
    # The handset's number, E.164.
    their_address: Mapped[str] = mapped_column(String(20))
    message_count: Mapped[int] = mapped_column(Integer)
    inbound_count: Mapped[int] = mapped_column(Integer)
    last_message_id: Mapped[str | None] = mapped_column(String(26))
    last_message_at: Mapped[datetime]
    last_direction: Mapped[str] = mapped_column(String(3))
    # The start of the last message's body, for listings.
    last_preview: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime]


threads = _table(Thread)

# Added here rather than in ``Message`` so that features extending the messages table do not
# edit the same lines. No foreign keys: a deleted contact leaves its messages as they were.
messages.append_column(Column("thread_id", String(26), nullable=True))
messages.append_column(Column("contact_id", String(26), nullable=True))
# A thread's messages in order; also how GET /v1/threads/{id} reads them.
Index("ix_messages_thread_id_id", messages.c.thread_id, messages.c.id)


# --- TrueDialog dialect ---


class TrueDialogId(Base):
    """An integer id for one tidings object, as TrueDialog's int32 ids need (issue 5 §2).

    One sequence for every kind (account, channel, contact, callback, action), so an alias
    names exactly one object and a guessed number of another kind or account finds nothing.
    """

    __tablename__ = "truedialog_ids"
    __table_args__ = (UniqueConstraint("kind", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(26))
    # The owning account, checked on every lookup so aliases never cross accounts.
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]


class TrueDialogAccount(Base):
    """The account's callback token: the GUID every TrueDialog callback body carries."""

    __tablename__ = "truedialog_accounts"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    callback_token: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime]


truedialog_ids = _table(TrueDialogId)
truedialog_accounts = _table(TrueDialogAccount)


# --- smartdialog ---


class ServiceRow(Base):
    """A named way of sending: OneWay, TwoWay or Group, with its sender numbers/names.

    SmartDialog's tenants pick a service per request; a Group service is backed by a contact list.
    """

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    # JSON list of sender addresses (numbers or alphanumeric names) the service sends from.
    senders: Mapped[str] = mapped_column(Text)
    list_id: Mapped[str | None] = mapped_column(ForeignKey("contact_lists.id", ondelete="SET NULL"))
    allow_reply: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class OAuthCode(Base):
    """An authorization code, stored as its SHA-256; single use, short-lived."""

    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(16))
    expires_at: Mapped[datetime]


class OAuthToken(Base):
    """An access token and its refresh token, both stored as SHA-256 digests."""

    __tablename__ = "oauth_tokens"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WhatsAppTemplate(Base):
    __tablename__ = "whatsapp_templates"
    __table_args__ = (
        UniqueConstraint("account_id", "display_name", "language"),
        Index("ix_whatsapp_templates_route_id_name", "route_id", "name"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    identity: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(200))
    raw_content: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    # JSON list of {type, label, data}.
    buttons: Mapped[str] = mapped_column(Text)
    attachment_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Meta's side, once submitted for review to a route's WhatsApp Business Account (all None
    # for a template kept here only, sent as SMS): the route, the name and id Meta knows it by,
    # its review status (PENDING, APPROVED, REJECTED, PAUSED, DISABLED...) and when it changed.
    name: Mapped[str | None] = mapped_column(String(512))
    route_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(32))
    meta_id: Mapped[str | None] = mapped_column(String(64))
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_at: Mapped[datetime | None]
    # JSON of the components as submitted (header, body, footer, buttons) by /v1.
    components: Mapped[str | None] = mapped_column(Text)
    # Imported from a listing of the route's WABA (made in WhatsApp Manager, not through
    # tidings): every account whose numbers send through the route has it (migration 0031).
    made_at_meta: Mapped[bool] = mapped_column(Boolean, server_default=false())


class SubscriptionRecipient(Base):
    """Limits a webhook subscription to events about messages to these numbers (a service's)."""

    __tablename__ = "subscription_recipients"

    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(20), primary_key=True)


services = _table(ServiceRow)
subscription_recipients = _table(SubscriptionRecipient)
oauth_codes = _table(OAuthCode)
oauth_tokens = _table(OAuthToken)
whatsapp_templates = _table(WhatsAppTemplate)


# --- ClickSend dialect ---


class IntegerAlias(Base):
    """A stable integer for a string id, for provider APIs whose ids are numbers (ClickSend).

    Handed out on first use and never reused; the target keeps its own id everywhere else.
    """

    __tablename__ = "integer_aliases"
    __table_args__ = (UniqueConstraint("kind", "target_id"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    # What the target is: "list", "list_contact" (a contact as one list holds it), ...
    kind: Mapped[str] = mapped_column(String(16))
    # An id, or for "list_contact" the list's and the contact's ids joined by "/".
    target_id: Mapped[str] = mapped_column(String(53))


class ReadMark(Base):
    """A delivery receipt or an inbound message that a polling client has marked as read."""

    __tablename__ = "read_marks"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    # "receipt" (of an outbound message) or "inbound".
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    read_at: Mapped[datetime]


integer_aliases = _table(IntegerAlias)
read_marks = _table(ReadMark)


# --- campaigns ---


class Campaign(Base):
    """One send to targets and lists, expanded into messages page by page in the background."""

    __tablename__ = "campaigns"
    __table_args__ = (
        # Listing pages through an account's campaigns newest first.
        Index("ix_campaigns_account_id_id", "account_id", "id"),
        # The runner looks for scheduled, unexpanded and unfinished campaigns by status.
        Index("ix_campaigns_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(String(20))
    # JSON lists: the explicit numbers as given, the list ids and the exclude list ids.
    targets: Mapped[str] = mapped_column(Text)
    list_ids: Mapped[str] = mapped_column(Text)
    exclude_list_ids: Mapped[str] = mapped_column(Text)
    send_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    # Expansion progress, advanced in the transaction that writes each page of messages, so a
    # restarted runner continues after the last page written and sends nobody twice.
    targets_done: Mapped[bool] = mapped_column(Boolean)
    expand_cursor: Mapped[str | None] = mapped_column(String(26))
    expanded_at: Mapped[datetime | None]
    # Which runner expands it, until when: several processes may share a PostgreSQL database.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    # Every recipient considered, and the refused ones as a JSON object of reason → count
    # (refused recipients have no message row to count).
    targets_total: Mapped[int] = mapped_column(Integer)
    invalid_counts: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # What its messages are sent as, like a single send's (core.content: the channel's model).
    channel: Mapped[str] = mapped_column(String(16), server_default="sms")
    subject: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str | None] = mapped_column(Text)


campaigns = _table(Campaign)

# The campaign a message belongs to; its counts are one aggregate over this index.
messages.append_column(Column("campaign_id", String(26), nullable=True))
Index("ix_messages_campaign_id_status", messages.c.campaign_id, messages.c.status)


# --- clicksend automations ---


class ReceiptRule(Base):
    """A named delivery-receipt rule over a webhook subscription to ``message.status``.

    The subscription holds the URL and the body format; the rule adds what ClickSend's
    receipt automations have on top: a name, which receipts it wants and whether it is on.
    """

    __tablename__ = "receipt_rules"
    __table_args__ = (Index("ix_receipt_rules_account_id_id", "account_id", "id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # 0 every receipt, 1 failed ones only, 2 delivered ones only.
    match_type: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


receipt_rules = _table(ReceiptRule)


# --- return addresses (post) ---


class ReturnAddress(Base):
    """A sender's address printed on letters and postcards (ClickSend's return addresses)."""

    __tablename__ = "return_addresses"
    __table_args__ = (Index("ix_return_addresses_account_id_id", "account_id", "id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(200))
    line_1: Mapped[str] = mapped_column(String(200))
    line_2: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20))
    # ISO 3166-1 alpha-2.
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


return_addresses = _table(ReturnAddress)


# --- channel consent ---


class ChannelConsent(Base):
    """A recipient's last opt-in or opt-out for one channel from one of our numbers.

    Kept apart from SMS suppressions: a WhatsApp opt-out says nothing about SMS, but it does
    bar sending that channel's messages (templates) by any route, SMS fallback included.
    """

    __tablename__ = "channel_consents"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    sender: Mapped[str] = mapped_column(String(32), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(32), primary_key=True)
    opted_in: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime]


channel_consents = _table(ChannelConsent)


# --- web console ---


class ConsoleUser(Base):
    """A person who signs in to the web console: an e-mail and an argon2 password hash, one
    account, and a role in it (``core/console_users.py`` says what each role may do)."""

    __tablename__ = "console_users"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    # Lower case; one console user per address across all accounts, so sign-in needs no account.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """A signed-in browser. The cookie holds the token; only its SHA-256 is stored, so the
    table leaks no usable session. The CSRF token belongs to the session it protects."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("console_users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    # Idle expiry, pushed forward as the session is used, never past absolute_expires_at.
    expires_at: Mapped[datetime]
    absolute_expires_at: Mapped[datetime]


console_users = _table(ConsoleUser)
console_sessions = _table(ConsoleSession)


# --- server secret and media ---


class ServerSecretRow(Base):
    """The server secret, generated once when ``TIDINGS_SECRET_KEY`` is not set, so every
    process sharing the database derives the same keys (``core/secrets.py``)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    # URL-safe base64 of 32 random bytes.
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class MediaBlob(Base):
    """Bytes stored once, addressed by their SHA-256: every media object and conversion with
    the same content points here. In the database, so every process on PostgreSQL reads it."""

    __tablename__ = "media_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class MediaObject(Base):
    """One account's media file (uploaded, fetched from a URL, or received in an inbound
    MMS): its detected type and what is known of it, over a blob."""

    __tablename__ = "media"
    __table_args__ = (
        # The same bytes given twice by one account are one media object.
        UniqueConstraint("account_id", "sha256"),
        Index("ix_media_account_id_id", "account_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("media_blobs.sha256"))
    # Detected from the bytes, never from a file name or a Content-Type header.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(255))
    source_url: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


class MediaVariant(Base):
    """A media object converted to fit a route (``spec`` names the target: types and size),
    kept so that a conversion runs once however many messages and dispatchers use it."""

    __tablename__ = "media_variants"

    media_id: Mapped[str] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    spec: Mapped[str] = mapped_column(String(200), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("media_blobs.sha256"))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


server_secrets = _table(ServerSecretRow)
media_blobs = _table(MediaBlob)
media = _table(MediaObject)
media_variants = _table(MediaVariant)
