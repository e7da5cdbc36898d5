"""Voice from Compose: listen to the call's speech before sending, send it, watch it delivered,
and hear what the phone heard on the simulator's phone (a number ending in 0 answers)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Console, serious_accessibility_violations, sign_in, snap

pytestmark = pytest.mark.browser

TEXT = "Your table for two is ready at seven."


def _playable_seconds(audio: Any) -> float:
    """How long the browser itself decoded the audio to be (it plays only what it can decode)."""
    return float(
        audio.evaluate(
            """audio => new Promise((resolve, reject) => {
                if (audio.readyState >= 1) { resolve(audio.duration); return; }
                const once = {once: true};
                audio.addEventListener("loadedmetadata", () => resolve(audio.duration), once);
                audio.addEventListener("error", () => reject(new Error("undecodable")), once);
                audio.load();
            })"""
        )
    )


def test_listen_to_a_voice_message_send_it_and_hear_it_on_the_phone(
    page: Any, console: Console
) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/compose")
    page.get_by_role("navigation", name="Channel").get_by_role("link", name="Voice").click()
    page.get_by_label("To", exact=True).fill("+358401000200")
    page.get_by_label("From", exact=True).fill("Tidings")
    page.get_by_label("Language").select_option("en-gb")
    page.get_by_label("Voice", exact=True).select_option("male")
    page.get_by_label("What the call says").fill(TEXT)

    page.get_by_role("button", name="Listen").click()
    output = page.locator("[data-voice-output]")
    expect(output).to_contain_text("s of speech · 1 voice message")
    player = page.get_by_label("The call's speech")
    expect(player).to_be_visible()
    heard = _playable_seconds(player)
    # The length the server measured is the length the browser decodes from the same WAV.
    assert heard == pytest.approx(float(output.get_attribute("data-seconds")), abs=0.1)
    assert heard > 1.0
    assert serious_accessibility_violations(page) == []
    snap(page, "compose-voice")

    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("1 Voice message(s)")
    expect(page.locator("[data-message-id] [data-status]")).to_have_text("delivered")

    # The message's page tells what the call was and what it told, and plays its speech.
    page.get_by_role("link", name="details").click()
    expect(page.locator("[data-voice-options]")).to_have_text("en-gb, male")
    expect(page.locator("[data-call-plays]")).to_have_text("1 time(s)")
    spoken = page.get_by_label("What the call says")
    assert _playable_seconds(spoken) == pytest.approx(heard, abs=0.1)

    page.goto(f"{console.url}/simulator/phones/358401000200")
    call = page.locator('[data-channel="voice"]')
    expect(call).to_contain_text("completed")
    recording = call.get_by_label("Recording of the call from")
    # The phone heard the whole message (it was played once, not again).
    assert _playable_seconds(recording) >= heard - 0.5
    snap(page, "simulator-voice-call")


def test_a_voice_message_too_long_or_in_an_unknown_language_is_refused_with_the_text_kept(
    page: Any, console: Console
) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/compose?channel=voice")
    page.get_by_label("What the call says").fill("")
    page.get_by_role("button", name="Listen").click()
    expect(page.locator("[data-voice-output]")).to_have_text("write what the call says")

    page.get_by_label("To", exact=True).fill("+358401000206")
    page.get_by_label("What the call says").fill("x" * 1200)
    page.locator("#body").evaluate("box => { box.removeAttribute('maxlength'); box.value += 'y'; }")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_have_text("a voice message is at most 1200 characters")
    expect(page.get_by_label("What the call says")).to_have_value("x" * 1200 + "y")
    expect(page.get_by_label("To", exact=True)).to_have_value("+358401000206")


def test_a_key_pressed_on_the_call_is_on_the_message(page: Any, console: Console) -> None:
    sign_in(page, console)
    page.goto(f"{console.url}/compose?channel=voice")
    # The simulator's phones whose number ends in 4 press 1 once they have answered.
    page.get_by_label("To", exact=True).fill("+358401000204")
    page.get_by_label("From", exact=True).fill("Tidings")
    page.get_by_label("What the call says").fill("Press 1 to confirm your booking.")
    page.get_by_label("Ask for a key press").check()
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-message-id] [data-status]")).to_have_text("delivered")
    page.get_by_role("link", name="details").click()
    expect(page.locator("[data-voice-options]")).to_contain_text("asks for a key press")
    expect(page.locator("[data-call-keypress]")).to_have_text("1")
    snap(page, "message-detail-voice")
