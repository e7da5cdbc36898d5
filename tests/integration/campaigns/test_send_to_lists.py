"""POST /v1/messages to explicit targets plus lists minus exclude lists, through the simulator."""

from __future__ import annotations

from tests.integration.campaigns.conftest import Running, eventually, make_list, ok
from tidings.core import accounts

ANNA = {"phone": "+358401000001", "first_name": "Anna", "properties": {"code": "A1"}}
BERT = {"phone": "+358401000002", "first_name": "Bert", "properties": {"code": "B2"}}
CARA = {"phone": "+358401000003", "first_name": "Cara", "properties": {"code": "C3"}}
DAVE = {"phone": "+358401000004", "first_name": "Dave", "properties": {"code": "D4"}}
FRED = {"phone": "+358401000005", "first_name": "Fred"}  # no code
EVE = "+358409999991"
DAVE_LOCAL = "040 1000004"  # Dave's number as a person would type it


async def test_targets_plus_lists_minus_exclude_list_reach_the_right_handsets(
    running: Running,
) -> None:
    http = running.http
    customers, _ = await make_list(http, "Customers", [ANNA, BERT, CARA, FRED])
    newsletter, _ = await make_list(http, "Newsletter", [BERT, DAVE])
    unsubscribed, _ = await make_list(http, "Unsubscribed", [CARA])

    answer = await ok(
        await http.post(
            "/v1/messages",
            json={
                "from": "Tidings",
                "body": "Hi {first_name}, your code is {code}",
                "to": [EVE, DAVE_LOCAL],
                "personalization": {EVE: {"first_name": "Eve", "code": "E5"}},
                "lists": [customers, newsletter],
                "exclude_lists": [unsubscribed],
            },
        ),
        202,
    )

    outcomes = [(m["to"], m.get("error", {}).get("code")) for m in answer["messages"]]
    # Explicit targets first, then members in contact order; Bert (in two lists) comes once,
    # Dave (a target, in local form, and a member) is reported once as a duplicate and gets
    # his contact's fields all the same; Cara is excluded.
    assert outcomes == [
        (EVE, None),
        (DAVE_LOCAL, None),
        (ANNA["phone"], None),
        (BERT["phone"], None),
        (FRED["phone"], "missing_placeholder"),
        (DAVE["phone"], "duplicate"),
    ]
    assert (answer["accepted"], answer["rejected"]) == (4, 2)

    simulator = running.service.simulator
    assert simulator is not None
    expected = {
        EVE: "Hi Eve, your code is E5",
        DAVE["phone"]: "Hi Dave, your code is D4",
        ANNA["phone"]: "Hi Anna, your code is A1",
        BERT["phone"]: "Hi Bert, your code is B2",
    }

    async def all_arrived() -> bool:
        return all(simulator.inbox(number) for number in expected)

    await eventually(all_arrived, "every recipient's handset to receive its message")
    for number, text in expected.items():
        assert [m.text for m in simulator.inbox(number)] == [text]
    assert simulator.inbox(CARA["phone"]) == []
    assert simulator.inbox(FRED["phone"]) == []


async def test_an_unknown_or_another_accounts_list_is_refused(running: Running) -> None:
    http = running.http
    other = await accounts.create_account(running.service.database, "Other", region="FI")
    key = await accounts.create_api_key(running.service.database, other.id)
    foreign_list = await ok(
        await http.post(
            "/v1/lists",
            json={"name": "Theirs"},
            headers={"Authorization": f"Bearer {key.secret}"},
        ),
        201,
    )
    own, _ = await make_list(http, "Mine", [ANNA])

    for field, list_id in (
        ("lists", "01NOSUCHLIST0000000000000"),
        ("lists", foreign_list["id"]),
        ("exclude_lists", foreign_list["id"]),
    ):
        body = {"from": "Tidings", "body": "hello", "lists": [own], field: [list_id]}
        if field == "lists":
            body["lists"] = [own, list_id]
        response = await http.post("/v1/messages", json=body)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["detail"] == f"no list {list_id}"
        assert problem["errors"] == [{"path": field, "message": f"no list {list_id}"}]

    nothing = await http.post("/v1/messages", json={"from": "Tidings", "body": "hello"})
    assert nothing.status_code == 422, nothing.text
    listed = await ok(await http.get("/v1/messages"))
    assert listed["data"] == []


async def test_an_empty_list_alone_gives_no_recipient(running: Running) -> None:
    empty, _ = await make_list(running.http, "Empty", [])
    response = await running.http.post(
        "/v1/messages", json={"from": "Tidings", "body": "hello", "lists": [empty]}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["path"] == "to"
