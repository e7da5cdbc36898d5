"""Contacts: validation, CRUD, search, delivery health, and streamed CSV import and export.

A contact belongs to one account and is identified there by its phone number in E.164. The CSV
import is built for 100,000-row files: records are split from the byte stream without decoding it
whole, validated in a tight loop, and written in batches of a few thousand with one bulk insert
(COPY on PostgreSQL) per batch, each batch in its own short write transaction.
"""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import pycountry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core.accounts import utcnow
from tidings.errors import AlreadyExists, InvalidRequest, NotFound
from tidings.phone import InvalidNumber, normalize_number
from tidings.store import contacts as contact_store
from tidings.store.contacts import ContactRecord
from tidings.store.engine import Database
from tidings.store.ids import new_id, new_ids
from tidings.store.records import AccountRecord

# The profile fields a client sets, in the order of the CSV export.
PROFILE_FIELDS = (
    "phone",
    "email",
    "first_name",
    "last_name",
    "gender",
    "birth_year",
    "street",
    "zip",
    "city",
    "state",
    "country",
    "organisation",
    "fax",
)
EXPORT_COLUMNS = (*PROFILE_FIELDS, "active", "properties")
MAX_PROPERTIES = 100
MAX_PROPERTY_NAME = 64
MAX_PROPERTY_VALUE = 1_000
MIN_BIRTH_YEAR = 1900
# A CSV record longer than this is an unterminated quoted field, not data.
MAX_RECORD_BYTES = 64 * 1024
IMPORT_BATCH_ROWS = 5_000
MAX_REPORTED_ERRORS = 1_000
PAGE_LIMIT_MAX = 1_000
_YIELD_EVERY_ROWS = 250

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"


class DuplicatePolicy(StrEnum):
    """What an import does with a row whose phone is already a contact of the account."""

    SKIP = "skip"
    UPDATE = "update"


class DeliveryOutcome(StrEnum):
    """The final outcome of one message to a contact, as a receipt reports it."""

    DELIVERED = "delivered"
    # Failed for a reason that may pass (absent subscriber, full memory, expired).
    SOFT_FAILURE = "soft_failure"
    # Failed for a reason that will not pass by itself (unknown or barred number).
    HARD_FAILURE = "hard_failure"


# Field cleaners --------------------------------------------------------------------------------
# Each takes a non-empty value and returns what is stored, or raises ValueError with the reason.


def _text(limit: int) -> Callable[[Any, str], str]:
    def clean(value: Any, region: str) -> str:
        text = str(value).strip()
        if "\x00" in text:
            raise ValueError("contains a NUL character")
        if len(text) > limit:
            raise ValueError(f"longer than {limit} characters")
        return text

    return clean


def _phone(value: Any, region: str) -> str:
    try:
        return normalize_number(str(value), region)
    except InvalidNumber as error:
        raise ValueError(error.message) from None


def _email(value: Any, region: str) -> str:
    text = str(value).strip()
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise ValueError(f"not an email address: {text[:64]!r}")
    return text


_GENDER_WORDS = MappingProxyType(
    {"m": Gender.MALE, "f": Gender.FEMALE, "o": Gender.OTHER} | {g.value: g for g in Gender}
)


def _gender(value: Any, region: str) -> str:
    found = _GENDER_WORDS.get(str(value).strip().lower())
    if found is None:
        raise ValueError("gender is male, female or other")
    return found.value


def _birth_year(value: Any, region: str) -> int:
    if isinstance(value, bool):
        raise ValueError("not a year")
    try:
        year = int(str(value).strip())
    except ValueError:
        raise ValueError(f"not a year: {str(value)[:16]!r}") from None
    if not MIN_BIRTH_YEAR <= year <= utcnow().year:
        raise ValueError(f"birth year is {MIN_BIRTH_YEAR} to this year")
    return year


@functools.cache
def _country_codes() -> Mapping[str, str]:
    """ISO 3166-1 alpha-2 and alpha-3 codes, upper case, to the alpha-2 code."""
    codes: dict[str, str] = {}
    for country in pycountry.countries:
        codes[country.alpha_2] = country.alpha_2
        codes[country.alpha_3] = country.alpha_2
    return MappingProxyType(codes)


