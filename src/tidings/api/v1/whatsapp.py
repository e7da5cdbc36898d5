"""``/v1/whatsapp/templates``: WhatsApp message templates, submitted for review to the WhatsApp
Business Account of the route a business number sends through (a media header with its example
uploaded first by the Resumable Upload API), listed with Meta's review status (asked of the
account when listed, at most every few seconds, and kept from Meta's status webhook; templates
made at Meta directly are imported then), deleted there.

Only an APPROVED template can be sent (``POST /v1/messages`` with ``channel: "whatsapp"`` and
its ``template``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from tidings.api.auth import AccountDep, ServicesDep
from tidings.api.state import Services
from tidings.core import templates, whatsapp_templates
from tidings.core.whatsapp import WHATSAPP_KIND
from tidings.core.whatsapp_templates import TemplateStatus
from tidings.dispatch.transports import whatsapp as whatsapp_transport
from tidings.errors import AlreadyExists, CarrierUnavailable, InvalidRequest
from tidings.net.graph import GraphApiError, GraphUnreachable
from tidings.store import routes as route_store
from tidings.store.records import RouteRecord
from tidings.store.services import WhatsAppTemplateRecord
from tidings.whatsapp import templates as wa
from tidings.whatsapp.errors import LocalProtocolError

router = APIRouter(prefix="/v1/whatsapp/templates", tags=["whatsapp"])

TemplateId = Annotated[str, Path(max_length=26)]
# Meta's answer when the name already exists in that language.
ALREADY_EXISTS_SUBCODE = 2388024
# Meta's answer to deleting a template it does not have.
NO_SUCH_TEMPLATE = 100

UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "The WhatsApp Cloud API could not be reached; try again."}
}


class TemplateHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: wa.HeaderFormat = Field(
        default=wa.HeaderFormat.TEXT, description="TEXT, or a media header: IMAGE, VIDEO, DOCUMENT"
    )
    text: str | None = Field(
        default=None, min_length=1, max_length=60, description="TEXT: may hold one {{1}}"
    )
    example: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="IMAGE, VIDEO, DOCUMENT: the example Meta's reviewer sees, a media id "
        "from POST /v1/media or an http(s) URL (fetched as /v1/media fetches): JPEG or PNG for "
        "an image, MP4 for a video, PDF for a document. Each send gives its own file.",
    )


class TemplateHeaderView(BaseModel):
    format: wa.HeaderFormat
    text: str | None = Field(description="TEXT: the header, which may hold one {{1}}")


class TemplateButton(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: wa.ButtonType
    text: str = Field(min_length=1, max_length=25, description="the button's label")
    url: str | None = Field(
        default=None, max_length=2000, description="URL: the address, which may end in {{1}}"
    )
    phone_number: str | None = Field(
        default=None, max_length=20, description="PHONE_NUMBER: the number it calls"
    )


class CreateTemplate(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "from": "+358409990100",
                    "name": "order_ready",
                    "language": "en_US",
                    "category": "UTILITY",
                    "body": "Hi {{1}}, your order {{2}} is ready.",
                    "footer": "Acme Bakery",
                    "buttons": [{"type": "QUICK_REPLY", "text": "On my way"}],
                },
                {
                    "from": "+358409990100",
                    "name": "order_photo",
                    "language": "en_US",
                    "category": "UTILITY",
                    "header": {"format": "IMAGE", "example": "<a media id from POST /v1/media>"},
                    "body": "Hi {{1}}, here is your cake.",
                },
            ]
        },
    )

    sender: str = Field(
        alias="from",
        min_length=1,
        max_length=20,
        description="the business number (one of the account's senders) whose WhatsApp "
        "Business Account reviews the template",
    )
    name: str = Field(
        min_length=1,
        max_length=512,
        pattern=r"^[a-z0-9_]+$",
        description="lower-case letters, digits and underscores (Meta's rule)",
    )
    language: str = Field(min_length=2, max_length=15, description="e.g. en_US")
    category: wa.Category
    body: str = Field(min_length=1, max_length=1024, description="{{1}}..{{n}} are parameters")
    header: TemplateHeader | None = None
    footer: str | None = Field(default=None, min_length=1, max_length=60)
    buttons: list[TemplateButton] = Field(default=[], max_length=10)


class TemplateView(BaseModel):
    id: str
    sender: str = Field(serialization_alias="from", description="the business number")
    name: str = Field(description="the name Meta knows it by")
    language: str
    category: str
    status: TemplateStatus | None = Field(
        description="Meta's review status; null for a template never submitted (SmartDialog "
        "keeps those for numbers no WhatsApp route carries)"
    )
    status_reason: str | None = Field(description="why it was rejected or paused, as Meta says")
    status_at: datetime | None = Field(description="when the status last changed")
    body: str
    body_parameters: int = Field(description="how many {{n}} a send gives the body")
    header: TemplateHeaderView | None = Field(
        description="a media header (IMAGE, VIDEO, DOCUMENT) takes a file at each send"
    )
    footer: str | None
    buttons: list[TemplateButton]
    created_at: datetime


class TemplateList(BaseModel):
    data: list[TemplateView]


def _view(record: WhatsAppTemplateRecord) -> TemplateView:
    template = whatsapp_templates.as_template(record)
    header = template.header
    return TemplateView(
        id=record.id,
        sender=record.identity,
        name=template.name,
        language=record.language,
        category=template.category.value,
        status=None if record.status is None else TemplateStatus(record.status),
        status_reason=record.status_reason,
        status_at=record.status_at,
        body=template.body,
        body_parameters=template.body_parameters,
        header=None
        if header is None
        else TemplateHeaderView(format=header.format, text=header.text),
        footer=template.footer,
        buttons=[
            TemplateButton(type=b.type, text=b.text, url=b.url, phone_number=b.phone_number)
            for b in template.buttons
        ],
        created_at=record.created_at,
    )


async def _route(found: Services, route_id: int) -> RouteRecord | None:
    async with found.database.read() as connection:
        route = await route_store.find_route(connection, route_id)
    if route is None or route.kind != WHATSAPP_KIND:
        return None
    return route


def _header(given: TemplateHeader) -> wa.Header:
    """The header asked for: a text, or a media format with its example (checked here, each
    missing part named by its field)."""
    if given.format is wa.HeaderFormat.TEXT:
        if given.text is None:
            raise InvalidRequest("a TEXT header needs its text", field="header.text")
        if given.example is not None:
            raise InvalidRequest(
                "a TEXT header takes no example file (its {{1}}'s example is made up)",
                field="header.example",
            )
        return wa.Header(wa.HeaderFormat.TEXT, given.text)
    if given.text is not None:
        raise InvalidRequest(f"an {given.format.value} header has no text", field="header.text")
    if given.example is None:
        raise InvalidRequest(
            f"an {given.format.value} header needs an example file for Meta's review: a media "
            "id from POST /v1/media, or a URL",
            field="header.example",
        )
    return wa.Header(given.format)


@router.post(
    "",
    status_code=201,
    response_model=TemplateView,
    response_model_by_alias=True,
    summary="Submit a WhatsApp template for review",
    responses=UNAVAILABLE,
)
async def create_template(
    body: CreateTemplate, account: AccountDep, found: ServicesDep
) -> TemplateView:
    """Submit a template to the WhatsApp Business Account of the route ``from`` sends
    through (``POST /{waba-id}/message_templates``) and keep it, PENDING until Meta's review
    approves or rejects it. Meta's refusal is a 422 with its words; a name that exists in
    that language a 409; nothing is kept unless Meta took it."""
    sender, route_id = await whatsapp_templates.business_number(
        found.database, account, body.sender
    )
    header = None if body.header is None else _header(body.header)
    template = wa.Template(
        name=body.name,
        language=body.language,
        category=body.category,
        body=body.body,
        header=header,
        footer=body.footer,
        buttons=tuple(
            wa.Button(b.type, b.text, url=b.url, phone_number=b.phone_number) for b in body.buttons
        ),
    )
    try:
        template.check()
    except LocalProtocolError as error:
        raise InvalidRequest(f"WhatsApp would refuse the template: {error.message}") from None
    if await whatsapp_templates.find_template(
        found.database, account, name=body.name, language=body.language
    ):
        raise AlreadyExists(f"the template {body.name} ({body.language}) exists already")
    route = await _route(found, route_id)
    if route is None:
        raise InvalidRequest(f"no WhatsApp route carries {sender}", field="from")
    example = None
    if header is not None and header.format in wa.MEDIA_FORMATS:
        assert body.header is not None and body.header.example is not None
        _, data, content_type = await whatsapp_templates.header_example(
            found.media, account, body.header.example, header=header.format, field="header.example"
        )
        example = (data, content_type)
    try:
        review = await whatsapp_transport.submit_template(route, template, example=example)
    except GraphApiError as error:
        if error.error.subcode == ALREADY_EXISTS_SUBCODE:
            raise AlreadyExists(
                f"the WhatsApp Business Account has {body.name} ({body.language}) already"
            ) from None
        raise InvalidRequest(f"WhatsApp refused the template: {error.error.summary}") from None
    except GraphUnreachable as error:
        raise CarrierUnavailable(
            f"WhatsApp could not be reached, nothing was submitted: {error.message}"
        ) from None
    created = await templates.create_template(
        found.database,
        account,
        identity=sender,
        display_name=body.name,
        raw_content=body.body,
        category=body.category.value,
        language=body.language,
        buttons=whatsapp_templates.smartdialog_buttons(template),
        submitted=review,
        components=json.dumps(template.submission()["components"]),
    )
    return _view(created)


@router.get(
    "",
    response_model=TemplateList,
    response_model_by_alias=True,
    summary="The account's WhatsApp templates with their review status",
)
async def list_templates(
    account: AccountDep,
    found: ServicesDep,
    status: Annotated[
        TemplateStatus | None, Query(description="only those with this status, e.g. APPROVED")
    ] = None,
    sender: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=20,
            description="only those of the WhatsApp Business Account this number sends through",
        ),
    ] = None,
) -> TemplateList:
    """The account's templates, first brought up to date with each WhatsApp Business Account
    its business numbers send through or its templates were submitted to (at most every
    ``TIDINGS_WHATSAPP_TEMPLATE_SYNC_SECONDS``): statuses as Meta has them, one Meta no longer
    has DELETED, one made at Meta directly (WhatsApp Manager) imported."""
    every = await whatsapp_templates.list_templates(found.database, account)
    await found.whatsapp_templates.refresh(found.database, account, {t.route_id for t in every})
    listed = await whatsapp_templates.list_templates(
        found.database, account, status=status, sender=sender
    )
    return TemplateList(data=[_view(t) for t in listed])


@router.get(
    "/{template_id}",
    response_model=TemplateView,
    response_model_by_alias=True,
    summary="One WhatsApp template",
)
async def get_template(
    template_id: TemplateId, account: AccountDep, found: ServicesDep
) -> TemplateView:
    """One template, its status brought up to date from its WhatsApp Business Account."""
    record = await whatsapp_templates.get_template(found.database, account, template_id)
    if record.route_id is not None:
        await found.whatsapp_templates.refresh(found.database, account, {record.route_id})
        record = await whatsapp_templates.get_template(found.database, account, template_id)
    return _view(record)


@router.delete(
    "/{template_id}",
    status_code=204,
    summary="Delete a WhatsApp template, at Meta too",
    responses=UNAVAILABLE,
)
async def delete_template(
    template_id: TemplateId, account: AccountDep, found: ServicesDep
) -> Response:
    """Delete the template from its WhatsApp Business Account (that language of its name)
    and from the account. One Meta no longer has is deleted here all the same."""
    record = await whatsapp_templates.get_template(found.database, account, template_id)
    route = None if record.route_id is None else await _route(found, record.route_id)
    if route is not None and record.name is not None:
        # A route removed since: nothing to delete it from.
        try:
            await whatsapp_transport.delete_template(route, record.name, record.meta_id)
        except GraphApiError as error:
            if error.error.code != NO_SUCH_TEMPLATE:
                raise InvalidRequest(
                    f"WhatsApp refused to delete the template: {error.error.summary}"
                ) from None
        except GraphUnreachable as error:
            raise CarrierUnavailable(
                f"WhatsApp could not be reached, nothing was deleted: {error.message}"
            ) from None
    await whatsapp_templates.delete_template(found.database, account, template_id)
    return Response(status_code=204)
