"""CSV import and export through /v1: duplicates, per-row errors, lists and a round trip."""

from __future__ import annotations

import csv
import io

import httpx

from tests.integration.service.conftest import MakeTenant

CSV_HEADERS = {"Content-Type": "text/csv"}


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_import_reports_bad_rows_and_stores_the_rest(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice", region="FI")
    body = (
        "\ufeffMobile,First Name,Email,Country,Gender,Birth Year,Company,Loyalty\r\n"
        "040 100 0001,Anna,anna@example.com,FIN,f,1990,Acme,gold\r\n"
        '+358401000002,"Bert, Jr.",bert@example.com,SE,male,1980,"Line one\nline two",\r\n'
        "12,Bad Phone,,,,,,\r\n"
        "+358401000004,Bad Email,nope,,,,,\r\n"
        "+358401000005,Bad Everything,,ZZ,robot,1700,,\r\n"
        "+358401000006,Too,Many,Fields,,,,,,\r\n"
        "\r\n"
        "+358401000001,Anna Again,,,,,,\r\n"
    )
    answer = await client.post(
        "/v1/contacts/import", content=body.encode(), headers={**alice.bearer, **CSV_HEADERS}
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["rows"], report["created"], report["skipped"], report["failed"]) == (7, 2, 1, 4)
    errors = {(e["row"], e["field"]) for e in report["errors"]}
    assert errors == {
        (4, "phone"),
        (5, "email"),
        (6, "country"),
        (6, "gender"),
        (6, "birth_year"),
        (7, ""),
    }

    anna = await client.get("/v1/contacts", params={"phone": "+358401000001"}, headers=alice.bearer)
    contact = anna.json()["data"][0]
    assert (contact["first_name"], contact["country"], contact["gender"]) == (
        "Anna",
        "FI",
        "female",
    )
    assert contact["organisation"] == "Acme"
    assert contact["properties"] == {"Loyalty": "gold"}
    bert = await client.get("/v1/contacts", params={"phone": "+358401000002"}, headers=alice.bearer)
    assert bert.json()["data"][0]["first_name"] == "Bert, Jr."
    assert bert.json()["data"][0]["organisation"] == "Line one\nline two"


async def test_duplicates_update_when_asked_and_the_list_gets_every_valid_row(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice")
    created = await client.post("/v1/lists", json={"name": "Newsletter"}, headers=alice.bearer)
    list_id = created.json()["id"]
    first = "phone,first_name,city\n+358401000001,Anna,Turku\n+358401000002,Bert,Oulu\n"
    answer = await client.post(
        "/v1/contacts/import",
        params={"list_id": list_id},
        content=first,
        headers={**alice.bearer, **CSV_HEADERS},
    )
    assert answer.json()["created"] == 2
    assert answer.json()["added_to_list"] == 2

    second = "phone,first_name,city\n+358401000001,Anna-Liisa,\n+358401000003,Cecilia,Vaasa\n"
    updated = await client.post(
        "/v1/contacts/import",
        params={"list_id": list_id, "on_duplicate": "update"},
        content=second,
        headers={**alice.bearer, **CSV_HEADERS},
    )
    report = updated.json()
    assert (report["created"], report["updated"], report["skipped"]) == (1, 1, 0)
    assert report["added_to_list"] == 1
    anna = await client.get("/v1/contacts", params={"phone": "+358401000001"}, headers=alice.bearer)
    # A blank cell leaves the stored value as it was.
    assert (anna.json()["data"][0]["first_name"], anna.json()["data"][0]["city"]) == (
        "Anna-Liisa",
        "Turku",
    )
    listed = await client.get(f"/v1/lists/{list_id}", headers=alice.bearer)
    assert listed.json()["member_count"] == 3

    missing = await client.post(
        "/v1/contacts/import",
        params={"list_id": "NOPE"},
        content=first,
        headers={**alice.bearer, **CSV_HEADERS},
    )
    assert missing.status_code == 404


async def test_a_file_without_a_phone_column_or_header_is_refused(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice")
    for body in (b"", b"name,email\nAnna,a@example.com\n", b"phone,phone\n1,2\n", b"\xff\xfe,\n"):
        answer = await client.post(
            "/v1/contacts/import", content=body, headers={**alice.bearer, **CSV_HEADERS}
        )
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


async def test_rows_that_are_not_utf8_or_hold_nul_are_reported_alone(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice")
    body = b"phone,first_name\n+358401000001,Anna\n+358401000002,B\xe4rt\n+358401000003,\x00x\n"
    answer = await client.post(
        "/v1/contacts/import", content=body, headers={**alice.bearer, **CSV_HEADERS}
    )
    report = answer.json()
    assert report["created"] == 1
    assert [(e["row"], e["reason"]) for e in report["errors"]] == [
        (3, "not UTF-8 text"),
        (4, "contains a NUL character"),
    ]


async def test_export_then_import_elsewhere_gives_the_same_contacts(
    client: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    alice = await make_tenant("Alice")
    bob = await make_tenant("Bob")
    for index in range(12):
        answer = await client.post(
            "/v1/contacts",
            json={
                "phone": f"+35840100{index:04d}",
                "first_name": f'Name {index}, "quoted"',
                "city": "Helsinki\nCentre" if index % 2 else None,
                "active": index % 3 != 0,
                "properties": {"n": str(index), "emoji": "🙂"} if index % 4 == 0 else {},
                "birth_year": 1950 + index,
            },
            headers=alice.bearer,
        )
        assert answer.status_code == 201, answer.text
    exported = await client.get("/v1/contacts/export", headers=alice.bearer)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = _rows(exported.text)
    assert len(rows) == 12

    imported = await client.post(
        "/v1/contacts/import", content=exported.content, headers={**bob.bearer, **CSV_HEADERS}
    )
    assert imported.json()["created"] == 12, imported.text
    assert imported.json()["errors"] == []
    again = await client.get("/v1/contacts/export", headers=bob.bearer)
    key = "phone"
    assert sorted(_rows(again.text), key=lambda r: r[key]) == sorted(rows, key=lambda r: r[key])


async def test_export_of_one_list(client: httpx.AsyncClient, make_tenant: MakeTenant) -> None:
    alice = await make_tenant("Alice")
    list_id = (await client.post("/v1/lists", json={"name": "Few"}, headers=alice.bearer)).json()[
        "id"
    ]
    await client.post(
        "/v1/contacts/import",
        params={"list_id": list_id},
        content="phone\n+358401000001\n",
        headers={**alice.bearer, **CSV_HEADERS},
    )
    await client.post("/v1/contacts", json={"phone": "+358401000002"}, headers=alice.bearer)
    exported = await client.get(
        "/v1/contacts/export", params={"list_id": list_id}, headers=alice.bearer
    )
    assert [row["phone"] for row in _rows(exported.text)] == ["+358401000001"]
    missing = await client.get(
        "/v1/contacts/export", params={"list_id": "NOPE"}, headers=alice.bearer
    )
    assert missing.status_code == 404
