"""Conversion of a media file to what a route accepts: its types and its maximum size.

- Images (Pillow): turned upright by their EXIF orientation, every piece of metadata dropped
  (EXIF with its GPS position, XMP, ICC, comments), then recompressed and, if that is not
  enough, scaled down step by step until they fit.
- Audio and video (the ffmpeg binary of the ``imageio-ffmpeg`` wheel): re-encoded at the bit
  rate their duration allows (MP3 or AMR; H.264 + AAC in MP4, or H.263 + AMR in 3GP).
- Office documents: to PDF with LibreOffice (``soffice``) when it is installed; otherwise a
  clear :class:`ConversionUnavailable`.

A file that still does not fit is refused with :class:`MediaTooLarge`, saying why; nothing is
ever cut silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from tidings.media.detect import Detected, MediaKind, detect
from tidings.media.errors import (
    ConversionFailed,
    ConversionUnavailable,
    MediaTooLarge,
    UnsupportedMedia,
)

# What handsets take over MMS almost everywhere (OMA MMS conformance document's content
# classes "image rich" and "video rich"), plus text, vCard and PDF.
MMS_CONTENT_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "audio/mpeg",
        "audio/amr",
        "video/mp4",
        "video/3gpp",
        "text/plain",
        "text/vcard",
        "text/calendar",
        "application/pdf",
    }
)
DEFAULT_MAX_BYTES = 300 * 1024

# Images larger than this are refused before they are decoded (a small PNG can claim a
# billion pixels: a decompression bomb).
MAX_IMAGE_PIXELS = 40_000_000
_SMALLEST_SIDE = 32
_JPEG_QUALITIES = (85, 75, 65, 55, 45)
_SCALE_STEP = 0.8


@dataclass(frozen=True, slots=True)
class Target:
    """What a route takes: content types and a maximum size in bytes."""

    max_bytes: int = DEFAULT_MAX_BYTES
    content_types: frozenset[str] = MMS_CONTENT_TYPES

    @property
    def spec(self) -> str:
        """A name for this target, under which a conversion to it is kept."""
        return f"{self.max_bytes}:{','.join(sorted(self.content_types))}"


@dataclass(frozen=True, slots=True)
class Converted:
    data: bytes = field(repr=False)
    content_type: str
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ImageInfo:
    width: int
    height: int


@contextlib.contextmanager
def _open_image(data: bytes) -> Iterator[Image.Image]:
    """``Image.open`` that refuses more than :data:`MAX_IMAGE_PIXELS` as too large (Pillow only
    warns up to twice its own limit) before anything is decoded."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise MediaTooLarge(
                f"The image has more than {MAX_IMAGE_PIXELS:,} pixels, the most taken."
            ) from None
    with image:
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise MediaTooLarge(
                f"The image has {image.width}×{image.height} pixels; at most "
                f"{MAX_IMAGE_PIXELS:,} are taken."
            )
        yield image


def image_info(data: bytes) -> ImageInfo | None:
    """An image's upright size (EXIF orientation applied), read from its header only."""
    try:
        with _open_image(data) as image:
            width, height = image.size
            orientation = image.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError, ValueError, MediaTooLarge):
        return None
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return ImageInfo(width, height)


def _clean(image: Image.Image) -> Image.Image:
    """An upright copy of ``image`` with none of its metadata."""
    upright = ImageOps.exif_transpose(image) or image
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    clean = upright.convert("RGBA" if has_alpha else "RGB")
    clean.info = {}
    return clean


def _encode(image: Image.Image, content_type: str, quality: int) -> bytes:
    out = io.BytesIO()
    if content_type == "image/jpeg":
        if image.mode != "RGB":
            # JPEG has no alpha: transparent areas become white, as a handset would show them.
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, mask=image.getchannel("A"))
            image = background
        image.save(out, "JPEG", quality=quality, optimize=True, progressive=False)
    elif content_type == "image/png":
        image.save(out, "PNG", optimize=True)
    else:
        image.convert("P", palette=Image.Palette.ADAPTIVE).save(out, "GIF", optimize=True)
    return out.getvalue()


