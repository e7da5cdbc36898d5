"""The ``Content-Disposition`` of a download (RFC 6266), for any file name a client asks for.

A header value is Latin-1 on the wire, so a name in any other script cannot go in as it is
(it answered 500). The name goes in RFC 8187 form (``filename*=UTF-8''…``, percent-encoded),
after a plain ASCII ``filename`` for clients that read only that.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._- ")


def attachment(filename: str, *, default: str = "download") -> str:
    """``attachment; filename="<ASCII>"; filename*=UTF-8''<the name>`` for ``filename``."""
    name = "".join(c for c in filename if c.isprintable() and c not in '/\\"').strip() or default
    # The fallback: accents dropped, anything else outside plain ASCII left out.
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = "".join(c for c in folded if c in _SAFE).strip() or default
    value = f'attachment; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value
