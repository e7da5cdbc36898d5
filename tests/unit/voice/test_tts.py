"""The default speech engine: eSpeak NG, its languages under ClickSend's codes, 8 kHz speech."""

from __future__ import annotations

import numpy as np
import pytest

from tidings.voice.tts import EspeakEngine, Gender, UnsupportedLanguage

ENGINE = EspeakEngine()
pytestmark = pytest.mark.skipif(not ENGINE.available(), reason="espeak-ng is not installed")


def test_languages_are_what_the_engine_speaks_under_clicksend_codes() -> None:
    codes = {language.code for language in ENGINE.languages()}
    assert {"en-us", "en-au", "en-gb", "de-de", "fr-fr", "es-es", "it-it", "ja-jp"} <= codes
    for language in ENGINE.languages():
        assert set(language.genders) == {Gender.FEMALE, Gender.MALE}


def test_speech_is_rendered_at_8_khz_and_differs_by_gender() -> None:
    female = ENGINE.render("Your appointment is tomorrow at ten.", "en-au", Gender.FEMALE)
    male = ENGINE.render("Your appointment is tomorrow at ten.", "en-au", Gender.MALE)
    assert 1.5 < female.seconds < 5.0
    assert female.samples.dtype == np.int16
    assert np.abs(female.samples).max() > 5000
    assert not np.array_equal(female.samples[:8000], male.samples[:8000])
    # A longer text takes longer to say.
    longer = ENGINE.render("Your appointment is tomorrow at ten. " * 3, "en-au", Gender.FEMALE)
    assert longer.seconds > 2.5 * female.seconds
    assert female.wav().startswith(b"RIFF")


def test_an_unsupported_language_is_a_clear_error() -> None:
    with pytest.raises(UnsupportedLanguage, match="xx-yy"):
        ENGINE.render("hello", "xx-yy", Gender.FEMALE)
