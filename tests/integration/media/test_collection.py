"""Media no message uses is removed after the retention period; what a message names stays,
and so do the bytes another object still stands on."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.integration.media.conftest import MakeTenant
from tests.unit.media import samples
from tidings.config import Settings
from tidings.core import accounts, campaigns, messaging
from tidings.core.accounts import utcnow
from tidings.core.channels import Channel
from tidings.core.content import MediaRef
from tidings.core.media import (
    Collected,
    MediaLibrary,
    MediaNotFound,
    collect_periodically,
    media_library,
)
from tidings.core.mms import MmsContent
from tidings.core.secrets import SecretSource
from tidings.media.convert import MMS_CONTENT_TYPES, Target
from tidings.store import media as store
from tidings.store.engine import Database
from tidings.store.media import MediaRecord

AFTER_RETENTION = timedelta(days=31)
NOTHING = Collected(0, 0, 0)


def _ref(record: MediaRecord) -> MediaRef:
    return MediaRef(id=record.id, content_type=record.content_type, size=record.size)


async def _send_mms(database: Database, account_id: str, record: MediaRecord) -> None:
    account = await accounts.get_account(database, account_id)
    ref = _ref(record)
    await messaging.accept_messages(
        database,
        account,
        messaging.SendRequest(
            to=["+358401234567"],
            sender="+358409990001",
            body="Our menu",
            channel=Channel.MMS,
            subject="Menu",
            content=MmsContent(media=(ref,)),
        ),
    )


async def _blob(database: Database, sha256: str) -> bytes | None:
    async with database.read() as connection:
        return await store.read_blob(connection, sha256)


async def test_unused_media_goes_after_the_retention_period_and_used_media_stays(
    database: Database, settings: Settings, make_tenant: MakeTenant
) -> None:
    library = media_library(database, settings, SecretSource(database, None))
    ann, bob = await make_tenant("Ann"), await make_tenant("Bob")
    never_sent = await library.keep(ann.account_id, samples.png(40, 30))
    sent = await library.keep(ann.account_id, samples.jpeg_with_metadata(200, 100))
    # Bob has the same bytes as Ann's unsent picture, and sends them.
    bobs = await library.keep(bob.account_id, samples.png(40, 30))
    await _send_mms(database, ann.account_id, sent)
    await _send_mms(database, bob.account_id, bobs)
    target = Target(20_000, MMS_CONTENT_TYPES)
    conversion = await library.fitted(sent, target)
    assert conversion.sha256 != sent.sha256

    # Within the retention period nothing goes.
    assert await library.collect_unused() == NOTHING
    await library.get(ann.account_id, never_sent.id)

    # A draft campaign's picture, sent whenever the campaign is run.
    for_campaign = await library.keep(ann.account_id, samples.png(30, 30))
    await campaigns.create_campaign(
        database,
        await accounts.get_account(database, ann.account_id),
        campaigns.CampaignSpec(
            name="Spring",
            body="Our spring menu",
            sender="+358409990001",
            targets=["+358401234567"],
            execute=False,
            channel=Channel.MMS,
            content=MmsContent(media=(_ref(for_campaign),)),
        ),
    )

    collected = await library.collect_unused(now=utcnow() + AFTER_RETENTION)
    assert (collected.media, collected.variants) == (1, 1)
    await library.get(ann.account_id, for_campaign.id)
    with pytest.raises(MediaNotFound):
        await library.get(ann.account_id, never_sent.id)
    # What messages name stays, with its bytes; a conversion is made again when needed.
    assert await library.content(await library.get(ann.account_id, sent.id)) is not None
    assert await _blob(database, bobs.sha256) == samples.png(40, 30)
    async with database.read() as connection:
        assert await store.find_variant(connection, sent.id, target.spec) is None
    assert await _blob(database, conversion.sha256) is None
    # A second collection finds nothing more.
    assert await library.collect_unused(now=utcnow() + AFTER_RETENTION) == NOTHING
    again = await library.fitted(sent, target)
    assert again.data == conversion.data


async def test_no_link_handed_out_stops_working_before_it_expires(
    database: Database, settings: Settings, make_tenant: MakeTenant
) -> None:
    secrets = SecretSource(database, None)
    library = media_library(
        database, settings.model_copy(update={"media_retention_days": 1.0}), secrets
    )
    ann = await make_tenant("Ann")
    upload = await library.keep(ann.account_id, samples.png(20, 20))
    # Retention says one day, but links live seven: the upload outlives its links.
    assert (await library.collect_unused(now=utcnow() + timedelta(days=2))).media == 0
    assert (await library.collect_unused(now=utcnow() + timedelta(days=8))).media == 1
    with pytest.raises(MediaNotFound):
        await library.get(ann.account_id, upload.id)


async def test_the_service_s_collector_runs_until_stopped(
    database: Database, settings: Settings, make_tenant: MakeTenant
) -> None:
    library: MediaLibrary = media_library(
        database,
        settings.model_copy(update={"media_retention_days": 1e-6, "media_url_ttl_seconds": 0.01}),
        SecretSource(database, None),
    )
    ann = await make_tenant("Ann")
    upload = await library.keep(ann.account_id, samples.png(20, 20))
    collector = asyncio.create_task(collect_periodically(library, interval_seconds=0.05))
    try:
        for _ in range(600):  # 30 s at the least
            try:
                await library.get(ann.account_id, upload.id)
            except MediaNotFound:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the collector never removed the unused upload")
    finally:
        collector.cancel()
        await asyncio.gather(collector, return_exceptions=True)
