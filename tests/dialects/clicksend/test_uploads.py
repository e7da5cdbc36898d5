"""ClickSend's "Convert Media File Format" (``POST /v3/uploads?convert=``) through both SDK
generations, unmodified, and over plain HTTP: the file is kept, converted for the channel,
and served back at ``_url``."""

from __future__ import annotations

import base64
import io
from types import ModuleType

import httpx
from PIL import Image

from tests.dialects.clicksend.conftest import ClickSend
from tests.dialects.clicksend.test_sdks import parsed, sdk5_client, sdk6_client
from tests.unit.media import samples


async def test_sdk5_uploads_a_photo_converted_for_mms(
    clicksend: ClickSend, sdk5: ModuleType
) -> None:
    photo = samples.png(1200, 900, noisy=True)
    assert len(photo) > 1_000_000
    uploads = sdk5.UploadApi(sdk5_client(sdk5, clicksend))
    answer = parsed(
        await clicksend.call(
            uploads.uploads_post,
            sdk5.UploadFile(content=base64.b64encode(photo).decode()),
            "mms",
        )
    )
    assert (answer["http_code"], answer["response_code"]) == (200, "SUCCESS")
    data = answer["data"]
    assert isinstance(data["upload_id"], int) and isinstance(data["user_id"], int)
    assert data["date_delete"] > data["date_added"] > 0
    async with httpx.AsyncClient() as http:
        fetched = await http.get(data["_url"])  # no credentials: the URL is signed
    assert fetched.status_code == 200
    assert len(fetched.content) <= 250_000
    with Image.open(io.BytesIO(fetched.content)) as image:
        assert image.format == "JPEG"
        assert image.width / image.height == 1200 / 900


async def test_sdk6_uploads_with_convert_in_the_body(
    clicksend: ClickSend, sdk6: ModuleType
) -> None:
    uploads = sdk6.UploadsApi(sdk6_client(sdk6, clicksend))
    photo = samples.jpeg_with_metadata(300, 200)
    content = base64.b64encode(photo).decode()
    # 6.x has no parameter for convert; ClickSend also takes it in the body.
    answer = await clicksend.call(
        uploads.upload_a_media_file_with_http_info, body={"content": content, "convert": "mms"}
    )
    assert answer.status_code == 200
    listed = (await clicksend.http.get("../v1/media")).json()
    assert [m["content_type"] for m in listed["media"]] == ["image/jpeg"]


async def test_the_upload_answers_as_clicksend_does(clicksend: ClickSend) -> None:
    pdf_like = samples.docx("A letter")
    missing = await clicksend.http.post("/uploads?convert=fax", json={})
    assert missing.status_code == 400
    assert missing.json()["response_code"] == "MISSING_REQUIRED_FIELDS"
    bad = await clicksend.http.post("/uploads?convert=fax", json={"content": "%%%"})
    assert bad.status_code == 400
    # Office documents need LibreOffice for fax; without it the refusal says so.
    office = await clicksend.http.post(
        "/uploads?convert=fax", json={"content": base64.b64encode(pdf_like).decode()}
    )
    if office.status_code != 200:
        assert "LibreOffice" in office.json()["response_msg"]
    unknown = await clicksend.http.post("/uploads?convert=telex", json={"content": "AAAA"})
    assert unknown.status_code == 400
    form = await clicksend.http.post(
        "/uploads?convert=mms", files={"file": ("logo.png", samples.png(64, 64), "image/png")}
    )
    assert form.status_code == 200, form.text
    assert form.json()["data"]["file_name"] == "logo.png"
