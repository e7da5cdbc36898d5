"""G.711 µ-law and A-law (ITU-T G.711), between 16-bit linear PCM and 8-bit codes.

Each direction is a lookup table built once on first use; converting a whole message is then
one indexing operation.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

_ULAW_BIAS = 0x84  # of the decoder, on 16-bit values
_ULAW_ENCODE_BIAS = 0x21
_ULAW_CLIP = 8159
_ULAW_SEGMENT_ENDS = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
# A-law segment end points (G.711 Table 1a, on 13-bit magnitudes).
_ALAW_SEGMENT_ENDS = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _ulaw_encode_one(sample: int) -> int:
    # G.711 works on 14-bit magnitudes for µ-law.
    value = sample >> 2
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, _ULAW_CLIP) + _ULAW_ENCODE_BIAS
    segment = next((i for i, end in enumerate(_ULAW_SEGMENT_ENDS) if value <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def _ulaw_decode_one(code: int) -> int:
    code = ~code & 0xFF
    exponent = (code >> 4) & 0x07
    magnitude = ((((code & 0x0F) << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return -magnitude if code & 0x80 else magnitude


def _alaw_encode_one(sample: int) -> int:
    value = sample >> 3  # 13 bits
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    segment = next((i for i, end in enumerate(_ALAW_SEGMENT_ENDS) if value <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    code = segment << 4
    code |= (value >> 1) & 0x0F if segment < 2 else (value >> segment) & 0x0F
    return code ^ mask


def _alaw_decode_one(code: int) -> int:
    code ^= 0x55
    value = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        value += 8
    elif segment == 1:
        value += 0x108
    else:
        value = (value + 0x108) << (segment - 1)
    return value if code & 0x80 else -value


@cache
def _tables() -> dict[str, npt.NDArray[np.generic]]:
    samples = range(-32768, 32768)
    tables: dict[str, npt.NDArray[np.generic]] = {
        # Encoders are indexed by the sample + 32768.
        "PCMU_encode": np.array([_ulaw_encode_one(s) for s in samples], dtype=np.uint8),
        "PCMA_encode": np.array([_alaw_encode_one(s) for s in samples], dtype=np.uint8),
        "PCMU_decode": np.array([_ulaw_decode_one(c) for c in range(256)], dtype=np.int16),
        "PCMA_decode": np.array([_alaw_decode_one(c) for c in range(256)], dtype=np.int16),
    }
    for table in tables.values():
        table.flags.writeable = False
    return tables


def encode(pcm: npt.NDArray[np.int16] | bytes, codec: str) -> bytes:
    """16-bit signed native-endian linear samples → G.711 ``codec`` ("PCMU" or "PCMA")."""
    samples = np.frombuffer(pcm, dtype=np.int16) if isinstance(pcm, bytes) else pcm
    table = _tables()[f"{codec}_encode"]
    return table[samples.astype(np.int32) + 32768].tobytes()


def decode(data: bytes, codec: str) -> npt.NDArray[np.int16]:
    """G.711 ``codec`` codes → 16-bit linear samples."""
    table = _tables()[f"{codec}_decode"]
    return table[np.frombuffer(data, dtype=np.uint8)].astype(np.int16, copy=False)


def silence(codec: str) -> int:
    """The code of a zero sample."""
    return 0xFF if codec == "PCMU" else 0xD5