def normalize_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 or alpha-3 country code as alpha-2 (``FIN`` → ``FI``)."""
    code = _country_codes().get(value.strip().upper())
    if code is None:
        raise ValueError(f"not an ISO 3166 country code: {value[:16]!r}")
    return code


def _country(value: Any, region: str) -> str:
    return normalize_country(str(value))


_TRUE_WORDS = frozenset({"true", "1", "yes", "y"})
_FALSE_WORDS = frozenset({"false", "0", "no", "n"})


def _active(value: Any, region: str) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError("active is true or false")


_CLEANERS: Mapping[str, Callable[[Any, str], Any]] = MappingProxyType(
    {
        "phone": _phone,
        "email": _email,
        "first_name": _text(100),
        "last_name": _text(100),
        "gender": _gender,
        "birth_year": _birth_year,
        "street": _text(200),
        "zip": _text(20),
        "city": _text(100),
        "state": _text(100),
        "country": _country,
        "organisation": _text(200),
        "fax": _phone,
        "active": _active,
    }
)


def clean_properties(properties: Mapping[str, Any]) -> dict[str, str]:
    """Check custom properties: names of 1-64 characters, string values, at most 100."""
    if len(properties) > MAX_PROPERTIES:
        raise ValueError(f"at most {MAX_PROPERTIES} custom properties")
    cleaned: dict[str, str] = {}
    for name, value in properties.items():
        key = str(name).strip()
        if not 1 <= len(key) <= MAX_PROPERTY_NAME:
            raise ValueError(f"a property name has 1 to {MAX_PROPERTY_NAME} characters")
        if value is None:
            raise ValueError(f"property {key!r} has no value")
        text = str(value)
        if "\x00" in key or "\x00" in text:
            raise ValueError(f"property {key!r} contains a NUL character")
        if len(text) > MAX_PROPERTY_VALUE:
            raise ValueError(f"property {key!r} is longer than {MAX_PROPERTY_VALUE} characters")
        cleaned[key] = text
    return cleaned


def clean_contact_fields(values: Mapping[str, Any], *, region: str) -> dict[str, Any]:
    """Validate the given fields (``None`` or blank clears one; phone cannot be cleared).

    Raises :class:`InvalidRequest` naming the first bad field.
    """
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        if name == "properties":
            if value is None:
                cleaned["properties"] = {}
                continue
            if not isinstance(value, Mapping):
                raise InvalidRequest("properties is an object of names to values", field=name)
            try:
                cleaned["properties"] = clean_properties(value)
            except ValueError as error:
                raise InvalidRequest(str(error), field=name) from None
            continue
        cleaner = _CLEANERS.get(name)
        if cleaner is None:
            raise InvalidRequest(f"unknown contact field {name!r}", field=name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in ("phone", "active"):
                raise InvalidRequest(f"{name} cannot be empty", field=name)
            cleaned[name] = None
            continue
        try:
            cleaned[name] = cleaner(value, region)
        except ValueError as error:
            raise InvalidRequest(str(error), field=name) from None
    return cleaned


def contact_properties(contact: ContactRecord) -> dict[str, str]:
    loaded = json.loads(contact.properties)
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


# A provider view whose contacts belong to one list (ClickSend's) keeps each list's fields of a
# contact on its membership, so the same number can be "Aino" in one list and "A. Virtanen" in
# another while the contact itself (one per number) stays as the native API left it.
_LISTED_FIELDS = tuple(name for name in PROFILE_FIELDS if name != "phone")
# What a list stores of a contact that it shows with no fields at all.
_NOTHING_LISTED = "{}"


def listed_fields(contact: ContactRecord) -> str:
    """What a membership stores of the contact as its list shows it."""
    shown: dict[str, Any] = {name: getattr(contact, name) for name in _LISTED_FIELDS}
    shown["properties"] = contact_properties(contact)
    return json.dumps(shown, ensure_ascii=False)


def listed_view(contact: ContactRecord, stored: str | None) -> ContactRecord:
    """The contact as a list shows it, from what its membership stores (``None``: as it is)."""
    if stored is None:
        return contact
    shown: dict[str, Any] = json.loads(stored)
    values: dict[str, Any] = {name: shown.get(name) for name in _LISTED_FIELDS}
    values["properties"] = json.dumps(shown.get("properties") or {}, ensure_ascii=False)
    return replace(contact, **values)


async def as_listed(
    connection: AsyncConnection, list_ids: Sequence[str], members: Sequence[ContactRecord]
) -> list[ContactRecord]:
    """The members as the first of ``list_ids`` that keeps fields of its own for each shows
    it (a send to lists uses the names its list gave the contact)."""
    stored: dict[str, str] = {}
    for list_id in list_ids:
        wanted = [member.id for member in members if member.id not in stored]
        if not wanted:
            break
        found = await contact_store.member_fields(connection, list_id, wanted)
        stored.update((contact_id, shown) for contact_id, shown in found.items() if shown)
    return [listed_view(member, stored.get(member.id)) for member in members]


def placeholder_values(contact: ContactRecord) -> dict[str, str]:
    """What a message body's ``{placeholders}`` can use for this contact.

    The profile fields by name (empty when unset), then the custom properties, which may
    not override a profile field.
    """
    values = {
        name: "" if getattr(contact, name) is None else str(getattr(contact, name))
        for name in PROFILE_FIELDS
    }
    for name, value in contact_properties(contact).items():
        values.setdefault(name, value)
    return values


def new_contact_row(
    contact_id: str, account_id: str, fields: Mapping[str, Any], at: datetime
) -> ContactRecord:
    """A new contact with these cleaned fields (``clean_contact_fields``), its counters at zero,
    as it is inserted."""
    return ContactRecord(
        id=contact_id,
        account_id=account_id,
        phone=fields["phone"],  # every caller has checked there is one
        email=fields.get("email"),
        first_name=fields.get("first_name"),
        last_name=fields.get("last_name"),
        gender=fields.get("gender"),
        birth_year=fields.get("birth_year"),
        street=fields.get("street"),
        zip=fields.get("zip"),
        city=fields.get("city"),
        state=fields.get("state"),
        country=fields.get("country"),
        organisation=fields.get("organisation"),
        fax=fields.get("fax"),
        properties=json.dumps(fields.get("properties") or {}, ensure_ascii=False),
        active=fields.get("active", True),
        hard_errors_total=0,
        hard_errors_current=0,
        soft_errors_total=0,
        soft_errors_current=0,
        failed_messages=0,
        last_error=None,
        error_since=None,
        created_at=at,
        updated_at=at,
    )


# CRUD and search ---------------------------------------------------------------------------


async def create_contact(
    database: Database, account: AccountRecord, values: Mapping[str, Any]
) -> ContactRecord:
    fields = clean_contact_fields(values, region=account.region)
    if not fields.get("phone"):
        raise InvalidRequest("a contact needs a phone number", field="phone")
    row = new_contact_row(new_id(), account.id, fields, utcnow())
    try:
        async with database.write() as connection:
            return await contact_store.insert_contact(connection, row)
    except IntegrityError:
        raise AlreadyExists(f"a contact with phone {fields['phone']} already exists") from None


async def get_contact(database: Database, account: AccountRecord, contact_id: str) -> ContactRecord:
    async with database.read() as connection:
        found = await contact_store.find_contact(connection, account.id, contact_id)
    if found is None:
        raise NotFound(f"no contact {contact_id}")
    return found


async def find_contact_by_phone(
    database: Database, account: AccountRecord, phone: str
) -> ContactRecord | None:
    number = normalize_number(phone, account.region)
    async with database.read() as connection:
        return await contact_store.find_contact_by_phone(connection, account.id, number)


async def update_contact(
    database: Database, account: AccountRecord, contact_id: str, changes: Mapping[str, Any]
) -> ContactRecord:
    """Change the given fields only; ``properties`` replaces the whole set."""
    fields = clean_contact_fields(changes, region=account.region)
    values: dict[str, Any] = {k: v for k, v in fields.items() if k != "properties"}
    if "properties" in fields:
        values["properties"] = json.dumps(fields["properties"], ensure_ascii=False)
    values["updated_at"] = utcnow()
    try:
        async with database.write() as connection:
            updated = await contact_store.update_contact(
                connection, account.id, contact_id, **values
            )
    except IntegrityError:
        raise AlreadyExists(f"a contact with phone {fields.get('phone')} already exists") from None
    if updated is None:
        raise NotFound(f"no contact {contact_id}")
    return updated


async def delete_contact(database: Database, account: AccountRecord, contact_id: str) -> None:
    async with database.write() as connection:
        if not await contact_store.delete_contact(connection, account.id, contact_id):
            raise NotFound(f"no contact {contact_id}")


async def search_contacts(
    database: Database,
    account: AccountRecord,
    *,
    limit: int = 100,
    text: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    name: str | None = None,
    list_id: str | None = None,
    cursor: str | None = None,
) -> tuple[list[ContactRecord], str | None]:
    """A page of contacts in creation order and the cursor of the next page (None at the end)."""
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidRequest(f"limit is 1 to {PAGE_LIMIT_MAX}", field="limit")
    number = None if phone is None else normalize_number(phone, account.region)
    async with database.read() as connection:
        if (
            list_id is not None
            and await contact_store.find_list(connection, account.id, list_id) is None
        ):
            raise NotFound(f"no list {list_id}")
        page = await contact_store.search_contacts(
            connection,
            account.id,
            limit=limit + 1,
            text=text or None,
            phone=number,
            email=email or None,
            name=name or None,
            list_id=list_id,
            after_id=cursor,
        )
    if len(page) > limit:
        return page[:limit], page[limit - 1].id
    return page, None


# Delivery health -----------------------------------------------------------------------------


async def record_delivery_outcome(
    connection: AsyncConnection,
    account_id: str,
    phone: str,
    outcome: DeliveryOutcome,
    *,
    error: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Update the health counters of the account's contact with ``phone`` (E.164).

    Runs inside the caller's write transaction (``connection``), so dispatch counts an outcome
    in the same transaction as the receipt that reports it. A delivery resets the current
    error counts and ``error_since``; a failure adds to the failed-message count, to the hard
    or soft counts (total and current), and records ``error`` (e.g. the SMPP error code).
    Returns whether a contact changed.
    """
    if outcome is DeliveryOutcome.DELIVERED:
        delivered, hard = True, False
    else:
        delivered, hard = False, outcome is DeliveryOutcome.HARD_FAILURE
    return await contact_store.record_contact_outcome(
        connection,
        account_id,
        phone,
        delivered=delivered,
        hard=hard,
        error=None if error is None else error[:64],
        at=at or utcnow(),
    )


