"""Signed, expiring URLs for media: what carriers, handsets and webhook receivers fetch.

A URL names a media object (and optionally one of its converted variants) and an expiry time,
and carries an HMAC of both under the server's media key (``core/secrets.py``). Nothing else
grants access to the bytes without an API key. Pure functions; the clock is passed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

PURPOSE = "media-url"


def _signature(key: bytes, media_id: str, variant: str, expires: int) -> str:
    message = f"{media_id}\n{variant}\n{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")


def sign(key: bytes, media_id: str, *, expires: int, variant: str = "") -> dict[str, str]:
    """The query parameters that let a URL fetch ``media_id`` until ``expires`` (Unix time)."""
    query = {"expires": str(expires), "sig": _signature(key, media_id, variant, expires)}
    if variant:
        query["variant"] = variant
    return query


def media_url(base_url: str, key: bytes, media_id: str, *, expires: int, variant: str = "") -> str:
    """The whole signed URL under ``base_url`` (the service's public address)."""
    query = urlencode(sign(key, media_id, expires=expires, variant=variant))
    return f"{base_url.rstrip('/')}/v1/media/{media_id}/content?{query}"


def verify(
    key: bytes, media_id: str, *, expires: int, signature: str, variant: str, now: float
) -> bool:
    """Whether ``signature`` was made by :func:`sign` for these values and has not expired."""
    if now > expires:
        return False
    expected = _signature(key, media_id, variant, expires)
    return hmac.compare_digest(expected.encode(), signature.encode())
