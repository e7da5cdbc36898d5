"""Media detection and conversion, on files made here: what a handset would get."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.interop.harness import peer_unavailable
from tests.unit.media import samples
from tidings.media import convert
from tidings.media.convert import Converter, Target
from tidings.media.detect import MediaKind, detect
from tidings.media.errors import (
    ConversionUnavailable,
    MediaTooLarge,
    UnsupportedMedia,
)

IMAGES = frozenset({"image/jpeg", "image/png", "image/gif"})


def test_the_type_comes_from_the_bytes() -> None:
    assert detect(samples.jpeg_with_metadata()) is not None
    found = detect(samples.png(10, 10))
    assert found is not None and found.content_type == "image/png"
    assert found.kind is MediaKind.IMAGE
    vcard = detect(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEND:VCARD\r\n")
    assert vcard is not None and vcard.content_type == "text/vcard"
    office = detect(samples.docx("hello"))
    assert office is not None and office.kind is MediaKind.OFFICE
    # An executable, an HTML page and nothing at all are not media.
    assert detect(b"\x7fELF\x02\x01\x01" + bytes(100)) is None
    assert detect(b"") is None
    assert detect(b"\x00\x01\x02garbage\xff\xfe") is None


async def test_a_photo_is_turned_upright_and_loses_its_metadata() -> None:
    original = samples.jpeg_with_metadata(400, 200, orientation=6)
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif()[samples.GPS_INFO]
    fitted = await Converter().convert(original, Target(300_000, IMAGES))
    assert fitted.content_type == "image/jpeg"
    with Image.open(io.BytesIO(fitted.data)) as after:
        # Orientation 6 means "rotate 90° clockwise to view": 400×200 stored, 200×400 seen.
        assert after.size == (200, 400) == (fitted.width, fitted.height)
        assert not after.getexif()
        assert "comment" not in after.info and "icc_profile" not in after.info
    assert b"TestCam" not in fitted.data and b"secret note" not in fitted.data


async def test_a_large_photo_is_recompressed_and_scaled_to_fit() -> None:
    big = samples.png(2400, 1600, noisy=True)
    assert len(big) > 5_000_000
    fitted = await Converter().convert(big, Target(300 * 1024, IMAGES))
    assert len(fitted.data) <= 300 * 1024
    # Too much for a PNG at full size; a JPEG of the same picture fits.
    assert fitted.content_type == "image/jpeg"
    with Image.open(io.BytesIO(fitted.data)) as image:
        assert image.format == "JPEG"
        assert image.size == (fitted.width, fitted.height)
        assert image.width / image.height == pytest.approx(1.5, rel=0.01)


async def test_a_small_logo_with_transparency_stays_a_png() -> None:
    fitted = await Converter().convert(samples.png(200, 100, alpha=True), Target(300_000, IMAGES))
    assert fitted.content_type == "image/png"
    with Image.open(io.BytesIO(fitted.data)) as image:
        assert image.mode == "RGBA"


async def test_an_icon_smaller_than_the_smallest_scaled_size_is_sent_as_it_is() -> None:
    icon = samples.png(16, 16)
    fitted = await Converter().convert(icon, Target(300_000, IMAGES))
    assert (fitted.content_type, fitted.width, fitted.height) == ("image/png", 16, 16)


async def test_an_animation_keeps_its_frames() -> None:
    fitted = await Converter().convert(samples.animated_gif(frames=5), Target(300_000, IMAGES))
    assert fitted.content_type == "image/gif"
    with Image.open(io.BytesIO(fitted.data)) as image:
        assert image.n_frames == 5


async def test_an_image_that_cannot_fit_is_refused_with_the_reason() -> None:
    with pytest.raises(MediaTooLarge, match="does not fit in 100 bytes"):
        await Converter().convert(samples.png(400, 400, noisy=True), Target(100, IMAGES))


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    # A 10,000 × 10,000 PNG of one colour is a few kilobytes and would decode to 300 MB.
    out = io.BytesIO()
    Image.new("L", (10_000, 10_000)).save(out, "PNG")
    detected = detect(out.getvalue())
    assert detected is not None
    with pytest.raises(MediaTooLarge, match="more than 40,000,000 pixels"):
        convert.fit_image(out.getvalue(), detected, Target())


async def test_audio_is_reencoded_to_fit_without_its_tags(tmp_path: Path) -> None:
    wav = samples.wav_tone(tmp_path, seconds=20)
    assert len(wav) > 600_000
    fitted = await Converter().convert(wav, Target(100_000, frozenset({"audio/mpeg"})))
    assert fitted.content_type == "audio/mpeg"
    assert len(fitted.data) <= 100_000
    assert fitted.duration_ms is not None and 19_500 <= fitted.duration_ms <= 20_500
    assert b"Private title" not in fitted.data
    found = detect(fitted.data)
    assert found is not None and found.content_type == "audio/mpeg"


async def test_audio_too_long_for_the_route_is_refused(tmp_path: Path) -> None:
    wav = samples.wav_tone(tmp_path, seconds=30)
    with pytest.raises(MediaTooLarge, match="30 s of audio"):
        await Converter().convert(wav, Target(2_000, frozenset({"audio/mpeg"})))


async def test_video_is_scaled_and_reencoded_to_fit(tmp_path: Path) -> None:
    video = samples.mp4_video(tmp_path, seconds=4)
    assert len(video) > 200_000
    fitted = await Converter().convert(video, Target(100 * 1024, frozenset({"video/mp4"})))
    assert fitted.content_type == "video/mp4"
    assert len(fitted.data) <= 100 * 1024
    assert fitted.width == 320 and fitted.height == 180


async def test_office_documents_need_libreoffice_and_say_so() -> None:
    converter = Converter(ffmpeg=None, soffice=None, find_tools=False)
    with pytest.raises(ConversionUnavailable, match="needs LibreOffice, which is not installed"):
        await converter.convert(samples.docx("Hello"), Target())


async def test_office_documents_become_pdf_with_libreoffice() -> None:
    if convert.default_soffice() is None:
        peer_unavailable("LibreOffice (soffice) is not installed")
    fitted = await Converter().convert(samples.docx("Hello from tidings"), Target(1_000_000))
    assert fitted.content_type == "application/pdf"
    assert fitted.data.startswith(b"%PDF-")


async def test_a_type_the_route_does_not_take_is_refused() -> None:
    with pytest.raises(UnsupportedMedia, match="does not take text/vcard"):
        await Converter().convert(
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n", Target(1000, IMAGES)
        )


def test_ffmpeg_missing_is_a_clear_error() -> None:
    converter = Converter(ffmpeg=None, soffice=None, find_tools=False)
    with pytest.raises(ConversionUnavailable, match="imageio-ffmpeg"):
        converter._require_ffmpeg()


def test_the_shipped_ffmpeg_is_found() -> None:
    found = convert.default_ffmpeg()
    assert found is not None and (Path(found).exists() or shutil.which(found))