def _image_order(detected: Detected, accepted: frozenset[str]) -> list[str]:
    """Output formats to try, best first: the original's own lossless format when the route
    takes it (a logo stays crisp), then JPEG, then any other accepted still format."""
    order: list[str] = []
    if detected.content_type in ("image/png", "image/gif") and detected.content_type in accepted:
        order.append(detected.content_type)
    for candidate in ("image/jpeg", "image/png", "image/gif"):
        if candidate in accepted and candidate not in order:
            order.append(candidate)
    return order


def fit_image(data: bytes, detected: Detected, target: Target) -> Converted:
    """``data`` upright, without metadata, in an accepted format, within ``target.max_bytes``."""
    order = _image_order(detected, target.content_types)
    if not order:
        raise UnsupportedMedia("The route takes no image type (JPEG, PNG or GIF).")
    try:
        with _open_image(data) as original:
            if (
                getattr(original, "is_animated", False)
                and detected.content_type == "image/gif"
                and "image/gif" in target.content_types
            ):
                return _fit_animated_gif(original, target.max_bytes)
            original.load()
            image = _clean(original)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise ConversionFailed(f"The image cannot be read: {error}") from None
    scale = 1.0
    while True:
        width = max(1, round(image.width * scale))
        height = max(1, round(image.height * scale))
        # An image already that small is tried as it is; only scaling stops there.
        if scale < 1.0 and min(width, height) < _SMALLEST_SIDE:
            raise MediaTooLarge(
                f"The image does not fit in {target.max_bytes:,} bytes even at "
                f"{_SMALLEST_SIDE} pixels across."
            )
        sized = image if scale == 1.0 else image.resize((width, height), Image.Resampling.LANCZOS)
        for content_type in order:
            qualities: Iterable[int] = _JPEG_QUALITIES if content_type == "image/jpeg" else (0,)
            for quality in qualities:
                encoded = _encode(sized, content_type, quality)
                if len(encoded) <= target.max_bytes:
                    return Converted(encoded, content_type, width, height)
        scale *= _SCALE_STEP


def _fit_animated_gif(original: Image.Image, max_bytes: int) -> Converted:
    frames: list[Image.Image] = []
    durations: list[int] = []
    for index in range(getattr(original, "n_frames", 1)):
        original.seek(index)
        frames.append(original.convert("RGBA"))
        durations.append(int(original.info.get("duration", 100)))
    loop = int(original.info.get("loop", 0))
    scale = 1.0
    while True:
        width = max(1, round(frames[0].width * scale))
        height = max(1, round(frames[0].height * scale))
        # An image already that small is tried as it is; only scaling stops there.
        if scale < 1.0 and min(width, height) < _SMALLEST_SIDE:
            raise MediaTooLarge(f"The animation does not fit in {max_bytes:,} bytes.")
        sized = [
            frame.resize((width, height), Image.Resampling.LANCZOS) if scale != 1.0 else frame
            for frame in frames
        ]
        out = io.BytesIO()
        sized[0].save(
            out,
            "GIF",
            save_all=True,
            append_images=sized[1:],
            duration=durations,
            loop=loop,
            optimize=True,
            disposal=2,
        )
        if out.tell() <= max_bytes:
            return Converted(out.getvalue(), "image/gif", width, height)
        scale *= _SCALE_STEP


