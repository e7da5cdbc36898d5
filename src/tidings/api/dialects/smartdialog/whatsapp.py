"""SmartDialog's WhatsApp operations: template messages (with their SMS fallback), templates,
identities and the deprecated opt-in."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Header, Query, Response

from tidings.api.dialects.smartdialog import rendering
from tidings.api.dialects.smartdialog.common import (
    GrantDep,
    ServicesDep,
    customer_account,
    gateway_send,
    send_accepted,
    send_request,
    smartdialog_router,
)
from tidings.api.dialects.smartdialog.schemas import CreateTemplate, SendWhatsappTemplate
from tidings.api.state import Services
from tidings.core import consent, oauth, routing, services, templates, whatsapp, whatsapp_templates
from tidings.dispatch.transports import whatsapp as whatsapp_transport
from tidings.errors import InvalidRequest, NotFound
from tidings.net.graph import GraphApiError, GraphUnreachable
from tidings.phone import InvalidNumber, normalize_number
from tidings.store.records import AccountRecord
from tidings.whatsapp import templates as wa

router = smartdialog_router()


@router.post("/messages/templates/whatsapp", operation_id="SendWhatsappTemplateMessage")
async def send_whatsapp_template(
    body: SendWhatsappTemplate,
    found: ServicesDep,
    grant: GrantDep,
    customer_id: Annotated[str, Header(alias="Customer-Id")],
    service_id: Annotated[str, Header(alias="Service-Id")],
) -> dict[str, Any]:
    send = await gateway_send(found, grant, "WhatsApp", customer_id, service_id)
    account, service = send.account, send.service
    template = await templates.get_template(found.database, account, body.TemplateName)
    recipients = [r.Address for r in body.Recipients]
    text = templates.fill_template(template, body.BodyParameters)
    route = await whatsapp.business_route(found.database, account, template.identity)
    if route is not None:
        # Over WhatsApp from the template's number; UseSmsFallback sends the text as an SMS
        # only when WhatsApp cannot reach the number (core.whatsapp.queue_sms_fallbacks).
        request = send_request(found, body, to=recipients, sender=template.identity, text=text)
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
        return rendering.sent(await send_accepted(found, account, request), camel=True)
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
    request = send_request(found, body, to=recipients, sender=sender, text=text)
    return rendering.sent(await send_accepted(found, account, request), camel=True)


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
    account = await customer_account(found, grant, customer_id)
    # Meta's statuses, and the templates made at Meta directly, as the WhatsApp Business
    # Accounts of the account's numbers list them (a short cache; the webhook keeps statuses).
    kept = await templates.list_templates(found.database, account, template_id=template_id)
    await found.whatsapp_templates.refresh(found.database, account, {t.route_id for t in kept})
    found_templates = await templates.list_templates(
        found.database, account, template_id=template_id
    )
    return [rendering.template(t, t.status) for t in found_templates]


async def _account_numbers(found: Services, account: AccountRecord) -> list[str]:
    """Every number of the account: what a template's identity and the opt-in's sender may
    be. A template whose number is no WhatsApp business number is kept for SMS (sent from the
    service's numbers with UseSmsFallback, its identity naming the consent that bars it)."""
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
    account = await customer_account(found, grant, customer_id)
    try:
        identity = normalize_number(identity_number, account.region)
    except InvalidNumber:
        identity = identity_number
    # The drop-down offers the WhatsApp business numbers; any other number of the account,
    # typed in, keeps the template for SMS.
    if identity not in await _account_numbers(found, account):
        raise NotFound(f"no WhatsApp identity {identity_number}")
    buttons = [b.model_dump(exclude_none=True) for b in body.Buttons]
    attachment_url = (body.AttachmentUrl or "").strip() or None
    route = await whatsapp.business_route(found.database, account, identity)
    components = None
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
        example = None
        if attachment_url is not None:
            # The attachment makes a media header (its kind from the file's bytes), each
            # send then carrying its own file (AttachmentUri), as /v1/whatsapp/templates.
            header, data, content_type = await whatsapp_templates.header_example(
                found.media, account, attachment_url, header=None, field="AttachmentUrl"
            )
            example = (data, content_type)
            submitted = replace(submitted, header=wa.Header(header))
            components = json.dumps(submitted.submission()["components"])
        try:
            review = await whatsapp_transport.submit_template(route, submitted, example=example)
        except InvalidRequest as error:
            if example is None:
                raise
            # The example cannot be uploaded (the route keeps no Meta app id): nothing sent.
            raise InvalidRequest(error.message, field="AttachmentUrl") from None
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
        attachment_url=attachment_url,
        components=components,
    )
    return Response(status_code=204)


@router.get("/whatsapp/identities/{customer_id}", operation_id="GetCustomerWhatsappIdentities")
async def get_identities(
    customer_id: str, found: ServicesDep, grant: GrantDep
) -> list[dict[str, Any]]:
    """The IdentityNumber drop-down of Create WhatsApp template: the account's WhatsApp
    business numbers, each as the E.164 address the drop-down shows and sends back. Numbers
    that only send SMS are no WhatsApp identity; a template send reaches them through its
    Service (GetCustomerServices), whose numbers an SMS fallback goes from."""
    grant.require("WhatsApp")
    account = await customer_account(found, grant, customer_id)
    numbers = await whatsapp.business_numbers(found.database, account)
    return [{"inputSource": {"address": number}} for number in numbers]


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
    if address not in await _account_numbers(found, account):
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
