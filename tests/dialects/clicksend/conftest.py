"""A running service (API, dispatcher, simulator) called through the ClickSend dialect, and
both generations of the official ClickSend SDK, each installed into a directory of its own
(they share the PyPI name ``clicksend-client``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

import httpx
import pytest

from tests.dialects.clicksend.sdks import SDK5_VERSION, SDK6_VERSION, import_sdk
from tests.integration.dispatch.conftest import Running, eventually, running
from tidings.core import accounts

__all__ = ["ClickSend", "clicksend", "eventually", "running", "sdk5", "sdk6"]

T = TypeVar("T")


@pytest.fixture(scope="session")
def sdk6() -> Iterator[ModuleType]:
    """``import clicksend`` (6.x): host without /v3, pydantic models checked strictly."""
    yield import_sdk(SDK6_VERSION, "clicksend")


@pytest.fixture(scope="session")
def sdk5() -> Iterator[ModuleType]:
    """``import clicksend_client`` (5.0.91): host ending in /v3, answers as ``str(dict)``."""
    yield import_sdk(SDK5_VERSION, "clicksend_client")


@dataclass
class ClickSend:
    """The service, its account, that account's ClickSend credentials and a raw HTTP client."""

    running: Running
    username: str
    api_key: str
    http: httpx.AsyncClient

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.running.service.http_port}"

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a (blocking) SDK call in a thread while the service keeps serving this loop."""
        return await asyncio.to_thread(function, *args, **kwargs)

    async def other_account(self) -> tuple[str, str]:
        """Credentials of a second, unrelated account."""
        database = self.running.service.database
        other = await accounts.create_account(database, "Other", region="FI")
        key = await accounts.create_api_key(database, other.id)
        return key.key.id, key.secret


@pytest.fixture
async def clicksend(running: Running) -> AsyncIterator[ClickSend]:
    key = await accounts.create_api_key(running.service.database, running.account.id)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{running.service.http_port}/v3",
        auth=(key.key.id, key.secret),
        timeout=30.0,
    ) as http:
        yield ClickSend(running, key.key.id, key.secret, http)
