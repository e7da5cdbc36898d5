"""RTP (RFC 3550) for voice calls, sans-IO: packets, G.711, RFC 4733 events, pacing, ports.

Nothing here imports asyncio or sockets, and nothing reads a clock; ``tidings.net.rtp`` does.
"""
