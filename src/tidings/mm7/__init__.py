"""MM7 (3GPP TS 23.140, schema REL-6-MM7-1-4): SOAP 1.1 in MIME multipart/related over HTTP,
sans-IO. Messages in, bytes out; bytes in, messages out. No sockets, no asyncio, no database.

- ``status``: the status codes (TS 23.140 §8.7.4 / Table 8.7.4) and the MMStatus values of
  delivery reports, as tables.
- ``messages``: the requests and responses as dataclasses.
- ``soap``: the SOAP envelopes (ElementTree, DTDs and entities refused).
- ``mime``: multipart/related framing, the SMIL presentation, and the limits.
- ``codec``: a message to HTTP headers and body, and back.
- ``endpoint``: who may send what (a table), transactions and their deadlines, error answers.
- ``errors``: the two error kinds, each carrying the status to answer with.
"""
