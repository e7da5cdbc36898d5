"""Media files made on the spot for tests: photos with metadata, animations, sound, video and
office documents (nothing third-party committed)."""

from __future__ import annotations

import io
import random
import subprocess
import zipfile
from pathlib import Path

from PIL import Image

from tidings.media.convert import default_ffmpeg

# EXIF tags: Orientation, Make, GPSInfo.
ORIENTATION, MAKE, GPS_INFO = 0x0112, 0x010F, 0x8825


def noisy_photo(width: int, height: int, *, seed: int = 1) -> Image.Image:
    """A picture that compresses badly, as photos do (random pixels over gradients)."""
    rng = random.Random(seed)
    noise = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    return Image.blend(noise, gradient, 0.5)


def jpeg_with_metadata(width: int = 400, height: int = 200, *, orientation: int = 6) -> bytes:
    """A JPEG whose EXIF says "rotate 90°" and carries a camera make and a GPS position."""
    image = noisy_photo(width, height)
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "TestCam"
    exif[GPS_INFO] = {1: "N", 2: (60.0, 10.0, 0.0), 3: "E", 4: (24.0, 56.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes(), comment=b"secret note")
    return out.getvalue()


def png(width: int, height: int, *, alpha: bool = False, noisy: bool = False) -> bytes:
    if noisy:
        image: Image.Image = noisy_photo(width, height)
    else:
        image = Image.new("RGB", (width, height), (20, 120, 200))
    if alpha:
        image = image.convert("RGBA")
        image.putalpha(128)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def animated_gif(frames: int = 5, size: int = 120) -> bytes:
    images = [
        Image.new("RGB", (size, size), (index * 40 % 256, 80, 160)) for index in range(frames)
    ]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def ffmpeg_output(directory: Path, name: str, *arguments: str) -> bytes:
    """A file that ffmpeg makes from its own test sources (a tone, a test picture)."""
    ffmpeg = default_ffmpeg()
    assert ffmpeg is not None
    target = directory / name
    subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *arguments, str(target)],
        check=True,
        timeout=120,
    )
    return target.read_bytes()


def wav_tone(directory: Path, seconds: int) -> bytes:
    return ffmpeg_output(
        directory,
        "tone.wav",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:duration={seconds}",
        "-metadata",
        "title=Private title",
    )


def mp4_video(directory: Path, seconds: int) -> bytes:
    return ffmpeg_output(
        directory,
        "video.mp4",
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size=1280x720:rate=25:duration={seconds}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=300:duration={seconds}",
        "-c:v",
        "libx264",
        "-b:v",
        "4M",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
    )


def docx(text: str) -> bytes:
    """A minimal Word document (Office Open XML) saying ``text``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>",
        )
    return out.getvalue()
