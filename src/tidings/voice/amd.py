"""Answering-machine detection on the first seconds of what the far end says, sans-IO.

Frames of 20 ms go in (16-bit samples at 8 kHz); a verdict comes out. The heuristic is the one
telephone systems have long used (Asterisk's AMD works the same way): a person answers with a
short word or two ("Hello?") and then waits in silence for the caller; a machine plays a long
continuous greeting. So: speech that has lasted ``max_greeting`` seconds without a long pause
is a machine; speech followed by ``after_greeting_silence`` of silence, having lasted less, is
a person; nothing at all for ``initial_silence`` is a person who says nothing (we play the
message: a machine that records silence first is rarer than a silent person).

Once it is a machine, :class:`GreetingEnd` waits for the greeting to finish before the
message plays: a pause of ``end_silence``, or the beep (one steady tone of 400-2,000 Hz for at
least ``beep_seconds``) and its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FRAME_SECONDS = 0.020
SAMPLE_RATE = 8000


class Verdict(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"


@dataclass(frozen=True, slots=True)
class AmdSettings:
    speech_rms: float = 400.0  # frame RMS (of 32,768) above which a frame is voiced
    initial_silence: float = 3.0
    max_greeting: float = 2.0
    after_greeting_silence: float = 0.8
    end_silence: float = 1.2
    beep_seconds: float = 0.15
    max_wait: float = 30.0  # never wait longer than this for a greeting to end


DEFAULT_AMD = AmdSettings()


def frame_rms(frame: npt.NDArray[np.int16]) -> float:
    if len(frame) == 0:
        return 0.0
    return float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))


def is_tone(frame: npt.NDArray[np.int16]) -> bool:
    """One steady frequency of 400-2,000 Hz carrying most of the frame's energy."""
    if len(frame) < 64:
        return False
    spectrum = np.abs(np.fft.rfft(frame.astype(np.float64) * np.hanning(len(frame)))) ** 2
    total = float(spectrum.sum())
    if total <= 0:
        return False
    peak = int(np.argmax(spectrum))
    frequency = peak * SAMPLE_RATE / len(frame)
    around = float(spectrum[max(peak - 2, 0) : peak + 3].sum())
    return 400 <= frequency <= 2000 and around / total > 0.8


class Detector:
    """Human or machine, from the first frames of received audio."""

    def __init__(self, settings: AmdSettings = DEFAULT_AMD) -> None:
        self.settings = settings
        self.verdict: Verdict | None = None
        self._elapsed = 0.0
        self._speech = 0.0  # length of the current greeting (speech and short pauses)
        self._silence = 0.0  # silence since the last voiced frame
        self._heard = False

    def feed(self, frame: npt.NDArray[np.int16]) -> Verdict | None:
        if self.verdict is not None:
            return self.verdict
        settings = self.settings
        self._elapsed += FRAME_SECONDS
        voiced = frame_rms(frame) >= settings.speech_rms
        if voiced:
            if self._heard:
                self._speech += self._silence  # a pause between words is part of the greeting
            self._heard = True
            self._silence = 0.0
            self._speech += FRAME_SECONDS
            if self._speech >= settings.max_greeting:
                self.verdict = Verdict.MACHINE
        else:
            self._silence += FRAME_SECONDS
            if self._heard:
                done = self._silence >= settings.after_greeting_silence
            else:
                done = self._elapsed >= settings.initial_silence
            if done:
                self.verdict = Verdict.HUMAN
        return self.verdict


class GreetingEnd:
    """After a machine's verdict: True once its greeting has ended (pause or beep)."""

    def __init__(self, settings: AmdSettings = DEFAULT_AMD) -> None:
        self.settings = settings
        self._elapsed = 0.0
        self._silence = 0.0
        self._tone = 0.0
        self.beep = False
        self.done = False

    def feed(self, frame: npt.NDArray[np.int16]) -> bool:
        if self.done:
            return True
        settings = self.settings
        self._elapsed += FRAME_SECONDS
        loud = frame_rms(frame) >= settings.speech_rms
        if loud and is_tone(frame):
            self._tone += FRAME_SECONDS
            self._silence = 0.0
        else:
            if self._tone >= settings.beep_seconds:
                self.beep = True
                self.done = True  # the beep has ended: record from here
            self._tone = 0.0
            self._silence = 0.0 if loud else self._silence + FRAME_SECONDS
            if self._silence >= settings.end_silence:
                self.done = True
        if self._elapsed >= settings.max_wait:
            self.done = True
        return self.done
