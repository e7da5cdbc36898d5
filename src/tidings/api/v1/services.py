"""``/v1/services``: named ways of sending (OneWay, TwoWay, Group) and their senders.

Provider dialects whose clients name a service per request (SmartDialog) resolve these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from tidings.api.auth import AccountDep, ServicesDep
from tidings.core import services
from tidings.core.services import ServiceKind
from tidings.store.services import ServiceRecord

router = APIRouter(prefix="/v1/services", tags=["services"])

ServiceId = Annotated[str, Path(max_length=26)]


class CreateService(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Support line",
                    "type": "TwoWay",
                    "senders": ["+358409999999"],
                    "allow_reply": True,
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=200)
    type: ServiceKind = Field(description="OneWay, TwoWay or Group (backed by a contact list)")
    senders: list[str] = Field(
        default=[], max_length=100, description="numbers or names it sends from; empty: any"
    )
    allow_reply: bool = False


class ServiceView(BaseModel):
    id: str
    name: str
    type: ServiceKind
    senders: list[str]
    list_id: str | None = Field(description="the contact list of a Group service")
    allow_reply: bool
    created_at: datetime


class ServiceList(BaseModel):
    services: list[ServiceView]


def _view(service: ServiceRecord) -> ServiceView:
    return ServiceView(
        id=service.id,
        name=service.name,
        type=ServiceKind(service.kind),
        senders=services.senders_of(service),
        list_id=service.list_id,
        allow_reply=service.allow_reply,
        created_at=service.created_at,
    )


@router.post("", status_code=201, response_model=ServiceView, summary="Create a service")
async def create_service(
    body: CreateService, account: AccountDep, found: ServicesDep
) -> ServiceView:
    """Create a SmartDialog service: a named set of the account's senders, one way, two way or a
    group backed by a contact list."""
    created = await services.create_service(
        found.database,
        account,
        body.name,
        body.type,
        senders=body.senders,
        allow_reply=body.allow_reply,
    )
    return _view(created)


@router.get("", response_model=ServiceList, summary="The account's services")
async def list_services(account: AccountDep, found: ServicesDep) -> ServiceList:
    """The account's SmartDialog services."""
    return ServiceList(
        services=[_view(s) for s in await services.list_services(found.database, account)]
    )


@router.get("/{service_id}", response_model=ServiceView, summary="One service")
async def get_service(
    service_id: ServiceId, account: AccountDep, found: ServicesDep
) -> ServiceView:
    """One SmartDialog service with its senders and, for a group, its contact list."""
    return _view(await services.get_service(found.database, account, service_id))


@router.delete("/{service_id}", status_code=204, summary="Remove a service")
async def delete_service(
    service_id: ServiceId, account: AccountDep, found: ServicesDep
) -> Response:
    """Remove a SmartDialog service; its senders and list stay."""
    await services.delete_service(found.database, account, service_id)
    return Response(status_code=204)
