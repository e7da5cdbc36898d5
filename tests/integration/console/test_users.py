"""An owner manages the account's console users from the console: add (password shown once),
change a role, reset a password, remove; admins and members cannot, and no owner reaches
another account's users or gives the operator role."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.console.conftest import MakePerson, browser, csrf_of, sign_in
from tidings.config import Settings
from tidings.core import console_users
from tidings.core.console_users import ConsoleRole
from tidings.store.engine import Database


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # These tests sign people in and out many times; the limit itself is tested in test_sign_in.
    return Settings(
        data_dir=tmp_path, database_url=database_url, console_signin_rate="100/60 seconds"
    )


def _shown_password(html: str) -> str:
    found = re.search(r'id="handed-over-password" type="text" readonly value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def _user_id(html: str, email: str) -> str:
    row = re.search(rf'data-user="{re.escape(email)}">.*?/users/([A-Za-z0-9_-]+)/', html, re.S)
    assert row, f"no controls for {email}"
    return row.group(1)


async def _post(client: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    return await client.post(path, data={"csrf_token": await csrf_of(client, "/"), **data})


async def test_an_owner_adds_a_member_who_signs_in_with_the_password_shown_once(
    app: FastAPI, make_person: MakePerson
) -> None:
    await make_person("boss@example.com")
    async with browser(app) as owner:
        await sign_in(owner, "boss@example.com")
        added = await _post(owner, "/users", email="New.Hire@Example.com", role="member")
        assert added.status_code == 200, added.text
        password = _shown_password(added.text)
        assert "new.hire@example.com added" in added.text
        # Shown once: the list afterwards has the person, not the password.
        listing = await owner.get("/users")
        assert "new.hire@example.com" in listing.text
        assert password not in listing.text
    async with browser(app) as hire:
        assert (await sign_in(hire, "new.hire@example.com", password)).status_code == 303
        # A member: no developers page, no users page.
        assert (await hire.get("/developers")).status_code == 403
        assert (await hire.get("/users")).status_code == 403


async def test_role_change_reset_and_remove_take_effect_at_once(
    app: FastAPI, make_person: MakePerson
) -> None:
    boss = await make_person("chief@example.com")
    await make_person("clerk@example.com", role=ConsoleRole.MEMBER, account=boss.account)
    async with browser(app) as owner, browser(app) as clerk:
        await sign_in(owner, "chief@example.com")
        await sign_in(clerk, "clerk@example.com")
        assert (await clerk.get("/developers")).status_code == 403
        clerk_id = _user_id((await owner.get("/users")).text, "clerk@example.com")

        promoted = await _post(owner, f"/users/{clerk_id}/role", role="admin")
        assert promoted.status_code == 303
        # The old session ends with the old role; signed in again, the clerk is an admin.
        assert (await clerk.get("/")).status_code == 303
        await sign_in(clerk, "clerk@example.com")
        assert (await clerk.get("/developers")).status_code == 200
        assert (await clerk.get("/users")).status_code == 403

        reset = await _post(owner, f"/users/{clerk_id}/password")
        new_password = _shown_password(reset.text)
        assert (await clerk.get("/")).status_code == 303
        assert (await sign_in(clerk, "clerk@example.com")).status_code == 401
        assert (await sign_in(clerk, "clerk@example.com", new_password)).status_code == 303

        removed = await _post(owner, f"/users/{clerk_id}/remove")
        assert removed.status_code == 303
        assert (await clerk.get("/")).status_code == 303
        assert (await sign_in(clerk, "clerk@example.com", new_password)).status_code == 401
        assert 'data-user="clerk@example.com"' not in (await owner.get("/users")).text


async def test_admins_and_members_cannot_manage_users(
    app: FastAPI, make_person: MakePerson, database: Database
) -> None:
    boss = await make_person("head@example.com")
    for role in (ConsoleRole.ADMIN, ConsoleRole.MEMBER):
        await make_person(f"{role}@example.com", role=role, account=boss.account)
    head = await console_users.find_user(database, "head@example.com")
    assert head is not None
    for role in (ConsoleRole.ADMIN, ConsoleRole.MEMBER):
        async with browser(app) as client:
            await sign_in(client, f"{role}@example.com")
            assert 'href="/users"' not in (await client.get("/")).text
            assert (await client.get("/users")).status_code == 403
            refused = [
                await _post(client, "/users", email="sneaky@example.com", role="owner"),
                await _post(client, f"/users/{head.id}/role", role="member"),
                await _post(client, f"/users/{head.id}/password"),
                await _post(client, f"/users/{head.id}/remove"),
            ]
            assert [answer.status_code for answer in refused] == [403] * 4
    assert await console_users.find_user(database, "sneaky@example.com") is None
    still = await console_users.find_user(database, "head@example.com")
    assert still is not None and still.role is ConsoleRole.OWNER


async def test_an_owner_keeps_to_their_account_and_below_the_operator(
    app: FastAPI, make_person: MakePerson, database: Database
) -> None:
    boss = await make_person("lead@example.com")
    await make_person("ops@example.com", role=ConsoleRole.OPERATOR, account=boss.account)
    await make_person("stranger@example.com")
    lead = await console_users.find_user(database, "lead@example.com")
    ops = await console_users.find_user(database, "ops@example.com")
    stranger = await console_users.find_user(database, "stranger@example.com")
    assert lead is not None and ops is not None and stranger is not None
    async with browser(app) as client:
        await sign_in(client, "lead@example.com")
        page = (await client.get("/users")).text
        assert "stranger@example.com" not in page
        # The operator is listed, without controls; the roles offered stop at owner.
        assert "ops@example.com" in page
        assert f"/users/{ops.id}/" not in page
        assert '<option value="operator"' not in page

        grant = await _post(client, "/users", email="boss2@example.com", role="operator")
        assert grant.status_code == 422
        assert "an owner cannot make anyone operator" in grant.text
        assert await console_users.find_user(database, "boss2@example.com") is None

        other_account = await _post(client, f"/users/{stranger.id}/remove")
        assert other_account.status_code == 404
        demote_operator = await _post(client, f"/users/{ops.id}/role", role="member")
        assert demote_operator.status_code == 403
        self_demote = await _post(client, f"/users/{lead.id}/role", role="member")
        assert self_demote.status_code == 422
        self_remove = await _post(client, f"/users/{lead.id}/remove")
        assert self_remove.status_code == 422
    for email, role in (
        ("stranger@example.com", ConsoleRole.OWNER),
        ("ops@example.com", ConsoleRole.OPERATOR),
        ("lead@example.com", ConsoleRole.OWNER),
    ):
        found = await console_users.find_user(database, email)
        assert found is not None and found.role is role
