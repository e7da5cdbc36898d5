"""Answering-machine detection on synthetic and spoken audio."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from tidings.voice.amd import Detector, GreetingEnd, Verdict, is_tone

RATE = 8000


def _noise(seconds: float, level: float = 3000.0, seed: int = 1) -> npt.NDArray[np.int16]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * RATE)) * level).astype(np.int16)


def _silence(seconds: float) -> npt.NDArray[np.int16]:
    return np.zeros(int(seconds * RATE), np.int16)


def _tone(seconds: float, frequency: float = 1000.0) -> npt.NDArray[np.int16]:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * frequency * t) * 8000).astype(np.int16)


def _verdict(audio: npt.NDArray[np.int16]) -> tuple[Verdict | None, float]:
    detector = Detector()
    for index in range(0, len(audio) - 159, 160):
        verdict = detector.feed(audio[index : index + 160])
        if verdict is not None:
            return verdict, index / RATE
    return None, len(audio) / RATE


def test_a_short_hello_then_silence_is_a_person() -> None:
    verdict, at = _verdict(np.concatenate([_silence(0.4), _noise(0.6), _silence(2.0)]))
    assert verdict is Verdict.HUMAN
    assert at == pytest.approx(1.8, abs=0.05)


def test_a_long_greeting_with_short_pauses_is_a_machine() -> None:
    words = [np.concatenate([_noise(0.5, seed=i), _silence(0.2)]) for i in range(6)]
    verdict, at = _verdict(np.concatenate([_silence(0.3), *words]))
    assert verdict is Verdict.MACHINE
    assert at < 3.0


def test_nobody_speaking_is_taken_as_a_person() -> None:
    assert _verdict(_silence(5.0))[0] is Verdict.HUMAN


def test_the_greeting_ends_at_the_beep_or_a_pause() -> None:
    assert is_tone(_tone(0.02)) and not is_tone(_noise(0.02))
    beep = GreetingEnd()
    audio = np.concatenate([_noise(1.0), _tone(0.4), _silence(0.04)])
    ends = [beep.feed(audio[i : i + 160]) for i in range(0, len(audio) - 159, 160)]
    assert beep.beep and ends.index(True) == int(1.4 * RATE / 160)
    pause = GreetingEnd()
    audio = np.concatenate([_noise(1.0), _silence(2.0)])
    ends = [pause.feed(audio[i : i + 160]) for i in range(0, len(audio) - 159, 160)]
    assert not pause.beep and ends.index(True) / 50 == pytest.approx(2.2, abs=0.05)