# CSV import ----------------------------------------------------------------------------------

_HEADER_ALIASES = MappingProxyType(
    {
        "phone_number": "phone",
        "mobile": "phone",
        "mobile_number": "phone",
        "number": "phone",
        "msisdn": "phone",
        "e_mail": "email",
        "firstname": "first_name",
        "lastname": "last_name",
        "surname": "last_name",
        "address": "street",
        "street_address": "street",
        "address_line_1": "street",
        "zip_code": "zip",
        "postcode": "zip",
        "postal_code": "zip",
        "country_code": "country",
        "organization": "organisation",
        "company": "organisation",
        "fax_number": "fax",
        "birthyear": "birth_year",
    }
)
_PROPERTY_PREFIX = "property:"


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row of an import was not stored. ``row`` counts records; the header is row 1."""

    row: int
    field: str
    reason: str


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    added_to_list: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_truncated: bool = False

    def _error(self, row: int, field_name: str, reason: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, field_name, reason))
        else:
            self.errors_truncated = True


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    name: str
    # A profile field's cleaner, or None for a custom property (or the properties column).
    cleaner: Callable[[Any, str], Any] | None
    is_property: bool


def _header_key(raw: str) -> str:
    return re.sub(r"[\s\-]+", "_", raw.strip().lower())


def _plan_columns(header: Sequence[str]) -> list[_Column]:
    columns: list[_Column] = []
    seen: set[str] = set()
    for index, raw in enumerate(header):
        text = raw.strip().lstrip("\ufeff")
        if not text:
            continue
        key = _header_key(text)
        if key.startswith(_PROPERTY_PREFIX):
            name, is_property, cleaner = text[len(_PROPERTY_PREFIX) :].strip(), True, None
        elif key == "properties":
            name, is_property, cleaner = "properties", False, None
        else:
            canonical = _HEADER_ALIASES.get(key, key)
            found = _CLEANERS.get(canonical)
            if found is None:
                name, is_property, cleaner = text, True, None
            else:
                name, is_property, cleaner = canonical, False, found
        if not name or len(name) > MAX_PROPERTY_NAME:
            raise InvalidRequest(f"bad CSV column name {text[:80]!r}", field="csv")
        if name in seen:
            raise InvalidRequest(f"the CSV has two {name!r} columns", field="csv")
        seen.add(name)
        columns.append(_Column(index, name, cleaner, is_property))
    if "phone" not in seen:
        raise InvalidRequest("the CSV has no phone column", field="csv")
    return columns


@dataclass(slots=True)
class _ParsedRow:
    row: int
    fields: dict[str, Any]
    properties: dict[str, str]


async def _records(chunks: AsyncIterable[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """Split a byte stream into CSV records (RFC 4180) with their byte counts consumed.

    A record ends at a line feed outside quotes; the quote count decides (doubled quotes
    inside a quoted field keep it even). Splitting bytes is safe in UTF-8, where ``\\n`` and
    ``"`` never occur inside a multi-byte character.
    """
    pending = b""
    consumed = 0
    async for chunk in chunks:
        if not chunk:
            continue
        data = pending + chunk
        start = 0
        search_from = 0
        while True:
            end = data.find(b"\n", search_from)
            if end < 0:
                break
            candidate = data[start : end + 1]
            if candidate.count(b'"') % 2 == 0 or end + 1 - start > MAX_RECORD_BYTES:
                consumed += len(candidate)
                yield consumed, candidate
                start = end + 1
            search_from = end + 1
        pending = data[start:]
        if len(pending) > MAX_RECORD_BYTES and pending.count(b'"') % 2 == 1:
            consumed += len(pending)
            yield consumed, pending
            pending = b""
    if pending.strip():
        consumed += len(pending)
        yield consumed, pending


def _parse_record(raw: bytes) -> list[str]:
    """One CSV record's fields; ValueError with the reason when it is not valid."""
    if b"\x00" in raw:
        raise ValueError("contains a NUL character")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    if len(raw) > MAX_RECORD_BYTES:
        raise ValueError("record too long (an unterminated quoted field?)")
    try:
        return next(csv.reader([text], strict=True), [])
    except csv.Error as error:
        raise ValueError(f"not valid CSV: {error}") from None


