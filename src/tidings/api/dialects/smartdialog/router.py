"""``/api-integrations/v1``: the SmartDialog operations, translated to core calls."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Annotated, Any

import phonenumbers
import pycountry
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2AuthorizationCodeBearer

from tidings.api.dialects.smartdialog import rendering
from tidings.api.dialects.smartdialog.errors import SmartDialogRoute
from tidings.api.dialects.smartdialog.schemas import (
    CreateTemplate,
    CreateWebhook,
    DiscussionReply,
    GroupContact,
    GroupContactChanges,
    SendMessage,
    SendWhatsappTemplate,
)
from tidings.api.state import Services
from tidings.core import (
    accounts,
    consent,
    contacts,
    conversations,
    lists,
    messaging,
    mms,
    oauth,
    routing,
    services,
    templates,
    whatsapp,
)
from tidings.core.channels import Channel
from tidings.core.services import ServiceKind
from tidings.dispatch.transports import whatsapp as whatsapp_transport
from tidings.errors import InvalidRequest, NotFound, Unauthorized
from tidings.events import subscriptions
from tidings.events.formats.smartdialog import SMARTDIALOG
from tidings.events.ssrf import TargetPolicy, validate_callback_url
from tidings.net.graph import GraphApiError, GraphUnreachable
from tidings.phone import InvalidNumber, normalize_number
from tidings.store.records import AccountRecord
from tidings.store.services import ServiceRecord

BASE_PATH = "/api-integrations/v1"


async def _services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(_services)]


# The connector's OAuth2 sign-in, in the OpenAPI document (operations need a token: 401, 403 for
# a token without the operation's scope, 429); the token is read by _grant itself.
_oauth2_scheme = OAuth2AuthorizationCodeBearer(
    authorizationUrl="/oauth2/authorize",
    tokenUrl="/oauth2/token",
    scheme_name="SmartDialogOAuth2",
    auto_error=False,
)


async def _grant(
    request: Request,
    found: ServicesDep,
    _documented: Annotated[str | None, Depends(_oauth2_scheme)] = None,
) -> oauth.TokenGrant:
    """The OAuth2 access token of the request (``Authorization: Bearer``)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    grant = await oauth.verify_access_token(found.database, token.strip())
    await found.rate_limiter.hit(grant.principal.key_id, grant.principal.account.rate_limit)
    return grant


GrantDep = Annotated[oauth.TokenGrant, Depends(_grant)]


async def _customer(found: Services, grant: oauth.TokenGrant, customer_id: str) -> AccountRecord:
    """The Customer (account) the request acts for: the key's own, or a sub-account of it."""
    return await accounts.acting_account(found.database, grant.principal, customer_id)


def _region(account: AccountRecord, regions: list[str] | str | None) -> str:
    chosen = [regions] if isinstance(regions, str) else list(regions or [])
    for region in chosen:
        if region:
            return accounts.validate_region(region)
    return account.region


async def _send(
    found: Services, account: AccountRecord, request: messaging.SendRequest
) -> list[messaging.RecipientResult]:
    settings = found.settings
    result = await messaging.accept_messages(
        found.database,
        account,
        request,
        max_recipients=settings.max_recipients,
        default_max_parts=settings.default_max_parts,
        idempotency_window=timedelta(days=settings.idempotency_days),
    )
    accepted = [r for r in result.recipients if r.id is not None]
    if not accepted:
        errors = {
            f"Recipients[{i}].Address": [r.error_detail or r.error or "rejected"]
            for i, r in enumerate(result.recipients)
        }
        raise _RecipientsRejected(errors)
    return accepted


def _limits(found: Services) -> conversations.SendLimits:
    settings = found.settings
    return conversations.SendLimits(
        max_recipients=settings.max_recipients,
        default_max_parts=settings.default_max_parts,
        idempotency_window=timedelta(days=settings.idempotency_days),
    )


