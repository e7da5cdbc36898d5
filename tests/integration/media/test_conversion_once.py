"""One MMS to many recipients: the dispatcher's workers fit its file to the route once."""

from __future__ import annotations

import asyncio
import io

from tests.integration.media.conftest import MakeTenant
from tests.unit.media import samples
from tidings.config import Settings
from tidings.core.media import media_library
from tidings.core.secrets import SecretSource
from tidings.media.convert import MMS_CONTENT_TYPES, Converted, Converter, Target
from tidings.store.engine import Database


class CountingConverter(Converter):
    """The real converter, counting the conversions it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.conversions = 0

    async def convert(self, data: bytes, target: Target) -> Converted:
        self.conversions += 1
        return await super().convert(data, target)


async def test_sends_of_one_photo_at_once_convert_it_once(
    database: Database, settings: Settings, make_tenant: MakeTenant
) -> None:
    library = media_library(database, settings, SecretSource(database, None))
    converter = CountingConverter()
    library.converter = converter
    ann = await make_tenant("Ann")
    photo = io.BytesIO()
    samples.noisy_photo(1200, 900).save(photo, "JPEG", quality=95)
    record = await library.keep(ann.account_id, photo.getvalue())
    target = Target(100_000, MMS_CONTENT_TYPES)

    # As many at once as the dispatcher's workers on an MM7 route (concurrency 8, + 8).
    fitted = await asyncio.gather(*(library.fitted(record, target) for _ in range(16)))

    assert converter.conversions == 1
    assert len({f.sha256 for f in fitted}) == 1
    assert all(f.size <= 100_000 and f.content_type == "image/jpeg" for f in fitted)
    # Later sends read the kept conversion back.
    again = await library.fitted(record, target)
    assert again.sha256 == fitted[0].sha256
    assert converter.conversions == 1
