"""Stream options for HTTP: send each write at once instead of waiting to fill a packet.

The default (bulk) profile holds a partial packet up to ``passive_flush_delay`` (175 ms, Java's
passive flush) for more bytes. Java's HTTP tunnels flush after each write and i2pd does not
wait at all; an asyncio or socket program has no flush, so every request and every response
would wait 175 ms. :func:`web_stream_options` is the bulk profile (full window) with that
wait removed. The clients of this package use it for the streams they open; a server's
accepted streams have its session's options, so create a web server's session with
``create_session(..., options=web_stream_options())``.
"""

from __future__ import annotations

import dataclasses
import logging

from i2p_streaming.streaming import StreamOptions

__all__ = ["holds_partial_packets", "warn_if_slow", "web_stream_options"]

log = logging.getLogger("i2p_streaming.web")


def web_stream_options(base: StreamOptions | None = None) -> StreamOptions:
    """``base`` (default: the defaults) with ``passive_flush_delay`` 0: every write is sent
    at once, whole packets as before, in the full bulk window."""
    return dataclasses.replace(base or StreamOptions(), passive_flush_delay=0.0)


def holds_partial_packets(options: StreamOptions) -> bool:
    """True if streams with ``options`` delay partial packets (bulk, flush delay > 0)."""
    return not options.interactive and options.passive_flush_delay > 0


def warn_if_slow(options: StreamOptions, what: str) -> None:
    """Log once per server that its responses wait for the passive flush."""
    if holds_partial_packets(options):
        log.warning(
            "%s: the session delays partial packets %g ms (bulk profile), so each response "
            "waits that long; create it with options=web_stream_options()",
            what,
            options.passive_flush_delay * 1000,
        )
