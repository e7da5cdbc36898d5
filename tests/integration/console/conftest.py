"""The app with its console, a real migrated database, and console users to sign in with."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tidings.api import create_app
from tidings.config import Settings
from tidings.console import install_console
from tidings.core import accounts, console_users
from tidings.core.console_users import ConsoleRole
from tidings.store.engine import Database
from tidings.store.records import AccountRecord

PASSWORD = "correct horse battery"
BASE_URL = "http://console.test"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url=database_url, console_signin_rate="5/60 seconds"
    )


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[FastAPI]:
    application = create_app(settings, database=database)
    install_console(application)
    async with application.router.lifespan_context(application):
        yield application


@dataclass(frozen=True)
class Person:
    account: AccountRecord
    email: str
    password: str = PASSWORD


MakePerson = Callable[..., Awaitable[Person]]


@pytest.fixture
def make_person(app: FastAPI, database: Database) -> MakePerson:
    async def make(
        email: str,
        *,
        role: ConsoleRole = ConsoleRole.OWNER,
        account: AccountRecord | None = None,
        parent: AccountRecord | None = None,
    ) -> Person:
        if account is None:
            account = await accounts.create_account(
                database, f"Account of {email}", region="FI", parent_id=parent and parent.id
            )
        await console_users.create_user(database, account.id, email, PASSWORD, role=role)
        return Person(account, email)

    return make


def browser(app: FastAPI) -> httpx.AsyncClient:
    """A client that keeps cookies and sends the Origin a browser would."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        headers={"Origin": BASE_URL, "Accept": "text/html"},
    )


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    form = await client.get("/signin")
    token = hidden(form.text, "csrf_token")
    return await client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
    )


async def csrf_of(client: httpx.AsyncClient, path: str = "/") -> str:
    page = await client.get(path)
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)
