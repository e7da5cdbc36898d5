"""Voice messages: what a send asks of the call, and what the call told.

A voice message's text is its ``body`` (ClickSend: 300 characters make one voice message, up
to 1,200); :class:`VoiceContent` holds the options of the call, stored as the message's
content. :class:`VoiceResult` is what the call told besides its status (the key pressed, a
person or a machine, how long it lasted), written with the final status.
"""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import Field

from tidings.core.content import ChannelContent

CHARACTERS_PER_UNIT = 300
MAX_CHARACTERS = 1200


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"


class Answerer(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"


def units_of(body: str) -> int:
    """How many voice messages ``body`` counts as (ClickSend: each 300 characters is one)."""
    return max(1, math.ceil(len(body) / CHARACTERS_PER_UNIT))


class VoiceContent(ChannelContent):
    lang: str = Field(default="en-us", min_length=2, max_length=20)
    voice: Gender = Gender.FEMALE
    require_input: bool = False
    machine_detection: bool = False
    repeat: int = Field(default=1, ge=0, le=3, description="times played again after the first")


class VoiceResult(ChannelContent):
    call_id: str | None = None
    sip_status: int | None = None
    keypress: str | None = None
    answered_by: Answerer | None = None
    beep: bool = False
    duration_seconds: float = 0.0
    plays: int = 0
    units: int = 1
