"""What a send may name as media: a media id, one of our signed URLs, or another URL."""

from __future__ import annotations

import pytest

from tests.integration.media.conftest import MakeTenant
from tests.unit.media import samples
from tidings.config import Settings
from tidings.core.media import MediaNotFound, media_library
from tidings.core.secrets import SecretSource
from tidings.errors import InvalidRequest
from tidings.store.engine import Database


async def test_ids_and_our_own_signed_urls_resolve_without_a_download(
    database: Database, settings: Settings, make_tenant: MakeTenant
) -> None:
    library = media_library(database, settings, SecretSource(database, None))
    ann, bob = await make_tenant("Ann"), await make_tenant("Bob")
    photo = await library.keep(ann.account_id, samples.jpeg_with_metadata())
    assert (await library.resolve(ann.account_id, photo.id)).id == photo.id
    with pytest.raises(MediaNotFound):
        await library.resolve(bob.account_id, photo.id)
    signed = await library.signed_url("https://sms.example.com", photo.id)
    assert (await library.resolve(ann.account_id, signed.url)).id == photo.id
    # Another account's signed URL: the signature lets Bob use the bytes, as his own media.
    copied = await library.resolve(bob.account_id, signed.url)
    assert copied.account_id == bob.account_id and copied.sha256 == photo.sha256
    assert copied.id != photo.id
    # A signature that does not verify is just another URL: fetched, and here refused.
    with pytest.raises(InvalidRequest, match="loopback"):
        await library.resolve(
            bob.account_id, f"http://127.0.0.1:1/v1/media/{photo.id}/content?expires=1&sig=x"
        )