def _parse_row(
    row_number: int,
    cells: list[str],
    columns: list[_Column],
    width: int,
    region: str,
    report: ImportReport,
) -> _ParsedRow | None:
    if len(cells) != width:
        report._error(row_number, "", f"has {len(cells)} fields, the header has {width}")
        report.failed += 1
        return None
    fields: dict[str, Any] = {}
    properties: dict[str, str] = {}
    failed = False
    for column in columns:
        value = cells[column.index].strip()
        if not value:
            continue
        if column.cleaner is not None:
            try:
                fields[column.name] = column.cleaner(value, region)
            except ValueError as error:
                report._error(row_number, column.name, str(error))
                failed = True
        elif column.is_property:
            if len(value) > MAX_PROPERTY_VALUE:
                report._error(row_number, column.name, "value too long")
                failed = True
            else:
                properties[column.name] = value
        else:
            try:
                loaded = json.loads(value)
                if not isinstance(loaded, dict):
                    raise ValueError("properties is a JSON object")
                properties.update(clean_properties(loaded))
            except ValueError as error:
                report._error(row_number, "properties", str(error))
                failed = True
    if "phone" not in fields and not failed:
        report._error(row_number, "phone", "no phone number")
        failed = True
    if len(properties) > MAX_PROPERTIES and not failed:
        report._error(row_number, "properties", f"at most {MAX_PROPERTIES} custom properties")
        failed = True
    if failed:
        report.failed += 1
        return None
    return _ParsedRow(row_number, fields, properties)


