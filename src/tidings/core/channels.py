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


# Channels that carry a document rather than a text: their body may be empty.
DOCUMENT_CHANNELS = frozenset({Channel.FAX, Channel.LETTER, Channel.POSTCARD})
# Channels addressed by post: the recipient is a label, the address is in the content.
POSTAL_CHANNELS = frozenset({Channel.LETTER, Channel.POSTCARD})
