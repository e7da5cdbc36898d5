"""The SmartDialog connector definition re-pointed at a tidings host, for a custom connector.

The definition is the provider's own (Power Automate certified connector, May 2024), shipped
beside this module; only what names the provider's hosts changes: ``host``, ``schemes`` and the
OAuth2 authorization and token URLs. Paths, headers and bodies stay as the customer's flows
know them.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit


@cache
def _definition() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("connector.swagger.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def export_definition(host: str) -> dict[str, Any]:
    """The connector's Swagger 2.0 definition with ``host`` (``api.example.com``, optionally
    with a port or an ``http://``/``https://`` scheme) as its API and OAuth2 server."""
    parts = urlsplit(host if "://" in host else f"https://{host}")
    if not parts.hostname:
        raise ValueError(f"not a host name: {host!r}")
    scheme = parts.scheme or "https"
    netloc = parts.netloc
    definition = copy.deepcopy(_definition())
    definition["host"] = netloc
    definition["schemes"] = [scheme]
    for scheme_definition in definition.get("securityDefinitions", {}).values():
        if scheme_definition.get("type") == "oauth2":
            scheme_definition["authorizationUrl"] = f"{scheme}://{netloc}/oauth2/authorize"
            scheme_definition["tokenUrl"] = f"{scheme}://{netloc}/oauth2/token"
    return definition
