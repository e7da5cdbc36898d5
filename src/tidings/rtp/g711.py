"""G.711 µ-law and A-law (ITU-T G.711), between 16-bit linear PCM and 8-bit codes.

Each direction is a lookup table computed once on first use (vectorised: a few milliseconds);
converting a whole message is then one indexing operation.
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


def _ulaw_encode(samples: npt.NDArray[np.int32]) -> npt.NDArray[np.uint8]:
    # G.711 works on 14-bit magnitudes for µ-law.
    value = samples >> 2
    mask = np.where(value < 0, 0x7F, 0xFF)
    value = np.minimum(np.where(value < 0, -value, value), _ULAW_CLIP) + _ULAW_ENCODE_BIAS
    segment = np.searchsorted(_ULAW_SEGMENT_ENDS, value, side="left")
    mantissa = (value >> np.minimum(segment + 1, 31)) & 0x0F
    code = np.where(segment >= 8, 0x7F, (np.minimum(segment, 7) << 4) | mantissa)
    return (code ^ mask).astype(np.uint8)


def _ulaw_decode(codes: npt.NDArray[np.int32]) -> npt.NDArray[np.int16]:
    codes = ~codes & 0xFF
    exponent = (codes >> 4) & 0x07
    magnitude = ((((codes & 0x0F) << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(codes & 0x80, -magnitude, magnitude).astype(np.int16)


def _alaw_encode(samples: npt.NDArray[np.int32]) -> npt.NDArray[np.uint8]:
    value = samples >> 3  # 13 bits
    mask = np.where(value >= 0, 0xD5, 0x55)
    value = np.where(value >= 0, value, -value - 1)
    segment = np.searchsorted(_ALAW_SEGMENT_ENDS, value, side="left")
    low = np.where(segment < 2, value >> 1, value >> np.clip(segment, 0, 15)) & 0x0F
    code = np.where(segment >= 8, 0x7F, (np.minimum(segment, 7) << 4) | low)
    return (code ^ mask).astype(np.uint8)


def _alaw_decode(codes: npt.NDArray[np.int32]) -> npt.NDArray[np.int16]:
    codes = codes ^ 0x55
    segment = (codes & 0x70) >> 4
    value = (codes & 0x0F) << 4
    value = np.where(
        segment == 0,
        value + 8,
        np.where(segment == 1, value + 0x108, (value + 0x108) << np.maximum(segment - 1, 0)),
    )
    return np.where(codes & 0x80, value, -value).astype(np.int16)


@cache
def _tables() -> dict[str, npt.NDArray[np.generic]]:
    samples = np.arange(-32768, 32768, dtype=np.int32)
    codes = np.arange(256, dtype=np.int32)
    tables: dict[str, npt.NDArray[np.generic]] = {
        # Encoders are indexed by the sample + 32768.
        "PCMU_encode": _ulaw_encode(samples),
        "PCMA_encode": _alaw_encode(samples),
        "PCMU_decode": _ulaw_decode(codes),
        "PCMA_decode": _alaw_decode(codes),
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
