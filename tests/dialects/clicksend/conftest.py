"""A running service (API, dispatcher, simulator) called through the ClickSend dialect, and
both generations of the official ClickSend SDK, each installed into a directory of its own
(they share the PyPI name ``clicksend-client``)."""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import httpx
import pytest

from tests.integration.dispatch.conftest import Running, eventually, running
from tidings.core import accounts

__all__ = ["ClickSend", "clicksend", "eventually", "running", "sdk5", "sdk6"]

SDK5_VERSION = "5.0.91"
SDK6_VERSION = "6.0.2"
# Under var/ (ignored by git): installed once, reused by later runs.
SDK_ROOT = Path(__file__).resolve().parents[3] / "var" / "clicksend-sdk"

T = TypeVar("T")


def install_sdk(version: str) -> Path:
    """``clicksend-client==version`` in a directory of its own (its dependencies are dev
    dependencies of the project, so they are not installed again)."""
    target = SDK_ROOT / version
    marker = target / f"clicksend_client-{version}.dist-info"
    if not marker.is_dir():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(target),
                f"clicksend-client=={version}",
            ],
            check=True,
        )
    return target


def _import_from(directory: Path, name: str) -> ModuleType:
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    return importlib.import_module(name)


@pytest.fixture(scope="session")
def sdk6() -> Iterator[ModuleType]:
    """``import clicksend`` (6.x): host without /v3, pydantic models checked strictly."""
    yield _import_from(install_sdk(SDK6_VERSION), "clicksend")


@pytest.fixture(scope="session")
def sdk5() -> Iterator[ModuleType]:
    """``import clicksend_client`` (5.0.91): host ending in /v3, answers as ``str(dict)``."""
    yield _import_from(install_sdk(SDK5_VERSION), "clicksend_client")


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
        timeout=10.0,
    ) as http:
        yield ClickSend(running, key.key.id, key.secret, http)
