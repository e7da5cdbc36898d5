"""The WhatsApp Business Cloud API (Meta's Graph API for WhatsApp), sans-IO.

Values in, JSON out; JSON in, values out. No sockets, no asyncio, no database:

- ``messages``: what ``POST /{version}/{phone-number-id}/messages`` takes (text, media, template
  with its parameters, interactive buttons) and what it answers;
- ``templates``: message templates as Meta reviews them (``POST /{waba-id}/message_templates``),
  their parameters counted and filled in;
- ``webhooks``: the verification handshake, ``X-Hub-Signature-256`` and the notifications Meta
  posts (message statuses, messages from users, template review results), read and written;
- ``errors``: the Graph API's error object and what each error code means for a message.

``net.graph`` is the HTTP client around it; ``simulator.whatsapp`` answers it.
"""

from __future__ import annotations