def _reply(
    found: Services,
    content: str,
    customer_data: str | None,
    dlr_url: str | None,
    send: SendMessage | None,
) -> conversations.Reply:
    return conversations.Reply(
        body=content,
        send_at=None if send is None else send.SendDateTime,
        request_id=None if send is None else send.RequestId,
        customer_data=customer_data,
        dlr_url=_dlr_url(found, dlr_url),
    )


async def _replied(
    found: Services,
    account: AccountRecord,
    prepared: messaging.PreparedSend | messaging.SendResult,
    field: str,
) -> tuple[list[messaging.RecipientResult], str | None]:
    """A reply stored through the intake (or its earlier answer), and the thread it is in."""
    result = (
        prepared
        if isinstance(prepared, messaging.SendResult)
        else await found.intake.submit(prepared)
    )
    accepted = [r for r in result.recipients if r.id is not None]
    if not accepted:
        # A reply has one recipient; refused, say, because that handset opted out.
        [refused] = result.recipients
        raise _RecipientsRejected({field: [refused.error_detail or refused.error or "rejected"]})
    message_id = accepted[0].id
    thread_id = (
        None
        if message_id is None
        else await conversations.thread_of_message(found.database, account, message_id)
    )
    return accepted, thread_id


class _RecipientsRejected(InvalidRequest):
    """No recipient could be sent to."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first = next(iter(errors))
        super().__init__(errors[first][0], field=first)


def _dlr_url(found: Services, url: str | None) -> str | None:
    if not url:
        return None
    try:
        return validate_callback_url(url, TargetPolicy.from_settings(found.settings))
    except InvalidRequest as error:
        error.field = "DlrUrl"
        raise


def build_router() -> APIRouter:
    router = APIRouter(prefix=BASE_PATH, tags=["smartdialog"], route_class=SmartDialogRoute)

    @router.get("/customers", operation_id="GetUserCustomers")
    async def get_user_customers(found: ServicesDep, grant: GrantDep) -> dict[str, Any]:
        grant.require("User.Customers")
        own = grant.principal.account
        subs = await accounts.list_sub_accounts(found.database, own.id)
        return {
            "customerUsers": [{"customerId": a.id, "customerName": a.name} for a in [own, *subs]]
        }

    @router.get("/services/{customer_id}", operation_id="GetCustomerServices")
    async def get_customer_services(
        customer_id: str,
        found: ServicesDep,
        grant: GrantDep,
        service_type: Annotated[str, Header(alias="ServiceType")] = "OneWay",
        allow_reply: Annotated[bool | None, Header(alias="AllowReplyMessage")] = None,
    ) -> list[dict[str, str]]:
        grant.require("Customer.Services")
        account = await _customer(found, grant, customer_id)
        found_services = await services.list_services(
            found.database, account, kind=services.parse_kind(service_type), allow_reply=allow_reply
        )
        return [{"id": s.id, "name": s.name} for s in found_services]

    @router.post("/messages", operation_id="SendMessage")
    async def send_message(
        body: SendMessage,
        found: ServicesDep,
        grant: GrantDep,
        customer_id: Annotated[str, Header(alias="Customer-Id")],
        service_id: Annotated[str, Header(alias="Service-Id")],
    ) -> dict[str, Any]:
        grant.require("Gateway.Send")
        account = await _customer(found, grant, customer_id)
        service = await services.get_service(found.database, account, service_id)
        sender = services.check_sender(account, service, body.Sender)
        request = messaging.SendRequest(
            to=[r.Address for r in body.Recipients],
            sender=sender,
            body=body.Content,
            personalization={
                r.Address: r.Personalization for r in body.Recipients if r.Personalization
            },
            send_at=body.SendDateTime,
            request_id=body.RequestId,
            customer_data=body.CustomerData,
            dlr_url=_dlr_url(found, body.DlrUrl),
            ad=body.AdMessage,
        )
        if body.AttachmentUri:
            # An attachment makes it an MMS (the file fetched once, now); never dropped.
            request = dataclasses.replace(
                request,
                channel=Channel.MMS,
                sender=mms.check_sender(sender),
                content=mms.MmsContent(
                    media=await mms.media_refs(found.media, account.id, [body.AttachmentUri])
                ),
            )
        return rendering.sent(await _send(found, account, request))

    @router.post("/messages/reply/{parent_message_id}", operation_id="SendReplyMessage")
    async def send_reply_message(
        parent_message_id: str,
        body: SendMessage,
        found: ServicesDep,
        grant: GrantDep,
        customer_id: Annotated[str, Header(alias="Customer-Id")],
        service_id: Annotated[str, Header(alias="Service-Id")],
    ) -> dict[str, Any]:
        # The addresses are the parent's (core swaps them for an inbound parent); Sender and
        # Recipients are required by the connector but a reply cannot choose them.
        grant.require("Gateway.Send")
        account = await _customer(found, grant, customer_id)
        service = await services.get_service(found.database, account, service_id)
        prepared = await conversations.prepare_reply_to_message(
            found.database,
            account,
            parent_message_id,
            _reply(found, body.Content, body.CustomerData, body.DlrUrl, body),
            limits=_limits(found),
        )
        if isinstance(prepared, messaging.PreparedSend):
            services.check_sender(account, service, prepared.sender_address)
        accepted, _ = await _replied(found, account, prepared, "Recipients[0].Address")
        return rendering.sent(accepted)

    @router.post("/messages/discussion/reply", operation_id="SendDiscussionReplyMessage")
    async def send_discussion_reply(
        body: DiscussionReply,
        found: ServicesDep,
        grant: GrantDep,
        customer_id: Annotated[str, Header(alias="CustomerId")],
    ) -> dict[str, Any]:
        grant.require("Discussion.Reply")
        account = await _customer(found, grant, customer_id)
        prepared = await conversations.prepare_reply_to_thread(
            found.database,
            account,
            body.ThreadId,
            _reply(found, body.Content, body.CustomerData, None, None),
            limits=_limits(found),
        )
        accepted, thread_id = await _replied(found, account, prepared, "ThreadId")
        return {**rendering.sent(accepted), "ThreadId": thread_id or body.ThreadId}

    @router.post("/messages/templates/whatsapp", operation_id="SendWhatsappTemplateMessage")
    async def send_whatsapp_template(
        body: SendWhatsappTemplate,
        found: ServicesDep,
        grant: GrantDep,
        customer_id: Annotated[str, Header(alias="Customer-Id")],
        service_id: Annotated[str, Header(alias="Service-Id")],
    ) -> dict[str, Any]:
        grant.require("WhatsApp")
        account = await _customer(found, grant, customer_id)
        service = await services.get_service(found.database, account, service_id)
        template = await templates.get_template(found.database, account, body.TemplateName)
        recipients = [r.Address for r in body.Recipients]
        text = templates.fill_template(template, body.BodyParameters)
        route = await whatsapp.business_route(found.database, account, template.identity)
        if route is not None:
            # Over WhatsApp from the template's number; UseSmsFallback sends the text as an SMS
            # only when WhatsApp cannot reach the number (core.whatsapp.queue_sms_fallbacks).
            request = messaging.SendRequest(
                to=recipients,
                sender=template.identity,
                body=text,
                send_at=body.SendDateTime,
                request_id=body.RequestId,
                customer_data=body.CustomerData,
                dlr_url=_dlr_url(found, body.DlrUrl),
            )
            request = await whatsapp.prepare(
                found.database,
                found.media,
                account,
                request,
                template=templates.send_parameters(
                    template,
                    header=body.HeaderParameters,
                    header_media=body.AttachmentUri,
                    body=body.BodyParameters,
                    buttons=[b.model_dump() for b in body.Buttons],
                ),
                media=(),
                buttons=(),
                fallback_sms=body.UseSmsFallback,
                subject=None,
            )
            return rendering.sent(await _send(found, account, request), camel=True)
        if not body.UseSmsFallback:
            raise templates.NoWhatsAppChannel()
        # A WhatsApp opt-out bars the template by SMS too: it is still that number's message.
        await consent.require_consent(
            found.database,
            account,
            channel=consent.WHATSAPP,
            sender=template.identity,
            recipients=recipients,
            field="Recipients",
        )
        senders = services.senders_of(service)
        sender = senders[0] if senders else template.identity
        request = messaging.SendRequest(
            to=recipients,
            sender=sender,
            body=text,
            send_at=body.SendDateTime,
            request_id=body.RequestId,
            customer_data=body.CustomerData,
            dlr_url=_dlr_url(found, body.DlrUrl),
        )
        return rendering.sent(await _send(found, account, request), camel=True)

    @router.get("/whatsapp/templates/categories", operation_id="GetWhatsappTemplateCategories")
    async def get_template_categories(grant: GrantDep) -> list[str]:
        grant.require("WhatsApp")
        return list(templates.CATEGORIES)

    @router.get("/whatsapp/templates/{customer_id}", operation_id="GetCustomerWhatsAppTemplates")
    async def get_templates(
        customer_id: str,
        found: ServicesDep,
        grant: GrantDep,
        template_id: Annotated[str | None, Query(alias="TemplateId")] = None,
    ) -> list[dict[str, Any]]:
        grant.require("WhatsApp")
        account = await _customer(found, grant, customer_id)
        found_templates = await templates.list_templates(
            found.database, account, template_id=template_id
        )
        if await _synced(found, account, {t.route_id for t in found_templates}):
            found_templates = await templates.list_templates(
                found.database, account, template_id=template_id
            )
        return [rendering.template(t, t.status) for t in found_templates]

    async def _synced(found: Services, account: AccountRecord, route_ids: set[int | None]) -> bool:
        """Meta's review statuses of the account's templates, asked of the WhatsApp Business
        Account of each route they were submitted through now and kept (the webhook keeps
        them too; a route that cannot be reached keeps the last ones)."""
        synced = False
        for route_id in route_ids:
            if route_id is None:
                continue
            try:
                await whatsapp_transport.sync_templates(found.database, account, route_id)
            except (GraphApiError, GraphUnreachable, NotFound):
                continue
            synced = True
        return synced

    async def _identities(found: Services, account: AccountRecord) -> list[str]:
        views = await routing.list_senders(found.database, account.id)
        return [v.sender.address for v in views if v.sender.address.startswith("+")]

    @router.post(
        "/whatsapp/templates/{customer_id}/{identity_number}",
        operation_id="CreateWhatsappTemplate",
        status_code=204,
    )
    async def create_template(
        customer_id: str,
        identity_number: str,
        body: CreateTemplate,
        found: ServicesDep,
        grant: GrantDep,
    ) -> Response:
        grant.require("WhatsApp")
        account = await _customer(found, grant, customer_id)
        try:
            identity = normalize_number(identity_number, account.region)
        except InvalidNumber:
            identity = identity_number
        if identity not in await _identities(found, account):
            raise NotFound(f"no WhatsApp identity {identity_number}")
        buttons = [b.model_dump(exclude_none=True) for b in body.Buttons]
        route = await whatsapp.business_route(found.database, account, identity)
        if route is not None:
            # Submitted for review to the number's WhatsApp Business Account; Meta's status
            # is shown when templates are listed.
            submitted = templates.meta_template(
                display_name=body.DisplayName,
                raw_content=body.RawContent,
                category=body.Category,
                language=body.Language,
                buttons=buttons,
            )
            try:
                review = await whatsapp_transport.submit_template(route, submitted)
            except GraphApiError as error:
                raise InvalidRequest(
                    f"WhatsApp refused the template: {error.error.summary}", field="RawContent"
                ) from None
            except GraphUnreachable as error:
                raise InvalidRequest(
                    f"WhatsApp could not be reached, nothing was stored; try again: {error}"
                ) from None
        else:
            review = None
        await templates.create_template(
            found.database,
            account,
            submitted=review,
            identity=identity,
            display_name=body.DisplayName,
            raw_content=body.RawContent,
            category=body.Category,
            language=body.Language,
            buttons=buttons,
            attachment_url=body.AttachmentUrl,
        )
        return Response(status_code=204)

    @router.get("/whatsapp/identities/{customer_id}", operation_id="GetCustomerWhatsappIdentities")
    async def get_identities(
        customer_id: str, found: ServicesDep, grant: GrantDep
    ) -> list[dict[str, Any]]:
        grant.require("WhatsApp")
        account = await _customer(found, grant, customer_id)
        return [{"inputSource": {"address": a}} for a in await _identities(found, account)]

    async def _opt_in_numbers(
        found: Services, grant: oauth.TokenGrant, sender: str, recipient: str, opted_in: bool
    ) -> None:
        # Deprecated by the provider: the sender must be one of the caller's numbers (else
        # refused like any unknown id); the choice is kept as core's channel consent.
        grant.require("WhatsApp")
        account = grant.principal.account
        try:
            normalize_number(recipient, account.region)
            address = normalize_number(sender, account.region)
        except InvalidNumber as error:
            raise InvalidRequest(error.message, field="Recipient") from None
        if address not in await _identities(found, account):
            raise NotFound(f"no WhatsApp identity {sender}")
        await consent.set_consent(
            found.database,
            account,
            channel=consent.WHATSAPP,
            sender=address,
            recipient=recipient,
            opted_in=opted_in,
        )

    @router.post(
        "/whatsapp/opt-in/sender/{sender}/recipient/{recipient}",
        operation_id="WhatsAppOptIn",
        status_code=204,
    )
    async def whatsapp_opt_in(
        sender: str, recipient: str, found: ServicesDep, grant: GrantDep
    ) -> Response:
        await _opt_in_numbers(found, grant, sender, recipient, True)
        return Response(status_code=204)

    @router.delete(
        "/whatsapp/opt-in/sender/{sender}/recipient/{recipient}",
        operation_id="WhatsAppOptOut",
        status_code=204,
    )
    async def whatsapp_opt_out(
        sender: str, recipient: str, found: ServicesDep, grant: GrantDep
    ) -> Response:
        await _opt_in_numbers(found, grant, sender, recipient, False)
        return Response(status_code=204)

    async def _group(
        found: Services, grant: oauth.TokenGrant, customer: str, group_service: str
    ) -> tuple[AccountRecord, ServiceRecord]:
        grant.require("Group.Management")
        account = await _customer(found, grant, customer)
        service = await services.get_service(
            found.database, account, group_service, kind=ServiceKind.GROUP
        )
        return account, service

    def _contact_fields(body: GroupContactChanges) -> dict[str, Any]:
        given = body.model_dump(exclude_unset=True)
        names = {
            "active": "active",
            "email": "email",
            "firstName": "first_name",
            "lastName": "last_name",
            "gender": "gender",
            "birthYear": "birth_year",
            "streetAddress": "street",
            "zipCode": "zip",
            "city": "city",
            "countryCode": "country",
            "phone": "phone",
        }
        values = {names[k]: v for k, v in given.items() if k in names}
        if "customContactProperties" in given:
            values["properties"] = {
                p["name"]: p.get("value") or "" for p in given["customContactProperties"] or []
            }
        return values

    # The connector names this path parameter "Group Service" (with a space); it is positional
    # on the wire, so any name matches what clients send.
    @router.get("/groupcontact/{customer}/{group_service}/{phone}", operation_id="GetGroupContact")
    async def get_group_contact(
        customer: str,
        group_service: str,
        phone: str,
        found: ServicesDep,
        grant: GrantDep,
        region: Annotated[str | None, Query(alias="Region")] = None,
    ) -> dict[str, Any]:
        account, service = await _group(found, grant, customer, group_service)
        contact = await services.find_group_member(
            found.database, account, service, phone, region=_region(account, region)
        )
        return rendering.group_contact(contact)

    @router.post("/groupcontact/{customer}/{group_service}", operation_id="CreateGroupContact")
    async def create_group_contact(
        customer: str, group_service: str, body: GroupContact, found: ServicesDep, grant: GrantDep
    ) -> JSONResponse:
        account, service = await _group(found, grant, customer, group_service)
        contact = await services.add_group_member(
            found.database,
            account,
            service,
            _contact_fields(body),
            region=_region(account, body.phoneNumberRegions),
        )
        return JSONResponse(contact.id)

    @router.put(
        "/groupcontact/{customer}/{group_service}/{phone}", operation_id="UpdateGroupContact"
    )
    async def update_group_contact(
        customer: str,
        group_service: str,
        phone: str,
        body: GroupContactChanges,
        found: ServicesDep,
        grant: GrantDep,
    ) -> bool:
        account, service = await _group(found, grant, customer, group_service)
        contact = await services.find_group_member(
            found.database,
            account,
            service,
            phone,
            region=_region(account, body.phoneNumberRegions),
        )
        await contacts.update_contact(found.database, account, contact.id, _contact_fields(body))
        return True

    @router.delete(
        "/groupcontact/{customer}/{group_service}/{phone}", operation_id="DeleteGroupContact"
    )
    async def delete_group_contact(
        customer: str, group_service: str, phone: str, found: ServicesDep, grant: GrantDep
    ) -> bool:
        account, service = await _group(found, grant, customer, group_service)
        contact = await services.find_group_member(
            found.database, account, service, phone, region=account.region
        )
        await lists.remove_member(
            found.database, account, services.group_list_id(service), contact.id
        )
        return True

    @router.delete(
        "/groupcontact/{customer}/{group_service}", operation_id="DeleteAllGroupContacts"
    )
    async def delete_all_group_contacts(
        customer: str, group_service: str, found: ServicesDep, grant: GrantDep
    ) -> bool:
        account, service = await _group(found, grant, customer, group_service)
        await lists.remove_all_members(found.database, account, services.group_list_id(service))
        return True

    @router.get("/phonenumberregions", operation_id="GetPhoneNumberRegions")
    async def get_phone_number_regions(grant: GrantDep) -> list[dict[str, str]]:
        regions = []
        for code in sorted(phonenumbers.SUPPORTED_REGIONS):
            country = pycountry.countries.get(alpha_2=code)
            regions.append({"value": code, "name": code if country is None else country.name})
        return regions

    @router.post("/service/{service}/pipelines/actions", operation_id="NewMessage", status_code=201)
    async def new_message_trigger(
        service: str,
        body: CreateWebhook,
        request: Request,
        found: ServicesDep,
        grant: GrantDep,
        customer: Annotated[str, Header(alias="Customer")],
    ) -> JSONResponse:
        grant.require("TwoWay.Management")
        account = await _customer(found, grant, customer)
        two_way = await services.get_service(
            found.database, account, service, kind=ServiceKind.TWO_WAY
        )
        try:
            subscription = await subscriptions.create_subscription(
                found.database,
                account.id,
                body.options.endpointUrl,
                ["message.received"],
                policy=TargetPolicy.from_settings(found.settings),
                payload_format=SMARTDIALOG,
                # "When a new message arrives to a 2-Way service": to its numbers only.
                recipients=services.senders_of(two_way),
            )
        except InvalidRequest as error:
            error.field = "options.endpointUrl"
            raise
        location = str(
            request.url_for("DeleteTrigger", pipeline_id=two_way.id, action_id=subscription.id)
        )
        return JSONResponse(
            {"id": subscription.id}, status_code=201, headers={"Location": location}
        )

    @router.delete(
        "/pipelines/{pipeline_id}/actions/{action_id}",
        operation_id="DeleteTrigger",
        name="DeleteTrigger",
        status_code=204,
    )
    async def delete_trigger(
        pipeline_id: str, action_id: str, found: ServicesDep, grant: GrantDep
    ) -> Response:
        grant.require("TwoWay.Management")
        own = grant.principal.account
        for account in [own, *await accounts.list_sub_accounts(found.database, own.id)]:
            try:
                await subscriptions.delete_subscription(found.database, account.id, action_id)
            except NotFound:
                continue
            return Response(status_code=204)
        raise NotFound(f"no action {action_id} in pipeline {pipeline_id}")

    return router
