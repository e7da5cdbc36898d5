"""The Power Automate custom-connector definition for tidings' TrueDialog dialect."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit


@cache
def _published() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("truedialog.swagger.json").read_text("utf-8")
    definition: dict[str, Any] = json.loads(text)
    return definition


def export_definition(host: str) -> dict[str, Any]:
    """TrueDialog's published connector, calling ``host`` (``name[:port]`` or a URL) instead.

    Only host and scheme change: the paths, bodies and triggers are TrueDialog's own, which is
    what lets existing flows keep working.
    """
    parts = urlsplit(host if "//" in host else f"//{host}")
    if not parts.netloc:
        raise ValueError(f"not a host: {host!r}")
    definition = copy.deepcopy(_published())
    definition["host"] = parts.netloc
    definition["schemes"] = [parts.scheme] if parts.scheme in ("http", "https") else ["https"]
    return definition
