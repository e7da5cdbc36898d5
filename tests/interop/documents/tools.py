"""libtiff's and poppler's command-line readers, the independent judges of what we render.

Debian packages them as ``libtiff-tools`` (tiffinfo, tiffdump, tiff2pdf) and ``poppler-utils``
(pdftotext, pdfinfo, pdftoppm). A missing tool skips the test with the reason, or fails it
under TIDINGS_REQUIRE_PEERS=1.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from tests.interop.harness import find_program, peer_unavailable

_PACKAGES = {
    "tiffinfo": "libtiff-tools",
    "tiffdump": "libtiff-tools",
    "tiff2pdf": "libtiff-tools",
    "pdftotext": "poppler-utils",
    "pdfinfo": "poppler-utils",
    "pdftoppm": "poppler-utils",
}
MM = 72 / 25.4


def run(program: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    found = find_program(program)
    if found is None:
        peer_unavailable(f"{program} is not installed (Debian package {_PACKAGES[program]})")
    return subprocess.run(
        [found, *map(str, args)], capture_output=True, text=True, check=True, timeout=60
    )


_TAG_LINE = re.compile(r"^\S+ \((\d+)\) \S+ \(\d+\) (\d+)<([^>]*)>")


def tiff_directories(path: Path) -> list[dict[int, list[float]]]:
    """Every directory of a TIFF as tiffdump reads it: tag number → its values."""
    directories: list[dict[int, list[float]]] = []
    for line in run("tiffdump", path).stdout.splitlines():
        if line.startswith("Directory "):
            directories.append({})
            continue
        match = _TAG_LINE.match(line)
        if match and directories:
            values = [float(v) for v in match.group(3).split()] if match.group(3) else []
            directories[-1][int(match.group(1))] = values
    return directories


@dataclass(frozen=True)
class Word:
    text: str
    #: From the page's top left corner, in points.
    left: float
    top: float
    right: float
    bottom: float


def pdf_words(path: Path, page: int) -> list[Word]:
    """The words pdftotext finds on ``page`` (from 1), with their boxes."""
    xhtml = run("pdftotext", "-bbox", "-f", str(page), "-l", str(page), path, "-").stdout
    root = ElementTree.fromstring(xhtml)
    return [
        Word(
            element.text or "",
            float(element.attrib["xMin"]),
            float(element.attrib["yMin"]),
            float(element.attrib["xMax"]),
            float(element.attrib["yMax"]),
        )
        for element in root.iter("{http://www.w3.org/1999/xhtml}word")
    ]


def pdf_page_sizes(path: Path) -> list[tuple[float, float]]:
    """Each page's size in points, as pdfinfo reports it."""
    out = run("pdfinfo", "-f", "1", "-l", "1000", path).stdout
    return [
        (float(w), float(h))
        for w, h in re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out, re.MULTILINE)
    ]


def pdf_page_image(path: Path, page: int, dpi: int, workdir: Path) -> Image.Image:
    """Page ``page`` of a PDF as poppler draws it, in grey."""
    prefix = workdir / f"page-{page}"
    run(
        "pdftoppm",
        "-r",
        str(dpi),
        "-f",
        str(page),
        "-l",
        str(page),
        "-gray",
        "-png",
        "-singlefile",
        path,
        prefix,
    )
    with Image.open(f"{prefix}.png") as image:
        return image.convert("L")
