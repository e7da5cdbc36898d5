"""Signing in and out of the console, sessions, CSRF and the sign-in rate limit."""

from __future__ import annotations

from fastapi import FastAPI

from tests.integration.console.conftest import (
    BASE_URL,
    MakePerson,
    browser,
    csrf_of,
    hidden,
    sign_in,
)
from tidings.core import console_users
from tidings.core.console_users import ConsoleRole
from tidings.store.engine import Database


async def test_pages_need_a_session(app: FastAPI) -> None:
    async with browser(app) as client:
        answer = await client.get("/?status=sent")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/signin?next=%2F%3Fstatus%3Dsent"
        # The API is untouched by the console: still problem+json without a key.
        api = await client.get("/v1/messages")
        assert api.status_code == 401
        assert api.headers["content-type"] == "application/problem+json"


async def test_sign_in_sets_a_safe_cookie_and_signs_out(
    app: FastAPI, make_person: MakePerson
) -> None:
    person = await make_person("Ada@Example.com")
    async with browser(app) as client:
        signed = await sign_in(client, "ada@example.com")
        assert signed.status_code == 303, signed.text
        assert signed.headers["location"] == "/"
        cookie = next(
            c for c in signed.headers.get_list("set-cookie") if c.startswith("tidings_session=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain HTTP here; see the TLS test below
        dashboard = await client.get("/")
        assert dashboard.status_code == 200
        assert "Dashboard" in dashboard.text
        assert person.account.name in dashboard.text
        assert "script-src 'self'" in dashboard.headers["content-security-policy"]
        token = await csrf_of(client)
        out = await client.post("/signout", data={"csrf_token": token})
        assert out.status_code == 303
        assert (await client.get("/")).status_code == 303


async def test_cookies_are_secure_behind_tls(app: FastAPI, make_person: MakePerson) -> None:
    await make_person("tls@example.com")
    async with browser(app) as client:
        client.base_url = "https://console.test"
        client.headers["Origin"] = "https://console.test"
        signed = await sign_in(client, "tls@example.com")
        assert signed.status_code == 303
        cookie = next(
            c for c in signed.headers.get_list("set-cookie") if c.startswith("tidings_session=")
        )
        assert "Secure" in cookie


async def test_a_wrong_password_and_an_unknown_address_answer_alike(
    app: FastAPI, make_person: MakePerson
) -> None:
    await make_person("grace@example.com")
    async with browser(app) as client:
        wrong = await sign_in(client, "grace@example.com", "not the password")
        unknown = await sign_in(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match" in wrong.text and "do not match" in unknown.text
    assert "tidings_session" not in wrong.headers.get("set-cookie", "")


async def test_sign_in_is_rate_limited(app: FastAPI, make_person: MakePerson) -> None:
    await make_person("limit@example.com")
    async with browser(app) as client:
        answers = [
            (await sign_in(client, "limit@example.com", f"guess number {n}")).status_code
            for n in range(6)
        ]
        # The settings allow 5 a minute: the sixth is refused even with the right password.
        assert answers[:5] == [401] * 5
        assert answers[5] == 429
        refused = await sign_in(client, "limit@example.com")
        assert refused.status_code == 429
        assert "Retry-After" in refused.headers


async def test_forms_without_their_csrf_token_are_refused(
    app: FastAPI, make_person: MakePerson
) -> None:
    await make_person("csrf@example.com")
    async with browser(app) as client:
        # The sign-in form too: its token is the sign-in cookie's.
        form = await client.get("/signin")
        forged = await client.post(
            "/signin",
            data={"email": "csrf@example.com", "password": "correct horse battery"},
        )
        assert forged.status_code == 403
        assert hidden(form.text, "csrf_token")
        await sign_in(client, "csrf@example.com")
        no_token = await client.post("/signout")
        assert no_token.status_code == 403
        wrong_token = await client.post("/signout", data={"csrf_token": "x" * 43})
        assert wrong_token.status_code == 403
        token = await csrf_of(client)
        other_site = await client.post(
            "/signout", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
        )
        assert other_site.status_code == 403
        # Still signed in after all of that.
        assert (await client.get("/")).status_code == 200


async def test_reset_password_signs_out_everywhere(
    app: FastAPI, make_person: MakePerson, database: Database
) -> None:
    await make_person("reset@example.com")
    async with browser(app) as client:
        await sign_in(client, "reset@example.com")
        assert (await client.get("/")).status_code == 200
        await console_users.reset_password(database, "reset@example.com", "a new long password")
        assert (await client.get("/")).status_code == 303
        assert (await sign_in(client, "reset@example.com")).status_code == 401
        assert (
            await sign_in(client, "reset@example.com", "a new long password")
        ).status_code == 303


async def test_members_see_no_developer_or_operator_pages(
    app: FastAPI, make_person: MakePerson
) -> None:
    owner = await make_person("owner@example.com")
    await make_person("member@example.com", role=ConsoleRole.MEMBER, account=owner.account)
    async with browser(app) as client:
        await sign_in(client, "member@example.com")
        dashboard = await client.get("/")
        assert 'href="/developers"' not in dashboard.text
        assert 'href="/operator"' not in dashboard.text
        assert "Routes and their binds" not in dashboard.text
    async with browser(app) as client:
        await sign_in(client, "owner@example.com")
        dashboard = await client.get("/")
        # Not even a top-level account's owner: routes are the operator's.
        assert "Routes and their binds" not in dashboard.text
    await make_person("operator@example.com", role=ConsoleRole.OPERATOR)
    async with browser(app) as client:
        await sign_in(client, "operator@example.com")
        dashboard = await client.get("/")
        assert "Routes and their binds" in dashboard.text


async def test_redirects_after_sign_in_stay_on_this_site(
    app: FastAPI, make_person: MakePerson
) -> None:
    await make_person("next@example.com")
    async with browser(app) as client:
        form = await client.get("/signin")
        token = hidden(form.text, "csrf_token")
        for target, expected in (
            ("/messages", "/messages"),
            ("//evil.example/x", "/"),
            ("https://evil.example/", "/"),
            ("/\\evil.example", "/"),
        ):
            answer = await client.post(
                "/signin",
                data={
                    "email": "next@example.com",
                    "password": "correct horse battery",
                    "csrf_token": token,
                    "next": target,
                },
            )
            assert answer.headers["location"] == expected
            client.cookies.delete("tidings_session")
            client.cookies.set("tidings_signin", token, domain=BASE_URL.split("//")[1])