async def _store_batch(
    database: Database,
    account: AccountRecord,
    batch: list[_ParsedRow],
    *,
    list_id: str | None,
    policy: DuplicatePolicy,
    listed: bool,
    report: ImportReport,
) -> None:
    # One row per phone: the first wins when skipping duplicates, later ones merge in when
    # updating (as if the rows were applied in order).
    by_phone: dict[str, _ParsedRow] = {}
    for parsed in batch:
        phone = parsed.fields["phone"]
        earlier = by_phone.get(phone)
        if earlier is None:
            by_phone[phone] = parsed
        elif policy is DuplicatePolicy.SKIP:
            report.skipped += 1
        else:
            earlier.fields.update(parsed.fields)
            earlier.properties.update(parsed.properties)
            report.updated += 1
    now = utcnow()
    async with database.write() as connection:
        if (
            list_id is not None
            and await contact_store.find_list(connection, account.id, list_id) is None
        ):
            raise NotFound(f"no list {list_id}")
        existing = await contact_store.contacts_by_phone(connection, account.id, list(by_phone))
        new_rows: list[ContactRecord] = []
        updates: list[dict[str, Any]] = []
        listed_updates: dict[str, _ParsedRow] = {}
        member_ids: list[str] = []
        fresh = [phone for phone in by_phone if phone not in existing]
        ids = iter(new_ids(len(fresh)))
        for phone, parsed in by_phone.items():
            found = existing.get(phone)
            if found is None:
                fields = {**parsed.fields, "properties": parsed.properties}
                row = new_contact_row(next(ids), account.id, fields, now)
                new_rows.append(row)
                member_ids.append(row.id)
                continue
            member_ids.append(found.id)
            if policy is DuplicatePolicy.SKIP:
                report.skipped += 1
                continue
            if listed:
                listed_updates[found.id] = parsed
                continue
            merged: dict[str, Any] = {name: getattr(found, name) for name in PROFILE_FIELDS}
            merged.update((k, v) for k, v in parsed.fields.items() if k != "active")
            merged["active"] = parsed.fields.get("active", found.active)
            properties = contact_properties(found)
            properties.update(parsed.properties)
            merged["properties"] = json.dumps(properties, ensure_ascii=False)
            merged["updated_at"] = now
            merged["id"] = found.id
            updates.append(merged)
        await contact_store.insert_contacts(connection, new_rows)
        await contact_store.update_contacts(connection, account.id, updates)
        if list_id is not None:
            listed_before = await contact_store.member_fields(
                connection, list_id, list(listed_updates)
            )
            report.added_to_list += await contact_store.add_members(
                connection, list_id, member_ids, at=now
            )
            await _update_listed(connection, list_id, existing, listed_updates, listed_before)
    report.created += len(new_rows)
    report.updated += len(updates) + len(listed_updates)


