"""Who a send to lists goes to: explicit targets plus list members, minus exclude lists.

Both a message request with ``lists`` and a campaign use this: the lists are checked against
the acting account, and each contact's fields become the placeholder values of its message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncConnection

from tidings.core import lists
from tidings.core.channels import Channel
from tidings.core.contacts import placeholder_values
from tidings.core.content import ChannelContent
from tidings.core.documents import (
    Address,
    PostContent,
    checked_address,
    recipient_label,
)
from tidings.core.messaging import SendRequest, has_placeholders
from tidings.core.sends import RecipientError
from tidings.errors import InvalidRequest
from tidings.phone import InvalidNumber, normalize_number
from tidings.store import contacts as contact_store
from tidings.store.contacts import ContactRecord
from tidings.store.engine import Database
from tidings.store.records import AccountRecord

MAX_LISTS = 100


def contact_values(contact: ContactRecord) -> dict[str, str]:
    """A contact's placeholder values (see :func:`tidings.core.contacts.placeholder_values`).

    An empty field fills its placeholder with nothing, so "Hi {first_name}" still goes to a
    contact without a first name; a placeholder that is neither a field nor one of the
    contact's properties leaves that recipient refused as ``missing_placeholder``.
    """
    return placeholder_values(contact)


def clean_list_ids(list_ids: Sequence[str], *, field: str) -> list[str]:
    wanted = list(dict.fromkeys(list_ids))
    if len(wanted) > MAX_LISTS:
        raise InvalidRequest(f"at most {MAX_LISTS} lists", field=field)
    return wanted


async def require_lists(
    connection: AsyncConnection, account: AccountRecord, list_ids: Sequence[str], *, field: str
) -> None:
    """Every id is a list of this account; another account's list is as unknown as a typo."""
    for list_id in list_ids:
        if await contact_store.find_list(connection, account.id, list_id) is None:
            raise InvalidRequest(f"no list {list_id}", field=field)


async def target_contact_values(
    database: Database,
    account: AccountRecord,
    targets: Sequence[str],
    given: Mapping[str, Mapping[str, str]],
) -> dict[str, Mapping[str, str]]:
    """Placeholder values for the explicit targets that are contacts of the account and have
    no values of their own in ``given``, keyed by the target as written."""
    addresses: dict[str, str] = {}
    for raw in targets:
        if raw in given:
            continue
        with contextlib.suppress(InvalidNumber):
            address = normalize_number(raw, account.region)
            if address not in given:
                addresses[raw] = address
    if not addresses:
        return {}
    async with database.read() as connection:
        known = await contact_store.contacts_by_phone(
            connection, account.id, sorted(set(addresses.values()))
        )
    return {
        raw: contact_values(known[address])
        for raw, address in addresses.items()
        if address in known
    }


async def with_contact_values(
    database: Database, account: AccountRecord, request: SendRequest
) -> SendRequest:
    """``request`` with the placeholder values of each target that is a contact of the account
    and has none of its own in the request; as it is when its body has no placeholders."""
    if not has_placeholders(request.body):
        return request
    given: Mapping[str, Mapping[str, str]] = request.personalization or {}
    found = await target_contact_values(database, account, request.to, given)
    if not found:
        return request
    return replace(request, personalization={**given, **found})


async def with_list_members(
    database: Database,
    account: AccountRecord,
    request: SendRequest,
    *,
    list_ids: Sequence[str],
    exclude_list_ids: Sequence[str] = (),
    max_recipients: int,
) -> SendRequest:
    """``request`` with the members of ``list_ids`` (minus ``exclude_list_ids``) added to its
    recipients, each with its contact's placeholder values: by the contact's phone, or for a
    fax by its fax number (a member without one is refused as ``no_fax_number``, named by its
    contact id).

    An explicit target that is a contact (and has no values in the request) gets its contact's
    values too. A member whose number is also an explicit target is added all the same, so the
    request's planning reports it once as ``duplicate``. More recipients than one request may
    have is an error: a campaign is the way to send to a bigger audience.
    """
    include = clean_list_ids(list_ids, field="lists")
    exclude = clean_list_ids(exclude_list_ids, field="exclude_lists")
    async with database.read() as connection:
        await require_lists(connection, account, include, field="lists")
        await require_lists(connection, account, exclude, field="exclude_lists")
    to = list(request.to)
    personalization: dict[str, Mapping[str, str]] = dict(request.personalization or {})
    personalization.update(await target_contact_values(database, account, to, personalization))
    refused = dict(request.refused)
    by_fax = request.channel is Channel.FAX
    post = request.content if isinstance(request.content, PostContent) else None
    contents: list[ChannelContent] | None = None
    if post is not None:
        # Every explicit addressee keeps the request's content; each member gets its own.
        contents = [post] * len(to)
    async for page in lists.list_recipients(
        database, account.id, include_list_ids=include, exclude_list_ids=exclude
    ):
        for contact in page:
            if post is not None and contents is not None:
                _add_addressee(contact, post, to, contents, refused)
                continue
            number = contact.fax if by_fax else contact.phone
            if not number:
                label = f"contact {contact.id}"
                to.append(label)
                refused[label] = (
                    RecipientError.NO_FAX_NUMBER,
                    f"{contact_name(contact)} has no fax number",
                )
                continue
            to.append(number)
            personalization.setdefault(number, contact_values(contact))
        if len(to) > max_recipients:
            raise InvalidRequest(
                f"at most {max_recipients} recipients per request; send to bigger lists "
                "with a campaign",
                field="lists",
            )
    return replace(
        request, to=to, personalization=personalization, refused=refused, contents=contents
    )


def _add_addressee(
    contact: ContactRecord,
    post: PostContent,
    to: list[str],
    contents: list[ChannelContent],
    refused: dict[str, tuple[str, str]],
) -> None:
    """A list member as the addressee of a letter or postcard: its contact's postal address
    on the request's document, or refused as ``no_postal_address``."""
    name = contact_name(contact)
    address = postal_address_of(contact)
    reason = f"{name} has no postal address (street, city and country)"
    if address is not None:
        try:
            address = checked_address(address, field="lists")
        except InvalidRequest as error:
            address, reason = None, f"{name}'s postal address cannot be printed: {error.message}"
    if address is None:
        label = f"contact {contact.id}"
        to.append(label)
        contents.append(post)
        refused[label] = (RecipientError.NO_POSTAL_ADDRESS, reason)
        return
    to.append(recipient_label(address))
    contents.append(post.model_copy(update={"address": address}))


def postal_address_of(contact: ContactRecord) -> Address | None:
    """A contact's postal address as a letter takes it; None without street, city or
    country (ClickSend's address fields: ``address_line_1``, ``address_city``, ...)."""
    if not (contact.street and contact.city and contact.country):
        return None
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    return Address(
        name=name or contact.organisation or "",
        line_1=contact.street,
        city=contact.city,
        state=contact.state or "",
        postal_code=contact.zip or "",
        country=contact.country.upper(),
    )


def contact_name(contact: ContactRecord) -> str:
    """How a refusal names a contact: its name, else its organisation, else its id."""
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    return name or contact.organisation or f"contact {contact.id}"
