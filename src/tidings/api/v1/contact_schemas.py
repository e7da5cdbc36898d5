"""Request and response bodies of ``/v1/contacts`` and ``/v1/lists``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tidings.core.contacts import Gender, ImportReport, contact_properties
from tidings.store.contacts import ContactListRecord, ContactRecord


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContactFields(_Body):
    """Profile fields; on update only the fields sent change, and null clears one."""

    email: str | None = Field(default=None, max_length=254)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    gender: Gender | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=9999)
    street: str | None = Field(default=None, max_length=200)
    zip: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    country: str | None = Field(
        default=None, min_length=2, max_length=3, description="ISO 3166 alpha-2 or alpha-3"
    )
    organisation: str | None = Field(default=None, max_length=200)
    fax: str | None = Field(default=None, max_length=32)
    properties: dict[str, str] | None = Field(
        default=None, description="custom properties, name → value (replaces the whole set)"
    )
    active: bool | None = None


class ContactCreate(ContactFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "phone": "+358401234567",
                    "first_name": "Aino",
                    "last_name": "Virtanen",
                    "email": "aino@example.com",
                    "city": "Helsinki",
                    "properties": {"loyalty": "gold"},
                }
            ]
        }
    )

    phone: str = Field(min_length=1, max_length=32, description="local numbers: account region")


class ContactUpdate(ContactFields):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"city": "Tampere", "properties": {"loyalty": "silver"}}]}
    )

    phone: str | None = Field(default=None, min_length=1, max_length=32)


class ContactHealth(BaseModel):
    hard_errors_total: int
    hard_errors_current: int
    soft_errors_total: int
    soft_errors_current: int
    failed_messages: int
    last_error: str | None
    error_since: datetime | None = Field(description="when the current run of errors began")


class ContactView(BaseModel):
    id: str
    account_id: str
    phone: str
    email: str | None
    first_name: str | None
    last_name: str | None
    gender: str | None
    birth_year: int | None
    street: str | None
    zip: str | None
    city: str | None
    state: str | None
    country: str | None
    organisation: str | None
    fax: str | None
    properties: dict[str, str]
    active: bool
    health: ContactHealth
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, contact: ContactRecord) -> ContactView:
        plain = {
            name: getattr(contact, name)
            for name in cls.model_fields
            if name not in ("properties", "health")
        }
        health = {name: getattr(contact, name) for name in ContactHealth.model_fields}
        return cls(
            **plain,
            properties=contact_properties(contact),
            health=ContactHealth(**health),
        )


class ContactPage(BaseModel):
    data: list[ContactView]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class RowErrorView(BaseModel):
    row: int = Field(description="CSV record number; the header is row 1")
    field: str = Field(description="the column, or empty for the row as a whole")
    reason: str


class ImportReportView(BaseModel):
    rows: int
    created: int
    updated: int
    skipped: int
    failed: int
    added_to_list: int
    errors: list[RowErrorView]
    errors_truncated: bool

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportView:
        return cls(
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            skipped=report.skipped,
            failed=report.failed,
            added_to_list=report.added_to_list,
            errors=[RowErrorView(row=e.row, field=e.field, reason=e.reason) for e in report.errors],
            errors_truncated=report.errors_truncated,
        )


class ListCreate(_Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Newsletter"}]})

    name: str = Field(min_length=1, max_length=200)


class ListUpdate(_Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Newsletter (FI)"}]})

    name: str = Field(min_length=1, max_length=200)


class ListView(BaseModel):
    id: str
    account_id: str
    name: str
    member_count: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, found: ContactListRecord) -> ListView:
        return cls(
            id=found.id,
            account_id=found.account_id,
            name=found.name,
            member_count=found.member_count,
            created_at=found.created_at,
            updated_at=found.updated_at,
        )


class ListPage(BaseModel):
    data: list[ListView]
    next_cursor: str | None


class MembersAdd(_Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"contact_ids": ["01J8Z3W5Q4XK7N2R9T6V0BCDEF"]}]}
    )

    contact_ids: list[str] = Field(min_length=1, max_length=10_000)


class MembersAdded(BaseModel):
    added: int = Field(description="contacts that were not in the list before")
    list: ListView


class MembersRemoved(BaseModel):
    removed: int
    list: ListView


class MemberTransfer(_Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"target_list_id": "01J8Z3W5Q4XK7N2R9T6V0BCDEG"}]}
    )

    target_list_id: str = Field(min_length=1, max_length=26)
