"""Text to speech behind a small interface; eSpeak NG is the default engine.

A :class:`SpeechEngine` lists the languages it really speaks, with the genders of each, under
ClickSend's language codes, and renders text to 16-bit PCM at 8 kHz, the rate G.711 carries.
:class:`EspeakEngine` runs the ``espeak-ng`` program (Debian's ``espeak-ng`` package) and
resamples its 22,050 Hz output with soxr. Another engine (Piper, a cloud service) plugs in by
implementing the same two methods and being passed where the engine is configured.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

import numpy as np
import numpy.typing as npt
import soxr

from tidings.core.voice import Gender
from tidings.errors import TidingsError

SAMPLE_RATE = 8000
MAX_TEXT_CHARS = 1200  # ClickSend: 300 characters a voice message, up to four


class UnsupportedLanguage(TidingsError):
    """The speech engine does not speak this language."""


class SpeechUnavailable(TidingsError):
    """The speech engine is not installed or failed."""


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # ClickSend's code, lower case: en-us, de-de…
    name: str
    genders: tuple[Gender, ...]
    engine_voice: str  # what the engine is asked for


@dataclass(frozen=True, slots=True)
class Speech:
    """Rendered speech: mono 16-bit samples at 8 kHz."""

    samples: npt.NDArray[np.int16]
    language: str
    gender: Gender

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    def wav(self) -> bytes:
        return wav_bytes(self.samples)


def wav_bytes(samples: npt.NDArray[np.int16], rate: int = SAMPLE_RATE) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


class SpeechEngine(Protocol):
    name: str

    def languages(self) -> list[Language]: ...

    def render(self, text: str, language: str, gender: Gender) -> Speech:
        """Raises :class:`UnsupportedLanguage` or :class:`SpeechUnavailable`."""
        ...


# ClickSend's voice languages (its /voice/lang list) → eSpeak NG voices that speak them, best
# first. A code whose voices are all missing from the installed engine is not offered.
CLICKSEND_LANGUAGES: Mapping[str, tuple[str, tuple[str, ...]]] = MappingProxyType(
    {
        "en-us": ("English (US)", ("en-us",)),
        "en-au": ("English (Australia)", ("en-gb", "en")),
        "en-gb": ("English (UK)", ("en-gb", "en")),
        "en-in": ("English (India)", ("en-gb", "en")),
        "en-gb-wls": ("English (Wales)", ("en-gb-x-gbcwmd", "en-gb")),
        "cy-gb": ("Welsh", ("cy",)),
        "da-dk": ("Danish", ("da",)),
        "de-de": ("German", ("de",)),
        "es-es": ("Spanish (Spain)", ("es",)),
        "es-us": ("Spanish (US)", ("es-419", "es")),
        "fr-ca": ("French (Canada)", ("fr-fr", "fr")),
        "fr-fr": ("French", ("fr-fr", "fr")),
        "is-is": ("Icelandic", ("is",)),
        "it-it": ("Italian", ("it",)),
        "ja-jp": ("Japanese", ("ja",)),
        "ko-kr": ("Korean", ("ko",)),
        "nb-no": ("Norwegian", ("nb",)),
        "nl-nl": ("Dutch", ("nl",)),
        "pl-pl": ("Polish", ("pl",)),
        "pt-br": ("Portuguese (Brazil)", ("pt-br",)),
        "pt-pt": ("Portuguese", ("pt",)),
        "ro-ro": ("Romanian", ("ro",)),
        "ru-ru": ("Russian", ("ru",)),
        "sv-se": ("Swedish", ("sv",)),
        "tr-tr": ("Turkish", ("tr",)),
        "cmn-cn": ("Chinese (Mandarin)", ("cmn",)),
        "hi-in": ("Hindi", ("hi",)),
        "arb": ("Arabic", ("ar",)),
    }
)
# eSpeak NG voice variants (its voices/!v directory) for each gender.
_VARIANTS = {Gender.FEMALE: "f3", Gender.MALE: "m3"}


class EspeakEngine:
    """eSpeak NG through its command-line program."""

    name = "espeak-ng"

    def __init__(
        self, program: str = "espeak-ng", *, words_per_minute: int = 150, cache_size: int = 64
    ) -> None:
        self.program = program
        self.words_per_minute = words_per_minute
        self._languages: list[Language] | None = None
        self._cache: OrderedDict[tuple[str, str, Gender], Speech] = OrderedDict()
        self._cache_size = cache_size

    def available(self) -> bool:
        return shutil.which(self.program) is not None

    def _installed_voices(self) -> dict[str, str]:
        """Language name → the voice file that speaks it.

        Voices are asked for by file (``gmw/en``): some language names ignore a variant.
        """
        path = shutil.which(self.program)
        if path is None:
            raise SpeechUnavailable(f"{self.program} is not installed")
        try:
            listing = subprocess.run(
                [path, "--voices"], capture_output=True, text=True, timeout=30, check=True
            ).stdout
        except (subprocess.SubprocessError, OSError) as error:
            raise SpeechUnavailable(f"{self.program} failed: {error}") from error
        voices: dict[str, str] = {}
        for line in listing.splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 5:
                voices[fields[1].lower()] = fields[4]
        return voices

    def languages(self) -> list[Language]:
        if self._languages is None:
            installed = self._installed_voices()
            languages = []
            for code, (name, candidates) in CLICKSEND_LANGUAGES.items():
                voice = next((installed[c] for c in candidates if c in installed), None)
                if voice is not None:
                    languages.append(Language(code, name, (Gender.FEMALE, Gender.MALE), voice))
            self._languages = languages
        return list(self._languages)

    def language(self, code: str) -> Language:
        code = code.strip().lower()
        for language in self.languages():
            if language.code == code:
                return language
        raise UnsupportedLanguage(f"the speech engine does not speak {code!r}")

    def render(self, text: str, language: str, gender: Gender) -> Speech:
        key = (text, language.lower(), gender)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        voice = self.language(language)
        if not text.strip():
            raise TidingsError("nothing to say")
        path = shutil.which(self.program)
        if path is None:
            raise SpeechUnavailable(f"{self.program} is not installed")
        try:
            result = subprocess.run(
                [
                    path,
                    "-v",
                    f"{voice.engine_voice}+{_VARIANTS[gender]}",
                    "-s",
                    str(self.words_per_minute),
                    "--stdout",
                    # Text on standard input: nothing in it is read as an option.
                ],
                input=text[:MAX_TEXT_CHARS].encode(),
                capture_output=True,
                timeout=60,
                check=True,
            )
        except (subprocess.SubprocessError, OSError) as error:
            raise SpeechUnavailable(f"{self.program} failed: {error}") from error
        samples = resample_wav(result.stdout)
        speech = Speech(samples, voice.code, gender)
        self._cache[key] = speech
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return speech


def resample_wav(data: bytes) -> npt.NDArray[np.int16]:
    """A mono 16-bit WAV at any rate → samples at 8 kHz."""
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            rate = reader.getframerate()
            channels = reader.getnchannels()
            width = reader.getsampwidth()
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as error:
        raise SpeechUnavailable(f"the engine's output is not a WAV file: {error}") from error
    if width != 2:
        raise SpeechUnavailable(f"the engine's output has {8 * width}-bit samples")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        samples = soxr.resample(samples, rate, SAMPLE_RATE, quality="HQ")
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16)
