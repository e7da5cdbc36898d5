"""Sortable identifiers: 48-bit millisecond time + 80 random bits, Crockford base32 (ULID layout).

Ids made in one call share a timestamp and count up from a random start, so the messages of one
request keep their order and ``ORDER BY id`` is creation order.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
ID_LENGTH = 26


def _encode(value: int) -> str:
    chars = []
    for _ in range(ID_LENGTH):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_ids(count: int, *, now_ms: int | None = None) -> list[str]:
    """Return ``count`` increasing ids for the current millisecond."""
    millis = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    # Leave head-room so counting up never carries into the timestamp.
    start = secrets.randbits(_RANDOM_BITS - 1)
    base = (millis & ((1 << 48) - 1)) << _RANDOM_BITS
    return [_encode(base | (start + offset)) for offset in range(count)]


def new_id() -> str:
    return new_ids(1)[0]


def random_token(nbytes: int) -> str:
    """A random lowercase base32 token (no padding), safe in URLs and Basic auth user names."""
    value = secrets.randbits(nbytes * 8)
    length = (nbytes * 8 + 4) // 5
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(chars).lower()


def id_floor(millis: int) -> str:
    """The smallest id made at or after ``millis`` (ms since the epoch): ``id >= id_floor(t)``
    selects rows created since t through an index on the id."""
    return _encode((millis & ((1 << 48) - 1)) << _RANDOM_BITS)
