"""Voice messages: speech rendering, answering-machine detection and the script of one call.

The protocol work is in ``tidings.sip`` and ``tidings.rtp`` (sans-IO) and ``tidings.net.sip`` /
``tidings.net.rtp`` (asyncio); this package decides what a call says and listens for.
"""