_DURATION = re.compile(rb"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_VIDEO_SIZE = re.compile(rb"Video: .*?, (\d{2,5})x(\d{2,5})")


def default_ffmpeg() -> str | None:
    """The ffmpeg binary shipped in the ``imageio-ffmpeg`` wheel, else one on PATH."""
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return shutil.which("ffmpeg")


def default_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@dataclass(frozen=True, slots=True)
class _Probe:
    duration_ms: int | None
    width: int | None
    height: int | None


class Converter:
    """Runs conversions; images in a thread, ffmpeg and LibreOffice as subprocesses with a
    deadline. ``ffmpeg``/``soffice`` None means not installed."""

    def __init__(
        self,
        *,
        ffmpeg: str | None = None,
        soffice: str | None = None,
        timeout: float = 120.0,
        find_tools: bool = True,
    ) -> None:
        self.ffmpeg = ffmpeg if ffmpeg is not None or not find_tools else default_ffmpeg()
        self.soffice = soffice if soffice is not None or not find_tools else default_soffice()
        self.timeout = timeout

    async def convert(self, data: bytes, target: Target) -> Converted:
        """``data`` as the route can take it; raises a :class:`MediaError` saying why not."""
        detected = detect(data)
        if detected is None:
            raise UnsupportedMedia()
        if detected.kind is MediaKind.IMAGE:
            return await asyncio.to_thread(fit_image, data, detected, target)
        if detected.kind is MediaKind.AUDIO:
            return await self._audio(data, detected, target)
        if detected.kind is MediaKind.VIDEO:
            return await self._video(data, detected, target)
        if detected.kind is MediaKind.OFFICE:
            pdf = await self.office_to_pdf(data, detected)
            return self._as_is(pdf, Detected("application/pdf", MediaKind.DOCUMENT, "pdf"), target)
        return self._as_is(data, detected, target)

    @staticmethod
    def _as_is(data: bytes, detected: Detected, target: Target) -> Converted:
        if detected.content_type not in target.content_types:
            raise UnsupportedMedia(f"The route does not take {detected.content_type}.")
        if len(data) > target.max_bytes:
            raise MediaTooLarge(
                f"The {detected.content_type} file is {len(data):,} bytes; the route takes at "
                f"most {target.max_bytes:,} and this type cannot be made smaller."
            )
        return Converted(data, detected.content_type)

    async def probe(self, data: bytes, detected: Detected) -> _Probe:
        """Duration and picture size of an audio or video file (from ffmpeg's report)."""
        ffmpeg = self._require_ffmpeg()
        with tempfile.TemporaryDirectory(prefix="tidings-media-") as directory:
            source = Path(directory) / f"in.{detected.extension}"
            source.write_bytes(data)
            _, report = await self._run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(source)])
        duration = _DURATION.search(report)
        size = _VIDEO_SIZE.search(report)
        return _Probe(
            duration_ms=(
                round((int(duration[1]) * 3600 + int(duration[2]) * 60 + float(duration[3])) * 1000)
                if duration
                else None
            ),
            width=int(size[1]) if size else None,
            height=int(size[2]) if size else None,
        )

    async def _audio(self, data: bytes, detected: Detected, target: Target) -> Converted:
        # Re-encoded even when already sendable, which also drops its tags (ID3 names, cover
        # pictures) as images lose their EXIF.
        accepted = target.content_types
        probe = await self.probe(data, detected)
        seconds = max((probe.duration_ms or 1000) / 1000, 0.5)
        if "audio/mpeg" in accepted:
            kbps = min(128, int(target.max_bytes * 8 * 0.9 / seconds / 1000))
            if kbps < 8:
                raise MediaTooLarge(
                    f"{seconds:.0f} s of audio do not fit in {target.max_bytes:,} bytes."
                )
            arguments = ["-vn", "-ac", "1", "-c:a", "libmp3lame", "-b:a", f"{kbps}k"]
            content_type, extension = "audio/mpeg", "mp3"
        elif "audio/amr" in accepted:
            arguments = ["-vn", "-ac", "1", "-ar", "8000", "-c:a", "libopencore_amrnb"]
            arguments += ["-b:a", "12.2k"]
            content_type, extension = "audio/amr", "amr"
        else:
            raise UnsupportedMedia("The route takes no audio type (MP3 or AMR).")
        output = await self._ffmpeg(data, detected, arguments, extension)
        if len(output) > target.max_bytes:
            raise MediaTooLarge(
                f"{seconds:.0f} s of audio do not fit in {target.max_bytes:,} bytes."
            )
        return Converted(output, content_type, duration_ms=probe.duration_ms)

    async def _video(self, data: bytes, detected: Detected, target: Target) -> Converted:
        accepted = target.content_types
        probe = await self.probe(data, detected)
        seconds = max((probe.duration_ms or 1000) / 1000, 0.5)
        # 10% for the container; the audio track at its fixed rate, the rest for the picture.
        total_kbps = int(target.max_bytes * 8 * 0.9 / seconds / 1000)
        if "video/mp4" in accepted:
            audio_kbps = 24
            video_kbps = total_kbps - audio_kbps
            arguments = [
                "-vf",
                "scale='min(320,iw)':-2",
                "-c:v",
                "libx264",
                "-profile:v",
                "baseline",
                "-pix_fmt",
                "yuv420p",
                "-b:v",
                f"{video_kbps}k",
                "-maxrate",
                f"{video_kbps}k",
                "-bufsize",
                f"{video_kbps * 2}k",
                "-c:a",
                "aac",
                "-ac",
                "1",
                "-b:a",
                f"{audio_kbps}k",
                "-movflags",
                "+faststart",
            ]
            content_type, extension = "video/mp4", "mp4"
        elif "video/3gpp" in accepted:
            audio_kbps = 12
            video_kbps = total_kbps - audio_kbps
            arguments = ["-s", "176x144", "-r", "15", "-c:v", "h263", "-b:v", f"{video_kbps}k"]
            arguments += ["-c:a", "libopencore_amrnb", "-ar", "8000", "-ac", "1", "-b:a", "12.2k"]
            content_type, extension = "video/3gpp", "3gp"
        else:
            raise UnsupportedMedia("The route takes no video type (MP4 or 3GP).")
        if video_kbps < 24:
            raise MediaTooLarge(
                f"{seconds:.0f} s of video do not fit in {target.max_bytes:,} bytes."
            )
        output = await self._ffmpeg(data, detected, arguments, extension)
        if len(output) > target.max_bytes:
            raise MediaTooLarge(
                f"{seconds:.0f} s of video do not fit in {target.max_bytes:,} bytes."
            )
        converted = await self.probe(output, Detected(content_type, MediaKind.VIDEO, extension))
        return Converted(
            output,
            content_type,
            width=converted.width,
            height=converted.height,
            duration_ms=probe.duration_ms,
        )

    def _require_ffmpeg(self) -> str:
        if self.ffmpeg is None:
            raise ConversionUnavailable(
                "ffmpeg is not available: install the imageio-ffmpeg package to convert audio "
                "and video."
            )
        return self.ffmpeg

    async def _ffmpeg(
        self, data: bytes, detected: Detected, arguments: list[str], extension: str
    ) -> bytes:
        ffmpeg = self._require_ffmpeg()
        with tempfile.TemporaryDirectory(prefix="tidings-media-") as directory:
            source = Path(directory) / f"in.{detected.extension}"
            output = Path(directory) / f"out.{extension}"
            source.write_bytes(data)
            command = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-i", str(source)]
            # No title, artist, GPS or device tags in what goes to a carrier.
            command += ["-map_metadata", "-1", *arguments, str(output)]
            code, report = await self._run(command)
            if code != 0 or not output.exists():
                last = report.strip().splitlines()[-1:] or [b""]
                raise ConversionFailed(
                    f"ffmpeg could not convert the file: {last[0].decode(errors='replace')}"
                )
            return output.read_bytes()

    async def office_to_pdf(self, data: bytes, detected: Detected) -> bytes:
        """An office document as PDF, by LibreOffice."""
        if self.soffice is None:
            raise ConversionUnavailable(
                f"Converting {detected.content_type} to PDF needs LibreOffice, which is not "
                "installed on this server (Debian: apt-get install libreoffice-core "
                "libreoffice-writer); or send a PDF."
            )
        with tempfile.TemporaryDirectory(prefix="tidings-office-") as directory:
            source = Path(directory) / f"document.{detected.extension}"
            source.write_bytes(data)
            # A profile of its own: two conversions at once must not share LibreOffice's lock.
            profile = Path(directory) / "profile"
            code, report = await self._run(
                [
                    self.soffice,
                    f"-env:UserInstallation=file://{profile}",
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    directory,
                    str(source),
                ]
            )
            pdf = Path(directory) / "document.pdf"
            if code != 0 or not pdf.exists():
                raise ConversionFailed(
                    "LibreOffice could not convert the document: "
                    + report.decode(errors="replace").strip()[-200:]
                )
            return pdf.read_bytes()

    async def _run(self, command: list[str]) -> tuple[int, bytes]:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), self.timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise ConversionFailed(
                f"The conversion took longer than {self.timeout:.0f} s and was stopped."
            ) from None
        return process.returncode or 0, output