async def _update_listed(
    connection: AsyncConnection,
    list_id: str,
    contacts: Mapping[str, ContactRecord],
    rows: Mapping[str, _ParsedRow],
    before: Mapping[str, str | None],
) -> None:
    """Write the rows (by contact id) as how the list shows these contacts: merged into what
    it showed of a member already in it (``before``), and alone for a number new to the list,
    as if the list held its own contacts."""
    by_id = {contact.id: contact for contact in contacts.values()}
    for contact_id, parsed in rows.items():
        if contact_id in before:
            shown = listed_view(by_id[contact_id], before[contact_id])
        else:
            shown = listed_view(by_id[contact_id], _NOTHING_LISTED)
        properties = {**contact_properties(shown), **parsed.properties}
        changes = {k: v for k, v in parsed.fields.items() if k not in ("phone", "active")}
        updated = replace(shown, **changes, properties=json.dumps(properties, ensure_ascii=False))
        await contact_store.set_member_fields(
            connection, list_id, contact_id, listed_fields(updated)
        )


async def import_contacts_csv(
    database: Database,
    account: AccountRecord,
    chunks: AsyncIterable[bytes],
    *,
    list_id: str | None = None,
    on_duplicate: DuplicatePolicy = DuplicatePolicy.SKIP,
    listed: bool = False,
    batch_rows: int = IMPORT_BATCH_ROWS,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import contacts from a UTF-8 CSV byte stream whose first record names the columns.

    Columns are the profile fields (common aliases such as ``mobile`` or ``company`` are
    understood), ``active``, ``properties`` (a JSON object), ``property:NAME``, and any other
    column, which becomes a custom property. Every valid row's contact is put in ``list_id``
    when given, also when a duplicate is skipped. Rows that fail are reported (row, field,
    reason) and the rest are stored; each batch commits on its own. ``on_progress`` is called
    with the number of bytes consumed so far.

    With ``listed`` (and ``list_id``), a known number's row updates how the list shows it
    (:func:`listed_view`) and leaves the contact and its other lists as they are.
    """
    if listed and list_id is None:
        raise ValueError("a listed import needs a list")
    if list_id is not None:
        async with database.read() as connection:
            if await contact_store.find_list(connection, account.id, list_id) is None:
                raise NotFound(f"no list {list_id}")
    report = ImportReport()
    columns: list[_Column] | None = None
    width = 0
    row_number = 0
    batch: list[_ParsedRow] = []
    region = account.region
    # One batch is written while the next is parsed: the database works in its driver thread
    # (or server) meanwhile. Only one write is outstanding, so each batch's duplicate lookup
    # sees every earlier batch.
    writing: asyncio.Task[None] | None = None

    async def store(rows: list[_ParsedRow]) -> None:
        await _store_batch(
            database,
            account,
            rows,
            list_id=list_id,
            policy=on_duplicate,
            listed=listed,
            report=report,
        )

    try:
        async for consumed, raw in _records(chunks):
            row_number += 1
            if columns is None:
                if row_number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]  # a UTF-8 byte order mark, as spreadsheets write it
                try:
                    header = _parse_record(raw)
                except ValueError as error:
                    raise InvalidRequest(f"the CSV header: {error}", field="csv") from None
                columns = _plan_columns(header)
                width = len(header)
                continue
            if not raw.strip():
                continue  # blank lines are not rows
            report.rows += 1
            if report.rows % _YIELD_EVERY_ROWS == 0:
                await asyncio.sleep(0)  # let the outstanding write take its next step
            try:
                cells = _parse_record(raw)
            except ValueError as error:
                report._error(row_number, "", str(error))
                report.failed += 1
                continue
            parsed = _parse_row(row_number, cells, columns, width, region, report)
            if parsed is not None:
                batch.append(parsed)
            if len(batch) >= batch_rows:
                if writing is not None:
                    await writing
                writing = asyncio.create_task(store(batch))
                batch = []
                if on_progress is not None:
                    on_progress(consumed)
        if columns is None:
            raise InvalidRequest("the CSV is empty: it needs a header row", field="csv")
        if writing is not None:
            await writing
            writing = None
        if batch:
            await store(batch)
    finally:
        if writing is not None:
            # Reached only when something failed: stop the write and collect its outcome.
            writing.cancel()
            await asyncio.gather(writing, return_exceptions=True)
    if on_progress is not None:
        on_progress(-1)
    return report


# CSV export ----------------------------------------------------------------------------------


def _export_cells(contact: ContactRecord) -> list[str]:
    cells = [
        "" if getattr(contact, name) is None else str(getattr(contact, name))
        for name in PROFILE_FIELDS
    ]
    cells.append("true" if contact.active else "false")
    cells.append("" if contact.properties in ("", "{}") else contact.properties)
    return cells


async def export_contacts_csv(
    database: Database,
    account: AccountRecord,
    *,
    list_id: str | None = None,
    page_rows: int = IMPORT_BATCH_ROWS,
) -> AsyncIterator[bytes]:
    """The account's contacts (or a list's) as CSV, one page of rows per chunk.

    The columns are :data:`EXPORT_COLUMNS`, which :func:`import_contacts_csv` reads back.
    Each page is its own read, so a long export never holds a transaction open.
    """
    if list_id is not None:
        async with database.read() as connection:
            if await contact_store.find_list(connection, account.id, list_id) is None:
                raise NotFound(f"no list {list_id}")
    return _export_pages(database, account.id, list_id, page_rows)


async def _export_pages(
    database: Database, account_id: str, list_id: str | None, page_rows: int
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    after_id: str | None = None
    while True:
        async with database.read() as connection:
            page = await contact_store.search_contacts(
                connection, account_id, limit=page_rows, list_id=list_id, after_id=after_id
            )
        for contact in page:
            writer.writerow(_export_cells(contact))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        if len(page) < page_rows:
            return
        after_id = page[-1].id
