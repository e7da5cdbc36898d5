"""Bad input answered in TrueDialog's own error shape, and nothing crossing accounts."""

from __future__ import annotations

from typing import Any

import httpx

from tests.dialects.truedialog.conftest import HANDSET, TrueDialog, basic, client_for
from tests.integration.events.sink import Sink
from tidings.core import accounts, lists

DENIED = {"Message": "Authorization has been denied for this request."}


def push_body(truedialog: TrueDialog, **fields: Any) -> dict[str, Any]:
    return {
        "Channels": [str(truedialog.channel_id)],
        "Targets": [HANDSET],
        "CampaignId": 0,
        "Message": "Hei",
        "Execute": True,
        **fields,
    }


def model_state(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["Message"]
    state: dict[str, list[str]] = body["ModelState"]
    return state


async def test_bad_credentials_are_truedialogs_401(truedialog: TrueDialog) -> None:
    base = truedialog.http.base_url
    async with httpx.AsyncClient(base_url=base) as anonymous:
        paths = ["/api/v2.1/userinfo", f"/api/v2.1/account/{truedialog.account_id}"]
        for headers in ({}, basic("nobody", "tdk_nobody_wrong"), {"Authorization": "Basic !!"}):
            for path in paths:
                response = await anonymous.get(path, headers=headers)
                assert response.status_code == 401
                assert response.json() == DENIED
                assert response.headers["www-authenticate"].startswith("Basic")


async def test_missing_fields_and_wrong_types(truedialog: TrueDialog) -> None:
    path = f"/api/v2.1/account/{truedialog.account_id}/action-pushcampaign"
    missing = push_body(truedialog)
    del missing["Channels"], missing["Message"]
    state = model_state(await truedialog.http.post(path, json=missing))
    assert {"request.Channels", "request.Message"} <= set(state)

    wrong = push_body(truedialog, Targets=HANDSET, Execute="sometimes")
    state = model_state(await truedialog.http.post(path, json=wrong))
    assert {"request.Targets", "request.Execute"} <= set(state)

    not_json = await truedialog.http.post(
        path, content=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert "ModelState" in not_json.json()

    callback = await truedialog.http.put(
        f"/api/v2.1/account/{truedialog.account_id}/callback/-12",
        json={"CallbackType": "twelve", "Active": True},
    )
    assert {"request.CallbackType", "request.URL"} <= set(model_state(callback))


async def test_request_fields_match_without_regard_to_case(truedialog: TrueDialog) -> None:
    body = {k.lower(): v for k, v in push_body(truedialog).items()}
    response = await truedialog.http.post(
        f"/api/v2.1/account/{truedialog.account_id}/action-pushcampaign", json=body
    )
    assert response.status_code == 201, response.text


async def test_unknown_list_ids_and_channels(truedialog: TrueDialog) -> None:
    path = f"/api/v2.1/account/{truedialog.account_id}/action-pushcampaign"
    # A list id the account does not have is a bad request, named in the request's own terms.
    response = await truedialog.http.post(
        path, json=push_body(truedialog, ContactListIds=["01NOSUCHLIST00000000000000"])
    )
    assert response.status_code == 400, response.text
    assert "ContactListIds" in response.text
    excluded = await truedialog.http.post(
        path, json=push_body(truedialog, ExcludeListIds=["01NOSUCHLIST00000000000000"])
    )
    assert excluded.status_code == 400, excluded.text
    assert "ExcludeListIds" in excluded.text
    unknown = await truedialog.http.post(path, json=push_body(truedialog, Channels=["424242"]))
    assert unknown.status_code == 404, unknown.text
    for sender in (str(2**40), "Far too long a sender"):
        bad_sender = await truedialog.http.post(path, json=push_body(truedialog, Channels=[sender]))
        assert "request.Channels" in model_state(bad_sender)


async def test_unsupported_callback_types_and_bad_urls(truedialog: TrueDialog, sink: Sink) -> None:
    account = truedialog.account_id
    unknown = await truedialog.http.put(
        f"/api/v2.1/account/{account}/callback/-3",
        json={"CallbackType": 3, "URL": sink.url, "Active": True},
    )
    assert "request.CallbackType" in model_state(unknown)
    mismatch = await truedialog.http.put(
        f"/api/v2.1/account/{account}/callback/-12",
        json={"CallbackType": 11, "URL": sink.url, "Active": True},
    )
    assert "request.CallbackType" in model_state(mismatch)
    bad_url = await truedialog.subscribe(11, "ftp://example.com/x")
    assert "request.URL" in model_state(bad_url)


async def test_nothing_leaks_across_accounts(truedialog: TrueDialog, sink: Sink) -> None:
    running = truedialog.running
    database = running.service.database
    other = await accounts.create_account(database, "Other", region="FI")
    other_list = await lists.create_list(database, other, "theirs")
    async with await client_for(running, other) as theirs:
        their_id = (await theirs.get("/api/v2.1/userinfo")).json()["accountId"]
        their_contact = await theirs.post(
            f"/api/v2.1/account/{their_id}/contact", json={"PhoneNumber": HANDSET}
        )
        assert their_contact.status_code == 201, their_contact.text
        their_callback = await theirs.post(
            f"/api/v2.1/account/{their_id}/callback",
            json={"CallbackType": 11, "URL": sink.url, "Active": True},
        )
        assert their_callback.status_code == 201
    contact_id, callback_id = their_contact.json()["id"], their_callback.json()["id"]
    mine = truedialog.http
    account = truedialog.account_id

    # Their account id, in any operation, is as absent as one that never existed.
    for response in (
        await mine.get(f"/api/v2.1/account/{their_id}"),
        await mine.get(f"/api/v2.1/account/{their_id}/contact-search/{HANDSET}"),
        await mine.post(
            f"/api/v2.1/account/{their_id}/action-pushcampaign", json=push_body(truedialog)
        ),
        await mine.delete(f"/api/v2.1/account/{their_id}/callback/{callback_id}"),
        await mine.get("/api/v2.1/account/999999"),
    ):
        assert response.status_code == 404, response.text
        assert set(response.json()) == {"Message"}
    # Their objects' ids under my account are not found either.
    assert (
        await mine.delete(f"/api/v2.1/account/{account}/callback/{callback_id}")
    ).status_code == 404
    assert (
        await mine.put(f"/api/v2.1/account/{account}/contact/{contact_id}", json={"FirstName": "X"})
    ).status_code == 404
    listed = await mine.post(
        f"/api/v2.1/account/{account}/action-pushcampaign",
        json=push_body(truedialog, ContactListIds=[other_list.id]),
    )
    # Another account's list is as unknown as a missing one, and nothing was sent to it.
    assert listed.status_code == 400, listed.text
    assert "ContactListIds" in listed.text
    # My search does not see their contact with the same number.
    assert (await mine.get(f"/api/v2.1/account/{account}/contact-search/{HANDSET}")).json() == []
    assert (await mine.get(f"/api/v2.1/account/{account}/callback")).json() == []


async def test_a_sub_account_is_reachable_by_its_parent_only(truedialog: TrueDialog) -> None:
    running = truedialog.running
    child = await accounts.create_account(
        running.service.database, "Branch", region="FI", parent_id=running.account.id
    )
    async with await client_for(running, child) as branch:
        info = (await branch.get("/api/v2.1/userinfo")).json()
        assert info["isAdmin"] is False
        child_id = info["accountId"]
        # The child cannot reach its parent.
        parent = await branch.get(f"/api/v2.1/account/{truedialog.account_id}")
        assert parent.status_code == 404
    seen = await truedialog.http.get(f"/api/v2.1/account/{child_id}")
    assert seen.status_code == 200, seen.text
    assert (seen.json()["name"], seen.json()["parentId"]) == ("Branch", truedialog.account_id)
