"""Request and response bodies of the opt-out, blocklist, compliance, keyword and inbound rule
endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tidings.api.v1.schemas import optional_not_null
from tidings.core.automation import PayloadFormat, RuleAction, SearchType, WebhookType
from tidings.core.optout import ComplianceSettings, Scope
from tidings.store.automation import InboundRuleRecord, KeywordRecord
from tidings.store.optout import ANY_SENDER, SuppressionRecord


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptOutCreate(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"phone": "+358401234567"},
                {"phone": "+358401234567", "sender": "+358409999999"},
            ]
        }
    )

    phone: str = Field(min_length=1, max_length=32)
    sender: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="only for this number of ours (sender scope); omit for account-wide",
    )


class BlockCreate(_Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "+358401234560"}]})

    phone: str = Field(min_length=1, max_length=32)


class SuppressionView(BaseModel):
    id: str
    phone: str
    sender: str | None = Field(description="null: account-wide")
    source: str = Field(description="inbound (a STOP) or api")
    created_at: datetime

    @classmethod
    def of(cls, record: SuppressionRecord) -> SuppressionView:
        return cls(
            id=record.id,
            phone=record.phone,
            sender=None if record.sender == ANY_SENDER else record.sender,
            source=record.source,
            created_at=record.created_at,
        )


class SuppressionPage(BaseModel):
    data: list[SuppressionView]
    next_cursor: str | None


class ComplianceUpdate(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scope": "sender",
                    "stop_words": ["LOPETA"],
                    "help_text": "Acme: reply STOP to opt out.",
                }
            ]
        }
    )

    scope: Scope = optional_not_null(
        description="account: a STOP stops every number; sender: only the one"
    )
    stop_words: list[str] | None = Field(
        default=None, max_length=50, description="extra stop words, e.g. LOPETA"
    )
    stop_reply: str | None = Field(
        default=None, max_length=1000, description="the STOP confirmation; null sends none"
    )
    help_text: str | None = Field(
        default=None,
        max_length=1000,
        description="the HELP/INFO reply ({account} is the account's name); null sends none",
    )
    start_reply: str | None = Field(
        default=None,
        max_length=1000,
        description="the START confirmation ({account} is the account's name); null sends none",
    )
    hard_error_limit: int | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="refuse a recipient whose contact has this many hard errors in a row"
        " (reason 4, undeliverable); 0 never refuses",
    )


class ComplianceView(BaseModel):
    scope: Scope
    stop_words: list[str]
    stop_reply: str | None
    help_text: str | None
    start_reply: str | None
    hard_error_limit: int

    @classmethod
    def of(cls, settings: ComplianceSettings) -> ComplianceView:
        return cls(
            scope=settings.scope,
            stop_words=list(settings.stop_words),
            stop_reply=settings.stop_reply,
            help_text=settings.help_text,
            start_reply=settings.start_reply,
            hard_error_limit=settings.hard_error_limit,
        )


class KeywordFields(_Body):
    reply: str | None = Field(default=None, min_length=1, max_length=1000)
    add_to_list_id: str | None = Field(default=None, max_length=26)
    remove_from_list_id: str | None = Field(default=None, max_length=26)


class KeywordCreate(KeywordFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "number": "+358409999999",
                    "keyword": "JOIN",
                    "reply": "Welcome to Acme news!",
                    "add_to_list_id": "01J8Z3W5Q4XK7N2R9T6V0BCDEG",
                }
            ]
        }
    )

    number: str = Field(min_length=1, max_length=32, description="the receiving number (ours)")
    keyword: str = Field(min_length=1, max_length=64, description="matches the first word")


class KeywordUpdate(KeywordFields):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reply": "Welcome back to Acme news!"}]}
    )

    # A keyword always has a number and a word: either may be changed, neither removed.
    number: str = optional_not_null(min_length=1, max_length=32)
    keyword: str = optional_not_null(min_length=1, max_length=64)


class KeywordView(BaseModel):
    id: str
    number: str
    keyword: str
    reply: str | None
    add_to_list_id: str | None
    remove_from_list_id: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: KeywordRecord) -> KeywordView:
        return cls(
            id=record.id,
            number=record.number,
            keyword=record.keyword,
            reply=record.reply,
            add_to_list_id=record.add_to_list_id,
            remove_from_list_id=record.remove_from_list_id,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class KeywordPage(BaseModel):
    data: list[KeywordView]
    next_cursor: str | None


class RuleCreate(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rule_name": "Orders to the shop system",
                    "dedicated_number": "+358409999999",
                    "message_search_type": 1,
                    "message_search_term": "ORDER",
                    "action": "URL",
                    "action_address": "https://shop.example.com/sms-orders",
                }
            ]
        }
    )

    rule_name: str = Field(min_length=1, max_length=200)
    dedicated_number: str = Field(min_length=1, max_length=32, description='a number or "*"')
    message_search_type: SearchType = Field(
        description="0 any, 1 starts with, 2 contains, 3 does not contain"
    )
    message_search_term: str | None = Field(default=None, max_length=200)
    action: RuleAction
    action_address: str | None = Field(
        default=None, max_length=2000, description="URL: the target; AUTO_REPLY: the text"
    )
    webhook_type: WebhookType = Field(default=WebhookType.JSON, description="json or post (form)")
    enabled: bool = True
    payload_format: PayloadFormat = Field(
        default=PayloadFormat.NATIVE, description="native, or clicksend (its inbound SMS push)"
    )


class RuleUpdate(_Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": False}]})

    # A rule always has these: each may be changed, none removed (null is a 422).
    rule_name: str = optional_not_null(min_length=1, max_length=200)
    dedicated_number: str = optional_not_null(min_length=1, max_length=32)
    message_search_type: SearchType = optional_not_null()
    action: RuleAction = optional_not_null()
    webhook_type: WebhookType = optional_not_null()
    enabled: bool = optional_not_null()
    payload_format: PayloadFormat = optional_not_null()
    # These may be cleared with null.
    message_search_term: str | None = Field(default=None, max_length=200)
    action_address: str | None = Field(default=None, max_length=2000)


class RuleView(BaseModel):
    id: str
    rule_name: str
    dedicated_number: str
    message_search_type: int
    message_search_term: str | None
    action: str
    action_address: str | None
    webhook_type: str
    enabled: bool
    payload_format: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: InboundRuleRecord) -> RuleView:
        return cls(
            id=record.id,
            rule_name=record.name,
            dedicated_number=record.dedicated_number,
            message_search_type=record.message_search_type,
            message_search_term=record.message_search_term,
            action=record.action,
            action_address=record.action_address,
            webhook_type=record.webhook_type,
            enabled=record.enabled,
            payload_format=record.payload_format,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class RulePage(BaseModel):
    data: list[RuleView]
    next_cursor: str | None
