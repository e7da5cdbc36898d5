"""The channels a message can travel on (a leaf module: it imports nothing of tidings).

A message has one channel; a route's transport carries one or more of them
(``dispatch.transport.Transport.channels``).
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    SMS = "sms"
    MMS = "mms"
    VOICE = "voice"
    FAX = "fax"
    LETTER = "letter"
    POSTCARD = "postcard"
    WHATSAPP = "whatsapp"
